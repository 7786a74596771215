// kcm-runtime's configuration (docs/runtime.md "Configuration"): a JSON file at
// $KCM_RUNTIME_CONFIG, else /etc/kcm-runtime.json — not inside the conf dir, which
// `kcm init` wants empty:
//   {"runtime": "/usr/sbin/runc", "hook": "/usr/local/bin/kcm-hook",
//    "confDir": "/etc/kcm", "logFile": "/var/log/kcm-runtime.log"}
// Every key is optional. Unknown keys are an error, so a misspelt key is not silently
// ignored. A missing file means all defaults.
//
// Parsing is pure; load and resolve read the file system (stat, never exec). All
// failures throw Error naming the file or the program. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "env.h"

namespace kcm {


struct RuntimeConfig {
  std::string runtime;  // "" → `runc` on PATH
  std::string hook;     // "" → `kcm-hook` beside the wrapper
  std::string conf_dir = kDefaultConfDir;
  std::string log_file;  // "" → log to stderr only
};


// Throws a usage Error naming `display` for malformed JSON (or nested deeper than json.h
// allows), a non-object, an unknown key, a value that is not a non-empty string, or a
// relative `hook` or `logFile` (the runtime execs hooks by absolute path; the wrapper
// runs in the engine's cwd).
RuntimeConfig parse_runtime_config(std::string_view text, const std::string& display);

// Reads and parses `path`; defaults when it does not exist.
RuntimeConfig load_runtime_config(const std::string& path);

// The configuration kcm-runtime runs with. A broken file must not fail a container that
// asks for no CPUs (docs/runtime.md "When something is wrong"), so the wrapper runs on
// the defaults and keeps the file's error: to refuse a container that does ask
// (bundle_edit.h), and to report once the real runtime is found.
struct LoadedRuntimeConfig {
  RuntimeConfig config;              // the file's, or the defaults when it is broken
  std::optional<std::string> error;  // why the file was ignored
};

// load_runtime_config, with any Error it throws kept in `error`. Never throws.
LoadedRuntimeConfig load_runtime_config_or_defaults(const std::string& path);

// The real runtime to exec. `configured` is a path, a bare name looked up on `path_env`
// (the PATH value), or "" for "runc". The wrapper itself (`self_exe`, compared by device
// and inode, so symlinks and hard links count) is never chosen: a PATH entry that is the
// wrapper — installed as `runc` ahead of the real one — is skipped, and a configured path
// that is the wrapper is an error, since exec'ing it would loop forever. Throws when no
// executable is found.
std::string resolve_runtime(const std::string& configured, const std::string& path_env,
                            const std::string& self_exe);
// The same for a loaded config; when it fails after the file was ignored, the message
// names both errors, since the ignored file may be why.
std::string resolve_runtime(const LoadedRuntimeConfig& loaded, const std::string& path_env,
                            const std::string& self_exe);

// The hook to inject: `configured`, else `kcm-hook` in the directory of `self_exe`
// (resolved through symlinks, so a /usr/local/bin link to the install dir works) when
// there is one (as `kcm install` puts it), else `installed`: where `meson install` put
// it, out of PATH (LIBEXECDIR/kcm).
std::string resolve_hook(const std::string& configured, const std::string& self_exe,
                         const std::string& installed);

}  // namespace kcm
