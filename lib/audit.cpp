#include "audit.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "error.h"
#include "fs.h"
#include "json.h"

namespace kcm {
namespace {

template <typename T>
bool parse_number(std::string_view s, T& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// The numeric entries of a directory, sorted; empty when it cannot be opened.
std::vector<long> numeric_entries(const std::string& path) {
  std::vector<long> out;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return out;
  while (struct dirent* ent = ::readdir(dir)) {
    long n = 0;
    if (parse_number(std::string_view(ent->d_name), n) && n >= 0) out.push_back(n);
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end());
  return out;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// One process, or nullopt when it vanished (or is a zombie) during the scan.
std::optional<ProcessInfo> read_process(const Procfs& procfs, pid_t pid) {
  ProcessInfo p;
  p.pid = pid;
  const std::string stat_path = procfs.path(pid, "stat");
  auto stat = if_found([&] { return read_file(stat_path); });
  if (!stat) return std::nullopt;
  StatFields f = parse_stat_fields(*stat, stat_path);
  if (f.state == 'Z' || f.state == 'X') return std::nullopt;
  p.comm = f.comm;
  p.kernel_thread = (f.flags & kPfKthread) != 0;
  if (p.kernel_thread) return p;
  if (auto cgroup = if_found([&] { return read_file(procfs.path(pid, "cgroup")); })) {
    p.cgroup = cpuset_cgroup_path(*cgroup);
  }
  std::vector<pid_t> tids = procfs.threads(pid);
  const bool no_task_dir = tids.empty();
  if (no_task_dir) tids.push_back(pid);  // a tree without task/: the process's own mask
  std::sort(tids.begin(), tids.end());
  for (pid_t tid : tids) {
    const std::string status_path =
        no_task_dir ? procfs.path(pid, "status")
                    : procfs.path(pid, "task/" + std::to_string(tid) + "/status");
    auto status = if_found([&] { return read_file(status_path); });
    if (!status) continue;  // the thread ended
    p.threads.push_back({tid, parse_cpus_allowed(*status, status_path)});
  }
  if (p.threads.empty()) return std::nullopt;
  return p;
}

// `text` with every byte that does not belong to a valid UTF-8 sequence written as \xNN.
// A process names itself (its command) and its cgroups with any bytes, and the report
// is JSON, whose writer refuses a string that is not UTF-8: one such name would
// otherwise fail the whole report.
std::string valid_utf8(std::string_view text) {
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};  // no overlong forms
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t len = lead < 0x80           ? 1
                            : (lead >> 5) == 0x6  ? 2
                            : (lead >> 4) == 0xe  ? 3
                            : (lead >> 3) == 0x1e ? 4
                                                  : 0;
    bool ok = len != 0 && i + len <= text.size();
    std::uint32_t code = lead & (0x7fu >> len);
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      ok = (next & 0xc0) == 0x80;
      code = (code << 6) | (next & 0x3f);
    }
    if (ok && len > 1) {
      ok = code >= kMin[len] && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff);
    }
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
      continue;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\x";
    out += kHex[lead >> 4];
    out += kHex[lead & 0xf];
    ++i;
  }
  return out;
}

// What fixes a static kubelet: only kcm then writes the cpusets of kcm's holders.
constexpr std::string_view kKubeletHint = "use --cpu-manager-policy=none";

// "pool:list" as the other node-report checks name a list.
std::string list_label(const Pool& pool, const CpuList& list) {
  return pool.name.str() + ":" + list.name.str();
}

// The CPUs of every list of the exclusive pools.
CpuSet exclusive_cpus(const Config& config) {
  CpuSet out;
  for (const auto& [name, pool] : config.pools) {
    if (!pool.exclusive) continue;
    for (const auto& [list_name, list] : pool.lists) out.add(list.cpus);
  }
  return out;
}

// The exclusive lists that `cpus` touches, as "pool:list, pool:list".
std::string exclusive_lists_touched(const Config& config, const CpuSet& cpus) {
  std::string out;
  for (const auto& [name, pool] : config.pools) {
    if (!pool.exclusive) continue;
    for (const auto& [list_name, list] : pool.lists) {
      if (!list.cpus.intersects(cpus)) continue;
      if (!out.empty()) out += ", ";
      out += list_label(pool, list);
    }
  }
  return out;
}

