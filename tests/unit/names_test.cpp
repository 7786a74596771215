#include "names.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

using testing::ElementsAre;
using testing_support::thrown_by;

// --- pool names -------------------------------------------------------------------------

TEST(PoolNameTest, AcceptsLowerCaseDigitsDashAndUnderscore) {
  for (const std::string& name : {std::string("dataplane"), std::string("0"),
                                  std::string("pool_1-a"), std::string(63, 'a')}) {
    EXPECT_EQ(PoolName::parse(name).str(), name);
  }
}

TEST(PoolNameTest, RefusesTraversalWithUsageError) {
  auto t = thrown_by([] { PoolName::parse("../x"); });
  EXPECT_EQ(t.message, "invalid pool name \"../x\": must match [a-z0-9][a-z0-9_-]{0,62}");
  EXPECT_EQ(t.exit_code, kExitUsage);
}

TEST(PoolNameTest, RefusesUpperCase) {
  EXPECT_EQ(thrown_by([] { PoolName::parse("A"); }).message,
            "invalid pool name \"A\": must match [a-z0-9][a-z0-9_-]{0,62}");
}

TEST(PoolNameTest, RefusesLeadingDashOrUnderscore) {
  EXPECT_EQ(thrown_by([] { PoolName::parse("-x"); }).exit_code, kExitUsage);
  EXPECT_EQ(thrown_by([] { PoolName::parse("_x"); }).exit_code, kExitUsage);
}

TEST(PoolNameTest, Refuses64Characters) {
  const std::string name(64, 'a');
  EXPECT_EQ(thrown_by([&] { PoolName::parse(name); }).message,
            "invalid pool name \"" + name + "\": must match [a-z0-9][a-z0-9_-]{0,62}");
}

TEST(PoolNameTest, RefusesEmptySlashDotAndNul) {
  EXPECT_EQ(thrown_by([] { PoolName::parse(""); }).exit_code, kExitUsage);
  EXPECT_EQ(thrown_by([] { PoolName::parse("a/b"); }).exit_code, kExitUsage);
  EXPECT_EQ(thrown_by([] { PoolName::parse("."); }).exit_code, kExitUsage);
  EXPECT_EQ(thrown_by([] { PoolName::parse(std::string("a\0b", 3)); }).message,
            "invalid pool name \"a\\x00b\": must match [a-z0-9][a-z0-9_-]{0,62}");
}

TEST(PoolNameTest, ConversionsFromTextValidateAsParseDoes) {
  EXPECT_EQ(PoolName("infra"), PoolName::parse("infra"));
  const std::string text = "Infra";
  EXPECT_EQ(thrown_by([&] { [[maybe_unused]] PoolName name = text; }).message,
            "invalid pool name \"Infra\": must match [a-z0-9][a-z0-9_-]{0,62}");
  EXPECT_EQ(thrown_by([] { [[maybe_unused]] PoolName name = "../x"; }).exit_code, kExitUsage);
}

TEST(PoolNameTest, DefaultIsEmpty) {
  EXPECT_TRUE(PoolName().empty());
  EXPECT_EQ(PoolName().str(), "");
  EXPECT_FALSE(PoolName("infra").empty());
}

// A name read from a file or a directory is that object's fault, not the user's.
TEST(PoolNameTest, ParseInNamesTheObjectAndIsNoUsageError) {
  auto t = thrown_by([] { PoolName::parse_in("Bad", "read", "/etc/kcm/pools/Bad"); });
  EXPECT_EQ(t.message,
            "read \"/etc/kcm/pools/Bad\": invalid pool name \"Bad\": must match "
            "[a-z0-9][a-z0-9_-]{0,62}");
  EXPECT_EQ(t.exit_code, kExitFailure);
  EXPECT_EQ(PoolName::parse_in("infra", "read", "x"), "infra");
}

// --- reading a name as text ---------------------------------------------------------------

void takes_string(const std::string& s, std::string* out) { *out = s; }

TEST(NameTextTest, ReadsAsItsText) {
  const PoolName pool = "dataplane";
  std::string out;
  takes_string(pool, &out);
  EXPECT_EQ(out, "dataplane");
  const std::string copy = pool;
  EXPECT_EQ(copy, "dataplane");
  EXPECT_EQ(std::string_view(pool), "dataplane");
  EXPECT_EQ(quote(pool), "\"dataplane\"");
  EXPECT_EQ(fmt::format("pool {}", pool), "pool dataplane");
  EXPECT_EQ(nlohmann::json(pool), nlohmann::json("dataplane"));
  EXPECT_EQ(nlohmann::json(std::vector<CpuListName>{"4,12", "0-2"}).dump(), R"(["4,12","0-2"])");
}

