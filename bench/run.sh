#!/usr/bin/env bash
# Whole-process benchmarks of kcm as a node pays for it, each figure a pair of commands
# timed side by side in one hyperfine invocation (so that drift of a shared machine hits
# both), with the targets of the performance issue printed beside it. See bench/README.md.
#
#   bench/run.sh [-r RUNS] [-s SECTION] [-d DIR] [BUILD_DIR]
#
#   BUILD_DIR   meson build directory holding cli/kcm and hook/kcm-hook (default: build)
#   -r RUNS     timed runs per command, after one warm-up run (default 10); medians
#   -s SECTION  run one section only: runc, hook, isolate, config or concurrent (or 1-5)
#   -d DIR      where the temp work directory goes (default /var/tmp: a disk, as /etc/kcm
#               is on a node; on tmpfs every fsync would be free)
#
# Needs root (runc, pinning processes it starts). Installs hyperfine and the other Debian
# packages it uses when missing, as ./dev does. Removes everything it creates: containers,
# the processes it pins, the work directory. Exits non-zero when a command fails; it
# asserts nothing about times. KCM_LOCK_TIMEOUT is passed through to kcm (see section 4).
set -euo pipefail

PACKAGES=(hyperfine time python3 runc busybox-static)
RUNS=10
SECTION=all
WORK_PARENT=/var/tmp

usage() {
  sed -n '6,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while getopts "r:s:d:h" opt; do
  case $opt in
    r) RUNS=$OPTARG ;;
    s) SECTION=$OPTARG ;;
    d) WORK_PARENT=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
BUILD=${1:-build}

case $RUNS in '' | *[!0-9]*) echo "run.sh: -r needs a number, not \"$RUNS\"" >&2; exit 2 ;; esac
[ "$RUNS" -ge 2 ] || { echo "run.sh: -r needs at least 2 runs for a median" >&2; exit 2; }
case $SECTION in
  1) SECTION=runc ;; 2) SECTION=hook ;; 3) SECTION=isolate ;; 4) SECTION=config ;;
  5) SECTION=concurrent ;;
  all | runc | hook | isolate | config | concurrent) ;;
  *) echo "run.sh: unknown section \"$SECTION\" (runc, hook, isolate, config, concurrent)" >&2
     exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "run.sh: needs root (runc containers, pinning the processes it starts)" >&2
  exit 1
fi

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
KCM=$(realpath -e "$BUILD/cli/kcm" 2>/dev/null) || { echo "run.sh: no $BUILD/cli/kcm: build first (meson setup $BUILD && ninja -C $BUILD)" >&2; exit 1; }
HOOK=$(realpath -e "$BUILD/hook/kcm-hook" 2>/dev/null) || { echo "run.sh: no $BUILD/hook/kcm-hook: build first" >&2; exit 1; }

"$BENCH_DIR/../dev" packages "${PACKAGES[@]}"

# --- the work directory and its cleanup ---------------------------------------------

case $WORK_PARENT in *[[:space:]]*)
  echo "run.sh: -d needs a path without blanks (commands are split on them)" >&2; exit 2 ;;
esac
TMP=$(mktemp -d "$WORK_PARENT/kcm-bench-XXXXXX")
RUNC_ROOT=$TMP/runc
CONTAINERS=()
# The hook's targets are subshells of the timed commands blocked opening this FIFO, which
# nobody writes: processes that cost a fork, not an exec, to start.
NEVER=$TMP/never

