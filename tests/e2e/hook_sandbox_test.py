#!/usr/bin/env python3
"""kcm-hook's file sandbox (Landlock, docs/hook.md "Confinement") observed from outside:
on the path of a container that asks for CPUs the hook says which Landlock ABI confines
it, and it cannot write a cgroup other than the one it found for the container before it
confined itself, even one that a path it already holds names later."""

import ctypes
import fcntl
import json
import os
import shutil
import subprocess

import kcm_e2e
from kcm_e2e import make_temp_dir, run_hook, wait_for, write_config_dir

DATAPLANE = {"kcm.intel.com/pool": "dataplane"}
LANDLOCK_CREATE_RULESET = 444  # the generic syscall table's number: x86_64, arm64
LANDLOCK_CREATE_RULESET_VERSION = 1


def kernel_landlock_abi():
    """The Landlock ABI this kernel offers, 0 when it has none."""
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                       ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return max(abi, 0)


class HookSandboxTest(kcm_e2e.ConfTestCase):

    def setUp(self):
        self.tmp = make_temp_dir(self.addCleanup, "kcm-e2e-sandbox-")
        self.conf = write_config_dir(os.path.join(self.tmp, "conf"))
        self.target = subprocess.Popen(["sleep", "60"])
        self.addCleanup(self.target.wait)
        self.addCleanup(self.target.kill)

    def state(self):
        return {"ociVersion": "1.0.2", "id": "hook-sandbox", "status": "creating",
                "pid": self.target.pid, "bundle": "/nonexistent", "annotations": DATAPLANE}

    def test_annotated_path_names_the_kernels_landlock_abi(self):
        abi = kernel_landlock_abi()
        r = run_hook("prestart", self.state(), self.conf,
                     env={"KCM_LOG_LEVEL": "debug"})
        self.assertEqual(r.returncode, 0, r.stderr)
        expected = ("file access confined by Landlock ABI %d" % abi if abi
                    else "file access not confined: this kernel has no Landlock")
        self.assertIn("kcm-hook: debug: " + expected, r.stderr.decode())

    def test_cgroup_other_than_the_containers_cannot_be_written(self):
        if kernel_landlock_abi() == 0:
            self.skipTest("this kernel has no Landlock: the hook runs without a file sandbox")
        # A procfs whose mountinfo puts a cgroup v1 cpuset hierarchy at <tmp>/cgroup and
        # whose cgroup file puts the target in /found. The hook looks the cgroup up once,
        # before it confines itself; while the test holds the lock, the hook has confined
        # itself and waits. The test then renames found away and other to found: the path
        # the hook writes is the one it found, but Landlock's rule holds the directory,
        # not its name, so the other cgroup under that path cannot be written.
        cgroup = os.path.join(self.tmp, "cgroup")
        for name in ("found", "other"):
            os.makedirs(os.path.join(cgroup, name))
            open(os.path.join(cgroup, name, "cpuset.cpus"), "w").close()
        proc = os.path.join(self.tmp, "proc")
        pid_dir = os.path.join(proc, str(self.target.pid))
        os.makedirs(os.path.join(pid_dir, "task", str(self.target.pid)))
        os.makedirs(os.path.join(proc, "self"))
        with open(os.path.join(proc, "self", "mountinfo"), "w") as f:
            f.write("40 30 0:40 / %s rw,relatime shared:9 - cgroup cgroup rw,cpuset\n" % cgroup)
        shutil.copy("/proc/%d/stat" % self.target.pid, os.path.join(pid_dir, "stat"))
        shutil.copy("/proc/%d/status" % self.target.pid, os.path.join(pid_dir, "status"))
        cgroup_file = os.path.join(pid_dir, "cgroup")
        with open(cgroup_file, "w") as f:
            f.write("3:cpuset:/found\n")

        state = os.path.join(self.tmp, "state.json")
        with open(state, "w") as f:
            json.dump(self.state(), f)
        lock_path = os.path.join(self.conf, "lock")
        with open(lock_path, "a") as lock, open(state) as stdin:
            fcntl.flock(lock, fcntl.LOCK_EX)
            env = dict(os.environ, KCM_PROC_FS=proc, KCM_LOCK_TIMEOUT="20")
            hook = subprocess.Popen([kcm_e2e.HOOK, "--conf-dir=" + self.conf, "prestart"],
                                    stdin=stdin, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env)
            self.addCleanup(kcm_e2e.kill_process, hook)
            self.assertTrue(wait_for(lambda: holds_open(hook.pid, lock_path)),
                            "kcm-hook never opened %s" % lock_path)
            os.rename(os.path.join(cgroup, "found"), os.path.join(cgroup, "found.old"))
            os.rename(os.path.join(cgroup, "other"), os.path.join(cgroup, "found"))
        _, stderr = hook.communicate(timeout=30)
        stderr = stderr.decode()
        self.assertEqual(hook.returncode, 1, stderr)
        self.assertIn('open "%s/found/cpuset.cpus": Permission denied' % cgroup, stderr)
        self.assertIn("(allocation rolled back)", stderr)
        for name in ("found", "found.old"):  # the other cgroup, and the one found
            with open(os.path.join(cgroup, name, "cpuset.cpus")) as f:
                self.assertEqual(f.read(), "")
        self.assert_all_free()


def holds_open(pid, path):
    """Whether process `pid` has `path` open."""
    fds = "/proc/%d/fd" % pid
    try:
        return any(os.readlink(os.path.join(fds, fd)) == path for fd in os.listdir(fds))
    except FileNotFoundError:
        return False


if __name__ == "__main__":
    kcm_e2e.main()
