"""`kcm-runtime configure --engine=containerd` against the real containerd (root only;
exit 77 otherwise).

The test writes a version 2 main config for a private containerd (root, state and
socket in a temp dir, CRI settings of its own), registers kcm with `configure --config`,
checks that `containerd config dump` reads the kcm runtime handler with its BinaryName
and pod_annotations and keeps the config's own CRI settings, starts that containerd
(its CRI plugin must load), and runs a container through the BinaryName the config
names. ctr does not read the CRI plugin's runtimes, so it is given that BinaryName with
--runc-binary: containerd's runc shim then calls kcm-runtime as the CRI plugin would.
Finally `unconfigure` gives back the original bytes.
"""

import os
import re
import subprocess

import kcm_e2e
from kcm_e2e import (RUNTIME, STATUS_SCRIPT, cpus_allowed_list, kill_process,
                     remove_cgroup_dirs, runtime_workspace, unmount_below, wait_for,
                     write_oci_archive)

NAMESPACE = f"kcmconf-{os.getpid()}"
IMAGE = "docker.io/kcmtest/busybox"
REF = IMAGE + ":latest"

MAIN_CONFIG = """# a node's containerd config
version = 2
root = "{t}/root"
state = "{t}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "{t}/sock"
[ttrpc]
  address = "{t}/sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.example/pause:kcm-test"
"""


class ConfigureContainerdTest(kcm_e2e.ConfTestCase):
    def setUp(self):
        self.t, self.conf, self.runtime_config = runtime_workspace(self.addCleanup,
                                                                   "kcm-configure-containerd-")
        self.main = os.path.join(self.t, "config.toml")
        self.original = MAIN_CONFIG.format(t=self.t)
        with open(self.main, "w") as f:
            f.write(self.original)
        self.sock = os.path.join(self.t, "sock")

    def kcm_runtime(self, *args):
        r = subprocess.run([RUNTIME] + list(args) + ["--engine=containerd", "--config=" + self.main],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def ctr(self, *args, timeout=60):
        return subprocess.run(["ctr", "-a", self.sock, "-n", NAMESPACE] + list(args),
                              capture_output=True, text=True, timeout=timeout)

    def start_containerd(self):
        log = open(os.path.join(self.t, "containerd.log"), "w")
        self.addCleanup(log.close)
        proc = subprocess.Popen(["containerd", "--config", self.main],
                                env=dict(os.environ, KCM_RUNTIME_CONFIG=self.runtime_config),
                                stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop_containerd, proc)
        if not wait_for(lambda: os.path.exists(self.sock) and self.ctr("version").returncode == 0,
                        timeout=30):
            raise RuntimeError("containerd did not start: see " + log.name)

    def stop_containerd(self, proc):
        if proc.poll() is None:
            for task in self.ctr("tasks", "ls", "-q").stdout.split():
                self.ctr("tasks", "delete", "--force", task)
            for container in self.ctr("containers", "ls", "-q").stdout.split():
                self.ctr("containers", "delete", container)
        kill_process(proc)
        unmount_below(self.t)
        remove_cgroup_dirs(NAMESPACE)
        try:
            os.rmdir("/run/containerd/runc/" + NAMESPACE)
        except OSError:
            pass

    def test_configured_containerd_runs_a_pinned_container_through_kcm(self):
        out = self.kcm_runtime("configure", "--runtime-path=" + RUNTIME)
        self.assertIn("edited " + self.main, out)
        self.assertIn("nothing to change", self.kcm_runtime("configure", "--runtime-path=" + RUNTIME))

        dump = subprocess.run(["containerd", "--config", self.main, "config", "dump"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(dump.returncode, 0, dump.stderr)
        section = dump.stdout.split('containerd.runtimes.kcm]', 1)[1].split("\n\n        [", 1)[0]
        self.assertIn('runtime_type = "io.containerd.runc.v2"', section)
        self.assertIn('pod_annotations = ["kcm.intel.com/*"]', section)
        binary = re.search(r'BinaryName = "([^"]*)"', section).group(1)
        self.assertEqual(binary, RUNTIME)
        # The config's own CRI settings and containerd's default runtime are still there.
        self.assertIn('sandbox_image = "registry.example/pause:kcm-test"', dump.stdout)
        self.assertIn('containerd.runtimes.runc]', dump.stdout)

        self.start_containerd()
        plugins = self.ctr("plugins", "ls").stdout
        self.assertRegex(plugins, r"io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok", plugins)
        archive = write_oci_archive(os.path.join(self.t, "busybox-oci.tar"), IMAGE)
        r = self.ctr("images", "import", "--no-unpack", "--base-name", IMAGE, archive)
        self.assertEqual(r.returncode, 0, r.stderr)
        proc = subprocess.Popen(
            ["ctr", "-a", self.sock, "-n", NAMESPACE, "run", "--rm", "--runc-binary", binary,
             "--annotation", "kcm.intel.com/pool=dataplane", REF, "kcm-configured",
             "sh", "-c", STATUS_SCRIPT],
            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(kill_process, proc)
        cpus, _ = self.one_dataplane_list()
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(cpus_allowed_list(out), cpus, out)
        self.assertTrue(wait_for(lambda: kcm_e2e.busy_lists(self.conf) == {}, timeout=10))

        self.kcm_runtime("unconfigure")
        with open(self.main) as f:
            self.assertEqual(f.read(), self.original)


if __name__ == "__main__":
    kcm_e2e.main("KCM_RUNTIME_BIN")
