#!/usr/bin/env python3
"""Owner identity: one owner record never stands for two live containers, so an exclusive
CPU list never ends up under two of them.

An id that is not safe as a file name is recorded as "sha256+<hex>", which no safe id
(such as that hex itself) can name. A second live container with the id of a live holder
(two containerd namespaces or two runc roots allow it) is refused, and its poststop leaves
the first holder alone; a holder whose process is gone is replaced. The hook is called
directly on `sleep` processes, then under runc with two state roots."""

import hashlib
import json
import os
import signal
import subprocess

import kcm_e2e
from kcm_e2e import (DATAPLANE_CPUS, DATAPLANE_LISTS, affinity, expand_cpus, host_cpuset_cpus,
                     make_temp_dir, needs_cpus, owner_file, read_owners, read_tasks, run_hook,
                     start_time, wait_for, write_config_dir, write_owner, write_tasks)

DATAPLANE = {"kcm.intel.com/pool": "dataplane"}
FIRST_CPU = DATAPLANE_CPUS[0]  # that of the first dataplane list
FIRST_LIST = DATAPLANE_LISTS[0]

# Ids a runtime accepts that are no file name: a slash (containerd allows it), a space,
# 129 characters, a leading dot, non-ASCII.
UNSAFE_IDS = ["a/b", "id with space", "x" * 129, ".hidden", "ünïcødé-☃"]


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


class HookIdentityTest(kcm_e2e.ConfTestCase):

    def setUp(self):
        self.tmp = make_temp_dir(self.addCleanup, "kcm-e2e-identity-")
        self.confs = 0
        self.targets = []

    def tearDown(self):
        for t in self.targets:
            t.kill()
            t.wait()

    def new_conf(self):
        self.confs += 1
        self.conf = write_config_dir(os.path.join(self.tmp, "conf-%d" % self.confs))

    def target(self):
        t = subprocess.Popen(["sleep", "120"])
        self.targets.append(t)
        return t

    def stop(self, target):
        """Ends a container's process, as every runtime does before its poststop."""
        target.kill()
        target.wait()

    def prestart(self, owner, target):
        return run_hook("prestart", {"ociVersion": "1.0.2", "id": owner, "pid": target.pid,
                                     "annotations": DATAPLANE}, self.conf)

    def poststop(self, owner):
        # runc sends no pid at poststop.
        return run_hook("poststop", {"ociVersion": "1.0.2", "id": owner,
                                     "annotations": DATAPLANE}, self.conf)

    def assert_ok(self, result):
        self.assertEqual(result.returncode, 0, result.stderr.decode())

    def snapshot(self):
        return read_tasks(self.conf), read_owners(self.conf)

    @needs_cpus(2)
    def test_unsafe_id_and_its_hash_are_two_holders(self):
        for unsafe in UNSAFE_IDS:
            for first, second in ((unsafe, sha256_hex(unsafe)), (sha256_hex(unsafe), unsafe)):
                with self.subTest(first=first, second=second):
                    self.new_conf()
                    t1, t2 = self.target(), self.target()
                    self.assert_ok(self.prestart(first, t1))
                    self.assert_ok(self.prestart(second, t2))
                    r1 = self.assert_pinned(t1.pid, first)
                    r2 = self.assert_pinned(t2.pid, second)
                    self.assertNotEqual(r1["cpuLists"], r2["cpuLists"])
                    self.assertEqual(sorted(read_owners(self.conf)),
                                     sorted(["sha256+%s.json" % sha256_hex(unsafe),
                                             sha256_hex(unsafe) + ".json"]))
                    self.assert_no_shared_cpu()
                    # Each poststop releases its own record and nothing of the other.
                    self.stop(t1)
                    self.assert_ok(self.poststop(first))
                    self.assertEqual(read_owners(self.conf), {owner_file(second): r2})
                    self.assert_pinned(t2.pid, second)
                    self.stop(t2)
                    self.assert_ok(self.poststop(second))
                    self.assert_all_free()

    def test_same_id_is_refused_while_its_holder_lives(self):
        for owner in ("kcm-e2e-same", "a/b"):
            with self.subTest(owner=owner):
                self.new_conf()
                t1, t2 = self.target(), self.target()
                self.assert_ok(self.prestart(owner, t1))
                record = self.assert_pinned(t1.pid, owner)
                before = self.snapshot()
                unpinned = affinity(t2.pid)
                r = self.prestart(owner, t2)
                self.assertEqual(r.returncode, 1, r.stderr.decode())
                self.assertIn('"%s"' % owner, r.stderr.decode())
                self.assertIn("already holds CPU lists for live pid %d" % t1.pid,
                              r.stderr.decode())
                self.assertEqual(self.snapshot(), before)
                self.assertEqual(self.assert_pinned(t1.pid, owner), record)
                self.assertEqual(affinity(t2.pid), unpinned)
                # The refused container's runtime runs its poststop once its process is
                # gone; the first holder still runs and keeps its lists.
                self.stop(t2)
                r = self.poststop(owner)
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                self.assertNotEqual(r.stderr, b"", "poststop of a live holder did not warn")
                self.assertEqual(self.snapshot(), before)
                self.assert_pinned(t1.pid, owner)
                self.assert_no_shared_cpu()
                self.stop(t1)
                self.assert_ok(self.poststop(owner))
                self.assert_all_free()

    def test_holder_whose_process_is_gone_is_replaced(self):
        for gone in ("dead", "zombie", "reused"):
            with self.subTest(gone=gone):
                self.new_conf()
                t1, t2 = self.target(), self.target()
                if gone == "reused":
                    # The record names t1's pid with another start time: the pid now
                    # belongs to another process.
                    write_owner(self.conf, "replaced", t1.pid, "dataplane", [FIRST_LIST],
                                start=start_time(t1.pid) + 1)
                    write_tasks(self.conf, "dataplane", FIRST_LIST, [t1.pid])
                else:
                    self.assert_ok(self.prestart("replaced", t1))
                    self.assert_pinned(t1.pid, "replaced")
                    if gone == "dead":
                        self.stop(t1)
                    else:
                        os.kill(t1.pid, signal.SIGKILL)  # not reaped: a zombie
                        self.assertTrue(wait_for(lambda: start_time(t1.pid) is None, 10))
                self.assert_ok(self.prestart("replaced", t2))
                self.assert_pinned(t2.pid, "replaced")
                self.assertNotIn(t1.pid, sum(read_tasks(self.conf).values(), []))
                self.assertEqual(list(read_owners(self.conf)), ["replaced.json"])
                self.assert_no_shared_cpu()

    def test_record_of_another_owner_is_not_taken_over(self):
        # A record of "a/b" in the file its hash names (where a kcm that named records by
        # the bare hash put it) is not the record of the container whose id is that hash.
        self.new_conf()
        t1, t2 = self.target(), self.target()
        os.sched_setaffinity(t1.pid, {FIRST_CPU})
        write_owner(self.conf, "a/b", t1.pid, "dataplane", [FIRST_LIST],
                    file=sha256_hex("a/b") + ".json")
        write_tasks(self.conf, "dataplane", FIRST_LIST, [t1.pid])
        before = read_owners(self.conf)
        self.prestart(sha256_hex("a/b"), t2)
        self.assertEqual(read_owners(self.conf)[sha256_hex("a/b") + ".json"],
                         before[sha256_hex("a/b") + ".json"])
        self.assertEqual(read_tasks(self.conf)[("dataplane", FIRST_LIST)], [t1.pid])
        self.assertEqual(affinity(t1.pid), [FIRST_CPU])
        self.assert_holder(t2.pid)
        self.assertEqual(kcm_e2e.holding_errors(self.conf), [])

    def test_poststop_leaves_a_record_of_another_owner(self):
        # The record's holder is gone, so only the owner field keeps poststop of the
        # container whose id is the hash from releasing the record of "a/b".
        self.new_conf()
        gone = self.target()
        self.stop(gone)
        write_owner(self.conf, "a/b", gone.pid, "dataplane", [FIRST_LIST], start=1,
                    file=sha256_hex("a/b") + ".json")
        write_tasks(self.conf, "dataplane", FIRST_LIST, [gone.pid])
        before = self.snapshot()
        self.assert_ok(self.poststop(sha256_hex("a/b")))
        self.assertEqual(self.snapshot(), before)

    def test_node_report_flags_two_live_holders_of_one_exclusive_list(self):
        self.new_conf()
        t1, t2 = self.target(), self.target()
        write_tasks(self.conf, "dataplane", FIRST_LIST, [t1.pid, t2.pid])
        self.assertNotEqual(kcm_e2e.shared_exclusive_lists(self.conf), [])
        self.assert_owners_check(False)


