#include "k8s_config.h"

#include <vector>

#include "error.h"
#include "fs.h"

namespace kcm {

namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// RFC 1123 subdomain, the rule the API server applies to node names: it keeps a name
// usable as one URL path segment without escaping.
bool is_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  if (!is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
  for (char c : s) {
    if (!is_lower_alnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

// RFC 1123 label, the rule for namespaces.
bool is_dns_label(std::string_view s) {
  return s.size() <= 63 && is_dns_subdomain(s) && s.find('.') == std::string_view::npos;
}

bool is_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  int port = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + (c - '0');
  }
  return port >= 1 && port <= 65535;
}

// KUBERNETES_SERVICE_HOST holds a bare address; an IPv6 one needs brackets in a URL.
std::string server_url(const std::string& host, const std::string& port) {
  bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  return "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;
}

}  // namespace

InClusterConfig load_in_cluster_config(const EnvLookup& env, NeedNamespace need) {
  std::optional<std::string> host = env("KUBERNETES_SERVICE_HOST");
  if (!host || host->empty()) {
    throw Error("not running in a Kubernetes cluster: KUBERNETES_SERVICE_HOST is not set");
  }

  std::vector<std::string> missing;
  InClusterConfig config;

  std::optional<std::string> port = env("KUBERNETES_SERVICE_PORT");
  if (!port || port->empty()) {
    missing.push_back("KUBERNETES_SERVICE_PORT is not set");
  } else if (!is_port(*port)) {
    missing.push_back("KUBERNETES_SERVICE_PORT " + quote(*port) + " is not a port number");
  } else {
    config.server = server_url(*host, *port);
  }

  std::optional<std::string> dir_override = env(kServiceAccountDirEnv);
  std::string dir = dir_override && !dir_override->empty() ? *dir_override : kServiceAccountDir;
  auto require_file = [&](const char* name) {
    std::string path = join_path(dir, name);
    try {
      std::optional<std::string> content = if_found([&] { return read_file(path); });
      if (!content) {
        missing.push_back(quote(path) + " does not exist");
      } else if (trim_space(*content).empty()) {
        missing.push_back(quote(path) + " is empty");
      } else {
        return std::make_optional(std::string(trim_space(*content)));
      }
    } catch (const Error& e) {
      missing.push_back(e.what());
    }
    return std::optional<std::string>();
  };
  if (require_file("token")) config.token_path = join_path(dir, "token");
  if (require_file("ca.crt")) config.ca_path = join_path(dir, "ca.crt");
  if (need == NeedNamespace::kYes) {
    std::optional<std::string> ns = require_file("namespace");
    if (ns && !is_dns_label(*ns)) {
      missing.push_back("namespace " + quote(*ns) + " in " + quote(join_path(dir, "namespace")) +
                        " is not a valid namespace name");
    } else if (ns) {
      config.pod_namespace = *ns;
    }
  }

  std::optional<std::string> node = env("NODE_NAME");
  if (!node || node->empty()) {
    missing.push_back(
        "NODE_NAME is not set (set it from the downward API: fieldRef spec.nodeName)");
  } else if (!is_dns_subdomain(*node)) {
    missing.push_back("NODE_NAME " + quote(*node) + " is not a valid node name");
  } else {
    config.node_name = *node;
  }

  if (!missing.empty()) {
    std::string msg = "incomplete in-cluster Kubernetes config: ";
    for (std::size_t i = 0; i < missing.size(); ++i) {
      if (i > 0) msg += "; ";
      msg += missing[i];
    }
    throw Error(msg);
  }
  return config;
}

TokenSource::TokenSource(std::string path, Clock& clock) : path_(std::move(path)), clock_(clock) {}

const std::string& TokenSource::get() {
  Clock::TimePoint now = clock_.now();
  if (read_at_ && now - *read_at_ < kMaxAge) return token_;
  std::string token(trim_space(read_file(path_)));
  if (token.empty()) throw op_error("read service-account token", path_, "file is empty");
  for (char c : token) {
    // It goes into an HTTP header line verbatim.
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      throw op_error("read service-account token", path_,
                     "contains whitespace or control characters");
    }
  }
  token_ = std::move(token);
  read_at_ = now;
  return token_;
}

}  // namespace kcm
