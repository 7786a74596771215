#!/usr/bin/env python3
"""Integration tests of the built `kcm` binary: every subcommand, flag and environment
variable of the CLI document, byte-exact JSON, and bad input of every kind.

The binary is $KCM_BIN. Everything runs in temp directories; procfs is either the real
/proc (isolate needs a real process) or a fake tree (reconcile, node-report).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

KCM = os.environ.get("KCM_BIN", "build/cli/kcm")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
from kcm_e2e import DATAPLANE_LISTS, cpu_list, expand_cpus, holding_errors  # noqa: E402
FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")
TOPOLOGIES = os.path.join(FIXTURES, "topologies")

# The configuration of the document's `describe` example.
EXAMPLE_POOLS = {
    "controlplane": (False, {"3,11": [1000, 1001, 1002, 1003]}),
    "dataplane": (True, {"4,12": [2000], "5,13": [2001], "6,14": [2002], "7,15": [2003]}),
    "infra": (False, {"0-2,8-10": [3000, 3001, 3002]}),
}


def run(*args, env=None, timeout=30, **kw):
    full_env = dict(os.environ)
    for k in ("KCM_PROC_FS", "KCM_SYS_FS", "KCM_LOCK_TIMEOUT", "KCM_LOG_LEVEL",
              "KUBERNETES_SERVICE_HOST"):
        full_env.pop(k, None)
    full_env.update(env or {})
    return subprocess.run([KCM, *args], env=full_env, capture_output=True, text=True,
                          timeout=timeout, **kw)


def write_conf(root, pools):
    os.makedirs(root, exist_ok=True)
    open(os.path.join(root, "lock"), "w").close()  # as `kcm init` leaves it
    for pool, (exclusive, lists) in pools.items():
        pdir = os.path.join(root, "pools", pool)
        os.makedirs(pdir)
        with open(os.path.join(pdir, "exclusive"), "w") as f:
            f.write("1" if exclusive else "0")
        for name, tasks in lists.items():
            os.makedirs(os.path.join(pdir, name))
            with open(os.path.join(pdir, name, "tasks"), "w") as f:
                f.write(",".join(str(t) for t in tasks))


def snapshot(root):
    """Every path under root with its type and content, to prove nothing changed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("dir",)
            elif rel == "lock":
                out[rel] = ("lock",)  # its diagnostic content changes with every holder
            else:
                with open(p, "rb") as f:
                    out[rel] = ("file", f.read())
    return out


def tasks_of(conf, pool, cpus):
    with open(os.path.join(conf, "pools", pool, cpus, "tasks")) as f:
        return f.read()


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kcm-cli-test-")
        self.conf = os.path.join(self.tmp, "kcm")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def assertFails(self, result, code, message):
        self.assertEqual(result.returncode, code, result.stderr)
        self.assertIn(message, result.stderr)


class UsageTest(Base):
    def test_help_prints_document_usage_block(self):
        with open(os.path.join(FIXTURES, "cli", "usage.txt")) as f:
            usage = f.read()
        for flag in ("-h", "--help"):
            r = run(flag)
            self.assertEqual(r.returncode, 0)
            self.assertEqual(r.stdout, usage)
        self.assertEqual(run("isolate", "--help").stdout, usage)

    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^kcm \d+\.\d+\.\d+\n$")

    def test_no_subcommand_is_usage_error(self):
        self.assertFails(run(), 2, "kcm: error: no subcommand given")

    def test_unknown_subcommand_is_usage_error(self):
        r = run("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("kcm: error:", r.stderr)

    def test_non_numeric_core_count_is_usage_error(self):
        r = run("init", "--conf-dir=" + self.conf, "--num-dp-cores=abc")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--num-dp-cores", r.stderr)
        self.assertFalse(os.path.exists(self.conf))

    def test_isolate_requires_pool(self):
        r = run("isolate", "--conf-dir=" + self.conf, "true")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--pool", r.stderr)

    def test_install_requires_install_dir(self):
        r = run("install")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--install-dir", r.stderr)

    def test_bad_log_level_is_usage_error(self):
        self.assertFails(run("describe", env={"KCM_LOG_LEVEL": "loud"}), 2, "KCM_LOG_LEVEL")


class DescribeTest(Base):
    def expected(self, path):
        with open(os.path.join(FIXTURES, "cli", "describe-example.json")) as f:
            return f.read().replace('"path": "/etc/kcm"', '"path": ' + json.dumps(path))

    def test_document_example_byte_for_byte(self):
        write_conf(self.conf, EXAMPLE_POOLS)
        r = run("describe", "--conf-dir=" + self.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, self.expected(self.conf))

    @unittest.skipUnless(os.geteuid() == 0, "needs root for a private mount namespace")
    def test_document_example_at_etc_kcm(self):
        # The document's exact output names /etc/kcm: build it there in a private mount
        # namespace (a tmpfs over a copy of /etc) so the host's /etc is never touched.
        write_conf(self.conf, EXAMPLE_POOLS)
        etc = os.path.join(self.tmp, "etc")
        script = (f"set -e; mount -t tmpfs none {etc}; cp -a /etc/. {etc}/; "
                  f"mount --bind {etc} /etc; mkdir -p /etc/kcm; cp -a {self.conf}/. /etc/kcm/; "
                  f"exec {KCM} describe --conf-dir=/etc/kcm")
        os.mkdir(etc)
        r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, self.expected("/etc/kcm"))

    def test_missing_conf_dir(self):
        self.assertFails(run("describe", "--conf-dir=" + self.conf), 1,
                         f'kcm: error: open config directory: open "{self.conf}": '
                         "No such file or directory")

    def test_skips_temp_files_of_an_interrupted_writer(self):
        write_conf(self.conf, EXAMPLE_POOLS)
        with open(os.path.join(self.conf, "pools", "dataplane", "4,12", ".tasks.tmp-99"), "w") as f:
            f.write("garbage")
        os.mkdir(os.path.join(self.conf, "pools", ".pools.tmp-1"))
        r = run("describe", "--conf-dir=" + self.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, self.expected(self.conf))


