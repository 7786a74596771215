#!/usr/bin/env python3
"""Writes the config directory of a big node for the whole-process benchmarks (run.sh):

  bench/gen_config.py [--sysfs DIR] OUTDIR

A machine of 512 cores x 2 threads (1024 CPUs, 2 NUMA nodes, CPU c and c+512 siblings
as Linux numbers them), laid out as `kcm init --num-dp-cores=480 --num-cp-cores=1` lays
it out (lib/pool_layout.h): 480 exclusive dataplane lists of one core each, taken from
the highest-numbered cores, one controlplane list of the next core, and one infra list
of the rest. The format is that of docs/config.md: pools/, owners/ (0700, records 0600),
lock (0600).

It then holds 4000 tasks whose processes are gone, each with the owner record a holder
leaves when it is killed before it can give its lists back (a container without
poststop, a SIGKILLed `kcm isolate`): one per dataplane list (an exclusive list that is
held is never handed out again, so a node collects one dead holder per list at most) and
the rest spread evenly over the two shared lists. This is what `kcm reconcile` has to
clean up on such a node, and what `describe` and `node-report` read.

The PIDs are the highest ones Linux can hand out (below 4194304, PID_MAX_LIMIT) that no
process has now: above pid_max they can never exist, and where pid_max is the limit they
are the last to be reused. --sysfs writes the machine's sysfs topology too (for
KCM_SYS_FS), so that node-report checks the lists against 1024 online CPUs.

Standard library only. Same arguments, same tree (apart from a PID that happens to be in
use): the tasks, owner ids and start times are not random.
"""

import argparse
import hashlib
import json
import os
import sys

PID_MAX_LIMIT = 4194304  # the kernel's bound on pid_max: no PID reaches it
CREATED = "2026-11-30T04:17:45Z"


def cpu_list(cpus):
    """CPU numbers in kcm's canonical list format (lib/cpuset.h CpuSet::to_string):
    ascending, runs of three or more collapsed ("0-2,8"), a pair written out ("4,5")."""
    cpus = sorted(set(cpus))
    parts = []
    i = 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append("%d-%d" % (cpus[i], cpus[j]))
        else:
            parts.extend(str(c) for c in cpus[i:j + 1])
        i = j + 1
    return ",".join(parts)


class Machine:
    """`cores` physical cores of `threads` CPUs each over `nodes` NUMA nodes (and as many
    sockets); core c has CPUs c, c + cores, c + 2*cores ..."""

    def __init__(self, cores, threads, nodes):
        if cores % nodes:
            raise SystemExit("gen_config: --cores must be a multiple of --nodes")
        self.cores, self.threads, self.nodes = cores, threads, nodes

    def core_cpus(self, core):
        return [core + t * self.cores for t in range(self.threads)]

    def node_of_core(self, core):
        return core // (self.cores // self.nodes)

    def cpus(self):
        return range(self.cores * self.threads)


def plan_pools(machine, dp_cores, cp_cores):
    """kcm init's layout (lib/pool_layout.cpp) for a machine without isolated CPUs:
    {pool: (exclusive, [cpulist, ...])}. Dataplane takes the highest-numbered cores of
    one NUMA node when one has enough, else the highest-numbered overall; controlplane
    the highest-numbered of the rest; infra the others."""
    if machine.cores < dp_cores + cp_cores + 1:
        raise SystemExit("gen_config: too few cores for the layout")
    by_first_cpu = sorted(range(machine.cores), reverse=True)
    per_node = {}
    for core in by_first_cpu:
        per_node.setdefault(machine.node_of_core(core), []).append(core)
    fitting = [cores for _, cores in sorted(per_node.items()) if len(cores) >= dp_cores]
    if fitting and dp_cores > 0:
        dataplane = max(fitting, key=lambda cores: cores[0])[:dp_cores]
    else:
        dataplane = by_first_cpu[:dp_cores]
    taken = set(dataplane)
    rest = [core for core in by_first_cpu if core not in taken]
    controlplane, infra = rest[:cp_cores], rest[cp_cores:]

    def cpus_of(cores):
        return [cpu for core in cores for cpu in machine.core_cpus(core)]

    pools = {
        "dataplane": (True, [cpu_list(machine.core_cpus(c)) for c in sorted(dataplane)]),
        "controlplane": (False, [cpu_list(cpus_of(controlplane))] if controlplane else []),
        "infra": (False, [cpu_list(cpus_of(infra))]),
    }
    return pools


def dead_pids(count):
    """`count` PIDs that no process has, the highest first."""
    pids = []
    pid = PID_MAX_LIMIT - 1
    while len(pids) < count:
        if pid < 300:
            raise SystemExit("gen_config: not enough unused PIDs")
        if not os.path.exists("/proc/%d" % pid):
            pids.append(pid)
        pid -= 1
    return pids


def owner_id(i, pid, pool):
    """Containers are named by their runtime's 64-hex-digit ids; every fourth holder of
    a shared list is a `kcm isolate` (docs/config.md "Owner records")."""
    if pool != "dataplane" and i % 4 == 3:
        return "isolate-%d" % pid
    return hashlib.sha256(b"kcm-bench-container-%d" % i).hexdigest()


