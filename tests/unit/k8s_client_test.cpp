#include "k8s_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "error.h"
#include "k8s_fakes.h"
#include "test_support.h"

namespace kcm {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::ElementsAre;
using testing_support::FakeClock;
using testing_support::FakeTransport;
using testing_support::header_of;

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

// ---- The protocol, over a fake transport and a fake clock ----

constexpr char kCrd[] = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
constexpr char kReconcileCrd[] =
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/reconciles.report.kcm.intel.com";
constexpr char kReconciles[] = "/apis/report.kcm.intel.com/v1/namespaces/kcm/reconciles";
constexpr char kReconcile[] = "/apis/report.kcm.intel.com/v1/namespaces/kcm/reconciles/n1";

std::string status_body(const std::string& reason, const std::string& message,
                        const std::string& name = "") {
  json body = {{"kind", "Status"}, {"status", "Failure"}, {"reason", reason}, {"message", message}};
  if (!name.empty()) body["details"] = {{"name", name}};
  return body.dump();
}

std::string crd_body(bool established) {
  json crd = {{"kind", "CustomResourceDefinition"},
              {"metadata", {{"name", "reconciles.report.kcm.intel.com"}}}};
  crd["status"]["conditions"] =
      json::array({{{"type", "NamesAccepted"}, {"status", "True"}},
                   {{"type", "Established"}, {"status", established ? "True" : "False"}}});
  return crd.dump();
}

std::string object_body(const std::string& resource_version) {
  return json({{"apiVersion", "report.kcm.intel.com/v1"},
               {"kind", "Reconcile"},
               {"metadata",
                {{"name", "n1"},
                 {"resourceVersion", resource_version},
                 {"labels", {{"other-writer", "was-here"}}}}},
               {"report", {{"old", true}}}})
      .dump();
}

const std::string kObjectNotFound =
    status_body("NotFound", "reconciles.report.kcm.intel.com \"n1\" not found", "n1");
const std::string kConflict = status_body(
    "Conflict", "Operation cannot be fulfilled on reconciles.report.kcm.intel.com \"n1\"");
const std::string kAlreadyExists =
    status_body("AlreadyExists", "reconciles.report.kcm.intel.com \"n1\" already exists", "n1");

std::vector<milliseconds> ms(std::initializer_list<long> values) {
  std::vector<milliseconds> out;
  for (long v : values) out.emplace_back(v);
  return out;
}

class ApiClientTest : public testing::Test {
 protected:
  ApiClientTest() { write_token("token-1\n"); }
  void write_token(const std::string& token) const {
    testing_support::write_file(token_path_, token);
  }
  std::string error_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), kExitFailure);
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
  }

  testing_support::TempDir tmp_;
  const std::string token_path_ = tmp_ / "token";
  FakeTransport transport_;
  FakeClock clock_;
  ApiClient api_{transport_, clock_, token_path_};
  const InClusterConfig config_{.server = "https://10.96.0.1:443",
                                .ca_path = "",
                                .token_path = token_path_,
                                .node_name = "n1",
                                .pod_namespace = "kcm"};
};

TEST_F(ApiClientTest, GetSendsTheTokenAndAcceptAndNoBody) {
  transport_.respond(200, R"({"gitVersion":"v1.27.3"})");
  EXPECT_EQ(api_.call("GET", "/version"), json({{"gitVersion", "v1.27.3"}}));
  ASSERT_EQ(transport_.requests.size(), 1u);
  const HttpRequest& r = transport_.requests[0];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/version");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.headers,
            (HttpHeaders{{"Authorization", "Bearer token-1"}, {"Accept", "application/json"}}));
}

