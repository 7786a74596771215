// The one error convention of kcm (docs/design.md "Errors and exit codes").
//
// An Error's message names the operation, the object and the cause, e.g.
//   open "/etc/kcm/pools/dataplane/4,12/tasks": Permission denied
// Callers add context on the way up with with_context(); each main prints the final
// message once, prefixed with the program name. Errors are thrown as exceptions; code
// that calls nlohmann or CLI11 catches theirs at the call and converts them.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace kcm {

// Process exit codes shared by every program.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // operational failure
inline constexpr int kExitUsage = 2;    // bad arguments or bad input from the user

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int exit_code = kExitFailure)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// `<op> "<object>": <strerror(err)>`.
Error sys_error(std::string_view op, std::string_view object, int err);

// `<op> "<object>": <cause>`.
Error op_error(std::string_view op, std::string_view object, std::string_view cause);

// An error the user caused with arguments or input: exit code 2.
Error usage_error(const std::string& message);

// `<context>: <e.what()>`, keeping e's exit code.
Error with_context(std::string_view context, const Error& e);

// Quotes a string for an error message the way the convention does: "value".
std::string quote(std::string_view s);

}  // namespace kcm
