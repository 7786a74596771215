// Helpers the unit tests share: scratch directories, whole-file I/O, directory snapshots,
// thrown errors, environment overrides, config directories, child processes, a fake
// procfs and fixture names. Test-only code.
#pragma once

#include <gtest/gtest.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "config_dir.h"
#include "error.h"

namespace kcm::testing_support {

namespace fs = std::filesystem;

// A directory under the test temp dir, removed (without following symlinks) at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::path(::testing::TempDir()) / "kcm-unit-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& relative) const { return path_ + "/" + relative; }

 private:
  std::string path_;
};

// Writes `content` to `path`, creating parent directories.
// A thread's affinity as the kernel reports it (CPUs below CPU_SETSIZE); 0 is the caller.
inline CpuSet affinity_of(pid_t tid) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(tid, sizeof set, &set) != 0) {
    throw std::runtime_error("sched_getaffinity of " + std::to_string(tid) + " failed");
  }
  CpuSet out;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) out.add(CpuSet{cpu});
  }
  return out;
}

inline void write_file(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << content;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The names in `dir`, sorted.
inline std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// Every entry under `root` (relative path -> type, mode and content or link target), to
// compare a directory before and after an operation that must not change it.
inline std::map<std::string, std::string> snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const std::string rel = fs::relative(entry.path(), root).string();
    struct stat st;
    if (::lstat(entry.path().c_str(), &st) != 0) throw std::runtime_error("lstat " + rel);
    const std::string mode = std::to_string(st.st_mode & 07777);
    if (S_ISLNK(st.st_mode)) {
      out[rel] = "link " + fs::read_symlink(entry.path()).string();
    } else if (S_ISDIR(st.st_mode)) {
      out[rel] = "dir " + mode;
    } else {
      out[rel] = "file " + mode + " " + read_text(entry.path());
    }
  }
  return out;
}

// The message and exit code of the kcm::Error `f` throws; "(no error)" when it returns.
struct Thrown {
  std::string message;
  int exit_code = -1;
};
template <typename F>
Thrown thrown_by(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.what(), e.exit_code()};
  }
  return {"(no error)", -1};
}

// The message of the usage Error `f` throws, or "" when it throws none; any other exit
// code fails the test.
template <typename F>
std::string usage_error_by(F&& f) {
  const Thrown t = thrown_by(std::forward<F>(f));
  if (t.exit_code == -1) return "";
  EXPECT_EQ(t.exit_code, kExitUsage);
  return t.message;
}

// Sets (or with nullopt unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// The config directory of the CLI document's `kcm describe` example, built by hand:
// infra 0-2,8-10 (3000-3002), controlplane 3,11 (1000-1003), dataplane 4,12..7,15
// (2000..2003, one task each).
inline void make_example_conf(const std::string& conf) {
  write_file(conf + "/pools/infra/exclusive", "0");
  write_file(conf + "/pools/infra/0-2,8-10/tasks", "3000,3001,3002");
  write_file(conf + "/pools/controlplane/exclusive", "0");
  write_file(conf + "/pools/controlplane/3,11/tasks", "1000,1001,1002,1003");
  write_file(conf + "/pools/dataplane/exclusive", "1");
  for (int core = 4; core < 8; ++core) {
    write_file(conf + "/pools/dataplane/" + std::to_string(core) + "," + std::to_string(core + 8) +
                   "/tasks",
               std::to_string(2000 + core - 4));
  }
}

// The permission bits and the link count of `path` itself (never followed).
inline mode_t mode_of(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

inline nlink_t links_of(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_nlink;
}

// A test over a config directory at `conf` in a scratch directory; nothing is created.
class ConfDirTest : public ::testing::Test {
 protected:
  std::string path(const std::string& relative) const { return conf + "/" + relative; }

  TempDir tmp;
  const std::string conf = tmp / "conf";
};

// The names of a pool's CPU lists, in the pool's order.
inline std::vector<std::string> list_names(const Pool& pool) {
  std::vector<std::string> names;
  for (const auto& [name, list] : pool.lists) names.push_back(name);
  return names;
}

// Runs `body` in a forked child that leaves with _exit(body()) (no destructors, no gtest
// teardown: the child shares the parent's lock descriptions) and returns its exit status,
// or 128+signal when it was killed.
inline int run_in_child(const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (...) {
      code = 98;
    }
    ::_exit(code);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs `body` in a child process in which any call that waits for the disk kills the
// process: fsync, fdatasync, sync, syncfs, sync_file_range, and a rename that may replace
// a file (rename, renameat, renameat2 without flags), which on ext4 starts writeback of
// the file renamed (lib/fs.cpp). Returns the child's exit code as run_in_child does,
// 128 + SIGSYS when `body` tried to wait for the disk.
inline int run_without_disk_waits(const std::function<int()>& body) {
  return run_in_child([&] {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == nullptr) return 97;
    for (int call : {SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(sync), SCMP_SYS(syncfs),
                     SCMP_SYS(sync_file_range), SCMP_SYS(rename), SCMP_SYS(renameat)}) {
      if (seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, call, 0) != 0) return 97;
    }
    // renameat2's flags (argument 4) zero: a plain rename. Spelled out, as SCMP_A4's
    // compound literal is not C++.
    const scmp_arg_cmp no_flags{4, SCMP_CMP_EQ, 0, 0};
    if (seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(renameat2), 1, no_flags) != 0) {
      return 97;
    }
    if (seccomp_load(ctx) != 0) return 97;
    seccomp_release(ctx);
    return body();
  });
}

// A /proc/<pid>/stat line with `comm`, `state` and field 22 = `start_time`.
inline std::string stat_line(pid_t pid, const std::string& comm, char state,
                             std::uint64_t start_time) {
  // Fields 4..21: ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
  // stime cutime cstime priority nice num_threads itrealvalue; then 22 starttime, 23 vsize...
  return std::to_string(pid) + " (" + comm + ") " + state +
         " 1 100 100 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 " + std::to_string(start_time) +
         " 2220032 180 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
}

// A procfs tree in a temp dir: <root>/<pid>/stat, <root>/<pid>/status, <root>/self/stat.
class FakeProcfs {
 public:
  const std::string& root() const { return dir_.path(); }

  void add_process(pid_t pid, std::uint64_t start_time, const std::string& cpus_allowed,
                   char state = 'S', const std::string& comm = "sleep") const {
    const std::string base = dir_ / std::to_string(pid);
    write_file(base + "/stat", stat_line(pid, comm, state, start_time));
    write_file(base + "/status", "Name:\t" + comm + "\nState:\t" + state + " (sleeping)\nPid:\t" +
                                     std::to_string(pid) +
                                     "\nCpus_allowed:\tffff\nCpus_allowed_list:\t" + cpus_allowed +
                                     "\nMems_allowed_list:\t0\n");
  }

  void set_self(pid_t pid) const {
    write_file(dir_ / "self/stat", stat_line(pid, "kcm", 'R', 4242));
  }

 private:
  TempDir dir_;
};

// A parameterized test's name for a fixture directory name: every character that is not
// a letter or digit becomes '_'.
inline std::string fixture_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

}  // namespace kcm::testing_support
