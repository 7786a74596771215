// SHA-256 (FIPS 180-4), used to turn container ids that are not safe file names into
// owner file names. Not for security decisions.
#pragma once

#include <string>
#include <string_view>

namespace kcm {

// Lower-case hex digest of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace kcm
