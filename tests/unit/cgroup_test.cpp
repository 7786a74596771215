#include "cgroup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "error.h"
#include "fs.h"
#include "test_support.h"

namespace kcm {
namespace {

const std::string kFixtures = std::string(KCM_FIXTURES_DIR) + "/cgroup/";

std::optional<CpusetCgroup> of_host(const std::string& host) {
  Procfs procfs(kFixtures + host + "/proc");
  return cpuset_cgroup_of(procfs, 4242, procfs.path(0, "mountinfo"));
}

std::string error_of(const std::string& proc_cgroup, const std::string& mountinfo) {
  try {
    find_cpuset_cgroup(proc_cgroup, mountinfo, "/proc/4242/cgroup");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const char kCpusetMount[] =
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n";

TEST(CgroupTest, V1HostFindsCpusetHierarchy) {
  auto cg = of_host("v1");
  ASSERT_TRUE(cg.has_value());
  EXPECT_EQ(cg->dir, "/sys/fs/cgroup/cpuset/docker/5f0c3e2a9b");
  EXPECT_FALSE(cg->v2);
}

TEST(CgroupTest, V2HostFindsUnifiedTree) {
  auto cg = of_host("v2");
  ASSERT_TRUE(cg.has_value());
  EXPECT_EQ(cg->dir,
            "/sys/fs/cgroup/kubepods.slice/kubepods-pod1a2b.slice/cri-containerd-9e8d7c.scope");
  EXPECT_TRUE(cg->v2);
}

TEST(CgroupTest, HybridHostPrefersV1Cpuset) {
  auto cg = of_host("hybrid");
  ASSERT_TRUE(cg.has_value());
  EXPECT_EQ(cg->dir, "/sys/fs/cgroup/cpuset/kcm-e2e-a");
  EXPECT_FALSE(cg->v2);
}

TEST(CgroupTest, V1MountRootOtherThanSlashIsStripped) {
  auto cg = of_host("v1-nested");
  ASSERT_TRUE(cg.has_value());
  EXPECT_EQ(cg->dir, "/sys/fs/cgroup/cpuset/inner");
}

TEST(CgroupTest, V2BindMountOfSubtreeWithEscapedPath) {
  auto cg = of_host("v2-bind");
  ASSERT_TRUE(cg.has_value());
  EXPECT_EQ(cg->dir, "/host/kube pods/kubepods-pod1a2b.slice/cri-containerd-9e8d7c.scope");
  EXPECT_TRUE(cg->v2);
}

TEST(CgroupTest, ProcessInRootCgroupGetsNoDirectory) { EXPECT_FALSE(of_host("root").has_value()); }

TEST(CgroupTest, V2ProcessInRootCgroupGetsNoDirectory) {
  EXPECT_FALSE(
      find_cpuset_cgroup("0::/\n", "31 24 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "x")
          .has_value());
}

TEST(CgroupTest, CgroupEqualToMountRootIsTheMountPoint) {
  auto cg = find_cpuset_cgroup(
      "6:cpuset:/docker/abc\n",
      "624 621 0:30 /docker/abc /sys/fs/cgroup/cpuset ro - cgroup cgroup rw,cpuset\n", "x");
  ASSERT_TRUE(cg.has_value());
  EXPECT_EQ(cg->dir, "/sys/fs/cgroup/cpuset");
}

TEST(CgroupTest, CpusetSharingAHierarchyIsFound) {
  auto cg = find_cpuset_cgroup(
      "3:cpu,cpuset:/a\n",
      "34 31 0:31 / /sys/fs/cgroup/cpu,cpuset rw - cgroup cgroup rw,cpu,cpuset\n", "x");
  ASSERT_TRUE(cg.has_value());
  EXPECT_EQ(cg->dir, "/sys/fs/cgroup/cpu,cpuset/a");
}

TEST(CgroupTest, DeletedCgroupSuffixIsDropped) {
  auto cg = find_cpuset_cgroup("3:cpuset:/a (deleted)\n", kCpusetMount, "x");
  ASSERT_TRUE(cg.has_value());
  EXPECT_EQ(cg->dir, "/sys/fs/cgroup/cpuset/a");
}

TEST(CgroupTest, SiblingOfMountRootIsNotReachable) {
  // "/docker/abcdef" must not match a mount of "/docker/abc".
  EXPECT_EQ(
      error_of("6:cpuset:/docker/abcdef\n",
               "624 621 0:30 /docker/abc /sys/fs/cgroup/cpuset ro - cgroup cgroup rw,cpuset\n"),
      "find cpuset cgroup in \"/proc/4242/cgroup\": no cgroup v1 cpuset mount holds "
      "\"/docker/abcdef\"");
}

TEST(CgroupTest, UnmountedCpusetHierarchyIsAnError) {
  EXPECT_NE(error_of("3:cpuset:/a\n",
                     "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"),
            "");
}

TEST(CgroupTest, UnmountedV2TreeIsAnError) {
  EXPECT_EQ(error_of("0::/a\n", kCpusetMount),
            "find cpuset cgroup in \"/proc/4242/cgroup\": no cgroup2 mount holds \"/a\"");
}

TEST(CgroupTest, EmptyCgroupFileIsAnError) { EXPECT_NE(error_of("", kCpusetMount), ""); }

TEST(CgroupTest, MalformedCgroupLineIsAnError) {
  EXPECT_EQ(error_of("garbage\n", kCpusetMount),
            "parse \"/proc/4242/cgroup\": malformed line \"garbage\"");
}

TEST(CgroupTest, MalformedMountinfoLineIsAnError) {
  EXPECT_NE(error_of("3:cpuset:/a\n", "34 31 0:31 /\n"), "");
}

TEST(CgroupTest, MalformedMountinfoNamesTheMountTable) {
  try {
    find_cpuset_cgroup("3:cpuset:/a\n", "34 31 0:31 /\n", "/proc/4242/cgroup",
                       "/proc/self/mountinfo");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), testing::StartsWith("parse \"/proc/self/mountinfo\": "));
  }
}

TEST(CgroupTest, VanishedProcessIsAnError) {
  Procfs procfs(kFixtures + "v1/proc");
  EXPECT_THROW(cpuset_cgroup_of(procfs, 99999, procfs.path(0, "mountinfo")), Error);
}

class WriteCpusetTest : public ::testing::Test {
 protected:
  void put(const std::string& name, const std::string& content) {
    testing_support::write_file(join_path(dir_, name), content);
  }
  testing_support::TempDir tmp_;
  const std::string dir_ = tmp_.path();
};

TEST_F(WriteCpusetTest, V1WritesAndReadsBackCpus) {
  put("cpuset.cpus", "0-7\n");
  write_cpuset({dir_, false}, CpuSet({1, 3}));
  EXPECT_EQ(read_file(join_path(dir_, "cpuset.cpus")), "1,3");
}

TEST_F(WriteCpusetTest, V2EffectiveMismatchIsAnError) {
  put("cpuset.cpus", "");
  put("cpuset.cpus.effective", "0-7\n");
  try {
    write_cpuset({dir_, true}, CpuSet({1}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "verify \"" + dir_ + "/cpuset.cpus.effective\": reads 0-7 after writing 1");
  }
}

TEST_F(WriteCpusetTest, V2EffectiveMatchIsAccepted) {
  put("cpuset.cpus", "");
  put("cpuset.cpus.effective", "1\n");
  EXPECT_NO_THROW(write_cpuset({dir_, true}, CpuSet({1})));
}

TEST_F(WriteCpusetTest, V2WithoutCpusetControllerIsAnError) {
  try {
    write_cpuset({dir_, true}, CpuSet({1}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cpuset controller is not enabled"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace kcm
