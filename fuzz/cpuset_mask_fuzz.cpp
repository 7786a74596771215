// CpuSet::parse_mask: the hex masks ("00000000,0000ffff") of kernels without *_list files.
#include <optional>

#include "cpuset.h"
#include "error.h"
#include "fuzz.h"

namespace {

// The mask of a set as the kernel prints it: 32-bit words, most significant first.
std::string to_mask(const kcm::CpuSet& set) {
  const int words = set.empty() ? 1 : set.last() / 32 + 1;
  std::vector<std::uint32_t> bits(static_cast<std::size_t>(words), 0);
  for (int cpu : set.cpus()) bits[static_cast<std::size_t>(cpu / 32)] |= 1u << (cpu % 32);
  std::string out;
  for (int w = words - 1; w >= 0; --w) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", bits[static_cast<std::size_t>(w)]);
    if (!out.empty()) out += ',';
    out += buf;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = kcm_fuzz::as_text(data, size);
  std::optional<kcm::CpuSet> parsed;
  try {
    parsed = kcm::CpuSet::parse_mask(text);
  } catch (const kcm::Error&) {
    return 0;
  }
  const kcm::CpuSet& set = *parsed;
  const std::vector<int>& cpus = set.cpus();
  for (std::size_t i = 1; i < cpus.size(); ++i) FUZZ_CHECK(cpus[i - 1] < cpus[i]);
  FUZZ_CHECK(cpus.empty() || (cpus.front() >= 0 && cpus.back() < kcm::CpuSet::kMaxCpus));

  // The same CPUs in the other format, and back through the kernel's own mask layout.
  FUZZ_CHECK(kcm::CpuSet::parse(set.to_string()) == set);
  FUZZ_CHECK(kcm::CpuSet::parse_mask(to_mask(set)) == set);
  FUZZ_CHECK(kcm::CpuSet::parse_mask(to_mask(set) + "\n") == set);
  return 0;
}
