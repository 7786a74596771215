#include "env.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

using std::chrono::milliseconds;
using testing_support::thrown_by;

// Settings read from exactly these variables.
Settings settings_of(const std::map<std::string, std::string>& vars) {
  return read_settings([&](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

TEST(EnvTest, DefaultsWhenNothingIsSet) {
  const Settings s = settings_of({});
  EXPECT_EQ(s.procfs_root, "/proc");
  EXPECT_FALSE(s.procfs_root_given);
  EXPECT_EQ(s.sysfs_root, "/sys");
  EXPECT_EQ(s.lock_timeout(), milliseconds(30000));
  EXPECT_EQ(s.log_level, "");
  EXPECT_EQ(s.runtime_config, "/etc/kcm-runtime.json");
  EXPECT_EQ(s.path, "/usr/sbin:/usr/bin:/sbin:/bin");
  EXPECT_STREQ(kDefaultConfDir, "/etc/kcm");
}

TEST(EnvTest, EmptyMeansDefault) {
  const Settings s = settings_of({{"KCM_PROC_FS", ""},
                                  {"KCM_SYS_FS", ""},
                                  {"KCM_LOCK_TIMEOUT", ""},
                                  {"KCM_LOG_LEVEL", ""},
                                  {"KCM_RUNTIME_CONFIG", ""}});
  EXPECT_EQ(s.procfs_root, "/proc");
  EXPECT_FALSE(s.procfs_root_given);
  EXPECT_EQ(s.sysfs_root, "/sys");
  EXPECT_EQ(s.lock_timeout(), milliseconds(30000));
  EXPECT_EQ(s.runtime_config, "/etc/kcm-runtime.json");
}

TEST(EnvTest, ReadsEveryVariable) {
  const Settings s = settings_of({{"KCM_PROC_FS", "/host/proc"},
                                  {"KCM_SYS_FS", "/host/sys"},
                                  {"KCM_LOCK_TIMEOUT", "5"},
                                  {"KCM_LOG_LEVEL", "debug"},
                                  {"KCM_RUNTIME_CONFIG", "/tmp/k.json"},
                                  {"PATH", "/opt/bin"}});
  EXPECT_EQ(s.procfs_root, "/host/proc");
  EXPECT_TRUE(s.procfs_root_given);
  EXPECT_EQ(s.sysfs_root, "/host/sys");
  EXPECT_EQ(s.lock_timeout(), milliseconds(5000));
  EXPECT_EQ(s.log_level, "debug");
  EXPECT_EQ(s.runtime_config, "/tmp/k.json");
  EXPECT_EQ(s.path, "/opt/bin");
}

TEST(EnvTest, KubeletCpuManagerStateDefaultsToTheKubeletsPath) {
  EXPECT_EQ(settings_of({}).kubelet_cpu_manager_state, "/var/lib/kubelet/cpu_manager_state");
  EXPECT_EQ(settings_of({{"KCM_KUBELET_CPU_MANAGER_STATE", ""}}).kubelet_cpu_manager_state,
            "/var/lib/kubelet/cpu_manager_state");
  EXPECT_EQ(settings_of({{"KCM_KUBELET_CPU_MANAGER_STATE", "/host/kubelet/state"}})
                .kubelet_cpu_manager_state,
            "/host/kubelet/state");
}

TEST(EnvTest, AnEmptyPathIsKept) {
  // An empty $PATH means "only the current directory" to execvp; kcm-runtime keeps it.
  EXPECT_EQ(settings_of({{"PATH", ""}}).path, "");
}

TEST(EnvTest, ProcessEnvReadsTheEnvironment) {
  testing_support::ScopedEnv env("KCM_SYS_FS", "/from/env");
  EXPECT_EQ(process_env("KCM_SYS_FS"), "/from/env");
  EXPECT_EQ(read_settings().sysfs_root, "/from/env");
  testing_support::ScopedEnv unset("KCM_SYS_FS", std::nullopt);
  EXPECT_EQ(process_env("KCM_SYS_FS"), std::nullopt);
}

TEST(EnvTest, RequiredProcfsRootFromVariable) {
  EXPECT_EQ(settings_of({{"KCM_PROC_FS", "/host/proc"}}).required_procfs_root("isolate"),
            "/host/proc");
}

TEST(EnvTest, RequiredProcfsRootUnsetNamesSubcommandAndVariable) {
  auto t = thrown_by([] { settings_of({}).required_procfs_root("reconcile"); });
  EXPECT_EQ(t.message,
            "kcm reconcile requires KCM_PROC_FS: set it to the host's procfs (e.g. "
            "KCM_PROC_FS=/proc, or /host/proc inside a container)");
  EXPECT_EQ(t.exit_code, kExitFailure);
}

TEST(EnvTest, RequiredProcfsRootEmptyIsRefused) {
  auto t = thrown_by([] { settings_of({{"KCM_PROC_FS", ""}}).required_procfs_root("isolate"); });
  EXPECT_EQ(t.message.rfind("kcm isolate requires KCM_PROC_FS: ", 0), 0u) << t.message;
  EXPECT_EQ(t.exit_code, kExitFailure);
}

// --- KCM_LOCK_TIMEOUT ---------------------------------------------------------------------

milliseconds timeout_of(const std::string& value) {
  return settings_of({{"KCM_LOCK_TIMEOUT", value}}).lock_timeout();
}

TEST(LockTimeoutTest, ParsesWholeSecondsAndFractions) {
  EXPECT_EQ(timeout_of("30"), milliseconds(30000));
  EXPECT_EQ(timeout_of("0.5"), milliseconds(500));
}

TEST(LockTimeoutTest, RoundsSubMillisecondUp) { EXPECT_EQ(timeout_of("0.0001"), milliseconds(1)); }

TEST(LockTimeoutTest, RefusesText) {
  auto t = thrown_by([] { timeout_of("abc"); });
  EXPECT_EQ(t.message, "KCM_LOCK_TIMEOUT: \"abc\" is not a number of seconds between 0 and 86400");
  EXPECT_EQ(t.exit_code, kExitUsage);
}

TEST(LockTimeoutTest, RefusesNegativeAndZero) {
  EXPECT_EQ(thrown_by([] { timeout_of("-1"); }).exit_code, kExitUsage);
  EXPECT_EQ(thrown_by([] { timeout_of("0"); }).message,
            "KCM_LOCK_TIMEOUT: \"0\" is not a number of seconds between 0 and 86400");
}

TEST(LockTimeoutTest, RefusesTrailingGarbageInfinityAndNan) {
  for (const char* value : {"5s", "inf", "nan", "1e9"}) {
    EXPECT_EQ(thrown_by([&] { timeout_of(value); }).exit_code, kExitUsage) << value;
  }
}

TEST(LockTimeoutTest, AMalformedValueFailsOnlyWhereTheTimeoutIsUsed) {
  const Settings s = settings_of({{"KCM_LOCK_TIMEOUT", "abc"}});
  EXPECT_EQ(s.procfs_root, "/proc");
  EXPECT_THROW(s.lock_timeout(), Error);
}

}  // namespace
}  // namespace kcm
