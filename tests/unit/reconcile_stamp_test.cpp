// <conf>/last-reconcile: written atomically, read back, and unknown (not an error) when
// a power loss or a hand left it empty or malformed.
#include "reconcile_stamp.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "test_support.h"

namespace kcm {
namespace {

using namespace testing_support;

TEST(ReconcileStampTest, WrittenThenRead) {
  TempDir tmp;
  make_example_conf(tmp / "conf");
  const ConfigDir dir = ConfigDir::open(tmp / "conf");
  EXPECT_EQ(read_reconcile_stamp(dir), std::nullopt);
  write_reconcile_stamp(dir, 1764528000);
  EXPECT_EQ(read_text(tmp / "conf/last-reconcile"), "1764528000\n");
  EXPECT_EQ(read_reconcile_stamp(dir), 1764528000);
  struct stat st;
  ASSERT_EQ(::stat((tmp / "conf/last-reconcile").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  write_reconcile_stamp(dir, 1764528060);
  EXPECT_EQ(read_reconcile_stamp(dir), 1764528060);
  // The directory still reads as a configuration.
  EXPECT_NO_THROW(dir.read());
}

TEST(ReconcileStampTest, ALeftoverTempFileOfAKilledWriterIsRemoved) {
  TempDir tmp;
  make_example_conf(tmp / "conf");
  write_file(tmp / "conf/.last-reconcile.tmp-99999", "1");
  write_file(tmp / "conf/.other.tmp-99999", "1");  // not the stamp's: left alone
  write_reconcile_stamp(ConfigDir::open(tmp / "conf"), 5);
  EXPECT_FALSE(std::filesystem::exists(tmp / "conf/.last-reconcile.tmp-99999"));
  EXPECT_TRUE(std::filesystem::exists(tmp / "conf/.other.tmp-99999"));
}

TEST(ReconcileStampTest, MalformedReadsAsUnknown) {
  EXPECT_EQ(parse_reconcile_stamp("12\n"), 12);
  EXPECT_EQ(parse_reconcile_stamp("12"), 12);
  for (const char* text : {"", "\n", "\0\0\0", "-1\n", "12 \n", "1e9\n", "12\n\n", "x"}) {
    EXPECT_EQ(parse_reconcile_stamp(text), std::nullopt) << text;
  }
}

TEST(ReconcileStampTest, ASymlinkIsRefusedNamingIt) {
  TempDir tmp;
  make_example_conf(tmp / "conf");
  ASSERT_EQ(::symlink("/etc/hostname", (tmp / "conf/last-reconcile").c_str()), 0);
  const ConfigDir dir = ConfigDir::open(tmp / "conf");
  EXPECT_THROW(read_reconcile_stamp(dir), Error);
}

}  // namespace
}  // namespace kcm
