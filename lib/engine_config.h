// `kcm-runtime configure` and `unconfigure` (docs/runtime.md "Registering kcm with an
// engine"): register kcm-runtime with containerd, Docker, podman or CRI-O, and take it
// back out.
//
// Three halves. The edits are pure functions, text in and text out, over the engines'
// own formats: TOML is edited as text (no TOML library), touching only what kcm owns
// (a marked block at the end of containerd's config) and keeping every other byte; daemon.json is
// validated with nlohmann and edited as text too, so that every other key keeps its
// bytes and order. The plan decides, from the files' current contents, which files
// change and how (FileChange, before and after). apply_changes writes them: each file
// atomically (fs.h write_file_atomic, same mode).
//
// configure then unconfigure gives back the original bytes, with the exceptions the
// docs list (a `"runtimes": {}` kcm filled is removed whole).
// Errors are Error: usage errors (exit 2) for the command line, exit 1 for a config kcm
// cannot parse or write; nothing is written when the plan fails.
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace kcm {

enum class Engine { kContainerd, kDocker, kPodman, kCrio };

std::string_view engine_name(Engine engine);

// The command line after "configure" or "unconfigure".
struct EngineCommand {
  bool configure = true;  // false: unconfigure
  Engine engine = Engine::kContainerd;
  std::string config;        // --config: the engine's main config file ("": its default)
  std::string runtime_path;  // --runtime-path ("": the running kcm-runtime)
  bool dry_run = false;
  bool help = false;  // --help: print engine_command_help and do nothing else
};

// Whether argv[1] of kcm-runtime names one of these commands (runc has neither).
bool is_engine_command(std::string_view arg);

// Parses the options after the command word. Throws a usage Error (exit 2) for an
// unknown option, a missing or empty value, an unknown engine or a relative path.
EngineCommand parse_engine_command(std::string_view command, const std::vector<std::string>& args);

// The --help text of `command` ("configure" or "unconfigure").
std::string engine_command_help(std::string_view command);

// --- the edits (pure) ------------------------------------------------------------------

// The top-level `version = N` of a containerd config; nullopt when it has none. Throws
// Error `parse "<display>": …` for text this scanner cannot follow.
std::optional<int> toml_config_version(std::string_view text, const std::string& display);

// containerd's main config with the CRI runtime handler `kcm` in a block of its own at
// the end, between marker comments, for config version 2 (containerd 1.x, plugin
// "io.containerd.grpc.v1.cri") or 3 (2.x, "io.containerd.cri.v1.runtime"). Not a drop-in
// file: containerd replaces a plugin's whole section with an imported file's, so an
// imported kcm file would drop the main config's CRI settings. A config that defines any
// runtime loses containerd's default `runc` one, so the block defines `runc` too when
// the rest of the file does not. A block already there is replaced (or, when it reads
// the same, left as it is); a `runtimes.kcm` table outside it is an Error.
std::string containerd_add_runtime(std::string_view text, int version,
                                   const std::string& runtime_path, const std::string& display);
// The main config without kcm's block (and the blank line configure put before it).
std::string containerd_remove_runtime(std::string_view text, const std::string& display);
// What configure writes as the main config when there is none; unconfigure removes a
// file that, without the block, reads as this does.
std::string containerd_new_main_config(int version, const std::string& runtime_path);
// The config version for a containerd release's major number: 1 → 2, 2 and later → 3.
int containerd_config_version_for(int major);
// The major number in `containerd --version`'s output
// ("containerd github.com/containerd/containerd 1.6.20~ds1 …", "… v2.0.0 …").
std::optional<int> parse_containerd_version(std::string_view output);

// daemon.json with `runtimes.kcm = {"path": runtime_path}` (replacing another value of
// runtimes.kcm); every other byte kept. Throws Error naming `display` when the text is
// not a JSON object or `runtimes` is not one.
std::string docker_add_runtime(std::string_view text, const std::string& runtime_path,
                               const std::string& display);
// daemon.json without runtimes.kcm, and without `runtimes` when kcm was its only entry.
// Refuses (Error) when `default-runtime` is "kcm": Docker would not start.
std::string docker_remove_runtime(std::string_view text, const std::string& display);
// What configure writes as daemon.json when there is none.
std::string docker_new_config(const std::string& runtime_path);

// The drop-ins for podman (containers.conf.d) and CRI-O (crio.conf.d).
std::string podman_dropin(const std::string& runtime_path);
std::string crio_dropin(const std::string& runtime_path);

// --- the plan --------------------------------------------------------------------------

// The files an engine's registration lives in. `main` is the engine's main config
// (`config`, else its default); `dropin` is kcm's file, podman's and CRI-O's in
// `<main>.d/`; containerd and Docker have none ("").
struct EngineFiles {
  std::string main;
  std::string dropin;
};
EngineFiles engine_files(Engine engine, const std::string& config);

// One file's change: nullopt is "absent" (before: does not exist; after: remove it).
// before == after is a file left as it is.
struct FileChange {
  std::string path;
  std::optional<std::string> before;
  std::optional<std::string> after;
  std::string what;  // a short description of the change, or of why there is none
};

// Reads a file's text; nullopt when it does not exist.
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;

// The changes for `command`, in the order they must be written. `runtime_path` is the
// kcm-runtime to register; `installed_major` is the installed containerd's major number,
// used when the main config is missing or says no version (none: config version 2, as
// Debian 12's containerd 1.6 reads).
std::vector<FileChange> plan_engine_change(const EngineCommand& command,
                                           const std::string& runtime_path,
                                           std::optional<int> installed_major,
                                           const FileReader& read);

// What was (or, for a dry run, would be) done: per file a line "created|edited|removed|
// unchanged <path>: <what>", a unified-style hunk of the changed lines, then a summary.
std::string describe_changes(const EngineCommand& command, const std::vector<FileChange>& changes);

// Writes the changes that change something, in order: atomic replace with the file's
// mode (0644 for a new one), a symlinked file edited at its target, a missing drop-in
// directory created (its parent must exist).
void apply_changes(const std::vector<FileChange>& changes);

// --- the command -----------------------------------------------------------------------

// The major number of `containerd` found on `path_env`, from `containerd --version`;
// nullopt when it is not installed or says something else.
std::optional<int> installed_containerd_major(const std::string& path_env);

// The whole command: parse, plan, print to `out`, write unless --dry-run. Returns the
// exit code; throws Error.
int run_engine_command(std::string_view command, const std::vector<std::string>& args,
                       const std::string& path_env, std::ostream& out);

}  // namespace kcm
