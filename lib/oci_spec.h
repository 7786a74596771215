// The one edit kcm-runtime makes to an OCI bundle's config.json: add the kcm hooks to a
// container that asks for CPUs.
//
// The runtime (runc, crun) runs `prestart` hooks after the container's process exists and
// before it starts the user's program, and `poststop` hooks after it is gone; kcm-hook
// allocates at the first and releases at the second (docs/hook.md). `prestart`
// is deprecated in favour of `createRuntime`, but it is the stage every runtime runs.
//
// Pure on strings: no file access. Thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace kcm {

// The largest config.json the wrapper reads. An engine writes a few KiB: the process's
// args and env must fit in what execve(2) takes (a quarter of the 8 MiB default stack),
// and Kubernetes caps a pod's annotations at 256 KiB. 16 MiB is far above all of it and
// bounds what a hostile file makes the wrapper allocate.
inline constexpr std::size_t kMaxSpecBytes = 16 << 20;

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
// not JSON (json.h: nesting is bounded), annotations are not an object of strings (a
// usage Error, as kcm-hook's for the state: oci_state.h parse_annotations), or
// `hooks`/a stage has the wrong type; `display` names the file in these messages.
SpecEdit edit_spec(std::string_view config_json, const HookCommand& hook,
                   const std::string& display);

// For a config.json the wrapper cannot edit, or will not (edit_spec threw, or the file is
// a symlink): whether runc could read from it a container that asks for CPUs, which it
// would then run unpinned. From the annotations when the text parses and they are an
// object of strings; otherwise (nested too deep, not UTF-8, data after the document that
// runc's decoder ignores, cut short) true when any string in it begins with
// "kcm.intel.com/pool" once unescaped, the only way such a text can carry the request to
// a parser more lenient than kcm's.
bool may_ask_for_cpus(std::string_view config_json);

}  // namespace kcm
