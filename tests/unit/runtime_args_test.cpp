#include "runtime_args.h"

#include <gtest/gtest.h>

#include "error.h"

namespace kcm {
namespace {

TEST(RuntimeArgsTest, ContainerdGoRuncCreate) {
  auto c = parse_runtime_args({"--root", "/run/containerd/runc/default", "--log",
                               "/run/containerd/io.containerd.runtime.v2.task/default/c1/log.json",
                               "--log-format", "json", "create", "--bundle",
                               "/run/containerd/io.containerd.runtime.v2.task/default/c1",
                               "--pid-file", "/run/x/init.pid", "c1"});
  EXPECT_EQ(c.subcommand, "create");
  EXPECT_EQ(c.bundle, "/run/containerd/io.containerd.runtime.v2.task/default/c1");
}

TEST(RuntimeArgsTest, ContainerdWithSystemdCgroupAndConsoleSocket) {
  auto c = parse_runtime_args({"--root", "/r", "--log", "/l.json", "--log-format", "json",
                               "--systemd-cgroup", "create", "--bundle", "/b", "--pid-file", "/p",
                               "--console-socket", "/s.sock", "c1"});
  EXPECT_EQ(c.subcommand, "create");
  EXPECT_EQ(c.bundle, "/b");
}

TEST(RuntimeArgsTest, ConmonCreateWithEqualsGlobals) {
  auto c = parse_runtime_args({"--root=/run/runc", "--log-format=json", "--log=/ctr/oci-log",
                               "--systemd-cgroup", "create", "--bundle", "/userdata", "--pid-file",
                               "/userdata/pidfile", "--no-pivot", "--no-new-keyring", "abc123"});
  EXPECT_EQ(c.subcommand, "create");
  EXPECT_EQ(c.bundle, "/userdata");
}

TEST(RuntimeArgsTest, RunWithShortBundleFlag) {
  auto c = parse_runtime_args({"run", "-b", "/bundle", "id"});
  EXPECT_EQ(c.subcommand, "run");
  EXPECT_EQ(c.bundle, "/bundle");
}

TEST(RuntimeArgsTest, BundleWithEquals) {
  EXPECT_EQ(parse_runtime_args({"create", "--bundle=/b", "id"}).bundle, "/b");
  EXPECT_EQ(parse_runtime_args({"create", "-b=/b", "id"}).bundle, "/b");
}

TEST(RuntimeArgsTest, SingleDashLongFlagAsGoAcceptsIt) {
  auto c = parse_runtime_args({"-root", "/r", "create", "-bundle", "/b", "id"});
  EXPECT_EQ(c.subcommand, "create");
  EXPECT_EQ(c.bundle, "/b");
}

TEST(RuntimeArgsTest, BundleAfterContainerIdIsFound) {
  // urfave/cli v1 reorders flags that follow positional arguments.
  EXPECT_EQ(parse_runtime_args({"run", "id", "--bundle", "/b"}).bundle, "/b");
}

TEST(RuntimeArgsTest, PidFileValueIsNotReadAsBundle) {
  auto c = parse_runtime_args({"create", "--pid-file", "-b", "id"});
  EXPECT_EQ(c.bundle, std::nullopt);
}

TEST(RuntimeArgsTest, NothingAfterDoubleDashIsAFlag) {
  EXPECT_EQ(parse_runtime_args({"run", "--", "--bundle", "/b"}).bundle, std::nullopt);
}

TEST(RuntimeArgsTest, LastBundleWins) {
  EXPECT_EQ(parse_runtime_args({"create", "-b", "/a", "--bundle", "/b", "id"}).bundle, "/b");
}

TEST(RuntimeArgsTest, NoBundleMeansWorkingDirectory) {
  auto c = parse_runtime_args({"run", "id"});
  EXPECT_EQ(c.bundle, std::nullopt);
  EXPECT_EQ(bundle_dir(c, "/home/me/bundle"), "/home/me/bundle");
}

TEST(RuntimeArgsTest, EmptyBundleMeansWorkingDirectory) {
  EXPECT_EQ(bundle_dir(parse_runtime_args({"create", "--bundle=", "id"}), "/cwd"), "/cwd");
}

TEST(RuntimeArgsTest, RelativeBundleResolvesAgainstWorkingDirectory) {
  EXPECT_EQ(bundle_dir(parse_runtime_args({"run", "-b", "b1", "id"}), "/tmp"), "/tmp/b1");
}

TEST(RuntimeArgsTest, VersionHasNoSubcommand) {
  EXPECT_EQ(parse_runtime_args({"--version"}).subcommand, "");
  EXPECT_EQ(parse_runtime_args({"-v"}).subcommand, "");
}

TEST(RuntimeArgsTest, HelpBeforeSubcommandHasNoSubcommand) {
  EXPECT_EQ(parse_runtime_args({"--help", "create"}).subcommand, "");
}

TEST(RuntimeArgsTest, EmptyCommandLineHasNoSubcommand) {
  EXPECT_EQ(parse_runtime_args({}).subcommand, "");
}

TEST(RuntimeArgsTest, OtherSubcommandsHaveNoBundle) {
  auto c =
      parse_runtime_args({"--root", "/r", "--log", "/l", "--log-format", "json", "state", "id"});
  EXPECT_EQ(c.subcommand, "state");
  EXPECT_FALSE(creates_container(c));
  EXPECT_EQ(c.bundle, std::nullopt);
}

TEST(RuntimeArgsTest, ExecIsNotCreate) {
  // exec has its own flags (--process, -p…); nothing of it matters to the wrapper.
  auto c = parse_runtime_args({"--root", "/r", "exec", "--process", "/p.json", "--detach", "id"});
  EXPECT_EQ(c.subcommand, "exec");
  EXPECT_FALSE(creates_container(c));
}

TEST(RuntimeArgsTest, CreateAndRunCreateContainers) {
  EXPECT_TRUE(creates_container(parse_runtime_args({"create", "id"})));
  EXPECT_TRUE(creates_container(parse_runtime_args({"run", "id"})));
}

TEST(RuntimeArgsTest, DebugAndRootlessGlobals) {
  auto c = parse_runtime_args(
      {"--debug", "--rootless", "false", "--criu", "/usr/sbin/criu", "run", "-b", "/b", "id"});
  EXPECT_EQ(c.subcommand, "run");
  EXPECT_EQ(c.bundle, "/b");
}

TEST(RuntimeArgsTest, BooleanGlobalWithValueDoesNotConsumeNext) {
  EXPECT_EQ(parse_runtime_args({"--debug=true", "create", "id"}).subcommand, "create");
}

TEST(RuntimeArgsTest, UnknownGlobalWithValueIsSkipped) {
  EXPECT_EQ(parse_runtime_args({"--future=x", "create", "id"}).subcommand, "create");
}

TEST(RuntimeArgsTest, UnknownGlobalWithoutValueIsAnError) {
  EXPECT_THROW(parse_runtime_args({"--future", "x", "create", "id"}), Error);
}

TEST(RuntimeArgsTest, GlobalValueFlagAtEndIsAnError) {
  EXPECT_THROW(parse_runtime_args({"--root"}), Error);
}

TEST(RuntimeArgsTest, BundleFlagAtEndIsAnError) {
  EXPECT_THROW(parse_runtime_args({"create", "id", "--bundle"}), Error);
}

TEST(RuntimeArgsTest, DoubleDashEndsGlobalFlags) {
  EXPECT_EQ(parse_runtime_args({"--root", "/r", "--", "create", "-b", "/b", "id"}).bundle, "/b");
}

}  // namespace
}  // namespace kcm
