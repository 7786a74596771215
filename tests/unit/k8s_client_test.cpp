#include "k8s_client.h"

#include <gtest/gtest.h>

#include "error.h"

namespace kcm {
namespace {

using nlohmann::json;
using std::chrono::seconds;

ServerVersion version_of(const json& body) { return parse_server_version(body); }

TEST(ServerVersionTest, ReadsGitVersion) {
  ServerVersion v = version_of({{"gitVersion", "v1.27.3"}, {"major", "1"}, {"minor", "27"}});
  EXPECT_EQ(v.major, 1);
  EXPECT_EQ(v.minor, 27);
}

TEST(ServerVersionTest, IgnoresDistributionSuffixes) {
  ServerVersion v = version_of({{"gitVersion", "v1.27.3-eks-a5565ad"}, {"minor", "27+"}});
  EXPECT_EQ(v.minor, 27);
  EXPECT_EQ(version_of({{"gitVersion", "v1.7.16+k3s1"}}).minor, 7);
}

TEST(ServerVersionTest, FallsBackToMajorAndMinorWhereMinorMayEndInPlus) {
  ServerVersion v = version_of({{"gitVersion", "unknown"}, {"major", "1"}, {"minor", "27+"}});
  EXPECT_EQ(v.major, 1);
  EXPECT_EQ(v.minor, 27);
}

TEST(ServerVersionTest, RefusesABodyWithoutAVersion) {
  EXPECT_THROW(version_of({{"gitVersion", "v1"}}), Error);
  EXPECT_THROW(version_of(json::object()), Error);
  EXPECT_THROW(version_of(json::array()), Error);
  EXPECT_THROW(version_of({{"major", "one"}, {"minor", "27"}}), Error);
}

TEST(DataplaneResourceTest, ExtendedResourceFromV18) {
  EXPECT_EQ(dataplane_resource_name({1, 8}), "kcm.intel.com/dataplane");
  EXPECT_EQ(dataplane_resource_name({1, 30}), "kcm.intel.com/dataplane");
  EXPECT_EQ(dataplane_resource_name({2, 0}), "kcm.intel.com/dataplane");
}

TEST(DataplaneResourceTest, OpaqueIntegerResourceBeforeV18) {
  EXPECT_EQ(dataplane_resource_name({1, 7}), "pod.alpha.kubernetes.io/opaque-int-resource-kcm");
  EXPECT_EQ(dataplane_resource_name({0, 9}), "pod.alpha.kubernetes.io/opaque-int-resource-kcm");
}

TEST(JsonPointerEscapeTest, EscapesSlashAndTilde) {
  EXPECT_EQ(json_pointer_escape("kcm.intel.com/dataplane"), "kcm.intel.com~1dataplane");
  EXPECT_EQ(json_pointer_escape("a~b/c"), "a~0b~1c");
  // "~" first: "~1" must not become "~01" read back as "/".
  EXPECT_EQ(json_pointer_escape("~1"), "~01");
  EXPECT_EQ(json_pointer_escape("/~"), "~1~0");
  EXPECT_EQ(json_pointer_escape(""), "");
}

TEST(JsonPointerEscapeTest, RoundTripsThroughNlohmann) {
  const std::string key = "pod.alpha.kubernetes.io/opaque-int-resource-kcm~x";
  json doc = {{"capacity", {{key, "4"}}}};
  EXPECT_EQ(doc.at(json::json_pointer("/capacity/" + json_pointer_escape(key))), "4");
}

TEST(RetryAfterTest, ReadsDeltaSeconds) {
  EXPECT_EQ(parse_retry_after("1"), seconds(1));
  EXPECT_EQ(parse_retry_after(" 7\r\n"), seconds(7));
  EXPECT_EQ(parse_retry_after("0"), seconds(0));
}

TEST(RetryAfterTest, CapsLongWaits) {
  EXPECT_EQ(parse_retry_after("31"), kMaxRetryAfter);
  EXPECT_EQ(parse_retry_after("99999999999999999999999999"), kMaxRetryAfter);
}

TEST(RetryAfterTest, IgnoresWhatIsNotDeltaSeconds) {
  EXPECT_EQ(parse_retry_after(""), std::nullopt);
  EXPECT_EQ(parse_retry_after("  "), std::nullopt);
  EXPECT_EQ(parse_retry_after("-1"), std::nullopt);
  EXPECT_EQ(parse_retry_after("1.5"), std::nullopt);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
}

TEST(ApiErrorTest, UsesTheStatusReasonAndMessage) {
  std::string body =
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"nodes \"n1\" is forbidden: User \"system:serviceaccount:kcm:kcm\" cannot )"
      R"(patch resource \"nodes/status\" in API group \"\" at the cluster scope",)"
      R"("reason":"Forbidden","details":{"name":"n1","kind":"nodes"},"code":403})";
  EXPECT_EQ(format_api_error("PATCH", "/api/v1/nodes/n1/status", 403, body),
            "PATCH /api/v1/nodes/n1/status: 403 Forbidden: nodes \"n1\" is forbidden: User "
            "\"system:serviceaccount:kcm:kcm\" cannot patch resource \"nodes/status\" in API "
            "group \"\" at the cluster scope");
}

TEST(ApiErrorTest, ReasonTellsAlreadyExistsFromConflict) {
  std::string body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                     R"("message":"reconciles.report.kcm.intel.com \"n1\" already exists",)"
                     R"("reason":"AlreadyExists","code":409})";
  EXPECT_EQ(format_api_error("POST", "/apis/x", 409, body),
            "POST /apis/x: 409 AlreadyExists: reconciles.report.kcm.intel.com \"n1\" already "
            "exists");
}

