#!/usr/bin/env bash
# Whole-process timings of kcm-hook, as a runtime pays them: fork+exec, seccomp, state
# parsing and, for an annotated container, the locked transaction and the pinning.
#   bench/hook_process_bench.sh build/hook/kcm-hook [runs]
# Needs root (it pins a `sleep` it starts). Prints the mean per call of each case.
set -euo pipefail
hook=$(realpath "${1:?usage: $0 path/to/kcm-hook [runs]}")
runs=${2:-200}
tmp=$(mktemp -d /tmp/kcm-hook-process-bench-XXXXXX)
sleep 600 & target=$!
trap 'kill $target; rm -rf "$tmp"' EXIT

conf=$tmp/conf
for list in 0 1; do mkdir -p "$conf/pools/dataplane/$list"; : > "$conf/pools/dataplane/$list/tasks"; done
echo 1 > "$conf/pools/dataplane/exclusive"

plain='{"ociVersion":"1.0.2","id":"plain","status":"creating","pid":'$target',"annotations":{"io.kubernetes.cri.container-name":"app","io.kubernetes.cri.container-type":"container"}}'
pinned='{"ociVersion":"1.0.2","id":"pinned","status":"creating","pid":'$target',"annotations":{"io.kubernetes.cri.container-name":"app","kcm.intel.com/pool":"dataplane"}}'
stopped='{"ociVersion":"1.0.2","id":"pinned","status":"stopped","annotations":{"io.kubernetes.cri.container-name":"app","kcm.intel.com/pool":"dataplane"}}'
printf '%s' "$plain" > "$tmp/plain.json"
printf '%s' "$pinned" > "$tmp/pinned.json"
printf '%s' "$stopped" > "$tmp/stopped.json"

# mean_us NAME STAGE STATE-FILE: runs the hook $runs times, prints the mean in µs.
mean_us() {
  local start end
  start=$(date +%s%N)
  for ((i = 0; i < runs; i++)); do "$hook" --conf-dir="$conf" "$2" < "$3"; done
  end=$(date +%s%N)
  printf '%-40s %8d µs/call  (%d calls)\n' "$1" $(((end - start) / runs / 1000)) "$runs"
}

# A baseline: the cheapest exec of a static program.
start=$(date +%s%N)
for ((i = 0; i < runs; i++)); do /bin/busybox true; done
end=$(date +%s%N)
printf '%-40s %8d µs/call  (%d calls)\n' "baseline: exec busybox true" $(((end - start) / runs / 1000)) "$runs"

mean_us "prestart, unannotated container" prestart "$tmp/plain.json"
mean_us "poststop, unannotated container" poststop "$tmp/plain.json"

# Annotated: prestart then poststop, each timed over its own loop of pairs.
pre=0 post=0
for ((i = 0; i < runs; i++)); do
  t0=$(date +%s%N); "$hook" --conf-dir="$conf" prestart < "$tmp/pinned.json"
  t1=$(date +%s%N); "$hook" --conf-dir="$conf" poststop < "$tmp/stopped.json"
  t2=$(date +%s%N)
  pre=$((pre + t1 - t0)) post=$((post + t2 - t1))
done
printf '%-40s %8d µs/call  (%d calls)\n' "prestart, annotated (reserve + pin)" $((pre / runs / 1000)) "$runs"
printf '%-40s %8d µs/call  (%d calls)\n' "poststop, annotated (release)" $((post / runs / 1000)) "$runs"

/usr/bin/time -f "max RSS, unannotated prestart: %M KiB" "$hook" prestart < "$tmp/plain.json"
/usr/bin/time -f "max RSS, annotated prestart:   %M KiB" "$hook" --conf-dir="$conf" prestart < "$tmp/pinned.json"
"$hook" --conf-dir="$conf" poststop < "$tmp/stopped.json"
