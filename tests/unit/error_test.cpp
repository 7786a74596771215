#include "error.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace kcm {
namespace {

TEST(ErrorTest, DefaultExitCodeIsOperationalFailure) {
  Error e("boom");
  EXPECT_STREQ(e.what(), "boom");
  EXPECT_EQ(e.exit_code(), kExitFailure);
  EXPECT_EQ(kExitOk, 0);
  EXPECT_EQ(kExitFailure, 1);
  EXPECT_EQ(kExitUsage, 2);
}

TEST(ErrorTest, SysErrorNamesOperationObjectAndStrerror) {
  Error e = sys_error("open", "/etc/kcm/pools/dataplane/4,12/tasks", EACCES);
  EXPECT_STREQ(e.what(), "open \"/etc/kcm/pools/dataplane/4,12/tasks\": Permission denied");
  EXPECT_EQ(e.exit_code(), kExitFailure);
}

TEST(ErrorTest, OpErrorNamesOperationObjectAndCause) {
  Error e = op_error("parse", "/etc/kcm/pools/infra/exclusive", "must be \"0\" or \"1\"");
  EXPECT_STREQ(e.what(), "parse \"/etc/kcm/pools/infra/exclusive\": must be \"0\" or \"1\"");
  EXPECT_EQ(e.exit_code(), kExitFailure);
}

TEST(ErrorTest, UsageErrorExitsWithTwo) {
  Error e = usage_error("--num-dp-cores must not be negative");
  EXPECT_STREQ(e.what(), "--num-dp-cores must not be negative");
  EXPECT_EQ(e.exit_code(), kExitUsage);
}

TEST(ErrorTest, WithContextPrefixesAndKeepsExitCode) {
  Error usage = with_context("kcm init", usage_error("bad"));
  EXPECT_STREQ(usage.what(), "kcm init: bad");
  EXPECT_EQ(usage.exit_code(), kExitUsage);
  Error failure = with_context("release c1", sys_error("remove", "/x", ENOENT));
  EXPECT_STREQ(failure.what(), "release c1: remove \"/x\": No such file or directory");
  EXPECT_EQ(failure.exit_code(), kExitFailure);
}

TEST(ErrorTest, SysErrorOfAnAbsentObjectIsNotFoundAndKeepsErrno) {
  for (int err : {ENOENT, ENOTDIR, ESRCH}) {
    Error e = sys_error("open", "/x", err);
    EXPECT_TRUE(e.is_not_found()) << err;
    EXPECT_EQ(e.sys_errno(), err);
    EXPECT_EQ(e.exit_code(), kExitFailure);
  }
  Error denied = sys_error("open", "/x", EACCES);
  EXPECT_EQ(denied.kind(), ErrorKind::kOther);
  EXPECT_EQ(denied.sys_errno(), EACCES);
  EXPECT_FALSE(usage_error("bad").is_not_found());
  EXPECT_TRUE(usage_error("bad").is_usage());
  EXPECT_EQ(Error("cause").sys_errno(), 0);
}

TEST(ErrorTest, WithContextKeepsKindAndErrno) {
  Error e = with_context("outer", sys_error("stat", "/x", ENOENT));
  EXPECT_TRUE(e.is_not_found());
  EXPECT_EQ(e.sys_errno(), ENOENT);
  EXPECT_TRUE(with_context("outer", usage_error("bad")).is_usage());
  EXPECT_TRUE(op_error("find", "pool", "absent", ErrorKind::kNotFound).is_not_found());
}

TEST(ErrorTest, IfFoundTurnsOnlyNotFoundIntoNullopt) {
  EXPECT_EQ(if_found([] { return 7; }), 7);
  EXPECT_EQ(if_found([]() -> int { throw sys_error("open", "/x", ENOENT); }), std::nullopt);
  EXPECT_THROW(if_found([]() -> int { throw sys_error("open", "/x", EACCES); }), Error);
  EXPECT_THROW(if_found([]() -> int { throw usage_error("bad"); }), Error);
}

TEST(ErrorTest, ContextNestsOutermostFirst) {
  Error e = with_context("outer", with_context("inner", Error("cause")));
  EXPECT_STREQ(e.what(), "outer: inner: cause");
}

TEST(ErrorTest, QuoteWrapsInDoubleQuotes) {
  EXPECT_EQ(quote("dataplane"), "\"dataplane\"");
  EXPECT_EQ(quote(""), "\"\"");
}

TEST(ErrorTest, QuoteEscapesQuotesAndBackslashes) {
  EXPECT_EQ(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
}

TEST(ErrorTest, QuoteHexEscapesControlCharacters) {
  EXPECT_EQ(quote("a\nb\tc"), "\"a\\x0ab\\x09c\"");
  EXPECT_EQ(quote(std::string("x\0y", 3)), "\"x\\x00y\"");
  EXPECT_EQ(quote("\x1f"), "\"\\x1f\"");
}

TEST(ErrorTest, QuoteKeepsNonAsciiBytes) { EXPECT_EQ(quote("caf\xc3\xa9"), "\"caf\xc3\xa9\""); }

TEST(ErrorTest, IsARuntimeError) {
  try {
    throw op_error("lock", "/etc/kcm/lock", "timed out");
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "lock \"/etc/kcm/lock\": timed out");
  }
}

}  // namespace
}  // namespace kcm
