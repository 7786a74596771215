// How kcm finds and authenticates to the Kubernetes API server from inside a pod
// (docs/kubernetes.md "Configuration"): the in-cluster configuration every client
// library reads.
//
// The server address comes from KUBERNETES_SERVICE_HOST/_PORT, which the kubelet sets in
// every container; the bearer token, the cluster CA and the pod's namespace from the
// service-account volume; the node from NODE_NAME, which the pod spec must set through
// the downward API (fieldRef: spec.nodeName). Loading reports every missing piece in one
// Error. Nothing here turns TLS verification off: the CA file is the only trust root.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "env.h"
#include "k8s_http.h"

namespace kcm {

inline constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";
// Test-only: replaces kServiceAccountDir so tests can run outside a pod. Not a user
// setting; docs/kubernetes.md says so.
inline constexpr char kServiceAccountDirEnv[] = "KCM_K8S_SERVICEACCOUNT_DIR";

struct InClusterConfig {
  std::string server;         // "https://10.96.0.1:443", "https://[fd00::1]:443"
  std::string ca_path;        // <sa dir>/ca.crt, checked to exist
  std::string token_path;     // <sa dir>/token, checked to exist
  std::string node_name;      // $NODE_NAME, a valid object name
  std::string pod_namespace;  // <sa dir>/namespace, trimmed; "" unless asked for
};

enum class NeedNamespace { kNo, kYes };

// Throws Error. Without KUBERNETES_SERVICE_HOST the message is exactly
// `not running in a Kubernetes cluster: KUBERNETES_SERVICE_HOST is not set`; otherwise
// one message lists everything missing or malformed (port, token, ca.crt, NODE_NAME,
// and the namespace file when `need` says so).
InClusterConfig load_in_cluster_config(const EnvLookup& env, NeedNamespace need);

// The bearer token, re-read from its file at least every kMaxAge and on refresh(): the
// kubelet rewrites projected service-account tokens before they expire, so a token
// that the server refused (401) is re-read once before the request is retried.
// Not thread-safe.
class TokenSource {
 public:
  static constexpr std::chrono::seconds kMaxAge{60};

  explicit TokenSource(std::string path, Clock& clock = steady_clock());

  // The current token, trimmed; throws Error when the file is unreadable or empty.
  const std::string& get();
  // Forces the next get() to read the file again.
  void refresh() { read_at_.reset(); }

 private:
  std::string path_;
  Clock& clock_;
  std::string token_;
  std::optional<Clock::TimePoint> read_at_;
};

}  // namespace kcm
