#!/usr/bin/env python3
"""What an operator does with pinned runc containers: `kcm reconcile --repair` gives back
a mask changed by hand, `kcm describe --owner` explains an allocation, and
`kcm.intel.com/memory: local` writes the container's cpuset.mems (docs/cli.md, docs/hook.md)."""

import json
import os
import subprocess

import kcm_e2e
from kcm_e2e import (ALLOWED_LIST, DATAPLANE_CPUS, DATAPLANE_LISTS, KCM, affinity, cpu_list,
                     expand_cpus, read_owners, owner_file)


def kcm(*args, check=True):
    """`kcm args...` on this machine's /proc: (returncode, stdout, stderr)."""
    r = subprocess.run([KCM] + list(args), capture_output=True, text=True,
                       env=dict(os.environ, KCM_PROC_FS="/proc"), timeout=60)
    if check and r.returncode != 0:
        raise AssertionError("kcm %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr))
    return r.returncode, r.stdout, r.stderr


def init_pid(runtime, container_id):
    r = subprocess.run(runtime.command("state", container_id), capture_output=True, text=True,
                       check=True, timeout=30)
    return json.loads(r.stdout)["pid"]


def cpuset_dir(pid):
    """The host directory of `pid`'s cpuset cgroup (v1 cpuset hierarchy, else v2)."""
    with open("/proc/%d/cgroup" % pid) as f:
        lines = f.read().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "cpuset" in controllers.split(","):
            return "/sys/fs/cgroup/cpuset" + path
    path = next(l.split(":", 2)[2] for l in lines if l.startswith("0::"))
    return "/sys/fs/cgroup" + path


def read(path):
    with open(path) as f:
        return f.read().strip()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class RepairTest(kcm_e2e.RuntimeTestCase):
    RUNTIME = "runc"

    @kcm_e2e.needs_cpus(2)
    def test_repair_gives_back_a_mask_and_cpuset_changed_by_hand(self):
        c = self.started("repair", {"kcm.intel.com/pool": "dataplane"})
        pid = init_pid(self.runtime, c.id)
        cpus, _ = self.one_dataplane_list()
        self.assert_pinned(pid, c.id)
        (other,) = [cpu for cpu in DATAPLANE_CPUS if cpu_list([cpu]) != cpus]
        # By hand: the cgroup widened to both CPUs, then the init process moved to the
        # other one (within a one-CPU cpuset taskset could not move it).
        cgroup = cpuset_dir(pid)
        write(os.path.join(cgroup, "cpuset.cpus"), cpu_list(DATAPLANE_CPUS))
        subprocess.run(["taskset", "-a", "-p", "-c", str(other), str(pid)], check=True,
                       capture_output=True, timeout=30)
        self.assertEqual(affinity(pid), [other])

        # Plain reconcile reports the mismatch and changes nothing.
        _, out, _ = kcm("reconcile", "--conf-dir=" + self.conf)
        doc = json.loads(out)
        self.assertNotIn("repairedCpuMasks", doc)
        self.assertEqual(doc["mismatchedCpuMasks"],
                         [{"actualCpus": [other], "cpus": cpus, "pid": pid, "pool": "dataplane"}])
        self.assertEqual(affinity(pid), [other])

        _, out, _ = kcm("reconcile", "--repair", "--conf-dir=" + self.conf)
        doc = json.loads(out)
        self.assertEqual(doc["repairedCpuMasks"],
                         [{"cgroup": cgroup, "cpus": cpus, "pid": pid, "pool": "dataplane",
                           "previousCpus": [other]}])
        self.assertEqual(affinity(pid), expand_cpus(cpus))
        self.assertEqual(read(os.path.join(cgroup, "cpuset.cpus")), cpus)
        self.assert_pinned(pid, c.id)

        # Repaired: the next round finds nothing to report or repair.
        _, out, _ = kcm("reconcile", "--repair", "--conf-dir=" + self.conf)
        doc = json.loads(out)
        self.assertEqual(doc["mismatchedCpuMasks"], [])
        self.assertEqual(doc["repairedCpuMasks"], [])
        c.stop()
        self.assert_all_free()


def sysfs_nodes_of(cpus):
    """The NUMA nodes of `cpus` as this machine's sysfs lists them (cpuN/nodeM entries)."""
    nodes = set()
    for cpu in cpus:
        d = "/sys/devices/system/cpu/cpu%d" % cpu
        nodes.update(int(n[4:]) for n in os.listdir(d) if n.startswith("node") and n[4:].isdigit())
    return sorted(nodes)


def isolated_cpus():
    try:
        text = read("/sys/devices/system/cpu/isolated")
    except FileNotFoundError:
        return []
    return expand_cpus(text) if text else []


class DescribeOwnerTest(kcm_e2e.RuntimeTestCase):
    RUNTIME = "runc"

    def test_describe_owner_explains_a_real_allocation(self):
        c = self.started("explain", {"kcm.intel.com/pool": "dataplane"})
        pid = init_pid(self.runtime, c.id)
        cpus, _ = self.one_dataplane_list()
        _, out, _ = kcm("describe", "--owner=" + c.id, "--conf-dir=" + self.conf)
        doc = json.loads(out)
        reason = {"candidates": len(DATAPLANE_LISTS) - 1, "freeLists": len(DATAPLANE_LISTS),
                  "isolated": bool(expand_cpus(cpus)) and
                  set(expand_cpus(cpus)) <= set(isolated_cpus()),
                  "numaNodes": sysfs_nodes_of(expand_cpus(cpus)),
                  "rule": "exclusive-lowest-free"}
        record = read_owners(self.conf)[owner_file(c.id)]
        self.assertEqual(record["reason"], reason)
        self.assertEqual(doc, {
            "cpuLists": {cpus: cpus}, "cpus": cpus, "created": record["created"],
            "masks": {"match": True, "threads": [
                {"actualCpus": expand_cpus(cpus), "match": True, "tid": pid}]},
            "owner": c.id, "pid": pid, "pool": "dataplane", "reason": reason,
            "running": True, "startTime": record["startTime"]})

        # Moved by hand (within the cgroup, widened first): describe sees the mismatch.
        if len(DATAPLANE_CPUS) > 1:
            write(os.path.join(cpuset_dir(pid), "cpuset.cpus"), cpu_list(DATAPLANE_CPUS))
            subprocess.run(["taskset", "-a", "-p", "-c", cpu_list(DATAPLANE_CPUS), str(pid)],
                           check=True, capture_output=True, timeout=30)
            _, out, _ = kcm("describe", "--owner=" + c.id, "--conf-dir=" + self.conf)
            self.assertFalse(json.loads(out)["masks"]["match"])

        # The plain document is unchanged by it.
        _, out, _ = kcm("describe", "--conf-dir=" + self.conf)
        self.assertEqual(sorted(json.loads(out)), ["path", "pools"])
        c.stop()
        self.assert_all_free()

    def test_unknown_owner_is_exit_1_with_a_message(self):
        rc, out, err = kcm("describe", "--owner=nobody", "--conf-dir=" + self.conf, check=False)
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(err, 'kcm: error: describe owner "nobody": no owner record in "%s/owners" '
                         "(a container id, or isolate-<pid> for kcm isolate)\n" % self.conf)


def with_hook_env(container, env):
    """Gives `container`'s hooks the environment `env` ({name: value})."""
    path = os.path.join(container.bundle, "config.json")
    with open(path) as f:
        spec = json.load(f)
    for hooks in spec["hooks"].values():
        for hook in hooks:
            hook["env"] = ["%s=%s" % item for item in env.items()]
    with open(path, "w") as f:
        json.dump(spec, f, indent=2)


class MemoryLocalTest(kcm_e2e.RuntimeTestCase):
    RUNTIME = "runc"
    LOCAL = {"kcm.intel.com/pool": "dataplane", "kcm.intel.com/memory": "local"}

    def test_memory_local_sets_cpuset_mems_to_the_cpus_node(self):
        c = self.started("mem", self.LOCAL)
        pid = init_pid(self.runtime, c.id)
        cpus, _ = self.one_dataplane_list()
        self.assert_pinned(pid, c.id)
        nodes = sysfs_nodes_of(expand_cpus(cpus)) or [0]
        self.assertEqual(read(os.path.join(cpuset_dir(pid), "cpuset.mems")), cpu_list(nodes))
        c.stop()
        self.assert_all_free()

    def test_without_the_annotation_cpuset_mems_is_left_alone(self):
        c = self.started("nomem", {"kcm.intel.com/pool": "dataplane"})
        pid = init_pid(self.runtime, c.id)
        parent = os.path.dirname(cpuset_dir(pid))
        self.assertEqual(read(os.path.join(cpuset_dir(pid), "cpuset.mems")),
                         read(os.path.join(parent, "cpuset.mems")))

    def test_other_value_is_refused_and_nothing_is_held(self):
        c = self.new_container("badmem", {"kcm.intel.com/pool": "dataplane",
                                          "kcm.intel.com/memory": "remote"})
        rc, err = c.start()
        self.assertNotEqual(rc, 0)
        self.assertIn('annotation "kcm.intel.com/memory"="remote": not a memory policy: '
                      'the only one is "local"', err.replace('\\"', '"'))
        self.assert_all_free()

    def test_node_without_memory_is_refused_and_rolled_back(self):
        # A sysfs whose one node holds every CPU and has no memory.
        sysfs = os.path.join(self.work, "sys")
        node = os.path.join(sysfs, "devices/system/node")
        os.makedirs(os.path.join(node, "node0"))
        write(os.path.join(node, "node0/cpulist"), ALLOWED_LIST + "\n")
        write(os.path.join(node, "has_memory"), "1\n")
        c = self.new_container("nomemnode", self.LOCAL)
        with_hook_env(c, {"KCM_SYS_FS": sysfs})
        rc, err = c.start()
        self.assertNotEqual(rc, 0)
        self.assertIn("(allocation rolled back): annotation \"kcm.intel.com/memory\"=\"local\": "
                      "NUMA node 0 of CPUs ", err.replace('\\"', '"'))
        self.assertIn(" has no memory", err)
        self.assert_all_free()


if __name__ == "__main__":
    kcm_e2e.main("KCM_BIN")
