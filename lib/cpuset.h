// A set of CPU numbers and the Linux cpuset list format ("0-2,8-10").
//
// CpuSet is a value type; it is not thread-safe to mutate from several threads.
// Parsing is strict about what it reads from users and from kcm's own files and
// tolerant only of what the kernel writes (surrounding whitespace, trailing NULs).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kcm {

class CpuSet {
 public:
  // The kernel's largest NR_CPUS; anything at or above it is refused.
  static constexpr int kMaxCpus = 8192;

  CpuSet() = default;
  CpuSet(std::initializer_list<int> cpus);

  // Parses list format: comma-separated numbers and ascending ranges. An empty (or
  // all-whitespace) string is the empty set, as in an empty sysfs "isolated" file.
  // Throws Error naming the text and what is wrong ("3-1", "a", "1,,2", 9000).
  static CpuSet parse(std::string_view list);

  // Parses a sysfs hex mask ("00000000,0000ffff"), as old kernels write instead of
  // *_list files. Throws Error on anything else.
  static CpuSet parse_mask(std::string_view mask);

  // Canonical list format: ascending, ranges of three or more collapsed ("0-2,8").
  std::string to_string() const;

  void add(int cpu);
  void add(const CpuSet& other);
  bool contains(int cpu) const;
  bool empty() const { return cpus_.empty(); }
  std::size_t size() const { return cpus_.size(); }
  // Ascending; first() requires !empty().
  const std::vector<int>& cpus() const { return cpus_; }
  int first() const { return cpus_.front(); }
  int last() const { return cpus_.back(); }

  bool intersects(const CpuSet& other) const;
  CpuSet intersection(const CpuSet& other) const;
  CpuSet difference(const CpuSet& other) const;
  bool is_subset_of(const CpuSet& other) const;

  bool operator==(const CpuSet&) const = default;

 private:
  std::vector<int> cpus_;  // sorted, unique
};

}  // namespace kcm