class BadConfigTest(Base):
    """Every kind of bad directory: a clear error naming the path, exit 1, no change."""

    def check(self, args, message, env=None):
        before = snapshot(self.conf)
        r = run(*args, env=env)
        self.assertFails(r, 1, message)
        self.assertEqual(snapshot(self.conf), before)

    def all_commands(self, message):
        self.check(["describe", "--conf-dir=" + self.conf], message)
        self.check(["isolate", "--conf-dir=" + self.conf, "--pool=dataplane", "true"], message,
                   env={"KCM_PROC_FS": "/proc"})
        self.check(["reconcile", "--conf-dir=" + self.conf], message, env={"KCM_PROC_FS": "/proc"})

    def setUp(self):
        super().setUp()
        write_conf(self.conf, {"dataplane": (True, {"0": [], "1": []}), "infra": (False, {"0-1": []})})

    def test_missing_exclusive(self):
        os.remove(os.path.join(self.conf, "pools/dataplane/exclusive"))
        self.all_commands(f'open "{self.conf}/pools/dataplane/exclusive": No such file or directory')

    def test_garbage_exclusive(self):
        with open(os.path.join(self.conf, "pools/dataplane/exclusive"), "w") as f:
            f.write("yes")
        self.all_commands(f'parse "{self.conf}/pools/dataplane/exclusive": must be "0" or "1"')

    def test_garbage_tasks(self):
        with open(os.path.join(self.conf, "pools/dataplane/1/tasks"), "w") as f:
            f.write("12,abc")
        self.all_commands(f'parse "{self.conf}/pools/dataplane/1/tasks": invalid PID "abc"')

    def test_invalid_list_name(self):
        os.makedirs(os.path.join(self.conf, "pools/dataplane/1-a"))
        self.all_commands(f'read "{self.conf}/pools/dataplane/1-a": invalid CPU list name "1-a"')

    def test_descending_list_name(self):
        os.makedirs(os.path.join(self.conf, "pools/dataplane/3-1"))
        self.all_commands("range 3-1 is descending")

    def test_symlinked_tasks_file(self):
        target = os.path.join(self.tmp, "elsewhere")
        with open(target, "w") as f:
            f.write("")
        os.remove(os.path.join(self.conf, "pools/dataplane/1/tasks"))
        os.symlink(target, os.path.join(self.conf, "pools/dataplane/1/tasks"))
        self.all_commands(f'"{self.conf}/pools/dataplane/1/tasks": is a symlink, refusing to follow it')

    def test_symlinked_pool(self):
        os.symlink(os.path.join(self.conf, "pools/infra"), os.path.join(self.conf, "pools/other"))
        self.check(["describe", "--conf-dir=" + self.conf],
                   f'"{self.conf}/pools/other": is a symlink, refusing to follow it')

    def test_symlinked_list(self):
        os.symlink(os.path.join(self.conf, "pools/dataplane/0"),
                   os.path.join(self.conf, "pools/dataplane/2"))
        self.all_commands(f'"{self.conf}/pools/dataplane/2": is a symlink, refusing to follow it')

    def test_traversal_pool_name(self):
        for pool in ("../pools", "..", "a/b", "Infra", "-x"):
            before = snapshot(self.conf)
            r = run("isolate", "--conf-dir=" + self.conf, "--pool=" + pool, "true",
                    env={"KCM_PROC_FS": "/proc"})
            self.assertFails(r, 2, f'invalid pool name "{pool}"')
            self.assertEqual(snapshot(self.conf), before)

    def test_unknown_pool(self):
        self.check(["isolate", "--conf-dir=" + self.conf, "--pool=controlplane", "true"],
                   f'pool "controlplane" does not exist in "{self.conf}"',
                   env={"KCM_PROC_FS": "/proc"})


