#include "error.h"

#include <cerrno>
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

namespace {

std::string op_message(std::string_view op, std::string_view object, std::string_view cause) {
  std::string msg(op);
  msg += ' ';
  msg += quote(object);
  msg += ": ";
  msg += cause;
  return msg;
}

}  // namespace

Error sys_error(std::string_view op, std::string_view object, int err) {
  const bool absent = err == ENOENT || err == ENOTDIR || err == ESRCH;
  return Error(op_message(op, object, std::strerror(err)),
               absent ? ErrorKind::kNotFound : ErrorKind::kOther, err);
}

Error op_error(std::string_view op, std::string_view object, std::string_view cause,
               ErrorKind kind) {
  return Error(op_message(op, object, cause), kind);
}

Error usage_error(const std::string& message) { return Error(message, ErrorKind::kUsage); }

Error with_context(std::string_view context, const Error& e) {
  std::string msg(context);
  msg += ": ";
  msg += e.what();
  return Error(msg, e.kind(), e.sys_errno());
}

}  // namespace kcm
