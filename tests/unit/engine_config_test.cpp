// `kcm-runtime configure` / `unconfigure` (docs/runtime.md "Registering kcm with an
// engine"): the edits on real config texts of containerd, Docker, podman and CRI-O, the
// plan over a file map, the writes into a scratch directory, and the command line.
#include "engine_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "error.h"
#include "fs.h"
#include "test_support.h"

namespace kcm {
namespace {

using testing_support::mode_of;
using testing_support::read_text;
using testing_support::snapshot;
using testing_support::TempDir;
using testing_support::Thrown;
using testing_support::thrown_by;
using testing_support::usage_error_by;
using testing_support::write_file;

const std::string kRuntime = "/usr/local/bin/kcm-runtime";
const std::string kMain = "/etc/containerd/config.toml";

// containerd 1.6's own `containerd config default`, abridged, with a runtime of its own
// and comments: what an operator's main config looks like.
const std::string kContainerdV2 = R"(# the node's containerd config
disabled_plugins = []
# imports below? no: none yet
oom_score = 0
root = "/var/lib/containerd"
state = "/run/containerd"
version = 2

[grpc]
  address = "/run/containerd/containerd.sock"

[plugins]

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.6"

    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.gvisor]
        runtime_type = "io.containerd.runsc.v1"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = true
)";

const std::string kContainerdV3 = R"(version = 3
root = '/var/lib/containerd'
imports = ["/etc/containerd/site.toml"]  # the site's settings

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = 'io.containerd.runc.v2'
)";

// A config with the CRI settings of its own that an imported file would drop.
const std::string kMultiLine = R"(version = 2
imports = [  # one a line
  "/etc/containerd/a.toml",
  # b is optional
  "/etc/containerd/b.toml"
]
title = """a
[not.a.table]
"""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.6"
)";

const std::string kV2Table = "plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.";
const std::string kV3Table = "plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.";

std::string add(const std::string& text, int version = 2) {
  return containerd_add_runtime(text, version, kRuntime, kMain);
}
std::string remove(const std::string& text) { return containerd_remove_runtime(text, kMain); }

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ContainerdBlock, AppendsTheRuntimeKeepingEveryOtherByte) {
  const std::string edited = add(kContainerdV2);
  ASSERT_EQ(edited.substr(0, kContainerdV2.size()), kContainerdV2);
  const std::string block = edited.substr(kContainerdV2.size());
  EXPECT_EQ(block.substr(0, 48), "\n# >>> kcm-runtime configure --engine=containerd") << block;
  EXPECT_TRUE(has(block, "[" + kV2Table + "kcm]\n  runtime_type = \"io.containerd.runc.v2\"\n"));
  EXPECT_TRUE(has(block, "  pod_annotations = [\"kcm.intel.com/*\"]\n"));
  EXPECT_TRUE(has(block, "  [" + kV2Table +
                             "kcm.options]\n"
                             "    BinaryName = \"/usr/local/bin/kcm-runtime\"\n"));
  // The config defines runc already: the block does not.
  EXPECT_FALSE(has(block, kV2Table + "runc]"));
  EXPECT_TRUE(has(block, "# <<< kcm-runtime configure\n"));
  EXPECT_EQ(add(edited), edited);  // idempotent
  EXPECT_EQ(remove(edited), kContainerdV2);
  EXPECT_EQ(remove(kContainerdV2), kContainerdV2);
}

TEST(ContainerdBlock, DefinesRuncWhenTheConfigDoesNot) {
  // containerd's default runc would be lost once the config defines any runtime.
  const std::string edited = add(kMultiLine);
  EXPECT_TRUE(has(edited, "[" + kV2Table + "runc]\n  runtime_type = \"io.containerd.runc.v2\"\n"));
  EXPECT_EQ(add(edited), edited);
  EXPECT_EQ(remove(edited), kMultiLine);
  const std::string v3 = add(kContainerdV3, 3);
  EXPECT_TRUE(has(v3, "[" + kV3Table + "kcm]\n"));
  EXPECT_FALSE(has(v3, kV3Table + "runc]")) << "the config defines runc";
  EXPECT_EQ(remove(v3), kContainerdV3);
}

