#!/usr/bin/env bash
# Runs every libFuzzer target of a -Dfuzz=true build directory for SECONDS each
# (default 10) on a scratch copy of its seed corpus, KCM_FUZZ_JOBS (default: nproc) at a
# time. Prints one line per target; exits 1 when any target crashed, leaked, tripped a
# sanitizer or broke an invariant, 2 on bad usage. Crashing inputs are kept in
# BUILD_DIR/fuzz-artifacts/<target>/; nothing is written into the source tree.
#
#   fuzz/run.sh build-fuzz        # 23 targets x 10 s on 2 cores: about 2 min
#   fuzz/run.sh build-fuzz 600    # a longer run
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 || ! -d $1 ]]; then
  echo "usage: $0 BUILD_DIR [SECONDS]" >&2
  exit 2
fi
build=$(realpath "$1")
seconds=${2:-10}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "$0: SECONDS must be a positive integer, not '$seconds'" >&2
  exit 2
fi
src=$(dirname "$(realpath "$0")")
jobs=${KCM_FUZZ_JOBS:-$(nproc)}

shopt -s nullglob
targets=()
for exe in "$build"/fuzz/*_fuzz; do
  [[ -x $exe ]] && targets+=("$(basename "$exe" _fuzz)")
done
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "$0: no fuzz targets in $build/fuzz (configure it with -Dfuzz=true; see fuzz/README.md)" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kcm-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Sanitizer reports are failures; UBSan's are not fatal unless told so.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

run_one() {
  local name=$1 dir=$work/$1
  mkdir -p "$dir/corpus" "$dir/artifacts" "$dir/tmp"
  if [[ -d $src/corpus/$name ]]; then cp -R "$src/corpus/$name/." "$dir/corpus/"; fi
  local rc=0
  TMPDIR=$dir/tmp "$build/fuzz/${name}_fuzz" "$dir/corpus" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/" >"$dir/log" 2>&1 || rc=$?
  echo "$rc" >"$dir/rc"
}

running=0
for name in "${targets[@]}"; do
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
  run_one "$name" &
  running=$((running + 1))
done
wait || true

failed=0
for name in "${targets[@]}"; do
  dir=$work/$name
  rc=$(cat "$dir/rc" 2>/dev/null || echo 127)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -n1)
  cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -n1 | cut -d' ' -f2)
  corpus=$(find "$dir/corpus" -type f | wc -l)
  if [[ $rc -eq 0 ]]; then
    printf '%-16s ok    execs=%s exec/s=%s cov=%s corpus=%s\n' \
      "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$corpus"
  else
    failed=1
    keep=$build/fuzz-artifacts/$name
    mkdir -p "$keep"
    cp -R "$dir/artifacts/." "$keep/" 2>/dev/null || true
    cp "$dir/log" "$keep/log"
    printf '%-16s FAIL  rc=%s execs=%s; log and inputs in %s\n' \
      "$name" "$rc" "${execs:-?}" "$keep"
    grep -E -m 12 'ERROR|runtime error|invariant failed|terminate called|what\(\)|SUMMARY|^ +#[0-9]+ .* in (kcm::|LLVMFuzzerTestOneInput)' \
      "$dir/log" | sed 's/^/    /' || true
  fi
done
exit "$failed"
