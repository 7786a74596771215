#include "procfs.h"

#include <dirent.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <charconv>
#include <sstream>

#include "error.h"
#include "fs.h"

namespace kcm {
namespace {

template <typename T>
bool parse_number(std::string_view s, T& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

ProcStat parse_proc_stat(const std::string& text, const std::string& display) {
  ProcStat st;
  std::size_t open = text.find(" (");
  std::size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    throw op_error("parse", display, "no command name in parentheses");
  }
  if (!parse_number(std::string_view(text).substr(0, open), st.pid) || st.pid <= 0) {
    throw op_error("parse", display, "first field is not a PID");
  }
  // Fields after the command: 3 state, 4 ppid, ... 22 starttime.
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  int index = 2;
  while (rest >> field) {
    ++index;
    if (index == 3) {
      st.state = field.empty() ? '?' : field[0];
    } else if (index == 22) {
      if (!parse_number(std::string_view(field), st.start_time)) {
        throw op_error("parse", display, "field 22 (starttime) is not a number");
      }
      return st;
    }
  }
  throw op_error("parse", display, "fewer than 22 fields");
}

std::string Procfs::path(pid_t pid, const std::string& file) const {
  std::string p = root_;
  // Not `"/" + std::to_string(pid)`: GCC 12 at -O3 warns -Wrestrict on that
  // operator+ (a false positive, GCC bug 105329), which fails a -Werror release build.
  p += '/';
  p += pid == 0 ? std::string("self") : std::to_string(pid);
  if (!file.empty()) {
    p += '/';
    p += file;
  }
  return p;
}

pid_t Procfs::self_pid() const {
  const std::string p = path(0, "stat");
  return parse_proc_stat(read_file(p), p).pid;
}

std::optional<std::uint64_t> Procfs::start_time(pid_t pid) const {
  if (pid <= 0) return std::nullopt;
  const std::string p = path(pid, "stat");
  auto text = if_found([&] { return read_file(p); });
  if (!text) return std::nullopt;
  ProcStat st = parse_proc_stat(*text, p);
  if (st.state == 'Z' || st.state == 'X') return std::nullopt;
  return st.start_time;
}

bool Procfs::on_procfs() const {
  int kind = kind_.load(std::memory_order_relaxed);
  if (kind == kNotAsked) {
    struct statfs fs;
    kind = ::statfs(root_.c_str(), &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC ? kProc : kOther;
    kind_.store(kind, std::memory_order_relaxed);
  }
  return kind == kProc;
}

Procfs::Status Procfs::status(pid_t pid) const {
  if (pid <= 0) return {};
  const std::string p = path(pid, "stat");
  std::optional<std::string> text;
  ProcStat st;
  try {
    text = if_found([&] { return read_file(p); });
    if (text) st = parse_proc_stat(*text, p);
  } catch (const Error&) {
    return {Liveness::kUnknown, 0};  // a stat it cannot read or parse: something is there
  }
  if (text) {
    if (st.state == 'Z' || st.state == 'X') return {};
    return {Liveness::kAlive, st.start_time};
  }
  // No stat. A procfs has one in every <pid> directory: the process is gone, and the
  // failed open said so. Elsewhere, a directory still there is a process this tree does
  // not show in full.
  if (on_procfs()) return {};
  struct stat dir;
  return ::stat(path(pid, "").c_str(), &dir) == 0 ? Status{Liveness::kUnknown, 0} : Status{};
}

bool holder_gone(const Procfs::Status& status, std::uint64_t recorded_start) {
  return status.liveness == Procfs::Liveness::kGone ||
         (status.liveness == Procfs::Liveness::kAlive && status.start_time != recorded_start);
}

std::optional<CpuSet> Procfs::cpus_allowed(pid_t pid) const {
  const std::string p = path(pid, "status");
  auto text = if_found([&] { return read_file(p); });
  if (!text) return std::nullopt;
  static constexpr std::string_view kKey = "Cpus_allowed_list:";
  std::size_t at = text->find(kKey);
  if (at == std::string::npos) throw op_error("parse", p, "no Cpus_allowed_list line");
  std::size_t start = at + kKey.size();
  std::size_t end = text->find('\n', start);
  try {
    return CpuSet::parse(text->substr(start, end == std::string::npos ? end : end - start));
  } catch (const Error& e) {
    throw with_context("parse " + quote(p), e);
  }
}

std::vector<pid_t> Procfs::threads(pid_t pid) const {
  std::vector<pid_t> out;
  const std::string p = path(pid, "task");
  DIR* dir = ::opendir(p.c_str());
  if (dir == nullptr) return out;
  while (struct dirent* ent = ::readdir(dir)) {
    pid_t tid = 0;
    if (parse_number(std::string_view(ent->d_name), tid) && tid > 0) out.push_back(tid);
  }
  ::closedir(dir);
  return out;
}

}  // namespace kcm
