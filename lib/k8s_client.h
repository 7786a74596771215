// kcm's Kubernetes API client (docs/kubernetes.md): `kcm discover` and `--publish`.
//
// Both entry points read the in-cluster configuration (k8s_config.h) from the process
// environment and talk HTTPS through libcurl with the cluster CA as the only trust root:
// connect timeout 10 s, 60 s per request; 429, 5xx and network errors are retried up to
// kMaxRetries times, waiting what Retry-After asks (capped at kMaxRetryAfter) or a
// doubling backoff; a 401 re-reads the token and retries once. Every failure throws
// Error with exit code 1; an API error reads
//   PATCH /api/v1/nodes/n1/status: 403 Forbidden: <the Status message>
// Not thread-safe; each call opens its own connection.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace kcm {

inline constexpr int kMaxRetries = 5;
inline constexpr std::chrono::seconds kMaxRetryAfter{30};

// kcm discover: advertises `dataplane_lists` on node $NODE_NAME as the extended resource
// kcm.intel.com/dataplane (status.capacity; the kubelet copies it to allocatable), or
// as the opaque integer resource of the original document on servers before v1.8.
// Skips the PATCH when the node already advertises that number.
void k8s_discover(int dataplane_lists);

// --publish: makes sure the report CRD for `kind` ("Reconcile" or "NodeReport") exists
// and is Established, then creates or updates the object named $NODE_NAME in the pod's
// namespace with `report` and the current time. Conflicting writers are retried.
void k8s_publish_report(const std::string& kind, const nlohmann::json& report);

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

}  // namespace kcm
