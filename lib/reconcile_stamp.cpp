#include "reconcile_stamp.h"

#include <charconv>
#include <string>

#include "error.h"
#include "fs.h"

namespace kcm {

std::optional<std::int64_t> parse_reconcile_stamp(const std::string& text) {
  std::string_view digits(text);
  if (!digits.empty() && digits.back() == '\n') digits.remove_suffix(1);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

void write_reconcile_stamp(const ConfigDir& dir, std::int64_t unix_seconds) {
  // Under the exclusive lock no other writer is active: a temp file of the stamp is the
  // leftover of a reconcile that was killed (the pools/ and owners/ ones are removed by
  // config_dir.h remove_stale_temp_files).
  const std::string prefix = std::string(".") + kReconcileStampFile + ".tmp-";
  for (const DirEntry& ent : list_dir(dir.fd(), dir.path())) {
    if (ent.type == EntryType::kFile && ent.name.rfind(prefix, 0) == 0) {
      remove_file_at(dir.fd(), ent.name, join_path(dir.path(), ent.name), Durability::kThisBoot);
    }
  }
  write_file_atomic(dir.fd(), kReconcileStampFile, std::to_string(unix_seconds) + "\n",
                    join_path(dir.path(), kReconcileStampFile), 0644, Durability::kThisBoot);
}

std::optional<std::int64_t> read_reconcile_stamp(const ConfigDir& dir) {
  const std::string display = join_path(dir.path(), kReconcileStampFile);
  auto text = if_found([&] { return read_file_at(dir.fd(), kReconcileStampFile, display); });
  if (!text) return std::nullopt;
  return parse_reconcile_stamp(*text);
}

}  // namespace kcm