std::string join_pids(const std::vector<pid_t>& pids) {
  std::string out;
  for (pid_t pid : pids) {
    if (!out.empty()) out += ", ";
    out += std::to_string(pid);
  }
  return out;
}

// Whether `cgroup` is `holder` or beneath it. The root cgroup holds everyone: it proves
// nothing.
bool within_cgroup(const std::string& cgroup, const std::string& holder) {
  if (holder.empty() || holder == "/" || cgroup.empty()) return false;
  return cgroup == holder ||
         (cgroup.size() > holder.size() && cgroup.compare(0, holder.size(), holder) == 0 &&
          cgroup[holder.size()] == '/');
}

// Whether /proc/irq/<n> has a handler: the kernel adds a directory per action.
bool has_handler(const std::string& irq_dir) {
  try {
    UniqueFd fd = open_dir(irq_dir);
    for (const DirEntry& ent : list_dir(fd.get(), irq_dir)) {
      if (ent.type == EntryType::kDirectory) return true;
    }
  } catch (const Error&) {
    return false;
  }
  return false;
}

// Keeps the first kAuditErrorLimit errors and says how many more there were: the report
// is published as one object (etcd takes about 1.5 MiB) and logged each round. The
// metrics count them all (AuditCheck::violations).
void cap_errors(std::vector<std::string>& errors) {
  if (errors.size() <= kAuditErrorLimit) return;
  const std::size_t more = errors.size() - kAuditErrorLimit;
  errors.resize(kAuditErrorLimit);
  errors.push_back("... and " + std::to_string(more) + " more");
}

// The CPUs of the held exclusive lists whose holders run in `unit` (a cgroup v2 path) or
// beneath it, as a Docker container under system.slice does: on v2 a child's effective
// cpuset is within its parent's, so the unit must keep them. Throws Error when a holder
// could not be read (whether it is inside is unknown).
CpuSet held_within(const Config& config, const std::vector<ProcessInfo>& processes,
                   const std::string& unit) {
  std::map<pid_t, const ProcessInfo*> by_pid;
  for (const ProcessInfo& p : processes) by_pid[p.pid] = &p;
  CpuSet out;
  for (const auto& [name, pool] : config.pools) {
    if (!pool.exclusive) continue;
    for (const auto& [list_name, list] : pool.lists) {
      for (pid_t holder : list.tasks) {
        auto it = by_pid.find(holder);
        if (it == by_pid.end()) continue;
        if (!it->second->unreadable.empty()) {
          throw op_error("audit", "hostSlices",
                         "holder " + std::to_string(holder) + " of " + list_label(pool, list) +
                             " could not be read: " + it->second->unreadable);
        }
        if (within_cgroup(it->second->cgroup, unit)) out.add(list.cpus);
      }
    }
  }
  return out;
}

}  // namespace

StatFields parse_stat_fields(const std::string& text, const std::string& display) {
  std::size_t open = text.find('(');
  std::size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    throw op_error("parse", display, "no command name in parentheses");
  }
  StatFields f;
  f.comm = text.substr(open + 1, close - open - 1);
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  for (int index = 3; rest >> field; ++index) {
    if (index == 3) f.state = field.empty() ? '?' : field[0];
    if (index == 9) {
      if (!parse_number(std::string_view(field), f.flags)) {
        throw op_error("parse", display, "field 9 (flags) is not a number");
      }
      return f;
    }
  }
  throw op_error("parse", display, "fewer than 9 fields");
}

CpuSet parse_cpus_allowed(const std::string& text, const std::string& display) {
  static constexpr std::string_view kKey = "Cpus_allowed_list:";
  // The key starts a line: the Name line before it holds the command, which the process
  // chooses.
  std::size_t at = text.starts_with(kKey) ? 0 : text.find("\nCpus_allowed_list:");
  if (at == std::string::npos) throw op_error("parse", display, "no Cpus_allowed_list line");
  if (at != 0) ++at;
  std::size_t start = at + kKey.size();
  std::size_t end = text.find('\n', start);
  try {
    return CpuSet::parse(text.substr(start, end == std::string::npos ? end : end - start));
  } catch (const Error& e) {
    throw with_context("parse " + quote(display), e);
  }
}

