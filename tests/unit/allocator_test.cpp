#include "allocator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

using testing::ElementsAre;
using testing_support::thrown_by;

// A pool from (list name, tasks) pairs.
Pool make_pool(const std::string& name, bool exclusive,
               const std::vector<std::pair<std::string, std::vector<pid_t>>>& lists) {
  Pool pool{name, exclusive, {}};
  for (const auto& [list, tasks] : lists) {
    pool.lists.emplace(list, CpuList{list, CpuSet::parse(list), tasks});
  }
  return pool;
}

// The document's dataplane: 4,12 .. 7,15.
Pool dataplane(std::vector<pid_t> t4 = {}, std::vector<pid_t> t5 = {}, std::vector<pid_t> t6 = {},
               std::vector<pid_t> t7 = {}) {
  return make_pool("dataplane", true, {{"4,12", t4}, {"5,13", t5}, {"6,14", t6}, {"7,15", t7}});
}

std::map<int, int> nodes(const std::vector<std::pair<int, int>>& cpu_node) {
  return {cpu_node.begin(), cpu_node.end()};
}

TEST(AllocatorTest, ExclusiveTakesLowestFreeList) {
  Choice c = choose_lists(dataplane({2000}), 1, {});
  EXPECT_THAT(c.lists, ElementsAre("5,13"));
  EXPECT_FALSE(c.spans_nodes);
}

TEST(AllocatorTest, ExclusiveTakesSeveralFreeListsInCpuOrder) {
  Choice c = choose_lists(dataplane({}, {2001}, {}, {}), 3, {});
  EXPECT_THAT(c.lists, ElementsAre("4,12", "6,14", "7,15"));
}

TEST(AllocatorTest, ExclusiveWithNoFreeListGivesTheDocumentMessage) {
  auto t = thrown_by([] { choose_lists(dataplane({1}, {2}, {3}, {4}), 1, {}); });
  EXPECT_EQ(t.message, "pool \"dataplane\" has 0 free CPU lists (4 in use)");
  EXPECT_EQ(t.exit_code, kExitFailure);
}

TEST(AllocatorTest, ExclusiveWithTooFewFreeListsSaysHowManyWereRequested) {
  auto t = thrown_by([] { choose_lists(dataplane({1}, {}, {3}, {4}), 2, {}); });
  EXPECT_EQ(t.message, "pool \"dataplane\" has 1 free CPU lists, 2 requested (3 in use)");
  EXPECT_EQ(t.exit_code, kExitFailure);
}

TEST(AllocatorTest, ExclusiveRequestLargerThanPool) {
  EXPECT_EQ(thrown_by([] { choose_lists(dataplane(), 5, {}); }).message,
            "pool \"dataplane\" has 4 free CPU lists, 5 requested (0 in use)");
}

TEST(AllocatorTest, ListsAreOrderedByFirstCpuNotByName) {
  // By name "10,26" sorts before "9,25"; by CPU 9 comes first.
  Pool pool = make_pool("dataplane", true, {{"10,26", {}}, {"9,25", {}}});
  EXPECT_THAT(choose_lists(pool, 1, {}).lists, ElementsAre("9,25"));
  EXPECT_THAT(choose_lists(pool, 2, {}).lists, ElementsAre("9,25", "10,26"));
}

TEST(AllocatorTest, ExclusivePrefersNodeWithMostFreeLists) {
  // Node 0: lists 0 and 1; node 1: lists 2, 3 and 4. Two lists fit in either node.
  Pool pool = make_pool("dataplane", true, {{"0", {}}, {"1", {}}, {"2", {}}, {"3", {}}, {"4", {}}});
  Choice c = choose_lists(pool, 2, nodes({{0, 0}, {1, 0}, {2, 1}, {3, 1}, {4, 1}}));
  EXPECT_THAT(c.lists, ElementsAre("2", "3"));
  EXPECT_FALSE(c.spans_nodes);
}

