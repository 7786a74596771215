#include "boot.h"

#include "error.h"
#include "fs.h"

namespace kcm {
namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

// Every pools/<pool>/<list>/tasks becomes "", unread: it may hold anything. What is not a
// directory or not a regular tasks file is left for the reader to judge and name.
void empty_tasks_files(int conf_fd, const std::string& conf_path) {
  const std::string pools_path = join_path(conf_path, "pools");
  UniqueFd pools = open_dir_at(conf_fd, "pools", pools_path);
  for (const DirEntry& pool : list_dir(pools.get(), pools_path)) {
    if (pool.type != EntryType::kDirectory || is_temp_name(pool.name)) continue;
    const std::string pool_path = join_path(pools_path, pool.name);
    UniqueFd pool_fd = open_dir_at(pools.get(), pool.name, pool_path);
    for (const DirEntry& list : list_dir(pool_fd.get(), pool_path)) {
      if (list.type != EntryType::kDirectory || is_temp_name(list.name)) continue;
      const std::string list_path = join_path(pool_path, list.name);
      UniqueFd list_fd = open_dir_at(pool_fd.get(), list.name, list_path);
      for (const DirEntry& file : list_dir(list_fd.get(), list_path)) {
        if (file.name != "tasks" || file.type != EntryType::kFile) continue;
        write_file_atomic(list_fd.get(), "tasks", "", join_path(list_path, "tasks"), 0644,
                          Durability::kThisBoot);
      }
    }
  }
}

void remove_owner_records(int conf_fd, const std::string& conf_path) {
  const std::string owners_path = join_path(conf_path, "owners");
  auto owners = if_found([&] { return open_dir_at(conf_fd, "owners", owners_path); });
  if (!owners) return;
  for (const DirEntry& record : list_dir(owners->get(), owners_path)) {
    if (record.type != EntryType::kFile) continue;  // temp files too: no writer is active
    remove_file_at(owners->get(), record.name, join_path(owners_path, record.name),
                   Durability::kThisBoot);
  }
}

}  // namespace

std::string read_boot_id(const std::string& procfs_root) {
  return trimmed(read_file(join_path(procfs_root, "sys/kernel/random/boot_id")));
}

std::optional<std::string> current_boot_id(const std::string& procfs_root) {
  return if_found([&] { return read_boot_id(procfs_root); });
}

RecordsBoot records_boot(int conf_fd, const std::string& conf_path, const std::string& boot_id) {
  auto recorded = if_found(
      [&] { return read_file_at(conf_fd, kBootFileName, join_path(conf_path, kBootFileName)); });
  if (!recorded) return RecordsBoot::kUnmarked;
  return trimmed(*recorded) == boot_id ? RecordsBoot::kCurrent : RecordsBoot::kEarlier;
}

void forget_earlier_boot(int conf_fd, const std::string& conf_path, const std::string& boot_id) {
  empty_tasks_files(conf_fd, conf_path);
  remove_owner_records(conf_fd, conf_path);
  mark_boot(conf_fd, conf_path, boot_id);
}

void mark_boot(int conf_fd, const std::string& conf_path, const std::string& boot_id) {
  write_file_atomic(conf_fd, kBootFileName, boot_id + "\n", join_path(conf_path, kBootFileName),
                    0644, Durability::kSurvivesPowerLoss);
}

}  // namespace kcm
