#include "annotations.h"

#include <charconv>

#include "error.h"

namespace kcm {
namespace {

const std::string* find(const std::map<std::string, std::string>& annotations,
                        const std::string& key) {
  auto it = annotations.find(key);
  return it == annotations.end() ? nullptr : &it->second;
}

bool has_value(const std::map<std::string, std::string>& annotations, const std::string& key,
               const std::string& value) {
  const std::string* v = find(annotations, key);
  return v != nullptr && *v == value;
}

// The suffixed key when the container has a name and the annotation exists, else the
// plain key when it exists; "" when neither does.
std::string choose_key(const std::map<std::string, std::string>& annotations,
                       const std::string& base, const std::string& name) {
  if (!name.empty()) {
    std::string specific = base + "." + name;
    if (find(annotations, specific) != nullptr) return specific;
  }
  return find(annotations, base) != nullptr ? base : std::string();
}

Error invalid(const std::string& key, const std::string& value, const std::string& cause) {
  return usage_error("annotation " + quote(key) + "=" + quote(value) + ": " + cause);
}

int parse_cores(const std::string& key, const std::string& value) {
  int n = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, n);
  // from_chars accepts a leading '-'; only plain decimal digits are a count.
  if (value.empty() || value[0] == '-' || ec != std::errc() || ptr != end || n < 1 ||
      n > kMaxCores) {
    throw invalid(key, value, "not a number of CPU lists from 1 to " + std::to_string(kMaxCores));
  }
  return n;
}

}  // namespace

bool is_sandbox(const std::map<std::string, std::string>& annotations) {
  return has_value(annotations, "io.kubernetes.cri.container-type", "sandbox") ||
         has_value(annotations, "io.kubernetes.cri-o.ContainerType", "sandbox") ||
         has_value(annotations, "io.kubernetes.docker.type", "podsandbox");
}

std::string container_name(const std::map<std::string, std::string>& annotations) {
  for (const char* key : {"io.kubernetes.cri.container-name", "io.kubernetes.container.name"}) {
    if (const std::string* v = find(annotations, key); v != nullptr && !v->empty()) return *v;
  }
  return {};
}

std::optional<PoolRequest> pool_request(const std::map<std::string, std::string>& annotations) {
  if (is_sandbox(annotations)) return std::nullopt;
  const std::string name = container_name(annotations);
  const std::string pool_key = choose_key(annotations, kPoolAnnotation, name);
  if (pool_key.empty()) return std::nullopt;

  PoolRequest request;
  request.pool_annotation = pool_key;
  const std::string& pool = annotations.at(pool_key);
  try {
    request.pool = PoolName::parse(pool);
  } catch (const Error&) {
    throw invalid(pool_key, pool, "not a pool name: must match " + std::string(kPoolNameRule));
  }
  const std::string cores_key = choose_key(annotations, kCoresAnnotation, name);
  if (!cores_key.empty()) request.count = parse_cores(cores_key, annotations.at(cores_key));
  const std::string memory_key = choose_key(annotations, kMemoryAnnotation, name);
  if (!memory_key.empty()) {
    if (const std::string& value = annotations.at(memory_key); value != kMemoryLocal) {
      throw invalid(memory_key, value, "not a memory policy: the only one is \"local\"");
    }
    request.memory_local_annotation = memory_key;
  }
  return request;
}

}  // namespace kcm
