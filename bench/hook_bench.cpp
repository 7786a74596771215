// kcm-hook's hot paths in-process: the locked reserve+release transaction on a temp
// config directory (fsync-bound), and reading the state of a container that asks for
// nothing (the path every container on a node takes). Whole-process timings of the hook
// binary are in README.md (hook_process_bench.sh).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "annotations.h"
#include "config_dir.h"
#include "oci_state.h"
#include "procfs.h"
#include "reservation.h"

namespace kcm {
namespace {

// A runc prestart state of a Kubernetes container, as containerd's CRI plugin annotates it.
std::string state_json(bool with_pool) {
  std::string s =
      R"({"ociVersion":"1.0.2-dev","id":"0f3c9ad1b7e24c5f8a1d6e9b3c7f2a4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b","status":"creating","pid":421337,"bundle":"/run/containerd/io.containerd.runtime.v2.task/k8s.io/0f3c9ad1b7e24c5f8a1d6e9b3c7f2a4d","annotations":{"io.kubernetes.cri.container-name":"fwd","io.kubernetes.cri.container-type":"container","io.kubernetes.cri.image-name":"registry.example/fwd:1.0","io.kubernetes.cri.sandbox-id":"9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b","io.kubernetes.cri.sandbox-name":"dpdk-app","io.kubernetes.cri.sandbox-namespace":"default","io.kubernetes.cri.sandbox-uid":"3e2c1b0a-9f8e-4d7c-b6a5-4f3e2d1c0b9a")";
  if (with_pool) s += R"(,"kcm.intel.com/pool":"dataplane")";
  s += "}}";
  return s;
}

void BM_UnannotatedStateToDecision(benchmark::State& st) {
  const std::string text = state_json(false);
  for (auto _ : st) {
    OciState state = parse_oci_state(text);
    benchmark::DoNotOptimize(pool_request(state.annotations));
  }
}
BENCHMARK(BM_UnannotatedStateToDecision);

void BM_AnnotatedStateToRequest(benchmark::State& st) {
  const std::string text = state_json(true);
  for (auto _ : st) {
    OciState state = parse_oci_state(text);
    benchmark::DoNotOptimize(pool_request(state.annotations));
  }
}
BENCHMARK(BM_AnnotatedStateToRequest);

// A temp config directory: dataplane exclusive with two lists, infra shared.
class TempConfigDir {
 public:
  TempConfigDir() {
    char tmpl[] = "/tmp/kcm-hook-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    path_ = tmpl;
    Config layout;
    Pool dataplane{"dataplane", true, {}};
    for (const char* name : {"0", "1"})
      dataplane.lists[name] = CpuList{name, CpuSet::parse(name), {}};
    Pool infra{"infra", false, {{"0-1", CpuList{"0-1", CpuSet::parse("0-1"), {}}}}};
    layout.pools = {{"dataplane", dataplane}, {"infra", infra}};
    ConfigDir::create(path_ + "/conf", layout, {"hook_bench", "hook_bench: "});
  }
  ~TempConfigDir() { std::system(("rm -rf " + path_).c_str()); }
  std::string conf() const { return path_ + "/conf"; }

 private:
  std::string path_;
};

void reserve_release(benchmark::State& st, const char* pool) {
  TempConfigDir tmp;
  const ConfigDir dir = ConfigDir::open(tmp.conf());
  const pid_t pid = ::getpid();
  const ReservationRequest request{"bench-container", pid, *Procfs().start_time(pid), pool, 1};
  const LockOptions lock{"hook_bench", "hook_bench: ", std::chrono::seconds(30), "/proc"};
  const ProcessId self{request.pid, request.start_time};
  for (auto _ : st) {
    benchmark::DoNotOptimize(reserve(dir, request, lock, "/sys"));
    benchmark::DoNotOptimize(release(dir, request.owner, lock, self));
  }
}

void BM_ReserveReleaseExclusive(benchmark::State& st) { reserve_release(st, "dataplane"); }
BENCHMARK(BM_ReserveReleaseExclusive)->Unit(benchmark::kMicrosecond);

void BM_ReserveReleaseShared(benchmark::State& st) { reserve_release(st, "infra"); }
BENCHMARK(BM_ReserveReleaseShared)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kcm

BENCHMARK_MAIN();
