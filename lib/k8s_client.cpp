#include "k8s_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "error.h"
#include "json.h"
#include "owner.h"  // rfc3339_now

namespace kcm {

using nlohmann::json;

namespace {

constexpr char kReportGroup[] = "report.kcm.intel.com";
constexpr char kCrdCollection[] = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

std::string_view reason_phrase(long status) {
  static constexpr std::pair<long, std::string_view> kPhrases[] = {
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {406, "Not Acceptable"},
      {409, "Conflict"},
      {410, "Gone"},
      {413, "Payload Too Large"},
      {415, "Unsupported Media Type"},
      {422, "Unprocessable Entity"},
      {429, "Too Many Requests"},
      {500, "Internal Server Error"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
  };
  for (const auto& [code, phrase] : kPhrases) {
    if (code == status) return phrase;
  }
  return "HTTP Error";
}

// A response body as JSON; nullopt when it is not JSON (or nests deeper than json.h
// allows): the callers then treat it as text.
std::optional<json> parse_body(std::string_view text) {
  try {
    return parse_json(text, "response body");
  } catch (const JsonError&) {
    return std::nullopt;
  }
}

// The member `key` of `object`, or nullptr when `object` is no object or lacks it.
const json* member(const json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::optional<std::string> string_at(const json& object, const char* key) {
  const json* value = member(object, key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
}

bool is_status(const std::optional<json>& body) {
  return body && string_at(*body, "kind") == "Status";
}

// ---- publish ----

struct ReportKind {
  const char* kind;
  const char* plural;
  const char* singular;
};

constexpr ReportKind kReportKinds[] = {
    {"Reconcile", "reconciles", "reconcile"},
    {"NodeReport", "nodereports", "nodereport"},
};

const ReportKind& report_kind(const std::string& kind) {
  for (const ReportKind& k : kReportKinds) {
    if (kind == k.kind) return k;
  }
  throw Error("publish report: unknown kind " + quote(kind));
}

std::string crd_name(const ReportKind& k) { return std::string(k.plural) + "." + kReportGroup; }

json crd_manifest(const ReportKind& k) {
  return {
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", crd_name(k)}}},
      {"spec",
       {{"group", kReportGroup},
        {"scope", "Namespaced"},
        {"names",
         {{"kind", k.kind},
          {"listKind", std::string(k.kind) + "List"},
          {"plural", k.plural},
          {"singular", k.singular}}},
        {"versions", json::array({{{"name", "v1"},
                                   {"served", true},
                                   {"storage", true},
                                   {"schema",
                                    {{"openAPIV3Schema",
                                      {{"type", "object"},
                                       {"x-kubernetes-preserve-unknown-fields", true}}}}}}})}}},
  };
}

bool is_established(const json& crd) {
  const json* status = member(crd, "status");
  const json* conditions = status ? member(*status, "conditions") : nullptr;
  if (conditions == nullptr || !conditions->is_array()) return false;
  return std::any_of(conditions->begin(), conditions->end(), [](const json& c) {
    return string_at(c, "type") == "Established" && string_at(c, "status") == "True";
  });
}

void wait_until_established(ApiClient& api, const std::string& name, const std::string& path) {
  Clock& clock = api.clock();
  Clock::TimePoint deadline = clock.now() + kEstablishTimeout;
  while (clock.now() < deadline) {
    clock.sleep_for(kEstablishPoll);
    if (is_established(api.call("GET", path))) return;
  }
  throw op_error("wait for CustomResourceDefinition", name,
                 fmt::format("not Established after {} s", kEstablishTimeout.count()));
}

void ensure_crd(ApiClient& api, const ReportKind& k) {
  std::string name = crd_name(k);
  std::string path = std::string(kCrdCollection) + "/" + name;
  HttpResponse got = api.send("GET", path);
  if (got.status != 404) {
    if (is_established(success_body("GET", path, got))) return;
  } else {
    json manifest = crd_manifest(k);
    HttpResponse created = api.send("POST", kCrdCollection, &manifest);
    if (created.status == 409) {  // AlreadyExists: another node's kcm created it first
      spdlog::debug("CustomResourceDefinition {} was created concurrently", name);
    } else {
      json crd = success_body("POST", kCrdCollection, created);
      spdlog::info("created CustomResourceDefinition {}", name);
      if (is_established(crd)) return;
    }
  }
  wait_until_established(api, name, path);
}

// A 404 that says the object is absent, as opposed to one that says the resource type
// is not served (a plain-text "404 page not found", or a Status without the name).
bool is_object_not_found(const HttpResponse& response, const std::string& name) {
  if (response.status != 404) return false;
  std::optional<json> body = parse_body(response.body);
  if (!is_status(body) || string_at(*body, "reason") != "NotFound") return false;
  const json* details = member(*body, "details");
  return details && string_at(*details, "name") == name;
}

// Whether the write `<method> <path>` went through: false for a 409, another writer's
// write in between (AlreadyExists on a POST, Conflict on a PUT whose resourceVersion is
// stale). Throws Error for any other failure.
bool written(std::string_view method, const std::string& path, const HttpResponse& response) {
  if (response.status == 409) {
    spdlog::debug("{}; starting again from the GET",
                  format_api_error(method, path, response.status, response.body));
    return false;
  }
  success_body(method, path, response);
  return true;
}

// Creates or updates the report object; false when another writer got in between (a 409
// on either), so that the caller starts again from the GET.
bool try_upsert_report(ApiClient& api, const ReportKind& k, const InClusterConfig& config,
                       const json& report) {
  std::string collection = std::string("/apis/") + kReportGroup + "/v1/namespaces/" +
                           config.pod_namespace + "/" + k.plural;
  std::string path = collection + "/" + config.node_name;
  HttpResponse got = api.send("GET", path);
  if (is_object_not_found(got, config.node_name)) {
    json object = {{"apiVersion", std::string(kReportGroup) + "/v1"},
                   {"kind", k.kind},
                   {"metadata", {{"name", config.node_name}}},
                   {"last_updated", rfc3339_now()},
                   {"report", report}};
    return written("POST", collection, api.send("POST", collection, &object));
  }
  // Update what is there, keeping metadata others set (labels, annotations); its
  // resourceVersion makes the PUT fail with 409 if someone wrote in between.
  json object = success_body("GET", path, got);
  object["last_updated"] = rfc3339_now();
  object["report"] = report;
  return written("PUT", path, api.send("PUT", path, &object));
}

// Wait this long before the next attempt at a request that failed `retries` times
// before, unless the server said how long (Retry-After).
std::chrono::milliseconds backoff(int retries, const HttpResponse* response) {
  if (response) {
    if (std::optional<std::string> value = response->header("retry-after")) {
      if (std::optional<std::chrono::seconds> asked = parse_retry_after(*value)) return *asked;
    }
  }
  return kFirstBackoff * (1 << retries);
}

bool is_retried_status(long status) { return status == 429 || status >= 500; }

}  // namespace

ServerVersion parse_server_version(const json& version) {
  auto leading_int = [](std::string_view s, std::size_t& pos) -> std::optional<int> {
    std::size_t start = pos;
    int value = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && pos - start < 6) {
      value = value * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start) return std::nullopt;
    return value;
  };
  if (std::optional<std::string> git = string_at(version, "gitVersion")) {
    std::size_t pos = (!git->empty() && (*git)[0] == 'v') ? 1 : 0;
    std::optional<int> major = leading_int(*git, pos);
    if (major && pos < git->size() && (*git)[pos] == '.') {
      ++pos;
      if (std::optional<int> minor = leading_int(*git, pos)) return {*major, *minor};
    }
  }
  // Some distributions report minor as "27+"; only its leading digits count.
  std::optional<std::string> major_s = string_at(version, "major");
  std::optional<std::string> minor_s = string_at(version, "minor");
  if (major_s && minor_s) {
    std::size_t major_pos = 0;
    std::size_t minor_pos = 0;
    std::optional<int> major = leading_int(*major_s, major_pos);
    std::optional<int> minor = leading_int(*minor_s, minor_pos);
    if (major && minor) return {*major, *minor};
  }
  throw op_error("parse the server version in", version.dump(),
                 "no gitVersion \"v<major>.<minor>...\" nor major/minor numbers");
}

std::string dataplane_resource_name(ServerVersion version) {
  // Extended resources replaced opaque integer resources in v1.8.
  if (version.major > 1 || (version.major == 1 && version.minor >= 8)) {
    return "kcm.intel.com/dataplane";
  }
  return "pod.alpha.kubernetes.io/opaque-int-resource-kcm";
}

std::string json_pointer_escape(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
  value = trim_space(value);
  if (value.empty()) return std::nullopt;
  long long seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = std::min<long long>(seconds * 10 + (c - '0'), kMaxRetryAfter.count());
  }
  return std::chrono::seconds(seconds);
}

std::string format_api_error(std::string_view method, std::string_view path, long status,
                             std::string_view body) {
  std::string reason(reason_phrase(status));
  std::string message;
  std::optional<json> parsed = parse_body(body);
  if (is_status(parsed)) {
    if (auto r = string_at(*parsed, "reason"); r && !r->empty()) reason = *r;
    message = string_at(*parsed, "message").value_or("");
    // Some errors (a JSON patch that does not apply) keep the specifics in the causes.
    const json* details = member(*parsed, "details");
    const json* causes = details ? member(*details, "causes") : nullptr;
    if (causes && causes->is_array()) {
      for (const json& cause : *causes) {
        std::optional<std::string> text = string_at(cause, "message");
        if (!text || text->empty() || message.find(*text) != std::string::npos) continue;
        message += message.empty() ? *text : "; " + *text;
      }
    }
  } else {
    std::string_view line = body.substr(0, body.find('\n'));
    message = std::string(line.substr(0, 200));
  }
  std::string out = fmt::format("{} {}: {} {}", method, path, status, reason);
  if (!message.empty()) out += ": " + message;
  return out;
}

ApiClient::ApiClient(HttpTransport& transport, Clock& clock, std::string token_path)
    : transport_(transport), clock_(clock), token_(std::move(token_path), clock) {}

HttpRequest ApiClient::request(const std::string& method, const std::string& path,
                               const std::string& payload, std::string_view content_type) {
  HttpRequest request{method,
                      path,
                      {{"Authorization", "Bearer " + token_.get()}, {"Accept", "application/json"}},
                      payload};
  if (!payload.empty()) request.headers.emplace_back("Content-Type", content_type);
  return request;
}

HttpResponse ApiClient::send(const std::string& method, const std::string& path, const json* body,
                             std::string_view content_type) {
  const std::string payload = body ? body->dump() : std::string();
  bool token_refreshed = false;
  int retries = 0;
  for (;;) {
    std::optional<HttpResponse> response;
    std::string failure;  // why this attempt is retried
    try {
      response = transport_.send(request(method, path, payload, content_type));
    } catch (const TransportError& e) {
      if (!e.transient() || retries == kMaxRetries) {
        if (retries == 0) throw;
        throw TransportError(fmt::format("{} (after {} retries)", e.what(), retries),
                             e.transient());
      }
      failure = e.what();
    }
    if (response) {
      if (response->status == 401 && !token_refreshed) {
        spdlog::warn("{} {}: 401 Unauthorized; re-reading the service-account token", method, path);
        token_.refresh();
        token_refreshed = true;
        continue;
      }
      if (!is_retried_status(response->status) || retries == kMaxRetries) {
        return *std::move(response);
      }
      failure = format_api_error(method, path, response->status, response->body);
    }
    std::chrono::milliseconds wait = backoff(retries, response ? &*response : nullptr);
    ++retries;
    spdlog::warn("{} (retry {}/{} in {} ms)", failure, retries, kMaxRetries, wait.count());
    clock_.sleep_for(wait);
  }
}

json ApiClient::call(const std::string& method, const std::string& path, const json* body,
                     std::string_view content_type) {
  return success_body(method, path, send(method, path, body, content_type));
}

json success_body(std::string_view method, std::string_view path, const HttpResponse& response) {
  if (response.status < 200 || response.status > 299) {
    throw Error(format_api_error(method, path, response.status, response.body));
  }
  std::optional<json> parsed = parse_body(response.body);
  if (!parsed || !parsed->is_object()) {
    throw Error(fmt::format("{} {}: response is not a JSON object", method, path));
  }
  return *std::move(parsed);
}

void discover(ApiClient& api, const InClusterConfig& config, int dataplane_lists) {
  if (dataplane_lists < 0) throw Error("discover: negative number of dataplane CPU lists");
  ServerVersion version = parse_server_version(api.call("GET", "/version"));
  std::string resource = dataplane_resource_name(version);
  std::string value = std::to_string(dataplane_lists);

  std::string path = "/api/v1/nodes/" + config.node_name;
  const json node = api.call("GET", path);
  const json* status = member(node, "status");
  const json* capacity = status ? member(*status, "capacity") : nullptr;
  const json* current = capacity ? member(*capacity, resource) : nullptr;
  if (current && *current == value) {
    spdlog::info("node {} already advertises {}={}", config.node_name, resource, value);
    return;
  }
  json patch = json::array({{{"op", "add"},
                             {"path", "/status/capacity/" + json_pointer_escape(resource)},
                             {"value", value}}});
  api.call("PATCH", path + "/status", &patch, "application/json-patch+json");
  spdlog::info("advertised {}={} on node {}", resource, value, config.node_name);
}

void publish_report(ApiClient& api, const InClusterConfig& config, const std::string& kind,
                    const json& report) {
  const ReportKind& k = report_kind(kind);
  ensure_crd(api, k);
  int attempt = 1;
  while (!try_upsert_report(api, k, config, report)) {
    if (++attempt > kMaxConflicts) {
      throw op_error(
          "publish " + std::string(k.kind), config.node_name,
          fmt::format("the object kept changing; gave up after {} attempts", kMaxConflicts));
    }
  }
  spdlog::info("published {} {} in namespace {}", k.kind, config.node_name, config.pod_namespace);
}

namespace {

// The real session: libcurl to config.server, the steady clock.
struct CurlSession {
  explicit CurlSession(const InClusterConfig& config)
      : transport(config.server, config.ca_path),
        api(transport, steady_clock(), config.token_path) {}
  CurlTransport transport;
  ApiClient api;
};

}  // namespace

void k8s_discover(const EnvLookup& env, int dataplane_lists) {
  InClusterConfig config = load_in_cluster_config(env, NeedNamespace::kNo);
  CurlSession session(config);
  discover(session.api, config, dataplane_lists);
}

void k8s_publish_report(const EnvLookup& env, const std::string& kind, const json& report) {
  InClusterConfig config = load_in_cluster_config(env, NeedNamespace::kYes);
  CurlSession session(config);
  publish_report(session.api, config, kind, report);
}

}  // namespace kcm
