#include "oci_spec.h"

#include <map>
#include <nlohmann/json.hpp>

#include "annotations.h"
#include "error.h"
#include "json.h"
#include "oci_state.h"

namespace kcm {

namespace {

// ordered_json keeps the keys in the order the engine wrote them, so the only
// difference a reader of the edited file sees is the hooks.
using Json = nlohmann::ordered_json;

constexpr const char* kStages[] = {"prestart", "poststop"};

// Read as kcm-hook reads the state's (oci_state.h), so that a mistake there is the same
// error in both.
std::map<std::string, std::string> annotations_of(const Json& spec, const std::string& display) {
  auto it = spec.find("annotations");
  if (it == spec.end()) return {};
  try {
    return parse_annotations(nlohmann::json(*it));
  } catch (const Error& e) {
    throw with_context("read " + quote(display), e);
  }
}

// Adds the kcm entry to one stage unless an entry with the hook's path is there. Returns
// whether it changed the spec.
bool add_hook(Json& hooks, const char* stage, const HookCommand& hook, const std::string& display) {
  Json& entries = hooks[stage];
  if (entries.is_null()) entries = Json::array();
  if (!entries.is_array()) {
    throw op_error("read", display, "\"hooks." + std::string(stage) + "\" is not an array");
  }
  for (const Json& entry : entries) {
    auto path = entry.find("path");
    if (path != entry.end() && path->is_string() && *path == hook.path) return false;
  }
  entries.push_back(
      Json{{"path", hook.path},
           {"args", Json::array({"kcm-hook", "--conf-dir=" + hook.conf_dir, std::string(stage)})}});
  return true;
}

// The request part of a SpecEdit: whether the annotations ask for CPUs, and how they
// are wrong when they are.
SpecEdit judge(const std::map<std::string, std::string>& annotations) {
  SpecEdit edit;
  try {
    edit.asks_for_cpus = pool_request(annotations).has_value();
  } catch (const Error& e) {
    edit.asks_for_cpus = true;
    edit.annotation_error = e.what();
  }
  return edit;
}

Json parse_spec(std::string_view config_json, const std::string& display) {
  Json spec = parse_ordered_json(config_json, display);
  if (!spec.is_object()) throw op_error("read", display, "is not a JSON object");
  return spec;
}

}  // namespace

SpecEdit edit_spec(std::string_view config_json, const HookCommand& hook,
                   const std::string& display) {
  Json spec = parse_spec(config_json, display);
  SpecEdit edit = judge(annotations_of(spec, display));
  if (!edit.asks_for_cpus) return edit;

  Json& hooks = spec["hooks"];
  if (hooks.is_null()) hooks = Json::object();
  if (!hooks.is_object()) throw op_error("read", display, "\"hooks\" is not an object");
  bool changed = false;
  for (const char* stage : kStages) changed = add_hook(hooks, stage, hook, display) || changed;
  if (!changed) return edit;
  try {
    edit.content = spec.dump();
  } catch (const nlohmann::json::exception& e) {
    // dump() refuses strings that are not UTF-8; the engine should not have written them.
    throw op_error("write", display, e.what());
  }
  return edit;
}

bool may_ask_for_cpus(std::string_view config_json) {
  try {
    const Json spec = parse_spec(config_json, "config.json");
    return judge(annotations_of(spec, "config.json")).asks_for_cpus;
  } catch (const Error&) {
    return has_string_with_prefix(config_json, kPoolAnnotation);
  }
}

}  // namespace kcm
