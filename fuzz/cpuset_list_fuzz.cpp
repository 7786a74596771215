// CpuSet::parse: the list format ("0-2,8-10") of sysfs *_list files, cpuset.cpus,
// Cpus_allowed_list and kcm's own CPU list names.

#include <algorithm>
#include <optional>

#include "cpuset.h"
#include "error.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = kcm_fuzz::as_text(data, size);
  std::optional<kcm::CpuSet> parsed;
  try {
    parsed = kcm::CpuSet::parse(text);
  } catch (const kcm::Error&) {
    return 0;
  }
  const kcm::CpuSet& set = *parsed;

  // The representation invariant: strictly ascending, in range.
  const std::vector<int>& cpus = set.cpus();
  FUZZ_CHECK(std::adjacent_find(cpus.begin(), cpus.end(), [](int a, int b) { return a >= b; }) ==
             cpus.end());
  FUZZ_CHECK(cpus.empty() || (cpus.front() >= 0 && cpus.back() < kcm::CpuSet::kMaxCpus));
  FUZZ_CHECK(set.size() == cpus.size() && set.empty() == cpus.empty());

  // The canonical text parses back to the same set and is a fixed point.
  const std::string canonical = set.to_string();
  FUZZ_CHECK(canonical.find_first_not_of("0123456789,-") == std::string::npos);
  const kcm::CpuSet again = kcm::CpuSet::parse(canonical);
  FUZZ_CHECK(again == set);
  FUZZ_CHECK(again.to_string() == canonical);

  // The kernel's trailing newline and NULs change nothing.
  FUZZ_CHECK(kcm::CpuSet::parse(canonical + std::string("\n\0\0", 3)) == set);

  // Set algebra against itself and a fixed set.
  const kcm::CpuSet other{0, 1, 2, 3, 64, 1023};
  FUZZ_CHECK(set.intersection(set) == set);
  FUZZ_CHECK(set.difference(set).empty());
  FUZZ_CHECK(set.is_subset_of(set));
  const kcm::CpuSet inter = set.intersection(other);
  FUZZ_CHECK(inter.is_subset_of(set) && inter.is_subset_of(other));
  FUZZ_CHECK(set.intersects(other) == !inter.empty());
  kcm::CpuSet uni = set;
  uni.add(other);
  FUZZ_CHECK(set.is_subset_of(uni) && other.is_subset_of(uni));
  FUZZ_CHECK(uni.difference(other).is_subset_of(set));
  for (int cpu : cpus) FUZZ_CHECK(set.contains(cpu));

  return 0;
}
