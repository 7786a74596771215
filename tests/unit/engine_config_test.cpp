// `kcm-runtime configure` / `unconfigure` (docs/runtime.md "Registering kcm with an
// engine"): the edits on real config texts of containerd, Docker, podman and CRI-O, the
// plan over a file map, the writes into a scratch directory, and the command line.
#include "engine_config.h"

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
const std::string kDropin = "/etc/containerd/conf.d/kcm.toml";
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

const std::string kMultiLineImports = R"(version = 2
imports = [  # one a line
  "/etc/containerd/a.toml",
  # b is optional
  "/etc/containerd/b.toml"
]
[grpc]
  address = "/run/containerd/containerd.sock"
)";

std::string add(const std::string& text) { return toml_add_import(text, kDropin, kMain); }
std::string remove(const std::string& text) { return toml_remove_import(text, kDropin, kMain); }

TEST(TomlImports, AddsTheKeyAfterTheVersionLineKeepingEveryOtherByte) {
  const std::string edited = add(kContainerdV2);
  std::string expected = kContainerdV2;
  expected.insert(expected.find("version = 2\n") + 12,
                  "imports = [\"/etc/containerd/conf.d/kcm.toml\"]\n");
  EXPECT_EQ(edited, expected);
  EXPECT_EQ(add(edited), edited);  // idempotent
  EXPECT_EQ(remove(edited), kContainerdV2);
}

TEST(TomlImports, CreatesTheKeyBeforeTheFirstTableWithoutAVersion) {
  const std::string text = "# no version\nroot = \"/r\"\n\n[grpc]\n  address = \"/s\"\n";
  EXPECT_EQ(add(text),
            "# no version\nroot = \"/r\"\n\nimports = [\"/etc/containerd/conf.d/kcm.toml\"]\n"
            "[grpc]\n  address = \"/s\"\n");
  EXPECT_EQ(remove(add(text)), text);
  EXPECT_EQ(add(""), "imports = [\"/etc/containerd/conf.d/kcm.toml\"]\n");
  EXPECT_EQ(add("version = 2"), "version = 2\nimports = [\"/etc/containerd/conf.d/kcm.toml\"]\n");
}

TEST(TomlImports, AppendsToASingleLineArrayAndTakesOnlyItsOwnEntryBack) {
  const std::string edited = add(kContainerdV3);
  EXPECT_NE(edited.find(R"(imports = ["/etc/containerd/site.toml", "/etc/containerd/conf.d/kcm.toml"]  # the site's settings)"),
            std::string::npos)
      << edited;
  EXPECT_EQ(remove(edited), kContainerdV3);
  EXPECT_EQ(remove(kContainerdV3), kContainerdV3);
}

TEST(TomlImports, AMultiLineArrayGetsALineOfItsOwn) {
  const std::string edited = add(kMultiLineImports);
  EXPECT_EQ(edited, R"(version = 2
imports = [  # one a line
  "/etc/containerd/conf.d/kcm.toml",
  "/etc/containerd/a.toml",
  # b is optional
  "/etc/containerd/b.toml"
]
[grpc]
  address = "/run/containerd/containerd.sock"
)");
  EXPECT_EQ(add(edited), edited);
  EXPECT_EQ(remove(edited), kMultiLineImports);
}

TEST(TomlImports, RemovesAnEntryTheOperatorMovedAndEveryDuplicate) {
  EXPECT_EQ(remove("imports = [\"/a\", \"/etc/containerd/conf.d/kcm.toml\", \"/b\"]\n"),
            "imports = [\"/a\", \"/b\"]\n");
  EXPECT_EQ(remove("imports = [\"/etc/containerd/conf.d/kcm.toml\", \"/a\", "
                   "'/etc/containerd/conf.d/kcm.toml']\n"),
            "imports = [\"/a\"]\n");
  // An array configure filled: emptied, not removed, since it is not configure's line.
  EXPECT_EQ(remove("imports = [ \"/etc/containerd/conf.d/kcm.toml\" ] # mine\n"),
            "imports = [] # mine\n");
}

TEST(TomlImports, AGlobThatMatchesTheDropinIsEnough) {
  const std::string text = "version = 3\nimports = [\"/etc/containerd/conf.d/*.toml\"]\n";
  EXPECT_EQ(add(text), text);
  EXPECT_EQ(remove(text), text);
}

TEST(TomlImports, EmptyArrayAndStringsThatLookLikeSyntax) {
  EXPECT_EQ(add("imports = []\n"), "imports = [\"/etc/containerd/conf.d/kcm.toml\"]\n");
  const std::string tricky =
      "title = \"a [table] # not a comment\"\nquote = '''x = 1\n[not.a.table]'''\n"
      "version = 2\n[real]\n";
  const std::string edited = add(tricky);
  EXPECT_EQ(edited.find("imports"), tricky.find("[real]") - 0) << edited;
  EXPECT_EQ(remove(edited), tricky);
}

