#!/usr/bin/env bash
# The README's demo: a real busybox container under runc, pinned by kcm-hook to a
# dataplane CPU list of a config directory that `kcm init` made for this machine, and
# the list released when the container is deleted. Needs root, runc and busybox-static.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
KCM=$build/cli/kcm
HOOK=$build/hook/kcm-hook

work=$(mktemp -d /tmp/kcm-demo.XXXXXX)
conf=$work/kcm
id=kcm-demo-$$
cleanup() {
  runc delete --force "$id" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# One dataplane core, a controlplane core when the machine has three or more, the rest
# for infra.
cores=$(lscpu -p=CORE | grep -v '^#' | sort -u | wc -l)
cp=0
[ "$cores" -ge 3 ] && cp=1
say "kcm init --num-dp-cores=1 --num-cp-cores=$cp  ($cores physical cores here)"
"$KCM" init --conf-dir="$conf" --num-dp-cores=1 --num-cp-cores=$cp
"$KCM" describe --conf-dir="$conf"

say "kcm isolate --pool=infra: a command pinned without a container"
KCM_PROC_FS=/proc "$KCM" isolate --conf-dir="$conf" --pool=infra \
  sh -- -c "'grep Cpus_allowed_list /proc/self/status; echo KCM_CPUS_ASSIGNED=\$KCM_CPUS_ASSIGNED'"

# A bundle: busybox-static as the whole root filesystem.
bundle=$work/bundle
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/sys" "$bundle/rootfs/dev"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in sh cat grep sleep; do ln -s busybox "$bundle/rootfs/bin/$applet"; done
(cd "$bundle" && runc spec)
python3 - "$bundle/config.json" "$HOOK" "$conf" <<'PY'
import json, sys
path, hook, conf = sys.argv[1:]
spec = json.load(open(path))
spec["process"]["terminal"] = False
spec["process"]["args"] = ["sh", "-c",
    "grep Cpus_allowed_list /proc/self/status; "
    "echo cpuset.cpus: $(cat /sys/fs/cgroup/cpuset/cpuset.cpus 2>/dev/null || cat /sys/fs/cgroup/cpuset.cpus); "
    "sleep 2"]
spec.setdefault("annotations", {})["kcm.intel.com/pool"] = "dataplane"
stage = lambda s: {"path": hook, "args": ["kcm-hook", "--conf-dir=" + conf, s]}
spec["hooks"] = {"prestart": [stage("prestart")], "poststop": [stage("poststop")]}
json.dump(spec, open(path, "w"), indent=2)
PY

say "runc run: container $id asks for the dataplane pool"
(cd "$bundle" && runc run --detach "$id" >"$work/out" 2>&1 </dev/null)
sleep 1
say "while it runs: the list holds its host PID"
"$KCM" describe --conf-dir="$conf" | python3 -c '
import json, sys
for name, l in json.load(sys.stdin)["pools"]["dataplane"]["cpuLists"].items():
    print("dataplane", name, "tasks", l["tasks"])'
cat "$conf"/owners/*.json
while [ "$(runc state "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" = running ]; do
  sleep 0.2
done
say "inside the container it saw"
cat "$work/out"
runc delete "$id"
say "after runc delete (poststop): released"
"$KCM" describe --conf-dir="$conf" | python3 -c '
import json, sys
for name, l in json.load(sys.stdin)["pools"]["dataplane"]["cpuLists"].items():
    print("dataplane", name, "tasks", l["tasks"])'
ls "$conf/owners"