def set_cgroups_path(bundle, path):
    """runc names a container's cgroup after its id when the spec names none, so two
    containers of one id in two runc roots would share one cgroup."""
    config = os.path.join(bundle, "config.json")
    with open(config) as f:
        spec = json.load(f)
    spec["linux"]["cgroupsPath"] = path
    with open(config, "w") as f:
        json.dump(spec, f, indent=2)


class RuncSameIdTest(kcm_e2e.RuntimeTestCase):
    RUNTIME = "runc"

    def container(self, root):
        """Container "same" in runc state directory `root` (one bundle per root)."""
        work = os.path.join(self.work, root)
        os.makedirs(work)
        runtime = kcm_e2e.Runtime("runc", root=os.path.join(self.work, root + "-state"))
        c = kcm_e2e.Container(runtime, work, self.rootfs, self.conf, "same", DATAPLANE)
        set_cgroups_path(c.bundle, "/%s-%s" % (c.id, root))
        self.containers.append(c)
        return c

    def test_same_id_in_a_second_runc_root_is_refused(self):
        first = self.container("one")
        rc, err = first.start()
        self.assertEqual(rc, 0, err)
        first.wait_ready()
        cpus, cpuset = first.seen()
        state = subprocess.run(first.runtime.command("state", first.id), check=True,
                               capture_output=True, text=True, timeout=30)
        pid = json.loads(state.stdout)["pid"]
        self.assert_pinned(pid, first.id)
        before = (read_tasks(self.conf), read_owners(self.conf))

        second = self.container("two")
        self.assertEqual(second.id, first.id)
        rc, err = second.start()
        self.assertNotEqual(rc, 0, "runc started a second container with the id of a live one")
        # runc prints a failing hook's stderr in its own (logrus-quoted) error.
        err = err.replace('\\"', '"')
        self.assertIn('kcm-hook: prestart container "%s"' % first.id, err)
        self.assertIn("already holds CPU lists for live pid %d" % pid, err)
        self.assertEqual((read_tasks(self.conf), read_owners(self.conf)), before)
        self.assertEqual(affinity(pid), expand_cpus(cpus))
        self.assertEqual(host_cpuset_cpus(pid), cpuset)
        self.assert_pinned(pid, first.id)
        self.assert_no_shared_cpu()
        first.stop()
        self.assert_all_free()


if __name__ == "__main__":
    kcm_e2e.main("KCM_BIN")
