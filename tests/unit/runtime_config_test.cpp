#include "runtime_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

namespace fs = std::filesystem;

using testing_support::TempDir;

// A shell script at `rel` in `dir`, executable by its owner only; returns its path.
std::string make_executable(const TempDir& dir, const std::string& rel) {
  const std::string p = dir / rel;
  testing_support::write_file(p, "#!/bin/sh\n");
  fs::permissions(p, fs::perms::owner_all);
  return p;
}

TEST(RuntimeConfigTest, EmptyObjectMeansDefaults) {
  auto c = parse_runtime_config("{}", "f");
  EXPECT_EQ(c.runtime, "");
  EXPECT_EQ(c.hook, "");
  EXPECT_EQ(c.conf_dir, "/etc/kcm");
  EXPECT_EQ(c.log_file, "");
}

TEST(RuntimeConfigTest, ReadsEveryKey) {
  auto c = parse_runtime_config(R"({"runtime":"/usr/sbin/runc","hook":"/opt/kcm-hook",
      "confDir":"/srv/kcm","logFile":"/var/log/kcm-runtime.log"})",
                                "f");
  EXPECT_EQ(c.runtime, "/usr/sbin/runc");
  EXPECT_EQ(c.hook, "/opt/kcm-hook");
  EXPECT_EQ(c.conf_dir, "/srv/kcm");
  EXPECT_EQ(c.log_file, "/var/log/kcm-runtime.log");
}

TEST(RuntimeConfigTest, MalformedJsonNamesTheFile) {
  try {
    parse_runtime_config("{", "/etc/kcm-runtime.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"/etc/kcm-runtime.json\""), std::string::npos);
  }
}

