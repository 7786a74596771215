#!/usr/bin/env python3
"""node-report's isolation audit (docs/audit.md) and its metrics on this machine: a real
container pinned by kcm-hook under runc, a real process planted on its CPU with taskset,
a real IRQ steered onto that CPU (restored after), a fake kubelet state file, and the
Prometheus text of --format=prometheus, printed and written with --textfile --interval."""

import json
import os
import re
import signal
import subprocess
import time

import kcm_e2e
from kcm_e2e import KCM, busy_lists, wait_for

POOL = {"kcm.intel.com/pool": "dataplane"}


def node_report(conf, *args, env=None):
    r = subprocess.run([KCM, "node-report", "--conf-dir=" + conf] + list(args),
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, KCM_PROC_FS="/proc", **(env or {})))
    if r.returncode != 0:
        raise AssertionError("node-report failed: %s" % r.stderr)
    return r.stdout


def checks(conf, env=None):
    return json.loads(node_report(conf, env=env))["checks"]


SAMPLE = re.compile(r'^(kcm_[a-z_]+)(?:\{([a-z_]+)="([^"\\]*)"\})? (-?[0-9.e+]+)$')


def parse_metrics(text):
    """{(name, label value or None): value}; every line a HELP, a TYPE or a sample."""
    out = {}
    for line in text.splitlines():
        if line.startswith("# HELP kcm_") or line.startswith("# TYPE kcm_"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError("not a metric line: %r" % line)
        out[(m.group(1), m.group(3))] = float(m.group(4))
    return out


def steerable_irq():
    """An IRQ with a handler whose smp_affinity_list this machine lets us write, or None."""
    for name in sorted(os.listdir("/proc/irq"), key=lambda n: (len(n), n)):
        path = os.path.join("/proc/irq", name)
        if not name.isdigit() or not any(
                os.path.isdir(os.path.join(path, e)) for e in os.listdir(path)):
            continue
        affinity = os.path.join(path, "smp_affinity_list")
        try:
            with open(affinity) as f:
                before = f.read().strip()
            with open(affinity, "w") as f:
                f.write(before)
        except OSError:
            continue
        return int(name), before
    return None


class AuditTest(kcm_e2e.RuntimeTestCase):
    RUNTIME = "runc"

    def setUp(self):
        super().setUp()
        self.kubelet_state = os.path.join(self.work, "cpu_manager_state")  # absent
        self.env = {"KCM_KUBELET_CPU_MANAGER_STATE": self.kubelet_state}

    def pinned(self):
        """A running pinned container: (its list, its holder PID)."""
        self.started("pinned", POOL)
        [((pool, cpulist), [holder])] = busy_lists(self.conf).items()
        self.assertEqual(pool, "dataplane")
        return cpulist, holder

    def noisy_on(self, cpulist):
        p = subprocess.Popen(["taskset", "-c", cpulist, "sleep", "600"])
        self.addCleanup(kcm_e2e.kill_process, p)
        return p

    def test_a_process_planted_on_the_containers_cpu_is_named(self):
        cpulist, holder = self.pinned()
        noisy = self.noisy_on(cpulist)
        found = checks(self.conf, self.env)["exclusiveCpus"]
        self.assertFalse(found["ok"])
        mine = [e for e in found["errors"] if e.startswith("Process %d (sleep, cgroup /" % noisy.pid)]
        self.assertEqual(len(mine), 1, found["errors"])
        self.assertIn("may run on CPUs %s of the exclusive list dataplane:%s held by %d "
                      "(allowed CPUs %s)" % (cpulist, cpulist, holder, cpulist), mine[0])
        # Neither the holder nor anything in its container's cgroup is a culprit.
        self.assertFalse([e for e in found["errors"] if e.startswith("Process %d " % holder)])
        # Nor kcm node-report itself, nor a kernel thread (kthreadd is PID 2).
        self.assertFalse([e for e in found["errors"] if e.startswith("Process 2 (kthreadd")])

    def test_a_steered_irq_is_named_and_restored_after(self):
        cpulist, _ = self.pinned()
        irq = steerable_irq()
        if irq is None:
            self.skipTest("no IRQ whose smp_affinity_list can be written here "
                          "(tests/unit/audit_test.cpp covers the check on a fixture)")
        number, before = irq
        path = "/proc/irq/%d/smp_affinity_list" % number

        def restore():
            with open(path, "w") as f:
                f.write(before)
        self.addCleanup(restore)
        with open(path, "w") as f:
            f.write(cpulist)
        found = checks(self.conf, self.env)["irqs"]
        self.assertFalse(found["ok"])
        mine = [e for e in found["errors"] if e.startswith("IRQ %d " % number)]
        self.assertEqual(len(mine), 1, found["errors"])
        self.assertIn("its smp_affinity_list is %s;" % cpulist, mine[0])

    def test_a_static_kubelet_and_its_assignment_on_a_kcm_list_are_named(self):
        cpulist, _ = self.pinned()
        with open(self.kubelet_state, "w") as f:
            f.write('{"policyName":"static","defaultCpuSet":"%s","entries":'
                    '{"0b5f-pod":{"app":"%s"}},"checksum":1}' % (cpulist, cpulist))
        found = checks(self.conf, self.env)["kubelet"]
        self.assertFalse(found["ok"])
        # The policy itself first, then each assignment on a kcm list (of any pool).
        self.assertIn("sets the cpuset of every container without an exclusive assignment, "
                      "kcm's holders too, to its defaultCpuSet %s (exclusive CPUs %s: "
                      "dataplane:%s)" % (cpulist, cpulist, cpulist), found["errors"][0])
        entry = ('assigns CPUs %s to container "app" of pod 0b5f-pod: CPUs %s are in '
                 "kcm's list dataplane:%s (use --cpu-manager-policy=none)"
                 % (cpulist, cpulist, cpulist))
        self.assertTrue([e for e in found["errors"][1:] if entry in e], found["errors"])
        with open(self.kubelet_state, "w") as f:
            f.write('{"policyName":"none","defaultCpuSet":"","checksum":1}')
        self.assertEqual(checks(self.conf, self.env)["kubelet"], {"errors": [], "ok": True})

    def test_metrics_printed_and_written_to_a_textfile_each_round(self):
        cpulist, _ = self.pinned()
        self.noisy_on(cpulist)
        r = subprocess.run([KCM, "reconcile", "--conf-dir=" + self.conf], capture_output=True,
                           text=True, timeout=60, env=dict(os.environ, KCM_PROC_FS="/proc"))
        self.assertEqual(r.returncode, 0, r.stderr)
        metrics = parse_metrics(node_report(self.conf, "--format=prometheus", env=self.env))
        self.assertEqual(metrics[("kcm_pool_holders", "dataplane")], 1)
        self.assertEqual(metrics[("kcm_pool_free_cpu_lists", "dataplane")],
                         len(kcm_e2e.DATAPLANE_LISTS) - 1)
        self.assertGreaterEqual(metrics[("kcm_audit_violations", "exclusiveCpus")], 1)
        self.assertEqual(metrics[("kcm_audit_violations", "kubelet")], 0)
        self.assertLessEqual(abs(metrics[("kcm_last_reconcile_timestamp_seconds", None)]
                                 - time.time()), 120)

        textdir = os.path.join(self.work, "textfile")
        os.makedirs(textdir)
        textfile = os.path.join(textdir, "kcm.prom")
        loop = subprocess.Popen([KCM, "node-report", "--conf-dir=" + self.conf,
                                 "--format=prometheus", "--textfile=" + textfile,
                                 "--interval=1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, KCM_PROC_FS="/proc", **self.env))
        self.addCleanup(kcm_e2e.kill_process, loop)
        self.assertTrue(wait_for(lambda: os.path.exists(textfile), 30))
        first = os.stat(textfile).st_ino
        # A second round replaces the file (a new inode: rename, not rewrite in place).
        self.assertTrue(wait_for(lambda: os.stat(textfile).st_ino != first, 30))
        with open(textfile) as f:
            self.assertEqual(parse_metrics(f.read())[("kcm_pool_holders", "dataplane")], 1)
        loop.send_signal(signal.SIGTERM)
        out, err = loop.communicate(timeout=30)
        self.assertEqual(loop.returncode, 0, err)
        self.assertEqual(out, "")  # the text went to the file
        self.assertEqual(os.listdir(textdir), ["kcm.prom"])


    def test_format_and_textfile_usage_errors(self):
        for args, message in (
                (["--format=yaml"], 'option --format="yaml": not json or prometheus'),
                (["--textfile=" + os.path.join(self.work, "x.prom")],
                 "option --textfile needs --format=prometheus")):
            r = subprocess.run([KCM, "node-report", "--conf-dir=" + self.conf] + args,
                               capture_output=True, text=True, timeout=60)
            self.assertEqual((r.returncode, r.stdout), (2, ""), r.stderr)
            self.assertEqual(r.stderr, "kcm: error: %s\n" % message)
        self.assertFalse(os.path.exists(os.path.join(self.work, "x.prom")))

if __name__ == "__main__":
    kcm_e2e.main("KCM_BIN")
