"""kcm-runtime as podman's `--runtime` (root only; exit 77 otherwise).

podman runs on a private --root/--runroot/--tmpdir with the vfs driver, cgroupfs and no
network, so the test touches nothing of the host's podman. The wrapper's config reaches
it through conmon: podman gives conmon only `conmon_env_vars` from containers.conf, which
the test points at with $CONTAINERS_CONF.
"""

import os
import subprocess

import kcm_e2e
from kcm_e2e import (RUNTIME, SHIPPED_CONFIG, STATUS_SCRIPT, busy_lists, cpus_allowed_list,
                     cpuset_cpus, host_cpuset_cpus, kill_process, podman_command,
                     podman_run_options, rootfs_tar_bytes, runtime_log_text, runtime_workspace,
                     unpinned_cpus, wait_for)

IMAGE = "localhost/kcmtest/busybox:latest"


class PodmanTest(kcm_e2e.ConfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t, cls.conf, runtime_config = runtime_workspace(cls.addClassCleanup,
                                                            "kcm-runtime-podman-")
        containers_conf = os.path.join(cls.t, "containers.conf")
        with open(containers_conf, "w") as f:
            f.write("[engine]\nconmon_env_vars = [\"PATH=%s\", \"KCM_RUNTIME_CONFIG=%s\"]\n"
                    % (os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), runtime_config))
        cls.env = dict(os.environ, CONTAINERS_CONF=containers_conf)
        cls.podman_args = podman_command(cls.t, "--events-backend=file")
        tar = os.path.join(cls.t, "rootfs.tar")
        with open(tar, "wb") as f:
            f.write(rootfs_tar_bytes())
        cls.addClassCleanup(cls.podman, "rm", "--all", "--force")
        result = cls.podman("import", tar, IMAGE)
        if result.returncode != 0:
            raise RuntimeError("podman import: " + result.stderr)

    @classmethod
    def podman(cls, *args, timeout=120):
        return subprocess.run(cls.podman_args + list(args), env=cls.env, capture_output=True,
                              text=True, timeout=timeout)

    def start(self, name, script, annotations=None):
        args = self.podman_args + ["run", "--rm", "--runtime=" + RUNTIME] + \
            podman_run_options(name, annotations or {})
        proc = subprocess.Popen(args + [IMAGE, "sh", "-c", script], env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Removing the container runs its poststop hook even when a failed assertion left
        # it running; the next test then starts from free CPU lists.
        self.addCleanup(self.podman, "rm", "--force", "--time", "0", name)
        self.addCleanup(kill_process, proc)
        return proc

    def test_annotated_container_is_pinned_and_released(self):
        proc = self.start("kcm-pinned", STATUS_SCRIPT, {"kcm.intel.com/pool": "dataplane"})
        cpus, pids = self.one_dataplane_list(timeout=60)
        # kcm-hook writes the tasks file first and applies the cpuset right after.
        self.assertTrue(wait_for(lambda: host_cpuset_cpus(pids[0]) == cpus),
                        host_cpuset_cpus(pids[0]))
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(cpus_allowed_list(out), cpus, out)
        self.assertEqual(cpuset_cpus(out), cpus, out)
        self.assertEqual(busy_lists(self.conf), {})
        self.assertEqual(os.listdir(os.path.join(self.conf, "owners")), [])
        self.assertIn("added kcm hooks", runtime_log_text(self.t))

    def test_unannotated_container_is_untouched(self):
        before = runtime_log_text(self.t)
        proc = self.start("kcm-plain", "grep Cpus_allowed_list /proc/self/status")
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(cpus_allowed_list(out), unpinned_cpus(), out)
        self.assertEqual(runtime_log_text(self.t), before)
        self.assertEqual(busy_lists(self.conf), {})

    def test_shipped_containers_conf_registers_kcm(self):
        with open(os.path.join(SHIPPED_CONFIG, "podman", "containers.conf")) as f:
            shipped = f.read()
        conf = os.path.join(self.t, "shipped-containers.conf")
        with open(conf, "w") as f:
            f.write(shipped.replace("/usr/local/bin/kcm-runtime", RUNTIME))
        result = subprocess.run(
            self.podman_args + ["--runtime", "kcm", "info", "--format",
                                "{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}"],
            env=dict(self.env, CONTAINERS_CONF=conf), capture_output=True, text=True,
            timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), "kcm " + RUNTIME)


if __name__ == "__main__":
    kcm_e2e.main("KCM_RUNTIME_BIN")
