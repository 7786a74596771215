"""Shared helpers of the kcm e2e tests: real runtimes (runc, crun, podman) running
busybox containers whose OCI hooks are the built kcm-hook.

Standard library only. Binaries come from meson through the environment:
KCM_HOOK_BIN (kcm-hook), KCM_BIN (kcm). Every test runs as root and exits 77 (meson's
"skipped") when it is not.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HOOK = os.environ.get("KCM_HOOK_BIN", "")
KCM = os.environ.get("KCM_BIN", "")
BUSYBOX = "/bin/busybox"

# What each container reports, into /out (a bind mount of a host directory): its
# affinity and its cgroup's cpuset.cpus (v1 path, else v2), both read from inside.
# It then waits for /out/stop so that several containers can run at once.
PROBE = (
    "awk '/^Cpus_allowed_list/{print $2}' /proc/self/status > /out/affinity; "
    "(cat /sys/fs/cgroup/cpuset/cpuset.cpus || cat /sys/fs/cgroup/cpuset.cpus) "
    "> /out/cpuset 2>/dev/null; "
    "touch /out/ready; "
    "while [ ! -e /out/stop ]; do sleep 0.05; done"
)


def main():
    """unittest.main, but exit 77 (skip) when not root: the tests need real runtimes,
    cgroups and sched_setaffinity on other processes."""
    if os.geteuid() != 0:
        print("e2e tests need root; skipping", file=sys.stderr)
        sys.exit(77)
    if not HOOK or not os.access(HOOK, os.X_OK):
        print("KCM_HOOK_BIN is not set to the built kcm-hook", file=sys.stderr)
        sys.exit(1)
    unittest.main(verbosity=2)


def make_rootfs(path):
    """A busybox root file system: /bin/busybox (static) and a symlink per applet."""
    os.makedirs(os.path.join(path, "bin"))
    shutil.copy2(BUSYBOX, os.path.join(path, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    for applet in applets:
        link = os.path.join(path, "bin", applet)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    for d in ("proc", "sys", "dev", "etc", "tmp", "out"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    return path


def write_config_dir(path, pools):
    """A config directory written by hand in the documented format.
    pools: {name: (exclusive, [cpulist, ...])}."""
    for name, (exclusive, lists) in pools.items():
        pool = os.path.join(path, "pools", name)
        os.makedirs(pool)
        with open(os.path.join(pool, "exclusive"), "w") as f:
            f.write("1" if exclusive else "0")
        for cpulist in lists:
            os.makedirs(os.path.join(pool, cpulist))
            open(os.path.join(pool, cpulist, "tasks"), "w").close()
    return path


# This machine has 2 CPUs: two exclusive lists and one shared list over both.
TWO_CPU_POOLS = {"dataplane": (True, ["0", "1"]), "infra": (False, ["0-1"])}


def read_tasks(conf):
    """{(pool, cpulist): [pid, ...]} of every tasks file."""
    out = {}
    pools = os.path.join(conf, "pools")
    for pool in sorted(os.listdir(pools)):
        for cpulist in sorted(os.listdir(os.path.join(pools, pool))):
            tasks = os.path.join(pools, pool, cpulist, "tasks")
            if cpulist.startswith(".") or not os.path.isfile(tasks):
                continue
            with open(tasks) as f:
                text = f.read().strip()
            out[(pool, cpulist)] = [int(p) for p in text.split(",")] if text else []
    return out


def read_owners(conf):
    """{file name: record} of owners/*.json (dot-named temp files skipped)."""
    owners = os.path.join(conf, "owners")
    if not os.path.isdir(owners):
        return {}
    out = {}
    for name in sorted(os.listdir(owners)):
        if name.startswith("."):
            continue
        with open(os.path.join(owners, name)) as f:
            out[name] = json.load(f)
    return out


def run_hook(stage, state, conf, env=None, timeout=30):
    """Runs kcm-hook with `state` (a dict or raw bytes/str) on stdin."""
    data = state if isinstance(state, (bytes, str)) else json.dumps(state)
    if isinstance(data, str):
        data = data.encode()
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([HOOK, "--conf-dir=" + conf, stage], input=data,
                          capture_output=True, env=full_env, timeout=timeout)


def hooks_for(conf, stages=("prestart", "poststop")):
    """The OCI hooks block a bundle needs for kcm (what kcm-runtime would add)."""
    return {
        stage: [{"path": HOOK, "args": ["kcm-hook", "--conf-dir=" + conf, stage]}]
        for stage in stages
    }


class Container:
    """One bundle and its container id; `out` is its /out directory on the host."""

    def __init__(self, runtime, workdir, rootfs, conf, name, annotations, args=None,
                 stages=("prestart", "poststop")):
        self.runtime = runtime
        self.id = "kcm-e2e-%d-%s" % (os.getpid(), name)
        self.bundle = os.path.join(workdir, name)
        self.out = os.path.join(self.bundle, "out")
        self.stderr_path = os.path.join(self.bundle, "runtime.stderr")
        os.makedirs(self.out)
        subprocess.run(["runc", "spec", "--bundle", self.bundle], check=True)
        path = os.path.join(self.bundle, "config.json")
        with open(path) as f:
            config = json.load(f)
        config["root"] = {"path": rootfs, "readonly": True}
        config["process"]["terminal"] = False
        config["process"]["args"] = args or ["sh", "-c", PROBE]
        config["annotations"] = dict(annotations)
        config["mounts"].append({"destination": "/out", "type": "bind", "source": self.out,
                                 "options": ["rbind", "rw"]})
        config["hooks"] = hooks_for(conf, stages)
        with open(path, "w") as f:
            json.dump(config, f, indent=2)

    def start(self):
        """Runs the container detached; returns (returncode, runtime's stderr)."""
        with open(self.stderr_path, "wb") as err:
            rc = subprocess.run(self.runtime.command("run", "-d", "--bundle", self.bundle,
                                                     self.id),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, timeout=60).returncode
        with open(self.stderr_path, errors="replace") as f:
            return rc, f.read()

    def wait_ready(self, timeout=15):
        deadline = time.monotonic() + timeout
        while not os.path.exists(os.path.join(self.out, "ready")):
            if time.monotonic() > deadline:
                raise AssertionError("container %s did not report" % self.id)
            time.sleep(0.02)

    def seen(self):
        """(affinity, cpuset.cpus) as the container read them."""
        def read(name):
            with open(os.path.join(self.out, name)) as f:
                return f.read().strip()
        return read("affinity"), read("cpuset")

    def stop(self, timeout=15):
        """Lets the container exit, then deletes it (the runtime runs poststop)."""
        open(os.path.join(self.out, "stop"), "w").close()
        deadline = time.monotonic() + timeout
        while self.runtime.status(self.id) not in ("stopped", None):
            if time.monotonic() > deadline:
                raise AssertionError("container %s did not exit" % self.id)
            time.sleep(0.02)
        subprocess.run(self.runtime.command("delete", self.id), check=True,
                       capture_output=True, timeout=60)

    def force_delete(self):
        subprocess.run(self.runtime.command("delete", "-f", self.id),
                       capture_output=True, timeout=60)


class Runtime:
    """A runtime command line: runc directly; crun in a private mount namespace without
    /sys/fs/cgroup/unified, since crun refuses hybrid cgroup hosts otherwise."""

    def __init__(self, name):
        self.name = name

    def command(self, *args):
        if self.name == "crun":
            return ["unshare", "-m", "sh", "-c",
                    'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun "$@"', "sh"] + \
                list(args)
        return [self.name] + list(args)

    def status(self, container_id):
        r = subprocess.run(self.command("state", container_id), capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout).get("status")


class RuntimeTestCase(unittest.TestCase):
    """A temp work dir with a busybox rootfs and a two-CPU config dir; containers
    started through new_container() are force-deleted at the end."""

    RUNTIME = "runc"

    @classmethod
    def setUpClass(cls):
        cls.workdir_obj = tempfile.TemporaryDirectory(prefix="kcm-e2e-")
        cls.rootfs = make_rootfs(os.path.join(cls.workdir_obj.name, "rootfs"))
        cls.runtime = Runtime(cls.RUNTIME)

    @classmethod
    def tearDownClass(cls):
        cls.workdir_obj.cleanup()

    def setUp(self):
        self.work = tempfile.mkdtemp(dir=self.workdir_obj.name)
        self.conf = write_config_dir(os.path.join(self.work, "conf"), TWO_CPU_POOLS)
        self.containers = []

    def tearDown(self):
        for c in self.containers:
            open(os.path.join(c.out, "stop"), "w").close()
            c.force_delete()

    def new_container(self, name, annotations, **kwargs):
        c = Container(self.runtime, self.work, self.rootfs, self.conf, name, annotations,
                      **kwargs)
        self.containers.append(c)
        return c

    def started(self, name, annotations, **kwargs):
        c = self.new_container(name, annotations, **kwargs)
        rc, err = c.start()
        self.assertEqual(rc, 0, "%s run failed: %s" % (self.runtime.name, err))
        c.wait_ready()
        return c

    def assert_all_free(self):
        self.assertEqual({k: v for k, v in read_tasks(self.conf).items() if v}, {})
        self.assertEqual(read_owners(self.conf), {})
