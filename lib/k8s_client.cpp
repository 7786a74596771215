#include "k8s_client.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <thread>
#include <utility>

#include "error.h"
#include "json.h"
#include "k8s_config.h"
#include "owner.h"  // rfc3339_now

namespace kcm {

using nlohmann::json;

namespace {

constexpr long kConnectTimeoutMs = 10'000;
constexpr long kRequestTimeoutMs = 60'000;
constexpr std::chrono::milliseconds kFirstBackoff{250};
constexpr std::size_t kMaxBodyBytes = 16 << 20;
// Attempts at an update before giving up on writers that keep changing the object.
constexpr int kMaxConflicts = 5;
// The apiextensions controller usually marks a new CRD Established within a second.
constexpr std::chrono::seconds kEstablishTimeout{30};
constexpr std::chrono::milliseconds kEstablishPoll{200};

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

struct Response {
  long status = 0;
  std::string body;
};

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// One API server session: the connection, the token, the retry policy.
class ApiClient {
 public:
  explicit ApiClient(const InClusterConfig& config)
      : server_(config.server), ca_path_(config.ca_path), token_(config.token_path) {
    static const CURLcode global_init = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (global_init != CURLE_OK) {
      throw Error(std::string("initialise libcurl: ") + curl_easy_strerror(global_init));
    }
    curl_.reset(curl_easy_init());
    if (!curl_) throw Error("initialise libcurl: curl_easy_init failed");
  }

  // Sends one API request and returns its final response, whatever the status, after
  // the retries the header comment of k8s_client.h describes. Throws Error when the
  // network keeps failing.
  Response send(const char* method, const std::string& path, const json* body = nullptr,
                const char* content_type = "application/json") {
    std::string payload = body ? body->dump() : std::string();
    bool token_refreshed = false;
    int retries = 0;
    for (;;) {
      Attempt attempt = perform(method, path, body ? &payload : nullptr, content_type);
      const std::string& curl_error = attempt.curl_error;
      long status = attempt.response.status;
      if (status == 401 && !token_refreshed) {
        spdlog::warn("{} {}: 401 Unauthorized; re-reading the service-account token", method, path);
        token_.refresh();
        token_refreshed = true;
        continue;
      }
      bool transient = !curl_error.empty() || status == 429 || status >= 500;
      if (!transient) return std::move(attempt.response);
      if (retries == kMaxRetries || !attempt.retryable) {
        if (curl_error.empty()) return std::move(attempt.response);
        throw Error(std::string(method) + " " + path + ": " + curl_error +
                    (retries > 0 ? fmt::format(" (after {} retries)", retries) : ""));
      }
      std::chrono::milliseconds wait = kFirstBackoff * (1 << retries);
      if (attempt.retry_after) wait = *attempt.retry_after;
      ++retries;
      spdlog::warn("{} (retry {}/{} in {} ms)",
                   curl_error.empty()
                       ? format_api_error(method, path, status, attempt.response.body)
                       : std::string(method) + " " + path + ": " + curl_error,
                   retries, kMaxRetries, wait.count());
      std::this_thread::sleep_for(wait);
    }
  }

  // send() for requests that must succeed: returns the parsed body of a 2xx response.
  json call(const char* method, const std::string& path, const json* body = nullptr,
            const char* content_type = "application/json") {
    return parse_success(method, path, send(method, path, body, content_type));
  }

  static json parse_success(const char* method, const std::string& path, const Response& response) {
    if (response.status < 200 || response.status > 299) {
      throw Error(format_api_error(method, path, response.status, response.body));
    }
    std::optional<json> parsed = parse_body(response.body);
    if (!parsed || !parsed->is_object()) {
      throw Error(std::string(method) + " " + path + ": response is not a JSON object");
    }
    return *std::move(parsed);
  }

 private:
  struct Attempt {
    Response response;  // status 0 when curl_error is set
    std::optional<std::chrono::seconds> retry_after;
    std::string curl_error;  // a transfer that failed: no HTTP response
    bool retryable = true;   // false for transfer errors no retry can fix (TLS verification)
  };

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* body = static_cast<std::string*>(user);
    if (body->size() + size * count > kMaxBodyBytes) return 0;  // aborts the transfer
    body->append(data, size * count);
    return size * count;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    std::string_view line(data, size * count);
    constexpr std::string_view kName = "retry-after:";
    if (line.size() > kName.size() &&
        std::equal(kName.begin(), kName.end(), line.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        })) {
      *static_cast<std::optional<std::chrono::seconds>*>(user) =
          parse_retry_after(line.substr(kName.size()));
    }
    return size * count;
  }

