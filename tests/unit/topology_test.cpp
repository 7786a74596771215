#include "topology.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "error.h"
#include "fs.h"
#include "test_support.h"

namespace kcm {
namespace {

namespace fs = std::filesystem;
using testing_support::thrown_by;

const std::string kTopologies = std::string(KCM_FIXTURES_DIR) + "/topologies";

// Every machine folder copied from the shared data set (tests/fixtures/topologies/README.md).
const std::vector<std::string> kMachines = {
    "128arm-2pa2n8cluster4co",
    "16amd64-8n2c-cpusets",
    "16em64t-4s2c2t-offlines",
    "20em64t-hybrid-1p6c2t+2ca4co1t",
    "24em64t-2n6c2t+2mic.olddriver",
    "28em64t-2s2n7c-buggycoresiblings",
    "32amd64-4s2n4c-cgroup2",
    "32intel64-2p8co2t+8ve",
    "4em64t-2c2t-ignore-reorder",
    "64amd64-4p2n4ca2co",
    "8em64t-4c2t",
    "memorysidecaches",
    "nvidiagpunumanodes",
    "offline-cpu0-node0",
};

std::string sysfs_of(const std::string& machine) { return kTopologies + "/" + machine + "/sys"; }

// (CPU, Core, Socket, Node) rows; an empty Node column is -1.
using Row = std::tuple<int, int, int, int>;

std::vector<Row> read_lscpu_p(const std::string& machine) {
  std::ifstream in(kTopologies + "/" + machine + "/lscpu-p.txt");
  EXPECT_TRUE(in) << machine;
  std::vector<Row> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string col; std::getline(ss, col, ',');) cols.push_back(col);
    EXPECT_GE(cols.size(), 4u) << line;
    if (cols.size() < 4) continue;
    rows.emplace_back(std::stoi(cols[0]), std::stoi(cols[1]), std::stoi(cols[2]),
                      cols[3].empty() ? -1 : std::stoi(cols[3]));
  }
  return rows;
}

std::vector<Row> rows_of(const Topology& topology) {
  std::vector<Row> rows;
  for (const CpuInfo& cpu : topology.cpus())
    rows.emplace_back(cpu.id, cpu.core, cpu.socket, cpu.node);
  return rows;
}

// A scratch sysfs tree, removed when the test ends.
class TempSysfs {
 public:
  const std::string& root() const { return dir_.path(); }

  void write(const std::string& relative, const std::string& content) const {
    testing_support::write_file(dir_ / relative, content);
  }

  // An online CPU with its own core in socket 0 of node 0.
  void add_cpu(int cpu) const {
    const std::string dir = "devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    write(dir + "thread_siblings_list", std::to_string(cpu) + "\n");
    write(dir + "core_siblings_list", "0-3\n");
  }

 private:
  testing_support::TempDir dir_;
};

class MachineTest : public testing::TestWithParam<std::string> {};

TEST_P(MachineTest, MatchesLscpuCpuCoreSocketNode) {
  EXPECT_EQ(rows_of(Topology::read(sysfs_of(GetParam()))), read_lscpu_p(GetParam()));
}

TEST_P(MachineTest, CoresPartitionOnlineCpusInCoreIndexOrder) {
  const Topology topology = Topology::read(sysfs_of(GetParam()));
  std::map<int, int> core_of;
  for (const CpuInfo& cpu : topology.cpus()) core_of[cpu.id] = cpu.core;
  CpuSet all;
  int previous = -1;
  for (const CpuSet& core : topology.cores()) {
    ASSERT_FALSE(core.empty());
    EXPECT_FALSE(all.intersects(core)) << core.to_string();
    all.add(core);
    const int index = core_of[core.first()];
    for (int cpu : core.cpus()) EXPECT_EQ(core_of[cpu], index) << "cpu " << cpu;
    EXPECT_GT(index, previous);
    previous = index;
  }
  EXPECT_EQ(all, topology.online());
}

