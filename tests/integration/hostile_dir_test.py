#!/usr/bin/env python3
"""Integration tests of `kcm` and `kcm-hook` against hostile configuration directories:
hard links planted where kcm writes, a --conf-dir that is not a kcm configuration, the
modes of the lock and the owner records, and a lock held by someone else.

The binaries are $KCM_BIN and $KCM_HOOK_BIN. Cases that run a program as user nobody
need root and skip otherwise.
"""
import fcntl
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

KCM = os.environ.get("KCM_BIN", "build/cli/kcm")
HOOK = os.environ.get("KCM_HOOK_BIN", "build/hook/kcm-hook")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
from kcm_e2e import cpu_list  # noqa: E402
TOPOLOGIES = os.path.join(os.path.dirname(HERE), "fixtures", "topologies")
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
NOT_KCM = "is not a kcm configuration directory (no pools/): run kcm init"
PROC = {"KCM_PROC_FS": "/proc"}


def run(argv, env=None, stdin=None, umask=None, timeout=60):
    full_env = dict(os.environ)
    for k in ("KCM_PROC_FS", "KCM_SYS_FS", "KCM_LOCK_TIMEOUT", "KCM_LOG_LEVEL",
              "KUBERNETES_SERVICE_HOST"):
        full_env.pop(k, None)
    full_env.update(env or {})
    return subprocess.run(argv, env=full_env, input=stdin, capture_output=True, text=True,
                          timeout=timeout,
                          preexec_fn=None if umask is None else (lambda: os.umask(umask)))


