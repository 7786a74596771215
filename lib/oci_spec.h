// The one edit kcm-runtime makes to an OCI bundle's config.json: add the kcm hooks to a
// container that asks for CPUs.
//
// The runtime (runc, crun) runs `prestart` hooks after the container's process exists and
// before it starts the user's program, and `poststop` hooks after it is gone; kcm-hook
// allocates at the first and releases at the second (DESIGN.md "kcm-hook"). `prestart`
// is deprecated in favour of `createRuntime`, but it is the stage every runtime runs.
//
// Pure on strings: no file access. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kcm {

struct HookCommand {
  std::string path;      // absolute path of kcm-hook, as the runtime will exec it
  std::string conf_dir;  // passed as --conf-dir=DIR
};

struct SpecEdit {
  // The container's annotations ask for CPUs (a pool request, valid or not, on a
  // container that is not a pod sandbox).
  bool asks_for_cpus = false;
  // The new config.json text; nullopt when the file is to stay as it is (no request, or
  // both hooks are already there).
  std::optional<std::string> content;
  // Set when the kcm annotations are invalid: the hooks are injected all the same, so
  // that kcm-hook rejects the container at prestart with this message and the engine
  // shows it, rather than the container silently running unpinned.
  std::optional<std::string> annotation_error;
};

// Decides and makes the edit. Adds to `hooks.prestart` and `hooks.poststop` an entry
// {"path": P, "args": ["kcm-hook", "--conf-dir=DIR", STAGE]} unless the stage already has
// an entry whose path is P; keeps every other field, its value and its key order.
// Idempotent: editing the output again yields no content. Throws Error when the text is
// not JSON, annotations are not an object of strings, or `hooks`/a stage has the wrong
// type; `display` names the file in these messages.
SpecEdit edit_spec(std::string_view config_json, const HookCommand& hook,
                   const std::string& display);

}  // namespace kcm
