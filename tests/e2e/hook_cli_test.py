#!/usr/bin/env python3
"""kcm-hook called directly, as a runtime calls it, on host processes: its arguments,
its input checks (each leaves the config directory as it was), pinning, re-application,
release and rollback."""

import json
import os
import shutil
import socket
import subprocess

import kcm_e2e
from kcm_e2e import (ALLOWED_LIST, DATAPLANE_LISTS, cpus_allowed_list, make_temp_dir, needs_cpus,
                     read_owners, read_tasks, run_hook, write_config_dir)

DATAPLANE = {"kcm.intel.com/pool": "dataplane"}


def affinity(pid):
    with open("/proc/%d/status" % pid) as f:
        cpus = cpus_allowed_list(f.read())
    if cpus is None:
        raise AssertionError("no Cpus_allowed_list for %d" % pid)
    return cpus


class HookCliTest(kcm_e2e.ConfTestCase):

    def setUp(self):
        self.tmp = make_temp_dir(self.addCleanup, "kcm-e2e-hook-")
        self.conf = write_config_dir(os.path.join(self.tmp, "conf"))
        self.target = subprocess.Popen(["sleep", "60"])

    def tearDown(self):
        self.target.kill()
        self.target.wait()

    def state(self, annotations, **fields):
        s = {"ociVersion": "1.0.2", "id": "hook-cli", "status": "creating",
             "pid": self.target.pid, "bundle": "/nonexistent", "annotations": annotations}
        s.update(fields)
        return s

    def stop_target(self):
        """Ends the target as a runtime does before poststop (runc, crun and conmon run
        poststop after the container's init has exited): a live holder keeps its lists."""
        self.target.kill()
        self.target.wait()

    def snapshot(self):
        return read_tasks(self.conf), read_owners(self.conf)

    def assert_refused(self, result, exit_code, message):
        self.assertEqual(result.returncode, exit_code, result.stderr)
        self.assertIn(message, result.stderr.decode())
        self.assertTrue(result.stderr.decode().startswith("kcm-hook: "), result.stderr)

    def assert_untouched(self):
        """Nothing held, and the target still runs on every CPU it inherited from us."""
        self.assert_all_free()
        self.assertEqual(affinity(self.target.pid), ALLOWED_LIST)

    # --- arguments ---

    def test_missing_stage_is_usage_error(self):
        r = subprocess.run([kcm_e2e.HOOK], input=b"{}", capture_output=True)
        self.assert_refused(r, 2, "kcm-hook: no STAGE given")

    def test_unknown_stage_is_usage_error(self):
        r = run_hook("poststart", self.state(DATAPLANE), self.conf)
        self.assert_refused(r, 2, 'unknown STAGE "poststart"')
        self.assert_untouched()

    def test_extra_argument_is_usage_error(self):
        r = subprocess.run([kcm_e2e.HOOK, "prestart", "poststop"], input=b"{}",
                           capture_output=True)
        self.assert_refused(r, 2, 'unexpected argument "poststop"')

    def test_conf_dir_as_separate_argument(self):
        r = subprocess.run([kcm_e2e.HOOK, "--conf-dir", self.conf, "prestart"],
                           input=json.dumps(self.state(DATAPLANE)).encode(),
                           capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(read_owners(self.conf)), 1)

    # --- which containers ---

    def test_unannotated_container_needs_no_config_dir(self):
        r = run_hook("prestart", self.state({"io.kubernetes.cri.container-name": "x"}),
                     os.path.join(self.tmp, "missing"))
        self.assertEqual((r.returncode, r.stderr), (0, b""))

    def test_sandbox_needs_no_config_dir(self):
        r = run_hook("prestart", self.state(dict(DATAPLANE, **{
            "io.kubernetes.cri.container-type": "sandbox"})), os.path.join(self.tmp, "x"))
        self.assertEqual((r.returncode, r.stderr), (0, b""))

    # --- bad input changes nothing ---

    def test_malformed_json_is_refused(self):
        r = run_hook("prestart", b'{"id": "x", "annotations": {', self.conf)
        self.assert_refused(r, 2, "kcm-hook: parse OCI state: malformed JSON")
        self.assert_untouched()

    def test_state_over_one_mib_is_refused(self):
        big = self.state(DATAPLANE, padding="x" * (1 << 20))
        r = run_hook("prestart", big, self.conf)
        self.assert_refused(r, 2, "OCI state is larger than 1048576 bytes")
        self.assert_untouched()

    def test_annotated_state_without_id_is_refused(self):
        s = self.state(DATAPLANE)
        del s["id"]
        self.assert_refused(run_hook("prestart", s, self.conf), 2, 'OCI state has no "id"')
        self.assert_untouched()

    def test_prestart_without_pid_is_refused(self):
        for pid in (None, 0):
            s = self.state(DATAPLANE)
            if pid is None:
                del s["pid"]
            else:
                s["pid"] = pid
            with self.subTest(pid=pid):
                self.assert_refused(run_hook("prestart", s, self.conf), 2,
                                    'OCI state has no "pid"')
                self.assert_untouched()

    def test_unknown_pool_names_annotation_and_value(self):
        r = run_hook("prestart", self.state({"kcm.intel.com/pool": "nosuch"}), self.conf)
        self.assert_refused(r, 1, 'kcm-hook: prestart container "hook-cli": annotation '
                                  '"kcm.intel.com/pool"="nosuch": pool "nosuch" does not exist')
        self.assert_untouched()

    def test_invalid_pool_name_names_annotation_and_value(self):
        r = run_hook("prestart", self.state({"kcm.intel.com/pool": "../x"}), self.conf)
        self.assert_refused(r, 2, 'annotation "kcm.intel.com/pool"="../x"')
        self.assert_untouched()

    def test_invalid_cores_names_annotation_and_value(self):
        r = run_hook("prestart", self.state(dict(DATAPLANE, **{"kcm.intel.com/cores": "65"})),
                     self.conf)
        self.assert_refused(r, 2, 'annotation "kcm.intel.com/cores"="65"')
        self.assert_untouched()

    def test_shared_pool_with_two_cores_is_refused(self):
        r = run_hook("prestart", self.state({"kcm.intel.com/pool": "infra",
                                             "kcm.intel.com/cores": "2"}), self.conf)
        self.assert_refused(r, 2, 'annotation "kcm.intel.com/pool"="infra": pool "infra" is '
                                  'shared')
        self.assert_untouched()

    def test_missing_config_dir_is_refused(self):
        r = run_hook("prestart", self.state(DATAPLANE), os.path.join(self.tmp, "missing"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(os.path.join(self.tmp, "missing"), r.stderr.decode())

    def test_vanished_process_is_refused(self):
        gone = subprocess.Popen(["true"])
        gone.wait()
        r = run_hook("prestart", self.state(DATAPLANE, pid=gone.pid), self.conf)
        self.assert_refused(r, 1, "no such process")
        self.assert_untouched()

    def test_error_reaches_syslog_through_the_seccomp_filter(self):
        # crun drops a hook's output, so syslog must work with the filter installed. The
        # hook runs in a private mount namespace whose /dev holds only our /dev/log.
        dev = os.path.join(self.tmp, "dev")
        os.makedirs(dev)
        log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            log.bind(os.path.join(dev, "log"))
            log.settimeout(10)
            state = os.path.join(self.tmp, "state.json")
            with open(state, "w") as f:
                f.write(json.dumps(self.state({"kcm.intel.com/pool": "nosuch"})))
            with open(state) as stdin:
                r = subprocess.run(
                    ["unshare", "-m", "sh", "-c", 'mount --bind "$1" /dev && exec "$2" '
                     '--conf-dir="$3" prestart', "sh", dev, kcm_e2e.HOOK, self.conf],
                    stdin=stdin, capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 1, r.stderr)
            message = log.recv(4096).decode()
        finally:
            log.close()
        self.assertIn("kcm-hook", message)
        self.assertIn('pool "nosuch" does not exist', message)

    # --- allocation ---

    def test_prestart_pins_a_root_cgroup_process_by_affinity(self):
        # The first free list: the one on the lowest CPU.
        first = DATAPLANE_LISTS[0]
        r = run_hook("prestart", self.state(DATAPLANE), self.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(affinity(self.target.pid), first)
        self.assertEqual(read_tasks(self.conf)[("dataplane", first)], [self.target.pid])
        (record,) = read_owners(self.conf).values()
        self.assertEqual((record["owner"], record["pid"], record["pool"], record["cpuLists"]),
                         ("hook-cli", self.target.pid, "dataplane", [first]))

    @needs_cpus(2)  # to move the target off its list in between
    def test_second_call_reapplies_the_same_allocation(self):
        self.assertEqual(run_hook("prestart", self.state(DATAPLANE), self.conf).returncode, 0)
        before = self.snapshot()
        subprocess.run(["taskset", "-p", "-c", ALLOWED_LIST, str(self.target.pid)],
                       check=True, capture_output=True)
        self.assertEqual(affinity(self.target.pid), ALLOWED_LIST)
        r = run_hook("createRuntime", self.state(DATAPLANE), self.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(affinity(self.target.pid), DATAPLANE_LISTS[0])

    def test_poststop_releases_and_is_idempotent(self):
        self.assertEqual(run_hook("prestart", self.state(DATAPLANE), self.conf).returncode, 0)
        self.stop_target()
        # runc sends no pid at poststop, crun sends 0.
        s = self.state(DATAPLANE, status="stopped")
        del s["pid"]
        for state in (s, self.state(DATAPLANE, status="stopped", pid=0)):
            r = run_hook("poststop", state, self.conf)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertFalse(any(read_tasks(self.conf).values()))
            self.assertEqual(read_owners(self.conf), {})

    def test_poststop_releases_despite_an_invalid_annotation(self):
        self.assertEqual(run_hook("prestart", self.state(DATAPLANE), self.conf).returncode, 0)
        self.stop_target()
        r = run_hook("poststop", self.state({"kcm.intel.com/pool": "Bad Name"}, pid=0),
                     self.conf)
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        self.assertEqual(read_owners(self.conf), {})

    def test_poststop_of_unknown_container_exits_0(self):
        r = run_hook("poststop", self.state(DATAPLANE, id="never-started"), self.conf)
        self.assertEqual((r.returncode, r.stderr), (0, b""))

    def test_failed_apply_rolls_back(self):
        # A procfs whose cgroup file puts the target in a cpuset cgroup that does not
        # exist: the write fails after the reservation was made.
        proc = os.path.join(self.tmp, "proc")
        pid_dir = os.path.join(proc, str(self.target.pid))
        os.makedirs(os.path.join(proc, "self"))
        os.makedirs(os.path.join(pid_dir, "task"))
        shutil.copy("/proc/self/mountinfo", os.path.join(proc, "self", "mountinfo"))
        shutil.copy("/proc/%d/stat" % self.target.pid, os.path.join(pid_dir, "stat"))
        with open(os.path.join(pid_dir, "cgroup"), "w") as f:
            f.write("3:cpuset:/kcm-e2e-no-such-cgroup\n0::/kcm-e2e-no-such-cgroup\n")
        r = run_hook("prestart", self.state(DATAPLANE), self.conf, env={"KCM_PROC_FS": proc})
        self.assert_refused(r, 1, "(allocation rolled back)")
        self.assertIn("kcm-e2e-no-such-cgroup/cpuset.cpus", r.stderr.decode())
        self.assert_untouched()


if __name__ == "__main__":
    kcm_e2e.main()