TEST_P(MachineTest, NodeMapAgreesWithNodeOf) {
  const std::string sysfs = sysfs_of(GetParam());
  const Topology topology = Topology::read(sysfs);
  const std::map<int, int> nodes = read_node_map(sysfs);
  for (const CpuInfo& cpu : topology.cpus()) {
    auto it = nodes.find(cpu.id);
    EXPECT_EQ(it == nodes.end() ? -1 : it->second, topology.node_of(cpu.id)) << "cpu " << cpu.id;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, MachineTest, testing::ValuesIn(kMachines),
                         testing_support::fixture_test_name);

TEST(TopologyFixturesTest, EveryMachineFolderIsTested) {
  std::vector<std::string> folders;
  for (const auto& entry : fs::directory_iterator(kTopologies)) {
    if (entry.is_directory()) folders.push_back(entry.path().filename());
  }
  EXPECT_THAT(folders, testing::UnorderedElementsAreArray(kMachines));
}

TEST(TopologyTest, ReadsListsEndingInNewlineAndNul) {
  const std::string sysfs = sysfs_of("128arm-2pa2n8cluster4co");
  ASSERT_EQ(read_file(sysfs + "/devices/system/cpu/cpu0/topology/thread_siblings_list"),
            std::string("0\n\0", 3));
  const Topology topology = Topology::read(sysfs);
  EXPECT_EQ(topology.online().to_string(), "0-127");
  EXPECT_EQ(topology.cores().size(), 128u);
  EXPECT_EQ(topology.node_of(95), 2);
}

TEST(TopologyTest, ReadsHexMasksWhenKernelHasNoListFiles) {
  const Topology topology = Topology::read(sysfs_of("16em64t-4s2c2t-offlines"));
  EXPECT_THAT(topology.cores(),
              testing::ElementsAre(CpuSet{0, 8}, CpuSet{1, 9}, CpuSet{3, 11}, CpuSet{4, 12},
                                   CpuSet{6}, CpuSet{7, 15}, CpuSet{10}));
  EXPECT_EQ(topology.node_of(15), 0);  // from node0/cpumap
}

TEST(TopologyTest, TakesOnlineCpusFromCpuDirsWithoutGlobalOnlineFile) {
  const Topology topology = Topology::read(sysfs_of("16em64t-4s2c2t-offlines"));
  EXPECT_EQ(topology.online().to_string(), "0,1,3,4,6-12,15");
}

TEST(TopologyTest, LeavesOutOfflineCpuThatKeptItsTopology) {
  const Topology topology = Topology::read(sysfs_of("16amd64-8n2c-cpusets"));
  EXPECT_FALSE(topology.online().contains(4));
  for (const CpuSet& core : topology.cores()) EXPECT_FALSE(core.contains(4));
  EXPECT_EQ(topology.node_of(4), -1);
}

TEST(TopologyTest, OfflineCpuWithTopologyStillTakesItsLscpuCoreIndex) {
  const Topology topology = Topology::read(sysfs_of("16amd64-8n2c-cpusets"));
  EXPECT_EQ(topology.cpus()[4].id, 5);
  EXPECT_EQ(topology.cpus()[4].core, 5);
}

TEST(TopologyTest, IgnoresCpuLessNodes) {
  const std::string sysfs = sysfs_of("nvidiagpunumanodes");
  ASSERT_EQ(read_file(sysfs + "/devices/system/node/node250/cpulist"), "\n");
  for (const auto& [cpu, node] : read_node_map(sysfs)) {
    EXPECT_THAT(node, testing::AnyOf(0, 8)) << "cpu " << cpu;
  }
  const Topology topology = Topology::read(sysfs);
  EXPECT_EQ(topology.online().to_string(), "0-15,88-103");
  EXPECT_EQ(topology.node_of(88), 8);
}

TEST(TopologyTest, OnlineCpuInNoNodeHasNodeMinusOne) {
  const Topology topology = Topology::read(sysfs_of("offline-cpu0-node0"));
  EXPECT_EQ(topology.node_of(4), -1);
  EXPECT_EQ(topology.node_of(5), 1);
}

TEST(TopologyTest, EmptyIsolatedFileMeansNoIsolatedCpus) {
  EXPECT_TRUE(Topology::read(sysfs_of("128arm-2pa2n8cluster4co")).isolated().empty());
}

TEST(TopologyTest, MissingIsolatedFileMeansNoIsolatedCpus) {
  EXPECT_TRUE(Topology::read(sysfs_of("16amd64-8n2c-cpusets")).isolated().empty());
}

TEST(TopologyTest, IsolatedIsLimitedToOnlineCpus) {
  TempSysfs sysfs;
  for (int cpu = 0; cpu < 4; ++cpu) sysfs.add_cpu(cpu);
  sysfs.write("devices/system/cpu/online", "0-3\n");
  sysfs.write("devices/system/cpu/isolated", "2-5\n");
  EXPECT_EQ(Topology::read(sysfs.root()).isolated(), (CpuSet{2, 3}));
}

TEST(TopologyTest, OnlineCpuWithoutTopologyIsItsOwnCoreInSocketZero) {
  TempSysfs sysfs;
  sysfs.add_cpu(0);
  sysfs.add_cpu(1);
  sysfs.write("devices/system/cpu/cpu2/online", "1\n");
  sysfs.write("devices/system/cpu/online", "0-2\n");
  const Topology topology = Topology::read(sysfs.root());
  EXPECT_EQ(rows_of(topology), (std::vector<Row>{{0, 0, 0, -1}, {1, 1, 0, -1}, {2, 2, 0, -1}}));
}

TEST(TopologyTest, IntersectsOnlineWithPresent) {
  TempSysfs sysfs;
  for (int cpu = 0; cpu < 4; ++cpu) sysfs.add_cpu(cpu);
  sysfs.write("devices/system/cpu/online", "0-3\n");
  sysfs.write("devices/system/cpu/present", "0-1\n");
  EXPECT_EQ(Topology::read(sysfs.root()).online(), (CpuSet{0, 1}));
}

TEST(TopologyTest, MissingCpuDirectoryThrowsNamingIt) {
  TempSysfs sysfs;
  const std::string cpu_dir = sysfs.root() + "/devices/system/cpu";
  try {
    Topology::read(sysfs.root());
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr(quote(cpu_dir)));
    EXPECT_THAT(e.what(), testing::HasSubstr("No such file or directory"));
  }
}

