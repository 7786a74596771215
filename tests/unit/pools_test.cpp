#include "pools.h"

#include <gtest/gtest.h>

#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

using testing_support::thrown_by;

TEST(TasksTest, ParsesEmptyAsNoTasks) {
  EXPECT_TRUE(parse_tasks("", "t").empty());
  EXPECT_TRUE(parse_tasks("\n", "t").empty());
}

TEST(TasksTest, ParsesCommaSeparatedPidsInFileOrder) {
  EXPECT_EQ(parse_tasks("2001,2000", "t"), (std::vector<pid_t>{2001, 2000}));
  EXPECT_EQ(parse_tasks("3000\n", "t"), (std::vector<pid_t>{3000}));
}

TEST(TasksTest, RefusesLettersNamingFileAndValue) {
  auto t = thrown_by([] { parse_tasks("abc", "/etc/kcm/pools/infra/0/tasks"); });
  EXPECT_EQ(t.message, "parse \"/etc/kcm/pools/infra/0/tasks\": invalid PID \"abc\"");
}

TEST(TasksTest, RefusesEmptyElement) {
  EXPECT_EQ(thrown_by([] { parse_tasks("1,,2", "t"); }).message, "parse \"t\": invalid PID \"\"");
  EXPECT_EQ(thrown_by([] { parse_tasks("1,", "t"); }).message, "parse \"t\": invalid PID \"\"");
  EXPECT_EQ(thrown_by([] { parse_tasks(",1", "t"); }).message, "parse \"t\": invalid PID \"\"");
}

TEST(TasksTest, RefusesNegativeAndZero) {
  EXPECT_EQ(thrown_by([] { parse_tasks("-5", "t"); }).message, "parse \"t\": invalid PID \"-5\"");
  EXPECT_EQ(thrown_by([] { parse_tasks("0", "t"); }).message, "parse \"t\": invalid PID \"0\"");
}

TEST(TasksTest, RefusesOverflowAndSpaces) {
  EXPECT_EQ(thrown_by([] { parse_tasks("99999999999", "t"); }).message,
            "parse \"t\": invalid PID \"99999999999\"");
  EXPECT_EQ(thrown_by([] { parse_tasks("1, 2", "t"); }).message, "parse \"t\": invalid PID \" 2\"");
}

TEST(TasksTest, FormatsCommaSeparated) {
  EXPECT_EQ(format_tasks({}), "");
  EXPECT_EQ(format_tasks({2000}), "2000");
  EXPECT_EQ(format_tasks({2000, 2001}), "2000,2001");
}

// The values read the way the directory's readers use them: by name or by text.
TEST(PoolsTest, PoolsAndListsAreFoundByNameOrText) {
  Config config;
  Pool dp{"dataplane", true, {}};
  dp.lists.emplace("4,12", CpuList{"4,12", CpuSet{4, 12}, {2000}});
  config.pools.emplace(dp.name, dp);
  const std::string pool_text = "dataplane", list_text = "4,12";
  EXPECT_EQ(config.pools.find(pool_text)->second.name, "dataplane");
  EXPECT_EQ(config.pools.at("dataplane").lists.find(list_text)->second.tasks,
            std::vector<pid_t>{2000});
  EXPECT_EQ(config.pools.find(std::string("Not A Pool")), config.pools.end());
}

}  // namespace
}  // namespace kcm
