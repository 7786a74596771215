// When `kcm reconcile` last finished a round: <conf>/last-reconcile (docs/config.md),
// the Unix time in whole seconds and a newline, written by reconcile under its exclusive
// lock and read by `kcm node-report` for its metrics (docs/cli.md).
//
// The stamp says when, not what: it is written atomically (fs.h) for this boot only, as
// the tasks files are; a power loss may leave it old, empty or absent, which reads as
// "unknown", never as an error.
#pragma once

#include <cstdint>
#include <optional>

#include "config_dir.h"

namespace kcm {

inline constexpr char kReconcileStampFile[] = "last-reconcile";

// Under the exclusive lock: removes the temp files of a killed writer of the stamp, then
// replaces the stamp with `unix_seconds`; throws Error naming the file when it cannot.
void write_reconcile_stamp(const ConfigDir& dir, std::int64_t unix_seconds);

// The stamp, or nullopt when it is absent or not a number (a power loss, a hand edit).
// Throws Error naming the file only when it exists and cannot be read (a symlink, a
// directory, permissions).
std::optional<std::int64_t> read_reconcile_stamp(const ConfigDir& dir);

// The parse half: digits and one trailing newline.
std::optional<std::int64_t> parse_reconcile_stamp(const std::string& text);

}  // namespace kcm
