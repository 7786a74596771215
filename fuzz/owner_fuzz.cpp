// owner_from_json: <conf>/owners/<stem>.json, read by poststop and reconcile; and
// owner_file_stem, which turns a container id (chosen by whoever starts the container)
// into a file name.
#include <optional>

#include "error.h"
#include "fuzz.h"
#include "owner.h"

namespace {

void check_stem(const std::string& owner) {
  const std::string stem = kcm::owner_file_stem(owner);
  FUZZ_CHECK(!stem.empty() && stem.size() <= 128);
  FUZZ_CHECK(stem[0] != '.');
  FUZZ_CHECK(stem.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789_.-") == std::string::npos);
  FUZZ_CHECK(stem == owner || stem.size() == 64);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(kcm_fuzz::as_text(data, size));
  check_stem(text);

  std::optional<kcm::Owner> parsed;
  try {
    parsed = kcm::owner_from_json(text, "/etc/kcm/owners/x.json");
  } catch (const kcm::Error&) {
    return 0;
  }
  FUZZ_CHECK(parsed->pid > 0);
  check_stem(parsed->owner);
  // What kcm writes it reads back unchanged.
  const std::string written = kcm::owner_to_json(*parsed);
  FUZZ_CHECK(kcm::owner_from_json(written, "written") == *parsed);
  return 0;
}
