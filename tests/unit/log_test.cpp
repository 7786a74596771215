#include "log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>

#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

namespace fs = std::filesystem;

using testing_support::read_text;
using testing_support::TempDir;

constexpr char kProgram[] = "kcm-runtime";

// What `f` writes to stderr.
template <typename F>
std::string stderr_of(F&& f) {
  ::testing::internal::CaptureStderr();
  f();
  spdlog::default_logger()->flush();
  return ::testing::internal::GetCapturedStderr();
}

TEST(LogTest, UnknownLevelIsAUsageError) {
  EXPECT_EQ(testing_support::usage_error_by([] { init_logging(kProgram, "loud"); }),
            "KCM_LOG_LEVEL: \"loud\" is not one of trace, debug, info, warn, error, off");
}

TEST(LogTest, LinesOnStderrNameTheProgramAndTheLevel) {
  init_logging(kProgram, "info");
  EXPECT_EQ(stderr_of([] {
              spdlog::info("one");
              spdlog::debug("hidden");
            }),
            "kcm-runtime: info: one\n");
}

TEST(LogTest, UnknownLevelFallsBackToWarnWithAWarning) {
  EXPECT_EQ(stderr_of([] { init_logging_or_default(kProgram, "loud"); }),
            "kcm-runtime: warning: KCM_LOG_LEVEL: \"loud\" is not one of trace, debug, info, "
            "warn, error, off\n");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::warn);
}

TEST(LogTest, LogFileGetsStampedLinesAtInfoWhateverTheLevel) {
  TempDir dir;
  const std::string path = dir / "kcm-runtime.log";
  testing_support::write_file(path, "earlier\n");
  init_logging(kProgram, "");
  const std::string err = stderr_of([&] {
    add_log_file(kProgram, path);
    spdlog::info("edited");
    spdlog::debug("hidden");
    spdlog::warn("careful");
  });
  EXPECT_EQ(err, "kcm-runtime: warning: careful\n");  // stderr stays at warn
  const std::string stamp = R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d kcm-runtime\[)" +
                            std::to_string(::getpid()) + R"(\]: )";
  EXPECT_TRUE(std::regex_match(read_text(path), std::regex("earlier\n" + stamp + "info: edited\n" +
                                                           stamp + "warning: careful\n")))
      << read_text(path);
}

TEST(LogTest, LogFileIsClosedOnExec) {
  // The program exec'd next (runc) and the hooks it runs must not inherit it.
  TempDir dir;
  const std::string path = dir / "kcm-runtime.log";
  init_logging(kProgram, "");
  add_log_file(kProgram, path);
  int found = 0;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (fs::read_symlink(entry.path(), ec) != fs::path(path)) continue;
    const int fd = std::stoi(entry.path().filename().string());
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    ++found;
  }
  EXPECT_EQ(found, 1);
}

TEST(LogTest, LogFileThatCannotBeOpenedIsAWarning) {
  TempDir dir;
  const std::string path = dir / "absent/kcm-runtime.log";
  init_logging(kProgram, "");
  EXPECT_EQ(stderr_of([&] { add_log_file(kProgram, path); }),
            "kcm-runtime: warning: open log file \"" + path + "\": No such file or directory\n");
}

TEST(LogTest, ReportedErrorGoesToStderrOnceAndToTheLogFile) {
  TempDir dir;
  const std::string path = dir / "kcm-runtime.log";
  init_logging(kProgram, "off");
  add_log_file(kProgram, path);
  EXPECT_EQ(stderr_of([] { report_error(kProgram, "exec \"/x\": No such file"); }),
            "kcm-runtime: exec \"/x\": No such file\n");
  EXPECT_NE(read_text(path).find("]: error: exec \"/x\": No such file\n"), std::string::npos)
      << read_text(path);
}

}  // namespace
}  // namespace kcm
