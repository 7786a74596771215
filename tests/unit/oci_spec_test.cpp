#include "oci_spec.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "error.h"
#include "json.h"
#include "oci_state.h"
#include "test_support.h"

namespace kcm {
namespace {

using Json = nlohmann::ordered_json;

const HookCommand kHook{"/usr/local/bin/kcm-hook", "/etc/kcm"};

std::string spec_with(const std::string& annotations, const std::string& extra = "") {
  return R"({"ociVersion":"1.0.2","process":{"args":["sh"]},"root":{"path":"rootfs"})" + extra +
         R"(,"annotations":)" + annotations + "}";
}

const std::string kDataplane = spec_with(R"({"kcm.intel.com/pool":"dataplane"})");

TEST(OciSpecTest, AddsPrestartAndPoststopForAPoolRequest) {
  auto edit = edit_spec(kDataplane, kHook, "config.json");
  ASSERT_TRUE(edit.content);
  auto hooks = Json::parse(*edit.content)["hooks"];
  EXPECT_EQ(hooks["prestart"], Json::parse(R"([{"path":"/usr/local/bin/kcm-hook",
      "args":["kcm-hook","--conf-dir=/etc/kcm","prestart"]}])"));
  EXPECT_EQ(hooks["poststop"], Json::parse(R"([{"path":"/usr/local/bin/kcm-hook",
      "args":["kcm-hook","--conf-dir=/etc/kcm","poststop"]}])"));
}

TEST(OciSpecTest, SecondEditChangesNothing) {
  auto first = edit_spec(kDataplane, kHook, "config.json");
  ASSERT_TRUE(first.content);
  auto second = edit_spec(*first.content, kHook, "config.json");
  EXPECT_TRUE(second.asks_for_cpus);
  EXPECT_FALSE(second.content);
}

TEST(OciSpecTest, UnannotatedSpecIsLeftAlone) {
  auto edit = edit_spec(spec_with(R"({"org.opencontainers.image.ref.name":"x"})"), kHook, "c");
  EXPECT_FALSE(edit.asks_for_cpus);
  EXPECT_FALSE(edit.content);
}

TEST(OciSpecTest, SpecWithoutAnnotationsIsLeftAlone) {
  auto edit = edit_spec(R"({"ociVersion":"1.0.2"})", kHook, "c");
  EXPECT_FALSE(edit.asks_for_cpus);
  EXPECT_FALSE(edit.content);
}

TEST(OciSpecTest, SandboxIsLeftAlone) {
  auto edit = edit_spec(spec_with(R"({"kcm.intel.com/pool":"dataplane",
      "io.kubernetes.cri.container-type":"sandbox"})"),
                        kHook, "c");
  EXPECT_FALSE(edit.asks_for_cpus);
  EXPECT_FALSE(edit.content);
}

TEST(OciSpecTest, InvalidAnnotationStillGetsTheHooks) {
  auto edit = edit_spec(spec_with(R"({"kcm.intel.com/pool":"Data Plane"})"), kHook, "c");
  EXPECT_TRUE(edit.asks_for_cpus);
  ASSERT_TRUE(edit.annotation_error);
  EXPECT_NE(edit.annotation_error->find("kcm.intel.com/pool"), std::string::npos);
  EXPECT_TRUE(edit.content);
}

TEST(OciSpecTest, UnknownFieldsRoundTripInOrder) {
  const std::string original =
      R"({"zeta":{"nested":[1,2.5,"x",null,true]},"ociVersion":"1.0.2",)"
      R"("linux":{"resources":{"memory":{"limit":9223372036854775807}},"vendorThing":{"b":1,"a":2}},)"
      R"("annotations":{"kcm.intel.com/pool":"dataplane"},"alpha":"\u00e9\u003c"})";
  auto edit = edit_spec(original, kHook, "c");
  ASSERT_TRUE(edit.content);
  Json edited = Json::parse(*edit.content);
  edited.erase("hooks");
  EXPECT_EQ(edited.dump(), Json::parse(original).dump());
}

TEST(OciSpecTest, ExistingHooksAreKept) {
  auto edit = edit_spec(
      spec_with(
          R"({"kcm.intel.com/pool":"dataplane"})",
          R"(,"hooks":{"prestart":[{"path":"/bin/other"}],"createRuntime":[{"path":"/bin/x"}]})"),
      kHook, "c");
  ASSERT_TRUE(edit.content);
  auto hooks = Json::parse(*edit.content)["hooks"];
  ASSERT_EQ(hooks["prestart"].size(), 2u);
  EXPECT_EQ(hooks["prestart"][0]["path"], "/bin/other");
  EXPECT_EQ(hooks["prestart"][1]["path"], kHook.path);
  EXPECT_EQ(hooks["createRuntime"], Json::parse(R"([{"path":"/bin/x"}])"));
}

TEST(OciSpecTest, OnlyTheMissingStageIsAdded) {
  auto edit = edit_spec(
      spec_with(R"({"kcm.intel.com/pool":"dataplane"})",
                R"(,"hooks":{"prestart":[{"path":"/usr/local/bin/kcm-hook","args":["custom"]}]})"),
      kHook, "c");
  ASSERT_TRUE(edit.content);
  auto hooks = Json::parse(*edit.content)["hooks"];
  ASSERT_EQ(hooks["prestart"].size(), 1u);
  EXPECT_EQ(hooks["prestart"][0]["args"], Json::parse(R"(["custom"])"));
  EXPECT_EQ(hooks["poststop"].size(), 1u);
}

