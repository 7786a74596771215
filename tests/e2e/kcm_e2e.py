"""Shared helpers of the kcm e2e tests: real runtimes (runc, crun, podman, containerd)
running busybox containers, with the built kcm-hook as their OCI hook, called directly or
added by the built kcm-runtime.

Standard library only. Binaries come from meson through the environment: KCM_HOOK_BIN
(kcm-hook), KCM_BIN (kcm), KCM_RUNTIME_BIN (kcm-runtime). Every test needs root
(namespaces, cgroups, sched_setaffinity on other processes) and exits 77 (meson's
"skipped") without it; every other missing piece is a failure.
"""

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest


def _binary(var):
    path = os.environ.get(var, "")
    return os.path.abspath(path) if path else ""


HOOK = _binary("KCM_HOOK_BIN")
KCM = _binary("KCM_BIN")
RUNTIME = _binary("KCM_RUNTIME_BIN")
SKIP = 77
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED_CONFIG = os.path.join(REPO, "config")
BUSYBOX = "/usr/bin/busybox"

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

# What a pinned container prints on stdout, then holds for the test to look at the
# tasks files (for tests that read the container's output rather than /out).
STATUS_SCRIPT = ("grep Cpus_allowed_list /proc/self/status; "
                 "echo cpuset.cpus: $(cat /sys/fs/cgroup/cpuset/cpuset.cpus "
                 "/sys/fs/cgroup/cpuset.cpus.effective 2>/dev/null); sleep 2")


def main(*binaries):
    """unittest.main, but exit 77 (skip) when not root, and 1 unless KCM_HOOK_BIN and
    each of `binaries` (more variable names) name an executable."""
    if os.geteuid() != 0:
        print("e2e tests need root; skipping", file=sys.stderr)
        sys.exit(SKIP)
    for var in ("KCM_HOOK_BIN",) + binaries:
        path = _binary(var)
        if not path or not os.access(path, os.X_OK):
            print("%s must name the built binary, not %r" % (var, path), file=sys.stderr)
            sys.exit(1)
    unittest.main(verbosity=2)


def make_temp_dir(add_cleanup, prefix):
    """A temp dir removed by `add_cleanup` (a test's addCleanup or addClassCleanup)."""
    path = tempfile.mkdtemp(prefix=prefix)
    add_cleanup(shutil.rmtree, path, ignore_errors=True)
    return path


def unmount_below(path):
    """Lazily unmounts whatever a runtime left mounted below `path` (shm, snapshots)."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for point in reversed(points):
        if point.startswith(path + "/"):
            subprocess.run(["umount", "-l", point], capture_output=True)


def wait_for(predicate, timeout=20.0, interval=0.05):
    """The first true value of predicate() within `timeout` seconds, else its last."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def kill_process(proc, timeout=10):
    """SIGTERM, then SIGKILL, a Popen we started."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


# --- the CPUs of this machine ----------------------------------------------------------

def cpu_list(cpus):
    """CPU numbers as the kernel prints a CPU list (Cpus_allowed_list, cpuset.cpus):
    ascending, each run of two or more consecutive CPUs collapsed ("0-1", "0,2", "2-4,7")."""
    cpus = sorted(set(cpus))
    parts = []
    i = 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        parts.append(str(cpus[i]) if i == j else "%d-%d" % (cpus[i], cpus[j]))
        i = j + 1
    return ",".join(parts)


# The CPUs this test may run on, and those its config directory uses: the two lowest.
# Every expected CPU list is computed from them, so that the tests hold on any machine
# (on a two-CPU one: dataplane lists "0" and "1", infra "0-1").
ALLOWED_CPUS = sorted(os.sched_getaffinity(0))
ALLOWED_LIST = cpu_list(ALLOWED_CPUS)
DATAPLANE_CPUS = ALLOWED_CPUS[:2]


def needs_cpus(n):
    """Skips a test that needs `n` CPUs this test may use (one dataplane list each)."""
    return unittest.skipIf(
        len(ALLOWED_CPUS) < n, "needs %d CPUs this test may use; its affinity allows %d: %s"
        % (n, len(ALLOWED_CPUS), ALLOWED_LIST))


def unpinned_cpus():
    """What a container kcm leaves alone runs on (its affinity and its cgroup's
    cpuset.cpus), as the kernel lists it: the CPUs of the cpuset hierarchy's root, below
    which the runtimes create their containers' cgroups; on a host, every online CPU."""
    for path in ("/sys/fs/cgroup/cpuset/cpuset.effective_cpus",  # v1
                 "/sys/fs/cgroup/cpuset.cpus.effective",  # v2
                 "/sys/devices/system/cpu/online"):
        try:
            with open(path) as f:
                return f.read().strip()
        except FileNotFoundError:
            pass
    raise AssertionError("no cpuset root and no /sys/devices/system/cpu/online")


