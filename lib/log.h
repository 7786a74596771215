// Logging for every program: spdlog to stderr as "<program>: <level>: <message>", at the
// level of $KCM_LOG_LEVEL (Settings::log_level: trace, debug, info, warn, error, off;
// default warn), and for
// kcm-hook also to syslog, because crun discards a hook's output. The syslog connection
// is made here, so that syslog() needs no new socket afterwards (the hook's seccomp
// filter denies them). kcm-runtime also appends to a log file (add_log_file), because
// engines often swallow a runtime's stderr.
//
// These set spdlog's default logger: call them from main, before any other thread runs.
#pragma once

#include <string>
#include <string_view>

namespace kcm {

// Call once at the start of main with Settings::log_level ("" is warn). Throws a usage
// Error for an unknown level.
void init_logging(const std::string& program, const std::string& level,
                  bool also_syslog = false);

// As init_logging without syslog, for a program that must go on whatever its environment
// says (kcm-runtime is never the reason a container fails): an unknown level leaves
// stderr at the default, warn, and is logged as a warning. Never throws.
void init_logging_or_default(const std::string& program, const std::string& level);

// Appends every line also to `path` (created 0640 when absent) as
// "<time> <program>[<pid>]: <level>: <message>", at info at least whatever the level:
// the file is the operator's only trace of what was done. The file's descriptor is
// close-on-exec, so that the program exec'd next, and whatever it runs, do not inherit
// it. A file that cannot be opened is logged as a warning and done without.
void add_log_file(const std::string& program, const std::string& path);

// The error that ends a main: `<program>: <message>` on stderr, whatever the level, and
// an error line in the file add_log_file opened, if any.
void report_error(const std::string& program, std::string_view message);

}  // namespace kcm