class InitTest(Base):
    def init(self, machine, *flags, conf=None):
        return run("init", "--conf-dir=" + (conf or self.conf), *flags,
                   env={"KCM_SYS_FS": os.path.join(TOPOLOGIES, machine, "sys")})

    def describe(self):
        r = run("describe", "--conf-dir=" + self.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)["pools"]

    def lscpu(self, machine):
        rows = []
        with open(os.path.join(TOPOLOGIES, machine, "lscpu-p.txt")) as f:
            for line in f:
                if not line.startswith("#"):
                    cpu, core, socket, node = line.strip().split(",")[:4]
                    rows.append((int(cpu), int(core), node))
        return rows

    def test_every_fixture_machine(self):
        for machine in sorted(os.listdir(TOPOLOGIES)):
            if not os.path.isdir(os.path.join(TOPOLOGIES, machine)):
                continue
            with self.subTest(machine=machine):
                rows = self.lscpu(machine)
                conf = os.path.join(self.tmp, machine)
                cores = {}
                for cpu, core, node in rows:
                    cores.setdefault(core, set()).add(cpu)
                dp = min(4, len(cores) - 2)
                r = self.init(machine, f"--num-dp-cores={dp}", "--num-cp-cores=1", conf=conf)
                self.assertEqual(r.returncode, 0, r.stderr)
                pools = json.loads(run("describe", "--conf-dir=" + conf).stdout)["pools"]
                seen = []
                for pool in pools.values():
                    for name in pool["cpuLists"]:
                        seen.extend(expand_cpus(name))
                self.assertEqual(sorted(seen), sorted(cpu for cpu, _, _ in rows),
                                 "every online CPU in exactly one list")
                self.assertEqual(len(pools["dataplane"]["cpuLists"]), dp)
                whole_cores = [frozenset(c) for c in cores.values()]
                node_of = {cpu: node for cpu, _, node in rows}
                dp_nodes = set()
                for name in pools["dataplane"]["cpuLists"]:
                    self.assertIn(frozenset(expand_cpus(name)), whole_cores,
                                  "a list is one whole core")
                    dp_nodes.add(node_of[expand_cpus(name)[0]])
                per_node = {}
                for core in cores.values():
                    per_node.setdefault(node_of[min(core)], 0)
                    per_node[node_of[min(core)]] += 1
                if dp > 0 and any(n >= dp for n in per_node.values()):
                    self.assertEqual(len(dp_nodes), 1, "dataplane on one NUMA node")
                self.assertTrue(pools["dataplane"]["exclusive"])
                self.assertFalse(pools["infra"]["exclusive"])
                self.assertFalse(pools["controlplane"]["exclusive"])

    def test_highest_cores_first(self):
        # 8em64t-4c2t: 4 cores, siblings N/N+4.
        r = self.init("8em64t-4c2t", "--num-dp-cores=2", "--num-cp-cores=1")
        self.assertEqual(r.returncode, 0, r.stderr)
        pools = self.describe()
        self.assertEqual(sorted(pools["dataplane"]["cpuLists"]), ["2,6", "3,7"])
        self.assertEqual(list(pools["controlplane"]["cpuLists"]), ["1,5"])
        self.assertEqual(list(pools["infra"]["cpuLists"]), ["0,4"])
        self.assertTrue(os.path.isdir(os.path.join(self.conf, "owners")))

    def test_never_offline_cpus(self):
        r = self.init("16amd64-8n2c-cpusets", "--num-dp-cores=4", "--num-cp-cores=1")
        self.assertEqual(r.returncode, 0, r.stderr)
        for pool in self.describe().values():
            for name in pool["cpuLists"]:
                self.assertNotIn(4, expand_cpus(name))

    def test_refuses_non_empty_directory(self):
        os.makedirs(self.conf)
        with open(os.path.join(self.conf, "notes"), "w") as f:
            f.write("mine")
        before = snapshot(self.conf)
        r = self.init("8em64t-4c2t", "--num-dp-cores=1")
        self.assertFails(r, 1, f'initialize config directory "{self.conf}": is not empty')
        self.assertEqual(snapshot(self.conf), before)

    def test_refuses_initialized_directory(self):
        self.assertEqual(self.init("8em64t-4c2t", "--num-dp-cores=1").returncode, 0)
        before = snapshot(self.conf)
        self.assertFails(self.init("8em64t-4c2t", "--num-dp-cores=1"), 1, "is not empty")
        self.assertEqual(snapshot(self.conf), before)

    def test_too_few_cores(self):
        r = self.init("8em64t-4c2t")  # defaults: 4 dataplane + 1 controlplane + infra
        self.assertFails(r, 2, "not enough physical cores: this machine has 4 online")
        self.assertFalse(os.path.exists(self.conf))

    def test_missing_sysfs(self):
        r = run("init", "--conf-dir=" + self.conf,
                env={"KCM_SYS_FS": os.path.join(self.tmp, "nosys")})
        self.assertFails(r, 1, os.path.join(self.tmp, "nosys"))
        self.assertFalse(os.path.exists(self.conf))


class FakeProc:
    """A procfs tree: <root>/<pid>/stat and status, <root>/self/stat."""

    def __init__(self, root):
        self.root = root
        os.makedirs(root)

    def add(self, pid, start_time, cpus, state="S"):
        d = os.path.join(self.root, str(pid))
        os.makedirs(d, exist_ok=True)
        fields = [state] + ["0"] * 18 + [str(start_time)] + ["0"] * 30
        with open(os.path.join(d, "stat"), "w") as f:
            f.write(f"{pid} (sleep) " + " ".join(fields) + "\n")
        with open(os.path.join(d, "status"), "w") as f:
            f.write(f"Name:\tsleep\nState:\t{state}\nCpus_allowed_list:\t{cpus}\n")