def snapshot(root):
    """root and everything under it: type, mode, link count, content or link target."""
    def entry(path):
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            return ("link", os.readlink(path))
        if stat.S_ISDIR(st.st_mode):
            return ("dir", stat.S_IMODE(st.st_mode))
        with open(path, "rb") as f:
            return ("file", stat.S_IMODE(st.st_mode), st.st_nlink, f.read())
    out = {".": entry(root)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            out[os.path.relpath(path, root)] = entry(path)
    return out


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def write_file(path, content, mode):
    with open(path, "w") as f:
        f.write(content)
    os.chmod(path, mode)


def write_conf(root, pools):
    """A configuration directory as `kcm init` leaves it, pools given by hand."""
    os.makedirs(root, mode=0o755, exist_ok=True)
    os.chmod(root, 0o755)
    write_file(os.path.join(root, "lock"), "", 0o600)
    os.mkdir(os.path.join(root, "owners"), 0o700)
    for pool, (exclusive, lists) in pools.items():
        pdir = os.path.join(root, "pools", pool)
        os.makedirs(pdir)
        write_file(os.path.join(pdir, "exclusive"), "1" if exclusive else "0", 0o644)
        for name, tasks in lists.items():
            os.mkdir(os.path.join(pdir, name))
            write_file(os.path.join(pdir, name, "tasks"), ",".join(map(str, tasks)), 0o644)
    for dirpath, _, _ in os.walk(root):
        if os.path.basename(dirpath) != "owners":
            os.chmod(dirpath, 0o755)
    return root


def tasks_of(conf, pool, cpus):
    with open(os.path.join(conf, "pools", pool, cpus, "tasks")) as f:
        return f.read()


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kcm-hostile-test-")
        os.chmod(self.tmp, 0o755)  # so user nobody can reach what a test lets it
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        cpus = sorted(os.sched_getaffinity(0))
        self.cpu = str(cpus[-1])
        self.conf = write_conf(os.path.join(self.tmp, "kcm"), {
            "dataplane": (True, {self.cpu: []}),
            "infra": (False, {cpu_list(cpus): []}),
        })
        self.lock = os.path.join(self.conf, "lock")
        os.mkdir(os.path.join(self.tmp, "outside"), 0o755)

    def outside_file(self, name):
        """A file outside the configuration, private to its owner."""
        path = os.path.join(self.tmp, "outside", name)
        write_file(path, "keep\n", 0o600)
        return path

    def assertUntouched(self, path):
        with open(path) as f:
            self.assertEqual(f.read(), "keep\n")
        self.assertEqual(mode_of(path), 0o600)
        self.assertEqual(os.stat(path).st_nlink, 1, "a name of it was left in the directory")

    def assertReadable(self):
        r = run([KCM, "describe", "--conf-dir=" + self.conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run([KCM, "reconcile", "--conf-dir=" + self.conf], env=PROC)
        self.assertEqual(r.returncode, 0, r.stderr)

    def hold_lock(self, operation=fcntl.LOCK_EX):
        fd = os.open(self.lock, os.O_RDONLY | os.O_CLOEXEC)
        fcntl.flock(fd, operation)
        return fd

    def hook_state(self, pid):
        return json.dumps({"ociVersion": "1.0.2", "id": "hostile", "status": "creating",
                           "pid": pid, "bundle": "/nonexistent",
                           "annotations": {"kcm.intel.com/pool": "dataplane"}})

    def sleeper(self):
        p = subprocess.Popen(["sleep", "60"])
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        return p


class PlantedLinkTest(Base):
    """A hard link planted where kcm opens a file for writing: the other file keeps its
    content, mode and single name, and the directory stays usable."""

    def test_lock_linked_elsewhere_is_refused_by_writers(self):
        secret = self.outside_file("secret")
        os.remove(self.lock)
        os.link(secret, self.lock)
        before = snapshot(self.conf)
        for argv in ([KCM, "reconcile", "--conf-dir=" + self.conf],
                     [KCM, "isolate", "--conf-dir=" + self.conf, "--pool=infra", "true"]):
            r = run(argv, env=PROC)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn(f'open "{self.lock}": has 2 names (a hard link), refusing to write '
                          "to it", r.stderr)
        self.assertEqual(snapshot(self.conf), before)
        r = run([KCM, "describe", "--conf-dir=" + self.conf])  # a reader writes nothing
        self.assertEqual(r.returncode, 0, r.stderr)
        os.remove(self.lock)
        self.assertUntouched(secret)

    def test_owner_and_tasks_temp_names_of_isolate(self):
        # The temp names carry the writer's pid: hold the lock while isolate starts, plant
        # the links for its pid, then let it in.
        tasks_secret = self.outside_file("tasks-secret")
        owner_secret = self.outside_file("owner-secret")
        held = self.hold_lock()
        p = subprocess.Popen([KCM, "isolate", "--conf-dir=" + self.conf, "--pool=dataplane",
                              "true"], env={**os.environ, **PROC, "KCM_LOCK_TIMEOUT": "30"})
        os.link(tasks_secret,
                os.path.join(self.conf, "pools/dataplane", self.cpu, f".tasks.tmp-{p.pid}"))
        os.link(owner_secret,
                os.path.join(self.conf, "owners", f".isolate-{p.pid}.json.tmp-{p.pid}"))
        os.close(held)
        self.assertEqual(p.wait(timeout=30), 0)
        self.assertUntouched(tasks_secret)
        self.assertUntouched(owner_secret)
        self.assertEqual(tasks_of(self.conf, "dataplane", self.cpu), "")
        self.assertEqual(os.listdir(os.path.join(self.conf, "owners")), [])
        self.assertEqual(os.listdir(os.path.join(self.conf, "pools/dataplane", self.cpu)),
                         ["tasks"])
        self.assertReadable()

    def test_tasks_temp_name_of_reconcile(self):
        dead = subprocess.Popen(["true"])
        dead.wait()
        with open(os.path.join(self.conf, "pools/dataplane", self.cpu, "tasks"), "w") as f:
            f.write(str(dead.pid))
        secret = self.outside_file("secret")
        held = self.hold_lock()
        p = subprocess.Popen([KCM, "reconcile", "--conf-dir=" + self.conf],
                             env={**os.environ, **PROC, "KCM_LOCK_TIMEOUT": "30"},
                             stdout=subprocess.PIPE, text=True)
        os.link(secret, os.path.join(self.conf, "pools/dataplane", self.cpu, f".tasks.tmp-{p.pid}"))
        os.close(held)
        out, _ = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(json.loads(out)["reclaimedCpuLists"],
                         [{"cpus": self.cpu, "pid": dead.pid, "pool": "dataplane"}])
        self.assertUntouched(secret)
        self.assertEqual(tasks_of(self.conf, "dataplane", self.cpu), "")
        self.assertReadable()


class WrongConfDirTest(Base):
    """--conf-dir naming something that is not a kcm configuration: every program refuses
    it, naming the path, and leaves it byte-identical."""

    def commands(self, conf):
        state = self.hook_state(self.sleeper().pid)
        return [
            ([KCM, "describe", "--conf-dir=" + conf], {}, None, 1),
            # node-report exits 0 whatever its checks find (docs/cli.md) and says why.
            ([KCM, "node-report", "--conf-dir=" + conf], {}, None, 0),
            ([KCM, "discover", "--conf-dir=" + conf], {}, None, 1),
            ([KCM, "reconcile", "--conf-dir=" + conf], PROC, None, 1),
            ([KCM, "isolate", "--conf-dir=" + conf, "--pool=dataplane", "true"], PROC, None, 1),
            ([HOOK, "--conf-dir=" + conf, "prestart"], {}, state, 1),
            ([HOOK, "--conf-dir=" + conf, "poststop"], {}, state, 1),
        ]

    def check_refused(self, conf, message, watched=None):
        watched = watched or conf
        before = snapshot(watched)
        for argv, env, stdin, code in self.commands(conf):
            with self.subTest(command=f"{os.path.basename(argv[0])} {argv[1]} {argv[-1]}"):
                r = run(argv, env=env, stdin=stdin)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertIn(message, r.stderr)
                if code == 0:
                    check = json.loads(r.stdout)["checks"]["configDirectory"]
                    self.assertFalse(check["ok"])
                self.assertEqual(snapshot(watched), before)

    def test_empty_directory(self):
        d = os.path.join(self.tmp, "empty")
        os.mkdir(d)
        self.check_refused(d, f'open config directory "{d}": {NOT_KCM}')

    def test_directory_with_an_unrelated_lock_file(self):
        d = os.path.join(self.tmp, "app")
        os.mkdir(d)
        write_file(os.path.join(d, "lock"), "4242 held by another program\n", 0o644)
        write_file(os.path.join(d, "data"), "mine\n", 0o640)
        self.check_refused(d, f'open config directory "{d}": {NOT_KCM}')

    def test_root_like_directory(self):
        d = os.path.join(self.tmp, "rootfs")
        for sub in ("etc", "usr/bin", "var/lib"):
            os.makedirs(os.path.join(d, sub))
        os.mkdir(os.path.join(d, "tmp"), 0o1777)
        os.chmod(os.path.join(d, "tmp"), 0o1777)
        write_file(os.path.join(d, "etc", "passwd"), "root:x:0:0::/root:/bin/sh\n", 0o644)
        self.check_refused(d, f'open config directory "{d}": {NOT_KCM}')

    def test_pools_that_is_a_symlink(self):
        d = os.path.join(self.tmp, "linked-pools")
        os.mkdir(d)
        os.symlink(os.path.join(self.conf, "pools"), os.path.join(d, "pools"))
        self.check_refused(d, f'open config directory "{d}": is not a kcm configuration '
                              "directory (its pools is a symlink)")

    def test_pools_that_is_a_file(self):
        d = os.path.join(self.tmp, "file-pools")
        os.mkdir(d)
        write_file(os.path.join(d, "pools"), "", 0o644)
        self.check_refused(d, f'open config directory "{d}": is not a kcm configuration '
                              "directory (its pools is not a directory)")

    def test_a_file(self):
        f = os.path.join(self.tmp, "outside", "conf")
        write_file(f, "not a directory\n", 0o644)
        self.check_refused(f, f'open config directory: open "{f}": is not a directory',
                           watched=os.path.dirname(f))

    def test_symlink_to_a_configuration_is_followed(self):
        # An operator's symlinked path works like the directory it names.
        link = os.path.join(self.tmp, "etc-kcm")
        os.symlink(self.conf, link)
        r = run([KCM, "describe", "--conf-dir=" + link])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["path"], link)
        r = run([KCM, "isolate", "--conf-dir=" + link, "--pool=dataplane", "true"], env=PROC)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.islink(link))
        self.assertEqual(tasks_of(self.conf, "dataplane", self.cpu), "")


class ModesTest(Base):
    def init(self, conf, umask):
        return run([KCM, "init", "--conf-dir=" + conf, "--num-dp-cores=1", "--num-cp-cores=1"],
                   env={"KCM_SYS_FS": os.path.join(TOPOLOGIES, "8em64t-4c2t", "sys")},
                   umask=umask)

    def test_init_gives_the_documented_modes_whatever_the_umask(self):
        for umask in (0o000, 0o077):
            conf = os.path.join(self.tmp, f"init-{umask:o}")
            r = self.init(conf, umask)
            self.assertEqual(r.returncode, 0, r.stderr)
            modes = {rel: e[1] for rel, e in snapshot(conf).items()}
            self.assertEqual(modes.pop("."), 0o755)
            self.assertEqual(modes.pop("lock"), 0o600)
            self.assertEqual(modes.pop("owners"), 0o700)
            for rel, mode in modes.items():
                expected = 0o755 if os.path.isdir(os.path.join(conf, rel)) else 0o644
                self.assertEqual(mode, expected, f"{rel} under umask {umask:o}")

    def test_init_refuses_an_unrelated_lock_file(self):
        d = os.path.join(self.tmp, "app")
        os.mkdir(d)
        write_file(os.path.join(d, "lock"), "not kcm's\n", 0o644)
        before = snapshot(d)
        r = self.init(d, None)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f'initialize config directory "{d}": is not empty (it holds "lock")',
                      r.stderr)
        self.assertEqual(snapshot(d), before)

    def test_writers_close_a_directory_made_before_records_were_private(self):
        os.chmod(self.lock, 0o644)
        os.chmod(os.path.join(self.conf, "owners"), 0o755)
        r = run([KCM, "reconcile", "--conf-dir=" + self.conf], env=PROC)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(mode_of(self.lock), 0o600)
        r = run([KCM, "isolate", "--conf-dir=" + self.conf, "--pool=infra", "true"], env=PROC)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(mode_of(os.path.join(self.conf, "owners")), 0o700)


