// kcm-runtime's bundle policy on scratch bundles, without root: the behaviours
// tests/e2e/runtime_passthrough_test.py checks through the built wrapper (docs/runtime.md
// "When something is wrong").
#include "bundle_edit.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "error.h"
#include "oci_spec.h"
#include "test_support.h"

namespace kcm {
namespace {

namespace fs = std::filesystem;

using testing_support::names_in;
using testing_support::read_text;
using testing_support::TempDir;
using testing_support::thrown_by;
using testing_support::write_file;

const std::string kRefusedIfItAsks = "; refusing a container that asks for CPUs";
const std::string kCannotTell =
    ": kcm-runtime cannot tell whether the container asks for CPUs; refusing it";

std::string spec_with(const std::string& annotations, const std::string& extra = "") {
  return R"({"ociVersion":"1.0.2","process":{"args":["true"]},"root":{"path":"rootfs"})" + extra +
         R"(,"annotations":)" + annotations + "}";
}

const std::string kAsks = spec_with(R"({"kcm.intel.com/pool":"dataplane"})");
const std::string kAsksForNone = spec_with(R"({"io.kubernetes.cri.container-name":"web"})");

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// What the library logs while it lives, one "<level>: <message>" line each.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out_);
    sink->set_pattern("%l: %v");
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

class BundleEditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(hook_path, "#!/bin/sh\n");
    fs::permissions(hook_path, fs::perms::owner_all);
    policy.hook = {hook_path, "/etc/kcm"};
  }

  // A bundle directory `name` whose config.json holds `text`.
  std::string bundle(const std::string& text, const std::string& name = "b") const {
    const std::string dir = tmp / name;
    write_file(dir + "/config.json", text);
    return dir;
  }

  static std::string spec_of(const std::string& bundle) {
    return read_text(bundle + "/config.json");
  }

  TempDir tmp;
  const std::string hook_path = tmp / "bin/kcm-hook";
  BundlePolicy policy;
  LogCapture log;
};

TEST_F(BundleEditTest, UnannotatedBundleIsLeftUntouched) {
  const std::string b = bundle(kAsksForNone);
  EXPECT_EQ(edit_bundle(b, policy), BundleOutcome::kNoRequest);
  EXPECT_EQ(spec_of(b), kAsksForNone);
  EXPECT_EQ(log.text(), "");
}

TEST_F(BundleEditTest, AnnotatedBundleGetsBothHooksOnce) {
  const std::string b = bundle(kAsks);
  EXPECT_EQ(edit_bundle(b, policy), BundleOutcome::kHooksAdded);
  EXPECT_EQ(edit_bundle(b, policy), BundleOutcome::kHooksPresent);
  const auto hooks = nlohmann::json::parse(spec_of(b))["hooks"];
  for (const char* stage : {"prestart", "poststop"}) {
    EXPECT_EQ(hooks[stage],
              nlohmann::json::parse(R"([{"path":")" + hook_path +
                                    R"(","args":["kcm-hook","--conf-dir=/etc/kcm",")" + stage +
                                    R"("]}])"));
  }
  const std::string display = b + "/config.json";
  EXPECT_EQ(log.text(), "info: " + display + ": added kcm hooks (" + hook_path +
                            " --conf-dir=/etc/kcm)\ninfo: " + display +
                            ": kcm hooks already present\n");
}

TEST_F(BundleEditTest, EditReplacesTheFileKeepingItsMode) {
  const std::string b = bundle(kAsks);
  const std::string path = b + "/config.json";
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  struct stat before;
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  ASSERT_EQ(edit_bundle(b, policy), BundleOutcome::kHooksAdded);
  struct stat after;
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(after.st_mode & 07777, 0604u);
  EXPECT_NE(after.st_ino, before.st_ino);  // a new file renamed over the old one
  EXPECT_EQ(names_in(b), std::vector<std::string>{"config.json"});
}

TEST_F(BundleEditTest, PodSandboxIsLeftUntouched) {
  const std::string text = spec_with(
      R"({"kcm.intel.com/pool":"dataplane","io.kubernetes.cri.container-type":"sandbox"})");
  const std::string b = bundle(text);
  EXPECT_EQ(edit_bundle(b, policy), BundleOutcome::kNoRequest);
  EXPECT_EQ(spec_of(b), text);
}

