"""The kubelet's path through containerd's CRI plugin, for real (root only; exit 77
otherwise).

The test starts its own containerd (root, state, socket and config in a temp dir) whose
main config holds the CRI settings of a node without CNI and image registry, and the kcm
runtime handler as the built `kcm-runtime configure --engine=containerd` writes it. It
imports two busybox images into the CRI's namespace `k8s.io`: the sandbox image (a
shell that sleeps: no pause image can be pulled) and the app image. It then speaks
`runtime.v1.RuntimeService` over gRPC as the kubelet does (RunPodSandbox with
runtime_handler "kcm", CreateContainer, StartContainer, StopContainer, RemovePodSandbox),
with stubs generated at test time from cri/api.proto, and checks the config directory,
the containers' cgroups and every thread's affinity from the host.

Host-network pods, because there is no CNI plugin. `restrict_oom_score_adj = true`,
because the CRI gives the pod sandbox a negative oom_score_adj, which a test machine that
is itself a container may be refused; restricted, the sandbox gets the test's own.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys

import kcm_e2e
from kcm_e2e import (DATAPLANE_LISTS, HOOK, INFRA_LIST, KCM, RUNTIME, busy_lists, cpu_list,
                     expand_cpus, host_cpuset_cpus, kill_process, needs_cpus, owner_file,
                     read_owners, read_tasks, remove_cgroup_dirs, runtime_log_text,
                     runtime_workspace, unmount_below, unpinned_cpus, wait_for,
                     write_oci_archive)

HERE = os.path.dirname(os.path.abspath(__file__))
# The namespace the CRI plugin keeps its images and containers in; not ours to choose.
NAMESPACE = "k8s.io"
IMAGE = "docker.io/kcmtest/busybox"
PAUSE_IMAGE = "docker.io/kcmtest/pause"
# The sandbox's process: sleeps until killed, and exits at once on SIGTERM.
PAUSE_CMD = ("sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 1 & wait; done")
# An app container: a shell that forks a sleep now and then (so it has processes created
# after the hook pinned it) and exits at once on StopContainer's SIGTERM.
APP_COMMAND = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"]
# containerd's runc shim keeps runc's state of the namespace here, outside the temp dir.
RUNC_ROOT = "/run/containerd/runc/" + NAMESPACE
# Pod cgroups go below a parent of this run's own, as the kubelet puts them below
# /kubepods: cleanup then finds them all, and a crashed earlier run cannot collide.
CGROUP_PARENT = f"kcm-cri-{os.getpid()}"

MAIN_CONFIG = """# a node's containerd config, CRI plugin on
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
  sandbox_image = "{pause}:latest"
  restrict_oom_score_adj = true
  # Any free port: other containerds of the machine may hold the default one.
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{t}/cni/bin"
    conf_dir = "{t}/cni/net.d"
"""


def ensure_grpc_interpreter():
    """Re-executes the test under Debian's python3 when this one cannot import grpc:
    python3-grpcio is installed for Debian's interpreter, and a python3 from elsewhere
    ahead of it on PATH does not see it."""
    debian = "/usr/bin/python3"
    if importlib.util.find_spec("grpc") is not None or not os.access(debian, os.X_OK):
        return
    if os.path.realpath(sys.executable) != os.path.realpath(debian):
        os.execv(debian, [debian] + sys.argv)


def generate_stubs(out):
    """Generates the Python modules of cri/api.proto into `out` and imports them:
    (api_pb2, api_pb2_grpc). Debian 12's protoc predates the option debug_redact, which
    changes only how AuthConfig is printed: the copy it compiles goes without it."""
    with open(os.path.join(HERE, "cri", "api.proto")) as f:
        proto = f.read().replace(" [debug_redact = true]", "")
    with open(os.path.join(out, "api.proto"), "w") as f:
        f.write(proto)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", out,
                    "--python_out=" + out, "--grpc_python_out=" + out, "api.proto"],
                   check=True, timeout=120)
    sys.path.insert(0, out)
    import api_pb2
    import api_pb2_grpc
    return api_pb2, api_pb2_grpc


def process_cpus(pid):
    """{tid: CPUs} of every thread of `pid`, read on the host; {} when it is gone."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            out[int(tid)] = kcm_e2e.affinity(int(tid))
        except (OSError, AssertionError):
            pass
    return out