CpuSet parse_cpu_list_file(const std::string& text, const std::string& display) {
  try {
    return CpuSet::parse(text.substr(0, text.find('\n')));
  } catch (const Error& e) {
    throw with_context("parse " + quote(display), e);
  }
}

std::map<long, std::string> parse_interrupts(const std::string& text) {
  std::map<long, std::string> out;
  std::istringstream lines(text);
  std::string line;
  std::size_t cpus = 0;
  if (std::getline(lines, line)) {
    std::istringstream header(line);
    std::string word;
    while (header >> word) ++cpus;
  }
  while (std::getline(lines, line)) {
    std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string label = line.substr(0, colon);
    label.erase(0, label.find_first_not_of(' '));
    long irq = 0;
    if (!parse_number(std::string_view(label), irq)) continue;
    std::istringstream rest(line.substr(colon + 1));
    std::string word;
    std::string name;
    for (std::size_t i = 0; rest >> word;) {
      if (i < cpus &&
          std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        ++i;
        continue;
      }
      i = cpus;
      if (!name.empty()) name += ' ';
      name += word;
    }
    out[irq] = name;
  }
  return out;
}

std::string cpuset_cgroup_path(const std::string& proc_cgroup) {
  std::istringstream lines(proc_cgroup);
  std::string line;
  std::string v2;
  while (std::getline(lines, line)) {
    std::size_t first = line.find(':');
    std::size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    std::string id = line.substr(0, first);
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (id == "0" && controllers.empty()) {
      v2 = path;
      continue;
    }
    std::istringstream names(controllers);
    std::string name;
    while (std::getline(names, name, ',')) {
      if (name == "cpuset") return path;
    }
  }
  return v2;
}

namespace {

// The leading "/.." components of a cgroup path: what a private cgroup namespace (a pod's,
// on cgroup v2) puts before the path of a cgroup outside it.
std::string up_prefix(const std::string& path) {
  std::size_t end = 0;
  while (path.compare(end, 3, "/..") == 0 && (end + 3 == path.size() || path[end + 3] == '/')) {
    end += 3;
  }
  return path.substr(0, end);
}

// Shown from a private cgroup namespace, every cgroup outside it reads as
// /../../<path>; init is at the host's top (/ or /init.scope), so the "/.." of its path
// are the namespace's depth: stripped, those paths are the host's. Cgroups that share an
// ancestor with the namespace's root keep fewer "/.." (docs/audit.md).
void strip_namespace_prefix(std::vector<ProcessInfo>& processes) {
  auto init = std::find_if(processes.begin(), processes.end(),
                           [](const ProcessInfo& p) { return p.pid == 1; });
  if (init == processes.end()) return;
  const std::string prefix = up_prefix(init->cgroup);
  if (prefix.empty()) return;
  for (ProcessInfo& p : processes) {
    if (p.cgroup == prefix) {
      p.cgroup = "/";
    } else if (p.cgroup.size() > prefix.size() && p.cgroup.compare(0, prefix.size(), prefix) == 0 &&
               p.cgroup[prefix.size()] == '/') {
      p.cgroup.erase(0, prefix.size());
    }
  }
}

}  // namespace

std::vector<ProcessInfo> scan_processes(const Procfs& procfs) {
  DIR* dir = ::opendir(procfs.root().c_str());
  if (dir == nullptr) throw sys_error("open", procfs.root(), errno);
  ::closedir(dir);
  std::vector<ProcessInfo> out;
  for (long pid : numeric_entries(procfs.root())) {
    if (pid <= 0) continue;
    try {
      if (auto p = read_process(procfs, static_cast<pid_t>(pid))) out.push_back(std::move(*p));
    } catch (const Error& e) {
      // A process that ended is none of the audit's business; one it may not read (an
      // LSM, another mount's permissions) it cannot judge, and must say so.
      if (e.is_not_found()) continue;
      ProcessInfo p;
      p.pid = static_cast<pid_t>(pid);
      p.unreadable = e.what();
      out.push_back(std::move(p));
    }
  }
  strip_namespace_prefix(out);
  return out;
}