TEST_F(ApiClientTest, BodyGoesWithItsContentType) {
  transport_.respond(200, "{}").respond(201, "{}");
  json patch = json::array({{{"op", "add"}, {"path", "/a"}, {"value", "4"}}});
  api_.call("PATCH", "/p", &patch, "application/json-patch+json");
  json object = {{"b", 1}};
  api_.call("POST", "/c", &object);
  EXPECT_EQ(transport_.requests[0].body, R"([{"op":"add","path":"/a","value":"4"}])");
  EXPECT_EQ(header_of(transport_.requests[0], "Content-Type"), "application/json-patch+json");
  EXPECT_EQ(transport_.requests[1].body, R"({"b":1})");
  EXPECT_EQ(header_of(transport_.requests[1], "Content-Type"), "application/json");
}

TEST_F(ApiClientTest, ClientErrorsAreReturnedWithoutRetrying) {
  for (long status : {400, 403, 404, 409, 410, 415, 422}) {
    FakeTransport transport;
    ApiClient api(transport, clock_, token_path_);
    transport.respond(status, "no");
    EXPECT_EQ(api.send("GET", "/x").status, status);
    EXPECT_EQ(transport.requests.size(), 1u) << status;
  }
  EXPECT_TRUE(clock_.sleeps.empty());
}

TEST_F(ApiClientTest, ThrottlingAndServerErrorsAreRetriedWithADoublingBackoff) {
  transport_.respond(429).respond(500).respond(502).respond(503).respond(504).respond(200, "{}");
  EXPECT_EQ(api_.send("GET", "/version").status, 200);
  EXPECT_EQ(transport_.requests.size(), 6u);
  EXPECT_EQ(clock_.sleeps, ms({250, 500, 1000, 2000, 4000}));
}

TEST_F(ApiClientTest, RetryAfterSetsTheWaitUpToItsCap) {
  transport_.respond(429, "", {{"retry-after", "1"}})
      .respond(503, "", {{"retry-after", "0"}})
      .respond(429, "", {{"retry-after", "3600"}})
      .respond(429, "", {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}})
      .respond(200, "{}");
  EXPECT_EQ(api_.send("GET", "/version").status, 200);
  // A date is no delta-seconds: the backoff of the fourth retry applies.
  EXPECT_EQ(clock_.sleeps, ms({1000, 0, 30000, 2000}));
}

TEST_F(ApiClientTest, AfterFiveRetriesTheLastResponseIsTheAnswer) {
  transport_.fallback = [](const HttpRequest&) {
    return HttpResponse{
        429,
        {{"retry-after", "0"}},
        status_body("TooManyRequests", "Too many requests, please try again later.")};
  };
  EXPECT_EQ(error_of([&] { api_.call("GET", "/version"); }),
            "GET /version: 429 TooManyRequests: Too many requests, please try again later.");
  EXPECT_EQ(transport_.requests.size(), 1u + kMaxRetries);
  EXPECT_EQ(clock_.sleeps.size(), static_cast<std::size_t>(kMaxRetries));
}

TEST_F(ApiClientTest, TransientTransportFailuresAreRetried) {
  transport_.fail("Connection refused", true).fail("Empty reply from server", true).respond(200);
  EXPECT_EQ(api_.send("GET", "/version").status, 200);
  EXPECT_EQ(clock_.sleeps, ms({250, 500}));
}

TEST_F(ApiClientTest, AFailedCertificateCheckIsNeverRetried) {
  transport_.fail("SSL certificate problem: unable to get local issuer certificate", false);
  try {
    api_.send("GET", "/version");
    ADD_FAILURE() << "no error";
  } catch (const TransportError& e) {
    EXPECT_STREQ(e.what(),
                 "GET /version: SSL certificate problem: unable to get local issuer certificate");
    EXPECT_FALSE(e.transient());
  }
  EXPECT_EQ(transport_.requests.size(), 1u);
  EXPECT_TRUE(clock_.sleeps.empty());
}

TEST_F(ApiClientTest, ATransportFailureAfterRetriesSaysHowMany) {
  transport_.fallback = [](const HttpRequest& r) -> HttpResponse {
    throw TransportError(r.method + " " + r.path + ": Connection refused", true);
  };
  EXPECT_EQ(error_of([&] { api_.send("GET", "/version"); }),
            "GET /version: Connection refused (after 5 retries)");
  EXPECT_EQ(transport_.requests.size(), 6u);

  FakeTransport transport;
  ApiClient api(transport, clock_, token_path_);
  transport.respond(503).fail("SSL certificate problem: certificate has expired", false);
  EXPECT_EQ(error_of([&] { api.send("GET", "/version"); }),
            "GET /version: SSL certificate problem: certificate has expired (after 1 retries)");
}

