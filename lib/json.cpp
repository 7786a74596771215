#include "json.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>

namespace kcm {

namespace {

// Walks `text` as a JSON lexer tokenises it, without checking the grammar around the
// tokens: on_bracket(c) for each '{', '[', '}' or ']' outside strings, on_string(body)
// for each string's body with its escapes undecoded (an unterminated string runs to the
// end of the text). Stops when a callback returns false. For a valid document this sees
// exactly the document's structure; for any other, no more than a parser that accepts
// a prefix of it.
template <typename OnBracket, typename OnString>
void scan(std::string_view text, OnBracket on_bracket, OnString on_string) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      std::size_t end = i + 1;
      while (end < text.size() && text[end] != '"') end += text[end] == '\\' ? 2 : 1;
      end = std::min(end, text.size());
      if (!on_string(text.substr(i + 1, end - i - 1))) return;
      i = end;
    } else if (c == '{' || c == '[' || c == '}' || c == ']') {
      if (!on_bracket(c)) return;
    }
  }
}

bool nests_deeper_than(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool deeper = false;
  scan(
      text,
      [&](char c) {
        if (c == '{' || c == '[') {
          deeper = ++depth > limit;
        } else if (depth > 0) {
          --depth;
        }
        return !deeper;
      },
      [](std::string_view) { return true; });
  return deeper;
}

// One character of a string body at `i`, its escape decoded; advances `i`. nullopt for
// an escape that is cut short or invalid, or a \u escape beyond ASCII (which never equals
// an ASCII character).
std::optional<char> next_char(std::string_view body, std::size_t& i) {
  const char c = body[i++];
  if (c != '\\') return c;
  if (i == body.size()) return std::nullopt;
  const char e = body[i++];
  if (e == 'u') {
    if (body.size() - i < 4) return std::nullopt;
    unsigned code = 0;
    const char* first = body.data() + i;
    auto [ptr, ec] = std::from_chars(first, first + 4, code, 16);
    if (ec != std::errc() || ptr != first + 4 || code >= 0x80) return std::nullopt;
    i += 4;
    return static_cast<char>(code);
  }
  static constexpr std::string_view kEscaped = "\"\\/bfnrt";
  static constexpr std::string_view kMeaning = "\"\\/\b\f\n\r\t";
  const auto at = kEscaped.find(e);
  if (at == std::string_view::npos) return std::nullopt;
  return kMeaning[at];
}

bool body_starts_with(std::string_view body, std::string_view prefix) {
  std::size_t i = 0;
  for (const char want : prefix) {
    if (i == body.size() || next_char(body, i) != want) return false;
  }
  return true;
}

template <typename Json>
Json parse_bounded(std::string_view text, const std::string& display) {
  if (nests_deeper_than(text, kMaxJsonDepth)) {
    throw JsonError(display, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw JsonError(display, std::string("malformed JSON: ") + e.what());
  }
}

}  // namespace

JsonError::JsonError(const std::string& display, const std::string& cause)
    : Error(op_error("parse", display, cause)), cause_(cause) {}

nlohmann::json parse_json(std::string_view text, const std::string& display) {
  return parse_bounded<nlohmann::json>(text, display);
}

nlohmann::ordered_json parse_ordered_json(std::string_view text, const std::string& display) {
  return parse_bounded<nlohmann::ordered_json>(text, display);
}

std::string read_json_text(int fd, std::size_t max_bytes, const std::string& what,
                           const std::string& display) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw sys_error("read", display, errno);
    }
    if (n == 0) return out;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      throw usage_error("read " + quote(display) + ": " + what + " is larger than " +
                        std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

bool has_string_with_prefix(std::string_view text, std::string_view prefix) {
  bool found = false;
  scan(
      text, [](char) { return true; },
      [&](std::string_view body) {
        found = body_starts_with(body, prefix);
        return !found;
      });
  return found;
}

}  // namespace kcm