AuditCheck audit_exclusive_cpus(const Config& config, const std::vector<ProcessInfo>& processes,
                                pid_t self) {
  std::map<pid_t, const ProcessInfo*> by_pid;
  std::size_t unreadable = 0;
  const ProcessInfo* first_unreadable = nullptr;
  for (const ProcessInfo& p : processes) {
    by_pid[p.pid] = &p;
    if (p.unreadable.empty()) continue;
    if (unreadable++ == 0) first_unreadable = &p;
  }
  // "ok" over processes it could not see would be a false all-clear.
  if (unreadable * 2 > processes.size()) {
    throw op_error("audit", "exclusiveCpus",
                   std::to_string(unreadable) + " of " + std::to_string(processes.size()) +
                       " processes could not be read, the first: " + first_unreadable->unreadable);
  }
  // The held exclusive lists, each with its holders' PIDs and cgroups.
  struct Held {
    std::string label;
    const CpuList* list;
    std::set<pid_t> holders;
    std::vector<std::string> cgroups;
  };
  std::vector<Held> held;
  CpuSet held_cpus;
  for (const auto& [name, pool] : config.pools) {
    if (!pool.exclusive) continue;
    for (const auto& [list_name, list] : pool.lists) {
      if (list.tasks.empty()) continue;  // nobody's isolation to break yet
      Held h{list_label(pool, list), &list, {list.tasks.begin(), list.tasks.end()}, {}};
      for (pid_t holder : list.tasks) {
        auto it = by_pid.find(holder);
        if (it == by_pid.end()) continue;  // ended: reconcile's business
        if (!it->second->unreadable.empty()) {
          // Without its cgroup, its own children would be named as culprits.
          throw op_error("audit", "exclusiveCpus",
                         "holder " + std::to_string(holder) + " of " + h.label +
                             " could not be read: " + it->second->unreadable);
        }
        h.cgroups.push_back(it->second->cgroup);
      }
      held_cpus.add(list.cpus);
      held.push_back(std::move(h));
    }
  }
  AuditCheck check;
  // One error per process, naming every list it may run on: without isolcpus= every
  // process may run everywhere, and one per process and list would be thousands.
  for (const ProcessInfo& p : processes) {
    if (p.kernel_thread || p.pid == self || !p.unreadable.empty()) continue;
    CpuSet allowed;
    for (const ThreadMask& t : p.threads) allowed.add(t.allowed);
    if (!allowed.intersects(held_cpus)) continue;
    CpuSet touched;
    std::string lists;
    std::size_t count = 0;
    for (const Held& h : held) {
      if (!allowed.intersects(h.list->cpus) || h.holders.contains(p.pid)) continue;
      if (std::any_of(h.cgroups.begin(), h.cgroups.end(),
                      [&](const std::string& c) { return within_cgroup(p.cgroup, c); })) {
        continue;  // the holder's own
      }
      touched.add(h.list->cpus);
      if (count++ > 0) lists += "; ";
      lists += h.label + " held by " + join_pids(h.list->tasks);
    }
    if (count == 0) continue;
    std::vector<pid_t> tids;
    CpuSet culprit;  // what the threads that may run on those lists allow
    for (const ThreadMask& t : p.threads) {
      if (!t.allowed.intersects(touched)) continue;
      tids.push_back(t.tid);
      culprit.add(t.allowed);
    }
    std::string message =
        "Process " + std::to_string(p.pid) + " (" + valid_utf8(p.comm) + ", cgroup " +
        (p.cgroup.empty() ? std::string("unknown") : valid_utf8(p.cgroup)) + ")";
    if (tids.size() < p.threads.size()) message += ", threads " + join_pids(tids) + ",";
    message += " may run on CPUs " + culprit.intersection(touched).to_string() + " of the " +
               (count == 1 ? "exclusive list " : "exclusive lists ") + lists + " (allowed CPUs " +
               culprit.to_string() + ")";
    check.errors.push_back(std::move(message));
  }
  check.violations = check.errors.size();
  cap_errors(check.errors);
  return check;
}