TEST(AllocatorTest, ExclusiveCountsOnlyFreeListsPerNode) {
  // Node 1 has more lists, but only one of them is free.
  Pool pool =
      make_pool("dataplane", true, {{"0", {}}, {"1", {}}, {"2", {7}}, {"3", {8}}, {"4", {}}});
  Choice c = choose_lists(pool, 1, nodes({{0, 0}, {1, 0}, {2, 1}, {3, 1}, {4, 1}}));
  EXPECT_THAT(c.lists, ElementsAre("0"));
}

TEST(AllocatorTest, ExclusiveNodeTieGoesToLowestCpu) {
  // Two free lists on each node; node 1 holds the lower CPUs.
  Pool pool = make_pool("dataplane", true, {{"0", {}}, {"1", {}}, {"2", {}}, {"3", {}}});
  Choice c = choose_lists(pool, 2, nodes({{0, 1}, {1, 1}, {2, 0}, {3, 0}}));
  EXPECT_THAT(c.lists, ElementsAre("0", "1"));
  EXPECT_FALSE(c.spans_nodes);
}

TEST(AllocatorTest, ExclusiveSkipsNodesThatCannotHoldTheRequest) {
  // Node 0 has the lowest CPU but only one free list.
  Pool pool = make_pool("dataplane", true, {{"0", {}}, {"1", {}}, {"2", {}}});
  Choice c = choose_lists(pool, 2, nodes({{0, 0}, {1, 1}, {2, 1}}));
  EXPECT_THAT(c.lists, ElementsAre("1", "2"));
  EXPECT_FALSE(c.spans_nodes);
}

TEST(AllocatorTest, ExclusiveSpansNodesWhenNoNodeSuffices) {
  Pool pool = make_pool("dataplane", true, {{"0", {}}, {"3", {}}, {"5", {}}, {"6", {9}}});
  Choice c = choose_lists(pool, 3, nodes({{0, 0}, {5, 0}, {3, 1}, {6, 1}}));
  EXPECT_THAT(c.lists, ElementsAre("0", "3", "5"));
  EXPECT_TRUE(c.spans_nodes);
}

TEST(AllocatorTest, CpusMissingFromNodeMapCountAsNodeZero) {
  // 8 is not in the map (node 0), 0 and 1 are on node 1: node 0's single list loses.
  Pool pool = make_pool("dataplane", true, {{"0", {}}, {"1", {}}, {"8", {}}});
  EXPECT_THAT(choose_lists(pool, 2, nodes({{0, 1}, {1, 1}})).lists, ElementsAre("0", "1"));
  Choice c = choose_lists(make_pool("p", true, {{"8", {}}, {"9", {}}}), 2, nodes({{0, 1}}));
  EXPECT_THAT(c.lists, ElementsAre("8", "9"));
  EXPECT_FALSE(c.spans_nodes);
}

TEST(AllocatorTest, SingleListRequestNeverSpansNodes) {
  Choice c = choose_lists(dataplane(), 1, nodes({{4, 0}, {12, 1}, {5, 1}, {13, 1}}));
  EXPECT_FALSE(c.spans_nodes);
  EXPECT_THAT(c.lists, ElementsAre("4,12"));
}

TEST(AllocatorTest, SharedPicksLeastLoadedList) {
  Pool pool = make_pool("infra", false, {{"0", {1, 2, 3}}, {"1", {4}}, {"2", {5, 6}}});
  Choice c = choose_lists(pool, 1, {});
  EXPECT_THAT(c.lists, ElementsAre("1"));
  EXPECT_FALSE(c.spans_nodes);
}

TEST(AllocatorTest, SharedTieGoesToLowestCpu) {
  Pool pool = make_pool("controlplane", false, {{"10,26", {1}}, {"9,25", {2}}, {"3,11", {3, 4}}});
  EXPECT_THAT(choose_lists(pool, 1, {}).lists, ElementsAre("9,25"));
}

TEST(AllocatorTest, SharedGivesBusyListsToo) {
  Pool pool = make_pool("infra", false, {{"0-2,8-10", {3000, 3001, 3002}}});
  EXPECT_THAT(choose_lists(pool, 1, {}).lists, ElementsAre("0-2,8-10"));
}

