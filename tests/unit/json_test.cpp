#include "json.h"

#include <gtest/gtest.h>

#include <string>

namespace kcm {
namespace {

// `levels` arrays nested in one another around `inner`.
std::string nested(std::size_t levels, const std::string& inner = "") {
  return std::string(levels, '[') + inner + std::string(levels, ']');
}

TEST(JsonTest, ParsesADocument) {
  EXPECT_EQ(parse_json(R"({"a":[1,{"b":"c"}]})", "x")["a"][1]["b"], "c");
}

TEST(JsonTest, OrderedParseKeepsKeyOrder) {
  EXPECT_EQ(parse_ordered_json(R"({"z":1,"a":2})", "x").dump(), R"({"z":1,"a":2})");
}

TEST(JsonTest, NestingAtTheBoundIsAccepted) {
  EXPECT_NO_THROW(parse_json(nested(kMaxJsonDepth), "x"));
  EXPECT_NO_THROW(parse_ordered_json(nested(kMaxJsonDepth - 1, "{}"), "x"));
}

TEST(JsonTest, NestingPastTheBoundIsRefusedNamingTheObject) {
  try {
    parse_json(nested(kMaxJsonDepth + 1), "/b/config.json");
    FAIL();
  } catch (const JsonError& e) {
    EXPECT_STREQ(e.what(), "parse \"/b/config.json\": nested deeper than 64 levels");
    EXPECT_EQ(e.cause(), "nested deeper than 64 levels");
    EXPECT_EQ(e.exit_code(), kExitFailure);
  }
}

TEST(JsonTest, HundredThousandLevelsAreRefusedWithoutCrashing) {
  const std::string objects = [] {
    std::string s;
    for (int i = 0; i < 100'000; ++i) s += R"({"a":)";
    return s + "1" + std::string(100'000, '}');
  }();
  EXPECT_THROW(parse_json(objects, "x"), JsonError);
  EXPECT_THROW(parse_ordered_json(nested(100'000), "x"), JsonError);
  // Unclosed, as a truncated or hostile file would be.
  EXPECT_THROW(parse_json(std::string(100'000, '['), "x"), JsonError);
}

TEST(JsonTest, BracketsInStringsAreNotNesting) {
  const std::string deep_text =
      "\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"";
  EXPECT_EQ(parse_json("[" + deep_text + "]", "x")[0].get<std::string>().size(), 2001u);
}

TEST(JsonTest, EscapedQuoteDoesNotEndAString) {
  // Were \" read as the end of the string, the brackets after it would count.
  const std::string text = "[\"\\\"" + std::string(100, '[') + "\"]";
  EXPECT_NO_THROW(parse_json(text, "x"));
}

TEST(JsonTest, EscapedBackslashEndsBeforeTheQuote) {
  // "\\" is a whole string: the brackets after it are structure and must count.
  EXPECT_THROW(parse_json("[\"\\\\\"," + nested(kMaxJsonDepth) + "]", "x"), JsonError);
}

TEST(JsonTest, MalformedJsonNamesTheObjectAndNlohmannsCause) {
  try {
    parse_json("{\"a\":", "/etc/x.json");
    FAIL();
  } catch (const JsonError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("parse \"/etc/x.json\": malformed JSON: ", 0), 0u)
        << e.what();
    EXPECT_EQ(e.cause().rfind("malformed JSON: ", 0), 0u);
  }
}

TEST(JsonTest, FindsAStringWithThePrefix) {
  EXPECT_TRUE(has_string_with_prefix(R"({"kcm.intel.com/pool.app":"x"})", "kcm.intel.com/pool"));
  EXPECT_TRUE(has_string_with_prefix(R"(["a","kcm.intel.com/pool"])", "kcm.intel.com/pool"));
  EXPECT_FALSE(has_string_with_prefix(R"({"x.kcm.intel.com/pool":1})", "kcm.intel.com/pool"));
  EXPECT_FALSE(has_string_with_prefix(R"({"kcm.intel.com/poo":1})", "kcm.intel.com/pool"));
}

TEST(JsonTest, PrefixOutsideStringsDoesNotCount) {
  EXPECT_FALSE(has_string_with_prefix("kcm.intel.com/pool", "kcm.intel.com/pool"));
  // The second quote closes the first string; the text between strings is not one.
  EXPECT_FALSE(has_string_with_prefix(R"(["a" kcm.intel.com/pool "b"])", "kcm.intel.com/pool"));
}

TEST(JsonTest, EscapesAreDecodedBeforeComparing) {
  EXPECT_TRUE(has_string_with_prefix(R"({"kcm.intel.com\/pool":1})", "kcm.intel.com/pool"));
  EXPECT_TRUE(
      has_string_with_prefix(R"({"\u006bcm.intel.com\u002Fpool":1})", "kcm.intel.com/pool"));
  EXPECT_FALSE(has_string_with_prefix(R"({"\u016bcm.intel.com/pool":1})", "kcm.intel.com/pool"));
  EXPECT_FALSE(has_string_with_prefix(R"({"\q":1,"\u00":2})", "\\"));
}

TEST(JsonTest, StringsAreFoundInTextNoParserAccepts) {
  const std::string annotated = R"({"annotations":{"kcm.intel.com/pool":"dataplane"}})";
  // Too deep, trailing data (Go's json.Decoder stops after the first value), cut short,
  // and bytes that are not UTF-8 (Go replaces them).
  for (const std::string& text :
       {nested(kMaxJsonDepth + 1, annotated), annotated + " trailing", annotated.substr(0, 40),
        "{\"x\":\"\xff\"," + annotated.substr(1)}) {
    EXPECT_THROW(parse_json(text, "x"), JsonError) << text;
    EXPECT_TRUE(has_string_with_prefix(text, "kcm.intel.com/pool")) << text;
  }
}

}  // namespace
}  // namespace kcm