  Attempt perform(const char* method, const std::string& path, const std::string* payload,
                  const char* content_type) {
    Attempt attempt;
    CURL* curl = curl_.get();
    // Reset keeps the connection cache, so retries and later calls reuse the connection.
    curl_easy_reset(curl);
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    auto add_header = [&](const std::string& h) {
      curl_slist* list = curl_slist_append(headers.get(), h.c_str());
      if (list == nullptr) throw Error("curl_slist_append: out of memory");
      static_cast<void>(headers.release());
      headers.reset(list);
    };
    add_header("Authorization: Bearer " + token_.get());
    add_header("Accept: application/json");
    add_header("Expect:");
    if (payload) add_header(std::string("Content-Type: ") + content_type);

    errbuf_[0] = '\0';
    std::string url = server_ + path;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (payload) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload->data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload->size()));
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "kcm/" KCM_VERSION);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    // The cluster CA is the only trust root, and verification cannot be turned off.
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca_path_.c_str());
    curl_easy_setopt(curl, CURLOPT_CAPATH, nullptr);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, kRequestTimeoutMs);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf_);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &ApiClient::on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &attempt.response.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &ApiClient::on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &attempt.retry_after);

    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
      // The error buffer has the specifics ("SSL certificate problem: ..."), when any.
      attempt.curl_error = errbuf_[0] != '\0' ? errbuf_ : curl_easy_strerror(rc);
      attempt.retryable = is_transient(rc);
      spdlog::debug("{} {}: {}", method, path, attempt.curl_error);
      return attempt;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &attempt.response.status);
    spdlog::debug("{} {}: {}", method, path, attempt.response.status);
    return attempt;
  }

  static bool is_transient(CURLcode rc) {
    switch (rc) {
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_CONNECT:
      case CURLE_OPERATION_TIMEDOUT:
      case CURLE_SSL_CONNECT_ERROR:  // also a connection reset during the handshake
      case CURLE_SEND_ERROR:
      case CURLE_RECV_ERROR:
      case CURLE_GOT_NOTHING:
      case CURLE_PARTIAL_FILE:
      case CURLE_HTTP2:
      case CURLE_HTTP2_STREAM:
        return true;
      default:
        return false;
    }
  }

  std::string server_;
  std::string ca_path_;
  TokenSource token_;
  std::unique_ptr<CURL, CurlDeleter> curl_;
  char errbuf_[CURL_ERROR_SIZE] = "";  // curl writes here during perform()
};

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

void ensure_crd(ApiClient& api, const ReportKind& k) {
  std::string name = crd_name(k);
  std::string path = std::string(kCrdCollection) + "/" + name;
  Response got = api.send("GET", path);
  if (got.status == 404) {
    json manifest = crd_manifest(k);
    Response created = api.send("POST", kCrdCollection, &manifest);
    if (created.status == 409) {  // AlreadyExists: another node's kcm created it first
      spdlog::debug("CustomResourceDefinition {} was created concurrently", name);
    } else {
      if (is_established(ApiClient::parse_success("POST", kCrdCollection, created))) return;
      spdlog::info("created CustomResourceDefinition {}", name);
    }
  } else if (is_established(ApiClient::parse_success("GET", path, got))) {
    return;
  }
  auto deadline = std::chrono::steady_clock::now() + kEstablishTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kEstablishPoll);
    if (is_established(api.call("GET", path))) return;
  }
  throw op_error("wait for CustomResourceDefinition", name,
                 fmt::format("not Established after {} s", kEstablishTimeout.count()));
}

// A 404 that says the object is absent, as opposed to one that says the resource type
// is not served (a plain-text "404 page not found", or a Status without the name).
bool is_object_not_found(const Response& response, const std::string& name) {
  if (response.status != 404) return false;
  std::optional<json> body = parse_body(response.body);
  if (!is_status(body) || string_at(*body, "reason") != "NotFound") return false;
  const json* details = member(*body, "details");
  return details && string_at(*details, "name") == name;
}

void upsert_report(ApiClient& api, const ReportKind& k, const InClusterConfig& config,
                   const json& report) {
  std::string collection = std::string("/apis/") + kReportGroup + "/v1/namespaces/" +
                           config.pod_namespace + "/" + k.plural;
  std::string path = collection + "/" + config.node_name;
  for (int attempt = 1; attempt <= kMaxConflicts; ++attempt) {
    Response got = api.send("GET", path);
    if (is_object_not_found(got, config.node_name)) {
      json object = {{"apiVersion", std::string(kReportGroup) + "/v1"},
                     {"kind", k.kind},
                     {"metadata", {{"name", config.node_name}}},
                     {"last_updated", rfc3339_now()},
                     {"report", report}};
      Response created = api.send("POST", collection, &object);
      if (created.status == 409) {  // AlreadyExists: another writer won; update theirs
        spdlog::debug("{} {} was created concurrently", k.kind, config.node_name);
        continue;
      }
      ApiClient::parse_success("POST", collection, created);
      return;
    }
    // Update what is there, keeping metadata others set (labels, annotations); its
    // resourceVersion makes the PUT fail with 409 if someone wrote in between.
    json object = ApiClient::parse_success("GET", path, got);
    object["last_updated"] = rfc3339_now();
    object["report"] = report;
    Response updated = api.send("PUT", path, &object);
    if (updated.status == 409) {
      spdlog::debug("{} {} changed while updating it; retrying", k.kind, config.node_name);
      continue;
    }
    ApiClient::parse_success("PUT", path, updated);
    return;
  }
  throw op_error("publish " + std::string(k.kind), config.node_name,
                 fmt::format("the object kept changing; gave up after {} attempts", kMaxConflicts));
}

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
  std::size_t begin = value.find_first_not_of(" \t");
  std::size_t end = value.find_last_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return std::nullopt;
  value = value.substr(begin, end - begin + 1);
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

void k8s_discover(int dataplane_lists) {
  if (dataplane_lists < 0) throw Error("discover: negative number of dataplane CPU lists");
  InClusterConfig config = load_in_cluster_config(process_env, NeedNamespace::kNo);
  ApiClient api(config);
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

void k8s_publish_report(const std::string& kind, const json& report) {
  const ReportKind& k = report_kind(kind);
  InClusterConfig config = load_in_cluster_config(process_env, NeedNamespace::kYes);
  ApiClient api(config);
  ensure_crd(api, k);
  upsert_report(api, k, config, report);
  spdlog::info("published {} {} in namespace {}", k.kind, config.node_name, config.pod_namespace);
}

}  // namespace kcm
