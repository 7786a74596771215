#!/usr/bin/env python3
"""kcm-hook under podman, registered the way a host registers it: --hooks-dir holding
copies of config/hooks.d/*.json with the path rewritten to the built hook.

podman keeps all of its state in a temp dir (--root, --runroot, --tmpdir, vfs storage,
no events, no network) so the test leaves nothing behind. This machine's cgroups are
hybrid, which crun (podman's default runtime) refuses; the containers run under runc.
"""

import json
import os
import subprocess
import tempfile
import time
import unittest

import kcm_e2e
from kcm_e2e import (HOOK, PROBE, TWO_CPU_POOLS, make_rootfs, read_owners, read_tasks,
                     write_config_dir)

HOOKS_D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "config",
                       "hooks.d")
IMAGE = "localhost/kcm-busybox:e2e"
DATAPLANE = {"kcm.intel.com/pool": "dataplane"}


class PodmanTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kcm-e2e-podman-")
        cls.conf = os.path.join(cls.tmp, "conf")
        hooks = os.path.join(cls.tmp, "hooks.d")
        os.makedirs(hooks)
        for name in sorted(os.listdir(HOOKS_D)):
            with open(os.path.join(HOOKS_D, name)) as f:
                hook = json.load(f)
            hook["hook"]["path"] = HOOK
            hook["hook"]["args"] = [
                "--conf-dir=" + cls.conf if a.startswith("--conf-dir=") else a
                for a in hook["hook"]["args"]]
            with open(os.path.join(hooks, name), "w") as f:
                json.dump(hook, f)
        cls.podman = ["podman", "--root", os.path.join(cls.tmp, "root"),
                      "--runroot", os.path.join(cls.tmp, "runroot"),
                      "--tmpdir", os.path.join(cls.tmp, "libpod"),
                      "--storage-driver", "vfs", "--events-backend", "none",
                      "--cgroup-manager", "cgroupfs", "--runtime", "runc",
                      "--hooks-dir", hooks]
        rootfs = make_rootfs(os.path.join(cls.tmp, "rootfs"))
        tarball = os.path.join(cls.tmp, "rootfs.tar")
        subprocess.run(["tar", "-C", rootfs, "-cf", tarball, "."], check=True)
        cls.run_podman("import", tarball, IMAGE)

    @classmethod
    def tearDownClass(cls):
        cls.run_podman("rm", "-a", "-f", "-t", "0", check=False)
        cls.run_podman("rmi", "-a", "-f", check=False)
        # podman may leave mounts (shm) below its runroot; lazily drop any under tmp.
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4] for line in f]
        for point in reversed(points):
            if point.startswith(cls.tmp + "/"):
                subprocess.run(["umount", "-l", point], check=False)
        subprocess.run(["rm", "-rf", cls.tmp], check=True)

    @classmethod
    def run_podman(cls, *args, check=True):
        return subprocess.run(cls.podman + list(args), capture_output=True, text=True,
                              check=check, timeout=120)

    def setUp(self):
        subprocess.run(["rm", "-rf", self.conf], check=True)
        write_config_dir(self.conf, TWO_CPU_POOLS)
        self.names = []

    def tearDown(self):
        for name in self.names:
            self.run_podman("rm", "-f", "-t", "0", name, check=False)

    def run_container(self, name, annotations):
        """podman run -d; returns (CompletedProcess, out dir)."""
        self.names.append(name)
        out = tempfile.mkdtemp(dir=self.tmp)
        args = ["run", "-d", "--name", name, "--network=none",
                "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                "-v", out + ":/out"]
        for key, value in annotations.items():
            args += ["--annotation", "%s=%s" % (key, value)]
        return self.run_podman(*args, IMAGE, "sh", "-c", PROBE, check=False), out

    def started(self, name, annotations):
        r, out = self.run_container(name, annotations)
        self.assertEqual(r.returncode, 0, r.stderr)
        deadline = time.monotonic() + 15
        while not os.path.exists(os.path.join(out, "ready")):
            self.assertLess(time.monotonic(), deadline, "container %s did not report" % name)
            time.sleep(0.02)
        return out

    @staticmethod
    def seen(out):
        def read(name):
            with open(os.path.join(out, name)) as f:
                return f.read().strip()
        return read("affinity"), read("cpuset")

    def stop(self, name, out):
        open(os.path.join(out, "stop"), "w").close()
        self.run_podman("wait", name)
        self.run_podman("rm", name)

    def test_two_containers_get_different_single_cpus_and_a_third_is_refused(self):
        a = self.started("kcm-a", DATAPLANE)
        b = self.started("kcm-b", DATAPLANE)
        aff_a, cg_a = self.seen(a)
        aff_b, cg_b = self.seen(b)
        self.assertEqual({aff_a, aff_b}, {"0", "1"})
        self.assertEqual((cg_a, cg_b), (aff_a, aff_b))
        before = (read_tasks(self.conf), read_owners(self.conf))
        r, _ = self.run_container("kcm-c", DATAPLANE)
        self.assertNotEqual(r.returncode, 0)
        # podman passes runc's error, with the hook's stderr, through.
        self.assertIn('pool "dataplane" has 0 free CPU lists (2 in use)', r.stderr)
        self.assertEqual((read_tasks(self.conf), read_owners(self.conf)), before)
        self.stop("kcm-a", a)
        self.stop("kcm-b", b)
        self.assertFalse(any(read_tasks(self.conf).values()))
        self.assertEqual(read_owners(self.conf), {})

    def test_container_override_and_sandbox(self):
        app = self.started("kcm-app", {"io.kubernetes.container.name": "app",
                                       "kcm.intel.com/pool": "infra",
                                       "kcm.intel.com/pool.app": "dataplane"})
        affinity, cpuset = self.seen(app)
        self.assertIn(affinity, ("0", "1"))
        self.assertEqual(cpuset, affinity)
        sandbox = self.started("kcm-pause", dict(DATAPLANE, **{
            "io.kubernetes.cri-o.ContainerType": "sandbox"}))
        self.assertEqual(self.seen(sandbox), ("0-1", "0-1"))
        self.assertEqual(len(read_owners(self.conf)), 1)

    def test_unannotated_container_never_runs_the_hook(self):
        # hooks.d's "when" keeps podman from even running kcm-hook: a missing config
        # directory would otherwise fail the container.
        subprocess.run(["rm", "-rf", self.conf], check=True)
        out = self.started("kcm-plain", {})
        self.assertEqual(self.seen(out), ("0-1", "0-1"))


if __name__ == "__main__":
    kcm_e2e.main()
