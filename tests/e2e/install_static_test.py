#!/usr/bin/env python3
"""The static programs and `kcm install` (docs/install.md, docs/cli.md "kcm install"):
the three programs packaging/static/build.sh makes have no program interpreter; the
installed kcm pins a command inside a chroot that holds only busybox and the installed
files; the installed kcm reaches an API server over HTTPS from there, trusting only the
service account's ca.crt, by IP and by a name in /etc/hosts (docs/install.md, "Names and
certificates"); installing over a copy that is executing never shows a half-written
file; a read-only target and one under a file fail naming the path.

The static programs come from $KCM_STATIC_DIR when set; otherwise this test runs
packaging/static/build.sh into $KCM_STATIC_OUT (meson sets it, with
$KCM_STATIC_BUILD_DIR, inside the build directory: the second run only relinks what
changed, and libcurl is cached). A failed build fails the test. Needs root (chroot,
mounts); exits 77 without it.
"""

import hashlib
import os
import stat
import struct
import subprocess
import sys
import threading
import time
import unittest

import kcm_e2e
from kcm_e2e import (DATAPLANE_LISTS, cpus_allowed_list, kill_process, make_temp_dir,
                     needs_cpus, read_tasks, wait_for, write_config_dir)

sys.path.insert(0, os.path.join(kcm_e2e.REPO, "tests", "k8s"))
import harness  # noqa: E402  (the API server model of tests/k8s)

PROGRAMS = ("kcm", "kcm-hook", "kcm-runtime")
BUILD_SH = os.path.join(kcm_e2e.REPO, "packaging", "static", "build.sh")
RBAC = os.path.join(kcm_e2e.REPO, "packaging", "kubernetes", "rbac.yaml")
API_NAME = "kcm-apiserver.test"


def static_dir():
    """The directory holding the three static programs, built when not given."""
    given = os.environ.get("KCM_STATIC_DIR", "")
    if given:
        return os.path.abspath(given)
    out = os.environ.get("KCM_STATIC_OUT", "")
    if not out:
        raise AssertionError("set KCM_STATIC_DIR to packaging/static/build.sh's OUTDIR, "
                             "or KCM_STATIC_OUT to where this test should build it")
    start = time.monotonic()
    # build.sh's output goes to this test's log (stderr), where a failure is explained.
    subprocess.run(["bash", BUILD_SH, out], check=True, stdout=sys.stderr,
                   stdin=subprocess.DEVNULL)
    print("packaging/static/build.sh took %.0f s" % (time.monotonic() - start),
          file=sys.stderr)
    return os.path.abspath(out)


def has_interpreter(path):
    """Whether an ELF64 file has a PT_INTERP program header: a dynamically linked
    program names its loader there; a static or static-pie one has none."""
    with open(path, "rb") as f:
        header = f.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2:
            raise AssertionError("%s is not an ELF64 file" % path)
        phoff, = struct.unpack_from("<Q", header, 32)
        phentsize, phnum = struct.unpack_from("<HH", header, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, = struct.unpack("<I", f.read(4))
            if p_type == 3:  # PT_INTERP
                return True
    return False


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_busybox_root(root):
    """A root holding only busybox and the applet links the test runs."""
    os.makedirs(os.path.join(root, "bin"))
    os.makedirs(os.path.join(root, "proc"))
    with open(kcm_e2e.BUSYBOX, "rb") as src, open(os.path.join(root, "bin", "busybox"),
                                                   "wb") as dst:
        dst.write(src.read())
    os.chmod(os.path.join(root, "bin", "busybox"), 0o755)
    for applet in ("sh", "cat", "sleep", "true"):
        os.symlink("busybox", os.path.join(root, "bin", applet))


def run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=60, **kwargs)


class InstallStaticTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.out = static_dir()
        cls.kcm = os.path.join(cls.out, "kcm")

    def setUp(self):
        self.tmp = make_temp_dir(self.addCleanup, "kcm-e2e-install-")

    def install(self, target, kcm=None):
        return run([kcm or self.kcm, "install", "--install-dir=" + target])

    def assert_installed(self, target):
        """`target` holds exactly the three programs, each 0755 and the same bytes as
        the build's."""
        self.assertEqual(sorted(os.listdir(target)), sorted(PROGRAMS))
        for name in PROGRAMS:
            path = os.path.join(target, name)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o755, path)
            self.assertEqual(digest(path), digest(os.path.join(self.out, name)), path)

    def test_the_programs_are_statically_linked(self):
        self.assertEqual(sorted(os.listdir(self.out)), sorted(PROGRAMS))
        for name in PROGRAMS:
            self.assertFalse(has_interpreter(os.path.join(self.out, name)),
                             "%s names a program interpreter: it is not static" % name)

    @needs_cpus(2)
    def test_installed_kcm_pins_a_command_in_a_root_with_only_busybox(self):
        root = os.path.join(self.tmp, "root")
        make_busybox_root(root)
        conf = write_config_dir(os.path.join(root, "etc", "kcm"))
        result = self.install(os.path.join(root, "opt", "bin"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual((result.stdout, result.stderr), ("", ""))
        self.assert_installed(os.path.join(root, "opt", "bin"))
        libraries = [os.path.join(d, f) for d, _, files in os.walk(root) for f in files
                     if ".so" in f]
        self.assertEqual(libraries, [])

        # The command's shell, cat and the installed kcm all come from the root; /proc is
        # mounted in a mount namespace of this command only.
        script = "cat /proc/self/status; echo KCM_CPUS_ASSIGNED=$KCM_CPUS_ASSIGNED"
        result = run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                      'mount -t proc proc "$1/proc" && exec chroot "$@"', "sh", root,
                      "/opt/bin/kcm", "isolate", "--pool=dataplane", "--", script],
                     env={"PATH": "/bin:/usr/bin:/sbin:/usr/sbin", "KCM_PROC_FS": "/proc"})
        self.assertEqual(result.returncode, 0, result.stderr)
        pinned = cpus_allowed_list(result.stdout)
        assigned = [line.split("=", 1)[1] for line in result.stdout.splitlines()
                    if line.startswith("KCM_CPUS_ASSIGNED=")]
        self.assertIn(pinned, DATAPLANE_LISTS, result.stdout)
        self.assertEqual(assigned, [pinned])
        # isolate took its PID back out of the list when the command ended.
        self.assertEqual({k: v for k, v in read_tasks(conf).items() if v}, {})

    def test_installed_kcm_reaches_the_api_server_by_ip_and_by_hosts_name(self):
        root = os.path.join(self.tmp, "root")
        make_busybox_root(root)
        write_config_dir(os.path.join(root, "etc", "kcm"))
        self.assertEqual(self.install(os.path.join(root, "opt", "bin")).returncode, 0)
        pki = os.path.join(self.tmp, "pki")
        os.mkdir(pki)
        ca = harness.make_ca(pki, "ca")
        cert, key = harness.make_server_cert(pki, "server", "ca",
                                             sans="IP:127.0.0.1,DNS:" + API_NAME)
        sa = os.path.join(root, "sa")
        os.mkdir(sa)
        for name, content in (("token", "token-1\n"), ("namespace", "kcm")):
            with open(os.path.join(sa, name), "w") as f:
                f.write(content)
        with open(ca) as src, open(os.path.join(sa, "ca.crt"), "w") as dst:
            dst.write(src.read())
        os.makedirs(os.path.join(root, "etc"), exist_ok=True)
        with open(os.path.join(root, "etc", "hosts"), "w") as f:
            f.write("127.0.0.1 %s\n" % API_NAME)
        server = harness.ApiServer(os.path.join(self.tmp, "apiserver"), cert, key, ca,
                                   settings={"nodes": {"n1": None}, "tokens": ["token-1"],
                                             "rbac": RBAC, "service_account": "kcm:kcm"})
        self.addCleanup(server.stop)

        for host in ("127.0.0.1", API_NAME):
            with self.subTest(host=host):
                result = run(["chroot", root, "/opt/bin/kcm", "discover"],
                             env={"PATH": "/bin:/usr/bin:/sbin:/usr/sbin",
                                  "KUBERNETES_SERVICE_HOST": host,
                                  "KUBERNETES_SERVICE_PORT": str(server.port),
                                  "KCM_K8S_SERVICEACCOUNT_DIR": "/sa", "NODE_NAME": "n1"})
                self.assertEqual(result.returncode, 0, result.stderr)
        capacity = server.state()["nodes"]["n1"]["status"]["capacity"]
        self.assertEqual(capacity["kcm.intel.com/dataplane"], str(len(DATAPLANE_LISTS)))

    def test_install_over_a_running_copy_never_shows_a_half_written_file(self):
        target = os.path.join(self.tmp, "bin")
        self.assertEqual(self.install(target).returncode, 0)
        installed = os.path.join(target, "kcm")
        conf = write_config_dir(os.path.join(self.tmp, "conf"))
        running = subprocess.Popen(
            [installed, "isolate", "--conf-dir=" + conf, "--pool=infra", "--", "sleep 60"],
            env={"PATH": "/bin:/usr/bin", "KCM_PROC_FS": "/proc"},
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(kill_process, running)
        self.assertTrue(wait_for(lambda: any(read_tasks(conf).values())),
                        "the installed kcm isolate never recorded its PID")

        # A reader opens the target name as fast as it can while it is replaced: each
        # open must see a whole program.
        expected = os.path.getsize(self.kcm)
        seen = []
        stop = threading.Event()

        def read_loop():
            while not stop.is_set():
                with open(installed, "rb") as f:
                    seen.append(len(f.read()))

        reader = threading.Thread(target=read_loop)
        reader.start()
        try:
            for _ in range(3):
                result = self.install(target)
                self.assertEqual(result.returncode, 0, result.stderr)
            # The running copy installs itself over itself: its own file is executing.
            result = self.install(target, kcm=installed)
            self.assertEqual(result.returncode, 0, result.stderr)
        finally:
            stop.set()
            reader.join()
        self.assertTrue(seen)
        self.assertEqual(sorted(set(seen)), [expected])
        self.assertIsNone(running.poll(), "the running copy died while it was replaced")
        self.assert_installed(target)  # and no temp file left behind

        running.terminate()
        self.assertEqual(running.wait(timeout=20), 128 + 15, running.stderr.read())

    def test_read_only_target_fails_naming_the_path(self):
        ro = os.path.join(self.tmp, "ro")
        os.makedirs(os.path.join(ro, "bin"))
        for target, cause in ((os.path.join(ro, "bin"), "Read-only file system"),
                              (os.path.join(ro, "missing", "bin"), "Read-only file system")):
            with self.subTest(target=target):
                result = run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                              'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" '
                              '&& exec "$2" install --install-dir="$3"',
                              "sh", ro, self.kcm, target])
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertTrue(result.stderr.startswith("kcm: error: "), result.stderr)
                self.assertIn('"%s' % target, result.stderr)
                self.assertIn(cause, result.stderr)
                self.assertEqual(result.stderr.count("\n"), 1, result.stderr)
        self.assertEqual(os.listdir(os.path.join(ro, "bin")), [])
        self.assertEqual(sorted(os.listdir(ro)), ["bin"])

    def test_target_under_a_file_fails_naming_the_path(self):
        a_file = os.path.join(self.tmp, "file")
        open(a_file, "w").close()
        target = os.path.join(a_file, "bin")
        result = self.install(target)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stderr,
                         'kcm: error: create directory "%s": Not a directory\n' % target)


def main():
    if os.geteuid() != 0:
        print("e2e tests need root; skipping", file=sys.stderr)
        sys.exit(kcm_e2e.SKIP)
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
