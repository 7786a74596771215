// Which boot the runtime records of a configuration directory belong to
// (docs/config.md "After a power loss").
//
// The tasks files and owner records name processes of the current boot, and are written
// without waiting for the disk (fs.h Durability::kThisBoot). After a power loss they may
// be stale, empty, zero-filled or truncated, and every process they name is gone; a
// reused PID must not keep a list. So <conf>/boot holds the kernel's boot id
// (<procfs>/sys/kernel/random/boot_id) of the boot those records belong to, and the first
// writer of a new boot empties every tasks file and removes every owner record, without
// reading them, before it reads anything else.
#pragma once

#include <optional>
#include <string>

namespace kcm {

inline constexpr char kBootFileName[] = "boot";

// The kernel's boot id from `procfs_root`, trimmed. Throws Error naming the file.
std::string read_boot_id(const std::string& procfs_root);
// As read_boot_id, nullopt when that procfs has no boot id (a fixture tree): then nothing
// can be known of boots, and records are judged by their processes alone.
std::optional<std::string> current_boot_id(const std::string& procfs_root);

// What <conf>/boot says of the records: kCurrent when it holds `boot_id`; kUnmarked when
// there is no such file (a directory of the original tool, or of a kcm before this
// file): its records are judged by their processes alone, as they always were;
// kEarlier otherwise, whatever the file holds (another id, or what a power loss left).
enum class RecordsBoot { kCurrent, kUnmarked, kEarlier };
RecordsBoot records_boot(int conf_fd, const std::string& conf_path, const std::string& boot_id);

// Under the exclusive lock, before a writer reads any tasks file or owner record, for
// kEarlier: empties every tasks file under pools/ and removes every owner record, then
// marks the directory with `boot_id`.
void forget_earlier_boot(int conf_fd, const std::string& conf_path, const std::string& boot_id);

// Writes `boot_id` to <conf>/boot, durably: before the first record of an unmarked
// directory is written, so that a power loss can never leave records of this boot under
// a directory that does not name it.
void mark_boot(int conf_fd, const std::string& conf_path, const std::string& boot_id);

}  // namespace kcm
