// parse_runtime_args: the argv kcm-runtime receives in runc's place (containerd's
// go-runc, podman's conmon, people). Input: the arguments after argv[0], NUL-separated.
#include <optional>

#include "error.h"
#include "fuzz.h"
#include "runtime_args.h"

namespace {

bool same(const kcm::RuntimeCommand& a, const kcm::RuntimeCommand& b) {
  return a.subcommand == b.subcommand && a.bundle == b.bundle;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args;
  if (size > 0) args = kcm_fuzz::split_nul(kcm_fuzz::as_text(data, size));

  std::optional<kcm::RuntimeCommand> command;
  try {
    command = kcm::parse_runtime_args(args);
  } catch (const kcm::Error& e) {
    FUZZ_CHECK(e.exit_code() == kcm::kExitUsage);
    return 0;
  }
  const bool creates = kcm::creates_container(*command);
  FUZZ_CHECK(creates == (command->subcommand == "create" || command->subcommand == "run"));
  if (!creates) FUZZ_CHECK(!command->bundle);
  const std::string dir = kcm::bundle_dir(*command, "/run/containerd/cwd");
  FUZZ_CHECK(!dir.empty() && dir[0] == '/');

  // Global flags that containerd and podman put in front never change the reading.
  std::vector<std::string> prefixed = {"--root", "/run/runc", "--log-format=json",
                                       "--systemd-cgroup"};
  prefixed.insert(prefixed.end(), args.begin(), args.end());
  FUZZ_CHECK(same(kcm::parse_runtime_args(prefixed), *command));
  return 0;
}