@unittest.skipUnless(os.geteuid() == 0, "needs root to run programs as user nobody")
class UnprivilegedUserTest(Base):
    def test_cannot_take_the_lock_nor_read_owner_records(self):
        # As kcm made the directory before the lock and the records became private.
        os.chmod(self.lock, 0o644)
        os.chmod(os.path.join(self.conf, "owners"), 0o755)
        p = subprocess.Popen([KCM, "isolate", "--conf-dir=" + self.conf, "--pool=dataplane",
                              "sleep", "--", "60"], env={**os.environ, **PROC})
        try:
            record = os.path.join(self.conf, "owners", f"isolate-{p.pid}.json")
            deadline = time.monotonic() + 10
            while not os.path.exists(record) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertTrue(os.path.exists(record))
            r = run(AS_NOBODY + ["flock", "-s", "-w", "1", self.lock, "true"])
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("Permission denied", r.stderr)
            for argv in (["cat", record], ["ls", os.path.join(self.conf, "owners")]):
                r = run(AS_NOBODY + argv)
                self.assertNotEqual(r.returncode, 0, argv)
                self.assertIn("Permission denied", r.stderr)
            r = run(AS_NOBODY + [KCM, "reconcile", "--conf-dir=" + self.conf], env=PROC)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn(f'open "{self.lock}": Permission denied', r.stderr)
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=10)

    def test_describe_reads_without_the_lock(self):
        expected = run([KCM, "describe", "--conf-dir=" + self.conf])
        self.assertEqual(expected.returncode, 0, expected.stderr)
        held = self.hold_lock()  # a writer at work does not stop a reader that cannot wait
        try:
            r = run(AS_NOBODY + [KCM, "describe", "--conf-dir=" + self.conf])
        finally:
            os.close(held)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, expected.stdout)