TEST(ContainerdBlock, ReplacesItsBlockForANewPathAndLeavesWhatFollows) {
  const std::string edited = add(kContainerdV2) + "[debug]\n  level = \"info\"\n";
  const std::string moved = containerd_add_runtime(edited, 2, "/opt/kcm/kcm-runtime", kMain);
  EXPECT_TRUE(has(moved, "BinaryName = \"/opt/kcm/kcm-runtime\"\n"));
  EXPECT_FALSE(has(moved, "/usr/local/bin/kcm-runtime"));
  EXPECT_EQ(remove(moved), kContainerdV2 + "[debug]\n  level = \"info\"\n");
}

TEST(ContainerdBlock, EdgesOfTheText) {
  EXPECT_EQ(remove(add("")), "");
  EXPECT_EQ(remove(add("version = 2\n\n")), "version = 2\n\n");
  EXPECT_EQ(remove(add("version = 2")), "version = 2\n");
  EXPECT_EQ(toml_config_version(containerd_new_main_config(3, kRuntime), kMain), 3);
}

TEST(ContainerdBlock, RefusesAKcmRuntimeOfItsOwnAndWhatItCannotFollow) {
  EXPECT_EQ(thrown_by([] { add("version = 2\n[" + kV2Table + "kcm.options]\n"); }).message,
            "configure containerd \"/etc/containerd/config.toml\": it defines the runtime "
            "\"kcm\" outside kcm-runtime's block; remove that table first");
  EXPECT_EQ(thrown_by([] { add("version = 2\nimports = [\"/a\"\n"); }).message,
            "parse \"/etc/containerd/config.toml\": line 2: unterminated array or inline table");
  EXPECT_EQ(thrown_by([] { add("root = \"/a\n"); }).message,
            "parse \"/etc/containerd/config.toml\": line 1: unterminated string");
  EXPECT_EQ(thrown_by([] { remove("[a\n"); }).message,
            "parse \"/etc/containerd/config.toml\": line 1: expected ']'");
  EXPECT_EQ(thrown_by([] { add("just words\n"); }).exit_code, kExitFailure);
}

TEST(TomlVersion, ReadsTheTopLevelVersionOnly) {
  EXPECT_EQ(toml_config_version(kContainerdV2, kMain), 2);
  EXPECT_EQ(toml_config_version(kContainerdV3, kMain), 3);
  EXPECT_EQ(toml_config_version("[x]\nversion = 3\n", kMain), std::nullopt);
  EXPECT_EQ(toml_config_version("", kMain), std::nullopt);
}

TEST(ContainerdVersion, FromTheReleaseNumber) {
  EXPECT_EQ(parse_containerd_version(
                "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3\n"),
            1);
  EXPECT_EQ(parse_containerd_version(
                "containerd containerd.io v2.0.2 c507a0257ea6462fbd6f5ba4f5c74facb04021f4\n"),
            2);
  EXPECT_EQ(parse_containerd_version("something else"), std::nullopt);
  EXPECT_EQ(containerd_config_version_for(1), 2);
  EXPECT_EQ(containerd_config_version_for(2), 3);
}

// --- Docker ------------------------------------------------------------------------

const std::string kDaemonJson = R"({
    "log-driver": "journald",
    "runtimes": {
        "nvidia": {
            "path": "/usr/bin/nvidia-container-runtime",
            "runtimeArgs": []
        }
    },
    "storage-driver": "overlay2"
}
)";

