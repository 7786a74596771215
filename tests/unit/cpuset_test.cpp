#include "cpuset.h"

#include <gtest/gtest.h>

#include "error.h"

namespace kcm {
namespace {

TEST(CpuSetTest, ParsesSinglesAndRanges) {
  EXPECT_EQ(CpuSet::parse("0-2,8-10").cpus(), (std::vector<int>{0, 1, 2, 8, 9, 10}));
  EXPECT_EQ(CpuSet::parse("4,12").cpus(), (std::vector<int>{4, 12}));
}

TEST(CpuSetTest, EmptyTextIsEmptySet) {
  EXPECT_TRUE(CpuSet::parse("").empty());
  EXPECT_TRUE(CpuSet::parse("\n").empty());
}

TEST(CpuSetTest, ToleratesKernelNewlineAndTrailingNuls) {
  EXPECT_EQ(CpuSet::parse(std::string("0-3\n\0", 5)), CpuSet({0, 1, 2, 3}));
}

TEST(CpuSetTest, FormatsCanonically) {
  EXPECT_EQ(CpuSet::parse("10,8,9,2,1,0,5").to_string(), "0-2,5,8-10");
  EXPECT_EQ(CpuSet({3, 4}).to_string(), "3,4");
  EXPECT_EQ(CpuSet::parse("1,1,1").to_string(), "1");
  EXPECT_EQ(CpuSet().to_string(), "");
}

TEST(CpuSetTest, RejectsDescendingRange) {
  try {
    CpuSet::parse("3-1");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "invalid CPU list \"3-1\": range 3-1 is descending");
  }
}

TEST(CpuSetTest, RejectsNonNumber) {
  EXPECT_THROW(CpuSet::parse("a"), Error);
  EXPECT_THROW(CpuSet::parse("1-"), Error);
  EXPECT_THROW(CpuSet::parse("-1"), Error);
  EXPECT_THROW(CpuSet::parse("1 2"), Error);
  EXPECT_THROW(CpuSet::parse("+1"), Error);
}

TEST(CpuSetTest, RejectsEmptyElement) {
  try {
    CpuSet::parse("1,,2");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "invalid CPU list \"1,,2\": empty element");
  }
  EXPECT_THROW(CpuSet::parse("1,"), Error);
}

TEST(CpuSetTest, RejectsOutOfRange) {
  EXPECT_THROW(CpuSet::parse("8192"), Error);
  EXPECT_THROW(CpuSet::parse("99999999999999999999"), Error);
  EXPECT_NO_THROW(CpuSet::parse("8191"));
}

TEST(CpuSetTest, ParsesHexMask) {
  EXPECT_EQ(CpuSet::parse_mask("00000000,0000ffff").to_string(), "0-15");
  EXPECT_EQ(CpuSet::parse_mask("5\n").to_string(), "0,2");
  EXPECT_EQ(CpuSet::parse_mask("00000001,00000000").to_string(), "32");
  EXPECT_THROW(CpuSet::parse_mask("xyz"), Error);
  EXPECT_THROW(CpuSet::parse_mask(""), Error);
}

TEST(CpuSetTest, SetOperations) {
  CpuSet a = CpuSet::parse("0-3");
  CpuSet b = CpuSet::parse("2-5");
  EXPECT_EQ(a.intersection(b).to_string(), "2,3");
  EXPECT_EQ(a.difference(b).to_string(), "0,1");
  EXPECT_TRUE(a.intersects(b));
  EXPECT_FALSE(a.intersects(CpuSet({7})));
  EXPECT_TRUE(CpuSet({1, 2}).is_subset_of(a));
  CpuSet c = a;
  c.add(b);
  EXPECT_EQ(c.to_string(), "0-5");
}

}  // namespace
}  // namespace kcm
