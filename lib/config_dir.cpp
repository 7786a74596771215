#include "config_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>

#include "boot.h"
#include "error.h"

namespace kcm {
namespace {

constexpr const char* kPools = "pools";
constexpr const char* kOwners = "owners";
constexpr const char* kExclusive = "exclusive";
constexpr const char* kTasks = "tasks";
constexpr std::string_view kJson = ".json";

// The original format's tree is world-readable; owner records are kcm's private
// bookkeeping, so owners/ is closed to everyone else.
constexpr mode_t kTreeMode = 0755;
constexpr mode_t kOwnersMode = 0700;

// Creates directory `name` under dirfd unless it exists, opens it without following a
// symlink and gives it exactly `mode` (mkdirat's is filtered by the umask; an existing
// owners/ made before records were private is closed this way).
UniqueFd make_dir_at(int dirfd, const std::string& name, mode_t mode, const std::string& display) {
  if (::mkdirat(dirfd, name.c_str(), mode) != 0 && errno != EEXIST) {
    throw sys_error("create directory", display, errno);
  }
  UniqueFd fd = open_dir_at(dirfd, name, display);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw sys_error("stat", display, errno);
  if ((st.st_mode & 07777) != mode && ::fchmod(fd.get(), mode) != 0) {
    throw sys_error("chmod", display, errno);
  }
  return fd;
}

}  // namespace

ConfigDir ConfigDir::open(const std::string& path) {
  UniqueFd fd;
  try {
    fd = open_dir(path);
  } catch (const Error& e) {
    throw with_context("open config directory", e);
  }
  // Only a directory with pools/ is a configuration: anything else (a mistyped
  // --conf-dir, "/") must not get a lock file or anything else written into it.
  struct stat st;
  if (::fstatat(fd.get(), kPools, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno != ENOENT) {
      throw with_context("open config directory",
                         sys_error("stat", join_path(path, kPools), errno));
    }
    throw op_error("open config directory", path,
                   "is not a kcm configuration directory (no pools/): run kcm init");
  }
  if (!S_ISDIR(st.st_mode)) {
    throw op_error("open config directory", path,
                   std::string("is not a kcm configuration directory (its pools is ") +
                       (S_ISLNK(st.st_mode) ? "a symlink)" : "not a directory)"));
  }
  return ConfigDir(path, std::move(fd));
}

std::string ConfigDir::pool_path(const PoolName& pool) const {
  return join_path(join_path(path_, kPools), pool);
}

DirLock ConfigDir::lock(LockMode mode, const LockOptions& options) const {
  return DirLock::acquire(fd_.get(), path_, mode, options);
}

DirLock ConfigDir::lock_for_writing(const LockOptions& options) const {
  DirLock held = lock(LockMode::kExclusive, options);
  unmarked_boot_.reset();
  if (auto boot_id = current_boot_id(options.procfs_root)) {
    switch (records_boot(fd_.get(), path_, *boot_id)) {
      case RecordsBoot::kCurrent:
        break;
      case RecordsBoot::kEarlier:
        forget_earlier_boot(fd_.get(), path_, *boot_id);
        spdlog::warn("{}: emptied the tasks files and owner records of an earlier boot", path_);
        break;
      case RecordsBoot::kUnmarked:
        unmarked_boot_ = *boot_id;  // marked by the first write: a refusal changes nothing
        break;
    }
  }
  return held;
}

void ConfigDir::mark_boot_before_writing() const {
  if (!unmarked_boot_) return;
  mark_boot(fd_.get(), path_, *unmarked_boot_);
  unmarked_boot_.reset();
}

bool ConfigDir::records_of_earlier_boot(const std::string& procfs_root) const {
  auto boot_id = current_boot_id(procfs_root);
  return boot_id && records_boot(fd_.get(), path_, *boot_id) == RecordsBoot::kEarlier;
}

UniqueFd ConfigDir::open_pool(int pools_fd, const PoolName& name) const {
  try {
    return open_dir_at(pools_fd, name, pool_path(name));
  } catch (const Error& e) {
    if (!e.is_not_found()) throw;
    throw Error("pool " + quote(name) + " does not exist in " + quote(path_), ErrorKind::kNotFound);
  }
}

Pool ConfigDir::read_pool_at(int pool_fd, const PoolName& name, Tasks tasks) const {
  const std::string pool_display = pool_path(name);
  Pool pool;
  pool.name = name;
  const std::string excl_display = join_path(pool_display, kExclusive);
  std::string excl = read_file_at(pool_fd, kExclusive, excl_display);
  while (!excl.empty() && (excl.back() == '\n' || excl.back() == ' ')) excl.pop_back();
  if (excl == "1") {
    pool.exclusive = true;
  } else if (excl != "0") {
    throw op_error("parse", excl_display, "must be \"0\" or \"1\", not " + quote(excl));
  }
  for (const DirEntry& ent : list_dir(pool_fd, pool_display)) {
    if (is_temp_name(ent.name) || ent.name == kExclusive) continue;
    const std::string list_display = join_path(pool_display, ent.name);
    if (ent.type == EntryType::kSymlink) {
      throw op_error("read", list_display, "is a symlink, refusing to follow it");
    }
    if (ent.type != EntryType::kDirectory) {
      throw op_error("read", list_display, "unexpected entry: not a CPU list directory");
    }
    CpuList list;
    list.name = CpuListName::parse_in(ent.name, "read", list_display);
    list.cpus = cpus_of(list.name);
    if (tasks == Tasks::kAsRecorded) {
      UniqueFd list_fd = open_dir_at(pool_fd, list.name, list_display);
      const std::string tasks_display = join_path(list_display, kTasks);
      list.tasks = parse_tasks(read_file_at(list_fd.get(), kTasks, tasks_display), tasks_display);
    }
    pool.lists.emplace(list.name, std::move(list));
  }
  return pool;
}

Config ConfigDir::read(Tasks tasks) const {
  const std::string pools_display = join_path(path_, kPools);
  UniqueFd pools_fd = open_dir_at(fd_.get(), kPools, pools_display);
  Config config;
  for (const DirEntry& ent : list_dir(pools_fd.get(), pools_display)) {
    if (is_temp_name(ent.name)) continue;
    const std::string display = join_path(pools_display, ent.name);
    if (ent.type != EntryType::kDirectory) {
      throw op_error("read", display,
                     ent.type == EntryType::kSymlink ? "is a symlink, refusing to follow it"
                                                     : "unexpected entry: not a pool directory");
    }
    const PoolName name = PoolName::parse_in(ent.name, "read", display);
    UniqueFd pool_fd = open_dir_at(pools_fd.get(), name, display);
    config.pools.emplace(name, read_pool_at(pool_fd.get(), name, tasks));
  }
  return config;
}

bool ConfigDir::has_pool(const PoolName& name) const {
  const std::string path = join_path(kPools, name);
  struct stat st;
  if (::fstatat(fd_.get(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
  if (errno == ENOENT) return false;
  throw sys_error("stat", pool_path(name), errno);
}

Pool ConfigDir::read_pool(const PoolName& name) const {
  UniqueFd pools_fd = open_dir_at(fd_.get(), kPools, join_path(path_, kPools));
  UniqueFd pool_fd = open_pool(pools_fd.get(), name);
  return read_pool_at(pool_fd.get(), name, Tasks::kAsRecorded);
}

void ConfigDir::write_tasks(const PoolName& pool, const CpuListName& list,
                            const std::vector<pid_t>& tasks) const {
  mark_boot_before_writing();
  const std::string list_display = join_path(pool_path(pool), list);
  UniqueFd pools_fd = open_dir_at(fd_.get(), kPools, join_path(path_, kPools));
  UniqueFd pool_fd = open_dir_at(pools_fd.get(), pool, pool_path(pool));
  UniqueFd list_fd = open_dir_at(pool_fd.get(), list, list_display);
  write_file_atomic(list_fd.get(), kTasks, format_tasks(tasks), join_path(list_display, kTasks),
                    0644, Durability::kThisBoot);
}

std::optional<UniqueFd> ConfigDir::open_owners(bool create) const {
  const std::string display = join_path(path_, kOwners);
  if (create) return make_dir_at(fd_.get(), kOwners, kOwnersMode, display);
  // A directory made by the original tool has no owners/.
  return if_found([&] { return open_dir_at(fd_.get(), kOwners, display); });
}

std::optional<Owner> ConfigDir::read_owner(const std::string& owner) const {
  auto owners_fd = open_owners(false);
  if (!owners_fd) return std::nullopt;
  const std::string file = owner_file_stem(owner) + std::string(kJson);
  const std::string display = join_path(join_path(path_, kOwners), file);
  auto text = if_found([&] { return read_file_at(owners_fd->get(), file, display); });
  if (!text) return std::nullopt;
  return owner_from_json(*text, display);
}

std::vector<Owner> ConfigDir::read_owners(std::vector<std::string>* misnamed) const {
  std::vector<Owner> out;
  auto owners_fd = open_owners(false);
  if (!owners_fd) return out;
  const std::string owners_display = join_path(path_, kOwners);
  for (const DirEntry& ent : list_dir(owners_fd->get(), owners_display)) {
    if (is_temp_name(ent.name)) continue;
    const std::string display = join_path(owners_display, ent.name);
    if (ent.name.size() <= kJson.size() || !ent.name.ends_with(kJson)) {
      throw op_error("read", display, "unexpected entry: not an owner record (*.json)");
    }
    Owner record = owner_from_json(read_file_at(owners_fd->get(), ent.name, display), display);
    const std::string expected = owner_file_stem(record.owner) + std::string(kJson);
    if (ent.name == expected) {
      out.push_back(std::move(record));
    } else if (misnamed != nullptr) {
      misnamed->push_back("Owner record " + quote(display) + " records owner " +
                          quote(record.owner) + ", whose record is " + quote(expected) +
                          ": kcm does not use it (move it there or remove it)");
    }
  }
  return out;
}

void ConfigDir::write_owner(const Owner& owner) const {
  mark_boot_before_writing();
  auto owners_fd = open_owners(true);
  const std::string file = owner_file_stem(owner.owner) + std::string(kJson);
  // Records are kcm's private bookkeeping, like owners/ itself.
  write_file_atomic(owners_fd->get(), file, owner_to_json(owner),
                    join_path(join_path(path_, kOwners), file), 0600, Durability::kThisBoot);
}

void ConfigDir::remove_owner(const std::string& owner) const {
  auto owners_fd = open_owners(false);
  if (!owners_fd) return;
  const std::string file = owner_file_stem(owner) + std::string(kJson);
  remove_file_at(owners_fd->get(), file, join_path(join_path(path_, kOwners), file),
                 Durability::kThisBoot);
}

namespace {

int remove_temp_files_in(int dirfd, const std::string& display, int depth) {
  int removed = 0;
  for (const DirEntry& ent : list_dir(dirfd, display)) {
    const std::string path = join_path(display, ent.name);
    if (is_temp_name(ent.name) && ent.type == EntryType::kFile) {
      remove_file_at(dirfd, ent.name, path, Durability::kThisBoot);
      ++removed;
    } else if (depth > 0 && ent.type == EntryType::kDirectory && !is_temp_name(ent.name)) {
      UniqueFd sub = open_dir_at(dirfd, ent.name, path);
      removed += remove_temp_files_in(sub.get(), path, depth - 1);
    }
  }
  return removed;
}

}  // namespace

int ConfigDir::remove_stale_temp_files() const {
  const std::string pools_display = join_path(path_, kPools);
  UniqueFd pools_fd = open_dir_at(fd_.get(), kPools, pools_display);
  int removed = remove_temp_files_in(pools_fd.get(), pools_display, 2);  // pools/<p>/<list>/
  if (auto owners_fd = open_owners(false)) {
    removed += remove_temp_files_in(owners_fd->get(), join_path(path_, kOwners), 0);
  }
  return removed;
}

void ConfigDir::create(const std::string& path, const Config& layout, const LockOptions& lock) {
  const bool created = ::mkdir(path.c_str(), kTreeMode) == 0;
  if (!created && errno != EEXIST) throw sys_error("create config directory", path, errno);
  const ConfigDir dir(path, open_dir(path));
  if (created && ::fchmod(dir.fd(), kTreeMode) != 0) throw sys_error("chmod", path, errno);
  // Only what an interrupted init leaves may be there: its lock file and its temp tree.
  auto check_left_by_init = [&](const DirEntry& ent) {
    const bool ours = ent.name == "lock" ? is_kcm_lock_file(dir.fd())
                                         : ent.name.starts_with(".pools.tmp-") &&
                                               ent.type == EntryType::kDirectory;
    if (!ours) {
      throw op_error("initialize config directory", path,
                     "is not empty (it holds " + quote(ent.name) + ")");
    }
  };
  for (const DirEntry& ent : list_dir(dir.fd(), path)) check_left_by_init(ent);
  DirLock held = dir.lock(LockMode::kExclusive, lock);
  for (const DirEntry& ent : list_dir(dir.fd(), path)) {
    check_left_by_init(ent);
    if (ent.name != "lock") remove_tree_at(dir.fd(), ent.name, join_path(path, ent.name));
  }
  const std::string temp = ".pools.tmp-" + std::to_string(::getpid());
  const std::string temp_display = join_path(path, temp);
  {
    UniqueFd pools_fd = make_dir_at(dir.fd(), temp, kTreeMode, temp_display);
    for (const auto& [name, pool] : layout.pools) {
      const std::string pool_display = join_path(temp_display, name);
      UniqueFd pool_fd = make_dir_at(pools_fd.get(), name, kTreeMode, pool_display);
      write_file_atomic(pool_fd.get(), kExclusive, pool.exclusive ? "1" : "0",
                        join_path(pool_display, kExclusive));
      for (const auto& [list_name, list] : pool.lists) {
        const std::string list_display = join_path(pool_display, list_name);
        UniqueFd list_fd = make_dir_at(pool_fd.get(), list_name, kTreeMode, list_display);
        write_file_atomic(list_fd.get(), kTasks, format_tasks(list.tasks),
                          join_path(list_display, kTasks));
      }
      fsync_dir(pool_fd.get(), pool_display);
    }
    fsync_dir(pools_fd.get(), temp_display);
  }
  if (::renameat(dir.fd(), temp.c_str(), dir.fd(), kPools) != 0) {
    throw sys_error("rename", temp_display, errno);
  }
  // After the rename: an init interrupted before it leaves only a temp tree behind.
  make_dir_at(dir.fd(), kOwners, kOwnersMode, join_path(path, kOwners));
  fsync_dir(dir.fd(), path);
}

}  // namespace kcm