class ReconcileTest(Base):
    def setUp(self):
        super().setUp()
        write_conf(self.conf, {
            "dataplane": (True, {"4,12": [2000], "5,13": [2001], "6,14": [2002], "7,15": [2003]}),
            "infra": (False, {"0-2,8-10": [3000, 3001]}),
        })
        os.makedirs(os.path.join(self.conf, "owners"))
        self.proc = FakeProc(os.path.join(self.tmp, "proc"))
        self.proc.add(2000, 111, "4,12")      # alive, pinned right
        self.proc.add(2002, 333, "0-15")      # alive, wrong mask
        self.proc.add(2003, 999, "7,15")      # alive, but started after its record: reused
        self.proc.add(3000, 444, "0-2,8-10")  # alive
        self.proc.add(3001, 555, "0-2,8-10", state="Z")  # zombie: exited
        for owner, pid, start, pool, lists in (("c2003", 2003, 444, "dataplane", ["7,15"]),
                                               ("c2000", 2000, 111, "dataplane", ["4,12"]),
                                               ("gone", 2001, 5, "dataplane", ["5,13"])):
            with open(os.path.join(self.conf, "owners", owner + ".json"), "w") as f:
                json.dump({"owner": owner, "pid": pid, "startTime": start, "pool": pool,
                           "cpuLists": lists, "created": "2026-11-30T00:00:00Z"}, f)

    def test_reclaims_dead_and_reused_and_reports_mismatches(self):
        r = run("reconcile", "--conf-dir=" + self.conf, env={"KCM_PROC_FS": self.proc.root})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, json.dumps({
            "mismatchedCpuMasks": [
                {"actualCpus": list(range(16)), "cpus": "6,14", "pid": 2002, "pool": "dataplane"}],
            "reclaimedCpuLists": [
                {"cpus": "5,13", "pid": 2001, "pool": "dataplane"},
                {"cpus": "7,15", "pid": 2003, "pool": "dataplane"},
                {"cpus": "0-2,8-10", "pid": 3001, "pool": "infra"}],
        }, indent=2, sort_keys=True) + "\n")
        self.assertEqual(tasks_of(self.conf, "dataplane", "4,12"), "2000")
        self.assertEqual(tasks_of(self.conf, "dataplane", "5,13"), "")
        self.assertEqual(tasks_of(self.conf, "dataplane", "6,14"), "2002")
        self.assertEqual(tasks_of(self.conf, "dataplane", "7,15"), "")
        self.assertEqual(tasks_of(self.conf, "infra", "0-2,8-10"), "3000")
        self.assertEqual(sorted(os.listdir(os.path.join(self.conf, "owners"))), ["c2000.json"])

    def test_second_run_finds_nothing(self):
        env = {"KCM_PROC_FS": self.proc.root}
        run("reconcile", "--conf-dir=" + self.conf, env=env)
        r = run("reconcile", "--conf-dir=" + self.conf, env=env)
        self.assertEqual(json.loads(r.stdout)["reclaimedCpuLists"], [])

    def test_requires_proc_fs(self):
        before = snapshot(self.conf)
        self.assertFails(run("reconcile", "--conf-dir=" + self.conf), 1,
                         "kcm reconcile requires KCM_PROC_FS")
        self.assertEqual(snapshot(self.conf), before)

    def test_publish_outside_cluster_still_reconciles(self):
        r = run("reconcile", "--conf-dir=" + self.conf, "--publish",
                env={"KCM_PROC_FS": self.proc.root})
        self.assertFails(r, 1, "not running in a Kubernetes cluster: "
                               "KUBERNETES_SERVICE_HOST is not set")
        self.assertIn("reclaimedCpuLists", r.stdout)
        self.assertEqual(tasks_of(self.conf, "dataplane", "5,13"), "")


class ReconcileProofTest(Base):
    """Only a PID that is provably gone (no <procfs>/<pid>, or a zombie) or reused (another
    start time than its record) is reclaimed."""

    def test_pid_whose_stat_cannot_be_read_is_kept(self):
        write_conf(self.conf, {"dataplane": (True, {"4,12": [2000], "5,13": [2001]})})
        os.makedirs(os.path.join(self.conf, "owners"))
        for owner, pid, lists in (("c2000", 2000, ["4,12"]), ("c2001", 2001, ["5,13"])):
            with open(os.path.join(self.conf, "owners", owner + ".json"), "w") as f:
                json.dump({"owner": owner, "pid": pid, "startTime": 111, "pool": "dataplane",
                           "cpuLists": lists, "created": "2026-11-30T00:00:00Z"}, f)
        proc = FakeProc(os.path.join(self.tmp, "proc"))
        proc.add(2000, 111, "4,12")
        os.remove(os.path.join(proc.root, "2000", "stat"))  # the process exists: status only
        # 2001 has no directory: it is gone.
        r = run("reconcile", "--conf-dir=" + self.conf, env={"KCM_PROC_FS": proc.root})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), {
            "mismatchedCpuMasks": [],
            "reclaimedCpuLists": [{"cpus": "5,13", "pid": 2001, "pool": "dataplane"}]})
        self.assertEqual(tasks_of(self.conf, "dataplane", "4,12"), "2000")
        self.assertEqual(tasks_of(self.conf, "dataplane", "5,13"), "")
        self.assertEqual(os.listdir(os.path.join(self.conf, "owners")), ["c2000.json"])


