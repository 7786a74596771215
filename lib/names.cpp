#include "names.h"

#include <algorithm>

#include "error.h"

namespace kcm {
namespace {

bool valid_pool_name(std::string_view text) {
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return !text.empty() && text.size() <= 63 && lower_or_digit(text[0]) &&
         std::all_of(text.begin(), text.end(),
                     [&](char c) { return lower_or_digit(c) || c == '_' || c == '-'; });
}

}  // namespace

void PoolNameRule::check(std::string_view text) {
  if (!valid_pool_name(text)) {
    throw usage_error("invalid pool name " + quote(text) + ": must match " +
                      std::string(kPoolNameRule));
  }
}

void CpuListNameRule::check(std::string_view text) {
  const bool chars_ok =
      !text.empty() && text.find_first_not_of("0123456789,-") == std::string_view::npos;
  if (!chars_ok) {
    throw usage_error("invalid CPU list name " + quote(text) +
                      ": only digits, ',' and '-' are allowed");
  }
  CpuSet cpus;
  try {
    cpus = CpuSet::parse(text);
  } catch (const Error& e) {
    throw usage_error(e.what());
  }
  if (cpus.empty()) throw usage_error("invalid CPU list name " + quote(text) + ": no CPUs");
}

CpuSet cpus_of(const CpuListName& name) { return CpuSet::parse(name.str()); }

CpuListName list_name_of(const CpuSet& cpus) { return CpuListName::parse(cpus.to_string()); }

}  // namespace kcm
