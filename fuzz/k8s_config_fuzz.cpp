// load_in_cluster_config and TokenSource: KUBERNETES_SERVICE_HOST/_PORT, NODE_NAME and
// the service-account files. Input, NUL-separated: host, port, node name, namespace
// file, token file (missing parts are unset variables / absent files).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>

#include "error.h"
#include "fuzz.h"
#include "k8s_config.h"

namespace {

std::string g_dir;

void remove_dir() {
  for (const char* f : {"token", "ca.crt", "namespace"}) ::unlink((g_dir + "/" + f).c_str());
  ::rmdir(g_dir.c_str());
}

void write(const std::string& name, const std::string& content) {
  std::ofstream(g_dir + "/" + name, std::ios::binary | std::ios::trunc) << content;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/kcm-k8s-config-fuzz.XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) std::abort();
  g_dir = templ;
  std::atexit(remove_dir);
  write("ca.crt", "-----BEGIN CERTIFICATE-----\n");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string> parts = kcm_fuzz::split_nul(kcm_fuzz::as_text(data, size));
  auto part = [&](std::size_t i) -> std::optional<std::string> {
    return i < parts.size() ? std::make_optional(parts[i]) : std::nullopt;
  };
  ::unlink((g_dir + "/namespace").c_str());
  ::unlink((g_dir + "/token").c_str());
  if (auto ns = part(3)) write("namespace", *ns);
  if (auto token = part(4)) write("token", *token);

  const kcm::EnvLookup env = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "KUBERNETES_SERVICE_HOST") return part(0);
    if (name == "KUBERNETES_SERVICE_PORT") return part(1);
    if (name == "NODE_NAME") return part(2);
    if (name == kcm::kServiceAccountDirEnv) return g_dir;
    return std::nullopt;
  };
  std::optional<kcm::InClusterConfig> config;
  try {
    config = kcm::load_in_cluster_config(env, kcm::NeedNamespace::kYes);
  } catch (const kcm::Error&) {
  }
  if (config) {
    FUZZ_CHECK(config->server.rfind("https://", 0) == 0);
    FUZZ_CHECK(!config->node_name.empty() && config->node_name.find('/') == std::string::npos);
    FUZZ_CHECK(!config->pod_namespace.empty() &&
               config->pod_namespace.find('/') == std::string::npos);
    FUZZ_CHECK(config->token_path == g_dir + "/token");
  }

  if (parts.size() > 4) {
    kcm::TokenSource tokens(g_dir + "/token");
    try {
      const std::string& token = tokens.get();
      FUZZ_CHECK(!token.empty());
      for (char c : token) FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
    } catch (const kcm::Error&) {
    }
  }
  return 0;
}