TEST(ApiErrorTest, AddsCausesTheMessageLacks) {
  std::string body =
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"the server rejected our request due to an error in our request",)"
      R"("reason":"Invalid","details":{"causes":[{"message":"doc is missing path: /a"},)"
      R"({"message":"the server rejected our request"}]},"code":422})";
  EXPECT_EQ(format_api_error("PATCH", "/p", 422, body),
            "PATCH /p: 422 Invalid: the server rejected our request due to an error in our "
            "request; doc is missing path: /a");
}

TEST(ApiErrorTest, PlainTextBodyKeepsItsFirstLine) {
  EXPECT_EQ(format_api_error("GET", "/apis/g/v1/x", 404, "404 page not found\n"),
            "GET /apis/g/v1/x: 404 Not Found: 404 page not found");
}

TEST(ApiErrorTest, EmptyBodyGivesTheHttpReason) {
  EXPECT_EQ(format_api_error("GET", "/version", 503, ""), "GET /version: 503 Service Unavailable");
  EXPECT_EQ(format_api_error("GET", "/version", 599, ""), "GET /version: 599 HTTP Error");
}

TEST(ApiErrorTest, StatusWithoutReasonGivesTheHttpReason) {
  EXPECT_EQ(format_api_error("GET", "/v", 500, R"({"kind":"Status","message":"boom"})"),
            "GET /v: 500 Internal Server Error: boom");
}

TEST(ApiErrorTest, BodyNestedTooDeepIsShownAsText) {
  const std::string body = R"({"kind":"Status","message":"boom","details":)" +
                           std::string(100'000, '[') + std::string(100'000, ']') + "}";
  EXPECT_EQ(format_api_error("GET", "/v", 500, body),
            "GET /v: 500 Internal Server Error: " + body.substr(0, 200));
}

TEST(ApiErrorTest, JsonThatIsNoStatusIsShownAsText) {
  EXPECT_EQ(format_api_error("GET", "/v", 502, R"({"error":"upstream"})"),
            R"(GET /v: 502 Bad Gateway: {"error":"upstream"})");
}

}  // namespace
}  // namespace kcm
