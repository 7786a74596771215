#include "runtime_args.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "error.h"

namespace kcm {
namespace {

// The one reading of a command line that has exactly one.
RuntimeCommand parse_one(const std::vector<std::string>& args) {
  auto readings = parse_runtime_args(args);
  EXPECT_EQ(readings.size(), 1u);
  return readings.empty() ? RuntimeCommand{} : readings.front();
}

TEST(RuntimeArgsTest, ContainerdGoRuncCreate) {
  auto c = parse_one({"--root", "/run/containerd/runc/default", "--log",
                      "/run/containerd/io.containerd.runtime.v2.task/default/c1/log.json",
                      "--log-format", "json", "create", "--bundle",
                      "/run/containerd/io.containerd.runtime.v2.task/default/c1", "--pid-file",
                      "/run/x/init.pid", "c1"});
  EXPECT_EQ(c.subcommand, "create");
  EXPECT_EQ(c.bundle, "/run/containerd/io.containerd.runtime.v2.task/default/c1");
}

TEST(RuntimeArgsTest, ContainerdWithSystemdCgroupAndConsoleSocket) {
  auto c = parse_one({"--root", "/r", "--log", "/l.json", "--log-format", "json",
                      "--systemd-cgroup", "create", "--bundle", "/b", "--pid-file", "/p",
                      "--console-socket", "/s.sock", "c1"});
  EXPECT_EQ(c.subcommand, "create");
  EXPECT_EQ(c.bundle, "/b");
}

TEST(RuntimeArgsTest, ConmonCreateWithEqualsGlobals) {
  auto c = parse_one({"--root=/run/runc", "--log-format=json", "--log=/ctr/oci-log",
                      "--systemd-cgroup", "create", "--bundle", "/userdata", "--pid-file",
                      "/userdata/pidfile", "--no-pivot", "--no-new-keyring", "abc123"});
  EXPECT_EQ(c.subcommand, "create");
  EXPECT_EQ(c.bundle, "/userdata");
}

TEST(RuntimeArgsTest, RunWithShortBundleFlag) {
  auto c = parse_one({"run", "-b", "/bundle", "id"});
  EXPECT_EQ(c.subcommand, "run");
  EXPECT_EQ(c.bundle, "/bundle");
}

TEST(RuntimeArgsTest, BundleWithEquals) {
  EXPECT_EQ(parse_one({"create", "--bundle=/b", "id"}).bundle, "/b");
  EXPECT_EQ(parse_one({"create", "-b=/b", "id"}).bundle, "/b");
}

TEST(RuntimeArgsTest, SingleDashLongFlagAsGoAcceptsIt) {
  auto c = parse_one({"-root", "/r", "create", "-bundle", "/b", "id"});
  EXPECT_EQ(c.subcommand, "create");
  EXPECT_EQ(c.bundle, "/b");
}

TEST(RuntimeArgsTest, BundleAfterContainerIdIsFound) {
  // urfave/cli v1 reorders flags that follow positional arguments.
  EXPECT_EQ(parse_one({"run", "id", "--bundle", "/b"}).bundle, "/b");
}

TEST(RuntimeArgsTest, PidFileValueIsNotReadAsBundle) {
  auto c = parse_one({"create", "--pid-file", "-b", "id"});
  EXPECT_EQ(c.bundle, std::nullopt);
}

TEST(RuntimeArgsTest, NothingAfterDoubleDashIsAFlag) {
  EXPECT_EQ(parse_one({"run", "--", "--bundle", "/b"}).bundle, std::nullopt);
}

TEST(RuntimeArgsTest, LastBundleWins) {
  EXPECT_EQ(parse_one({"create", "-b", "/a", "--bundle", "/b", "id"}).bundle, "/b");
}

TEST(RuntimeArgsTest, NoBundleMeansWorkingDirectory) {
  auto c = parse_one({"run", "id"});
  EXPECT_EQ(c.bundle, std::nullopt);
  EXPECT_EQ(bundle_dir(c, "/home/me/bundle"), "/home/me/bundle");
}

TEST(RuntimeArgsTest, EmptyBundleMeansWorkingDirectory) {
  EXPECT_EQ(bundle_dir(parse_one({"create", "--bundle=", "id"}), "/cwd"), "/cwd");
}

TEST(RuntimeArgsTest, RelativeBundleResolvesAgainstWorkingDirectory) {
  EXPECT_EQ(bundle_dir(parse_one({"run", "-b", "b1", "id"}), "/tmp"), "/tmp/b1");
}

TEST(RuntimeArgsTest, VersionHasNoSubcommand) {
  EXPECT_EQ(parse_one({"--version"}).subcommand, "");
  EXPECT_EQ(parse_one({"-v"}).subcommand, "");
}

TEST(RuntimeArgsTest, HelpBeforeSubcommandHasNoSubcommand) {
  EXPECT_EQ(parse_one({"--help", "create"}).subcommand, "");
}

TEST(RuntimeArgsTest, EmptyCommandLineHasNoSubcommand) { EXPECT_EQ(parse_one({}).subcommand, ""); }

TEST(RuntimeArgsTest, OtherSubcommandsHaveNoBundle) {
  auto c = parse_one({"--root", "/r", "--log", "/l", "--log-format", "json", "state", "id"});
  EXPECT_EQ(c.subcommand, "state");
  EXPECT_FALSE(creates_container(c));
  EXPECT_EQ(c.bundle, std::nullopt);
}

TEST(RuntimeArgsTest, ExecIsNotCreate) {
  // exec has its own flags (--process, -p…); nothing of it matters to the wrapper.
  auto c = parse_one({"--root", "/r", "exec", "--process", "/p.json", "--detach", "id"});
  EXPECT_EQ(c.subcommand, "exec");
  EXPECT_FALSE(creates_container(c));
}

TEST(RuntimeArgsTest, CreateAndRunCreateContainers) {
  EXPECT_TRUE(creates_container(parse_one({"create", "id"})));
  EXPECT_TRUE(creates_container(parse_one({"run", "id"})));
}

TEST(RuntimeArgsTest, DebugAndRootlessGlobals) {
  auto c = parse_one(
      {"--debug", "--rootless", "false", "--criu", "/usr/sbin/criu", "run", "-b", "/b", "id"});
  EXPECT_EQ(c.subcommand, "run");
  EXPECT_EQ(c.bundle, "/b");
}

TEST(RuntimeArgsTest, BooleanGlobalWithValueDoesNotConsumeNext) {
  EXPECT_EQ(parse_one({"--debug=true", "create", "id"}).subcommand, "create");
}

TEST(RuntimeArgsTest, UnknownGlobalWithValueIsSkipped) {
  EXPECT_EQ(parse_one({"--future=x", "create", "id"}).subcommand, "create");
}

TEST(RuntimeArgsTest, UnknownGlobalWithoutValueGivesBothReadings) {
  // runc alone knows whether --future takes "x"; both readings are returned.
  EXPECT_EQ(parse_runtime_args({"--future", "x", "create", "-b", "/b", "id"}),
            (std::vector<RuntimeCommand>{{"x", std::nullopt}, {"create", "/b"}}));
  // At the global level "-b" is an unknown flag too.
  EXPECT_EQ(
      parse_runtime_args({"--future", "create", "-b", "/b", "id"}),
      (std::vector<RuntimeCommand>{{"create", "/b"}, {"/b", std::nullopt}, {"id", std::nullopt}}));
}

TEST(RuntimeArgsTest, EachUnknownGlobalForksTheReadings) {
  EXPECT_EQ(parse_runtime_args({"--a", "--b", "run", "id"}),
            (std::vector<RuntimeCommand>{{"run", std::nullopt}, {"id", std::nullopt}}));
}

TEST(RuntimeArgsTest, ReadingsThatCannotBeReadAreLeftOut) {
  // Taken as a boolean, --future leaves --root without a value.
  EXPECT_EQ(parse_runtime_args({"--future", "--root"}), (std::vector<RuntimeCommand>{{}}));
}

TEST(RuntimeArgsTest, ManyUnknownGlobalsStayCheap) {
  std::vector<std::string> args(5000, "--future");
  args.insert(args.end(), {"create", "-b", "/b", "id"});
  const auto readings = parse_runtime_args(args);
  EXPECT_NE(std::find(readings.begin(), readings.end(), RuntimeCommand{"create", "/b"}),
            readings.end());
}

TEST(RuntimeArgsTest, GlobalValueFlagAtEndIsAnError) {
  EXPECT_THROW(parse_runtime_args({"--root"}), Error);
}

TEST(RuntimeArgsTest, BundleFlagAtEndIsAnError) {
  EXPECT_THROW(parse_runtime_args({"create", "id", "--bundle"}), Error);
}

TEST(RuntimeArgsTest, DoubleDashEndsGlobalFlags) {
  EXPECT_EQ(parse_one({"--root", "/r", "--", "create", "-b", "/b", "id"}).bundle, "/b");
}

}  // namespace
}  // namespace kcm