TEST(AllocatorTest, SharedWithCountTwoIsAUsageError) {
  Pool pool = make_pool("infra", false, {{"0", {}}, {"1", {}}});
  auto t = thrown_by([&] { choose_lists(pool, 2, {}); });
  EXPECT_EQ(t.message, "pool \"infra\" is shared: it gives one CPU list, not 2");
  EXPECT_EQ(t.exit_code, kExitUsage);
}

TEST(AllocatorTest, EmptyPoolIsAnError) {
  auto t = thrown_by([] { choose_lists(Pool{"dataplane", true, {}}, 1, {}); });
  EXPECT_EQ(t.message, "pool \"dataplane\" has no CPU lists");
  EXPECT_EQ(t.exit_code, kExitFailure);
  EXPECT_EQ(thrown_by([] {
              choose_lists(Pool{"infra", false, {}}, 1, {});
            }).message,
            "pool \"infra\" has no CPU lists");
}

TEST(AllocatorTest, CountBelowOneIsAUsageError) {
  auto t = thrown_by([] { choose_lists(dataplane(), 0, {}); });
  EXPECT_EQ(t.message, "invalid CPU list count 0");
  EXPECT_EQ(t.exit_code, kExitUsage);
}

// --- the reason a choice records (owner.h AllocationReason) -----------------------------

TEST(AllocatorReasonTest, ExclusiveCountsFreeListsAndTheOthersItCouldHaveGiven) {
  Choice c = choose_lists(dataplane({2000}), 1, {});
  EXPECT_STREQ(c.rule, kRuleLowestFree);  // one list: no node map was read
  EXPECT_EQ(c.free_lists, 3);
  EXPECT_EQ(c.other_candidates, 2);
  EXPECT_TRUE(c.nodes.empty());
}

TEST(AllocatorReasonTest, ExclusiveOnOneNodeNamesIt) {
  Choice c = choose_lists(
      dataplane(), 2, nodes({{4, 0}, {12, 0}, {5, 1}, {13, 1}, {6, 1}, {14, 1}, {7, 0}, {15, 0}}));
  EXPECT_STREQ(c.rule, kRuleSingleNode);
  EXPECT_EQ(c.free_lists, 4);
  EXPECT_EQ(c.other_candidates, 2);
  EXPECT_THAT(c.nodes, ElementsAre(0));
}

TEST(AllocatorReasonTest, ExclusiveAcrossNodesNamesThemAll) {
  Choice c =
      choose_lists(dataplane({1}, {2}), 2,
                   nodes({{4, 0}, {12, 0}, {5, 0}, {13, 0}, {6, 0}, {14, 0}, {7, 1}, {15, 1}}));
  EXPECT_STREQ(c.rule, kRuleAcrossNodes);
  EXPECT_EQ(c.free_lists, 2);
  EXPECT_EQ(c.other_candidates, 0);
  EXPECT_THAT(c.nodes, ElementsAre(0, 1));
}

TEST(AllocatorReasonTest, SharedCountsTheOtherListsAsCandidates) {
  Choice c =
      choose_lists(make_pool("infra", false, {{"0-1", {1, 2}}, {"2-3", {3}}, {"8", {}}}), 1, {});
  EXPECT_STREQ(c.rule, kRuleSharedLeastLoaded);
  EXPECT_EQ(c.free_lists, 1);
  EXPECT_EQ(c.other_candidates, 2);
}

TEST(NodeOfListTest, MajorityNodeWins) {
  EXPECT_EQ(node_of_list(CpuSet{0, 1, 2}, nodes({{0, 0}, {1, 3}, {2, 3}})), 3);
}

TEST(NodeOfListTest, TieGoesToLowestNode) {
  EXPECT_EQ(node_of_list(CpuSet{0, 1}, nodes({{0, 5}, {1, 2}})), 2);
}

TEST(NodeOfListTest, UnknownCpusAreNodeZero) { EXPECT_EQ(node_of_list(CpuSet{4, 12}, {}), 0); }

}  // namespace
}  // namespace kcm