TEST_F(ApiClientTest, A401ReReadsTheTokenAndRetriesOnceAtOnce) {
  transport_.respond(200, "{}")
      .reply([this](const HttpRequest&) {
        write_token("token-2");  // the kubelet rotated it
        return HttpResponse{401, {}, status_body("Unauthorized", "Unauthorized")};
      })
      .respond(200, "{}")
      .respond(200, "{}");
  api_.call("GET", "/a");
  api_.call("GET", "/b");
  api_.call("GET", "/c");
  std::vector<std::string> tokens;
  for (const HttpRequest& r : transport_.requests) tokens.push_back(header_of(r, "Authorization"));
  EXPECT_THAT(tokens,
              ElementsAre("Bearer token-1", "Bearer token-1", "Bearer token-2", "Bearer token-2"));
  EXPECT_TRUE(clock_.sleeps.empty());
}

TEST_F(ApiClientTest, A401AfterTheTokenWasReReadIsTheAnswer) {
  transport_.fallback = [](const HttpRequest&) {
    return HttpResponse{401, {}, status_body("Unauthorized", "Unauthorized")};
  };
  EXPECT_EQ(error_of([&] { api_.call("GET", "/version"); }),
            "GET /version: 401 Unauthorized: Unauthorized");
  EXPECT_EQ(transport_.requests.size(), 2u);
}

TEST_F(ApiClientTest, TheTokenIsReReadOncePerRequestEvenAcrossRetries) {
  transport_.respond(401).respond(503).respond(401).respond(200);
  EXPECT_EQ(api_.send("GET", "/version").status, 401);
  EXPECT_EQ(transport_.requests.size(), 3u);
}

TEST_F(ApiClientTest, RetriesThatOutlastTheTokensAgeReadItAgain) {
  transport_.respond(429, "", {{"retry-after", "30"}})
      .reply([this](const HttpRequest&) {
        write_token("token-2");
        return HttpResponse{429, {{"retry-after", "30"}}, ""};
      })
      .respond(200);
  api_.send("GET", "/version");
  EXPECT_EQ(header_of(transport_.requests[1], "Authorization"), "Bearer token-1");
  EXPECT_EQ(header_of(transport_.requests[2], "Authorization"), "Bearer token-2");
}

TEST_F(ApiClientTest, AnUnreadableTokenIsAnErrorBeforeAnyRequest) {
  std::filesystem::remove(token_path_);
  EXPECT_THAT(error_of([&] { api_.send("GET", "/version"); }), testing::HasSubstr(token_path_));
  EXPECT_TRUE(transport_.requests.empty());
}

TEST_F(ApiClientTest, SuccessNeedsAJsonObject) {
  transport_.respond(200, "[]").respond(200, "not json").respond(204);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(error_of([&] { api_.call("GET", "/x"); }), "GET /x: response is not a JSON object");
  }
}

// ---- discover ----

TEST_F(ApiClientTest, DiscoverPatchesTheExtendedResource) {
  transport_.respond(200, R"({"gitVersion":"v1.27.3"})")
      .respond(200, R"({"status":{"capacity":{"cpu":"16"}}})")
      .respond(200, "{}");
  discover(api_, config_, 4);
  EXPECT_THAT(transport_.request_lines(),
              ElementsAre("GET /version", "GET /api/v1/nodes/n1", "PATCH /api/v1/nodes/n1/status"));
  const HttpRequest& patch = transport_.requests[2];
  EXPECT_EQ(patch.body,
            R"([{"op":"add","path":"/status/capacity/kcm.intel.com~1dataplane","value":"4"}])");
  EXPECT_EQ(header_of(patch, "Content-Type"), "application/json-patch+json");
}

