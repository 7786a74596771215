// edit_spec: kcm-runtime's edit of a bundle's config.json (the engine wrote it, the
// container's image and the pod spec chose its annotations).
// Invariants: injecting twice equals injecting once; only hooks change; may_ask_for_cpus
// agrees with the edit, and never fails on text the edit refuses.
#include <nlohmann/json.hpp>
#include <optional>

#include "error.h"
#include "fuzz.h"
#include "json.h"
#include "oci_spec.h"

namespace {

const kcm::HookCommand kHook{"/usr/local/bin/kcm-hook", "/etc/kcm"};

bool has_hook(const nlohmann::ordered_json& spec, const char* stage) {
  for (const auto& entry : spec.at("hooks").at(stage)) {
    if (entry.is_object() && entry.value("path", "") == kHook.path) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = kcm_fuzz::as_text(data, size);
  std::optional<kcm::SpecEdit> edit;
  try {
    edit = kcm::edit_spec(text, kHook, "/run/bundle/config.json");
  } catch (const kcm::Error&) {
    // The wrapper's judgement of a text it cannot edit (a string scan when it does not
    // parse) must itself never fail.
    (void)kcm::may_ask_for_cpus(text);
    return 0;
  }
  // A text the wrapper can edit, it judges the same way when it will not edit it.
  FUZZ_CHECK(kcm::may_ask_for_cpus(text) == edit->asks_for_cpus);
  if (edit->annotation_error) FUZZ_CHECK(edit->asks_for_cpus);
  if (!edit->asks_for_cpus) FUZZ_CHECK(!edit->content);
  if (!edit->content) return 0;

  // The output is an object with both hooks, and every key but "hooks" as it was.
  auto before = kcm::parse_ordered_json(text, "before");
  auto after = kcm::parse_ordered_json(*edit->content, "after");
  FUZZ_CHECK(after.is_object() && has_hook(after, "prestart") && has_hook(after, "poststop"));
  before.erase("hooks");
  after.erase("hooks");
  FUZZ_CHECK(before == after);

  // Idempotent: the edited file needs no further edit, and reads the same way.
  const kcm::SpecEdit second = kcm::edit_spec(*edit->content, kHook, "edited");
  FUZZ_CHECK(!second.content);
  FUZZ_CHECK(second.asks_for_cpus == edit->asks_for_cpus);
  FUZZ_CHECK(second.annotation_error == edit->annotation_error);
  return 0;
}