# --- the kcm config directory -------------------------------------------------------

# An exclusive list on each of DATAPLANE_CPUS, and one shared list over both (one list
# each when this test may use a single CPU; tests that need two use needs_cpus(2)).
DATAPLANE_LISTS = [cpu_list([cpu]) for cpu in DATAPLANE_CPUS]
INFRA_LIST = cpu_list(DATAPLANE_CPUS)
# {pool: (exclusive, [cpulist, ...])}
POOLS = {"dataplane": (True, DATAPLANE_LISTS), "infra": (False, [INFRA_LIST])}


def write_config_dir(path):
    """POOLS as a config directory written by hand in the documented format (no
    owners/: the hook creates it when it first needs it)."""
    for name, (exclusive, lists) in POOLS.items():
        pool = os.path.join(path, "pools", name)
        os.makedirs(pool)
        with open(os.path.join(pool, "exclusive"), "w") as f:
            f.write("1" if exclusive else "0")
        for cpulist in lists:
            os.makedirs(os.path.join(pool, cpulist))
            open(os.path.join(pool, cpulist, "tasks"), "w").close()
    return path


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


def busy_lists(conf):
    """read_tasks without the lists nobody holds."""
    return {key: pids for key, pids in read_tasks(conf).items() if pids}


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


def owner_file(owner):
    """The file name of `owner`'s record in owners/: the id itself when it is safe
    ([A-Za-z0-9_.-]{1,128}, not beginning with '.'), else "sha256+" and its SHA-256 in
    hex, which no safe id can be."""
    if re.fullmatch(r"[A-Za-z0-9_.-]{1,128}", owner) and not owner.startswith("."):
        return owner + ".json"
    return "sha256+" + hashlib.sha256(owner.encode()).hexdigest() + ".json"