TEST(NameTextTest, ConcatenatesWithText) {
  const PoolName pool = "infra";
  const CpuListName list = "0-2,8-10";
  EXPECT_EQ(pool + ":" + list, "infra:0-2,8-10");
  EXPECT_EQ(std::string("pool ") + pool, "pool infra");
  EXPECT_EQ(pool + std::string(" pool"), "infra pool");
  EXPECT_EQ("[" + list + "]", "[0-2,8-10]");
}

TEST(NameTextTest, ComparesWithNamesAndText) {
  const PoolName infra = "infra";
  EXPECT_EQ(infra, PoolName("infra"));
  EXPECT_NE(infra, PoolName("dataplane"));
  EXPECT_TRUE(infra == "infra");
  EXPECT_TRUE("infra" == infra);
  EXPECT_TRUE(infra == std::string("infra"));
  EXPECT_TRUE(std::string("infra") == infra);
  EXPECT_TRUE(infra != std::string_view("infr"));
  EXPECT_LT(PoolName("dataplane"), infra);
  EXPECT_TRUE(infra > std::string("dataplane"));
  EXPECT_TRUE(std::string("a") < infra);
}

TEST(NameTextTest, IsAMapKeyFoundByNameOrText) {
  std::map<CpuListName, int, std::less<>> lists{{"4,12", 1}, {"10,26", 2}, {"9,25", 3}};
  std::vector<std::string> order;
  for (const auto& [name, n] : lists) order.push_back(name);
  EXPECT_THAT(order, ElementsAre("10,26", "4,12", "9,25"));  // by text, as the directory
  EXPECT_EQ(lists.at("4,12"), 1);
  EXPECT_EQ(lists.find(std::string("9,25"))->second, 3);
  // Text that is no name is looked up without becoming one: it is simply absent.
  EXPECT_EQ(lists.find(std::string("../x")), lists.end());
}

// --- CPU list names -----------------------------------------------------------------------

TEST(CpuListNameTest, KeepsTheNameAsWrittenAndItsCpus) {
  const CpuListName name = CpuListName::parse("0,1,2,8-10");
  EXPECT_EQ(name.str(), "0,1,2,8-10");
  EXPECT_EQ(cpus_of(name), (CpuSet{0, 1, 2, 8, 9, 10}));
  EXPECT_EQ(cpus_of("4,12"), (CpuSet{4, 12}));
}

TEST(CpuListNameTest, RefusesLettersWithUsageError) {
  auto t = thrown_by([] { CpuListName::parse("4,a"); });
  EXPECT_EQ(t.message, "invalid CPU list name \"4,a\": only digits, ',' and '-' are allowed");
  EXPECT_EQ(t.exit_code, kExitUsage);
}

TEST(CpuListNameTest, RefusesDescendingRange) {
  auto t = thrown_by([] { CpuListName::parse("3-1"); });
  EXPECT_EQ(t.message, "invalid CPU list \"3-1\": range 3-1 is descending");
  EXPECT_EQ(t.exit_code, kExitUsage);
}

TEST(CpuListNameTest, RefusesTraversalAndEmpty) {
  EXPECT_EQ(thrown_by([] { CpuListName::parse(".."); }).exit_code, kExitUsage);
  EXPECT_EQ(thrown_by([] { CpuListName::parse("1/2"); }).exit_code, kExitUsage);
  EXPECT_EQ(thrown_by([] { CpuListName::parse(""); }).exit_code, kExitUsage);
  EXPECT_EQ(thrown_by([] { CpuListName::parse("1,,2"); }).exit_code, kExitUsage);
}

TEST(CpuListNameTest, CanonicalNameOfASet) {
  EXPECT_EQ(list_name_of(CpuSet{0, 1, 2, 8, 9, 10}), "0-2,8-10");
  EXPECT_EQ(list_name_of(CpuSet{4, 12}), "4,12");
  EXPECT_EQ(thrown_by([] { list_name_of(CpuSet{}); }).message,
            "invalid CPU list name \"\": only digits, ',' and '-' are allowed");
}

}  // namespace
}  // namespace kcm
