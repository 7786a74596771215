// File-system primitives every module shares: an owning fd, whole-file reads, crash-safe
// writes, and directory walks that never follow symlinks.
//
// Every open uses O_CLOEXEC (runtimes exec the hook, the wrapper execs runc). Functions
// taking a directory fd resolve names relative to it with openat(2) and O_NOFOLLOW; the
// `display` argument is the path used in error messages. All failures throw Error.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kcm {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();

 private:
  int fd_ = -1;
};

enum class EntryType { kFile, kDirectory, kSymlink, kOther };

struct DirEntry {
  std::string name;
  EntryType type;
};

// Reads a whole file by path (sysfs, procfs, config files). Throws on any failure; an
// absent file (ENOENT, ENOTDIR, ESRCH for a vanished process) is a not-found Error
// `open "<path>": No such file or directory` (error.h if_found).
std::string read_file(const std::string& path);

// Opens `name` under `dirfd` as a directory, refusing symlinks.
UniqueFd open_dir_at(int dirfd, const std::string& name, const std::string& display);
// Opens a directory by path; the path itself may be a symlink (an operator's choice).
UniqueFd open_dir(const std::string& path);

// Reads a regular file under `dirfd`, refusing symlinks and other types; absent, as
// read_file.
std::string read_file_at(int dirfd, const std::string& name, const std::string& display);

// Whether a write must reach the disk before it returns (docs/config.md "What reaches the
// disk"). Only what outlives a reboot does: the pool layout `kcm init` writes. The tasks
// files and owner records name processes of the current boot, which a power loss ends;
// they need atomicity against a writer that dies, not a wait for the disk.
enum class Durability {
  kSurvivesPowerLoss,  // fsync the file and its directory
  kThisBoot,           // atomic against a killed writer; the page cache is enough
};

// Atomic replace: writes `.<name>.tmp-<pid>` in the same directory and moves it to `name`:
// for kSurvivesPowerLoss, fsync of the file, rename(2) over `name`, fsync of the directory;
// for kThisBoot, a swap of the two names and an unlink of the old content, which on ext4
// starts no writeback (a rename over a file does; see fs.cpp). A reader
// sees the old or the new content, never a torn file; a killed writer leaves at most a
// dot-named temp file behind. The temp file is always a new inode (O_EXCL; a leftover of
// that name is unlinked first), so no existing file is written through a planted link,
// and the result has one name and exactly `mode`, whatever the umask.
void write_file_atomic(int dirfd, const std::string& name, std::string_view content,
                       const std::string& display, mode_t mode = 0644,
                       Durability durability = Durability::kSurvivesPowerLoss);

// Entries of a directory except "." and "..", sorted by name.
std::vector<DirEntry> list_dir(int dirfd, const std::string& display);

// Removes a file under dirfd; absent is not an error. fsyncs the directory for
// kSurvivesPowerLoss.
void remove_file_at(int dirfd, const std::string& name, const std::string& display,
                    Durability durability = Durability::kSurvivesPowerLoss);

// Removes a directory tree under dirfd without following symlinks.
void remove_tree_at(int dirfd, const std::string& name, const std::string& display);

void fsync_dir(int dirfd, const std::string& display);

// Names kcm writes as temporaries begin with '.'; readers skip them.
inline bool is_temp_name(std::string_view name) { return !name.empty() && name[0] == '.'; }

std::string join_path(std::string_view dir, std::string_view name);

// The running program's executable (/proc/self/exe) as an absolute path with every
// symlink resolved. Throws Error when /proc is not mounted or the file is gone.
std::string self_exe_path();

}  // namespace kcm