TEST_F(ApiClientTest, DiscoverUsesTheOpaqueIntegerResourceBeforeV18) {
  transport_.respond(200, R"({"gitVersion":"v1.7.16"})").respond(200, "{}").respond(200, "{}");
  discover(api_, config_, 2);
  EXPECT_EQ(
      transport_.requests[2].body,
      R"([{"op":"add","path":"/status/capacity/pod.alpha.kubernetes.io~1opaque-int-resource-kcm","value":"2"}])");
}

TEST_F(ApiClientTest, DiscoverSkipsThePatchWhenTheNodeAdvertisesTheNumber) {
  transport_.respond(200, R"({"gitVersion":"v1.27.3"})")
      .respond(200, R"({"status":{"capacity":{"kcm.intel.com/dataplane":"4"}}})");
  discover(api_, config_, 4);
  EXPECT_EQ(transport_.requests.size(), 2u);
}

TEST_F(ApiClientTest, DiscoverReportsAMissingNode) {
  transport_.respond(200, R"({"gitVersion":"v1.27.3"})")
      .respond(404, status_body("NotFound", "nodes \"n1\" not found", "n1"));
  EXPECT_EQ(error_of([&] { discover(api_, config_, 4); }),
            "GET /api/v1/nodes/n1: 404 NotFound: nodes \"n1\" not found");
}

// ---- publish: the CRD ----

