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

import kcm_e2e
from kcm_e2e import (DATAPLANE_LISTS, HOOK, PROBE, make_temp_dir, needs_cpus, podman_command,
                     podman_run_options, read_owners, read_tasks, rootfs_tar_bytes, seen,
                     unmount_below, unpinned_cpus, wait_ready, write_config_dir)

HOOKS_D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "config",
                       "hooks.d")
IMAGE = "localhost/kcm-busybox:e2e"
DATAPLANE = {"kcm.intel.com/pool": "dataplane"}


class PodmanTest(kcm_e2e.ConfTestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = make_temp_dir(cls.addClassCleanup, "kcm-e2e-podman-")
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
        cls.podman = podman_command(cls.tmp, "--events-backend", "none", "--runtime", "runc",
                                    "--hooks-dir", hooks)
        tarball = os.path.join(cls.tmp, "rootfs.tar")
        with open(tarball, "wb") as f:
            f.write(rootfs_tar_bytes())
        cls.addClassCleanup(cls.remove_all)
        cls.run_podman("import", tarball, IMAGE)

    @classmethod
    def remove_all(cls):
        cls.run_podman("rm", "-a", "-f", "-t", "0", check=False)
        cls.run_podman("rmi", "-a", "-f", check=False)
        # podman may leave mounts (shm) below its runroot.
        unmount_below(cls.tmp)

    @classmethod
    def run_podman(cls, *args, check=True):
        return subprocess.run(cls.podman + list(args), capture_output=True, text=True,
                              check=check, timeout=120)

    def setUp(self):
        subprocess.run(["rm", "-rf", self.conf], check=True)
        write_config_dir(self.conf)
        self.names = []

    def tearDown(self):
        for name in self.names:
            self.run_podman("rm", "-f", "-t", "0", name, check=False)

    def run_container(self, name, annotations):
        """podman run -d; returns (CompletedProcess, out dir)."""
        self.names.append(name)
        out = tempfile.mkdtemp(dir=self.tmp)
        args = ["run", "-d"] + podman_run_options(name, annotations) + ["-v", out + ":/out"]
        return self.run_podman(*args, IMAGE, "sh", "-c", PROBE, check=False), out

    def started(self, name, annotations):
        r, out = self.run_container(name, annotations)
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_ready(name, out)
        return out

    def stop(self, name, out):
        open(os.path.join(out, "stop"), "w").close()
        self.run_podman("wait", name)
        self.run_podman("rm", name)

    @needs_cpus(2)
    def test_two_containers_get_different_single_cpus_and_a_third_is_refused(self):
        a = self.started("kcm-a", DATAPLANE)
        b = self.started("kcm-b", DATAPLANE)
        aff_a, cg_a = seen(a)
        aff_b, cg_b = seen(b)
        self.assertEqual({aff_a, aff_b}, set(DATAPLANE_LISTS))
        self.assertEqual((cg_a, cg_b), (aff_a, aff_b))
        before = (read_tasks(self.conf), read_owners(self.conf))
        r, _ = self.run_container("kcm-c", DATAPLANE)
        self.assertNotEqual(r.returncode, 0)
        # podman passes runc's error, with the hook's stderr, through.
        self.assertIn('pool "dataplane" has 0 free CPU lists (%d in use)'
                      % len(DATAPLANE_LISTS), r.stderr)
        self.assertEqual((read_tasks(self.conf), read_owners(self.conf)), before)
        self.stop("kcm-a", a)
        self.stop("kcm-b", b)
        self.assert_all_free()

    def test_container_override_and_sandbox(self):
        app = self.started("kcm-app", {"io.kubernetes.container.name": "app",
                                       "kcm.intel.com/pool": "infra",
                                       "kcm.intel.com/pool.app": "dataplane"})
        affinity, cpuset = seen(app)
        self.assertIn(affinity, DATAPLANE_LISTS)
        self.assertEqual(cpuset, affinity)
        sandbox = self.started("kcm-pause", dict(DATAPLANE, **{
            "io.kubernetes.cri-o.ContainerType": "sandbox"}))
        self.assertEqual(seen(sandbox), (unpinned_cpus(), unpinned_cpus()))
        self.assertEqual(len(read_owners(self.conf)), 1)

    def test_unannotated_container_never_runs_the_hook(self):
        # hooks.d's "when" keeps podman from even running kcm-hook: a missing config
        # directory would otherwise fail the container.
        subprocess.run(["rm", "-rf", self.conf], check=True)
        out = self.started("kcm-plain", {})
        self.assertEqual(seen(out), (unpinned_cpus(), unpinned_cpus()))


if __name__ == "__main__":
    kcm_e2e.main()
