// kcm install: place this kcm (and kcm-hook, kcm-runtime when beside it) in a directory,
// so containers can mount it and isolate themselves.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "commands.h"
#include "error.h"
#include "fs.h"

namespace kcm::cli {
namespace {

// Replaced by rename, never written in place: a running copy keeps its file (writing
// over it would fail with ETXTBSY), and a process that starts it meanwhile gets the old
// program or the new one, never part of one.
void install_file(const std::string& source, int dest_fd, const std::string& dest_dir,
                  const std::string& name) {
  std::string content = read_file(source);
  write_file_atomic(dest_fd, name, content, join_path(dest_dir, name), 0755);
}

}  // namespace

Action add_install(CLI::App& app) {
  CLI::App& sub = add_subcommand(app, "install", "Install kcm into a directory");
  auto install_dir = std::make_shared<std::string>();
  sub.add_option("--install-dir", *install_dir, "KCM install directory")->required();
  return [install_dir](const Settings&) {
    std::error_code ec;
    std::filesystem::create_directories(*install_dir, ec);
    if (ec) throw op_error("create directory", *install_dir, ec.message());
    UniqueFd dest = open_dir(*install_dir);
    const std::string self = self_exe_path();
    const std::string dir = std::filesystem::path(self).parent_path().string();
    install_file(self, dest.get(), *install_dir, "kcm");
    for (const char* companion : {"kcm-hook", "kcm-runtime"}) {
      const std::string path = join_path(dir, companion);
      if (::access(path.c_str(), X_OK) == 0)
        install_file(path, dest.get(), *install_dir, companion);
    }
    return kExitOk;
  };
}

}  // namespace kcm::cli