std::optional<AuditCheck> audit_irqs(const Config& config, const Procfs& procfs,
                                     const std::vector<ProcessInfo>& processes) {
  const std::string irq_root = procfs.root() + "/irq";
  if (!is_directory(irq_root)) return std::nullopt;
  const CpuSet exclusive = exclusive_cpus(config);
  std::map<long, std::string> names;
  if (auto text = if_found([&] { return read_file(procfs.root() + "/interrupts"); })) {
    names = parse_interrupts(*text);
  }
  AuditCheck check;
  for (long irq : numeric_entries(irq_root)) {
    const std::string dir = irq_root + "/" + std::to_string(irq);
    if (!has_handler(dir)) continue;  // never delivered anywhere
    const std::string file = dir + "/smp_affinity_list";
    auto text = if_found([&] { return read_file(file); });
    if (!text) continue;
    const CpuSet affinity = parse_cpu_list_file(*text, file);
    const CpuSet overlap = affinity.intersection(exclusive);
    if (overlap.empty()) continue;
    const CpuSet elsewhere = affinity.difference(exclusive);
    std::string label = "IRQ " + std::to_string(irq);
    if (auto it = names.find(irq); it != names.end() && !it->second.empty()) {
      label += " (" + valid_utf8(it->second) + ")";
    }
    check.errors.push_back(label + " may be delivered to exclusive CPUs " + overlap.to_string() +
                           " (" + exclusive_lists_touched(config, overlap) +
                           "): its smp_affinity_list is " + affinity.to_string() + "; " +
                           (elsewhere.empty()
                                // Most often a managed IRQ (a device's per-CPU queue): the
                                // kernel refuses a new affinity for those (EIO).
                                ? "it allows no CPU outside the exclusive lists; if it is a "
                                  "device's per-CPU queue, boot with isolcpus=managed_irq," +
                                      exclusive.to_string()
                                : "echo " + elsewhere.to_string() + " > /proc/irq/" +
                                      std::to_string(irq) + "/smp_affinity_list"));
  }
  check.violations = check.errors.size();
  if (check.violations == 0) return check;
  cap_errors(check.errors);
  for (const ProcessInfo& p : processes) {
    if (p.kernel_thread || p.comm != "irqbalance") continue;
    check.errors.push_back("irqbalance (pid " + std::to_string(p.pid) +
                           ") is running and moves IRQs back onto any CPU it is not told to "
                           "avoid: set IRQBALANCE_BANNED_CPULIST=" +
                           exclusive.to_string() + " in its environment file and restart it");
    break;
  }
  return check;
}

KubeletState parse_kubelet_state(const std::string& text, const std::string& display) {
  const nlohmann::json state = parse_json(text, display);  // bounded nesting
  if (!state.is_object()) throw op_error("parse", display, "not a JSON object");
  KubeletState out;
  auto policy = state.find("policyName");
  if (policy != state.end() && policy->is_string()) out.policy = policy->get<std::string>();
  if (out.policy != "static") return out;
  if (auto it = state.find("defaultCpuSet"); it != state.end() && !it->is_null()) {
    if (!it->is_string()) throw op_error("parse", display, "\"defaultCpuSet\" is not a string");
    try {
      out.default_cpus = CpuSet::parse(it->get<std::string>());
    } catch (const Error& e) {
      throw with_context("parse " + quote(display), e);
    }
  }
  auto entries = state.find("entries");
  if (entries == state.end() || entries->is_null()) return out;
  if (!entries->is_object()) throw op_error("parse", display, "\"entries\" is not an object");
  for (const auto& [pod, containers] : entries->items()) {
    if (!containers.is_object()) {
      throw op_error("parse", display, "entry of pod " + quote(pod) + " is not an object");
    }
    for (const auto& [container, value] : containers.items()) {
      if (!value.is_string()) {
        throw op_error("parse", display,
                       "CPUs of container " + quote(container) + " are not a string");
      }
      KubeletAssignment a{pod, container, {}};
      try {
        a.cpus = CpuSet::parse(value.get<std::string>());
      } catch (const Error& e) {
        throw with_context("parse " + quote(display), e);
      }
      out.assignments.push_back(std::move(a));
    }
  }
  return out;
}

