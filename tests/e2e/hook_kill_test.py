#!/usr/bin/env python3
"""kcm-hook and the config directory's lock: an unannotated container never takes it,
and a hook SIGKILLed anywhere — waiting for the lock or in the middle of its
transaction — leaves a directory that is consistent, that `kcm reconcile` cleans, and
in which the runtime's retry of the hook pins its container without ever giving one
exclusive list to two live processes."""

import contextlib
import json
import os
import random
import signal
import subprocess
import time

import kcm_e2e
from kcm_e2e import (DATAPLANE_LISTS, HOOK, KCM, POOLS, holding_errors, make_temp_dir,
                     needs_cpus, owner_file, read_owners, read_tasks, run_hook,
                     shared_exclusive_lists, wait_for, write_config_dir, write_owner)

DATAPLANE = {"kcm.intel.com/pool": "dataplane"}


@contextlib.contextmanager
def stage(name):
    """Names the stage of a long loop in its first failed assertion, which ends it."""
    try:
        yield
    except AssertionError as e:
        raise AssertionError("%s: %s" % (name, e)) from None


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
            if POOLS[pool][0]:
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

    def stop(self, target):
        """Ends a container's process, as every runtime does before its poststop."""
        target.kill()
        target.wait()

    def poststop(self, owner, target, annotations):
        self.stop(target)
        r = run_hook("poststop", self.state(owner, 0, annotations), self.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(owner_file(owner), read_owners(self.conf))
        self.assertNotIn(target.pid, sum(read_tasks(self.conf).values(), []))

    # A hook killed between its owner record and its tasks leaves a record whose lists do
    # not hold its live pid; the runtime's retry must pin the container for real.

    def test_node_report_flags_a_live_record_whose_list_lacks_its_pid(self):
        target = self.target()
        write_owner(self.conf, "half", target.pid, "dataplane", DATAPLANE_LISTS[:1])
        self.assertNotEqual(holding_errors(self.conf), [])
        self.assert_owners_check(False)
        # reconcile never reclaims a live holder, and keeps its documented shape.
        self.assertEqual(sorted(self.reconcile()), ["mismatchedCpuMasks", "reclaimedCpuLists"])
        self.assertIn("half.json", read_owners(self.conf))

    @needs_cpus(2)
    def test_retry_after_a_kill_between_record_and_tasks_takes_its_list(self):
        first, second = DATAPLANE_LISTS
        target = self.target()
        write_owner(self.conf, "retry", target.pid, "dataplane", [first])
        r = run_hook("prestart", self.state("retry", target.pid, DATAPLANE), self.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.assert_pinned(target.pid, "retry")["cpuLists"], [first])
        # The next container must not be given the retried container's list.
        following = self.target()
        r = run_hook("prestart", self.state("next", following.pid, DATAPLANE), self.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.assert_pinned(following.pid, "next")["cpuLists"], [second])
        self.assert_no_shared_cpu()

    @needs_cpus(2)
    def test_retry_whose_list_was_taken_meanwhile_takes_another(self):
        # The state the retried hook's record and a later container's allocation leave:
        # the record names the list that the other container now holds.
        other = self.target()
        r = run_hook("prestart", self.state("other", other.pid, DATAPLANE), self.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        taken = self.assert_pinned(other.pid, "other")
        target = self.target()
        write_owner(self.conf, "retry", target.pid, "dataplane", taken["cpuLists"])
        r = run_hook("prestart", self.state("retry", target.pid, DATAPLANE), self.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        record = self.assert_pinned(target.pid, "retry")
        self.assertNotEqual(record["cpuLists"], taken["cpuLists"])
        self.assertEqual(self.assert_pinned(other.pid, "other"), taken)
        self.assert_no_shared_cpu()

    def test_many_concurrent_hooks_never_share_a_list(self):
        # Far more containers than lists start at the same moment, each a live process.
        hooks = 32
        lists = DATAPLANE_LISTS
        states = [json.dumps(self.state("burst-%d" % i, self.target().pid, DATAPLANE)).encode()
                  for i in range(hooks)]
        procs = [subprocess.Popen([HOOK, "--conf-dir=" + self.conf, "prestart"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE) for _ in states]
        for proc, state in zip(procs, states):
            proc.stdin.write(state)
            proc.stdin.close()
        results = [(proc.wait(timeout=60), proc.stderr.read().decode()) for proc in procs]
        for proc in procs:
            proc.stderr.close()
        pinned = [i for i, (code, _) in enumerate(results) if code == 0]
        self.assertEqual(len(pinned), len(lists), results)
        for code, err in results:
            if code != 0:
                self.assertEqual(code, 1, err)
                self.assertIn('pool "dataplane" has 0 free CPU lists', err)
        self.assertEqual(shared_exclusive_lists(self.conf), [])
        for i in pinned:
            self.assert_pinned(self.targets[i].pid, "burst-%d" % i)
        self.assert_consistent()
        for i in pinned:
            self.poststop("burst-%d" % i, self.targets[i], DATAPLANE)
        self.assert_all_free()
        print("\n%d concurrent hooks on %d lists: %d pinned, %d refused" %
              (hooks, len(lists), len(pinned), hooks - len(pinned)))

    @needs_cpus(2)
    def test_hooks_killed_at_random_points_and_retried_never_share_a_list(self):
        rng = random.Random(int(os.environ.get("KCM_E2E_SEED", "0")) or None)
        # Each round's container still runs during the next round; no two consecutive
        # requests need more than the two dataplane lists.
        pools = [DATAPLANE, DATAPLANE, {"kcm.intel.com/pool": "infra"},
                 {"kcm.intel.com/pool": "dataplane", "kcm.intel.com/cores": "2"},
                 {"kcm.intel.com/pool": "infra"}]
        # Kill delays spread over one whole hook run, measured here (the machine's fsync
        # speed dominates it), so kills land before, inside and after the transaction.
        runs = []
        for i in range(3):
            target = self.target()
            start = time.monotonic()
            run_hook("prestart", self.state("measure", target.pid, pools[0]), self.conf)
            runs.append(time.monotonic() - start)
            self.poststop("measure", target, pools[0])
        span = sorted(runs)[1] * 1.2
        completed = killed = 0
        previous = None
        for i in range(60):
            owner, target, annotations = "kill-%d" % i, self.target(), pools[i % len(pools)]
            state = json.dumps(self.state(owner, target.pid, annotations)).encode()
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
            with stage("round %d, after the kill" % i):
                self.assertEqual(shared_exclusive_lists(self.conf), [])
                self.assert_consistent()
                if previous:
                    self.assert_pinned(previous[1].pid, previous[0])
            # The runtime retries the killed hook; the retry pins the container.
            r = run_hook("prestart", state, self.conf)
            with stage("round %d, after the retry" % i):
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assert_pinned(target.pid, owner)
                if previous:
                    self.assert_pinned(previous[1].pid, previous[0])
                self.assert_no_shared_cpu()
            if previous:
                self.poststop(*previous)
            previous = (owner, target, annotations)
        self.poststop(*previous)
        self.assertEqual(self.reconcile()["reclaimedCpuLists"], [])
        self.assert_all_free()
        # Both outcomes happened, or the delays did not probe the transaction at all.
        self.assertGreater(killed, 0)
        self.assertGreater(completed, 0)
        print("\n%d hooks killed, %d completed (one run: %.1f ms)" % (killed, completed,
                                                                   span / 1.2 * 1000))


if __name__ == "__main__":
    kcm_e2e.main("KCM_BIN")
