#include "runtime_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>

#include "error.h"
#include "fs.h"
#include "json.h"

namespace kcm {

namespace {

struct FileId {
  dev_t dev;
  ino_t ino;
  bool operator==(const FileId&) const = default;
};

// stat(2) follows symlinks: a link to the wrapper has the wrapper's identity.
std::optional<FileId> file_id(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino};
}

bool is_executable_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Every mistake in the file is the user's: `read "<file>": <cause>`, exit code 2.
Error bad_config(const std::string& display, const std::string& cause) {
  return op_error("read", display, cause, ErrorKind::kUsage);
}

std::string dirname_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

RuntimeConfig parse_runtime_config(std::string_view text, const std::string& display) {
  nlohmann::json doc;
  try {
    doc = parse_json(text, display);
  } catch (const JsonError& e) {
    throw usage_error(e.what());
  }
  if (!doc.is_object()) throw bad_config(display, "is not a JSON object");
  RuntimeConfig config;
  for (const auto& [key, value] : doc.items()) {
    std::string* field = key == "runtime"   ? &config.runtime
                         : key == "hook"    ? &config.hook
                         : key == "confDir" ? &config.conf_dir
                         : key == "logFile" ? &config.log_file
                                            : nullptr;
    if (field == nullptr) {
      throw bad_config(display,
                       "unknown key " + quote(key) + " (known: runtime, hook, confDir, logFile)");
    }
    if (!value.is_string() || value.get<std::string>().empty()) {
      throw bad_config(display, quote(key) + " must be a non-empty string");
    }
    *field = value.get<std::string>();
  }
  const std::pair<const char*, const std::string*> paths[] = {{"hook", &config.hook},
                                                              {"logFile", &config.log_file}};
  for (const auto& [key, value] : paths) {
    if (!value->empty() && (*value)[0] != '/') {
      throw bad_config(display, quote(key) + " must be an absolute path, not " + quote(*value));
    }
  }
  return config;
}

RuntimeConfig load_runtime_config(const std::string& path) {
  auto text = if_found([&] { return read_file(path); });
  if (!text) return RuntimeConfig{};
  return parse_runtime_config(*text, path);
}

LoadedRuntimeConfig load_runtime_config_or_defaults(const std::string& path) {
  LoadedRuntimeConfig loaded;
  try {
    loaded.config = load_runtime_config(path);
  } catch (const Error& e) {
    loaded.error = e.what();
  }
  return loaded;
}

std::string resolve_runtime(const std::string& configured, const std::string& path_env,
                            const std::string& self_exe) {
  std::string name = configured.empty() ? "runc" : configured;
  const auto self = file_id(self_exe);
  auto is_self = [&](const std::string& candidate) { return self && file_id(candidate) == self; };
  if (name.find('/') != std::string::npos) {
    if (!is_executable_file(name)) {
      throw op_error("find the real runtime", name, "not an executable file");
    }
    if (is_self(name)) {
      throw op_error("find the real runtime", name,
                     "is kcm-runtime itself; set \"runtime\" to the real runc");
    }
    return name;
  }
  bool skipped_self = false;
  std::size_t start = 0;
  while (start <= path_env.size()) {
    std::size_t end = path_env.find(':', start);
    if (end == std::string::npos) end = path_env.size();
    // An empty PATH element means the working directory, as for execvp.
    std::string dir = path_env.substr(start, end - start);
    std::string candidate = join_path(dir.empty() ? "." : dir, name);
    if (is_executable_file(candidate)) {
      if (!is_self(candidate)) return candidate;
      skipped_self = true;
    }
    start = end + 1;
  }
  throw op_error("find the real runtime", name,
                 std::string("not found on PATH ") + quote(path_env) +
                     (skipped_self ? " (except kcm-runtime itself)" : ""));
}

std::string resolve_runtime(const LoadedRuntimeConfig& loaded, const std::string& path_env,
                            const std::string& self_exe) {
  try {
    return resolve_runtime(loaded.config.runtime, path_env, self_exe);
  } catch (const Error& e) {
    if (!loaded.error) throw;
    throw Error(std::string(e.what()) + " (after ignoring the config: " + *loaded.error + ")");
  }
}

std::string resolve_hook(const std::string& configured, const std::string& self_exe,
                         const std::string& installed) {
  if (!configured.empty()) return configured;
  char resolved[PATH_MAX];
  std::string exe = ::realpath(self_exe.c_str(), resolved) != nullptr ? resolved : self_exe;
  std::string beside = join_path(dirname_of(exe), "kcm-hook");
  if (installed.empty() || ::access(beside.c_str(), X_OK) == 0) return beside;
  return installed;
}

}  // namespace kcm
