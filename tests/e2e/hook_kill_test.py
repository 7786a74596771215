#!/usr/bin/env python3
"""kcm-hook and the config directory's lock: an unannotated container never takes it,
and a hook SIGKILLed anywhere — waiting for the lock or in the middle of its
transaction — leaves a directory that is consistent and that `kcm reconcile` cleans."""

import json
import os
import random
import signal
import subprocess
import time

import kcm_e2e
from kcm_e2e import (HOOK, KCM, TWO_CPU_POOLS, make_temp_dir, read_owners, read_tasks, run_hook,
                     wait_for, write_config_dir)


class HeldLock:
    """`flock` (util-linux) holding <conf>/lock exclusively until stopped."""

    def __init__(self, conf):
        self.path = os.path.join(conf, "lock")
        self.proc = subprocess.Popen(["flock", "-x", self.path, "sleep", "120"],
                                     start_new_session=True)
        if not wait_for(lambda: subprocess.run(["flock", "-n", self.path, "true"]).returncode,
                        10, 0.01):
            raise AssertionError("flock did not take the lock")

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


class HookLockTest(kcm_e2e.ConfTestCase):

    def setUp(self):
        self.tmp = make_temp_dir(self.addCleanup, "kcm-e2e-kill-")
        self.conf = write_config_dir(os.path.join(self.tmp, "conf"))
        self.targets = []

    def tearDown(self):
        for t in self.targets:
            t.kill()
            t.wait()

    def target(self):
        t = subprocess.Popen(["sleep", "120"])
        self.targets.append(t)
        return t

    def state(self, owner, pid, annotations):
        return {"ociVersion": "1.0.2", "id": owner, "pid": pid, "annotations": annotations}

    def reconcile(self):
        r = subprocess.run([KCM, "reconcile", "--conf-dir=" + self.conf], capture_output=True,
                           text=True, env=dict(os.environ, KCM_PROC_FS="/proc"), timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def assert_consistent(self):
        """What reservation.h promises for a holder killed at any point: every task has an
        owner record with that pid, pool and list; exclusive lists hold at most one task;
        every record parses (read_owners would raise on a torn file)."""
        owners = read_owners(self.conf)
        by_pid = {r["pid"]: r for r in owners.values()}
        for (pool, cpulist), pids in read_tasks(self.conf).items():
            if TWO_CPU_POOLS[pool][0]:
                self.assertLessEqual(len(pids), 1, (pool, cpulist, pids))
            for pid in pids:
                self.assertIn(pid, by_pid, "task %d of %s/%s has no owner" % (pid, pool, cpulist))
                self.assertEqual(by_pid[pid]["pool"], pool)
                self.assertIn(cpulist, by_pid[pid]["cpuLists"])

    def test_unannotated_container_does_not_take_the_lock(self):
        lock = HeldLock(self.conf)
        try:
            pid = self.target().pid
            for stage in ("prestart", "poststop"):
                start = time.monotonic()
                r = run_hook(stage, self.state("plain", pid, {"app": "x"}), self.conf,
                             env={"KCM_LOCK_TIMEOUT": "5"})
                self.assertEqual((r.returncode, r.stderr), (0, b""))
                self.assertLess(time.monotonic() - start, 1.0)
            # The same call for an annotated container does wait for the lock, and says
            # who holds it when it gives up.
            start = time.monotonic()
            r = run_hook("prestart", self.state("pinned", pid,
                                                {"kcm.intel.com/pool": "dataplane"}),
                         self.conf, env={"KCM_LOCK_TIMEOUT": "1"})
            self.assertGreaterEqual(time.monotonic() - start, 1.0)
            self.assertEqual(r.returncode, 1)
            self.assertIn('lock "%s"' % lock.path, r.stderr.decode())
            self.assertIn("timed out", r.stderr.decode())
        finally:
            lock.stop()
        self.assert_all_free()

    def test_kill_while_waiting_for_the_lock_changes_nothing(self):
        lock = HeldLock(self.conf)
        try:
            hook = subprocess.Popen([HOOK, "--conf-dir=" + self.conf, "prestart"],
                                    stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
            hook.stdin.write(json.dumps(self.state(
                "waiting", self.target().pid, {"kcm.intel.com/pool": "dataplane"})).encode())
            hook.stdin.close()
            time.sleep(0.3)
            self.assertIsNone(hook.poll(), "the hook did not wait for the lock")
            hook.kill()
            hook.wait()
        finally:
            lock.stop()
        self.assert_all_free()
        # The kernel dropped both locks: the next hook gets it at once.
        r = run_hook("prestart", self.state("next", self.target().pid,
                                            {"kcm.intel.com/pool": "dataplane"}),
                     self.conf, env={"KCM_LOCK_TIMEOUT": "2"})
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_kill_at_random_points_leaves_a_directory_reconcile_cleans(self):
        rng = random.Random(int(os.environ.get("KCM_E2E_SEED", "0")) or None)
        pools = [{"kcm.intel.com/pool": "dataplane"},
                 {"kcm.intel.com/pool": "infra"},
                 {"kcm.intel.com/pool": "dataplane", "kcm.intel.com/cores": "2"}]
        # Kill delays spread over one whole hook run, measured here (the machine's fsync
        # speed dominates it), so kills land before, inside and after the transaction.
        runs = []
        for i in range(3):
            start = time.monotonic()
            run_hook("prestart", self.state("measure", self.target().pid, pools[0]), self.conf)
            runs.append(time.monotonic() - start)
            run_hook("poststop", self.state("measure", 0, pools[0]), self.conf)
        span = sorted(runs)[1] * 1.2
        completed = killed = 0
        for i in range(60):
            target = self.target()
            state = json.dumps(self.state("kill-%d" % i, target.pid, pools[i % 3])).encode()
            hook = subprocess.Popen([HOOK, "--conf-dir=" + self.conf, "prestart"],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            hook.stdin.write(state)
            hook.stdin.close()
            time.sleep(rng.uniform(0, span))
            hook.kill()
            if hook.wait() == -signal.SIGKILL:
                killed += 1
            else:
                completed += 1
            target.kill()
            target.wait()
            self.assert_consistent()
            if i % 5 == 4:
                self.reconcile()
                self.assert_all_free()
        self.reconcile()
        self.assert_all_free()
        # Both outcomes happened, or the delays did not probe the transaction at all.
        self.assertGreater(killed, 0)
        self.assertGreater(completed, 0)
        print("\n%d hooks killed, %d completed (one run: %.1f ms)" % (killed, completed,
                                                                   span / 1.2 * 1000))


if __name__ == "__main__":
    kcm_e2e.main("KCM_BIN")