class LockHolderTest(Base):
    def test_timeout_names_the_process_that_holds_the_lock(self):
        write_file(self.lock, "4242 kcm init\n", 0o600)  # a long-dead writer's record
        # flock(1) runs sleep as its child: kill the whole group, or the sleep keeps the
        # test's output open for a minute.
        holder = subprocess.Popen(["flock", "-s", self.lock, "sleep", "60"],
                                  start_new_session=True)
        self.addCleanup(holder.wait)
        self.addCleanup(os.killpg, holder.pid, signal.SIGKILL)
        probe = os.open(self.lock, os.O_RDONLY | os.O_CLOEXEC)
        deadline = time.monotonic() + 10
        while True:  # until flock(1) holds it
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(probe, fcntl.LOCK_UN)
            except BlockingIOError:
                break
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        os.close(probe)
        before = snapshot(self.conf)
        waiting = f"waiting for pid {holder.pid} (flock)"
        env = {**PROC, "KCM_LOCK_TIMEOUT": "0.5"}
        for argv, stdin in (
                ([KCM, "reconcile", "--conf-dir=" + self.conf], None),
                ([KCM, "isolate", "--conf-dir=" + self.conf, "--pool=infra", "true"], None),
                ([HOOK, "--conf-dir=" + self.conf, "prestart"], self.hook_state(self.sleeper().pid))):
            r = run(argv, env=env, stdin=stdin)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn(f'lock "{self.lock}": timed out after 0.5 s (KCM_LOCK_TIMEOUT) ',
                          r.stderr)
            self.assertIn(waiting, r.stderr)
            self.assertNotIn("4242", r.stderr)
        self.assertEqual(snapshot(self.conf), before)


if __name__ == "__main__":
    unittest.main()