TEST(DockerConfig, AddsKcmBesideOtherRuntimesKeepingEveryKeyAndItsOrder) {
  const std::string edited = docker_add_runtime(kDaemonJson, kRuntime, "daemon.json");
  const auto doc = nlohmann::ordered_json::parse(edited);
  const auto before = nlohmann::ordered_json::parse(kDaemonJson);
  std::vector<std::string> keys;
  for (const auto& item : doc.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"log-driver", "runtimes", "storage-driver"}));
  EXPECT_EQ(doc["runtimes"]["nvidia"], before["runtimes"]["nvidia"]);
  EXPECT_EQ(doc["runtimes"]["kcm"], (nlohmann::ordered_json{{"path", kRuntime}}));
  EXPECT_NE(
      edited.find("        },\n        \"kcm\": {\"path\": \"/usr/local/bin/kcm-runtime\"}\n"),
      std::string::npos)
      << edited;
  EXPECT_EQ(docker_add_runtime(edited, kRuntime, "daemon.json"), edited);
  EXPECT_EQ(docker_remove_runtime(edited, "daemon.json"), kDaemonJson);
}

TEST(DockerConfig, AddsTheRuntimesKeyAndTakesItBackWhole) {
  const std::string text = "{\"data-root\": \"/srv/docker\", \"debug\": true}";
  const std::string edited = docker_add_runtime(text, kRuntime, "daemon.json");
  EXPECT_EQ(edited,
            "{\"data-root\": \"/srv/docker\", \"debug\": true, \"runtimes\": {\"kcm\": {\"path\": "
            "\"/usr/local/bin/kcm-runtime\"}}}");
  EXPECT_EQ(docker_remove_runtime(edited, "daemon.json"), text);
  EXPECT_EQ(docker_add_runtime("{}", kRuntime, "d"),
            "{\n  \"runtimes\": {\"kcm\": {\"path\": \"/usr/local/bin/kcm-runtime\"}}\n}");
  EXPECT_EQ(docker_remove_runtime(docker_add_runtime("{}", kRuntime, "d"), "d"), "{}");
}

TEST(DockerConfig, ReplacesAnotherPathAndRemovesKcmWhereverItIs) {
  const std::string text = R"({"runtimes": {"kcm": {"path": "/old"}, "crun": {"path": "/c"}}})";
  EXPECT_EQ(
      docker_add_runtime(text, kRuntime, "d"),
      R"({"runtimes": {"kcm": {"path": "/usr/local/bin/kcm-runtime"}, "crun": {"path": "/c"}}})");
  EXPECT_EQ(docker_remove_runtime(text, "d"), R"({"runtimes": {"crun": {"path": "/c"}}})");
  EXPECT_EQ(docker_remove_runtime(kDaemonJson, "d"), kDaemonJson);
}

TEST(DockerConfig, RefusesWhatItCannotEditSafely) {
  EXPECT_EQ(thrown_by([] {
              docker_add_runtime("{\"debug\": tru", kRuntime, "/etc/docker/daemon.json");
            }).message.rfind("parse \"/etc/docker/daemon.json\": malformed JSON: ", 0),
            0u);
  EXPECT_EQ(thrown_by([] { docker_add_runtime("[]", kRuntime, "/d.json"); }).message,
            "parse \"/d.json\": not a JSON object");
  EXPECT_EQ(
      thrown_by([] { docker_add_runtime(R"({"runtimes": 1})", kRuntime, "/d.json"); }).message,
      "parse \"/d.json\": \"runtimes\" is not an object");
  EXPECT_EQ(thrown_by([] {
              docker_add_runtime(R"({"runtimes": {}, "runtimes": {}})", kRuntime, "/d.json");
            }).message,
            "parse \"/d.json\": key \"runtimes\" appears twice");
  const Thrown t = thrown_by([] {
    docker_remove_runtime(R"({"default-runtime": "kcm", "runtimes": {"kcm": {"path": "/k"}}})",
                          "/d.json");
  });
  EXPECT_EQ(t.exit_code, kExitFailure);
  EXPECT_NE(t.message.find("\"default-runtime\" is \"kcm\""), std::string::npos) << t.message;
}