TEST(TopologyTest, MalformedListThrowsNamingTheFile) {
  TempSysfs sysfs;
  sysfs.add_cpu(0);
  sysfs.write("devices/system/cpu/online", "0-x\n");
  try {
    Topology::read(sysfs.root());
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(),
                testing::StartsWith("parse " + quote(sysfs.root() + "/devices/system/cpu/online")));
  }
}

TEST(TopologyTest, NodeMapIsEmptyWithoutNodeDirectory) {
  TempSysfs sysfs;
  sysfs.add_cpu(0);
  EXPECT_TRUE(read_node_map(sysfs.root()).empty());
}

TEST(TopologyTest, NodeMapReadsCpulistOrHexCpumap) {
  TempSysfs sysfs;
  sysfs.write("devices/system/node/node1/cpulist", "2-3\n");
  sysfs.write("devices/system/node/node0/cpumap", "00000000,00000003\n");
  EXPECT_EQ(read_node_map(sysfs.root()), (std::map<int, int>{{0, 0}, {1, 0}, {2, 1}, {3, 1}}));
}

// --- NUMA nodes of CPUs: the owner record's reason, and memory: local ------------------

TEST(NodesOfCpusTest, ReadsEachCpusNodeEntry) {
  TempSysfs sysfs;
  for (int cpu : {2, 3, 4}) sysfs.add_cpu(cpu);
  fs::create_directory_symlink("../../node/node1", sysfs.root() + "/devices/system/cpu/cpu2/node1");
  fs::create_directory_symlink("../../node/node1", sysfs.root() + "/devices/system/cpu/cpu3/node1");
  fs::create_directory_symlink("../../node/node3", sysfs.root() + "/devices/system/cpu/cpu4/node3");
  EXPECT_THAT(nodes_of_cpus(sysfs.root(), CpuSet{2, 3}), testing::ElementsAre(1));
  EXPECT_THAT(nodes_of_cpus(sysfs.root(), CpuSet{2, 4}), testing::ElementsAre(1, 3));
  // A kernel without NUMA, or a CPU sysfs does not list: nothing to say.
  EXPECT_THAT(nodes_of_cpus(sysfs.root(), CpuSet{0, 9}), testing::IsEmpty());
}