TEST_F(ApiClientTest, PublishCreatesTheCrdThenTheObject) {
  transport_.respond(404, status_body("NotFound", "not found", "reconciles.report.kcm.intel.com"))
      .respond(201, crd_body(true))
      .respond(404, kObjectNotFound)
      .respond(201, "{}");
  json report = {{"reclaimedCpuLists", json::array()}};
  publish_report(api_, config_, "Reconcile", report);
  EXPECT_THAT(transport_.request_lines(),
              ElementsAre(std::string("GET ") + kReconcileCrd, std::string("POST ") + kCrd,
                          std::string("GET ") + kReconcile, std::string("POST ") + kReconciles));
  json crd = json::parse(transport_.requests[1].body);
  EXPECT_EQ(crd["metadata"]["name"], "reconciles.report.kcm.intel.com");
  EXPECT_EQ(crd["spec"]["names"], json({{"kind", "Reconcile"},
                                        {"listKind", "ReconcileList"},
                                        {"plural", "reconciles"},
                                        {"singular", "reconcile"}}));
  json object = json::parse(transport_.requests[3].body);
  EXPECT_EQ(object["apiVersion"], "report.kcm.intel.com/v1");
  EXPECT_EQ(object["kind"], "Reconcile");
  EXPECT_EQ(object["metadata"], json({{"name", "n1"}}));
  EXPECT_EQ(object["report"], report);
  EXPECT_TRUE(std::regex_match(object["last_updated"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)")));
  EXPECT_TRUE(clock_.sleeps.empty());
}

TEST_F(ApiClientTest, NodeReportsHaveTheirOwnCrd) {
  transport_.respond(200, crd_body(true)).respond(404, kObjectNotFound).respond(201, "{}");
  publish_report(api_, config_, "NodeReport", json::object());
  EXPECT_EQ(transport_.requests[0].path, std::string(kCrd) + "/nodereports.report.kcm.intel.com");
  EXPECT_EQ(transport_.requests[2].path,
            "/apis/report.kcm.intel.com/v1/namespaces/kcm/nodereports");
}

TEST_F(ApiClientTest, AnUnknownKindIsRefusedBeforeAnyRequest) {
  EXPECT_EQ(error_of([&] { publish_report(api_, config_, "Other", json::object()); }),
            "publish report: unknown kind \"Other\"");
  EXPECT_TRUE(transport_.requests.empty());
}

TEST_F(ApiClientTest, PublishPollsTheCrdUntilEstablished) {
  transport_.respond(404)
      .respond(201, crd_body(false))
      .respond(200, crd_body(false))
      .respond(200, crd_body(false))
      .respond(200, crd_body(true))
      .respond(404, kObjectNotFound)
      .respond(201, "{}");
  publish_report(api_, config_, "Reconcile", json::object());
  EXPECT_EQ(clock_.sleeps, ms({200, 200, 200}));
  EXPECT_TRUE(transport_.script_used_up());
}

TEST_F(ApiClientTest, ACrdCreatedConcurrentlyIsWaitedFor) {
  transport_
      .respond(404, "404 page not found")  // a 404 of any shape: kcm creates it
      .respond(409, kAlreadyExists)
      .respond(200, crd_body(true))
      .respond(200, object_body("7"))
      .respond(200, "{}");
  publish_report(api_, config_, "Reconcile", json::object());
  EXPECT_THAT(transport_.request_lines(),
              ElementsAre(std::string("GET ") + kReconcileCrd, std::string("POST ") + kCrd,
                          std::string("GET ") + kReconcileCrd, std::string("GET ") + kReconcile,
                          std::string("PUT ") + kReconcile));
  EXPECT_EQ(clock_.sleeps, ms({200}));
}

TEST_F(ApiClientTest, ACrdNeverEstablishedTimesOutAfterThirtySeconds) {
  transport_.respond(200, crd_body(false));
  transport_.fallback = [](const HttpRequest&) { return HttpResponse{200, {}, crd_body(false)}; };
  EXPECT_EQ(error_of([&] { publish_report(api_, config_, "Reconcile", json::object()); }),
            "wait for CustomResourceDefinition \"reconciles.report.kcm.intel.com\": not "
            "Established after 30 s");
  EXPECT_EQ(clock_.sleeps.size(), 150u);  // every 200 ms for 30 s
  EXPECT_EQ(transport_.requests.size(), 151u);
}

TEST_F(ApiClientTest, ACrdCreateThatFailsIsAnError) {
  transport_.respond(404).respond(403, status_body("Forbidden", "cannot create"));
  EXPECT_EQ(error_of([&] { publish_report(api_, config_, "Reconcile", json::object()); }),
            std::string("POST ") + kCrd + ": 403 Forbidden: cannot create");
}

// ---- publish: the object ----

TEST_F(ApiClientTest, AnExistingObjectIsUpdatedKeepingItsMetadata) {
  transport_.respond(200, crd_body(true)).respond(200, object_body("7")).respond(200, "{}");
  json report = {{"new", true}};
  publish_report(api_, config_, "Reconcile", report);
  ASSERT_EQ(transport_.requests.size(), 3u);
  json put = json::parse(transport_.requests[2].body);
  EXPECT_EQ(put["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(put["metadata"]["labels"], json({{"other-writer", "was-here"}}));
  EXPECT_EQ(put["report"], report);
  EXPECT_TRUE(put.contains("last_updated"));
}

TEST_F(ApiClientTest, AConflictingUpdateStartsAgainFromTheGet) {
  transport_.respond(200, crd_body(true))
      .respond(200, object_body("7"))
      .respond(409, kConflict)
      .respond(200, object_body("8"))
      .respond(200, "{}");
  publish_report(api_, config_, "Reconcile", json::object());
  EXPECT_THAT(transport_.request_lines(),
              ElementsAre(std::string("GET ") + kReconcileCrd, std::string("GET ") + kReconcile,
                          std::string("PUT ") + kReconcile, std::string("GET ") + kReconcile,
                          std::string("PUT ") + kReconcile));
  EXPECT_EQ(json::parse(transport_.requests[2].body)["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(json::parse(transport_.requests[4].body)["metadata"]["resourceVersion"], "8");
  EXPECT_TRUE(clock_.sleeps.empty());  // a conflict is no reason to wait
}

TEST_F(ApiClientTest, AnObjectCreatedConcurrentlyIsUpdated) {
  transport_.respond(200, crd_body(true))
      .respond(404, kObjectNotFound)
      .respond(409, kAlreadyExists)
      .respond(200, object_body("3"))
      .respond(200, "{}");
  publish_report(api_, config_, "Reconcile", json::object());
  EXPECT_THAT(transport_.request_lines(),
              ElementsAre(std::string("GET ") + kReconcileCrd, std::string("GET ") + kReconcile,
                          std::string("POST ") + kReconciles, std::string("GET ") + kReconcile,
                          std::string("PUT ") + kReconcile));
  EXPECT_EQ(json::parse(transport_.requests[4].body)["metadata"]["resourceVersion"], "3");
}

TEST_F(ApiClientTest, AnObjectThatKeepsChangingIsGivenUpAfterFiveAttempts) {
  transport_.respond(200, crd_body(true));
  transport_.fallback = [](const HttpRequest& r) {
    return r.method == "GET" ? HttpResponse{200, {}, object_body("7")}
                             : HttpResponse{409, {}, kConflict};
  };
  EXPECT_EQ(error_of([&] { publish_report(api_, config_, "Reconcile", json::object()); }),
            "publish Reconcile \"n1\": the object kept changing; gave up after 5 attempts");
  std::vector<std::string> lines = transport_.request_lines();
  EXPECT_EQ(std::count(lines.begin(), lines.end(), std::string("PUT ") + kReconcile),
            kMaxConflicts);
  EXPECT_EQ(lines.size(), 1u + 2 * kMaxConflicts);
}

TEST_F(ApiClientTest, CreateAndUpdateConflictsShareTheBound) {
  transport_.respond(200, crd_body(true));
  int gets = 0;
  transport_.fallback = [&gets](const HttpRequest& r) {
    if (r.method == "GET") {
      return ++gets % 2 ? HttpResponse{404, {}, kObjectNotFound}
                        : HttpResponse{200, {}, object_body("7")};
    }
    return HttpResponse{409, {}, r.method == "POST" ? kAlreadyExists : kConflict};
  };
  EXPECT_THAT(error_of([&] { publish_report(api_, config_, "Reconcile", json::object()); }),
              testing::HasSubstr("gave up after 5 attempts"));
  EXPECT_EQ(gets, kMaxConflicts);
}

TEST_F(ApiClientTest, A404ThatDoesNotNameTheObjectIsAnError) {
  for (const std::string& body :
       {std::string("404 page not found\n"),
        status_body("NotFound", "the server could not find the requested resource"),
        status_body("NotFound", "reconciles.report.kcm.intel.com \"n2\" not found", "n2")}) {
    FakeTransport transport;
    ApiClient api(transport, clock_, token_path_);
    transport.respond(200, crd_body(true)).respond(404, body);
    EXPECT_THAT(error_of([&] { publish_report(api, config_, "Reconcile", json::object()); }),
                testing::StartsWith(std::string("GET ") + kReconcile + ": 404 "));
    EXPECT_EQ(transport.requests.size(), 2u) << body;  // nothing created
  }
}

TEST_F(ApiClientTest, AServerErrorOnTheUpdateIsRetriedNotTakenForAConflict) {
  transport_.respond(200, crd_body(true))
      .respond(200, object_body("7"))
      .respond(503)
      .respond(200, "{}");
  publish_report(api_, config_, "Reconcile", json::object());
  EXPECT_THAT(transport_.request_lines(),
              ElementsAre(std::string("GET ") + kReconcileCrd, std::string("GET ") + kReconcile,
                          std::string("PUT ") + kReconcile, std::string("PUT ") + kReconcile));
  EXPECT_EQ(clock_.sleeps, ms({250}));
}

TEST_F(ApiClientTest, AFailedUpdateIsAnError) {
  transport_.respond(200, crd_body(true))
      .respond(200, object_body("7"))
      .respond(422, status_body("Invalid", "bad object"));
  EXPECT_EQ(error_of([&] { publish_report(api_, config_, "Reconcile", json::object()); }),
            std::string("PUT ") + kReconcile + ": 422 Invalid: bad object");
}

}  // namespace
}  // namespace kcm
