#include "k8s_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "error.h"
#include "k8s_fakes.h"
#include "test_support.h"

namespace kcm {
namespace {

namespace fs = std::filesystem;
using testing::HasSubstr;

// A scratch service-account directory and environment, removed when the test ends.
class InClusterTest : public testing::Test {
 protected:
  InClusterTest() {
    write("token", "token-1\n");
    write("ca.crt", "-----BEGIN CERTIFICATE-----\n");
    write("namespace", "kcm");
    env_ = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
            {"KUBERNETES_SERVICE_PORT", "443"},
            {"NODE_NAME", "node-1.example"},
            {kServiceAccountDirEnv, dir_}};
  }
  void write(const std::string& name, const std::string& content) const {
    testing_support::write_file(dir_ + "/" + name, content);
  }

  InClusterConfig load(NeedNamespace need = NeedNamespace::kNo) const {
    auto env = env_;
    return load_in_cluster_config(
        [env](const std::string& name) -> std::optional<std::string> {
          auto it = env.find(name);
          if (it == env.end()) return std::nullopt;
          return it->second;
        },
        need);
  }

  std::string load_error(NeedNamespace need = NeedNamespace::kNo) const {
    try {
      load(need);
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), kExitFailure);
      return e.what();
    }
    ADD_FAILURE() << "load_in_cluster_config did not throw";
    return "";
  }

  testing_support::TempDir tmp_;
  const std::string dir_ = tmp_.path();
  std::map<std::string, std::string> env_;
};

TEST_F(InClusterTest, ReadsServerFilesAndNode) {
  InClusterConfig config = load(NeedNamespace::kYes);
  EXPECT_EQ(config.server, "https://10.96.0.1:443");
  EXPECT_EQ(config.token_path, dir_ + "/token");
  EXPECT_EQ(config.ca_path, dir_ + "/ca.crt");
  EXPECT_EQ(config.node_name, "node-1.example");
  EXPECT_EQ(config.pod_namespace, "kcm");
}

TEST_F(InClusterTest, BracketsAnIpv6Host) {
  env_["KUBERNETES_SERVICE_HOST"] = "fd00::1";
  EXPECT_EQ(load().server, "https://[fd00::1]:443");
}

TEST_F(InClusterTest, WithoutServiceHostSaysNotInACluster) {
  env_.erase("KUBERNETES_SERVICE_HOST");
  EXPECT_EQ(load_error(),
            "not running in a Kubernetes cluster: KUBERNETES_SERVICE_HOST is not set");
  env_["KUBERNETES_SERVICE_HOST"] = "";
  EXPECT_EQ(load_error(),
            "not running in a Kubernetes cluster: KUBERNETES_SERVICE_HOST is not set");
}

TEST_F(InClusterTest, NamesEveryMissingPieceInOneError) {
  env_.erase("KUBERNETES_SERVICE_PORT");
  env_.erase("NODE_NAME");
  fs::remove(fs::path(dir_) / "token");
  fs::remove(fs::path(dir_) / "ca.crt");
  std::string error = load_error();
  EXPECT_THAT(error, HasSubstr("KUBERNETES_SERVICE_PORT is not set"));
  EXPECT_THAT(error, HasSubstr("\"" + dir_ + "/token\" does not exist"));
  EXPECT_THAT(error, HasSubstr("\"" + dir_ + "/ca.crt\" does not exist"));
  EXPECT_THAT(error, HasSubstr("NODE_NAME is not set"));
}

TEST_F(InClusterTest, RefusesABadPort) {
  for (const char* port : {"0", "65536", "https", "-1", "443 "}) {
    env_["KUBERNETES_SERVICE_PORT"] = port;
    EXPECT_THAT(load_error(), HasSubstr("is not a port number")) << port;
  }
}

TEST_F(InClusterTest, RefusesANodeNameThatIsNoObjectName) {
  for (const char* node : {"Node1", "n1/status", "-n1", "n 1"}) {
    env_["NODE_NAME"] = node;
    EXPECT_THAT(load_error(), HasSubstr("is not a valid node name")) << node;
  }
}

TEST_F(InClusterTest, NeedsTheNamespaceFileOnlyWhenAsked) {
  fs::remove(fs::path(dir_) / "namespace");
  EXPECT_EQ(load().pod_namespace, "");
  EXPECT_THAT(load_error(NeedNamespace::kYes), HasSubstr("/namespace\" does not exist"));
}

TEST_F(InClusterTest, RefusesAnEmptyTokenFile) {
  write("token", " \n");
  EXPECT_THAT(load_error(), HasSubstr("/token\" is empty"));
}

TEST_F(InClusterTest, DefaultsToTheServiceAccountVolume) {
  env_.erase(kServiceAccountDirEnv);
  if (fs::exists(kServiceAccountDir)) GTEST_SKIP() << "running inside a pod";
  EXPECT_THAT(load_error(),
              HasSubstr("\"/var/run/secrets/kubernetes.io/serviceaccount/token\" does not exist"));
}

TEST_F(InClusterTest, TokenIsTrimmed) {
  write("token", "\t token-1 \r\n");
  TokenSource token(dir_ + "/token");
  EXPECT_EQ(token.get(), "token-1");
}

TEST_F(InClusterTest, TokenIsReReadAfterAMinute) {
  testing_support::FakeClock clock;
  TokenSource token(dir_ + "/token", clock);
  EXPECT_EQ(token.get(), "token-1");
  write("token", "token-2");
  clock.advance(std::chrono::seconds(59));
  EXPECT_EQ(token.get(), "token-1");
  clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(token.get(), "token-2");
}

TEST_F(InClusterTest, TokenIsReReadAfterRefresh) {
  TokenSource token(dir_ + "/token");
  EXPECT_EQ(token.get(), "token-1");
  write("token", "token-2");
  EXPECT_EQ(token.get(), "token-1");
  token.refresh();
  EXPECT_EQ(token.get(), "token-2");
}

TEST_F(InClusterTest, TokenThatCannotBeAHeaderIsRefused) {
  write("token", "token\r\nX-Injected: 1");
  TokenSource token(dir_ + "/token");
  EXPECT_THROW(token.get(), Error);
}

TEST_F(InClusterTest, VanishedTokenIsAnErrorNamingTheFile) {
  TokenSource token(dir_ + "/token");
  fs::remove(fs::path(dir_) / "token");
  try {
    token.get();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(dir_ + "/token"));
  }
}

}  // namespace
}  // namespace kcm