TEST(NodesOfCpusTest, IsolatedIsEmptyWithoutTheFile) {
  TempSysfs sysfs;
  EXPECT_TRUE(read_isolated(sysfs.root()).empty());
  sysfs.write("devices/system/cpu/isolated", "2-3,8\n");
  EXPECT_EQ(read_isolated(sysfs.root()), (CpuSet{2, 3, 8}));
}

// The node choice on real machines' node maps.
TEST(NumaNodesOfTest, RealMachines) {
  auto nodes = [](const std::string& machine, const CpuSet& cpus) {
    return numa_nodes_of(read_node_map(sysfs_of(machine)), cpus).to_string();
  };
  // SNC-2, stride-4 node lists: a core's two threads (N, N+40) are on one node.
  EXPECT_EQ(nodes("memorysidecaches", CpuSet{5, 45}), "1");
  EXPECT_EQ(nodes("memorysidecaches", CpuSet{4, 5, 44, 45}), "0,1");
  // 8 nodes of two CPUs each.
  EXPECT_EQ(nodes("16amd64-8n2c-cpusets", CpuSet{14, 15}), "7");
  // POWER9: node 8 holds 88-175; nodes 250-255 have no CPU.
  EXPECT_EQ(nodes("nvidiagpunumanodes", CpuSet{88, 89}), "8");
  // Node 0 offline: its online CPUs are on no node.
  EXPECT_EQ(thrown_by([&] { (void)nodes("offline-cpu0-node0", CpuSet{4}); }).message,
            "CPU 4 is on no NUMA node");
}

TEST(NumaNodesOfTest, NoNodeMapIsNodeZero) {
  EXPECT_EQ(numa_nodes_of({}, CpuSet{3, 7}), CpuSet{0});
}

// A real machine's node tree, copied, with the memory files a test adds.
class LocalMemoryTest : public testing::Test {
 protected:
  void copy_nodes(const std::string& machine) {
    fs::create_directories(sysfs.root() + "/devices/system");
    fs::copy(sysfs_of(machine) + "/devices/system/node", sysfs.root() + "/devices/system/node",
             fs::copy_options::recursive);
  }
  TempSysfs sysfs;
};

TEST_F(LocalMemoryTest, HasMemoryListDecides) {
  copy_nodes("nvidiagpunumanodes");
  sysfs.write("devices/system/node/has_memory", "0,8,250-255\n");
  EXPECT_EQ(local_memory_nodes(sysfs.root(), CpuSet{88, 89}), CpuSet{8});
  sysfs.write("devices/system/node/has_memory", "0,250-255\n");
  EXPECT_EQ(thrown_by([&] {
              local_memory_nodes(sysfs.root(), CpuSet{88, 89});
            }).message,
            "NUMA node 8 of CPUs 88,89 has no memory");
}

TEST_F(LocalMemoryTest, MeminfoDecidesOnKernelsWithoutHasMemory) {
  copy_nodes("16amd64-8n2c-cpusets");
  for (int node = 0; node < 8; ++node) {
    sysfs.write("devices/system/node/node" + std::to_string(node) + "/meminfo",
                "Node " + std::to_string(node) +
                    " MemTotal:       " + (node == 3 ? "0" : "4194304") + " kB\nNode " +
                    std::to_string(node) + " MemFree:        1000 kB\n");
  }
  EXPECT_EQ(local_memory_nodes(sysfs.root(), CpuSet{4, 5, 8}), (CpuSet{2, 4}));
  EXPECT_EQ(thrown_by([&] {
              local_memory_nodes(sysfs.root(), CpuSet{6, 7});
            }).message,
            "NUMA node 3 of CPUs 6,7 has no memory");
}

TEST_F(LocalMemoryTest, NoMemoryInformationIsAnErrorNamingTheFile) {
  copy_nodes("16amd64-8n2c-cpusets");
  EXPECT_THAT(thrown_by([&] { local_memory_nodes(sysfs.root(), CpuSet{0}); }).message,
              testing::HasSubstr("node0/meminfo"));
}

TEST(LocalMemoryWithoutNumaTest, IsNodeZero) {
  TempSysfs sysfs;
  sysfs.add_cpu(0);
  EXPECT_EQ(local_memory_nodes(sysfs.root(), CpuSet{0}), CpuSet{0});
}

}  // namespace
}  // namespace kcm