TEST(DockerConfig, EscapesInKeysAndStrings) {
  const std::string text = R"({"a\"}": "}{,", "runtimes": {"x\\": {"path": "/x"}}})";
  const std::string edited = docker_add_runtime(text, kRuntime, "d");
  EXPECT_EQ(nlohmann::json::parse(edited)["runtimes"]["kcm"]["path"], kRuntime);
  EXPECT_EQ(docker_remove_runtime(edited, "d"), text);
}

// --- the plan and the writes ----------------------------------------------------------

std::vector<FileChange> plan(const std::string& command, Engine engine,
                             const std::map<std::string, std::string>& files,
                             const std::string& config = "", std::optional<int> major = 1) {
  EngineCommand c;
  c.configure = command == "configure";
  c.engine = engine;
  c.config = config;
  return plan_engine_change(c, kRuntime, major, [&](const std::string& path) {
    const auto it = files.find(path);
    return it == files.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
}

// The files after `changes`.
std::map<std::string, std::string> applied(std::map<std::string, std::string> files,
                                           const std::vector<FileChange>& changes) {
  for (const auto& c : changes) {
    if (c.after) {
      files[c.path] = *c.after;
    } else {
      files.erase(c.path);
    }
  }
  return files;
}

bool changes_nothing(const std::vector<FileChange>& changes) {
  for (const auto& c : changes) {
    if (c.before != c.after) return false;
  }
  return true;
}

// configure, configure again (nothing), unconfigure (the original files), unconfigure
// again (nothing).
void expect_round_trip(Engine engine, const std::map<std::string, std::string>& original,
                       const std::string& config = "") {
  const auto configured = applied(original, plan("configure", engine, original, config));
  EXPECT_NE(configured, original);
  EXPECT_TRUE(changes_nothing(plan("configure", engine, configured, config)));
  const auto restored = applied(configured, plan("unconfigure", engine, configured, config));
  EXPECT_EQ(restored, original);
  EXPECT_TRUE(changes_nothing(plan("unconfigure", engine, restored, config)));
}

TEST(Plan, EveryEngineRoundTripsToTheOriginalBytes) {
  expect_round_trip(Engine::kContainerd, {{kMain, kContainerdV2}});
  expect_round_trip(Engine::kContainerd, {{kMain, kContainerdV3}});
  expect_round_trip(Engine::kContainerd, {{kMain, kMultiLine}});
  expect_round_trip(Engine::kContainerd, {});
  expect_round_trip(Engine::kContainerd, {{"/srv/ctd/main.toml", "version = 2\n"}},
                    "/srv/ctd/main.toml");
  expect_round_trip(Engine::kDocker, {{"/etc/docker/daemon.json", kDaemonJson}});
  expect_round_trip(Engine::kDocker, {{"/etc/docker/daemon.json", "{}\n"}});
  expect_round_trip(Engine::kDocker, {});
  expect_round_trip(Engine::kPodman, {{"/etc/containers/containers.conf", "[engine]\n"}});
  expect_round_trip(Engine::kPodman,
                    {{"/etc/containers/containers.conf.d/other.conf", "[engine.runtimes]\n"}});
  expect_round_trip(Engine::kCrio, {{"/etc/crio/crio.conf", "[crio.runtime]\n"}});
  expect_round_trip(Engine::kCrio, {}, "/srv/crio/crio.conf");
}

TEST(Plan, ContainerdWithoutAVersionFollowsTheInstalledRelease) {
  const auto none = plan("configure", Engine::kContainerd, {}, "", std::nullopt);
  EXPECT_EQ(none[0].after, containerd_new_main_config(2, kRuntime));
  // A config without `version`, even an empty one, is version 1 to containerd: a block
  // added to it would register nothing.
  for (const char* text : {"root = \"/r\"\n", ""}) {
    EXPECT_THAT(thrown_by([&] { plan("configure", Engine::kContainerd, {{kMain, text}}, "", 2); })
                    .message,
                testing::HasSubstr("it has no `version` line, so containerd reads it as config "
                                   "version 1"))
        << text;
  }
  EXPECT_EQ(thrown_by([] {
              plan("configure", Engine::kContainerd, {{kMain, "version = 1\n"}});
            }).message,
            "configure containerd \"/etc/containerd/config.toml\": config version 1: "
            "kcm-runtime writes versions 2 and 3 only; migrate the config first");
}

TEST(Plan, DropinPathsFollowTheMainConfig) {
  EXPECT_EQ(engine_files(Engine::kContainerd, "").main, kMain);
  EXPECT_EQ(engine_files(Engine::kContainerd, "").dropin, "");
  EXPECT_EQ(engine_files(Engine::kPodman, "").dropin, "/etc/containers/containers.conf.d/kcm.conf");
  EXPECT_EQ(engine_files(Engine::kCrio, "").dropin, "/etc/crio/crio.conf.d/kcm.conf");
  EXPECT_EQ(engine_files(Engine::kCrio, "/srv/crio.conf").dropin, "/srv/crio.conf.d/kcm.conf");
  EXPECT_EQ(engine_files(Engine::kDocker, "").main, "/etc/docker/daemon.json");
}

TEST(Plan, DropinsRegisterTheRuntime) {
  EXPECT_NE(
      podman_dropin(kRuntime).find("[engine.runtimes]\nkcm = [\"/usr/local/bin/kcm-runtime\"]\n"),
      std::string::npos);
  EXPECT_NE(crio_dropin(kRuntime).find("[crio.runtime.runtimes.kcm]\n"
                                       "runtime_path = \"/usr/local/bin/kcm-runtime\"\n"),
            std::string::npos);
}

TEST(Describe, SaysWhatChangedWithTheLinesAndWhatADryRunWouldDo) {
  EngineCommand c;
  c.engine = Engine::kPodman;
  const auto changes = plan("configure", Engine::kPodman, {});
  const std::string text = describe_changes(c, changes);
  EXPECT_EQ(
      text,
      "created /etc/containers/containers.conf.d/kcm.conf: the runtime kcm "
      "(\"/usr/local/bin/kcm-runtime\")\n@@ -0,0 +1,5 @@\n" +
          [] {
            std::string lines;
            std::istringstream in(podman_dropin(kRuntime));
            for (std::string line; std::getline(in, line);) lines += "+" + line + "\n";
            return lines;
          }() +
          "podman reads it at its next command\n");
  c.dry_run = true;
  const std::string dry = describe_changes(c, changes);
  EXPECT_EQ(dry.rfind("would create /etc/containers/containers.conf.d/kcm.conf", 0), 0u);
  EXPECT_TRUE(has(dry, "dry run: nothing written\n"));
  c.dry_run = false;
  c.engine = Engine::kContainerd;
  const std::map<std::string, std::string> files{{kMain, "version = 2\n[grpc]\n"}};
  const auto edit = plan("configure", Engine::kContainerd, files);
  const std::string edited = describe_changes(c, edit);
  EXPECT_EQ(edited.rfind("edited /etc/containerd/config.toml: registers the runtime handler kcm "
                         "(config version 2, BinaryName \"/usr/local/bin/kcm-runtime\")\n"
                         "@@ -2,0 +3,14 @@\n+\n+# >>> kcm-runtime configure",
                         0),
            0u)
      << edited;
  EXPECT_TRUE(has(edited, "\n+# <<< kcm-runtime configure\nrestart containerd to apply it\n"));
  c.configure = false;
  const auto back = plan("unconfigure", Engine::kContainerd, applied(files, edit));
  EXPECT_TRUE(has(describe_changes(c, back), "@@ -3,14 +2,0 @@\n-\n-# >>> kcm-runtime"));
  c.configure = true;
  EXPECT_EQ(describe_changes(c, plan("configure", Engine::kContainerd, applied(files, edit))),
            "unchanged /etc/containerd/config.toml: already registers the runtime handler kcm "
            "(config version 2, BinaryName \"/usr/local/bin/kcm-runtime\")\n"
            "nothing to change: containerd is already configured for kcm\n");
}

TEST(Apply, WritesAtomicallyWithTheModeAndEditsASymlinkedConfigAtItsTarget) {
  TempDir dir;
  write_file(dir / "real/config.toml", kContainerdV2);
  ::chmod((dir / "real/config.toml").c_str(), 0600);
  std::filesystem::create_symlink(dir / "real/config.toml", dir / "main.toml");
  EngineCommand c;
  c.engine = Engine::kContainerd;
  c.config = dir / "main.toml";
  const auto read = [](const std::string& path) {
    return if_found([&] { return read_file(path); });
  };
  apply_changes(plan_engine_change(c, kRuntime, 1, read));
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "main.toml"));
  EXPECT_EQ(read_text(dir / "real/config.toml"), add(kContainerdV2));
  EXPECT_EQ(mode_of(dir / "real/config.toml"), 0600u);
  c.configure = false;
  apply_changes(plan_engine_change(c, kRuntime, 1, read));
  EXPECT_EQ(read_text(dir / "real/config.toml"), kContainerdV2);
  c.engine = Engine::kCrio;
  c.configure = true;
  c.config = dir / "crio.conf";
  apply_changes(plan_engine_change(c, kRuntime, 1, read));
  EXPECT_EQ(read_text(dir / "crio.conf.d/kcm.conf"), crio_dropin(kRuntime));
  EXPECT_EQ(mode_of(dir / "crio.conf.d/kcm.conf"), 0644u);
}

