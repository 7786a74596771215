#include "boot.h"

#include <gtest/gtest.h>

#include <string>

#include "error.h"
#include "fs.h"
#include "test_support.h"

namespace kcm {
namespace {

using testing_support::make_example_conf;
using testing_support::read_text;
using testing_support::TempDir;
using testing_support::write_file;

constexpr char kThisBoot[] = "0f8c7b5e-1111-4a5b-9c3d-2e6f7a8b9c0d";
constexpr char kEarlierBoot[] = "7d1e2f3a-2222-4b6c-8d9e-0a1b2c3d4e5f";

class BootTest : public ::testing::Test {
 protected:
  BootTest() {
    make_example_conf(conf);
    write_file(conf + "/owners/c1.json", R"({"owner":"c1"})");
    dir = open_dir(conf);
  }
  RecordsBoot state() { return records_boot(dir.get(), conf, kThisBoot); }
  // What a writer does under the lock (config_dir.h lock_for_writing, first write).
  bool forget() {
    switch (state()) {
      case RecordsBoot::kEarlier:
        forget_earlier_boot(dir.get(), conf, kThisBoot);
        return true;
      case RecordsBoot::kUnmarked:
        mark_boot(dir.get(), conf, kThisBoot);
        return false;
      case RecordsBoot::kCurrent:
        return false;
    }
    return false;
  }

  TempDir tmp;
  const std::string conf = tmp / "conf";
  UniqueFd dir;
};

TEST(ReadBootIdTest, ReadsTheKernelsBootIdTrimmed) {
  TempDir proc;
  write_file(proc / "sys/kernel/random/boot_id", std::string(kThisBoot) + "\n");
  EXPECT_EQ(read_boot_id(proc.path()), kThisBoot);
}

TEST(ReadBootIdTest, ThisMachineHasOne) {
  const std::string id = read_boot_id("/proc");
  EXPECT_EQ(id.size(), 36u) << id;
  EXPECT_EQ(read_boot_id("/proc"), id);
}

TEST(ReadBootIdTest, AMissingFileIsNamed) {
  TempDir proc;
  auto t = testing_support::thrown_by([&] { read_boot_id(proc.path()); });
  EXPECT_NE(t.message.find("sys/kernel/random/boot_id"), std::string::npos) << t.message;
}

TEST_F(BootTest, AnUnmarkedDirectoryIsAdoptedWithItsRecords) {
  EXPECT_EQ(state(), RecordsBoot::kUnmarked);
  EXPECT_FALSE(forget());
  EXPECT_EQ(read_text(conf + "/boot"), std::string(kThisBoot) + "\n");
  EXPECT_EQ(read_text(conf + "/pools/infra/0-2,8-10/tasks"), "3000,3001,3002");
  EXPECT_EQ(read_text(conf + "/owners/c1.json"), R"({"owner":"c1"})");
  EXPECT_EQ(state(), RecordsBoot::kCurrent);
}

TEST_F(BootTest, RecordsOfThisBootAreKept) {
  write_file(conf + "/boot", std::string(kThisBoot) + "\n");
  EXPECT_EQ(state(), RecordsBoot::kCurrent);
  EXPECT_FALSE(forget());
  EXPECT_EQ(read_text(conf + "/pools/dataplane/4,12/tasks"), "2000");
  EXPECT_TRUE(std::filesystem::exists(conf + "/owners/c1.json"));
}

TEST_F(BootTest, RecordsOfAnEarlierBootAreForgottenUnread) {
  write_file(conf + "/boot", std::string(kEarlierBoot) + "\n");
  // What a power loss can leave: a zero-filled, a truncated and an empty file.
  write_file(conf + "/pools/dataplane/5,13/tasks", std::string(8, '\0'));
  write_file(conf + "/pools/dataplane/6,14/tasks", "20");
  write_file(conf + "/owners/c2.json", std::string(16, '\0'));
  write_file(conf + "/owners/c3.json", "");
  EXPECT_EQ(state(), RecordsBoot::kEarlier);
  EXPECT_TRUE(forget());
  for (const char* list : {"infra/0-2,8-10", "controlplane/3,11", "dataplane/4,12",
                           "dataplane/5,13", "dataplane/6,14", "dataplane/7,15"}) {
    EXPECT_EQ(read_text(conf + "/pools/" + std::string(list) + "/tasks"), "") << list;
  }
  EXPECT_TRUE(testing_support::names_in(conf + "/owners").empty());
  EXPECT_EQ(read_text(conf + "/pools/dataplane/exclusive"), "1");
  EXPECT_EQ(state(), RecordsBoot::kCurrent);
  EXPECT_FALSE(forget());
}

TEST_F(BootTest, AnyOtherContentOfTheBootFileIsAnEarlierBoot) {
  for (const std::string& left : {std::string(), std::string(36, '\0'), std::string("0f8c7b5e")}) {
    write_file(conf + "/boot", left);
    write_file(conf + "/pools/dataplane/4,12/tasks", "2000");
    EXPECT_EQ(state(), RecordsBoot::kEarlier);
    EXPECT_TRUE(forget());
    EXPECT_EQ(read_text(conf + "/pools/dataplane/4,12/tasks"), "");
  }
}

TEST_F(BootTest, WithoutOwnersDirectoryOnlyTasksAreEmptied) {
  std::filesystem::remove_all(conf + "/owners");
  write_file(conf + "/boot", kEarlierBoot);
  EXPECT_TRUE(forget());
  EXPECT_FALSE(std::filesystem::exists(conf + "/owners"));
  EXPECT_EQ(read_text(conf + "/pools/controlplane/3,11/tasks"), "");
}

TEST_F(BootTest, SymlinksAreNeverFollowed) {
  TempDir outside;
  write_file(outside / "tasks", "9999");
  std::filesystem::create_directories(conf + "/pools/dataplane");
  std::filesystem::create_directory_symlink(outside.path(), conf + "/pools/dataplane/8,16");
  write_file(conf + "/boot", kEarlierBoot);
  EXPECT_TRUE(forget());
  EXPECT_EQ(read_text(outside / "tasks"), "9999");
}

}  // namespace
}  // namespace kcm