cleanup() {
  local id
  for id in "${CONTAINERS[@]}"; do
    runc --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1 || true
  done
  # Opening the FIFO for writing lets a target that a killed run left blocked on it go.
  if [ -p "$NEVER" ]; then exec 9<> "$NEVER"; exec 9>&-; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkfifo "$NEVER"

# --- this machine -------------------------------------------------------------------

# The CPUs this script may run on, in the kernel's list format and one by one: every
# config directory below is made of them, so the hooks pin to CPUs that exist here.
ALLOWED_LIST=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)
ALLOWED_CPUS=()
IFS=, read -ra parts <<< "$ALLOWED_LIST"
for part in "${parts[@]}"; do
  if [[ $part == *-* ]]; then
    for ((c = ${part%-*}; c <= ${part#*-}; c++)); do ALLOWED_CPUS+=("$c"); done
  else
    ALLOWED_CPUS+=("$part")
  fi
done

# The hook's targets must run in the root of the cpuset hierarchy, where the hook pins by
# affinity alone (docs/hook.md): in any other cgroup it would narrow that cgroup's
# cpuset, for every process in it. They are children of this script, so it moves itself
# there first when it is elsewhere (as on a systemd host, in the session's cgroup).
cpuset_root_procs() {
  local path="" mnt
  while IFS=: read -r _ controllers cgpath; do
    case ",$controllers," in *,cpuset,*) path=$cgpath ;; esac
  done < /proc/self/cgroup
  if [ -n "$path" ]; then  # cgroup v1 (or hybrid): the cpuset hierarchy
    [ "$path" = / ] && return 0
    mnt=$(awk '{for (i = 7; $i != "-"; i++);
                if ($(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)cpuset(,|$)/) {print $5; exit}}' \
            /proc/self/mountinfo)
  else  # cgroup v2
    path=$(sed -n 's/^0:://p' /proc/self/cgroup)
    [ "$path" = / ] && return 0
    mnt=$(awk '{for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup2") {print $5; exit}}' \
            /proc/self/mountinfo)
  fi
  [ -n "$mnt" ] || { echo "run.sh: no cpuset cgroup hierarchy mounted" >&2; return 1; }
  echo "$mnt/cgroup.procs"
}
ROOT_PROCS=$(cpuset_root_procs)
if [ -n "$ROOT_PROCS" ]; then
  echo "run.sh: moving itself into the root cpuset cgroup ($ROOT_PROCS)"
  echo $$ > "$ROOT_PROCS"
fi
# isolate and reconcile need it (docs/cli.md); kcm-hook reads it too, with this default.
export KCM_PROC_FS=/proc

# A config directory of pools over this machine's CPUs, written by hand in the format of
# docs/config.md: make_conf DIR POOL EXCLUSIVE LIST...
make_conf() {
  local dir=$1 pool=$2 exclusive=$3 list
  shift 3
  mkdir -p "$dir/pools/$pool"
  echo "$exclusive" > "$dir/pools/$pool/exclusive"
  for list in "$@"; do
    mkdir -p "$dir/pools/$pool/$list"
    : > "$dir/pools/$pool/$list/tasks"
  done
}

# Fails unless every tasks file of DIR is empty and it has no owner record: what the
# hooks and isolate take, they gave back.
assert_all_free() {
  local busy
  busy=$(find "$1/pools" -name tasks -size +0c; find "$1/owners" -name '*.json' 2>/dev/null || true)
  if [ -n "$busy" ]; then
    echo "run.sh: $1 still holds CPU lists after the benchmark:" >&2
    echo "$busy" | head -n 5 >&2
    return 1
  fi
}

# --- hyperfine and the results ------------------------------------------------------

mkdir -p "$TMP/results"
TABLE=$TMP/results/table.md
: > "$TABLE"

# pair NAME NAME-A CMD-A NAME-B CMD-B [hyperfine options...]: A and B side by side in one
# hyperfine invocation, through sh unless the options say -N (no shell), each after its
# own --prepare when the options give two.
pair() {
  local name=$1 name_a=$2 cmd_a=$3 name_b=$4 cmd_b=$5
  shift 5
  echo
  hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$TMP/results/$name.json" \
    "$@" -n "$name_a" "$cmd_a" -n "$name_b" "$cmd_b"
}

# median NAME INDEX: the median in ms of command INDEX (0 or 1) of pair NAME.
median() {
  python3 -c 'import json, sys
print("%.2f" % (1000 * json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["median"]))' \
    "$TMP/results/$1.json" "$2"
}

# row FIGURE VALUE TARGET MET: one line of the closing table (a Markdown row).
row() { echo "| $1 | $2 | ${3:-—} | ${4:-—} |" >> "$TABLE"; }

# ratio_row NAME FIGURE LIMIT: the ratio of the two medians of pair NAME against "<= LIMIT"
# ("" for a figure without a target).
ratio_row() {
  local a b ratio met=""
  a=$(median "$1" 0) b=$(median "$1" 1)
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}')
  if [ -n "$3" ]; then
    met=$(awk -v r="$ratio" -v l="$3" 'BEGIN {print (r <= l ? "yes" : "no")}')
  fi
  row "$2" "$a ms / $b ms = **$ratio**" "${3:+≤ $3}" "$met"
}

# --- hook targets -------------------------------------------------------------------

# The state the runtime gives the hook; ANNOTATIONS chooses whether it asks for a pool.
PLAIN_ANNOTATIONS='"io.kubernetes.cri.container-name":"app"'

# NAME.sh CONF ANNOTATIONS COUNT [HOOK], sourced by a timed command with `loops` set: `loops`
# concurrent loops (1: no fork), each taking COUNT containers one after the other
# through the hook's prestart (on a live target), the target's end and poststop, as a
# runtime does (poststop gives lists back only when the container's process is gone,
# docs/config.md). Besides the hook, it costs a fork, a kill and a wait per container.
write_loops_script() {
  local name=$1 conf=$2 annotations=$3 count=$4 hook=${5:-$HOOK}
  cat > "$TMP/$name.sh" <<EOF
cycle() {
  k=0
  while [ \$k -lt $count ]; do
    ( : < "$NEVER" ) &
    p=\$!
    $hook --conf-dir="$conf" prestart <<STATE || { kill -KILL \$p; return 1; }
{"ociVersion":"1.0.2","id":"kcm-bench-\$1","status":"creating","pid":\$p,"annotations":{$annotations}}
STATE
    kill -KILL \$p
    wait \$p 2> /dev/null
    $hook --conf-dir="$conf" poststop <<STATE || return 1
{"ociVersion":"1.0.2","id":"kcm-bench-\$1","status":"stopped","annotations":{$annotations}}
STATE
    k=\$((k + 1))
  done
}
if [ "\$loops" -eq 1 ]; then
  cycle 0
else
  i=0 pids=""
  while [ \$i -lt \$loops ]; do cycle \$i & pids="\$pids \$!"; i=\$((i + 1)); done
  failed=0
  for j in \$pids; do wait \$j || failed=1; done
  [ \$failed -eq 0 ]
fi
EOF
}

# expect_pinned N COMMAND: runs COMMAND (sh) once with the hook's log on, and fails
# unless the hook says it pinned N containers (a benchmark of hooks that do nothing would
# be no benchmark).
expect_pinned() {
  local log=$TMP/hook.log n
  if ! KCM_LOG_LEVEL=info sh -c "$2" 2> "$log"; then
    cat "$log" >&2
    return 1
  fi
  n=$(grep -c '^kcm-hook: info: pinned pid ' "$log" || true)
  if [ "$n" -ne "$1" ]; then
    echo "run.sh: the hook pinned $n containers, not $1:" >&2
    head -n 20 "$log" >&2
    return 1
  fi
}

# --- the sections -------------------------------------------------------------------

# 1. runc run of a busybox `true` container with the hooks registered and the annotation
#    asking for a dataplane list, against the same bundle without either.
section_runc() {
  echo; echo "== 1. runc run: busybox true with the kcm hooks, and without"
  local conf=$TMP/runc-conf rootfs=$TMP/rootfs applet
  make_conf "$conf" dataplane 1 "${ALLOWED_CPUS[@]}"
  mkdir -p "$rootfs"/{bin,proc,sys,dev,etc,tmp,root}
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in sh true cat; do ln -s busybox "$rootfs/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
  echo 'root:x:0:' > "$rootfs/etc/group"
  local kind
  for kind in hooks plain probe; do
    mkdir -p "$TMP/bundle-$kind"
    runc spec --bundle "$TMP/bundle-$kind"
    # What kcm-runtime adds to a bundle that asks for a pool (docs/hook.md
    # "Registration"), on `runc spec`'s config.json.
    python3 - "$TMP/bundle-$kind/config.json" "$rootfs" "$kind" "$HOOK" "$conf" <<'PY'
import json, sys
path, rootfs, kind, hook, conf = sys.argv[1:]
with open(path) as f:
    spec = json.load(f)
spec["root"] = {"path": rootfs, "readonly": True}
args = ["cat", "/proc/self/status"] if kind == "probe" else ["true"]
spec["process"].update(terminal=False, args=args, env=["PATH=/bin"])
if kind != "plain":
    spec["annotations"] = {"kcm.intel.com/pool": "dataplane"}
    spec["hooks"] = {stage: [{"path": hook, "args": ["kcm-hook", "--conf-dir=" + conf, stage]}]
                     for stage in ("prestart", "poststop")}
with open(path, "w") as f:
    json.dump(spec, f, indent=2)
PY
    CONTAINERS+=("kcm-bench-$$-$kind")
  done
  local cmd_hooks="runc --root $RUNC_ROOT run --bundle $TMP/bundle-hooks kcm-bench-$$-hooks"
  local cmd_plain="runc --root $RUNC_ROOT run --bundle $TMP/bundle-plain kcm-bench-$$-plain"
  # Once in the open first, so that a failure shows runc's (and the hook's) message, and
  # once with the hooks on a container that shows its affinity: one dataplane list.
  $cmd_hooks < /dev/null
  $cmd_plain < /dev/null
  local seen
  seen=$(runc --root "$RUNC_ROOT" run --bundle "$TMP/bundle-probe" "kcm-bench-$$-probe" < /dev/null |
           awk '/^Cpus_allowed_list/ {print $2}')
  if [ -z "$seen" ] || [ ! -d "$conf/pools/dataplane/$seen" ]; then
    echo "run.sh: the container ran on CPUs \"$seen\", not on a dataplane list" >&2
    return 1
  fi
  assert_all_free "$conf"
  pair runc "runc run, hooks" "$cmd_hooks" "runc run, no hooks" "$cmd_plain" -N
  assert_all_free "$conf"
  ratio_row runc "1. \`runc run\` busybox \`true\`: hooks + dataplane annotation / no hooks" 1.10
}

# 2. One container's hook pair (prestart on a live process, its end, poststop), asking
#    for a dataplane list against asking for nothing; the peak RSS of the annotated hook.
#    Only the two hook processes are timed, from bash's fork to their exit, with bash's
#    $EPOCHREALTIME (which starts no process): the target's start and end are not the
#    hook's work. Timed by hyperfine through a shell, a pair of 2 ms drowned in the noise
#    of its shell correction. The two kinds alternate, so drift hits both.
HOOK_CYCLES=5  # pairs of each kind per run: RUNS x HOOK_CYCLES, after one warm-up pair
section_hook() {
  echo; echo "== 2. kcm-hook prestart + poststop: annotated and unannotated container"
  local conf=$TMP/hook-conf pinned="$PLAIN_ANNOTATIONS,\"kcm.intel.com/pool\":\"dataplane\""
  make_conf "$conf" dataplane 1 "${ALLOWED_CPUS[@]}"
  write_loops_script hook-pinned "$conf" "$pinned" 1
  # Once in the open first, so that a failure shows the hook's message.
  expect_pinned 1 "loops=1; . $TMP/hook-pinned.sh"
  assert_all_free "$conf"
  cat > "$TMP/hook-pair.bash" <<EOF
# pair KIND ANNOTATIONS: one container through both hooks; prints KIND and their time in us.
pair() {
  ( : < "$NEVER" ) &
  local p=\$! t0 t1 t2 t3
  t0=\$EPOCHREALTIME
  $HOOK --conf-dir="$conf" prestart <<STATE || { kill -KILL \$p; return 1; }
{"ociVersion":"1.0.2","id":"kcm-bench-pair","status":"creating","pid":\$p,"annotations":{\$2}}
STATE
  t1=\$EPOCHREALTIME
  kill -KILL \$p
  wait \$p 2> /dev/null
  t2=\$EPOCHREALTIME
  $HOOK --conf-dir="$conf" poststop <<STATE || return 1
{"ociVersion":"1.0.2","id":"kcm-bench-pair","status":"stopped","annotations":{\$2}}
STATE
  t3=\$EPOCHREALTIME
  echo "\$1 \$(( \${t1/./} - \${t0/./} + \${t3/./} - \${t2/./} ))"
}
for ((i = 0; i <= $((RUNS * HOOK_CYCLES)); i++)); do
  pair annotated '$pinned' || exit 1
  pair unannotated '$PLAIN_ANNOTATIONS' || exit 1
done
EOF
  bash "$TMP/hook-pair.bash" > "$TMP/results/hook-pair.txt"
  assert_all_free "$conf"
  # The medians, without the warm-up pair, in hyperfine's JSON shape for ratio_row.
  python3 -c 'import json, statistics, sys
times = {"annotated": [], "unannotated": []}
for line in open(sys.argv[1]).read().splitlines()[2:]:
    kind, us = line.split()
    times[kind].append(int(us) / 1e6)
medians = [statistics.median(times[k]) for k in ("annotated", "unannotated")]
json.dump({"results": [{"median": m} for m in medians]}, open(sys.argv[2], "w"))
print("hook pairs: %d of each kind; medians %.2f ms annotated, %.2f ms unannotated" %
      (len(times["annotated"]), 1000 * medians[0], 1000 * medians[1]))' \
    "$TMP/results/hook-pair.txt" "$TMP/results/hook.json"
  ratio_row hook "2. \`kcm-hook\` prestart + poststop (the hook processes alone): annotated / unannotated" 1.3

  # Peak RSS (KiB) of each annotated call.
  write_loops_script hook-rss "$conf" "$pinned" 1 "/usr/bin/time -a -o $TMP/rss -f %M $HOOK"
  sh -c "loops=1; . $TMP/hook-rss.sh"
  assert_all_free "$conf"
  local pre post
  { read -r pre; read -r post; } < "$TMP/rss"
  case "$pre/$post" in *[!0-9/]* | /* | */) echo "run.sh: peak RSS: $pre / $post?" >&2; return 1 ;; esac
  local peak=$((pre > post ? pre : post))
  row "2. \`kcm-hook\` peak RSS, annotated prestart / poststop" "$pre / $post KiB" "≤ 4096 KiB" \
    "$([ "$peak" -le 4096 ] && echo yes || echo no)"
}

