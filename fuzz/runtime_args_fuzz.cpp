// parse_runtime_args: the argv kcm-runtime receives in runc's place (containerd's
// go-runc, podman's conmon, people). Input: the arguments after argv[0], NUL-separated.
#include <algorithm>
#include <vector>

#include "error.h"
#include "fuzz.h"
#include "runtime_args.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args;
  if (size > 0) args = kcm_fuzz::split_nul(kcm_fuzz::as_text(data, size));

  std::vector<kcm::RuntimeCommand> readings;
  try {
    readings = kcm::parse_runtime_args(args);
  } catch (const kcm::Error& e) {
    FUZZ_CHECK(e.exit_code() == kcm::kExitUsage);
    return 0;
  }
  FUZZ_CHECK(!readings.empty());
  for (auto it = readings.begin(); it != readings.end(); ++it) {
    FUZZ_CHECK(std::find(it + 1, readings.end(), *it) == readings.end());
    const bool creates = kcm::creates_container(*it);
    FUZZ_CHECK(creates == (it->subcommand == "create" || it->subcommand == "run"));
    if (!creates) FUZZ_CHECK(!it->bundle);
    const std::string dir = kcm::bundle_dir(*it, "/run/containerd/cwd");
    FUZZ_CHECK(!dir.empty() && dir[0] == '/');
  }

  // Global flags that containerd and podman put in front never change the readings.
  std::vector<std::string> prefixed = {"--root", "/run/runc", "--log-format=json",
                                       "--systemd-cgroup"};
  prefixed.insert(prefixed.end(), args.begin(), args.end());
  FUZZ_CHECK(kcm::parse_runtime_args(prefixed) == readings);
  return 0;
}
