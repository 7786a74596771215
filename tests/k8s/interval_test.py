#!/usr/bin/env python3
"""kcm reconcile --interval and kcm node-report --interval (docs/cli.md), through the built
`kcm` ($KCM_BIN), publishing to the API server model (apiserver.py) authorized with
packaging/kubernetes/rbac.yaml.

Every round prints its document and, with --publish, upserts its report; a round that
fails (the server answering 503, a malformed configuration directory) is logged and the
loop goes on; SIGTERM and SIGINT end it with exit 0, also while the client is retrying a
server that is down. Bad --interval values are usage errors. Waits are polls with
deadlines, never fixed sleeps, so the whole file runs in a few seconds.
"""

import fcntl
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import harness  # noqa: E402

KCM = os.environ.get("KCM_BIN", "")
RBAC = os.path.join(SOURCE, "packaging", "kubernetes", "rbac.yaml")
NODE = "n1"
TOKEN = "token-1"
RECONCILES = "/apis/report.kcm.intel.com/v1/namespaces/kcm/reconciles"
NODEREPORTS = "/apis/report.kcm.intel.com/v1/namespaces/kcm/nodereports"
# How long a stop signal may take to end the loop.
PROMPT = 2.0


class Loop:
    """A running `kcm ... --interval=1`: its documents (one per round) and stderr lines,
    read as they come."""

    def __init__(self, args, env):
        self.process = subprocess.Popen([KCM, *args], env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.documents = queue.Queue()
        self.stderr = []
        self._threads = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for t in self._threads:
            t.start()

    def _read_stdout(self):
        lines = []
        for line in self.process.stdout:
            lines.append(line)
            if line == "}\n":  # the end of a two-space-indented document
                self.documents.put(json.loads("".join(lines)))
                lines = []

    def _read_stderr(self):
        for line in self.process.stderr:
            self.stderr.append(line)

    def next_document(self, timeout=5):
        return self.documents.get(timeout=timeout)

    def stop(self, signo=signal.SIGTERM):
        """Sends `signo`; returns (exit code, seconds it took)."""
        started = time.monotonic()
        self.process.send_signal(signo)
        try:
            code = self.process.wait(timeout=10)
        finally:
            self.kill()
        return code, time.monotonic() - started

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for t in self._threads:
            t.join(timeout=5)
        self.process.stdout.close()
        self.process.stderr.close()


def wait_for(condition, timeout=8, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


@unittest.skipUnless(KCM and os.access(KCM, os.X_OK), "KCM_BIN is not an executable kcm")
class IntervalTest(harness.PkiTestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kcm-interval-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.sa = os.path.join(self.tmp, "serviceaccount")
        harness.write_service_account(self.sa, TOKEN, "kcm", self.pki.ca)
        self.conf = os.path.join(self.tmp, "conf")
        for pool, exclusive, lists in (("dataplane", "1", ["4,12", "5,13"]),
                                       ("infra", "0", ["0-3,8-11"])):
            os.makedirs(os.path.join(self.conf, "pools", pool))
            with open(os.path.join(self.conf, "pools", pool, "exclusive"), "w") as f:
                f.write(exclusive)
            for cpus in lists:
                os.makedirs(os.path.join(self.conf, "pools", pool, cpus))
                open(os.path.join(self.conf, "pools", pool, cpus, "tasks"), "w").close()
        self.server = None

    def start_server(self):
        self.server = harness.ApiServer(
            os.path.join(self.tmp, "apiserver"), self.pki.cert, self.pki.key, self.pki.ca,
            settings={"nodes": {NODE: None}, "tokens": [TOKEN], "rbac": RBAC,
                      "service_account": "kcm:kcm", "established_after": 0})
        self.addCleanup(self.server.stop)

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("KUBERNETES_", "KCM_")) and k.lower() not in (
                   "http_proxy", "https_proxy", "all_proxy", "no_proxy")}
        env.update({"NODE_NAME": NODE, "KCM_K8S_SERVICEACCOUNT_DIR": self.sa,
                    "KCM_PROC_FS": "/proc", "KCM_LOCK_TIMEOUT": "5"})
        if self.server:
            env.update({"KUBERNETES_SERVICE_HOST": self.server.host,
                        "KUBERNETES_SERVICE_PORT": str(self.server.port)})
        return env

    def loop(self, *args):
        loop = Loop([*args, "--conf-dir=" + self.conf], self.env())
        self.addCleanup(loop.kill)
        return loop

    def writes(self, collection):
        """The successful POSTs and PUTs of report objects so far."""
        return [r for r in self.server.requests()
                if r["method"] in ("POST", "PUT") and r["path"].startswith(collection)
                and r["status"] in (200, 201)]

    def assert_stopped_cleanly(self, loop, signo=signal.SIGTERM):
        code, seconds = loop.stop(signo)
        self.assertEqual(code, 0, "".join(loop.stderr))
        self.assertLess(seconds, PROMPT)

    # ------------------------------------------------------------------ rounds

    def test_reconcile_publishes_every_round_until_sigterm(self):
        self.start_server()
        loop = self.loop("reconcile", "--publish", "--interval=1")
        started = time.monotonic()
        for _ in range(3):
            self.assertEqual(loop.next_document(),
                             {"mismatchedCpuMasks": [], "reclaimedCpuLists": []})
        wait_for(lambda: len(self.writes(RECONCILES)) >= 3, what="three reports")
        # One round a second: three rounds take two waits, not three.
        self.assertGreaterEqual(time.monotonic() - started, 2.0)
        writes = self.writes(RECONCILES)
        self.assertEqual([r["method"] for r in writes[:3]], ["POST", "PUT", "PUT"])
        self.assertEqual(len(self.server.state()["objects"]), 1)
        self.assert_stopped_cleanly(loop)
        self.assertEqual(loop.stderr, [])

    def test_node_report_goes_on_through_an_outage(self):
        self.start_server()
        loop = self.loop("node-report", "--publish", "--interval=1")
        self.assertTrue(loop.next_document()["checks"]["configDirectory"]["ok"])
        wait_for(lambda: self.writes(NODEREPORTS), what="the first report")
        # Two rounds' worth of 503s: every request and its 5 retries (Retry-After: 0).
        self.server.configure(faults=[{"method": "*", "path": ".*", "status": 503,
                                       "retry_after": "0", "times": 12}])
        failures = wait_for(lambda: [l for l in loop.stderr if l.startswith("kcm: error: ")]
                            [:2] if len([l for l in loop.stderr
                                         if l.startswith("kcm: error: ")]) >= 2 else None,
                            what="two failed rounds")
        for line in failures:
            self.assertRegex(line, r"^kcm: error: GET /apis/\S+: 503 ServiceUnavailable: ")
        # Back: the next round publishes again.
        before = len(self.writes(NODEREPORTS))
        wait_for(lambda: len(self.writes(NODEREPORTS)) > before, what="a report after it")
        self.assertGreaterEqual(loop.documents.qsize(), 2)  # printed in failed rounds too
        self.assert_stopped_cleanly(loop)

    def test_sigterm_while_retrying_a_server_that_is_down(self):
        self.start_server()
        loop = self.loop("reconcile", "--publish", "--interval=1")
        loop.next_document()
        wait_for(lambda: self.writes(RECONCILES), what="the first report")
        self.server.stop()  # connections refused from now on: retried for seconds
        wait_for(lambda: any("retry" in l for l in loop.stderr), what="a retry")
        self.assert_stopped_cleanly(loop)
        self.assertFalse(any(l.startswith("kcm: error: ") for l in loop.stderr), loop.stderr)
        self.assert_lock_free()

    def test_sigint_between_rounds(self):
        loop = self.loop("node-report", "--interval=1")
        loop.next_document()
        self.assert_stopped_cleanly(loop, signal.SIGINT)

    def test_a_failing_reconcile_round_is_logged_and_the_loop_goes_on(self):
        tasks = os.path.join(self.conf, "pools", "dataplane", "4,12", "tasks")
        with open(tasks, "w") as f:
            f.write("abc\n")
        loop = self.loop("reconcile", "--interval=1")
        error = wait_for(lambda: [l for l in loop.stderr if l.startswith("kcm: error: ")],
                         what="the failed round")[0]
        self.assertEqual(error, 'kcm: error: parse "%s": invalid PID "abc"\n' % tasks)
        self.assertTrue(loop.documents.empty())
        self.assert_lock_free()
        with open(tasks, "w") as f:
            f.write("")
        self.assertEqual(loop.next_document(),
                         {"mismatchedCpuMasks": [], "reclaimedCpuLists": []})
        self.assert_stopped_cleanly(loop)
        self.assert_lock_free()

    def assert_lock_free(self):
        """No round holds the directory's lock (flock(2) on <conf>/lock) while the loop
        waits or after it ended."""
        path = os.path.join(self.conf, "lock")
        self.assertTrue(os.path.exists(path))
        with open(path) as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises when held

    # ------------------------------------------------------------------ usage

    def test_bad_values_are_usage_errors(self):
        for command in ("reconcile", "node-report"):
            for value in ("0", "-1", "abc", "1.5", "1s", " 1", "+1", "2147483648",
                          "99999999999999999999"):
                with self.subTest(command=command, value=value):
                    result = subprocess.run(
                        [KCM, command, "--interval=" + value, "--conf-dir=" + self.conf],
                        env=self.env(), capture_output=True, text=True, timeout=10)
                    self.assertEqual(
                        (result.returncode, result.stdout, result.stderr),
                        (2, "", 'kcm: error: option --interval="%s": not a whole number of '
                                'seconds from 1 to 2147483647\n' % value))
            result = subprocess.run([KCM, command, "--interval=", "--conf-dir=" + self.conf],
                                    env=self.env(), capture_output=True, text=True, timeout=10)
            self.assertEqual(result.returncode, 2)
            self.assertTrue(result.stderr.startswith(
                "kcm: error: option --interval needs a non-empty value\n"), result.stderr)


if __name__ == "__main__":
    unittest.main()