TEST(TomlImports, RefusesWhatItCannotFollow) {
  EXPECT_EQ(thrown_by([] { add("imports = \"/a\"\n"); }).message,
            "parse \"/etc/containerd/config.toml\": line 1: the value of imports is not an array");
  EXPECT_EQ(thrown_by([] { add("version = 2\nimports = [\"/a\"\n"); }).message,
            "parse \"/etc/containerd/config.toml\": line 2: unterminated array or inline table");
  EXPECT_EQ(thrown_by([] { add("root = \"/a\n"); }).message,
            "parse \"/etc/containerd/config.toml\": line 1: unterminated string");
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
  EXPECT_EQ(parse_containerd_version("containerd containerd.io v2.0.2 c507a0257ea6462fbd6f5ba4f5c74facb04021f4\n"), 2);
  EXPECT_EQ(parse_containerd_version("something else"), std::nullopt);
  EXPECT_EQ(containerd_config_version_for(1), 2);
  EXPECT_EQ(containerd_config_version_for(2), 3);
}

TEST(ContainerdDropin, UsesThePluginOfEachConfigVersion) {
  const std::string v2 = containerd_dropin(2, kRuntime);
  EXPECT_NE(v2.find("version = 2\n"), std::string::npos);
  EXPECT_NE(v2.find("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.kcm]\n"
                    "  runtime_type = \"io.containerd.runc.v2\"\n"),
            std::string::npos);
  EXPECT_NE(v2.find("  pod_annotations = [\"kcm.intel.com/*\"]\n"), std::string::npos);
  EXPECT_NE(v2.find("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.kcm.options]\n"
                    "    BinaryName = \"/usr/local/bin/kcm-runtime\"\n"),
            std::string::npos);
  const std::string v3 = containerd_dropin(3, kRuntime);
  EXPECT_NE(v3.find("version = 3\n"), std::string::npos);
  EXPECT_NE(v3.find("[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.kcm]"),
            std::string::npos);
  EXPECT_EQ(toml_config_version(v3, "d"), 3);
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
  EXPECT_NE(edited.find("        },\n        \"kcm\": {\"path\": \"/usr/local/bin/kcm-runtime\"}\n"),
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
  EXPECT_EQ(docker_add_runtime(text, kRuntime, "d"),
            R"({"runtimes": {"kcm": {"path": "/usr/local/bin/kcm-runtime"}, "crun": {"path": "/c"}}})");
  EXPECT_EQ(docker_remove_runtime(text, "d"), R"({"runtimes": {"crun": {"path": "/c"}}})");
  EXPECT_EQ(docker_remove_runtime(kDaemonJson, "d"), kDaemonJson);
}

TEST(DockerConfig, RefusesWhatItCannotEditSafely) {
  EXPECT_EQ(thrown_by([] { docker_add_runtime("{\"debug\": tru", kRuntime, "/etc/docker/daemon.json"); })
                .message.rfind("parse \"/etc/docker/daemon.json\": malformed JSON: ", 0),
            0u);
  EXPECT_EQ(thrown_by([] { docker_add_runtime("[]", kRuntime, "/d.json"); }).message,
            "parse \"/d.json\": not a JSON object");
  EXPECT_EQ(thrown_by([] { docker_add_runtime(R"({"runtimes": 1})", kRuntime, "/d.json"); }).message,
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
  expect_round_trip(Engine::kContainerd, {{kMain, kMultiLineImports}});
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

TEST(Plan, ContainerdWritesTheDropinFirstAndTheVersionOfTheMainConfig) {
  const auto changes = plan("configure", Engine::kContainerd, {{kMain, kContainerdV3}});
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].path, kDropin);
  EXPECT_EQ(changes[0].after, containerd_dropin(3, kRuntime));
  EXPECT_EQ(changes[1].path, kMain);
  // Unconfigure takes the import out before the file it names.
  const auto back = plan("unconfigure", Engine::kContainerd,
                         applied({{kMain, kContainerdV3}}, changes));
  EXPECT_EQ(back[0].path, kMain);
  EXPECT_EQ(back[1].path, kDropin);
  EXPECT_EQ(back[1].after, std::nullopt);
}

TEST(Plan, ContainerdWithoutAVersionFollowsTheInstalledRelease) {
  const auto none = plan("configure", Engine::kContainerd, {}, "", std::nullopt);
  EXPECT_EQ(none[0].after, containerd_dropin(2, kRuntime));
  EXPECT_EQ(none[1].after, containerd_new_main_config(2, kDropin));
  const auto two = plan("configure", Engine::kContainerd, {{kMain, "root = \"/r\"\n"}}, "", 2);
  EXPECT_EQ(two[0].after, containerd_dropin(3, kRuntime));
  EXPECT_EQ(two[1].after, "root = \"/r\"\nimports = [\"/etc/containerd/conf.d/kcm.toml\"]\n");
  EXPECT_EQ(thrown_by([] { plan("configure", Engine::kContainerd, {{kMain, "version = 1\n"}}); })
                .message,
            "configure containerd \"/etc/containerd/config.toml\": config version 1: "
            "kcm-runtime writes versions 2 and 3 only; migrate the config first");
}

TEST(Plan, DropinPathsFollowTheMainConfig) {
  EXPECT_EQ(engine_files(Engine::kContainerd, "").dropin, kDropin);
  EXPECT_EQ(engine_files(Engine::kContainerd, "/srv/c/config.toml").dropin,
            "/srv/c/conf.d/kcm.toml");
  EXPECT_EQ(engine_files(Engine::kPodman, "").dropin, "/etc/containers/containers.conf.d/kcm.conf");
  EXPECT_EQ(engine_files(Engine::kCrio, "").dropin, "/etc/crio/crio.conf.d/kcm.conf");
  EXPECT_EQ(engine_files(Engine::kCrio, "/srv/crio.conf").dropin, "/srv/crio.conf.d/kcm.conf");
  EXPECT_EQ(engine_files(Engine::kDocker, "").main, "/etc/docker/daemon.json");
}

TEST(Plan, DropinsRegisterTheRuntime) {
  EXPECT_NE(podman_dropin(kRuntime).find("[engine.runtimes]\nkcm = [\"/usr/local/bin/kcm-runtime\"]\n"),
            std::string::npos);
  EXPECT_NE(crio_dropin(kRuntime).find("[crio.runtime.runtimes.kcm]\n"
                                       "runtime_path = \"/usr/local/bin/kcm-runtime\"\n"),
            std::string::npos);
}

TEST(Describe, SaysWhatChangedWithTheLinesAndWhatADryRunWouldDo) {
  EngineCommand c;
  c.engine = Engine::kContainerd;
  const auto changes = plan("configure", Engine::kContainerd, {{kMain, "version = 2\n[grpc]\n"}});
  const std::string text = describe_changes(c, changes);
  EXPECT_NE(text.find("created /etc/containerd/conf.d/kcm.toml: the runtime handler kcm (config "
                      "version 2, BinaryName \"/usr/local/bin/kcm-runtime\")\n@@ -0,0 +1,"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("edited /etc/containerd/config.toml: imports \"/etc/containerd/conf.d/kcm.toml\"\n"
                      "@@ -1,0 +2,1 @@\n+imports = [\"/etc/containerd/conf.d/kcm.toml\"]\n"
                      "restart containerd to apply it\n"),
            std::string::npos)
      << text;
  c.dry_run = true;
  const std::string dry = describe_changes(c, changes);
  EXPECT_NE(dry.find("would create /etc/containerd/conf.d/kcm.toml"), std::string::npos);
  EXPECT_NE(dry.find("would edit /etc/containerd/config.toml"), std::string::npos);
  EXPECT_NE(dry.find("dry run: nothing written\n"), std::string::npos);
  c.dry_run = false;
  const auto again = plan("configure", Engine::kContainerd,
                          applied({{kMain, "version = 2\n[grpc]\n"}}, changes));
  EXPECT_NE(describe_changes(c, again).find("nothing to change: containerd is already configured "
                                            "for kcm\n"),
            std::string::npos);
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
  EXPECT_EQ(read_text(dir / "real/config.toml"),
            toml_add_import(kContainerdV2, dir / "conf.d/kcm.toml", "m"));
  EXPECT_EQ(mode_of(dir / "real/config.toml"), 0600u);
  EXPECT_EQ(read_text(dir / "conf.d/kcm.toml"), containerd_dropin(2, kRuntime));
  c.configure = false;
  apply_changes(plan_engine_change(c, kRuntime, 1, read));
  EXPECT_EQ(read_text(dir / "real/config.toml"), kContainerdV2);
  EXPECT_FALSE(std::filesystem::exists(dir / "conf.d/kcm.toml"));
}

TEST(Apply, AMissingParentDirectoryIsNamed) {
  TempDir dir;
  EngineCommand c;
  c.engine = Engine::kPodman;
  c.config = dir / "absent/containers.conf";
  const auto changes = plan_engine_change(c, kRuntime, 1, [](const std::string&) {
    return std::optional<std::string>();
  });
  EXPECT_EQ(thrown_by([&] { apply_changes(changes); }).message,
            "create directory \"" + (dir / "absent/containers.conf.d") +
                "\": No such file or directory");
  EXPECT_TRUE(snapshot(dir.path()).empty());
}

TEST(CommandLine, ParsesTheOptionsAndRefusesTheRest) {
  const EngineCommand c = parse_engine_command(
      "configure", {"--engine", "docker", "--config=/srv/daemon.json", "--dry-run",
                    "--runtime-path=/opt/kcm-runtime"});
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
  EXPECT_EQ(usage_error_by([] { parse_engine_command("configure", {"--engine=docker", "-x"}); }),
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