TEST(OciSpecTest, MalformedJsonThrowsNamingTheFile) {
  try {
    edit_spec("{not json", kHook, "/b/config.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"/b/config.json\""), std::string::npos) << e.what();
  }
}

TEST(OciSpecTest, NonStringAnnotationThrows) {
  EXPECT_THROW(edit_spec(spec_with(R"({"kcm.intel.com/pool":1})"), kHook, "c"), Error);
}

// config.json's annotations are read as kcm-hook reads the state's: the same mistake is
// the same usage error, with the document named.
TEST(OciSpecTest, AnnotationsOfTheWrongTypeAreTheHooksUsageError) {
  using testing_support::usage_error_by;
  EXPECT_EQ(
      usage_error_by([] { edit_spec(spec_with(R"({"kcm.intel.com/cores":2})"), kHook, "/c"); }),
      R"(read "/c": annotation "kcm.intel.com/cores" is not a string)");
  EXPECT_EQ(usage_error_by([] { parse_oci_state(R"({"annotations":{"kcm.intel.com/cores":2}})"); }),
            R"(parse OCI state: annotation "kcm.intel.com/cores" is not a string)");
  EXPECT_EQ(usage_error_by([] { edit_spec(spec_with(R"(["a"])"), kHook, "/c"); }),
            R"(read "/c": "annotations" is not an object)");
  EXPECT_EQ(usage_error_by([] { parse_oci_state(R"({"annotations":["a"]})"); }),
            R"(parse OCI state: "annotations" is not an object)");
  EXPECT_FALSE(edit_spec(spec_with("null"), kHook, "/c").asks_for_cpus);
}

TEST(OciSpecTest, ParseAnnotationsReadsAnObjectOfStrings) {
  using Map = std::map<std::string, std::string>;
  EXPECT_EQ(parse_annotations(nlohmann::json::parse(R"({"a":"1","b":""})")),
            (Map{{"a", "1"}, {"b", ""}}));
  EXPECT_EQ(parse_annotations(nullptr), Map{});
}

TEST(OciSpecTest, HooksOfTheWrongTypeThrow) {
  EXPECT_THROW(
      edit_spec(spec_with(R"({"kcm.intel.com/pool":"dataplane"})", R"(,"hooks":[])"), kHook, "c"),
      Error);
  EXPECT_THROW(
      edit_spec(spec_with(R"({"kcm.intel.com/pool":"dataplane"})", R"(,"hooks":{"poststop":{}})"),
                kHook, "c"),
      Error);
}

TEST(OciSpecTest, NonObjectDocumentThrows) { EXPECT_THROW(edit_spec("[]", kHook, "c"), Error); }

// An annotated spec with an unknown field nested `levels` deep, which runc ignores.
std::string deep_spec(std::size_t levels) {
  return spec_with(R"({"kcm.intel.com/pool":"dataplane"})",
                   R"(,"x":)" + std::string(levels, '[') + std::string(levels, ']'));
}

TEST(OciSpecTest, DeepNestingThrowsNamingTheFileInsteadOfOverflowingTheStack) {
  try {
    edit_spec(deep_spec(100'000), kHook, "/b/config.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "parse \"/b/config.json\": nested deeper than 64 levels");
  }
}

TEST(OciSpecTest, MayAskForCpusReadsTheAnnotationsOfAParsableSpec) {
  EXPECT_TRUE(may_ask_for_cpus(kDataplane));
  EXPECT_TRUE(may_ask_for_cpus(spec_with(R"({"kcm.intel.com/pool":"Data Plane"})")));
  EXPECT_FALSE(may_ask_for_cpus(spec_with(R"({"io.kubernetes.cri.container-name":"web"})")));
  EXPECT_FALSE(may_ask_for_cpus(spec_with(R"({"kcm.intel.com/pool":"dataplane",
      "io.kubernetes.cri.container-type":"sandbox"})")));
  // Another container's request in the same pod's annotations is not this one's.
  EXPECT_FALSE(may_ask_for_cpus(spec_with(R"({"io.kubernetes.cri.container-name":"web",
      "kcm.intel.com/pool.forwarder":"dataplane"})")));
}

TEST(OciSpecTest, MayAskForCpusWhenTheRequestIsThereButHooksCannotBeAdded) {
  EXPECT_TRUE(
      may_ask_for_cpus(spec_with(R"({"kcm.intel.com/pool":"dataplane"})", R"(,"hooks":[])")));
}

TEST(OciSpecTest, MayAskForCpusWhenAnUnparsableTextNamesThePoolAnnotation) {
  EXPECT_TRUE(may_ask_for_cpus(deep_spec(kMaxJsonDepth + 1)));
  EXPECT_TRUE(may_ask_for_cpus(deep_spec(100'000)));
  EXPECT_TRUE(may_ask_for_cpus(kDataplane + "\ngarbage"));
  EXPECT_TRUE(may_ask_for_cpus(spec_with(R"({"kcm.intel.com/pool":7})")));
  EXPECT_TRUE(may_ask_for_cpus(R"({"annotations":{"kcm.intel.com\/pool":"dataplane")"));
}

TEST(OciSpecTest, UnparsableTextWithoutThePoolAnnotationDoesNotAsk) {
  EXPECT_FALSE(may_ask_for_cpus("{not json"));
  EXPECT_FALSE(may_ask_for_cpus(spec_with("{}", R"(,"x":)" + std::string(100'000, '['))));
  EXPECT_FALSE(may_ask_for_cpus(spec_with(R"({"kcm.intel.com/cores":"2"})") + "garbage"));
}

}  // namespace
}  // namespace kcm
