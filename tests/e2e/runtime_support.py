"""Shared helpers for the kcm-runtime end-to-end tests (tests/e2e/runtime_*_test.py).

Standard library only. The tests need root (namespaces, cgroups, real runtimes) and skip
with exit code 77 without it; every other missing piece is a failure. Binary paths come
from the environment meson sets: KCM_RUNTIME_BIN and KCM_HOOK_BIN.
"""

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

SKIP = 77
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED_CONFIG = os.path.join(REPO, "config")
BUSYBOX = "/usr/bin/busybox"
# The applets the test containers run.
APPLETS = ["sh", "cat", "grep", "sleep", "echo", "true"]


def require_root():
    """Exits 77 (meson's skip) when not root; call before unittest.main()."""
    if os.geteuid() != 0:
        print("SKIP: the kcm-runtime e2e tests need root")
        sys.exit(SKIP)


def binary(var):
    path = os.environ.get(var)
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"${var} must name the built binary, not {path!r}")
    return os.path.abspath(path)


def runtime_bin():
    return binary("KCM_RUNTIME_BIN")


def hook_bin():
    return binary("KCM_HOOK_BIN")


def make_temp_dir(add_cleanup, prefix):
    """A temp dir removed by `add_cleanup` (a test's addCleanup or addClassCleanup)."""
    path = tempfile.mkdtemp(prefix=prefix)
    add_cleanup(shutil.rmtree, path, ignore_errors=True)
    return path


# --- the kcm config directory -------------------------------------------------------

DATAPLANE_LISTS = ["0", "1"]


def make_conf_dir(root):
    """The 2-CPU layout every test uses: dataplane exclusive 0 and 1, infra shared 0-1."""
    conf = os.path.join(root, "kcm")
    layout = {"dataplane": ("1", DATAPLANE_LISTS), "infra": ("0", ["0-1"])}
    for pool, (exclusive, lists) in layout.items():
        for cpus in lists:
            os.makedirs(os.path.join(conf, "pools", pool, cpus))
            with open(os.path.join(conf, "pools", pool, cpus, "tasks"), "w"):
                pass
        with open(os.path.join(conf, "pools", pool, "exclusive"), "w") as f:
            f.write(exclusive)
    os.makedirs(os.path.join(conf, "owners"))
    return conf


def tasks(conf, pool="dataplane"):
    """{cpulist: [pids]} of a pool."""
    out = {}
    pool_dir = os.path.join(conf, "pools", pool)
    for name in sorted(os.listdir(pool_dir)):
        path = os.path.join(pool_dir, name, "tasks")
        if os.path.isfile(path):
            with open(path) as f:
                text = f.read().strip()
            out[name] = [int(p) for p in text.split(",") if p]
    return out


def busy_lists(conf, pool="dataplane"):
    return {name: pids for name, pids in tasks(conf, pool).items() if pids}


def wait_for(predicate, timeout=20.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def write_runtime_config(root, conf, **extra):
    """A kcm-runtime config in `root`; returns its path (for $KCM_RUNTIME_CONFIG)."""
    config = {"hook": hook_bin(), "confDir": conf, "logFile": os.path.join(root, "kcm-runtime.log")}
    config.update(extra)
    path = os.path.join(root, "kcm-runtime.json")
    with open(path, "w") as f:
        json.dump(config, f)
    return path


# --- a busybox root file system, as a directory and as a tar ------------------------

def make_rootfs(path):
    for d in ["bin", "proc", "sys", "dev", "etc", "tmp", "root"]:
        os.makedirs(os.path.join(path, d), exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(path, "bin", "busybox"))
    for applet in APPLETS:
        os.symlink("busybox", os.path.join(path, "bin", applet))
    with open(os.path.join(path, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    with open(os.path.join(path, "etc", "group"), "w") as f:
        f.write("root:x:0:\n")
    return path


def rootfs_tar_bytes():
    """An uncompressed tar of a busybox root file system, built in memory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add_dir(name):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        for d in ["bin", "proc", "sys", "dev", "etc", "tmp", "root"]:
            add_dir(d)
        with open(BUSYBOX, "rb") as f:
            data = f.read()
        info = tarfile.TarInfo("bin/busybox")
        info.size = len(data)
        info.mode = 0o755
        tar.addfile(info, io.BytesIO(data))
        for applet in APPLETS:
            info = tarfile.TarInfo("bin/" + applet)
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tar.addfile(info)
        for name, text in [("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
                           ("etc/group", b"root:x:0:\n")]:
            info = tarfile.TarInfo(name)
            info.size = len(text)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(text))
    return buf.getvalue()


def write_oci_archive(path, image_name, tag="latest"):
    """An OCI image layout tar (oci-layout, index.json, blobs) holding one busybox image.

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
        "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
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


def write_bundle(path, args, annotations=None):
    """An OCI bundle at `path` for runc: busybox rootfs and `runc spec`'s config.json."""
    os.makedirs(path)
    make_rootfs(os.path.join(path, "rootfs"))
    subprocess.run(["runc", "spec"], cwd=path, check=True)
    config_path = os.path.join(path, "config.json")
    with open(config_path) as f:
        spec = json.load(f)
    spec["process"]["terminal"] = False
    spec["process"]["args"] = args
    spec["process"]["env"] = ["PATH=/bin"]
    if annotations is not None:
        spec["annotations"] = annotations
    with open(config_path, "w") as f:
        json.dump(spec, f, indent="\t")
    return path


def cpus_allowed_list(status_text):
    for line in status_text.splitlines():
        if line.startswith("Cpus_allowed_list:"):
            return line.split(":", 1)[1].strip()
    return None


# What every pinned container prints, then holds for the test to look at the tasks files.
STATUS_SCRIPT = ("grep Cpus_allowed_list /proc/self/status; "
                 "echo cpuset.cpus: $(cat /sys/fs/cgroup/cpuset/cpuset.cpus "
                 "/sys/fs/cgroup/cpuset.cpus.effective 2>/dev/null); sleep 2")


def cpuset_cpus(output):
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