TEST(RuntimeConfigTest, DeepNestingIsAUsageErrorNamingTheFile) {
  const std::string deep = R"({"runtime":)" + std::string(100'000, '[') + "}";
  EXPECT_EQ(testing_support::usage_error_by([&] { parse_runtime_config(deep, "/etc/k.json"); }),
            "parse \"/etc/k.json\": nested deeper than 64 levels");
}

TEST(RuntimeConfigTest, UnknownKeyIsAnError) {
  EXPECT_EQ(testing_support::usage_error_by(
                [] { parse_runtime_config(R"({"runtme":"/usr/sbin/runc"})", "/f"); }),
            R"(read "/f": unknown key "runtme" (known: runtime, hook, confDir, logFile))");
}

TEST(RuntimeConfigTest, NonStringValueIsAnError) {
  EXPECT_EQ(testing_support::usage_error_by([] { parse_runtime_config(R"({"confDir":1})", "/f"); }),
            R"(read "/f": "confDir" must be a non-empty string)");
}

TEST(RuntimeConfigTest, RelativeHookIsAnError) {
  EXPECT_EQ(
      testing_support::usage_error_by([] { parse_runtime_config(R"({"hook":"kcm-hook"})", "/f"); }),
      R"(read "/f": "hook" must be an absolute path, not "kcm-hook")");
}

TEST(RuntimeConfigTest, NonObjectIsAnError) {
  EXPECT_EQ(testing_support::usage_error_by([] { parse_runtime_config("[]", "/f"); }),
            R"(read "/f": is not a JSON object)");
}

TEST(RuntimeConfigTest, ShippedConfigIsValid) {
  const auto c =
      load_runtime_config(std::string(KCM_FIXTURES_DIR) + "/../../config/kcm-runtime.json");
  EXPECT_EQ(c.runtime, "runc");
  EXPECT_EQ(c.conf_dir, "/etc/kcm");
}

TEST(RuntimeConfigTest, BrokenFileMeansDefaultsAndItsError) {
  TempDir dir;
  const std::string path = dir.path() + "/c.json";
  std::ofstream(path) << R"({"confDir":1,"runtime":"/x"})";
  const LoadedRuntimeConfig loaded = load_runtime_config_or_defaults(path);
  EXPECT_EQ(loaded.config.runtime, "");
  EXPECT_EQ(loaded.config.conf_dir, "/etc/kcm");
  EXPECT_EQ(loaded.error, "read \"" + path + "\": \"confDir\" must be a non-empty string");
  EXPECT_FALSE(load_runtime_config_or_defaults(dir.path() + "/absent.json").error);
}

TEST(RuntimeConfigTest, UnreadableFileIsABrokenConfig) {
  TempDir dir;
  fs::create_directories(dir.path() + "/c.json");
  EXPECT_EQ(load_runtime_config_or_defaults(dir.path() + "/c.json").error,
            "read \"" + dir.path() + "/c.json\": Is a directory");
}

TEST(RuntimeConfigTest, NoRuntimeAfterABrokenConfigNamesBothErrors) {
  TempDir dir;
  const std::string self = make_executable(dir, "bin/kcm-runtime");
  LoadedRuntimeConfig loaded;
  loaded.error = R"(parse "/etc/kcm-runtime.json": malformed JSON)";
  EXPECT_EQ(testing_support::thrown_by([&] { resolve_runtime(loaded, dir.path(), self); }).message,
            "find the real runtime \"runc\": not found on PATH \"" + dir.path() +
                "\" (after ignoring the config: parse \"/etc/kcm-runtime.json\": malformed JSON)");
  const std::string runc = make_executable(dir, "sbin/runc");
  EXPECT_EQ(resolve_runtime(loaded, dir.path() + "/sbin", self), runc);
  loaded.error.reset();
  EXPECT_EQ(testing_support::thrown_by([&] { resolve_runtime(loaded, dir.path(), self); }).message,
            "find the real runtime \"runc\": not found on PATH \"" + dir.path() + "\"");
}

TEST(RuntimeConfigTest, MissingFileMeansDefaults) {
  TempDir dir;
  auto c = load_runtime_config(dir.path() + "/absent.json");
  EXPECT_EQ(c.conf_dir, "/etc/kcm");
}

TEST(RuntimeConfigTest, LoadsAFile) {
  TempDir dir;
  std::ofstream(dir.path() + "/c.json") << R"({"confDir":"/x"})";
  EXPECT_EQ(load_runtime_config(dir.path() + "/c.json").conf_dir, "/x");
}

TEST(RuntimeConfigTest, DefaultRuntimeIsRuncOnPath) {
  TempDir dir;
  const std::string self = make_executable(dir, "bin/kcm-runtime");
  const std::string runc = make_executable(dir, "sbin/runc");
  EXPECT_EQ(resolve_runtime("", dir.path() + "/nothing:" + dir.path() + "/sbin", self), runc);
}

TEST(RuntimeConfigTest, WrapperInstalledAsRuncIsSkippedOnPath) {
  TempDir dir;
  const std::string self = make_executable(dir, "bin/kcm-runtime");
  fs::create_directories(dir.path() + "/first");
  fs::create_symlink(self, dir.path() + "/first/runc");
  const std::string runc = make_executable(dir, "sbin/runc");
  EXPECT_EQ(resolve_runtime("", dir.path() + "/first:" + dir.path() + "/sbin", self), runc);
}

TEST(RuntimeConfigTest, HardLinkToWrapperIsSkippedOnPath) {
  TempDir dir;
  const std::string self = make_executable(dir, "bin/kcm-runtime");
  fs::create_directories(dir.path() + "/first");
  fs::create_hard_link(self, dir.path() + "/first/runc");
  EXPECT_THROW(resolve_runtime("", dir.path() + "/first", self), Error);
}

TEST(RuntimeConfigTest, ConfiguredPathToWrapperIsALoop) {
  TempDir dir;
  const std::string self = make_executable(dir, "bin/kcm-runtime");
  fs::create_symlink(self, dir.path() + "/runc");
  try {
    resolve_runtime(dir.path() + "/runc", "", self);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("itself"), std::string::npos) << e.what();
  }
}

TEST(RuntimeConfigTest, ConfiguredAbsolutePathIsUsed) {
  TempDir dir;
  const std::string self = make_executable(dir, "bin/kcm-runtime");
  const std::string crun = make_executable(dir, "opt/crun");
  EXPECT_EQ(resolve_runtime(crun, "", self), crun);
}

TEST(RuntimeConfigTest, ConfiguredBareNameIsLookedUpOnPath) {
  TempDir dir;
  const std::string self = make_executable(dir, "bin/kcm-runtime");
  const std::string crun = make_executable(dir, "opt/crun");
  EXPECT_EQ(resolve_runtime("crun", dir.path() + "/opt", self), crun);
}

TEST(RuntimeConfigTest, MissingRuntimeIsAnError) {
  TempDir dir;
  const std::string self = make_executable(dir, "bin/kcm-runtime");
  EXPECT_THROW(resolve_runtime("", dir.path() + "/none", self), Error);
  EXPECT_THROW(resolve_runtime(dir.path() + "/none/runc", "", self), Error);
}

TEST(RuntimeConfigTest, NonExecutableRuntimeIsAnError) {
  TempDir dir;
  const std::string self = make_executable(dir, "bin/kcm-runtime");
  std::ofstream(dir.path() + "/runc") << "x";
  EXPECT_THROW(resolve_runtime(dir.path() + "/runc", "", self), Error);
}

TEST(RuntimeConfigTest, DefaultHookIsBesideTheWrapper) {
  TempDir dir;
  const std::string self = make_executable(dir, "install/kcm-runtime");
  fs::create_directories(dir.path() + "/bin");
  fs::create_symlink(self, dir.path() + "/bin/kcm-runtime");
  make_executable(dir, "install/kcm-hook");
  EXPECT_EQ(resolve_hook("", dir.path() + "/bin/kcm-runtime", "/usr/libexec/kcm/kcm-hook"),
            fs::canonical(dir.path() + "/install").string() + "/kcm-hook");
}

// After `meson install` the hook is out of PATH, in LIBEXECDIR/kcm, not beside the wrapper.
TEST(RuntimeConfigTest, WithoutAHookBesideItTheInstalledOneIsUsed) {
  TempDir dir;
  const std::string self = make_executable(dir, "bin/kcm-runtime");
  EXPECT_EQ(resolve_hook("", self, "/usr/libexec/kcm/kcm-hook"), "/usr/libexec/kcm/kcm-hook");
}

TEST(RuntimeConfigTest, ConfiguredHookIsUsed) {
  EXPECT_EQ(resolve_hook("/opt/kcm-hook", "/usr/bin/kcm-runtime", "/usr/libexec/kcm/kcm-hook"),
            "/opt/kcm-hook");
}

}  // namespace
}  // namespace kcm
