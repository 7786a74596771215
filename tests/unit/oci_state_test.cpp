#include "oci_state.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

// The message of the usage Error parse_oci_state throws, or "" when it throws none.
std::string usage_error_of(std::string_view text) {
  return testing_support::usage_error_by([&] { parse_oci_state(text); });
}

TEST(OciStateTest, ParsesRuncPrestartState) {
  OciState s = parse_oci_state(R"({"ociVersion":"1.0.2-dev","id":"c1","status":"creating",
      "pid":4242,"bundle":"/run/b","annotations":{"kcm.intel.com/pool":"dataplane"}})");
  EXPECT_EQ(s.id, "c1");
  EXPECT_EQ(s.pid, 4242);
  EXPECT_EQ(s.annotations,
            (std::map<std::string, std::string>{{"kcm.intel.com/pool", "dataplane"}}));
}

TEST(OciStateTest, RuncPoststopWithoutPidReadsAsZero) {
  EXPECT_EQ(parse_oci_state(R"({"id":"c1","status":"stopped"})").pid, 0);
}

TEST(OciStateTest, CrunPoststopPidZeroReadsAsZero) {
  EXPECT_EQ(parse_oci_state(R"({"id":"c1","status":"stopped","pid":0})").pid, 0);
}

TEST(OciStateTest, MissingFieldsAreLeftEmpty) {
  OciState s = parse_oci_state("{}");
  EXPECT_EQ(s.id, "");
  EXPECT_TRUE(s.annotations.empty());
}

TEST(OciStateTest, NullFieldsAreLeftEmpty) {
  OciState s = parse_oci_state(R"({"id":null,"pid":null,"annotations":null})");
  EXPECT_EQ(s.id, "");
  EXPECT_EQ(s.pid, 0);
}

TEST(OciStateTest, UnknownFieldsAreIgnored) {
  EXPECT_EQ(parse_oci_state(R"({"id":"c1","future":{"x":[1]}})").id, "c1");
}

// A runtime that sends an odd status or bundle must not have its containers refused for a
// field kcm never reads.
TEST(OciStateTest, FieldsKcmDoesNotReadMayHaveAnyType) {
  OciState s = parse_oci_state(
      R"({"id":"c1","pid":7,"status":5,"bundle":["x"],"ociVersion":{},"annotations":{}})");
  EXPECT_EQ(s.id, "c1");
  EXPECT_EQ(s.pid, 7);
}

TEST(OciStateTest, MalformedJsonIsUsageError) {
  EXPECT_EQ(usage_error_of(R"({"id":"c1",)").rfind("parse OCI state: malformed JSON: ", 0), 0u);
  EXPECT_EQ(usage_error_of("").rfind("parse OCI state: malformed JSON: ", 0), 0u);
}

TEST(OciStateTest, DeepNestingIsUsageError) {
  std::string deep = R"({"id":"c1","annotations":{"kcm.intel.com/pool":"dataplane"},"x":)";
  deep += std::string(100'000, '[') + std::string(100'000, ']') + "}";
  EXPECT_EQ(usage_error_of(deep), "parse OCI state: nested deeper than 64 levels");
}

TEST(OciStateTest, NonObjectIsUsageError) {
  EXPECT_EQ(usage_error_of("[1,2]"), "parse OCI state: not a JSON object");
}

TEST(OciStateTest, NonStringIdIsUsageError) {
  EXPECT_EQ(usage_error_of(R"({"id":7})"), "parse OCI state: \"id\" is not a string");
}

TEST(OciStateTest, NonIntegerPidIsUsageError) {
  EXPECT_EQ(usage_error_of(R"({"id":"c","pid":"12"})"),
            "parse OCI state: \"pid\" is not an integer");
  EXPECT_EQ(usage_error_of(R"({"id":"c","pid":1.5})"),
            "parse OCI state: \"pid\" is not an integer");
}

TEST(OciStateTest, OutOfRangePidIsUsageError) {
  EXPECT_EQ(usage_error_of(R"({"id":"c","pid":-1})"),
            "parse OCI state: \"pid\" -1 is out of range");
  EXPECT_NE(usage_error_of(R"({"id":"c","pid":99999999999})"), "");
}

TEST(OciStateTest, NonObjectAnnotationsIsUsageError) {
  EXPECT_EQ(usage_error_of(R"({"annotations":["a"]})"),
            "parse OCI state: \"annotations\" is not an object");
}

TEST(OciStateTest, NonStringAnnotationValueIsUsageError) {
  EXPECT_EQ(usage_error_of(R"({"annotations":{"kcm.intel.com/cores":2}})"),
            "parse OCI state: annotation \"kcm.intel.com/cores\" is not a string");
}

class ReadStateTest : public ::testing::Test {
 protected:
  // A file holding `size` bytes, opened for reading.
  int file_of_size(std::size_t size) {
    FILE* f = std::tmpfile();
    std::string data(size, ' ');
    std::fwrite(data.data(), 1, data.size(), f);
    std::fflush(f);
    int fd = ::dup(fileno(f));
    std::fclose(f);
    ::lseek(fd, 0, SEEK_SET);
    return fd;
  }
};

TEST_F(ReadStateTest, ReadsUpToOneMiB) {
  int fd = file_of_size(kMaxStateBytes);
  EXPECT_EQ(read_state(fd, "stdin").size(), kMaxStateBytes);
  ::close(fd);
}

TEST_F(ReadStateTest, RejectsMoreThanOneMiB) {
  int fd = file_of_size(kMaxStateBytes + 1);
  try {
    read_state(fd, "stdin");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kExitUsage);
    EXPECT_STREQ(e.what(), "read \"stdin\": OCI state is larger than 1048576 bytes");
  }
  ::close(fd);
}

}  // namespace
}  // namespace kcm