TEST_F(BundleEditTest, InvalidAnnotationGetsTheHooksSoThatTheHookRejectsIt) {
  const std::string b = bundle(spec_with(R"({"kcm.intel.com/pool":"Data Plane"})"));
  EXPECT_EQ(edit_bundle(b, policy), BundleOutcome::kHooksAdded);
  EXPECT_EQ(log.text().rfind("warning: " + b +
                                 "/config.json: annotation \"kcm.intel.com/pool\"="
                                 "\"Data Plane\": not a pool name",
                             0),
            0u)
      << log.text();
  EXPECT_NE(log.text().find("; adding the kcm hooks so that kcm-hook rejects it\n"),
            std::string::npos);
}

TEST_F(BundleEditTest, UnparsableSpecThatAsksForNoCpusPassesThroughWithAWarning) {
  const std::string text = R"({"annotations": {"io.kubernetes.cri.container-name": "web")";
  const std::string b = bundle(text);
  EXPECT_EQ(edit_bundle(b, policy), BundleOutcome::kPassedThrough);
  EXPECT_EQ(spec_of(b), text);
  EXPECT_TRUE(starts_with(log.text(), "warning: parse \"" + b + "/config.json\": malformed JSON"))
      << log.text();
  EXPECT_TRUE(ends_with(log.text(),
                        "; passing the container through without kcm hooks: it asks for no CPUs\n"))
      << log.text();
}

TEST_F(BundleEditTest, UnparsableSpecNamingThePoolAnnotationIsRefused) {
  // runc's decoder reads a first document and ignores what follows it: it would run this
  // container, unpinned.
  for (const std::string& text : {kAsks + "\n{}", kAsks.substr(0, kAsks.size() - 10)}) {
    SCOPED_TRACE(text);
    const std::string b = bundle(text);
    const auto t = thrown_by([&] { edit_bundle(b, policy); });
    EXPECT_EQ(t.exit_code, kExitFailure);
    EXPECT_TRUE(starts_with(t.message, "parse \"" + b + "/config.json\": malformed JSON"))
        << t.message;
    EXPECT_TRUE(ends_with(t.message, kRefusedIfItAsks)) << t.message;
    EXPECT_EQ(spec_of(b), text);
  }
}

TEST_F(BundleEditTest, SpecNested100000LevelsGetsAMessageNotACrash) {
  const std::string deep = R"(,"x":)" + std::string(100'000, '[') + std::string(100'000, ']');
  const std::string asks = bundle(spec_with(R"({"kcm.intel.com/pool":"dataplane"})", deep), "a");
  EXPECT_EQ(thrown_by([&] { edit_bundle(asks, policy); }).message,
            "parse \"" + asks + "/config.json\": nested deeper than 64 levels" + kRefusedIfItAsks);
  const std::string none =
      bundle(spec_with(R"({"io.kubernetes.cri.container-name":"web"})", deep), "n");
  EXPECT_EQ(edit_bundle(none, policy), BundleOutcome::kPassedThrough);
}

TEST_F(BundleEditTest, AnnotationsOrHooksOfTheWrongTypeAreRefusedWhenTheContainerAsks) {
  const std::string b = bundle(spec_with(R"({"kcm.intel.com/pool":1})"), "annotation");
  EXPECT_EQ(thrown_by([&] { edit_bundle(b, policy); }).message,
            "read \"" + b + "/config.json\": annotation \"kcm.intel.com/pool\" is not a string" +
                kRefusedIfItAsks);
  const std::string h =
      bundle(spec_with(R"({"kcm.intel.com/pool":"dataplane"})", R"(,"hooks":[])"), "hooks");
  EXPECT_EQ(thrown_by([&] { edit_bundle(h, policy); }).message,
            "read \"" + h + "/config.json\": \"hooks\" is not an object" + kRefusedIfItAsks);
  const std::string none = bundle(spec_with(R"({"io.kubernetes.cri.container-name":5})"), "none");
  EXPECT_EQ(edit_bundle(none, policy), BundleOutcome::kPassedThrough);
}

TEST_F(BundleEditTest, SpecThatIsNotARegularFileIsRefusedWithoutHanging) {
  // A FIFO could hand runc any container; opening it must not block either.
  const std::string fifo = tmp / "fifo";
  fs::create_directories(fifo);
  ASSERT_EQ(::mkfifo((fifo + "/config.json").c_str(), 0600), 0);
  EXPECT_EQ(thrown_by([&] { edit_bundle(fifo, policy); }).message,
            "read \"" + fifo + "/config.json\": is not a regular file" + kCannotTell);
  const std::string dir = tmp / "dir";
  fs::create_directories(dir + "/config.json");
  EXPECT_EQ(thrown_by([&] { edit_bundle(dir, policy); }).message,
            "read \"" + dir + "/config.json\": is not a regular file" + kCannotTell);
}

TEST_F(BundleEditTest, SpecLargerThan16MiBIsRefused) {
  const std::string b =
      bundle(spec_with("{}", R"(,"x":")" + std::string(kMaxSpecBytes, 'a') + "\""));
  const auto t = thrown_by([&] { edit_bundle(b, policy); });
  EXPECT_EQ(t.exit_code, kExitFailure);
  EXPECT_EQ(t.message,
            "read \"" + b + "/config.json\": OCI spec is larger than 16777216 bytes" + kCannotTell);
}

