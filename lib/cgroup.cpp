#include "cgroup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

#include "error.h"
#include "fs.h"

namespace kcm {
namespace {

struct Mount {
  std::string root;
  std::string mount_point;
  std::string fs_type;
  std::string super_options;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? at : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto octal = [&](std::size_t j) { return j < s.size() && s[j] >= '0' && s[j] <= '7'; };
    if (s[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out +=
          static_cast<char>(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<Mount> parse_mountinfo(const std::string& text, const std::string& display) {
  std::vector<Mount> mounts;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::istringstream words(line);
    for (std::string w; words >> w;) f.push_back(w);
    // id parent major:minor root mount-point options [optional...] - fstype source super
    std::size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 5 || dash + 2 >= f.size()) {
      throw op_error("parse", display, "malformed line " + quote(line));
    }
    mounts.push_back({unescape(f[3]), unescape(f[4]), f[dash + 1],
                      dash + 3 < f.size() ? f[dash + 3] : std::string()});
  }
  return mounts;
}

bool has_word(const std::string& list, const std::string& word) {
  for (const std::string& w : split(list, ',')) {
    if (w == word) return true;
  }
  return false;
}

// The directory of cgroup `path` through a mount of its hierarchy whose root contains
// it, or "" when no mount does.
std::string reachable_dir(const std::vector<Mount>& mounts, const std::string& path, bool v2) {
  for (const Mount& m : mounts) {
    const bool wanted =
        v2 ? m.fs_type == "cgroup2" : m.fs_type == "cgroup" && has_word(m.super_options, "cpuset");
    if (!wanted) continue;
    if (m.root == "/") return m.mount_point == "/" ? path : m.mount_point + path;
    if (path == m.root) return m.mount_point;
    if (path.size() > m.root.size() && path.compare(0, m.root.size(), m.root) == 0 &&
        path[m.root.size()] == '/') {
      return m.mount_point + path.substr(m.root.size());
    }
  }
  return {};
}

}  // namespace

std::optional<CpusetCgroup> find_cpuset_cgroup(const std::string& proc_cgroup,
                                               const std::string& mountinfo,
                                               const std::string& display,
                                               const std::string& mountinfo_display) {
  std::optional<std::string> v1_path, v2_path;
  std::istringstream lines(proc_cgroup);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    std::size_t first = line.find(':');
    std::size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos || line[second + 1] != '/') {
      throw op_error("parse", display, "malformed line " + quote(line));
    }
    const std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    // A cgroup removed while the process is in it reads as "<path> (deleted)".
    if (const std::string deleted = " (deleted)"; path.ends_with(deleted)) {
      path.resize(path.size() - deleted.size());
    }
    if (line.compare(0, first, "0") == 0 && controllers.empty()) {
      v2_path = path;
    } else if (has_word(controllers, "cpuset")) {
      v1_path = path;
    }
  }
  if (!v1_path && !v2_path) throw op_error("find cpuset cgroup in", display, "no cgroup listed");
  const bool v2 = !v1_path;
  const std::string& path = v2 ? *v2_path : *v1_path;
  if (path == "/") return std::nullopt;

  std::string dir = reachable_dir(
      parse_mountinfo(mountinfo, mountinfo_display.empty() ? display : mountinfo_display), path,
      v2);
  if (dir.empty()) {
    throw op_error(
        "find cpuset cgroup in", display,
        std::string("no ") + (v2 ? "cgroup2" : "cgroup v1 cpuset") + " mount holds " + quote(path));
  }
  return CpusetCgroup{dir, v2};
}

std::optional<CpusetCgroup> cpuset_cgroup_of(const Procfs& procfs, pid_t pid,
                                             const std::string& mountinfo_path) {
  const std::string cgroup_path = procfs.path(pid, "cgroup");
  std::optional<std::string> cgroup = if_found([&] { return read_file(cgroup_path); });
  if (!cgroup) throw op_error("read", cgroup_path, "no such process");
  return find_cpuset_cgroup(*cgroup, read_file(mountinfo_path), cgroup_path, mountinfo_path);
}

CpuSet read_cpuset_cpus(const CpusetCgroup& cgroup) {
  const std::string path = join_path(cgroup.dir, "cpuset.cpus");
  try {
    return CpuSet::parse(read_file(path));
  } catch (const Error& e) {
    throw with_context("read " + quote(path), e);
  }
}

namespace {

// Writes `values` to the cgroup's `file` and checks what the kernel made of it in `check`.
void write_checked(const CpusetCgroup& cgroup, const std::string& file,
                   const std::string& check_file, const CpuSet& values) {
  const std::string path = join_path(cgroup.dir, file);
  const std::string text = values.to_string();
  {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
      if (errno == ENOENT && cgroup.v2) {
        throw op_error("write", path, "the cpuset controller is not enabled for this cgroup");
      }
      throw sys_error("open", path, errno);
    }
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      throw op_error("write " + text + " to", path, std::strerror(errno));
    }
  }
  const std::string check = join_path(cgroup.dir, check_file);
  CpuSet got = CpuSet::parse(read_file(check));
  if (got != values) {
    throw op_error("verify", check, "reads " + got.to_string() + " after writing " + text);
  }
}

}  // namespace

void write_cpuset(const CpusetCgroup& cgroup, const CpuSet& cpus) {
  write_checked(cgroup, "cpuset.cpus", cgroup.v2 ? "cpuset.cpus.effective" : "cpuset.cpus", cpus);
}

void write_cpuset_mems(const CpusetCgroup& cgroup, const CpuSet& nodes) {
  write_checked(cgroup, "cpuset.mems", cgroup.v2 ? "cpuset.mems.effective" : "cpuset.mems", nodes);
}

}  // namespace kcm