class NodeReportTest(Base):
    def test_clean_directory(self):
        write_conf(self.conf, {"dataplane": (True, {"0": []}), "infra": (False, {"1": []})})
        r = run("node-report", "--conf-dir=" + self.conf,
                env={"KCM_SYS_FS": os.path.join(TOPOLOGIES, "8em64t-4c2t", "sys")})
        self.assertEqual(r.returncode, 0, r.stderr)
        report = json.loads(r.stdout)
        self.assertEqual(report["checks"]["configDirectory"], {"errors": [], "ok": True})
        self.assertEqual(report["checks"]["cpus"], {"errors": [], "ok": True})
        self.assertEqual(report["description"]["pools"]["dataplane"]["exclusive"], True)
        self.assertEqual(r.stdout, json.dumps(report, indent=2, sort_keys=True) + "\n")

    def test_overlap_detected(self):
        write_conf(self.conf, {"dataplane": (True, {"4,12": [], "5,13": []}),
                               "infra": (False, {"0-5": []})})
        r = run("node-report", "--conf-dir=" + self.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        check = json.loads(r.stdout)["checks"]["configDirectory"]
        self.assertFalse(check["ok"])
        self.assertEqual(check["errors"], [
            "CPU list overlap detected in dataplane:4,12 and infra:0-5 (in both: 4)",
            "CPU list overlap detected in dataplane:5,13 and infra:0-5 (in both: 5)"])

    def test_offline_cpus_flagged(self):
        write_conf(self.conf, {"dataplane": (True, {"4": []}), "infra": (False, {"0-3": []})})
        r = run("node-report", "--conf-dir=" + self.conf,
                env={"KCM_SYS_FS": os.path.join(TOPOLOGIES, "16amd64-8n2c-cpusets", "sys")})
        check = json.loads(r.stdout)["checks"]["cpus"]
        self.assertEqual(check["errors"],
                         ["CPU list dataplane:4 names CPUs that are offline or absent: 4"])

    def test_stale_tasks_flagged(self):
        write_conf(self.conf, {"dataplane": (True, {"0": [2000]})})
        proc = FakeProc(os.path.join(self.tmp, "proc"))
        r = run("node-report", "--conf-dir=" + self.conf, env={"KCM_PROC_FS": proc.root})
        self.assertEqual(json.loads(r.stdout)["checks"]["tasks"]["errors"],
                         ["Task 2000 in dataplane:0 is not running (kcm reconcile would reclaim it)"])

    def owners_check(self, pools, records, live):
        """node-report's "owners" check of `pools` (as write_conf takes them) with owner
        `records` [(owner, pid, startTime, lists)] of dataplane, on a procfs where each
        (pid, startTime) of `live` runs."""
        write_conf(self.conf, pools)
        os.makedirs(os.path.join(self.conf, "owners"))
        for owner, pid, start, lists in records:
            with open(os.path.join(self.conf, "owners", owner + ".json"), "w") as f:
                json.dump({"owner": owner, "pid": pid, "startTime": start, "pool": "dataplane",
                           "cpuLists": lists, "created": "2026-11-30T00:00:00Z"}, f)
        proc = FakeProc(os.path.join(self.tmp, "proc"))
        for pid, start in live:
            proc.add(pid, start, "0-15")
        r = run("node-report", "--conf-dir=" + self.conf, env={"KCM_PROC_FS": proc.root})
        self.assertEqual(r.returncode, 0, r.stderr)
        checks = json.loads(r.stdout)["checks"]
        self.assertIn("owners", checks)
        self.assertEqual(checks["owners"]["ok"], checks["owners"]["errors"] == [])
        return checks["owners"]

    def test_owners_check_passes_one_live_holder_per_exclusive_list(self):
        check = self.owners_check(
            {"dataplane": (True, {"0": [2000], "1": []}), "infra": (False, {"2": [3000, 3001]})},
            [("c2000", 2000, 111, ["0"])],
            [(2000, 111), (3000, 1), (3001, 2)])
        self.assertEqual(check, {"errors": [], "ok": True})

    def test_owners_check_flags_the_record_of_a_gone_holder(self):
        check = self.owners_check({"dataplane": (True, {"0": [], "1": []})},
                                  [("gone", 2001, 5, ["1"])], [])
        self.assertEqual(check, {"errors": ['Owner "gone" (pid 2001) is not running '
                                            '(kcm reconcile would remove its record)'],
                                 "ok": False})

    def test_owners_check_flags_two_live_tasks_in_an_exclusive_list(self):
        check = self.owners_check({"dataplane": (True, {"0": [2000, 2001]})}, [],
                                  [(2000, 111), (2001, 222)])
        self.assertFalse(check["ok"])

    def test_owners_check_flags_a_live_record_whose_list_lacks_its_pid(self):
        # What a writer killed between the record and the tasks leaves: the list looks
        # free and the next allocation would hand it out again.
        check = self.owners_check({"dataplane": (True, {"0": [], "1": []})},
                                  [("c2000", 2000, 111, ["0"])], [(2000, 111)])
        self.assertFalse(check["ok"])

    def test_unreadable_directory_is_reported(self):
        r = run("node-report", "--conf-dir=" + self.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        report = json.loads(r.stdout)
        self.assertFalse(report["checks"]["configDirectory"]["ok"])
        self.assertIsNone(report["description"])


class PowerLossTest(Base):
    """docs/config.md "After a power loss": records of an earlier boot, and what a power
    loss leaves of them, are forgotten by the next writer with no manual step."""

    EARLIER_BOOT = "7d1e2f3a-2222-4b6c-8d9e-0a1b2c3d4e5f\n"

    def setUp(self):
        super().setUp()
        cpus = sorted(os.sched_getaffinity(0))
        self.cpu = str(cpus[-1])
        self.infra = cpu_list(cpus)
        write_conf(self.conf, {"dataplane": (True, {self.cpu: []}),
                               "infra": (False, {self.infra: []})})
        self.write("boot", self.EARLIER_BOOT)
        self.write(f"pools/dataplane/{self.cpu}/tasks", "\0" * 12)  # zero-filled
        self.write(f"pools/infra/{self.infra}/tasks", "1,4")          # PIDs in use again
        self.write("owners/c1.json", "")                               # empty
        self.write("owners/c2.json", '{"owner":"c2","pi')             # truncated
        self.env = {"KCM_PROC_FS": "/proc"}

    def write(self, relative, content):
        path = os.path.join(self.conf, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(content)

    def this_boot(self):
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip() + "\n"

    def test_node_report_and_describe_see_every_list_free(self):
        r = run("node-report", "--conf-dir=" + self.conf, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        checks = json.loads(r.stdout)["checks"]
        self.assertFalse(checks["tasks"]["ok"])
        self.assertIn("of an earlier boot", checks["tasks"]["errors"][0])
        self.assertFalse(checks["owners"]["ok"])
        r = run("describe", "--conf-dir=" + self.conf, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        lists = json.loads(r.stdout)["pools"]["dataplane"]["cpuLists"]
        self.assertEqual(lists[self.cpu]["tasks"], [])
        self.assertEqual(self.read("boot"), self.EARLIER_BOOT)  # readers change nothing

    def read(self, relative):
        with open(os.path.join(self.conf, relative)) as f:
            return f.read()

    def test_isolate_is_pinned_right_after(self):
        r = run("isolate", "--conf-dir=" + self.conf, "--pool=dataplane", "grep", "--",
                "Cpus_allowed_list", "/proc/self/status", env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "Cpus_allowed_list:\t" + self.cpu + "\n")
        self.assertIn("of an earlier boot", r.stderr)
        self.assertEqual(tasks_of(self.conf, "dataplane", self.cpu), "")
        self.assertEqual(tasks_of(self.conf, "infra", self.infra), "")
        self.assertEqual(os.listdir(os.path.join(self.conf, "owners")), [])
        self.assertEqual(self.read("boot"), self.this_boot())

    def test_reconcile_cleans_all_of_it(self):
        r = run("reconcile", "--conf-dir=" + self.conf, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(tasks_of(self.conf, "dataplane", self.cpu), "")
        self.assertEqual(tasks_of(self.conf, "infra", self.infra), "")
        self.assertEqual(os.listdir(os.path.join(self.conf, "owners")), [])
        self.assertEqual(self.read("boot"), self.this_boot())
        r = run("node-report", "--conf-dir=" + self.conf, env=self.env)
        checks = json.loads(r.stdout)["checks"]
        self.assertTrue(checks["tasks"]["ok"] and checks["owners"]["ok"], checks)


class IsolateTest(Base):
    def setUp(self):
        super().setUp()
        cpus = sorted(os.sched_getaffinity(0))
        self.cpu = str(cpus[-1])
        write_conf(self.conf, {"dataplane": (True, {self.cpu: []}),
                               "infra": (False, {cpu_list(cpus): []})})
        self.env = {"KCM_PROC_FS": "/proc"}

    def isolate(self, pool, *command, **kw):
        return run("isolate", "--conf-dir=" + self.conf, "--pool=" + pool, *command,
                   env=self.env, **kw)

    def test_exclusive_runs_pinned_and_releases(self):
        tasks = os.path.join(self.conf, "pools", "dataplane", self.cpu, "tasks")
        p = subprocess.Popen(
            [KCM, "isolate", "--conf-dir=" + self.conf, "--pool=dataplane",
             f"grep Cpus_allowed_list /proc/self/status; echo $KCM_CPUS_ASSIGNED;"
             f" echo tasks=$(cat {tasks}); ls {self.conf}/owners"],
            env={**os.environ, **self.env}, stdout=subprocess.PIPE, text=True)
        out, _ = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(out.splitlines(), ["Cpus_allowed_list:\t" + self.cpu, self.cpu,
                                            f"tasks={p.pid}", f"isolate-{p.pid}.json"])
        self.assertEqual(tasks_of(self.conf, "dataplane", self.cpu), "")
        self.assertEqual(os.listdir(os.path.join(self.conf, "owners")), [])

    def test_shared_pool(self):
        infra = os.listdir(os.path.join(self.conf, "pools", "infra"))
        infra.remove("exclusive")
        r = self.isolate("infra", "cat", "--", "/proc/self/status")
        self.assertEqual(r.returncode, 0, r.stderr)
        allowed = [l for l in r.stdout.splitlines() if l.startswith("Cpus_allowed_list:")]
        self.assertEqual(expand_cpus(allowed[0].split()[1]), expand_cpus(infra[0]))

    def test_exit_status_passed_through(self):
        self.assertEqual(self.isolate("infra", "sh", "--", "-c", "'exit 7'").returncode, 7)
        self.assertEqual(self.isolate("infra", "false").returncode, 1)

    def test_killed_child_gives_128_plus_signal(self):
        self.assertEqual(self.isolate("infra", "sh", "--", "-c", "'kill -9 $$'").returncode, 137)

    def test_exclusive_list_busy_refuses_second(self):
        first = subprocess.Popen([KCM, "isolate", "--conf-dir=" + self.conf, "--pool=dataplane",
                                  "sleep", "--", "30"], env={**os.environ, **self.env})
        try:
            wait_for(lambda: tasks_of(self.conf, "dataplane", self.cpu) == str(first.pid))
            self.assertEqual(holding_errors(self.conf), [])
            before = snapshot(self.conf)
            r = self.isolate("dataplane", "true")
            self.assertFails(r, 1, 'pool "dataplane" has 0 free CPU lists (1 in use)')
            self.assertEqual(snapshot(self.conf), before)
        finally:
            first.kill()
            first.wait()

    def test_sigterm_forwarded_and_list_released(self):
        p = subprocess.Popen([KCM, "isolate", "--conf-dir=" + self.conf, "--pool=dataplane",
                              "trap 'exit 42' TERM; sleep 30 & wait"],
                             env={**os.environ, **self.env})
        wait_for(lambda: tasks_of(self.conf, "dataplane", self.cpu) == str(p.pid))
        time.sleep(0.3)  # let the shell install its trap
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=10), 42)
        self.assertEqual(tasks_of(self.conf, "dataplane", self.cpu), "")

    def test_sigterm_reaches_the_whole_command(self):
        pgid_file = os.path.join(self.tmp, "pgid")
        p = subprocess.Popen([KCM, "isolate", "--conf-dir=" + self.conf, "--pool=infra",
                              f"echo $$ > {pgid_file}; sh -c 'sleep 30'; true"],
                             env={**os.environ, **self.env})
        wait_for(lambda: os.path.getsize(pgid_file) > 0)
        with open(pgid_file) as f:
            pgid = int(f.read())
        time.sleep(0.3)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=10), 128 + signal.SIGTERM)

        def group_gone():
            try:
                os.killpg(pgid, 0)
                return False
            except ProcessLookupError:
                return True
        wait_for(group_gone)

    def test_ignored_sigchld_is_not_inherited_into_a_hang(self):
        # An ignored SIGCHLD survives exec; kcm must still see its command exit.
        p = subprocess.Popen([KCM, "isolate", "--conf-dir=" + self.conf, "--pool=dataplane",
                              "exit 5"], env={**os.environ, **self.env},
                             preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
        self.assertEqual(p.wait(timeout=10), 5)
        self.assertEqual(tasks_of(self.conf, "dataplane", self.cpu), "")

    def test_requires_proc_fs(self):
        self.env = {}
        before = snapshot(self.conf)
        self.assertFails(self.isolate("infra", "true"), 1, "kcm isolate requires KCM_PROC_FS")
        self.assertEqual(snapshot(self.conf), before)

    def test_sigkill_leaves_state_reconcile_cleans(self):
        p = subprocess.Popen([KCM, "isolate", "--conf-dir=" + self.conf, "--pool=dataplane",
                              "sleep", "--", "30"], env={**os.environ, **self.env},
                             start_new_session=True)
        wait_for(lambda: tasks_of(self.conf, "dataplane", self.cpu) == str(p.pid))
        self.assertEqual(holding_errors(self.conf), [])
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        self.assertEqual(holding_errors(self.conf), [])
        r = run("reconcile", "--conf-dir=" + self.conf, env=self.env)
        self.assertEqual(json.loads(r.stdout)["reclaimedCpuLists"],
                         [{"cpus": self.cpu, "pid": p.pid, "pool": "dataplane"}])
        self.assertEqual(tasks_of(self.conf, "dataplane", self.cpu), "")
        self.assertEqual(os.listdir(os.path.join(self.conf, "owners")), [])


class CrashTest(Base):
    """SIGKILL at random points of isolate's allocate/run/release: the directory stays
    readable and consistent, and reconcile returns it to free."""

    def test_sigkill_at_random_points(self):
        import random
        rng = random.Random(20261130)
        # Lists on CPUs this test may use: isolate really pins its command.
        lists = DATAPLANE_LISTS
        write_conf(self.conf, {"dataplane": (True, {cpus: [] for cpus in lists})})
        os.mkdir(os.path.join(self.conf, "owners"))  # as `kcm init` leaves it
        env = {**os.environ, "KCM_PROC_FS": "/proc"}
        for i in range(40):
            p = subprocess.Popen([KCM, "isolate", "--conf-dir=" + self.conf, "--pool=dataplane",
                                  "true"], env=env, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0, 0.02))
            p.kill()
            p.wait()
            self.assertEqual(holding_errors(self.conf), [], f"iteration {i}")
            r = run("describe", "--conf-dir=" + self.conf)
            self.assertEqual(r.returncode, 0, f"iteration {i}: {r.stderr}")
            for cpus in lists:
                self.assertIn(tasks_of(self.conf, "dataplane", cpus), ("", str(p.pid)))
            # A temp file of a killed writer may remain; readers skip it.
            owners = [n for n in os.listdir(os.path.join(self.conf, "owners"))
                      if not n.startswith(".")]
            self.assertIn(owners, ([], [f"isolate-{p.pid}.json"]))
            # Nothing half-written: every owner record parses.
            for name in owners:
                with open(os.path.join(self.conf, "owners", name)) as f:
                    self.assertEqual(json.load(f)["pid"], p.pid)
            r = run("reconcile", "--conf-dir=" + self.conf, env={"KCM_PROC_FS": "/proc"})
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(holding_errors(self.conf), [], f"iteration {i}")
            for cpus in lists:
                self.assertEqual(tasks_of(self.conf, "dataplane", cpus), "")
            self.assertEqual(os.listdir(os.path.join(self.conf, "owners")), [])
            for cpus in lists:
                self.assertEqual(os.listdir(os.path.join(self.conf, "pools/dataplane", cpus)),
                                 ["tasks"], "reconcile removes temp files of killed writers")


class LockTest(Base):
    def test_held_lock_times_out_naming_the_lock(self):
        write_conf(self.conf, {"infra": (False, {"0": []})})
        lock = os.path.join(self.conf, "lock")
        with open(lock, "w") as f:
            f.write("4242 someone\n")
        holder = subprocess.Popen(["flock", lock, "sleep", "20"])
        try:
            time.sleep(0.3)
            before = snapshot(self.conf)
            start = time.monotonic()
            r = run("isolate", "--conf-dir=" + self.conf, "--pool=infra", "true",
                    env={"KCM_PROC_FS": "/proc", "KCM_LOCK_TIMEOUT": "1"})
            elapsed = time.monotonic() - start
            self.assertFails(r, 1, f'lock "{lock}": timed out after 1')
            # The process that holds the lock, not the last writer the file records.
            self.assertIn(f"pid {holder.pid}", r.stderr)
            self.assertNotIn("4242", r.stderr)
            self.assertGreaterEqual(elapsed, 1.0)
            self.assertLess(elapsed, 5.0)
            self.assertEqual(snapshot(self.conf), before)
        finally:
            holder.kill()
            holder.wait()

    def test_invalid_timeout_is_usage_error(self):
        write_conf(self.conf, {"infra": (False, {"0": []})})
        self.assertFails(run("describe", "--conf-dir=" + self.conf,
                             env={"KCM_LOCK_TIMEOUT": "soon"}), 2, "KCM_LOCK_TIMEOUT")


class InstallTest(Base):
    def test_installs_runnable_kcm(self):
        dest = os.path.join(self.tmp, "opt", "bin")
        r = run("install", "--install-dir=" + dest)
        self.assertEqual(r.returncode, 0, r.stderr)
        installed = os.path.join(dest, "kcm")
        self.assertEqual(os.stat(installed).st_mode & 0o777, 0o755)
        v = subprocess.run([installed, "--version"], capture_output=True, text=True)
        self.assertEqual(v.stdout, run("--version").stdout)
        self.assertEqual([n for n in os.listdir(dest) if n.startswith(".")], [])

    def test_replaces_existing_file(self):
        dest = os.path.join(self.tmp, "bin")
        os.makedirs(dest)
        with open(os.path.join(dest, "kcm"), "w") as f:
            f.write("old")
        self.assertEqual(run("install", "--install-dir=" + dest).returncode, 0)
        with open(os.path.join(dest, "kcm"), "rb") as f, open(KCM, "rb") as g:
            self.assertEqual(f.read(), g.read())


class DiscoverTest(Base):
    def test_outside_cluster(self):
        write_conf(self.conf, {"dataplane": (True, {"0": []})})
        self.assertFails(run("discover", "--conf-dir=" + self.conf), 1,
                         "kcm: error: not running in a Kubernetes cluster: "
                         "KUBERNETES_SERVICE_HOST is not set")

    def test_needs_dataplane_pool(self):
        write_conf(self.conf, {"infra": (False, {"0": []})})
        self.assertFails(run("discover", "--conf-dir=" + self.conf), 1,
                         'pool "dataplane" does not exist')


def wait_for(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


if __name__ == "__main__":
    unittest.main()
