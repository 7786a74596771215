// owner_from_json: <conf>/owners/<stem>.json, read by poststop and reconcile; and
// owner_file_stem, which turns a container id (chosen by whoever starts the container)
// into a file name.
#include <optional>
#include <string_view>

#include "error.h"
#include "fuzz.h"
#include "owner.h"

namespace {

// A stem is the id itself when that is a safe file name, else "sha256+" and 64 hex
// digits; '+' is not in the safe set, so the two kinds never meet (names are one-to-one).
void check_stem(const std::string& owner) {
  const std::string stem = kcm::owner_file_stem(owner);
  constexpr std::string_view kSafe =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
  FUZZ_CHECK(!stem.empty() && stem[0] != '.');
  if (stem == owner) {
    FUZZ_CHECK(stem.size() <= 128 && stem.find_first_not_of(kSafe) == std::string::npos);
  } else {
    FUZZ_CHECK(stem.starts_with(kcm::kHashedStemPrefix));
    const std::string hex = stem.substr(kcm::kHashedStemPrefix.size());
    FUZZ_CHECK(hex.size() == 64 && hex.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
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