# 3. kcm isolate of `true` (its command runs through /bin/sh -c) against `sh -c true`.
section_isolate() {
  echo; echo "== 3. kcm isolate --pool=dataplane true, and sh -c true"
  local conf=$TMP/isolate-conf
  make_conf "$conf" dataplane 1 "${ALLOWED_CPUS[@]}"
  local cmd="$KCM isolate --conf-dir=$conf --pool=dataplane true" seen
  # Once in the open first: the command runs on one dataplane list.
  # shellcheck disable=SC2016  # expanded by isolate's shell
  seen=$($KCM isolate --conf-dir="$conf" --pool=dataplane 'echo $KCM_CPUS_ASSIGNED')
  if [ -z "$seen" ] || [ ! -d "$conf/pools/dataplane/$seen" ]; then
    echo "run.sh: kcm isolate ran its command on \"$seen\", not on a dataplane list" >&2
    return 1
  fi
  assert_all_free "$conf"
  pair isolate "kcm isolate true" "$cmd" "sh -c true" "sh -c true" -N
  assert_all_free "$conf"
  ratio_row isolate "3. \`kcm isolate --pool=dataplane true\` / \`sh -c true\`" ""
}

# 4. reconcile, describe and node-report of a 1024-CPU node with 4000 dead tasks
#    (gen_config.py), each against copying or reading the files it has to.
section_config() {
  echo; echo "== 4. a 1024-CPU config with 4000 dead tasks: reconcile, describe, node-report"
  local big=$TMP/big pristine=$TMP/big/pristine work=$TMP/big/work copy=$TMP/big/copy
  mkdir -p "$big"
  python3 "$BENCH_DIR/gen_config.py" --sysfs "$big/sys" "$pristine"
  local reconcile="$KCM reconcile --conf-dir=$work"
  local fresh="rm -rf $work && cp -a $pristine $work && sync"

  # Once in the open first: it must reclaim every task and remove every record.
  sh -c "$fresh"
  local start end
  start=$(date +%s%N)
  if ! sh -c "$reconcile" > "$big/reconcile.json"; then
    echo "run.sh: kcm reconcile of the generated config failed; if the lock timed out," \
      "raise KCM_LOCK_TIMEOUT (now ${KCM_LOCK_TIMEOUT:-30 (default)} s)" >&2
    return 1
  fi
  end=$(date +%s%N)
  echo "first reconcile: $(((end - start) / 1000000)) ms"
  python3 -c 'import json, sys
n = len(json.load(open(sys.argv[1]))["reclaimedCpuLists"])
sys.exit(0 if n == 4000 else "run.sh: reconcile reclaimed %d tasks, not 4000" % n)' "$big/reconcile.json"
  assert_all_free "$work"

  pair reconcile "kcm reconcile" "$reconcile" "cp -r" "cp -r $pristine $copy" \
    --prepare "$fresh" --prepare "rm -rf $copy && sync"
  ratio_row reconcile "4. \`kcm reconcile\` of 4000 dead tasks / \`cp -r\` of the directory" 3

  # Without a shell: its start-up would be most of `cat`'s time (the paths hold no blanks).
  pair describe "kcm describe" "$KCM describe --conf-dir=$pristine" \
    "cat tasks" "cat $(echo "$pristine"/pools/*/*/tasks)" -N
  ratio_row describe "4. \`kcm describe\` / \`cat\` of its tasks files" 3

  local report="KCM_SYS_FS=$big/sys $KCM node-report --conf-dir=$pristine"
  sh -c "$report" > "$big/node-report.json"
  python3 -c 'import json, sys
checks = json.load(open(sys.argv[1]))["checks"]
bad = [k for k in ("configDirectory", "cpus") if not checks[k]["ok"]]
dead = len(checks["tasks"]["errors"])
sys.exit("run.sh: node-report: %s fail, %d dead tasks" % (bad, dead) if bad or dead != 4000 else 0)' \
    "$big/node-report.json"
  pair node-report "kcm node-report" "$report" \
    "cat tasks, owners" "cat $pristine/pools/*/*/tasks $pristine/owners/*.json"
  ratio_row node-report "4. \`kcm node-report\` / \`cat\` of its tasks files and owner records" ""
}

