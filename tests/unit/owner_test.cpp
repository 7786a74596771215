// owner.h and sha256.h: the owner records' JSON and file names.
#include "owner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "error.h"
#include "sha256.h"
#include "test_support.h"

namespace kcm {
namespace {

using testing::HasSubstr;
using testing::MatchesRegex;
using testing::StartsWith;
using testing_support::thrown_by;

Owner sample() {
  return Owner{"c0ffee", 2000, 123456, "dataplane", {"4,12", "5,13"}, "2026-11-30T04:17:45Z"};
}

// --- sha256 (FIPS 180-2 examples and block-boundary lengths, checked with Python hashlib)

TEST(Sha256Test, EmptyInput) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, Abc) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, TwoBlockMessage) {
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, PaddingBoundaries) {
  EXPECT_EQ(sha256_hex(std::string(55, 'a')),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(sha256_hex(std::string(56, 'a')),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(sha256_hex(std::string(63, 'a')),
            "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
  EXPECT_EQ(sha256_hex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  EXPECT_EQ(sha256_hex(std::string(65, 'a')),
            "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0");
  EXPECT_EQ(sha256_hex(std::string(119, 'a')),
            "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
  EXPECT_EQ(sha256_hex(std::string(120, 'a')),
            "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c");
}

TEST(Sha256Test, MillionAs) {
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, EveryByteValue) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  EXPECT_EQ(sha256_hex(bytes), "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880");
}

// --- owner_file_stem -------------------------------------------------------------------

TEST(OwnerFileStemTest, SafeContainerIdIsKept) {
  const std::string id = "3f1c2b4a5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708";
  EXPECT_EQ(owner_file_stem(id), id);
  EXPECT_EQ(owner_file_stem("isolate-4242"), "isolate-4242");
  EXPECT_EQ(owner_file_stem("My_Pod.ctr-1"), "My_Pod.ctr-1");
}

TEST(OwnerFileStemTest, IdWithSlashBecomesSha256) {
  EXPECT_EQ(owner_file_stem("a/b"),
            "sha256+c14cddc033f64b9dea80ea675cf280a015e672516090a5626781153dc68fea11");
}

// A container may be named after another's hash: both keep their own record.
TEST(OwnerFileStemTest, AnIdThatIsAnothersHashKeepsItsOwnName) {
  for (const std::string& unsafe :
       std::vector<std::string>{"a/b", ".x", "a b", std::string(129, 'y')}) {
    const std::string hash = sha256_hex(unsafe);
    EXPECT_EQ(owner_file_stem(hash), hash);
    EXPECT_NE(owner_file_stem(unsafe), owner_file_stem(hash)) << unsafe;
    EXPECT_NE(owner_file_stem(unsafe), owner_file_stem("sha256-" + hash)) << unsafe;
  }
}

TEST(OwnerFileStemTest, LeadingDotBecomesSha256) {
  EXPECT_EQ(owner_file_stem(".hidden"), "sha256+" + sha256_hex(".hidden"));
  EXPECT_EQ(owner_file_stem(".."), "sha256+" + sha256_hex(".."));
}

TEST(OwnerFileStemTest, EmptyIdBecomesSha256) {
  EXPECT_EQ(owner_file_stem(""),
            "sha256+e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(OwnerFileStemTest, LengthLimitIs128) {
  EXPECT_EQ(owner_file_stem(std::string(128, 'x')), std::string(128, 'x'));
  EXPECT_EQ(owner_file_stem(std::string(129, 'x')),
            "sha256+0ec9eb33e74510bcdd1f2ea55206e82f21649c5c2becbf2b433eb475b34c01bd");
}

TEST(OwnerFileStemTest, SpacesColonsAndNonAsciiBecomeSha256) {
  for (const std::string& id :
       std::vector<std::string>{"a b", "pod:ctr", "caf\xc3\xa9", std::string("a\0b", 3)}) {
    EXPECT_EQ(owner_file_stem(id), "sha256+" + sha256_hex(id)) << id;
  }
}

// --- JSON ------------------------------------------------------------------------------

TEST(OwnerJsonTest, SerializesSortedKeysTwoSpaceIndentAndNewline) {
  EXPECT_EQ(owner_to_json(sample()),
            "{\n"
            "  \"cpuLists\": [\n"
            "    \"4,12\",\n"
            "    \"5,13\"\n"
            "  ],\n"
            "  \"created\": \"2026-11-30T04:17:45Z\",\n"
            "  \"owner\": \"c0ffee\",\n"
            "  \"pid\": 2000,\n"
            "  \"pool\": \"dataplane\",\n"
            "  \"startTime\": 123456\n"
            "}\n");
}

TEST(OwnerJsonTest, RoundTrips) {
  EXPECT_EQ(owner_from_json(owner_to_json(sample()), "f"), sample());
  Owner odd = sample();
  odd.owner = "weird \"id\"/with\\stuff";
  odd.start_time = 18446744073709551615ull;
  EXPECT_EQ(owner_from_json(owner_to_json(odd), "f"), odd);
}

TEST(OwnerJsonTest, CreatedIsOptional) {
  const Owner o = owner_from_json(
      R"({"owner":"c1","pid":7,"startTime":9,"pool":"infra","cpuLists":["0-2"]})", "f");
  EXPECT_EQ(o, (Owner{"c1", 7, 9, "infra", {"0-2"}, ""}));
}

TEST(OwnerJsonTest, MissingKeyNamesTheFile) {
  auto t = thrown_by([] {
    owner_from_json(R"({"owner":"c1","pid":7,"startTime":9,"cpuLists":[]})",
                    "/etc/kcm/owners/c1.json");
  });
  EXPECT_THAT(t.message, StartsWith("parse \"/etc/kcm/owners/c1.json\": "));
  EXPECT_THAT(t.message, HasSubstr("pool"));
  EXPECT_EQ(t.exit_code, kExitFailure);
}

// Records are an edge where names enter (names.h): a hand-edited pool or list that could
// become a path elsewhere is the record's fault, exit 1, naming the file.
TEST(OwnerJsonTest, InvalidPoolOrListNameIsRefusedNamingTheFile) {
  auto t = thrown_by([] {
    owner_from_json(R"({"owner":"c1","pid":7,"startTime":9,"pool":"../x","cpuLists":[]})",
                    "owners/c1.json");
  });
  EXPECT_EQ(t.message,
            "parse \"owners/c1.json\": invalid pool name \"../x\": must match "
            "[a-z0-9][a-z0-9_-]{0,62}");
  EXPECT_EQ(t.exit_code, kExitFailure);
  EXPECT_EQ(thrown_by([] {
              owner_from_json(
                  R"({"owner":"c1","pid":7,"startTime":9,"pool":"p","cpuLists":["4,12","../x"]})",
                  "owners/c1.json");
            }).message,
            "parse \"owners/c1.json\": invalid CPU list name \"../x\": only digits, ',' and "
            "'-' are allowed");
}

TEST(OwnerJsonTest, DeepNestingIsRefusedNamingTheFile) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(thrown_by([&] { owner_from_json(deep, "owners/x.json"); }).message,
            "parse \"owners/x.json\": nested deeper than 64 levels");
}

TEST(OwnerJsonTest, NonPositivePidIsRefused) {
  auto t = thrown_by([] {
    owner_from_json(R"({"owner":"c1","pid":0,"startTime":9,"pool":"p","cpuLists":[]})", "f.json");
  });
  EXPECT_EQ(t.message, "parse \"f.json\": pid must be positive");
}

TEST(OwnerJsonTest, WrongTypesAreRefused) {
  for (const char* text : {R"({"owner":1,"pid":7,"startTime":9,"pool":"p","cpuLists":[]})",
                           R"({"owner":"c","pid":"7","startTime":9,"pool":"p","cpuLists":[]})",
                           R"({"owner":"c","pid":7,"startTime":9,"pool":"p","cpuLists":"4,12"})",
                           R"(["owner"])", "", "{"}) {
    EXPECT_THAT(thrown_by([&] { owner_from_json(text, "f.json"); }).message,
                StartsWith("parse \"f.json\": "))
        << text;
  }
}

// Found by the owner fuzz target: nlohmann's conversion of an out-of-range double is
// undefined behaviour, and fractions or negatives were silently truncated or wrapped.
TEST(OwnerJsonTest, NumbersMustBeWholeAndInRange) {
  const std::string rest = R"("pool":"p","cpuLists":[])";
  for (const char* bad : {R"("pid":1e300,"startTime":1)", R"("pid":1.5,"startTime":1)",
                          R"("pid":2147483648,"startTime":1)", R"("pid":-3,"startTime":1)",
                          R"("pid":1,"startTime":-1)", R"("pid":1,"startTime":1.5)",
                          R"("pid":1,"startTime":18476444073709551615)"}) {
    const std::string text = std::string(R"({"owner":"a",)") + bad + "," + rest + "}";
    try {
      owner_from_json(text, "/c/owners/a.json");
      ADD_FAILURE() << "accepted " << text;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), testing::StartsWith("parse \"/c/owners/a.json\": \""));
      EXPECT_THAT(e.what(), testing::HasSubstr("must be a whole number"));
    }
  }
}

TEST(OwnerJsonTest, LargestStartTimeIsAccepted) {
  Owner o = owner_from_json(
      R"({"owner":"a","pid":2147483647,"startTime":18446744073709551615,"pool":"p","cpuLists":[]})",
      "x");
  EXPECT_EQ(o.pid, 2147483647);
  EXPECT_EQ(o.start_time, 18446744073709551615ULL);
}

// --- the reason (kcm's extension of the record) -----------------------------------------

Owner with_reason() {
  Owner o = sample();
  o.reason = AllocationReason{"exclusive-single-node", {1}, true, 4, 2};
  return o;
}

TEST(OwnerReasonTest, IsWrittenAfterTheOtherKeysInSortedOrder) {
  EXPECT_EQ(owner_to_json(with_reason()),
            "{\n"
            "  \"cpuLists\": [\n"
            "    \"4,12\",\n"
            "    \"5,13\"\n"
            "  ],\n"
            "  \"created\": \"2026-11-30T04:17:45Z\",\n"
            "  \"owner\": \"c0ffee\",\n"
            "  \"pid\": 2000,\n"
            "  \"pool\": \"dataplane\",\n"
            "  \"reason\": {\n"
            "    \"candidates\": 2,\n"
            "    \"freeLists\": 4,\n"
            "    \"isolated\": true,\n"
            "    \"numaNodes\": [\n"
            "      1\n"
            "    ],\n"
            "    \"rule\": \"exclusive-single-node\"\n"
            "  },\n"
            "  \"startTime\": 123456\n"
            "}\n");
}

TEST(OwnerReasonTest, RoundTrips) {
  EXPECT_EQ(owner_from_json(owner_to_json(with_reason()), "f"), with_reason());
  Owner unknown_nodes = with_reason();
  unknown_nodes.reason->numa_nodes.clear();
  EXPECT_EQ(owner_from_json(owner_to_json(unknown_nodes), "f"), unknown_nodes);
}

TEST(OwnerReasonTest, RecordsWithoutOneStillParse) {
  EXPECT_EQ(owner_from_json(owner_to_json(sample()), "f").reason, std::nullopt);
}

TEST(OwnerReasonTest, MalformedReasonIsRefusedNamingTheFile) {
  const std::string head =
      R"({"owner":"c1","pid":7,"startTime":9,"pool":"infra","cpuLists":["0-2"],"reason":)";
  for (const std::string& reason :
       {std::string("[]"), std::string(R"({"rule":"x"})"),
        std::string(
            R"({"rule":"x","numaNodes":[-1],"isolated":false,"freeLists":0,"candidates":0})"),
        std::string(R"({"rule":"x","numaNodes":[0],"isolated":1,"freeLists":0,"candidates":0})"),
        std::string(
            R"({"rule":"x","numaNodes":[0],"isolated":true,"freeLists":-3,"candidates":0})"),
        std::string(
            R"({"rule":"x","numaNodes":[0],"isolated":true,"freeLists":0,"candidates":1e99})")}) {
    auto t = thrown_by([&] { owner_from_json(head + reason + "}", "/conf/owners/c1.json"); });
    EXPECT_THAT(t.message, StartsWith("parse \"/conf/owners/c1.json\": ")) << reason;
  }
}

TEST(OwnerJsonTest, Rfc3339NowIsUtcWithSeconds) {
  EXPECT_THAT(rfc3339_now(),
              MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"));
}

}  // namespace
}  // namespace kcm