def start_time(pid):
    """Field 22 of /proc/<pid>/stat; None when the process is gone or a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()  # fields[0] is field 3, the state
    return None if fields[0] in ("Z", "X") else int(fields[19])


def expand_cpus(text):
    """The CPUs of a Linux CPU list ("0-2,8"), ascending."""
    cpus = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return sorted(cpus)


def affinity(pid):
    """Cpus_allowed_list of a live process, as its CPUs."""
    with open("/proc/%d/status" % pid) as f:
        cpus = cpus_allowed_list(f.read())
    if cpus is None:
        raise AssertionError("no Cpus_allowed_list for pid %d" % pid)
    return expand_cpus(cpus)


def write_owner(conf, owner, pid, pool, cpu_lists, file=None, start=None):
    """An owner record written by hand as kcm writes it, in owners/`file` (default: the
    owner's own file), with `pid`'s real start time unless `start` is given."""
    record = {"cpuLists": cpu_lists, "created": "2026-11-30T04:17:45Z", "owner": owner,
              "pid": pid, "pool": pool,
              "startTime": start_time(pid) if start is None else start}
    os.makedirs(os.path.join(conf, "owners"), exist_ok=True)
    with open(os.path.join(conf, "owners", file or owner_file(owner)), "w") as f:
        json.dump(record, f, indent=2)
    return record


def write_tasks(conf, pool, cpulist, pids):
    with open(os.path.join(conf, "pools", pool, cpulist, "tasks"), "w") as f:
        f.write(",".join(str(p) for p in pids))


def exclusive_pools(conf):
    pools = os.path.join(conf, "pools")
    out = set()
    for pool in os.listdir(pools):
        path = os.path.join(pools, pool, "exclusive")
        if not pool.startswith(".") and os.path.isfile(path):
            with open(path) as f:
                if f.read().strip() == "1":
                    out.add(pool)
    return out


def shared_exclusive_lists(conf):
    """Every exclusive list whose tasks hold two or more live processes: CPUs that kcm
    gave to one holder and that another one runs on too."""
    exclusive = exclusive_pools(conf)
    errors = []
    for (pool, cpulist), pids in read_tasks(conf).items():
        live = [pid for pid in pids if start_time(pid) is not None]
        if pool in exclusive and len(live) > 1:
            errors.append("%s:%s is held by live pids %s" % (pool, cpulist, live))
    return errors


def holding_errors(conf):
    """What breaks "no exclusive CPU is ever shared" (what node-report's "owners" check
    reports): shared_exclusive_lists, and each live holder (its pid alive with the
    recorded startTime) whose record names a list whose tasks lack its pid, which the
    next allocation would hand out again. [] when none."""
    errors = shared_exclusive_lists(conf)
    tasks = read_tasks(conf)
    for name, record in read_owners(conf).items():
        if start_time(record["pid"]) != record["startTime"]:
            continue
        for cpulist in record["cpuLists"]:
            if record["pid"] not in tasks.get((record["pool"], cpulist), []):
                errors.append("%s names %s:%s whose tasks lack its live pid %d" % (
                    name, record["pool"], cpulist, record["pid"]))
    return errors


def node_report(conf):
    """`kcm node-report` of `conf` on this machine's /proc, parsed."""
    r = subprocess.run([KCM, "node-report", "--conf-dir=" + conf], capture_output=True,
                       text=True, env=dict(os.environ, KCM_PROC_FS="/proc"), timeout=60)
    if r.returncode != 0:
        raise AssertionError("node-report failed: %s" % r.stderr)
    return json.loads(r.stdout)


class ConfTestCase(unittest.TestCase):
    """A test over the config directory at self.conf."""

    def assert_all_free(self):
        self.assertEqual(busy_lists(self.conf), {})
        self.assertEqual(read_owners(self.conf), {})

    def assert_no_shared_cpu(self):
        """holding_errors finds nothing, and node-report agrees."""
        self.assertEqual(holding_errors(self.conf), [])
        self.assert_owners_check(True)

    def assert_owners_check(self, ok):
        checks = node_report(self.conf)["checks"]
        self.assertIn("owners", checks, "node-report has no owners check")
        self.assertEqual(checks["owners"]["ok"], ok, checks["owners"])
        self.assertEqual(checks["owners"]["errors"] == [], ok, checks["owners"])

    def assert_holder(self, pid):
        """`pid` (live) either holds exactly the lists of its one record, and runs on
        their CPUs, or holds no list and has no record. Returns the record or None."""
        held = sorted(key for key, pids in read_tasks(self.conf).items() if pid in pids)
        records = [r for r in read_owners(self.conf).values() if r["pid"] == pid]
        if not records:
            self.assertEqual(held, [], "pid %d holds lists without a record" % pid)
            return None
        self.assertEqual(len(records), 1, records)
        (record,) = records
        self.assertEqual(held, sorted((record["pool"], l) for l in record["cpuLists"]),
                         "pid %d: its tasks are not its record's lists %s" % (pid, record))
        self.assertEqual(affinity(pid),
                         expand_cpus(",".join(record["cpuLists"])),
                         "pid %d does not run on its lists %s" % (pid, record["cpuLists"]))
        return record

    def assert_pinned(self, pid, owner):
        """`pid` holds the lists of `owner`'s record and runs on them."""
        record = self.assert_holder(pid)
        self.assertIsNotNone(record, "pid %d (%s) holds nothing" % (pid, owner))
        self.assertEqual(record["owner"], owner)
        self.assertIn(owner_file(owner), read_owners(self.conf))
        self.assertEqual(read_owners(self.conf)[owner_file(owner)], record)
        return record

    def one_dataplane_list(self, timeout=20.0):
        """Waits for a single container to hold a dataplane list: (cpulist, pids)."""
        busy = wait_for(lambda: busy_lists(self.conf), timeout)
        self.assertEqual(len(busy), 1, busy)
        ((pool, cpus), pids), = busy.items()
        self.assertEqual(pool, "dataplane")
        return cpus, pids


# --- kcm-hook and kcm-runtime -------------------------------------------------------

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


def write_runtime_config(root, conf, **extra):
    """A kcm-runtime config in `root`; returns its path (for $KCM_RUNTIME_CONFIG)."""
    config = {"hook": HOOK, "confDir": conf, "logFile": os.path.join(root, "kcm-runtime.log")}
    config.update(extra)
    path = os.path.join(root, "kcm-runtime.json")
    with open(path, "w") as f:
        json.dump(config, f)
    return path


def runtime_workspace(add_cleanup, prefix):
    """A temp dir (removed by `add_cleanup`) holding a config dir of POOLS and a
    kcm-runtime config naming it: (dir, conf dir, runtime config path)."""
    root = make_temp_dir(add_cleanup, prefix)
    conf = write_config_dir(os.path.join(root, "kcm"))
    return root, conf, write_runtime_config(root, conf)


def runtime_log_text(root):
    """The log of the kcm-runtime configured by write_runtime_config(root, ...)."""
    path = os.path.join(root, "kcm-runtime.log")
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        return f.read()


# --- a busybox root file system, as a directory and as a tar ------------------------

def make_rootfs(path):
    """A busybox root file system: /bin/busybox (static) and a symlink per applet, root
    in /etc/passwd and /etc/group, and an /out mount point."""
    for d in ("bin", "proc", "sys", "dev", "etc", "tmp", "root", "out"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(path, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    for applet in applets:
        link = os.path.join(path, "bin", applet)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    with open(os.path.join(path, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    with open(os.path.join(path, "etc", "group"), "w") as f:
        f.write("root:x:0:\n")
    return path


def rootfs_tar_bytes():
    """An uncompressed tar of make_rootfs's file system."""
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="kcm-e2e-rootfs-") as tmp:
        rootfs = make_rootfs(os.path.join(tmp, "rootfs"))
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name in sorted(os.listdir(rootfs)):
                tar.add(os.path.join(rootfs, name), arcname=name)
    return buf.getvalue()


def write_oci_archive(path, image_name, tag="latest", cmd=("sh",)):
    """An OCI image layout tar (oci-layout, index.json, blobs) holding one busybox image
    whose command is `cmd`.

    The single layer is uncompressed, so its digest is also its diff ID.
    """
    blobs = {}

    def blob(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    layer = blob(rootfs_tar_bytes())
    config = blob(json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": list(cmd), "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
    }).encode())
    manifest = blob(json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"),
        "layers": [dict(layer, mediaType="application/vnd.oci.image.layer.v1.tar")],
    }).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [dict(manifest,
                           mediaType="application/vnd.oci.image.manifest.v1+json",
                           annotations={"io.containerd.image.name": f"{image_name}:{tag}",
                                        "org.opencontainers.image.ref.name": tag})],
    }
    with tarfile.open(path, "w") as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        add("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        add("index.json", json.dumps(index).encode())
        for digest, data in blobs.items():
            add("blobs/sha256/" + digest.split(":", 1)[1], data)
    return path


# --- bundles and containers -----------------------------------------------------------

def write_bundle(path, args, annotations=None, rootfs=None, out=None, hooks=None):
    """An OCI bundle at `path`: `runc spec`'s config.json running `args` on `rootfs` (by
    default a busybox root file system made in the bundle), with `out` bind-mounted at
    /out and `hooks` when given."""
    os.makedirs(path, exist_ok=True)
    if rootfs is None:
        make_rootfs(os.path.join(path, "rootfs"))
    subprocess.run(["runc", "spec", "--bundle", path], check=True)
    config_path = os.path.join(path, "config.json")
    with open(config_path) as f:
        spec = json.load(f)
    if rootfs is not None:
        spec["root"] = {"path": rootfs, "readonly": True}
    spec["process"]["terminal"] = False
    spec["process"]["args"] = args
    spec["process"]["env"] = ["PATH=/bin"]
    if annotations is not None:
        spec["annotations"] = dict(annotations)
    if out is not None:
        spec["mounts"].append({"destination": "/out", "type": "bind", "source": out,
                               "options": ["rbind", "rw"]})
    if hooks is not None:
        spec["hooks"] = hooks
    with open(config_path, "w") as f:
        json.dump(spec, f, indent=2)
    return path


def wait_ready(name, out, timeout=15):
    """Waits for PROBE in container `name` to report into its /out directory `out`."""
    if not wait_for(lambda: os.path.exists(os.path.join(out, "ready")), timeout, 0.02):
        raise AssertionError("container %s did not report" % name)


def seen(out):
    """(affinity, cpuset.cpus) as a PROBE container read them."""
    def read(name):
        with open(os.path.join(out, name)) as f:
            return f.read().strip()
    return read("affinity"), read("cpuset")


def cpus_allowed_list(status_text):
    """Cpus_allowed_list of a /proc/<pid>/status text, or None."""
    for line in status_text.splitlines():
        if line.startswith("Cpus_allowed_list:"):
            return line.split(":", 1)[1].strip()
    return None


def cpuset_cpus(output):
    """The cpuset.cpus that STATUS_SCRIPT printed, or None."""
    for line in output.splitlines():
        if line.startswith("cpuset.cpus:"):
            return line.split(":", 1)[1].strip()
    return None


def host_cpuset_cpus(pid):
    """cpuset.cpus of `pid`'s cpuset cgroup, read on the host (v1 or v2); None if gone."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "cpuset" in controllers.split(","):
            candidates = [f"/sys/fs/cgroup/cpuset{path}/cpuset.cpus"]
            break
    else:
        path = next((l.split(":", 2)[2] for l in lines if l.startswith("0::")), None)
        if path is None:
            return None
        candidates = [f"/sys/fs/cgroup{path}/cpuset.cpus.effective"]
    for candidate in candidates:
        try:
            with open(candidate) as f:
                return f.read().strip()
        except OSError:
            pass
    return None


def remove_cgroup_dirs(name):
    """Removes the empty /sys/fs/cgroup/<controller>/<name> directories a runtime leaves
    behind for a namespace (containerd) or parent (podman)."""
    base = "/sys/fs/cgroup"
    paths = [os.path.join(base, name)] + [os.path.join(base, c, name) for c in os.listdir(base)]
    for path in paths:
        if not os.path.isdir(path) or os.path.islink(path):
            continue
        for child in sorted(os.listdir(path)):
            if os.path.isdir(os.path.join(path, child)):
                try:
                    os.rmdir(os.path.join(path, child))
                except OSError:
                    pass
        try:
            os.rmdir(path)
        except OSError:
            pass


def podman_command(tmp, *options):
    """podman with all of its state below `tmp` (vfs storage, cgroupfs), so that a test
    touches nothing of the host's podman; `options` are more global options."""
    return ["podman", "--root", os.path.join(tmp, "root"),
            "--runroot", os.path.join(tmp, "runroot"),
            "--tmpdir", os.path.join(tmp, "libpod"),
            "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs"] + list(options)


def podman_run_options(name, annotations):
    """`podman run` options of a test container: its name, no network, fixed ulimits and
    its annotations ({key: value})."""
    args = ["--name", name, "--network=none",
            "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
    for key, value in annotations.items():
        args += ["--annotation", "%s=%s" % (key, value)]
    return args


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
        write_bundle(self.bundle, args or ["sh", "-c", PROBE], annotations, rootfs=rootfs,
                     out=self.out, hooks=hooks_for(conf, stages))

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
        wait_ready(self.id, self.out, timeout)

    def seen(self):
        return seen(self.out)

    def stop(self, timeout=15):
        """Lets the container exit, then deletes it (the runtime runs poststop)."""
        open(os.path.join(self.out, "stop"), "w").close()
        if not wait_for(lambda: self.runtime.status(self.id) in ("stopped", None), timeout,
                        0.02):
            raise AssertionError("container %s did not exit" % self.id)
        subprocess.run(self.runtime.command("delete", self.id), check=True,
                       capture_output=True, timeout=60)

    def force_delete(self):
        subprocess.run(self.runtime.command("delete", "-f", self.id),
                       capture_output=True, timeout=60)


class Runtime:
    """A runtime command line: runc directly; crun in a private mount namespace without
    /sys/fs/cgroup/unified, since crun refuses hybrid cgroup hosts otherwise. `root` is
    the runtime's state directory (--root), its default when None."""

    def __init__(self, name, root=None):
        self.name = name
        self.root = root

    def command(self, *args):
        args = (["--root", self.root] if self.root else []) + list(args)
        if self.name == "crun":
            return ["unshare", "-m", "sh", "-c",
                    'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun "$@"', "sh"] + args
        return [self.name] + args

    def status(self, container_id):
        r = subprocess.run(self.command("state", container_id), capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout).get("status")


class RuntimeTestCase(ConfTestCase):
    """A temp work dir with a busybox rootfs and a config dir of POOLS; containers
    started through new_container() are force-deleted at the end."""

    RUNTIME = "runc"

    @classmethod
    def setUpClass(cls):
        cls.workdir = make_temp_dir(cls.addClassCleanup, "kcm-e2e-")
        cls.rootfs = make_rootfs(os.path.join(cls.workdir, "rootfs"))
        cls.runtime = Runtime(cls.RUNTIME)

    def setUp(self):
        self.work = tempfile.mkdtemp(dir=self.workdir)
        self.conf = write_config_dir(os.path.join(self.work, "conf"))
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
