"""kcm-runtime under a real containerd (root only; exit 77 otherwise).

The test starts its own containerd on a private root, state dir and socket, imports a
busybox image from an OCI archive it builds itself, and runs containers with
`ctr run --runc-binary <kcm-runtime>`: containerd's runc shim then calls the wrapper for
create, start, state, exec, kill and delete exactly as it would call runc.
"""

import json
import os
import subprocess
import time

import kcm_e2e
from kcm_e2e import (HOOK, RUNTIME, SHIPPED_CONFIG, STATUS_SCRIPT, busy_lists, cpus_allowed_list,
                     host_cpuset_cpus, kill_process, remove_cgroup_dirs, runtime_log_text,
                     runtime_workspace, unmount_below, unpinned_cpus, wait_for,
                     write_oci_archive)

# containerd's runc shim keeps runc's state in /run/containerd/runc/<namespace> and the
# cgroups in /<namespace>/<id>, outside our temp dir: a namespace of our own per run
# keeps a crashed earlier run from colliding with this one.
NAMESPACE = f"kcmtest-{os.getpid()}"
IMAGE = "docker.io/kcmtest/busybox"
REF = IMAGE + ":latest"

CONTAINERD_CONFIG = """version = 2
root = "{t}/root"
state = "{t}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "{t}/sock"
[ttrpc]
  address = "{t}/sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
"""


