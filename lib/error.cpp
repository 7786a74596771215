#include "error.h"

#include <cstring>

namespace kcm {

std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

Error sys_error(std::string_view op, std::string_view object, int err) {
  return op_error(op, object, std::strerror(err));
}

Error op_error(std::string_view op, std::string_view object, std::string_view cause) {
  std::string msg(op);
  msg += ' ';
  msg += quote(object);
  msg += ": ";
  msg += cause;
  return Error(msg);
}

Error usage_error(const std::string& message) { return Error(message, kExitUsage); }

Error with_context(std::string_view context, const Error& e) {
  std::string msg(context);
  msg += ": ";
  msg += e.what();
  return Error(msg, e.exit_code());
}

}  // namespace kcm
