#include "env.h"

#include <gtest/gtest.h>

#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

using testing_support::ScopedEnv;
using testing_support::thrown_by;

TEST(EnvTest, SysfsRootDefaultsToSys) {
  ScopedEnv env("KCM_SYS_FS", std::nullopt);
  EXPECT_EQ(sysfs_root_from_env(), "/sys");
}

TEST(EnvTest, SysfsRootFromVariable) {
  ScopedEnv env("KCM_SYS_FS", "/host/sys");
  EXPECT_EQ(sysfs_root_from_env(), "/host/sys");
}

TEST(EnvTest, EmptySysfsRootMeansDefault) {
  ScopedEnv env("KCM_SYS_FS", "");
  EXPECT_EQ(sysfs_root_from_env(), "/sys");
}

TEST(EnvTest, ProcfsRootDefaultsToProc) {
  ScopedEnv env("KCM_PROC_FS", std::nullopt);
  EXPECT_EQ(procfs_root_from_env(), "/proc");
}

TEST(EnvTest, ProcfsRootFromVariable) {
  ScopedEnv env("KCM_PROC_FS", "/host/proc");
  EXPECT_EQ(procfs_root_from_env(), "/host/proc");
}

TEST(EnvTest, EmptyProcfsRootMeansDefault) {
  ScopedEnv env("KCM_PROC_FS", "");
  EXPECT_EQ(procfs_root_from_env(), "/proc");
}

TEST(EnvTest, RequiredProcfsRootFromVariable) {
  ScopedEnv env("KCM_PROC_FS", "/host/proc");
  EXPECT_EQ(required_procfs_root_from_env("isolate"), "/host/proc");
}

TEST(EnvTest, RequiredProcfsRootUnsetNamesSubcommandAndVariable) {
  ScopedEnv env("KCM_PROC_FS", std::nullopt);
  auto t = thrown_by([] { required_procfs_root_from_env("reconcile"); });
  EXPECT_EQ(t.message,
            "kcm reconcile requires KCM_PROC_FS: set it to the host's procfs (e.g. "
            "KCM_PROC_FS=/proc, or /host/proc inside a container)");
  EXPECT_EQ(t.exit_code, kExitFailure);
}

TEST(EnvTest, RequiredProcfsRootEmptyIsRefused) {
  ScopedEnv env("KCM_PROC_FS", "");
  auto t = thrown_by([] { required_procfs_root_from_env("isolate"); });
  EXPECT_EQ(t.message.rfind("kcm isolate requires KCM_PROC_FS: ", 0), 0u) << t.message;
  EXPECT_EQ(t.exit_code, kExitFailure);
}

}  // namespace
}  // namespace kcm