# 5. 8 concurrent loops of prestart + poststop on one config directory: allocations per
#    second (a shared pool of this machine's CPUs, one list per CPU), against the same
#    loops for containers that ask for nothing.
LOOPS=8
PER_LOOP=25
section_concurrent() {
  echo; echo "== 5. $LOOPS concurrent hook loops of $PER_LOOP containers each, one config directory"
  local conf=$TMP/concurrent-conf
  make_conf "$conf" shared 0 "${ALLOWED_CPUS[@]}"
  write_loops_script concurrent-pinned "$conf" \
    "$PLAIN_ANNOTATIONS,\"kcm.intel.com/pool\":\"shared\"" "$PER_LOOP"
  write_loops_script concurrent-plain "$conf" "$PLAIN_ANNOTATIONS" "$PER_LOOP"
  expect_pinned $((LOOPS * PER_LOOP)) "loops=$LOOPS; . $TMP/concurrent-pinned.sh"
  assert_all_free "$conf"
  pair concurrent "$LOOPS hook loops, annotated" "loops=$LOOPS; . $TMP/concurrent-pinned.sh" \
    "$LOOPS hook loops, unannotated" "loops=$LOOPS; . $TMP/concurrent-plain.sh"
  assert_all_free "$conf"
  local ms rate
  ms=$(median concurrent 0)
  rate=$(awk -v n=$((LOOPS * PER_LOOP)) -v ms="$ms" 'BEGIN {printf "%.0f", n / (ms / 1000)}')
  row "5. allocations per second, $LOOPS concurrent hooks ($((LOOPS * PER_LOOP)) prestart + poststop in $ms ms)" \
    "**$rate**/s" "≥ 500/s" "$([ "$rate" -ge 500 ] && echo yes || echo no)"
  ms=$(median concurrent 1)
  rate=$(awk -v n=$((LOOPS * PER_LOOP)) -v ms="$ms" 'BEGIN {printf "%.0f", n / (ms / 1000)}')
  row "5. the same loops for containers that ask for nothing: the most this machine's exec rate allows" \
    "$rate/s" "" ""
  ratio_row concurrent "5. the same loops: annotated / unannotated" ""
}

# --- main ---------------------------------------------------------------------------

echo "kcm whole-process benchmarks: $KCM, $HOOK"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(uname -srm); $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs online; this script may use $ALLOWED_LIST"
echo "work:    $TMP ($(df --output=fstype "$TMP" | tail -n 1))"
echo "runs:    $RUNS per command, after 1 warm-up; KCM_LOCK_TIMEOUT=${KCM_LOCK_TIMEOUT:-(default, 30 s)}"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load:    $LOAD_BEFORE"

for s in runc hook isolate config concurrent; do
  if [ "$SECTION" = all ] || [ "$SECTION" = "$s" ]; then "section_$s"; fi
done

echo
echo "load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| figure (medians of $RUNS runs) | value | target | met |"
echo "|---|---|---|---|"
cat "$TABLE"