def cgroup_pids(pid):
    """The processes of `pid`'s cpuset cgroup (v1 hierarchy, else v2), read on the host."""
    with open(f"/proc/{pid}/cgroup") as f:
        lines = f.read().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "cpuset" in controllers.split(","):
            procs = f"/sys/fs/cgroup/cpuset{path}/cgroup.procs"
            break
    else:
        path = next(l.split(":", 2)[2] for l in lines if l.startswith("0::"))
        procs = f"/sys/fs/cgroup{path}/cgroup.procs"
    with open(procs) as f:
        return [int(p) for p in f.read().split()]


@needs_cpus(2)
class CriTest(kcm_e2e.ConfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t, cls.conf, runtime_config = runtime_workspace(cls.addClassCleanup, "kcm-cri-")
        cls.api, cls.api_grpc = generate_stubs(cls.t)
        for d in ("cni/bin", "cni/net.d", "logs"):
            os.makedirs(os.path.join(cls.t, d))
        cls.main_config = os.path.join(cls.t, "config.toml")
        with open(cls.main_config, "w") as f:
            f.write(MAIN_CONFIG.format(t=cls.t, pause=PAUSE_IMAGE))
        cls.configure = subprocess.run(
            [RUNTIME, "configure", "--engine=containerd", "--config=" + cls.main_config,
             "--runtime-path=" + RUNTIME], capture_output=True, text=True, timeout=60)
        if cls.configure.returncode != 0:
            raise RuntimeError("kcm-runtime configure: " + cls.configure.stderr)
        cls.sock = os.path.join(cls.t, "sock")
        cls.runc_root_existed = os.path.exists(RUNC_ROOT)
        import grpc
        cls.grpc = grpc
        # Connected lazily; closed after stop_containerd, which still uses it.
        cls.channel = grpc.insecure_channel("unix://" + cls.sock)
        cls.addClassCleanup(cls.channel.close)
        cls.cri = cls.api_grpc.RuntimeServiceStub(cls.channel)
        cls.images = cls.api_grpc.ImageServiceStub(cls.channel)
        cls.start_containerd(runtime_config)
        cls.import_image(IMAGE, ("sh",))
        cls.import_image(PAUSE_IMAGE, PAUSE_CMD)

    @classmethod
    def start_containerd(cls, runtime_config):
        cls.containerd_log = open(os.path.join(cls.t, "containerd.log"), "w")
        cls.addClassCleanup(cls.containerd_log.close)
        # containerd hands its environment to the runc shim, which hands it to the
        # runtime binary: that is how the wrapper finds its config here.
        cls.containerd = subprocess.Popen(
            # The paths again as flags: should the config not be read, containerd must
            # still not touch the system's.
            ["containerd", "--config", cls.main_config, "--root", cls.t + "/root",
             "--state", cls.t + "/state", "--address", cls.sock],
            env=dict(os.environ, KCM_RUNTIME_CONFIG=runtime_config),
            stdout=cls.containerd_log, stderr=subprocess.STDOUT)
        cls.addClassCleanup(cls.stop_containerd)
        if not wait_for(lambda: os.path.exists(cls.sock) and cls.ctr("version").returncode == 0,
                        timeout=30):
            raise RuntimeError("containerd did not start: see " + cls.containerd_log.name)

    @classmethod
    def import_image(cls, name, cmd):
        """Imports (and unpacks) a busybox image running `cmd` as name:latest into the
        CRI's namespace, then waits for the CRI plugin to list it."""
        archive = write_oci_archive(os.path.join(cls.t, name.rsplit("/", 1)[1] + ".tar"), name,
                                    cmd=cmd)
        r = cls.ctr("images", "import", "--base-name", name, archive)
        if r.returncode != 0:
            raise RuntimeError("ctr images import %s: %s" % (name, r.stderr))
        request = cls.api.ImageStatusRequest(image=cls.api.ImageSpec(image=name + ":latest"))

        def listed():
            try:
                return cls.images.ImageStatus(request, timeout=10).image.id
            except cls.grpc.RpcError:  # the CRI plugin is still starting
                return ""
        if not wait_for(listed):
            raise RuntimeError("the CRI plugin does not list the image " + name)

    @classmethod
    def ctr(cls, *args, timeout=60):
        return subprocess.run(["ctr", "-a", cls.sock, "-n", NAMESPACE] + list(args),
                              capture_output=True, text=True, timeout=timeout)

    @classmethod
    def stop_containerd(cls):
        """Removes every pod the way the kubelet would, then whatever is left through
        ctr (the shims outlive containerd otherwise), stops containerd, and removes the
        mounts and cgroups it leaves outside the temp dir."""
        if cls.containerd.poll() is None:
            try:
                for pod in cls.cri.ListPodSandbox(cls.api.ListPodSandboxRequest(),
                                                  timeout=30).items:
                    cls.remove_pod(pod.id)
            except Exception:  # containerd is going away anyway: ctr takes over
                pass
            for task in cls.ctr("tasks", "ls", "-q").stdout.split():
                cls.ctr("tasks", "delete", "--force", task)
            for container in cls.ctr("containers", "ls", "-q").stdout.split():
                cls.ctr("containers", "delete", container)
        kill_process(cls.containerd)
        unmount_below(cls.t)
        remove_cgroup_dirs(CGROUP_PARENT)
        if not cls.runc_root_existed:
            try:
                os.rmdir(RUNC_ROOT)
            except OSError:
                pass  # not empty: another containerd's containers are there now

    @classmethod
    def remove_pod(cls, pod_id):
        cls.cri.StopPodSandbox(cls.api.StopPodSandboxRequest(pod_sandbox_id=pod_id), timeout=60)
        cls.cri.RemovePodSandbox(cls.api.RemovePodSandboxRequest(pod_sandbox_id=pod_id),
                                 timeout=60)

    def setUp(self):
        self.assert_all_free()

    # --- the kubelet's calls ------------------------------------------------------

    def namespaces(self):
        """Host network (no CNI), the sandbox's IPC, a PID namespace per container: what
        the kubelet asks for a hostNetwork pod."""
        return self.api.NamespaceOption(network=self.api.NODE, pid=self.api.CONTAINER,
                                        ipc=self.api.POD)

    def run_pod(self, name, annotations):
        """RunPodSandbox with the runtime handler "kcm": (pod id, its config)."""
        uid = f"{name}-{os.getpid()}"
        config = self.api.PodSandboxConfig(
            metadata=self.api.PodSandboxMetadata(name=name, uid=uid, namespace="kcm-test"),
            # No hostname: a host-network pod shares the host's UTS namespace, where
            # runc refuses to set one.
            log_directory=os.path.join(self.t, "logs", uid),
            annotations=annotations,
            linux=self.api.LinuxPodSandboxConfig(
                cgroup_parent=f"/{CGROUP_PARENT}/pod{uid}",
                security_context=self.api.LinuxSandboxSecurityContext(
                    namespace_options=self.namespaces())))
        pod_id = self.cri.RunPodSandbox(
            self.api.RunPodSandboxRequest(config=config, runtime_handler="kcm"),
            timeout=60).pod_sandbox_id
        self.addCleanup(self.remove_pod_quietly, pod_id)
        return pod_id, config

    def remove_pod_quietly(self, pod_id):
        try:
            self.remove_pod(pod_id)
        except self.grpc.RpcError:
            pass  # removed by the test already

    def create_container(self, pod_id, pod_config, name, attempt=0):
        """CreateContainer in the pod, with the pod's config as the kubelet sends it: the
        CRI plugin copies pod_annotations from it into the container's spec."""
        config = self.api.ContainerConfig(
            metadata=self.api.ContainerMetadata(name=name, attempt=attempt),
            image=self.api.ImageSpec(image=IMAGE + ":latest"),
            command=APP_COMMAND,
            log_path=f"{name}_{attempt}.log",
            linux=self.api.LinuxContainerConfig(
                security_context=self.api.LinuxContainerSecurityContext(
                    namespace_options=self.namespaces())))
        return self.cri.CreateContainer(
            self.api.CreateContainerRequest(pod_sandbox_id=pod_id, config=config,
                                            sandbox_config=pod_config),
            timeout=60).container_id

    def start_container(self, container_id):
        self.cri.StartContainer(self.api.StartContainerRequest(container_id=container_id),
                                timeout=60)

    def run_container(self, pod_id, pod_config, name):
        container_id = self.create_container(pod_id, pod_config, name)
        self.start_container(container_id)
        return container_id

    def stop_container(self, container_id):
        self.cri.StopContainer(
            self.api.StopContainerRequest(container_id=container_id, timeout=10), timeout=60)

    def container_pid(self, container_id):
        status = self.cri.ContainerStatus(
            self.api.ContainerStatusRequest(container_id=container_id, verbose=True), timeout=30)
        return json.loads(status.info["info"])["pid"]

    def sandbox_pid(self, pod_id):
        status = self.cri.PodSandboxStatus(
            self.api.PodSandboxStatusRequest(pod_sandbox_id=pod_id, verbose=True), timeout=30)
        return json.loads(status.info["info"])["pid"]

    def bundle_config(self, task_id):
        """The config.json the CRI plugin wrote and kcm-runtime edited for a task."""
        path = os.path.join(self.t, "state", "io.containerd.runtime.v2.task", NAMESPACE,
                            task_id, "config.json")
        with open(path) as f:
            return json.load(f)

    # --- checks from the host -------------------------------------------------------

    def assert_container_pinned(self, container_id, pool, count=1):
        """The container holds `count` lists of `pool` under its id, its cgroup's
        cpuset.cpus are their CPUs, and so is the affinity of every thread of every
        process in its cgroup. Returns the record's lists."""
        pid = self.container_pid(container_id)
        record = read_owners(self.conf).get(owner_file(container_id))
        self.assertIsNotNone(record, "container %s has no owner record: %s" % (
            container_id, read_owners(self.conf)))
        self.assertEqual((record["owner"], record["pid"], record["pool"]),
                         (container_id, pid, pool))
        self.assertEqual(len(record["cpuLists"]), count, record)
        for cpulist in record["cpuLists"]:
            self.assertIn(pid, read_tasks(self.conf)[(pool, cpulist)])
        cpus = expand_cpus(",".join(record["cpuLists"]))
        self.assertEqual(host_cpuset_cpus(pid), cpu_list(cpus))
        self.assert_every_thread_runs_on(pid, cpus)
        return record["cpuLists"]

    def assert_every_thread_runs_on(self, pid, cpus):
        procs = cgroup_pids(pid)
        self.assertIn(pid, procs)
        for proc in procs:
            for tid, allowed in process_cpus(proc).items():
                self.assertEqual(allowed, cpus, "pid %d thread %d" % (proc, tid))

    def assert_untouched(self, pid):
        """`pid` holds no list and runs where a container kcm leaves alone runs."""
        held = [key for key, pids in read_tasks(self.conf).items() if pid in pids]
        self.assertEqual(held, [])
        self.assertNotIn(pid, [r["pid"] for r in read_owners(self.conf).values()])
        self.assertEqual(host_cpuset_cpus(pid), unpinned_cpus())
        self.assert_every_thread_runs_on(pid, expand_cpus(unpinned_cpus()))

    def assert_all_free(self):
        """No list held and no owner record, in the files and as `kcm describe` says."""
        self.assertTrue(wait_for(lambda: busy_lists(self.conf) == {}, timeout=10),
                        busy_lists(self.conf))
        super().assert_all_free()
        r = subprocess.run([KCM, "describe", "--conf-dir=" + self.conf], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name, pool in json.loads(r.stdout)["pools"].items():
            for cpulist, entry in pool["cpuLists"].items():
                self.assertEqual(entry["tasks"], [], "%s:%s" % (name, cpulist))

    # --- the tests ------------------------------------------------------------------

    def test_configure_wrote_the_handler_containerd_reads(self):
        self.assertIn("edited " + self.main_config, self.configure.stdout)
        dump = subprocess.run(["containerd", "--config", self.main_config, "config", "dump"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(dump.returncode, 0, dump.stderr)
        section = dump.stdout.split("containerd.runtimes.kcm]", 1)[1].split("\n\n", 1)[0]
        self.assertIn('runtime_type = "io.containerd.runc.v2"', section)
        self.assertIn('pod_annotations = ["kcm.intel.com/*"]', section)
        self.assertEqual(re.search(r'BinaryName = "([^"]*)"', dump.stdout.split(
            "containerd.runtimes.kcm.options]", 1)[1]).group(1), RUNTIME)
        self.assertIn('sandbox_image = "%s:latest"' % PAUSE_IMAGE, dump.stdout)
        self.assertIn("restrict_oom_score_adj = true", dump.stdout)
        status = self.cri.Status(self.api.StatusRequest(), timeout=30).status
        runtime_ready = [c for c in status.conditions if c.type == "RuntimeReady"]
        self.assertEqual([c.status for c in runtime_ready], [True], status)

    def test_annotated_pod_app_is_pinned_and_sandbox_is_not(self):
        pod_id, pod_config = self.run_pod("pinned", {"kcm.intel.com/pool": "dataplane"})
        app = self.run_container(pod_id, pod_config, "app")
        (cpulist,) = self.assert_container_pinned(app, "dataplane")
        self.assertIn(cpulist, DATAPLANE_LISTS)
        self.assert_untouched(self.sandbox_pid(pod_id))
        # The CRI plugin copied the pod's annotation into both specs (pod_annotations);
        # kcm-runtime gave the hooks to the app only.
        sandbox_spec, app_spec = self.bundle_config(pod_id), self.bundle_config(app)
        for spec in (sandbox_spec, app_spec):
            self.assertEqual(spec["annotations"].get("kcm.intel.com/pool"), "dataplane")
        self.assertEqual(sandbox_spec["annotations"]["io.kubernetes.cri.container-type"],
                         "sandbox")
        self.assertNotIn("hooks", sandbox_spec)
        self.assertEqual([h["path"] for h in app_spec["hooks"]["prestart"]], [HOOK])
        self.assertIn(app, runtime_log_text(self.t))

        self.stop_container(app)
        self.assert_all_free()
        self.remove_pod(pod_id)
        self.assert_all_free()

    def test_per_container_annotations_and_release_on_pod_removal(self):
        pod_id, pod_config = self.run_pod("split", {
            "kcm.intel.com/pool.fwd": "dataplane", "kcm.intel.com/cores.fwd": "2",
            "kcm.intel.com/pool.ctl": "infra"})
        fwd = self.run_container(pod_id, pod_config, "fwd")
        ctl = self.run_container(pod_id, pod_config, "ctl")
        plain = self.run_container(pod_id, pod_config, "plain")
        self.assertEqual(sorted(self.assert_container_pinned(fwd, "dataplane", count=2)),
                         sorted(DATAPLANE_LISTS))
        self.assertEqual(self.assert_container_pinned(ctl, "infra"), [INFRA_LIST])
        self.assert_untouched(self.container_pid(plain))
        self.assert_untouched(self.sandbox_pid(pod_id))
        self.assertNotIn("hooks", self.bundle_config(plain))
        # As the kubelet does when a pod is deleted without its containers stopped first:
        # the CRI plugin stops and removes them, and their hooks release the lists.
        self.remove_pod(pod_id)
        self.assert_all_free()

    def test_full_pool_refuses_the_container_with_the_hooks_reason(self):
        hog_id, hog_config = self.run_pod("hog", {"kcm.intel.com/pool": "dataplane",
                                                  "kcm.intel.com/cores": "2"})
        hog = self.run_container(hog_id, hog_config, "hog")
        self.assert_container_pinned(hog, "dataplane", count=2)
        held = read_tasks(self.conf)

        late_id, late_config = self.run_pod("late", {"kcm.intel.com/pool": "dataplane"})
        late = self.create_container(late_id, late_config, "late")
        with self.assertRaises(self.grpc.RpcError) as refused:
            self.start_container(late)
        self.assertIn('pool "dataplane" has 0 free CPU lists (%d in use)' % len(DATAPLANE_LISTS),
                      refused.exception.details())
        self.assertIn("kcm-hook", refused.exception.details())
        # The refusal took nothing and left the holder as it was.
        self.assertEqual(read_tasks(self.conf), held)
        self.assertEqual(list(read_owners(self.conf)), [owner_file(hog)])
        self.assertEqual(
            self.cri.ContainerStatus(self.api.ContainerStatusRequest(container_id=late),
                                     timeout=30).status.state, self.api.CONTAINER_EXITED)

        # Once the holder's pod is gone, the kubelet's next attempt is pinned.
        self.remove_pod(hog_id)
        self.assert_all_free()
        retry = self.create_container(late_id, late_config, "late", attempt=1)
        self.start_container(retry)
        self.assert_container_pinned(retry, "dataplane")
        self.remove_pod(late_id)
        self.assert_all_free()


if __name__ == "__main__":
    ensure_grpc_interpreter()
    kcm_e2e.main("KCM_RUNTIME_BIN", "KCM_BIN")
