"""kcm-runtime as podman's `--runtime` (root only; exit 77 otherwise).

podman runs on a private --root/--runroot/--tmpdir with the vfs driver, cgroupfs and no
network, so the test touches nothing of the host's podman. The wrapper's config reaches
it through conmon: podman gives conmon only `conmon_env_vars` from containers.conf, which
the test points at with $CONTAINERS_CONF.
"""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runtime_support as rs  # noqa: E402

IMAGE = "localhost/kcmtest/busybox:latest"


class PodmanTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = rs.make_temp_dir(cls.addClassCleanup, "kcm-runtime-podman-")
        cls.conf = rs.make_conf_dir(cls.t)
        cls.log = os.path.join(cls.t, "kcm-runtime.log")
        runtime_config = rs.write_runtime_config(cls.t, cls.conf)
        containers_conf = os.path.join(cls.t, "containers.conf")
        with open(containers_conf, "w") as f:
            f.write("[engine]\nconmon_env_vars = [\"PATH=%s\", \"KCM_RUNTIME_CONFIG=%s\"]\n"
                    % (os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), runtime_config))
        cls.env = dict(os.environ, CONTAINERS_CONF=containers_conf)
        cls.podman_args = ["podman", "--root", cls.t + "/root", "--runroot", cls.t + "/runroot",
                           "--tmpdir", cls.t + "/tmp", "--storage-driver=vfs",
                           "--cgroup-manager=cgroupfs", "--events-backend=file"]
        tar = os.path.join(cls.t, "rootfs.tar")
        with open(tar, "wb") as f:
            f.write(rs.rootfs_tar_bytes())
        cls.addClassCleanup(cls.podman, "rm", "--all", "--force")
        result = cls.podman("import", tar, IMAGE)
        if result.returncode != 0:
            raise RuntimeError("podman import: " + result.stderr)

    @classmethod
    def podman(cls, *args, timeout=120):
        return subprocess.run(cls.podman_args + list(args), env=cls.env, capture_output=True,
                              text=True, timeout=timeout)

    def start(self, name, script, annotations=()):
        args = self.podman_args + [
            "run", "--rm", "--name", name, "--runtime=" + rs.runtime_bin(), "--network=none",
            "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
        for annotation in annotations:
            args += ["--annotation", annotation]
        proc = subprocess.Popen(args + [IMAGE, "sh", "-c", script], env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Removing the container runs its poststop hook even when a failed assertion left
        # it running; the next test then starts from free CPU lists.
        self.addCleanup(self.podman, "rm", "--force", "--time", "0", name)
        self.addCleanup(rs.kill_process, proc)
        return proc

    def log_text(self):
        if not os.path.exists(self.log):
            return ""
        with open(self.log) as f:
            return f.read()

    def test_annotated_container_is_pinned_and_released(self):
        proc = self.start("kcm-pinned", rs.STATUS_SCRIPT, ["kcm.intel.com/pool=dataplane"])
        busy = rs.wait_for(lambda: rs.busy_lists(self.conf), timeout=60)
        self.assertEqual(len(busy), 1, busy)
        (cpus, pids), = busy.items()
        # kcm-hook writes the tasks file first and applies the cpuset right after.
        self.assertTrue(rs.wait_for(lambda: rs.host_cpuset_cpus(pids[0]) == cpus),
                        rs.host_cpuset_cpus(pids[0]))
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(rs.cpus_allowed_list(out), cpus, out)
        self.assertEqual(rs.cpuset_cpus(out), cpus, out)
        self.assertEqual(rs.busy_lists(self.conf), {})
        self.assertEqual(os.listdir(os.path.join(self.conf, "owners")), [])
        self.assertIn("added kcm hooks", self.log_text())

    def test_unannotated_container_is_untouched(self):
        before = self.log_text()
        proc = self.start("kcm-plain", "grep Cpus_allowed_list /proc/self/status")
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(rs.cpus_allowed_list(out), "0-1", out)
        self.assertEqual(self.log_text(), before)
        self.assertEqual(rs.busy_lists(self.conf), {})

    def test_shipped_containers_conf_registers_kcm(self):
        with open(os.path.join(rs.SHIPPED_CONFIG, "podman", "containers.conf")) as f:
            shipped = f.read()
        conf = os.path.join(self.t, "shipped-containers.conf")
        with open(conf, "w") as f:
            f.write(shipped.replace("/usr/local/bin/kcm-runtime", rs.runtime_bin()))
        result = subprocess.run(
            self.podman_args + ["--runtime", "kcm", "info", "--format",
                                "{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}"],
            env=dict(self.env, CONTAINERS_CONF=conf), capture_output=True, text=True,
            timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), "kcm " + rs.runtime_bin())


if __name__ == "__main__":
    rs.require_root()
    unittest.main(verbosity=2)