class ContainerdTest(kcm_e2e.ConfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t, cls.conf, runtime_config = runtime_workspace(cls.addClassCleanup,
                                                            "kcm-runtime-containerd-")
        config = os.path.join(cls.t, "config.toml")
        with open(config, "w") as f:
            f.write(CONTAINERD_CONFIG.format(t=cls.t))
        cls.sock = os.path.join(cls.t, "sock")
        # containerd hands its environment to the runc shim, which hands it to the
        # runtime binary: that is how the wrapper finds its config here.
        env = dict(os.environ, KCM_RUNTIME_CONFIG=runtime_config)
        cls.containerd_log = open(os.path.join(cls.t, "containerd.log"), "w")
        cls.addClassCleanup(cls.containerd_log.close)
        cls.containerd = subprocess.Popen(
            ["containerd", "--root", cls.t + "/root", "--state", cls.t + "/state",
             "--address", cls.sock, "--config", config],
            env=env, stdout=cls.containerd_log, stderr=subprocess.STDOUT)
        cls.addClassCleanup(cls.stop_containerd)
        ready = wait_for(lambda: os.path.exists(cls.sock) and cls.ctr("version").returncode == 0,
                         timeout=30)
        if not ready:
            raise RuntimeError("containerd did not start: see " + cls.containerd_log.name)
        archive = write_oci_archive(os.path.join(cls.t, "busybox-oci.tar"), IMAGE)
        cls.ctr("images", "import", "--no-unpack", "--base-name", IMAGE, archive, check=True)

    @classmethod
    def ctr(cls, *args, check=False, timeout=60):
        result = subprocess.run(["ctr", "-a", cls.sock, "-n", NAMESPACE] + list(args),
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"ctr {' '.join(args)}: {result.stderr}")
        return result

    @classmethod
    def stop_containerd(cls):
        if cls.containerd.poll() is None:
            for task in cls.ctr("tasks", "ls", "-q").stdout.split():
                cls.ctr("tasks", "kill", "-s", "KILL", task)
                time.sleep(0.5)
                cls.ctr("tasks", "delete", "--force", task)
            for container in cls.ctr("containers", "ls", "-q").stdout.split():
                cls.ctr("containers", "delete", container)
        kill_process(cls.containerd)
        # The snapshotter's mounts under our root, should a container outlive the test.
        unmount_below(cls.t)
        remove_cgroup_dirs(NAMESPACE)
        try:
            os.rmdir("/run/containerd/runc/" + NAMESPACE)
        except OSError:
            pass

    def bundle_config(self, cid):
        path = os.path.join(self.t, "state", "io.containerd.runtime.v2.task", NAMESPACE, cid,
                            "config.json")
        with open(path) as f:
            return json.load(f)

    def run_container(self, cid, script, annotations=()):
        args = ["ctr", "-a", self.sock, "-n", NAMESPACE, "run", "--rm",
                "--runc-binary", RUNTIME]
        for annotation in annotations:
            args += ["--annotation", annotation]
        proc = subprocess.Popen(args + [REF, cid, "sh", "-c", script], text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(kill_process, proc)
        return proc

    def test_annotated_container_is_pinned_and_released(self):
        proc = self.run_container("kcm-pinned", STATUS_SCRIPT,
                                  ["kcm.intel.com/pool=dataplane"])
        cpus, pids = self.one_dataplane_list()
        # kcm-hook writes the tasks file first and applies the cpuset right after.
        self.assertTrue(wait_for(lambda: host_cpuset_cpus(pids[0]) == cpus),
                        host_cpuset_cpus(pids[0]))
        hooks = self.bundle_config("kcm-pinned")["hooks"]
        self.assertEqual([h["path"] for h in hooks["prestart"]], [HOOK])
        self.assertEqual([h["path"] for h in hooks["poststop"]], [HOOK])
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(cpus_allowed_list(out), cpus, out)
        self.assertEqual(busy_lists(self.conf), {})
        self.assertEqual(os.listdir(os.path.join(self.conf, "owners")), [])

    def test_unannotated_container_is_untouched(self):
        proc = self.run_container("kcm-plain", STATUS_SCRIPT)
        self.assertTrue(wait_for(lambda: self.ctr("tasks", "ls").stdout.find("RUNNING") >= 0))
        self.assertNotIn("hooks", self.bundle_config("kcm-plain"))
        self.assertEqual(busy_lists(self.conf), {})
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(cpus_allowed_list(out), unpinned_cpus(), out)
        self.assertNotIn("kcm-plain", runtime_log_text(self.t))

    def test_detached_container_exec_and_delete_go_through_the_wrapper(self):
        cid = "kcm-detached"
        result = self.ctr("run", "-d", "--runc-binary", RUNTIME, "--annotation",
                          "kcm.intel.com/pool=dataplane", REF, cid, "sleep", "60")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.addCleanup(self.ctr, "containers", "delete", cid)
        self.addCleanup(self.ctr, "tasks", "delete", "--force", cid)
        cpus, _ = self.one_dataplane_list()
        # exec, kill and delete reach runc through the wrapper untouched.
        result = self.ctr("tasks", "exec", "--exec-id", "probe", cid,
                          "grep", "Cpus_allowed_list", "/proc/self/status")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(cpus_allowed_list(result.stdout), cpus)
        self.assertEqual(self.ctr("tasks", "kill", "-s", "KILL", cid).returncode, 0)
        wait_for(lambda: "STOPPED" in self.ctr("tasks", "ls").stdout)
        result = self.ctr("tasks", "delete", cid)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(wait_for(lambda: busy_lists(self.conf) == {}, timeout=10), True)

    def test_shipped_snippet_registers_the_kcm_runtime(self):
        # As its comment says: its tables in the main config (here they are all of it).
        main_config = os.path.join(SHIPPED_CONFIG, "containerd", "kcm.toml")
        result = subprocess.run(["containerd", "--config", main_config, "config", "dump"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        # The CRI plugin keeps its default runtime beside kcm's.
        self.assertIn('containerd.runtimes.runc]', result.stdout)
        section = result.stdout.split('containerd.runtimes.kcm]', 1)[1].split("\n\n    [", 1)[0]
        self.assertIn('runtime_type = "io.containerd.runc.v2"', section)
        self.assertIn('pod_annotations = ["kcm.intel.com/*"]', section)
        self.assertIn('BinaryName = "/usr/local/bin/kcm-runtime"', section)


if __name__ == "__main__":
    kcm_e2e.main("KCM_RUNTIME_BIN")
