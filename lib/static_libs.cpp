// The compiled parts of fmt and spdlog, for the programs linked statically: kcm-hook
// always, kcm and kcm-runtime with -Dstatic=true (lib/meson.build).
// The distribution ships both as shared libraries only; loading them, and the C++ runtime
// they pull in, was most of an unannotated hook's run and of its peak RSS, and a program
// that needs them cannot run in a container that lacks them.
// This file compiles the libraries' own inline definitions once, as their shared builds
// do, with the same configuration as the headers the rest of each program sees
// (SPDLOG_COMPILED_LIB, SPDLOG_FMT_EXTERNAL).
#include <fmt/format.h>
// After format.h, which defines FMT_FUNC for a compiled (not header-only) library.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
template FMT_API locale_ref::locale_ref(const std::locale& loc);
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API void buffer<char>::append(const char*, const char*);
template FMT_API void vformat_to(buffer<char>&, string_view,
                                 basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);

}  // namespace detail
FMT_END_NAMESPACE

// spdlog's registry would otherwise build a default logger (a colour stdout sink, which
// asks whether stdout is a terminal) that init_logging replaces before anything is logged:
// no program logs before its main calls init_logging (lib/log.h), so each starts with none.
#define SPDLOG_DISABLE_DEFAULT_LOGGER
#include <spdlog/common-inl.h>
#include <spdlog/details/backtracer-inl.h>
#include <spdlog/details/log_msg-inl.h>
#include <spdlog/details/log_msg_buffer-inl.h>
#include <spdlog/details/os-inl.h>
#include <spdlog/details/periodic_worker-inl.h>
#include <spdlog/details/registry-inl.h>
#include <spdlog/logger-inl.h>
#include <spdlog/pattern_formatter-inl.h>
#include <spdlog/sinks/base_sink-inl.h>
#include <spdlog/sinks/sink-inl.h>
#include <spdlog/sinks/stdout_sinks-inl.h>
#include <spdlog/spdlog-inl.h>

#include <mutex>

template class SPDLOG_API spdlog::sinks::base_sink<std::mutex>;
template class SPDLOG_API spdlog::sinks::base_sink<spdlog::details::null_mutex>;
template class SPDLOG_API spdlog::sinks::stdout_sink_base<spdlog::details::console_nullmutex>;
template class SPDLOG_API spdlog::sinks::stderr_sink<spdlog::details::console_nullmutex>;
