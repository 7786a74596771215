// The names that become paths in the configuration directory (docs/config.md): a pool's
// and a CPU list's. A value of these types is valid by construction, so text becomes a
// name once, where it enters kcm (an option, an annotation, a directory entry, an owner
// record), and the modules that take names never check them again.
//
//   PoolName     [a-z0-9][a-z0-9_-]{0,62}
//   CpuListName  digits, ',' and '-' that parse as a non-empty CPU list, kept exactly as
//                written: "0,1,2,8-10" and "0-2,8-10" are two names of the same CPUs
//
// A name reads as the text it holds (it converts to const std::string& and to
// std::string_view, formats and serializes as that text), compares and orders by it,
// also against plain strings, so it is a map key found by name or by text. Pure values:
// no I/O.
#pragma once

#include <compare>
#include <concepts>
#include <string>
#include <string_view>

#include "cpuset.h"
#include "error.h"

namespace kcm {

// Text that is not itself a name: a std::string, a string_view, a literal.
template <typename T>
concept NameText = std::convertible_to<const T&, std::string_view> && !requires {
  typename T::NameRule;
};

template <typename Rule>
class Name {
 public:
  using NameRule = Rule;

  // Empty: no name yet (a default-constructed record). Never a valid name.
  Name() = default;

  // The edge: throws a usage Error naming `text` when it breaks the rule.
  static Name parse(std::string text) {
    Rule::check(text);
    Name name;
    name.value_ = std::move(text);
    return name;
  }
  // As parse(), for text read from a file or a directory: a bad name there is a broken
  // object, `<op> "<object>": invalid ...` (exit 1), not the user's mistake.
  static Name parse_in(std::string text, std::string_view op, std::string_view object) {
    try {
      return parse(std::move(text));
    } catch (const Error& e) {
      throw op_error(op, object, e.what());
    }
  }
  // Implicit, validating as parse() does, so that literals ("dataplane") and code still
  // holding a std::string convert where a name is expected.
  Name(const char* text) : Name(parse(text)) {}
  Name(const std::string& text) : Name(parse(text)) {}

  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  operator const std::string&() const { return value_; }
  operator std::string_view() const { return value_; }

  friend bool operator==(const Name&, const Name&) = default;
  friend std::strong_ordering operator<=>(const Name&, const Name&) = default;
  template <NameText T>
  friend bool operator==(const Name& a, const T& b) {
    return std::string_view(a.value_) == std::string_view(b);
  }
  template <NameText T>
  friend std::strong_ordering operator<=>(const Name& a, const T& b) {
    return std::string_view(a.value_) <=> std::string_view(b);
  }

  // Written to a stream as its text (test assertions, log messages).
  template <typename Stream>
  requires requires(Stream& os, const std::string& text) { os << text; }
  friend Stream& operator<<(Stream& os, const Name& name) {
    os << name.value_;
    return os;
  }

  // Concatenation makes text, as with a std::string.
  template <NameText T>
  friend std::string operator+(const Name& a, const T& b) {
    return a.value_ + std::string(std::string_view(b));
  }
  template <NameText T>
  friend std::string operator+(const T& a, const Name& b) {
    return std::string(std::string_view(a)) + b.value_;
  }

 private:
  std::string value_;
};

// The rule of pool names as error messages state it.
inline constexpr std::string_view kPoolNameRule = "[a-z0-9][a-z0-9_-]{0,62}";

struct PoolNameRule {
  // Throws `invalid pool name "x": must match [a-z0-9][a-z0-9_-]{0,62}` (usage).
  static void check(std::string_view text);
};

struct CpuListNameRule {
  // Throws `invalid CPU list name "x": ...` or the CPU list parser's message (usage).
  static void check(std::string_view text);
};

using PoolName = Name<PoolNameRule>;
using CpuListName = Name<CpuListNameRule>;

// The CPUs a list's name stands for (never empty).
CpuSet cpus_of(const CpuListName& name);
// The canonical name of a non-empty set ("0-2,8-10"), as kcm init names the lists it
// makes. Throws a usage Error for an empty set.
CpuListName list_name_of(const CpuSet& cpus);

}  // namespace kcm
