#include "fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "error.h"

namespace kcm {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

std::string join_path(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

namespace {

bool is_absent(int err) { return err == ENOENT || err == ENOTDIR || err == ESRCH; }

// Reads to EOF; returns the errno of a failed read(2) in `err` (0 on success).
std::string read_all(int fd, int& err) {
  std::string out;
  char buf[8192];
  err = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string read_all(int fd, const std::string& display) {
  int err = 0;
  std::string out = read_all(fd, err);
  if (err != 0) throw sys_error("read", display, err);
  return out;
}

// An absent file (is_absent) is reported as ENOENT, whichever errno said so.
Error open_error(const std::string& display, int err) {
  return sys_error("open", display, is_absent(err) ? ENOENT : err);
}

UniqueFd open_file_at(int dirfd, const std::string& name, const std::string& display) {
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ELOOP) throw op_error("open", display, "is a symlink, refusing to follow it");
    throw open_error(display, errno);
  }
  UniqueFd owned(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) throw sys_error("stat", display, errno);
  if (!S_ISREG(st.st_mode)) throw op_error("open", display, "is not a regular file");
  return owned;
}

}  // namespace

std::string read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw open_error(path, errno);
  UniqueFd owned(fd);
  int err = 0;
  std::string content = read_all(fd, err);
  // A process that exits while we read its /proc files reads as ESRCH: gone.
  if (err == ESRCH) throw open_error(path, err);
  if (err != 0) throw sys_error("read", path, err);
  return content;
}

UniqueFd open_dir_at(int dirfd, const std::string& name, const std::string& display) {
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ELOOP) throw op_error("open", display, "is a symlink, refusing to follow it");
    if (errno == ENOTDIR) {
      struct stat st;
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        throw op_error("open", display, "is a symlink, refusing to follow it");
      }
      throw op_error("open", display, "is not a directory");
    }
    throw sys_error("open", display, errno);
  }
  return UniqueFd(fd);
}

UniqueFd open_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOTDIR) throw op_error("open", path, "is not a directory");
    throw sys_error("open", path, errno);
  }
  return UniqueFd(fd);
}

std::string read_file_at(int dirfd, const std::string& name, const std::string& display) {
  return read_all(open_file_at(dirfd, name, display).get(), display);
}

void fsync_dir(int dirfd, const std::string& display) {
  if (::fsync(dirfd) != 0) throw sys_error("fsync", display, errno);
}

namespace {

// A writer's temp name is taken again only when a writer of the same PID was killed, or
// when someone planted it; one retry covers the first, a second a racing plant.
constexpr int kCreateAttempts = 3;

// Creates `name` under dirfd, private (0600) to its writer, and never opens anything
// already there: with O_EXCL a planted hard link or symlink fails the create instead of
// being written through. Such a leftover is unlinked, which removes the name and writes
// nothing, and the create is retried.
UniqueFd create_new_file_at(int dirfd, const std::string& name, const std::string& display) {
  for (int attempt = 1;; ++attempt) {
    int fd =
        ::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) return UniqueFd(fd);
    if (errno != EEXIST || attempt == kCreateAttempts) throw sys_error("create", display, errno);
    if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) {
      throw sys_error("create", display, errno);
    }
  }
}

// Moves `temp` to `name` without renaming it over an existing file: ext4 (auto_da_alloc)
// starts writeback of a file renamed over another and waits for its block allocation,
// about 1 ms of a container's start per tasks file on this project's test VM. In place
// of a regular file the two names are swapped (renameat2 RENAME_EXCHANGE) and the old
// content, now under the temp name, is unlinked: 30 us. A reader sees the old or the new
// file, as with rename(2); a writer killed between the two calls leaves a dot-named temp
// file, as one killed before the rename does. Where nothing is, RENAME_NOREPLACE. False,
// having moved nothing, when `name` is something else (a symlink: rename(2) replaces it)
// or the filesystem cannot do either. No ordering against the disk: only for kThisBoot.
bool move_into_place_without_writeback(int dirfd, const std::string& temp,
                                       const std::string& name) {
  struct stat st;
  const bool regular =
      ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
  const unsigned int flags = regular ? RENAME_EXCHANGE : RENAME_NOREPLACE;
  if (::renameat2(dirfd, temp.c_str(), dirfd, name.c_str(), flags) != 0) return false;
  // The new content is in place; a temp file that cannot be removed is a leftover that
  // readers skip (is_temp_name), not a failed write.
  if (regular) ::unlinkat(dirfd, temp.c_str(), 0);
  return true;
}

}  // namespace

