// PoolName and CpuListName (names.h): directory names of the config directory and pool
// names from annotations and flags, checked before they become paths.
#include <optional>

#include "error.h"
#include "fuzz.h"
#include "names.h"

namespace {

bool is_safe_path_component(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string name(kcm_fuzz::as_text(data, size));

  bool pool_ok = true;
  try {
    FUZZ_CHECK(kcm::PoolName::parse(name) == name);
  } catch (const kcm::Error& e) {
    pool_ok = false;
    FUZZ_CHECK(e.exit_code() == kcm::kExitUsage);
  }
  if (pool_ok) {
    FUZZ_CHECK(is_safe_path_component(name));
    FUZZ_CHECK(name.size() <= 63 && name[0] != '-' && name[0] != '_');
  }

  std::optional<kcm::CpuListName> list;
  try {
    list = kcm::CpuListName::parse(name);
  } catch (const kcm::Error& e) {
    FUZZ_CHECK(e.exit_code() == kcm::kExitUsage);
    return 0;
  }
  FUZZ_CHECK(*list == name);  // kept exactly as written
  FUZZ_CHECK(is_safe_path_component(name));
  const kcm::CpuSet cpus = kcm::cpus_of(*list);
  FUZZ_CHECK(!cpus.empty());
  FUZZ_CHECK(cpus == kcm::CpuSet::parse(name));
  // kcm names the lists it creates canonically; those names must be valid too.
  FUZZ_CHECK(kcm::cpus_of(kcm::list_name_of(cpus)) == cpus);
  return 0;
}