TEST_F(BundleEditTest, BundleThatCannotBeOpenedPassesThrough) {
  // runc opens the same path with the same credentials, and fails the container itself.
  const std::string absent = tmp / "absent";
  EXPECT_EQ(edit_bundle(absent, policy), BundleOutcome::kPassedThrough);
  const std::string empty = tmp / "empty";
  fs::create_directories(empty);
  EXPECT_EQ(edit_bundle(empty, policy), BundleOutcome::kPassedThrough);
  const std::string file = tmp / "file";
  write_file(file, kAsks);
  EXPECT_EQ(edit_bundle(file, policy), BundleOutcome::kPassedThrough);
  EXPECT_EQ(log.text(),
            "warning: open \"" + absent +
                "\": No such file or directory; passing the container through without kcm "
                "hooks\nwarning: open \"" +
                empty +
                "/config.json\": No such file or directory; passing the container through "
                "without kcm hooks\nwarning: open \"" +
                file + "\": is not a directory; passing the container through without kcm hooks\n");
}

TEST_F(BundleEditTest, SymlinkedSpecIsReadButNeverWrittenThrough) {
  const std::string target = tmp / "elsewhere.json";
  write_file(target, kAsks);
  const std::string b = tmp / "link";
  fs::create_directories(b);
  fs::create_symlink(target, b + "/config.json");
  EXPECT_EQ(thrown_by([&] { edit_bundle(b, policy); }).message,
            "\"" + b + "/config.json\" is a symlink: kcm-runtime will not edit through it" +
                kRefusedIfItAsks);
  EXPECT_EQ(read_text(target), kAsks);

  write_file(target, kAsksForNone);
  EXPECT_EQ(edit_bundle(b, policy), BundleOutcome::kPassedThrough);
  EXPECT_TRUE(fs::is_symlink(b + "/config.json"));
}

TEST_F(BundleEditTest, BrokenConfigFailsOnlyAContainerThatAsks) {
  policy.config_error = R"(read "/etc/kcm-runtime.json": "confDir" must be a non-empty string)";
  const std::string asks = bundle(kAsks, "asks");
  const auto t = thrown_by([&] { edit_bundle(asks, policy); });
  EXPECT_EQ(t.exit_code, kExitFailure);
  EXPECT_EQ(t.message, "the container asks for CPUs and the kcm-runtime config is broken: " +
                           *policy.config_error);
  EXPECT_EQ(spec_of(asks), kAsks);
  EXPECT_EQ(edit_bundle(bundle(kAsksForNone, "none"), policy), BundleOutcome::kNoRequest);
}

TEST_F(BundleEditTest, MissingHookFailsAContainerThatAsks) {
  policy.hook.path = tmp / "no-hook";
  const std::string b = bundle(kAsks);
  EXPECT_EQ(thrown_by([&] { edit_bundle(b, policy); }).message,
            "the container asks for CPUs: run kcm-hook \"" + policy.hook.path +
                "\": No such file or directory");
  EXPECT_EQ(spec_of(b), kAsks);
  EXPECT_EQ(edit_bundle(bundle(kAsksForNone, "none"), policy), BundleOutcome::kNoRequest);
}

