// parse_interrupts: /proc/interrupts, whose names after the counts come from drivers
// (and, for some devices, from user space: a network interface's name, a VFIO label).
#include <algorithm>

#include "audit.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(kcm_fuzz::as_text(data, size));
  const std::map<long, std::string> names = kcm::parse_interrupts(text);  // never throws

  // Names are single-spaced words on one line.
  for (const auto& [irq, name] : names) {
    FUZZ_CHECK(name.find('\n') == std::string::npos);
    FUZZ_CHECK(name.find("  ") == std::string::npos);
    FUZZ_CHECK(name.empty() || (name.front() != ' ' && name.back() != ' '));
  }

  // The kernel's layout rebuilt from them (a header of two CPUs, two counts per line)
  // reads the same: a name whose first words are digits is not taken for counts.
  std::string rebuilt = "           CPU0       CPU1\n";
  for (const auto& [irq, name] : names) {
    rebuilt += std::to_string(irq) + ":          7          0 " + name + "\n";
  }
  rebuilt += "NMI:          0          0   Non-maskable interrupts\n";
  FUZZ_CHECK(kcm::parse_interrupts(rebuilt) == names);
  return 0;
}
