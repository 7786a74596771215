// kcm's Kubernetes API client (docs/kubernetes.md): `kcm discover` and `--publish`.
//
// In three layers, each over the one below:
// - The operations, discover and publish_report: what kcm asks of the server, and what
//   the answers mean there: a 404 naming the object (absent: create it), a 409 on an
//   update or a create (someone else wrote: start again from the GET, at most
//   kMaxConflicts times), a CRD not yet Established (poll it, at most kEstablishTimeout).
// - ApiClient, the rules of every request: the bearer token (k8s_config.h's TokenSource);
//   429, 5xx and transient transport failures retried up to kMaxRetries times, waiting
//   what Retry-After asks (capped at kMaxRetryAfter) or a doubling backoff from
//   kFirstBackoff; a 401 re-reads the token and retries once.
// - The HttpTransport and the Clock of k8s_http.h, which the tests replace with fakes.
// k8s_discover and k8s_publish_report put the operations over libcurl and the real clock.
//
// Every failure throws Error with exit code 1; an API error reads
//   PATCH /api/v1/nodes/n1/status: 403 Forbidden: <the Status message>
// Not thread-safe.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "env.h"
#include "k8s_config.h"
#include "k8s_http.h"

namespace kcm {

inline constexpr int kMaxRetries = 5;
inline constexpr std::chrono::seconds kMaxRetryAfter{30};
inline constexpr std::chrono::milliseconds kFirstBackoff{250};
// Attempts at writing a report before giving up on writers that keep changing it.
inline constexpr int kMaxConflicts = 5;
// The apiextensions controller usually marks a new CRD Established within a second.
inline constexpr std::chrono::seconds kEstablishTimeout{30};
inline constexpr std::chrono::milliseconds kEstablishPoll{200};

// kcm discover: reads the in-cluster configuration through `env` (k8s_config.h), then
// discover() over libcurl.
void k8s_discover(const EnvLookup& env, int dataplane_lists);

// --publish: reads the in-cluster configuration (with the namespace) through `env`, then
// publish_report() over libcurl. `kind` is "Reconcile" or "NodeReport".
void k8s_publish_report(const EnvLookup& env, const std::string& kind,
                        const nlohmann::json& report);

// One API server session: the token and the retry rules of every request.
class ApiClient {
 public:
  // Keeps references to `transport` and `clock`; reads the token from `token_path`.
  ApiClient(HttpTransport& transport, Clock& clock, std::string token_path);

  // Sends one request (`body`, when given, as `content_type`) and returns its final
  // response, whatever the status, after the retries above. Throws TransportError when
  // the transport fails for good or keeps failing.
  HttpResponse send(const std::string& method, const std::string& path,
                    const nlohmann::json* body = nullptr,
                    std::string_view content_type = "application/json");

  // send() for requests that must succeed: the body of a 2xx response, a JSON object.
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json* body = nullptr,
                      std::string_view content_type = "application/json");

  Clock& clock() { return clock_; }

 private:
  HttpRequest request(const std::string& method, const std::string& path,
                      const std::string& payload, std::string_view content_type);

  HttpTransport& transport_;
  Clock& clock_;
  TokenSource token_;
};

// Advertises `dataplane_lists` on node config.node_name as the extended resource
// kcm.intel.com/dataplane (status.capacity; the kubelet copies it to allocatable), or
// as the opaque integer resource of the original document on servers before v1.8.
// Skips the PATCH when the node already advertises that number.
void discover(ApiClient& api, const InClusterConfig& config, int dataplane_lists);

// Makes sure the report CRD for `kind` exists and is Established, then creates or
// updates the object named config.node_name in config.pod_namespace with `report` and
// the current time.
void publish_report(ApiClient& api, const InClusterConfig& config, const std::string& kind,
                    const nlohmann::json& report);

// ---- Pure parts, exposed for unit tests ----

struct ServerVersion {
  int major = 0;
  int minor = 0;
};
// From the body of GET /version: gitVersion ("v1.27.3-eks-1", "v1.7.16"), else the
// major/minor fields, where minor may read "27+". Throws Error.
ServerVersion parse_server_version(const nlohmann::json& version);

// The node capacity name discover sets on a server of `version`.
std::string dataplane_resource_name(ServerVersion version);

// Escapes one JSON-pointer reference token (RFC 6901): "~" -> "~0", "/" -> "~1".
std::string json_pointer_escape(std::string_view token);

// A Retry-After header in delta-seconds, capped at kMaxRetryAfter; nullopt for anything
// else (the HTTP-date form, which the API server never sends, included).
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value);

// `<method> <path>: <code> <reason>[: <message>]` from a response body: the reason and
// message of a Kubernetes Status (and its causes' messages the message lacks), else the
// HTTP reason phrase and the body's first line.
std::string format_api_error(std::string_view method, std::string_view path, long status,
                             std::string_view body);

// The body of a 2xx `response` to `<method> <path>`, a JSON object; throws Error with
// format_api_error's message for any other status, or when the body is no JSON object.
nlohmann::json success_body(std::string_view method, std::string_view path,
                            const HttpResponse& response);

}  // namespace kcm