void write_file_atomic(int dirfd, const std::string& name, std::string_view content,
                       const std::string& display, mode_t mode, Durability durability) {
  const bool sync = durability == Durability::kSurvivesPowerLoss;
  const std::string temp = "." + name + ".tmp-" + std::to_string(::getpid());
  UniqueFd owned = create_new_file_at(dirfd, temp, display + " (temp file)");
  const int fd = owned.get();
  auto fail = [&](const char* op) {
    int err = errno;
    ::unlinkat(dirfd, temp.c_str(), 0);
    return sys_error(op, display, err);
  };
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw fail("write");
    }
    done += static_cast<std::size_t>(n);
  }
  // Created 0600; the final mode is set here, where the umask does not filter it.
  if (::fchmod(fd, mode) != 0) throw fail("chmod");
  if (sync && ::fsync(fd) != 0) throw fail("fsync");
  if (!sync && move_into_place_without_writeback(dirfd, temp, name)) return;
  if (::renameat(dirfd, temp.c_str(), dirfd, name.c_str()) != 0) throw fail("rename");
  if (sync) fsync_dir(dirfd, display);
}

std::vector<DirEntry> list_dir(int dirfd, const std::string& display) {
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw sys_error("open", display, errno);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    throw sys_error("open", display, err);
  }
  std::vector<DirEntry> out;
  errno = 0;
  while (struct dirent* ent = ::readdir(dir)) {
    std::string name = ent->d_name;
    if (name == "." || name == "..") continue;
    unsigned char type = ent->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        type = S_ISREG(st.st_mode)   ? DT_REG
               : S_ISDIR(st.st_mode) ? DT_DIR
               : S_ISLNK(st.st_mode) ? DT_LNK
                                     : DT_UNKNOWN;
      }
    }
    EntryType t = type == DT_REG   ? EntryType::kFile
                  : type == DT_DIR ? EntryType::kDirectory
                  : type == DT_LNK ? EntryType::kSymlink
                                   : EntryType::kOther;
    out.push_back({std::move(name), t});
    errno = 0;
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) throw sys_error("read directory", display, err);
  std::sort(out.begin(), out.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return out;
}

void remove_file_at(int dirfd, const std::string& name, const std::string& display,
                    Durability durability) {
  if (::unlinkat(dirfd, name.c_str(), 0) != 0) {
    if (errno == ENOENT) return;
    throw sys_error("remove", display, errno);
  }
  if (durability == Durability::kSurvivesPowerLoss) fsync_dir(dirfd, display);
}

void remove_tree_at(int dirfd, const std::string& name, const std::string& display) {
  {
    UniqueFd dir = open_dir_at(dirfd, name, display);
    for (const auto& ent : list_dir(dir.get(), display)) {
      const std::string child = join_path(display, ent.name);
      if (ent.type == EntryType::kDirectory) {
        remove_tree_at(dir.get(), ent.name, child);
      } else if (::unlinkat(dir.get(), ent.name.c_str(), 0) != 0 && errno != ENOENT) {
        throw sys_error("remove", child, errno);
      }
    }
  }
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    throw sys_error("remove", display, errno);
  }
}

std::string self_exe_path() {
  char buf[PATH_MAX];
  if (::realpath("/proc/self/exe", buf) == nullptr) {
    throw sys_error("resolve", "/proc/self/exe", errno);
  }
  return buf;
}

}  // namespace kcm