def assign_tasks(pools, count):
    """[(pool, cpulist)] of each of `count` holders: one per exclusive list first, then
    round-robin over the shared lists."""
    exclusive = [(p, l) for p, (excl, lists) in sorted(pools.items()) if excl for l in lists]
    shared = [(p, l) for p, (excl, lists) in sorted(pools.items()) if not excl for l in lists]
    slots = exclusive[:count]
    if count > len(slots) and not shared:
        raise SystemExit("gen_config: more tasks than exclusive lists and no shared list")
    for i in range(count - len(slots)):
        slots.append(shared[i % len(shared)])
    return slots


def write_file(path, text, mode):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def write_config(conf, pools, tasks):
    """The directory as kcm writes it: `tasks` is [(pool, cpulist, pid, owner id)]."""
    if os.path.exists(conf) and os.listdir(conf):
        raise SystemExit("gen_config: %s exists and is not empty" % conf)
    os.makedirs(conf, exist_ok=True)
    os.chmod(conf, 0o755)
    held = {}
    for pool, cpulist, pid, _ in tasks:
        held.setdefault((pool, cpulist), []).append(pid)
    for pool, (exclusive, lists) in pools.items():
        pool_dir = os.path.join(conf, "pools", pool)
        os.makedirs(pool_dir, mode=0o755)
        write_file(os.path.join(pool_dir, "exclusive"), "1" if exclusive else "0", 0o644)
        for cpulist in lists:
            os.mkdir(os.path.join(pool_dir, cpulist), 0o755)
            pids = held.get((pool, cpulist), [])
            write_file(os.path.join(pool_dir, cpulist, "tasks"),
                       ",".join(str(p) for p in pids), 0o644)
    owners = os.path.join(conf, "owners")
    os.mkdir(owners, 0o700)
    os.chmod(owners, 0o700)
    for i, (pool, cpulist, pid, owner) in enumerate(tasks):
        # As lib/owner.cpp writes it: sorted keys, two-space indent, a newline.
        record = {"cpuLists": [cpulist], "created": CREATED, "owner": owner, "pid": pid,
                  "pool": pool, "startTime": 1000000 + 37 * i}
        write_file(os.path.join(owners, owner + ".json"),
                   json.dumps(record, indent=2, sort_keys=True) + "\n", 0o600)
    write_file(os.path.join(conf, "lock"), "", 0o600)


def write_sysfs(root, machine):
    """devices/system/cpu and devices/system/node as lib/topology.h reads them."""
    cpu_dir = os.path.join(root, "devices", "system", "cpu")
    os.makedirs(cpu_dir)
    every = cpu_list(machine.cpus())
    for name in ("online", "present", "possible"):
        write_file(os.path.join(cpu_dir, name), every + "\n", 0o444)
    per_node = machine.cores // machine.nodes
    node_cpus = {}
    for core in range(machine.cores):
        node = machine.node_of_core(core)
        package = [cpu for c in range(node * per_node, (node + 1) * per_node)
                   for cpu in machine.core_cpus(c)]
        for cpu in machine.core_cpus(core):
            node_cpus.setdefault(node, []).append(cpu)
            topo = os.path.join(cpu_dir, "cpu%d" % cpu, "topology")
            os.makedirs(topo)
            write_file(os.path.join(topo, "thread_siblings_list"),
                       cpu_list(machine.core_cpus(core)) + "\n", 0o444)
            write_file(os.path.join(topo, "core_siblings_list"), cpu_list(package) + "\n", 0o444)
    for node, cpus in node_cpus.items():
        node_dir = os.path.join(root, "devices", "system", "node", "node%d" % node)
        os.makedirs(node_dir)
        write_file(os.path.join(node_dir, "cpulist"), cpu_list(cpus) + "\n", 0o444)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", help="the config directory to create (absent or empty)")
    parser.add_argument("--sysfs", help="also write the machine's sysfs topology here")
    parser.add_argument("--cores", type=int, default=512, help="physical cores (512)")
    parser.add_argument("--threads", type=int, default=2, help="CPUs per core (2)")
    parser.add_argument("--nodes", type=int, default=2, help="NUMA nodes (2)")
    parser.add_argument("--dp-cores", type=int, default=480, help="dataplane lists (480)")
    parser.add_argument("--cp-cores", type=int, default=1, help="controlplane cores (1)")
    parser.add_argument("--tasks", type=int, default=4000, help="dead tasks (4000)")
    args = parser.parse_args()

    machine = Machine(args.cores, args.threads, args.nodes)
    pools = plan_pools(machine, args.dp_cores, args.cp_cores)
    slots = assign_tasks(pools, args.tasks)
    pids = dead_pids(args.tasks)
    tasks = [(pool, cpulist, pid, owner_id(i, pid, pool))
             for i, ((pool, cpulist), pid) in enumerate(zip(slots, pids))]
    write_config(args.outdir, pools, tasks)
    if args.sysfs:
        write_sysfs(args.sysfs, machine)
    lists = sum(len(lists) for _, lists in pools.values())
    print("gen_config: %s: %d CPUs, %d CPU lists, %d dead tasks with their owner records"
          % (args.outdir, args.cores * args.threads, lists, len(tasks)), file=sys.stderr)


if __name__ == "__main__":
    main()
