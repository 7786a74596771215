// parse_kubelet_state: the kubelet's cpu_manager_state, a JSON file another daemon
// writes (and an operator may edit), which node-report's kubelet check reads.
#include <nlohmann/json.hpp>
#include <optional>

#include "audit.h"
#include "error.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(kcm_fuzz::as_text(data, size));
  std::optional<kcm::KubeletState> state;
  try {
    state = kcm::parse_kubelet_state(text, "/var/lib/kubelet/cpu_manager_state");
  } catch (const kcm::Error&) {
    return 0;
  }
  // Only the static policy's entries are read.
  if (state->policy != "static") FUZZ_CHECK(state->assignments.empty());

  // Written back as the kubelet would write it, the assignments read the same: the same
  // pods, containers and CPUs, in the same order.
  nlohmann::json entries = nlohmann::json::object();
  for (const kcm::KubeletAssignment& a : state->assignments) {
    FUZZ_CHECK(kcm::CpuSet::parse(a.cpus.to_string()) == a.cpus);
    entries[a.pod][a.container] = a.cpus.to_string();
  }
  const nlohmann::json rebuilt = {
      {"policyName", state->policy}, {"defaultCpuSet", "0-3"}, {"entries", entries}};
  const kcm::KubeletState again = kcm::parse_kubelet_state(rebuilt.dump(), "rebuilt");
  FUZZ_CHECK(again.policy == state->policy);
  FUZZ_CHECK(again.assignments.size() == state->assignments.size());
  for (std::size_t i = 0; i < again.assignments.size(); ++i) {
    FUZZ_CHECK(again.assignments[i].pod == state->assignments[i].pod);
    FUZZ_CHECK(again.assignments[i].container == state->assignments[i].container);
    FUZZ_CHECK(again.assignments[i].cpus == state->assignments[i].cpus);
  }
  return 0;
}