AuditCheck audit_kubelet(const Config& config, const std::string& state_path) {
  AuditCheck check;
  auto text = if_found([&] { return read_file(state_path); });
  if (!text) return check;
  const KubeletState state = parse_kubelet_state(*text, state_path);
  if (state.policy != "static") return check;
  // The static policy writes the cpuset of every container it has no exclusive
  // assignment for, kcm's holders too, to its defaultCpuSet: kcm's pinning is undone
  // whatever the entries say.
  const CpuSet& shared = state.default_cpus;
  const CpuSet shared_exclusive = shared.intersection(exclusive_cpus(config));
  std::string message = "The kubelet's static CPU manager (" + state_path;
  message += ") sets the cpuset of every container without an exclusive assignment, kcm's ";
  message += "holders too, to its defaultCpuSet ";
  message += shared.empty() ? std::string("(empty)") : shared.to_string();
  if (!shared_exclusive.empty()) {
    message += " (exclusive CPUs " + shared_exclusive.to_string() + ": " +
               exclusive_lists_touched(config, shared_exclusive) + ")";
  }
  message += ", undoing kcm's pinning (" + std::string(kKubeletHint) + ")";
  check.errors.push_back(std::move(message));
  for (const KubeletAssignment& a : state.assignments) {
    for (const auto& [name, pool] : config.pools) {
      for (const auto& [list_name, list] : pool.lists) {
        const CpuSet both = a.cpus.intersection(list.cpus);
        if (both.empty()) continue;
        std::string entry = "The kubelet's static CPU manager (" + state_path;
        entry += ") assigns CPUs " + a.cpus.to_string();
        entry += " to container " + quote(a.container) + " of pod " + a.pod;
        entry += ": CPUs " + both.to_string() + " are in kcm's list " + list_label(pool, list);
        entry += " (" + std::string(kKubeletHint) + ")";
        check.errors.push_back(std::move(entry));
      }
    }
  }
  check.violations = check.errors.size();
  cap_errors(check.errors);
  return check;
}

std::optional<AuditCheck> audit_host_slices(const Config& config, const std::string& cgroup_root,
                                            const std::vector<ProcessInfo>& processes) {
  auto controllers = if_found([&] { return read_file(cgroup_root + "/cgroup.controllers"); });
  if (!controllers) return std::nullopt;
  std::istringstream words(*controllers);
  std::string word;
  bool cpuset = false;
  while (words >> word) cpuset = cpuset || word == "cpuset";
  if (!cpuset) return std::nullopt;
  auto read_cpus = [](const std::string& file) -> std::optional<CpuSet> {
    auto text = if_found([&] { return read_file(file); });
    if (!text) return std::nullopt;
    return parse_cpu_list_file(*text, file);
  };
  const std::string root_file = cgroup_root + "/cpuset.cpus.effective";
  const std::optional<CpuSet> root_cpus = read_cpus(root_file);
  const CpuSet exclusive = exclusive_cpus(config);
  AuditCheck check;
  for (const char* unit : {"system.slice", "init.scope"}) {
    const std::string dir = cgroup_root + "/" + unit;
    if (!is_directory(dir)) continue;
    // Without the cpuset controller in its parent's subtree_control, a cgroup has no
    // cpuset files and runs wherever the root does.
    std::optional<CpuSet> cpus = read_cpus(dir + "/cpuset.cpus.effective");
    if (!cpus) cpus = root_cpus;
    if (!cpus) continue;
    const CpuSet inside = held_within(config, processes, "/" + std::string(unit));
    const CpuSet avoid = exclusive.difference(inside);
    const CpuSet overlap = cpus->intersection(avoid);
    if (overlap.empty()) continue;
    const CpuSet rest = cpus->difference(avoid);
    std::string message = std::string(unit) + " may run on exclusive CPUs " + overlap.to_string() +
                          " (" + exclusive_lists_touched(config, overlap) +
                          "): its cpuset.cpus.effective is " + cpus->to_string() + "; ";
    message += rest.empty() ? std::string("no CPU outside the exclusive lists is left for it")
                            : "systemctl set-property " + std::string(unit) +
                                  " AllowedCPUs=" + rest.to_string();
    if (!inside.empty()) {
      message += " (keeping CPUs " + inside.to_string() +
                 " of the kcm holders inside it: " + exclusive_lists_touched(config, inside) + ")";
    }
    check.errors.push_back(std::move(message));
  }
  check.violations = check.errors.size();
  return check;
}

}  // namespace kcm
