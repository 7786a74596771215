#include "oci_state.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "error.h"
#include "json.h"

namespace kcm {
namespace {

using json = nlohmann::json;

Error bad_state(const std::string& cause) { return usage_error("parse OCI state: " + cause); }

std::string string_field(const json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return {};
  if (!it->is_string()) throw bad_state(std::string("\"") + key + "\" is not a string");
  return it->get<std::string>();
}

pid_t pid_field(const json& doc) {
  auto it = doc.find("pid");
  if (it == doc.end() || it->is_null()) return 0;
  if (!it->is_number_integer()) throw bad_state("\"pid\" is not an integer");
  auto n = it->get<long long>();
  if (n < 0 || n > std::numeric_limits<pid_t>::max()) {
    throw bad_state("\"pid\" " + std::to_string(n) + " is out of range");
  }
  return static_cast<pid_t>(n);
}

}  // namespace

OciState parse_oci_state(std::string_view text) {
  json doc;
  try {
    doc = parse_json(text, "OCI state");
  } catch (const JsonError& e) {
    throw bad_state(e.cause());
  }
  if (!doc.is_object()) throw bad_state("not a JSON object");
  OciState state;
  state.id = string_field(doc, "id");
  state.pid = pid_field(doc);
  if (auto it = doc.find("annotations"); it != doc.end()) {
    try {
      state.annotations = parse_annotations(*it);
    } catch (const Error& e) {
      throw with_context("parse OCI state", e);
    }
  }
  return state;
}

std::map<std::string, std::string> parse_annotations(const json& member) {
  std::map<std::string, std::string> out;
  if (member.is_null()) return out;
  if (!member.is_object()) throw usage_error("\"annotations\" is not an object");
  for (const auto& [key, value] : member.items()) {
    if (!value.is_string()) throw usage_error("annotation " + quote(key) + " is not a string");
    out.emplace(key, value.get<std::string>());
  }
  return out;
}

std::string read_state(int fd, const std::string& display) {
  return read_json_text(fd, kMaxStateBytes, "OCI state", display);
}

}  // namespace kcm
