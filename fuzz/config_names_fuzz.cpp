// validate_pool_name and validate_cpu_list_name: directory names of the config
// directory and pool names from annotations and flags, checked before they become paths.
#include <optional>

#include "config_dir.h"
#include "error.h"
#include "fuzz.h"

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
    kcm::validate_pool_name(name);
  } catch (const kcm::Error& e) {
    pool_ok = false;
    FUZZ_CHECK(e.exit_code() == kcm::kExitUsage);
  }
  if (pool_ok) {
    FUZZ_CHECK(is_safe_path_component(name));
    FUZZ_CHECK(name.size() <= 63 && name[0] != '-' && name[0] != '_');
  }

  std::optional<kcm::CpuSet> cpus;
  try {
    cpus = kcm::validate_cpu_list_name(name);
  } catch (const kcm::Error& e) {
    FUZZ_CHECK(e.exit_code() == kcm::kExitUsage);
    return 0;
  }
  FUZZ_CHECK(is_safe_path_component(name));
  FUZZ_CHECK(!cpus->empty());
  FUZZ_CHECK(*cpus == kcm::CpuSet::parse(name));
  // kcm names the lists it creates canonically; those names must validate too.
  FUZZ_CHECK(kcm::validate_cpu_list_name(cpus->to_string()) == *cpus);
  return 0;
}
