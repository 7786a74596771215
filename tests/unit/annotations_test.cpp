#include "annotations.h"

#include <gtest/gtest.h>

#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

using Annotations = std::map<std::string, std::string>;

// The message of the usage Error pool_request throws, or "" when it throws none.
std::string usage_error_of(const Annotations& a) {
  return testing_support::usage_error_by([&] { pool_request(a); });
}

TEST(AnnotationsTest, NoAnnotationsAsksForNothing) { EXPECT_FALSE(pool_request({}).has_value()); }

TEST(AnnotationsTest, UnrelatedAnnotationsAskForNothing) {
  EXPECT_FALSE(
      pool_request({{"io.kubernetes.cri.container-name", "app"}, {"kcm.intel.com/other", "x"}})
          .has_value());
}

TEST(AnnotationsTest, PoolAnnotationAsksForOneList) {
  auto r = pool_request({{"kcm.intel.com/pool", "dataplane"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->pool, "dataplane");
  EXPECT_EQ(r->count, 1);
  EXPECT_EQ(r->pool_annotation, "kcm.intel.com/pool");
}

TEST(AnnotationsTest, ContainerdContainerNameSelectsItsOverride) {
  auto r = pool_request({{"io.kubernetes.cri.container-name", "app"},
                         {"kcm.intel.com/pool", "infra"},
                         {"kcm.intel.com/pool.app", "dataplane"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->pool, "dataplane");
  EXPECT_EQ(r->pool_annotation, "kcm.intel.com/pool.app");
}

TEST(AnnotationsTest, CrioContainerNameSelectsItsOverride) {
  auto r = pool_request({{"io.kubernetes.container.name", "app"},
                         {"kcm.intel.com/pool", "infra"},
                         {"kcm.intel.com/pool.app", "dataplane"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->pool, "dataplane");
}

TEST(AnnotationsTest, OverrideOfAnotherContainerFallsBackToPodWidePool) {
  auto r = pool_request({{"io.kubernetes.cri.container-name", "sidecar"},
                         {"kcm.intel.com/pool", "infra"},
                         {"kcm.intel.com/pool.app", "dataplane"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->pool, "infra");
  EXPECT_EQ(r->pool_annotation, "kcm.intel.com/pool");
}

TEST(AnnotationsTest, OnlyAnotherContainersOverrideAsksForNothing) {
  EXPECT_FALSE(pool_request({{"io.kubernetes.cri.container-name", "sidecar"},
                             {"kcm.intel.com/pool.app", "dataplane"}})
                   .has_value());
}

TEST(AnnotationsTest, OverrideWithoutContainerNameIsIgnored) {
  EXPECT_FALSE(pool_request({{"kcm.intel.com/pool.app", "dataplane"}}).has_value());
}

TEST(AnnotationsTest, CoresAnnotationSetsCount) {
  auto r = pool_request({{"kcm.intel.com/pool", "dataplane"}, {"kcm.intel.com/cores", "2"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->count, 2);
}

TEST(AnnotationsTest, ContainerSpecificCoresWinsOverPodWide) {
  auto r = pool_request({{"io.kubernetes.cri.container-name", "app"},
                         {"kcm.intel.com/pool", "dataplane"},
                         {"kcm.intel.com/cores", "2"},
                         {"kcm.intel.com/cores.app", "3"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->count, 3);
}

TEST(AnnotationsTest, CoresOfAnotherContainerIsIgnored) {
  auto r = pool_request({{"io.kubernetes.cri.container-name", "sidecar"},
                         {"kcm.intel.com/pool", "dataplane"},
                         {"kcm.intel.com/cores.app", "3"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->count, 1);
}

TEST(AnnotationsTest, CoresWithoutPoolAsksForNothing) {
  EXPECT_FALSE(pool_request({{"kcm.intel.com/cores", "2"}}).has_value());
}

TEST(AnnotationsTest, CoresAcceptsOneToSixtyFour) {
  for (const char* n : {"1", "64"}) {
    auto r = pool_request({{"kcm.intel.com/pool", "dataplane"}, {"kcm.intel.com/cores", n}});
    ASSERT_TRUE(r.has_value()) << n;
    EXPECT_EQ(r->count, std::stoi(n));
  }
}

TEST(AnnotationsTest, CoresOutOfRangeOrNotANumberIsUsageError) {
  for (const char* n : {"0", "65", "-1", "+2", " 2", "2 ", "1.5", "two", "", "99999999999"}) {
    std::string msg =
        usage_error_of({{"kcm.intel.com/pool", "dataplane"}, {"kcm.intel.com/cores", n}});
    EXPECT_EQ(msg, "annotation \"kcm.intel.com/cores\"=\"" + std::string(n) +
                       "\": not a number of CPU lists from 1 to 64")
        << n;
  }
}

TEST(AnnotationsTest, InvalidContainerSpecificCoresNamesItsKey) {
  std::string msg = usage_error_of({{"io.kubernetes.cri.container-name", "app"},
                                    {"kcm.intel.com/pool", "dataplane"},
                                    {"kcm.intel.com/cores.app", "0"}});
  EXPECT_NE(msg.find("\"kcm.intel.com/cores.app\"=\"0\""), std::string::npos) << msg;
}

TEST(AnnotationsTest, MemoryIsNotAskedForByDefault) {
  EXPECT_EQ(pool_request({{"kcm.intel.com/pool", "dataplane"}})->memory_local_annotation, "");
}

TEST(AnnotationsTest, MemoryLocalIsRecordedWithItsKey) {
  auto r = pool_request({{"kcm.intel.com/pool", "dataplane"}, {"kcm.intel.com/memory", "local"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->memory_local_annotation, "kcm.intel.com/memory");
}

TEST(AnnotationsTest, ContainerSpecificMemoryWinsOverPodWide) {
  auto r = pool_request({{"io.kubernetes.cri.container-name", "app"},
                         {"kcm.intel.com/pool", "dataplane"},
                         {"kcm.intel.com/memory", "remote"},
                         {"kcm.intel.com/memory.app", "local"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->memory_local_annotation, "kcm.intel.com/memory.app");
}

TEST(AnnotationsTest, MemoryOfAnotherContainerIsIgnored) {
  auto r = pool_request({{"io.kubernetes.cri.container-name", "app"},
                         {"kcm.intel.com/pool", "dataplane"},
                         {"kcm.intel.com/memory.sidecar", "local"}});
  EXPECT_EQ(r->memory_local_annotation, "");
}

TEST(AnnotationsTest, MemoryWithoutPoolAsksForNothing) {
  EXPECT_FALSE(pool_request({{"kcm.intel.com/memory", "local"}}).has_value());
}

TEST(AnnotationsTest, OtherMemoryValuesAreUsageErrors) {
  for (const char* v : {"", "Local", "local ", "remote", "interleave", "0"}) {
    EXPECT_EQ(usage_error_of({{"kcm.intel.com/pool", "dataplane"}, {"kcm.intel.com/memory", v}}),
              "annotation \"kcm.intel.com/memory\"=\"" + std::string(v) +
                  "\": not a memory policy: the only one is \"local\"")
        << v;
  }
}

TEST(AnnotationsTest, InvalidPoolNameIsUsageErrorNamingAnnotationAndValue) {
  EXPECT_EQ(usage_error_of({{"kcm.intel.com/pool", "../etc"}}),
            "annotation \"kcm.intel.com/pool\"=\"../etc\": not a pool name: must match "
            "[a-z0-9][a-z0-9_-]{0,62}");
}

TEST(AnnotationsTest, EmptyPoolNameIsUsageError) {
  EXPECT_NE(usage_error_of({{"kcm.intel.com/pool", ""}}), "");
}

TEST(AnnotationsTest, UppercasePoolNameIsUsageError) {
  EXPECT_NE(usage_error_of({{"kcm.intel.com/pool", "DataPlane"}}), "");
}

TEST(AnnotationsTest, InvalidOverrideNamesItsKey) {
  std::string msg = usage_error_of({{"io.kubernetes.container.name", "app"},
                                    {"kcm.intel.com/pool", "infra"},
                                    {"kcm.intel.com/pool.app", "No Such"}});
  EXPECT_NE(msg.find("\"kcm.intel.com/pool.app\"=\"No Such\""), std::string::npos) << msg;
}

TEST(AnnotationsTest, ContainerdSandboxAsksForNothing) {
  EXPECT_FALSE(pool_request({{"io.kubernetes.cri.container-type", "sandbox"},
                             {"kcm.intel.com/pool", "dataplane"}})
                   .has_value());
}

TEST(AnnotationsTest, CrioSandboxAsksForNothing) {
  EXPECT_FALSE(pool_request({{"io.kubernetes.cri-o.ContainerType", "sandbox"},
                             {"kcm.intel.com/pool", "dataplane"}})
                   .has_value());
}

TEST(AnnotationsTest, DockershimSandboxAsksForNothing) {
  EXPECT_FALSE(pool_request({{"io.kubernetes.docker.type", "podsandbox"},
                             {"kcm.intel.com/pool", "dataplane"}})
                   .has_value());
}

TEST(AnnotationsTest, SandboxWithInvalidAnnotationsIsNotAnError) {
  EXPECT_FALSE(pool_request({{"io.kubernetes.cri.container-type", "sandbox"},
                             {"kcm.intel.com/pool", "BAD"},
                             {"kcm.intel.com/cores", "0"}})
                   .has_value());
}

TEST(AnnotationsTest, ContainerTypeContainerIsNotSandbox) {
  EXPECT_FALSE(is_sandbox({{"io.kubernetes.cri.container-type", "container"},
                           {"io.kubernetes.cri-o.ContainerType", "container"},
                           {"io.kubernetes.docker.type", "container"}}));
}

TEST(AnnotationsTest, ContainerdNameWinsOverCrioName) {
  EXPECT_EQ(container_name(
                {{"io.kubernetes.cri.container-name", "a"}, {"io.kubernetes.container.name", "b"}}),
            "a");
  EXPECT_EQ(container_name({}), "");
}

}  // namespace
}  // namespace kcm
