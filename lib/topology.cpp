#include "topology.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>
#include <set>
#include <system_error>

#include "error.h"
#include "fs.h"

namespace kcm {
namespace {

// A CPU set file, parsed with `parse`; nullopt when the file does not exist.
std::optional<CpuSet> read_set(const std::string& path, CpuSet (*parse)(std::string_view)) {
  auto text = if_found([&] { return read_file(path); });
  if (!text) return std::nullopt;
  try {
    return parse(*text);
  } catch (const Error& e) {
    throw with_context("parse " + quote(path), e);
  }
}

// `<dir>/<list>` in list format, or else `<dir>/<mask>`: kernels before 2.6.26 wrote only
// the hex masks (16em64t-4s2c2t-offlines).
std::optional<CpuSet> read_list_or_mask(const std::string& dir, std::string_view list,
                                        std::string_view mask) {
  if (auto set = read_set(join_path(dir, list), CpuSet::parse)) return set;
  return read_set(join_path(dir, mask), CpuSet::parse_mask);
}

// The N of every `<prefix>N` directory in `dir`, ascending (list_dir sorts by name, which
// puts node250 before node8).
std::vector<int> numbered_dirs(const std::string& dir, std::string_view prefix) {
  UniqueFd fd = open_dir(dir);
  std::vector<int> out;
  for (const DirEntry& entry : list_dir(fd.get(), dir)) {
    std::string_view name = entry.name;
    if (entry.type != EntryType::kDirectory || !name.starts_with(prefix)) continue;
    name.remove_prefix(prefix.size());
    int n = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
    if (!name.empty() && ec == std::errc() && end == name.data() + name.size()) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// cpu/online, or on old kernels without it each cpuN/online (absent for CPUs that cannot
// be unplugged, so online), limited to cpu/present where that exists.
CpuSet online_cpus(const std::string& cpu_dir, const CpuSet& cpu_dirs) {
  std::optional<CpuSet> online = read_set(join_path(cpu_dir, "online"), CpuSet::parse);
  if (!online) {
    online.emplace();
    for (int cpu : cpu_dirs.cpus()) {
      const std::string online_path = join_path(cpu_dir, "cpu" + std::to_string(cpu) + "/online");
      auto flag = if_found([&] { return read_file(online_path); });
      if (!flag || !flag->starts_with('0')) online->add(cpu);
    }
  }
  if (auto present = read_set(join_path(cpu_dir, "present"), CpuSet::parse)) {
    return online->intersection(*present);
  }
  return *online;
}

// lscpu -p numbers cores and sockets by distinct sibling sets, in the order the CPUs are
// read, and gives a CPU the index of the first set that contains it.
class SiblingGroups {
 public:
  void add(const CpuSet& set) {
    if (std::find(sets_.begin(), sets_.end(), set) == sets_.end()) sets_.push_back(set);
  }

  // `own` is the CPU's own sibling set. A kernel may leave the CPU out of it (cpu4 of
  // 16amd64-8n2c-cpusets has core_siblings_list "5"); then it gets its own set's index.
  int index_of(int cpu, const CpuSet& own) const {
    auto it = std::find_if(sets_.begin(), sets_.end(),
                           [cpu](const CpuSet& set) { return set.contains(cpu); });
    if (it == sets_.end()) it = std::find(sets_.begin(), sets_.end(), own);
    return static_cast<int>(it - sets_.begin());
  }

 private:
  std::vector<CpuSet> sets_;
};

struct Siblings {
  CpuSet threads;
  std::optional<CpuSet> package;
};

}  // namespace

Topology Topology::read(const std::string& sysfs_root) {
  const std::string cpu_dir = join_path(sysfs_root, "devices/system/cpu");
  CpuSet known;
  for (int cpu : numbered_dirs(cpu_dir, "cpu")) known.add(cpu);

  const CpuSet online = online_cpus(cpu_dir, known);
  known.add(online);

  // lscpu reads the siblings of every CPU that has them, offline ones included, so an
  // offline CPU that kept its topology/ still takes a Core index: online cpu 5 of
  // 16amd64-8n2c-cpusets is Core 5, after offline cpu 4.
  SiblingGroups cores;
  SiblingGroups sockets;
  std::map<int, Siblings> online_siblings;
  for (int cpu : known.cpus()) {
    const std::string dir = join_path(cpu_dir, "cpu" + std::to_string(cpu) + "/topology");
    auto threads = read_list_or_mask(dir, "thread_siblings_list", "thread_siblings");
    auto package = read_list_or_mask(dir, "core_siblings_list", "core_siblings");
    if (!threads) {
      if (!online.contains(cpu)) continue;  // offline CPUs usually lose topology/
      // An online CPU without topology/ (not every architecture or kernel writes it):
      // nothing says it shares a core, so it is its own core, in socket 0.
      threads = CpuSet{cpu};
    }
    cores.add(*threads);
    if (package) sockets.add(*package);
    if (online.contains(cpu)) online_siblings.emplace(cpu, Siblings{*threads, package});
  }

  const std::map<int, int> nodes = read_node_map(sysfs_root);
  Topology topology;
  for (int cpu : online.cpus()) {
    const Siblings& siblings = online_siblings.at(cpu);
    auto node = nodes.find(cpu);
    topology.cpus_.push_back({
        .id = cpu,
        .core = cores.index_of(cpu, siblings.threads),
        .socket = siblings.package ? sockets.index_of(cpu, *siblings.package) : 0,
        .node = node == nodes.end() ? -1 : node->second,
    });
  }
  if (auto isolated = read_set(join_path(cpu_dir, "isolated"), CpuSet::parse)) {
    topology.isolated_ = isolated->intersection(online);
  }
  return topology;
}

CpuSet Topology::online() const {
  CpuSet set;
  for (const CpuInfo& cpu : cpus_) set.add(cpu.id);
  return set;
}

std::vector<CpuSet> Topology::cores() const {
  std::map<int, CpuSet> by_core;
  for (const CpuInfo& cpu : cpus_) by_core[cpu.core].add(cpu.id);
  std::vector<CpuSet> out;
  out.reserve(by_core.size());
  for (auto& [core, set] : by_core) out.push_back(std::move(set));
  return out;
}

int Topology::node_of(int cpu) const {
  auto it = std::lower_bound(cpus_.begin(), cpus_.end(), cpu,
                             [](const CpuInfo& info, int id) { return info.id < id; });
  return it != cpus_.end() && it->id == cpu ? it->node : -1;
}

std::map<int, int> read_node_map(const std::string& sysfs_root) {
  const std::string node_dir = join_path(sysfs_root, "devices/system/node");
  std::map<int, int> map;
  std::error_code ec;
  if (!std::filesystem::exists(node_dir, ec)) return map;  // a kernel without CONFIG_NUMA
  for (int node : numbered_dirs(node_dir, "node")) {
    const std::string dir = join_path(node_dir, "node" + std::to_string(node));
    // A CPU sits in one node; should a kernel list it twice, the lowest node wins.
    if (auto cpus = read_list_or_mask(dir, "cpulist", "cpumap")) {
      for (int cpu : cpus->cpus()) map.emplace(cpu, node);
    }
  }
  return map;
}

std::vector<int> nodes_of_cpus(const std::string& sysfs_root, const CpuSet& cpus) {
  std::set<int> nodes;
  for (int cpu : cpus.cpus()) {
    const std::string dir = join_path(sysfs_root, "devices/system/cpu/cpu" + std::to_string(cpu));
    std::optional<UniqueFd> fd = if_found([&] { return open_dir(dir); });
    if (!fd) continue;
    for (const DirEntry& entry : list_dir(fd->get(), dir)) {
      std::string_view name = entry.name;
      if (!name.starts_with("node")) continue;
      name.remove_prefix(4);
      int node = 0;
      auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), node);
      if (!name.empty() && ec == std::errc() && end == name.data() + name.size()) {
        nodes.insert(node);
      }
    }
  }
  return {nodes.begin(), nodes.end()};
}

CpuSet read_isolated(const std::string& sysfs_root) {
  return read_set(join_path(sysfs_root, "devices/system/cpu/isolated"), CpuSet::parse)
      .value_or(CpuSet{});
}

bool node_has_memory(const std::string& sysfs_root, int node) {
  const std::string node_dir = join_path(sysfs_root, "devices/system/node");
  if (auto nodes = read_set(join_path(node_dir, "has_memory"), CpuSet::parse)) {
    return nodes->contains(node);
  }
  const std::string meminfo = join_path(node_dir, "node" + std::to_string(node) + "/meminfo");
  // "Node 0 MemTotal:       16333852 kB"
  const std::string text = read_file(meminfo);
  const std::size_t at = text.find("MemTotal:");
  if (at == std::string::npos) throw op_error("parse", meminfo, "no MemTotal line");
  std::size_t digits = text.find_first_of("0123456789", at);
  if (digits == std::string::npos) throw op_error("parse", meminfo, "no MemTotal value");
  return text.compare(digits, 2, "0 ") != 0;
}

CpuSet numa_nodes_of(const std::map<int, int>& node_of_cpu, const CpuSet& cpus) {
  CpuSet nodes;
  if (node_of_cpu.empty()) {
    nodes.add(0);  // no node directory: one node, 0, as cpuset.mems then reads
    return nodes;
  }
  for (int cpu : cpus.cpus()) {
    auto it = node_of_cpu.find(cpu);
    if (it == node_of_cpu.end()) throw Error("CPU " + std::to_string(cpu) + " is on no NUMA node");
    nodes.add(it->second);
  }
  return nodes;
}

CpuSet local_memory_nodes(const std::string& sysfs_root, const CpuSet& cpus) {
  const std::map<int, int> node_of_cpu = read_node_map(sysfs_root);
  CpuSet nodes = numa_nodes_of(node_of_cpu, cpus);
  if (node_of_cpu.empty()) return nodes;
  for (int node : nodes.cpus()) {
    if (!node_has_memory(sysfs_root, node)) {
      throw Error("NUMA node " + std::to_string(node) + " of CPUs " + cpus.to_string() +
                  " has no memory");
    }
  }
  return nodes;
}

}  // namespace kcm
