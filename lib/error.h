// The one error convention of kcm (docs/design.md "Errors and exit codes").
//
// An Error's message names the operation, the object and the cause, e.g.
//   open "/etc/kcm/pools/dataplane/4,12/tasks": Permission denied
// Callers add context on the way up with with_context(); each main prints the final
// message once, prefixed with the program name. Errors are thrown as exceptions; code
// that calls nlohmann or CLI11 catches theirs at the call and converts them.
//
// An Error also says what went wrong, as a small kind, so that callers branch on the kind
// (`e.is_not_found()`) rather than on its text or its exit code: not found (the object
// does not exist: ENOENT, ENOTDIR, ESRCH, or an absent pool), usage (the user's argument
// or input is wrong: exit code 2), or other. An Error made from a system call keeps its
// errno.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace kcm {

// Process exit codes shared by every program.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // operational failure
inline constexpr int kExitUsage = 2;    // bad arguments or bad input from the user

enum class ErrorKind {
  kOther,     // exit code 1
  kNotFound,  // exit code 1
  kUsage,     // exit code 2
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ErrorKind kind = ErrorKind::kOther,
                 int sys_errno = 0)
      : std::runtime_error(message), kind_(kind), errno_(sys_errno) {}

  ErrorKind kind() const { return kind_; }
  bool is_not_found() const { return kind_ == ErrorKind::kNotFound; }
  bool is_usage() const { return kind_ == ErrorKind::kUsage; }
  // The errno of the failed system call, 0 when the error did not come from one.
  int sys_errno() const { return errno_; }
  int exit_code() const { return kind_ == ErrorKind::kUsage ? kExitUsage : kExitFailure; }

 private:
  ErrorKind kind_;
  int errno_;
};

// `<op> "<object>": <strerror(err)>`, of kind not-found for ENOENT, ENOTDIR and ESRCH.
Error sys_error(std::string_view op, std::string_view object, int err);

// `<op> "<object>": <cause>`.
Error op_error(std::string_view op, std::string_view object, std::string_view cause,
               ErrorKind kind = ErrorKind::kOther);

// An error the user caused with arguments or input: exit code 2.
Error usage_error(const std::string& message);

// `<context>: <e.what()>`, keeping e's kind and errno.
Error with_context(std::string_view context, const Error& e);

// Quotes a string for an error message the way the convention does: "value".
std::string quote(std::string_view s);

// Runs `f` and returns what it returns, or nullopt when it throws a not-found Error; any
// other error propagates. For reads of what may legitimately be absent:
//   if (auto text = if_found([&] { return read_file(path); })) ...
template <typename F>
auto if_found(F&& f) -> std::optional<std::invoke_result_t<F>> {
  try {
    return f();
  } catch (const Error& e) {
    if (!e.is_not_found()) throw;
    return std::nullopt;
  }
}

}  // namespace kcm