TEST(Apply, AMissingParentDirectoryIsNamed) {
  TempDir dir;
  EngineCommand c;
  c.engine = Engine::kPodman;
  c.config = dir / "absent/containers.conf";
  const auto changes = plan_engine_change(
      c, kRuntime, 1, [](const std::string&) { return std::optional<std::string>(); });
  EXPECT_EQ(
      thrown_by([&] { apply_changes(changes); }).message,
      "create directory \"" + (dir / "absent/containers.conf.d") + "\": No such file or directory");
  EXPECT_TRUE(snapshot(dir.path()).empty());
}

TEST(CommandLine, ParsesTheOptionsAndRefusesTheRest) {
  const EngineCommand c =
      parse_engine_command("configure", {"--engine", "docker", "--config=/srv/daemon.json",
                                         "--dry-run", "--runtime-path=/opt/kcm-runtime"});
  EXPECT_TRUE(c.configure);
  EXPECT_EQ(c.engine, Engine::kDocker);
  EXPECT_EQ(c.config, "/srv/daemon.json");
  EXPECT_EQ(c.runtime_path, "/opt/kcm-runtime");
  EXPECT_TRUE(c.dry_run);
  EXPECT_FALSE(parse_engine_command("unconfigure", {"--engine=crio"}).configure);
  EXPECT_TRUE(parse_engine_command("configure", {"--help"}).help);
  EXPECT_EQ(usage_error_by([] { parse_engine_command("configure", {}); }),
            "configure: option --engine is required: containerd, docker, podman or crio");
  EXPECT_EQ(usage_error_by([] { parse_engine_command("configure", {"--engine=lxc"}); }),
            "unknown engine \"lxc\": expected containerd, docker, podman or crio");
  EXPECT_EQ(usage_error_by([] {
              parse_engine_command("configure", {"--engine=docker", "-x"});
            }),
            "configure: unknown argument \"-x\" (see kcm-runtime configure --help)");
  EXPECT_EQ(usage_error_by([] { parse_engine_command("configure", {"--engine="}); }),
            "option --engine needs a non-empty value");
  EXPECT_EQ(usage_error_by([] {
              parse_engine_command("configure", {"--engine=docker", "--config=daemon.json"});
            }),
            "option --config needs an absolute path, not \"daemon.json\"");
  EXPECT_TRUE(is_engine_command("configure"));
  EXPECT_FALSE(is_engine_command("create"));
}

}  // namespace
}  // namespace kcm