TEST_F(BundleEditTest, SpecThatCannotBeWrittenBackFailsOnlyAContainerThatAsks) {
  // A directory where the temp file goes makes the write fail, as a read-only bundle
  // does, for root too.
  const std::string temp_name = ".config.json.tmp-" + std::to_string(::getpid());
  const std::string asks = bundle(kAsks, "asks");
  fs::create_directories(asks + "/" + temp_name);
  EXPECT_EQ(thrown_by([&] { edit_bundle(asks, policy); }).message,
            "the container asks for CPUs: create \"" + asks +
                "/config.json (temp file)\": Is a directory");
  EXPECT_EQ(spec_of(asks), kAsks);
  const std::string none = bundle(kAsksForNone, "none");
  fs::create_directories(none + "/" + temp_name);
  EXPECT_EQ(edit_bundle(none, policy), BundleOutcome::kNoRequest);
}

TEST(BundlesToEditTest, OnlyCreateAndRunHaveABundle) {
  const std::vector<std::string> g = {
      "--root", "/run/containerd/runc/k8s.io", "--log", "/x/log.json", "--log-format", "json"};
  auto with_globals = [&](std::vector<std::string> rest) {
    std::vector<std::string> line = g;
    line.insert(line.end(), rest.begin(), rest.end());
    return line;
  };
  const std::vector<std::vector<std::string>> lines = {
      with_globals({"state", "c1"}),
      with_globals({"start", "c1"}),
      with_globals({"kill", "--all", "c1", "9"}),
      with_globals({"delete", "--force", "c1"}),
      with_globals({"exec", "--process", "/tmp/p.json", "--detach", "--pid-file", "/p", "c1"}),
      with_globals({"ps", "--format", "json", "c1"}),
      with_globals({"update", "--resources", "-", "c1"}),
      {"--systemd-cgroup", "--root=/run/runc", "checkpoint", "--image-path", "/i", "c1"},
      {"features"},
      {"--version"},
      {"--help"},
      {"-v"},
      {},
      {"spec", "--rootless"},
      {"arg with spaces", "\t",
       "\xc3\xbc"
       "n"
       "\xc3\xaf"
       "code"},
  };
  LogCapture log;
  for (const auto& line : lines) {
    EXPECT_EQ(bundles_to_edit(line, "/w"), std::vector<std::string>{})
        << ::testing::PrintToString(line);
  }
  EXPECT_EQ(log.text(), "");
}

TEST(BundlesToEditTest, EveryWayOfNamingTheBundle) {
  using Lines = std::vector<std::string>;
  EXPECT_EQ(bundles_to_edit({"create", "--bundle=/b", "c1"}, "/w"), Lines{"/b"});
  EXPECT_EQ(bundles_to_edit({"run", "-b", "/b", "-d", "c1"}, "/w"), Lines{"/b"});
  EXPECT_EQ(bundles_to_edit({"--debug", "create", "-b=/b", "c1"}, "/w"), Lines{"/b"});
  EXPECT_EQ(bundles_to_edit({"--root", "/r", "--log", "/l", "--log-format", "json", "create",
                             "--bundle", "/b", "--pid-file", "/p", "c1"},
                            "/w"),
            Lines{"/b"});
  EXPECT_EQ(bundles_to_edit({"create", "-b", "rel", "c1"}, "/w"), Lines{"/w/rel"});
  EXPECT_EQ(bundles_to_edit({"create", "c1"}, "/w"), Lines{"/w"});
}

TEST(BundlesToEditTest, AnUnknownGlobalFlagStillFindsTheBundle) {
  // Whether --future takes a value only runc knows; either way this creates /b.
  LogCapture log;
  const auto bundles = bundles_to_edit({"--future", "create", "--bundle", "/b", "c1"}, "/w");
  EXPECT_NE(std::find(bundles.begin(), bundles.end(), "/b"), bundles.end());
  EXPECT_TRUE(starts_with(log.text(),
                          "warning: a global flag kcm-runtime does not know may or may not take a "
                          "value: acting on each of "))
      << log.text();
}

TEST(BundlesToEditTest, ALineWithNoReadingIsPassedThrough) {
  LogCapture log;
  EXPECT_EQ(bundles_to_edit({"create", "c1", "--bundle"}, "/w"), std::vector<std::string>{});
  EXPECT_TRUE(ends_with(log.text(), "; passing the command through unchanged\n")) << log.text();
}

TEST(BundlesToEditTest, WorkingDirIsTheProcessOwn) {
  EXPECT_EQ(working_dir(), fs::current_path().string());
}

}  // namespace
}  // namespace kcm
