// Who holds which CPU lists: <conf>/owners/<file>.json, a kcm extension of the original
// directory format (readers of that format ignore owners/).
//
// One record per holder, written in the same locked transaction as the tasks files. It
// lets poststop find a container's lists (poststop state has no pid) and lets reconcile
// detect PID reuse: a task whose live process started at another time than recorded is
// reclaimed like a dead one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "names.h"

namespace kcm {

// Why an allocation chose its lists, as it was when it chose (a kcm extension of the record,
// docs/config.md "Owner records"; records written before it have none).
struct AllocationReason {
  std::string rule;             // allocator.h kRule*: which of its rules chose
  std::vector<int> numa_nodes;  // of the chosen lists' CPUs, ascending; empty when unknown
  bool isolated = false;        // every chosen CPU is in cpu/isolated (isolcpus=)
  int free_lists = 0;           // the pool's lists without tasks, before this allocation
  int other_candidates = 0;     // the lists it could have given instead of these

  bool operator==(const AllocationReason&) const = default;
};

struct Owner {
  std::string owner;             // container id, or "isolate-<pid>"
  pid_t pid = 0;                 // host PID written to the tasks files
  std::uint64_t start_time = 0;  // field 22 of /proc/<pid>/stat
  PoolName pool;
  std::vector<CpuListName> cpu_lists;                     // list names as in the pool directory
  std::string created;                                    // RFC 3339, UTC
  std::optional<AllocationReason> reason = std::nullopt;  // none in records written without

  bool operator==(const Owner&) const = default;
};

// File name (without ".json") for an owner id: the id itself when it matches
// [A-Za-z0-9_.-]{1,128} and does not start with '.', else "sha256+" and the id's SHA-256
// in hex. One-to-one: no two ids share a name (a record also holds its full id, which
// readers check).
inline constexpr std::string_view kHashedStemPrefix = "sha256+";
std::string owner_file_stem(const std::string& owner);

// The record's file text; "reason" only when the record has one, so a record without it
// is written byte for byte as before.
std::string owner_to_json(const Owner& owner);
// Throws Error naming `display` when the text is not a valid record (also when its pool
// or a list is not a valid name: records are an edge where names enter, names.h).
Owner owner_from_json(const std::string& text, const std::string& display);

// Now as RFC 3339 in UTC with seconds: "2026-11-30T04:17:45Z".
std::string rfc3339_now();

}  // namespace kcm
