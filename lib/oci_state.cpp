#include "oci_state.h"

#include <unistd.h>

#include <cerrno>
#include <limits>
#include <nlohmann/json.hpp>

#include "error.h"

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
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw bad_state("malformed JSON");
  if (!doc.is_object()) throw bad_state("not a JSON object");
  OciState state;
  state.id = string_field(doc, "id");
  state.status = string_field(doc, "status");
  state.bundle = string_field(doc, "bundle");
  state.pid = pid_field(doc);
  if (auto it = doc.find("annotations"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) throw bad_state("\"annotations\" is not an object");
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string()) throw bad_state("annotation " + quote(key) + " is not a string");
      state.annotations.emplace(key, value.get<std::string>());
    }
  }
  return state;
}

std::string read_state(int fd, const std::string& display) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw sys_error("read", display, errno);
    }
    if (n == 0) return out;
    if (out.size() + static_cast<std::size_t>(n) > kMaxStateBytes) {
      throw usage_error("read " + quote(display) + ": OCI state is larger than " +
                        std::to_string(kMaxStateBytes) + " bytes");
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace kcm
