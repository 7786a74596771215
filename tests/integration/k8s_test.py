#!/usr/bin/env python3
"""kcm discover and --publish through the built `kcm` ($KCM_BIN) against the API server
model in tests/k8s/apiserver.py, over HTTPS with a CA made for this run.

Every request kcm makes is checked against the model's request log: method, path,
Authorization, Accept, Content-Type and body. The model authorizes with
packaging/kubernetes/rbac.yaml, so a request the manifest does not allow fails the test.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "k8s"))

import apiserver  # noqa: E402
import harness  # noqa: E402

KCM = os.environ.get("KCM_BIN", "")
RBAC = os.path.join(SOURCE, "packaging", "kubernetes", "rbac.yaml")

NODE = "n1"
NAMESPACE = "kcm"
TOKEN = "token-1"
DATAPLANE_LISTS = ["4,12", "5,13", "6,14", "7,15"]
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
RECONCILE_CRD = CRDS + "/reconciles.report.kcm.intel.com"
NODEREPORT_CRD = CRDS + "/nodereports.report.kcm.intel.com"
RECONCILES = "/apis/report.kcm.intel.com/v1/namespaces/kcm/reconciles"
NODEREPORTS = "/apis/report.kcm.intel.com/v1/namespaces/kcm/nodereports"
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
NOT_IN_CLUSTER = ("kcm: error: not running in a Kubernetes cluster: "
                  "KUBERNETES_SERVICE_HOST is not set\n")


def crd_manifest(plural, kind):
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": plural + ".report.kcm.intel.com"},
        "spec": {
            "group": "report.kcm.intel.com",
            "scope": "Namespaced",
            "names": {"kind": kind, "listKind": kind + "List", "plural": plural,
                      "singular": plural[:-1]},
            "versions": [{"name": "v1", "served": True, "storage": True,
                          "schema": {"openAPIV3Schema": {
                              "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}],
        },
    }


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def bindable(address):
    try:
        with socket.socket() as s:
            s.bind((address, 0))
        return True
    except OSError:
        return False


@unittest.skipUnless(KCM and os.access(KCM, os.X_OK), "KCM_BIN is not an executable kcm")
class K8sTest(harness.PkiTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_ca = harness.make_ca(cls.pki.dir, "other-ca")

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kcm-k8s-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.sa = os.path.join(self.tmp, "serviceaccount")
        harness.write_service_account(self.sa, TOKEN, NAMESPACE, self.pki.ca)
        self.conf = os.path.join(self.tmp, "conf")
        for pool, exclusive, lists in (("dataplane", "1", DATAPLANE_LISTS),
                                       ("infra", "0", ["0-3,8-11"])):
            with open(self._mkdirs(self.conf, "pools", pool, "exclusive"), "w") as f:
                f.write(exclusive)
            for cpus in lists:
                open(self._mkdirs(self.conf, "pools", pool, cpus, "tasks"), "w").close()
        self.server = None

    @staticmethod
    def _mkdirs(*parts):
        os.makedirs(os.path.join(*parts[:-1]), exist_ok=True)
        return os.path.join(*parts)

    def write_sa(self, name, content):
        with open(os.path.join(self.sa, name), "w") as f:
            f.write(content)

    def start(self, host="127.0.0.1", **settings):
        settings.setdefault("nodes", {NODE: None})
        settings.setdefault("tokens", [TOKEN])
        settings.setdefault("rbac", RBAC)
        settings.setdefault("service_account", "kcm:kcm")
        self.server = harness.ApiServer(os.path.join(self.tmp, "apiserver"), self.pki.cert,
                                        self.pki.key, self.pki.ca, host=host, settings=settings)
        self.addCleanup(self.server.stop)
        return self.server

    def env(self, **overrides):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("KUBERNETES_") and k.lower() not in (
                   "http_proxy", "https_proxy", "all_proxy", "no_proxy")}
        env.update({"NODE_NAME": NODE, "KCM_K8S_SERVICEACCOUNT_DIR": self.sa,
                    "KCM_PROC_FS": "/proc", "KCM_LOCK_TIMEOUT": "10"})
        if self.server:
            env.update({"KUBERNETES_SERVICE_HOST": self.server.host,
                        "KUBERNETES_SERVICE_PORT": str(self.server.port)})
        for k, v in overrides.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def kcm(self, *args, **env):
        started = time.monotonic()
        result = subprocess.run([KCM, *args, "--conf-dir=" + self.conf], env=self.env(**env),
                                capture_output=True, text=True, timeout=120)
        result.seconds = time.monotonic() - started
        return result

    def assert_ok(self, result):
        self.assertEqual(result.returncode, 0, "stdout: %s\nstderr: %s" % (result.stdout,
                                                                           result.stderr))

    def assert_fails(self, result, error):
        """Exit code 1 and `error` as the only stderr line besides warnings."""
        lines = [line for line in result.stderr.splitlines(keepends=True)
                 if not line.startswith("kcm: warning: ")]
        self.assertEqual((result.returncode, lines), (1, [error]))

    def assert_requests(self, expected, since=0, token=TOKEN):
        """The log from entry `since` on is exactly `expected`: (method, path, status[,
        body]), bodies compared as JSON; headers checked on every entry."""
        log = self.server.requests()[since:]
        self.assertEqual([(r["method"], r["path"], r["status"]) for r in log],
                         [tuple(e[:3]) for e in expected])
        for record, want in zip(log, expected):
            headers = record["headers"]
            what = "%s %s" % (record["method"], record["path"])
            want_token = want[4] if len(want) > 4 else token
            self.assertEqual(headers.get("authorization"), "Bearer " + want_token, what)
            self.assertEqual(headers.get("accept"), "application/json", what)
            self.assertTrue(headers.get("user-agent", "").startswith("kcm/"), what)
            if record["method"] in ("GET",):
                self.assertNotIn("content-type", headers, what)
                self.assertEqual(record["body"], "", what)
            else:
                self.assertEqual(headers.get("content-type"),
                                 "application/json-patch+json" if record["method"] == "PATCH"
                                 else "application/json", what)
            if len(want) > 3 and want[3] is not None:
                body = json.loads(record["body"])
                if callable(want[3]):
                    want[3](body)
                else:
                    self.assertEqual(body, want[3], what)
        return log

    def node_capacity(self):
        return self.server.state()["nodes"][NODE]["status"]["capacity"]

    # ------------------------------------------------------------------ discover

    def test_discover_patches_extended_resource_on_current_server(self):
        self.start(git_version="v1.27.3")
        self.assert_ok(self.kcm("discover"))
        log = self.assert_requests([
            ("GET", "/version", 200),
            ("GET", "/api/v1/nodes/n1", 200),
            ("PATCH", "/api/v1/nodes/n1/status", 200,
             [{"op": "add", "path": "/status/capacity/kcm.intel.com~1dataplane", "value": "4"}]),
        ])
        self.assertEqual(log[2]["body"], '[{"op":"add","path":"/status/capacity/'
                                         'kcm.intel.com~1dataplane","value":"4"}]')
        self.assertEqual(self.node_capacity()["kcm.intel.com/dataplane"], "4")

    def test_discover_skips_patch_when_node_already_advertises_the_count(self):
        self.start()
        self.assert_ok(self.kcm("discover"))
        self.assert_ok(self.kcm("discover"))
        self.assert_requests([("GET", "/version", 200), ("GET", "/api/v1/nodes/n1", 200)],
                             since=3)

    def test_discover_patches_again_when_the_count_changed(self):
        self.start(nodes={NODE: {"cpu": "16", "kcm.intel.com/dataplane": "2"}})
        self.assert_ok(self.kcm("discover"))
        self.assertEqual(self.node_capacity()["kcm.intel.com/dataplane"], "4")

    def test_discover_reads_minor_with_plus(self):
        self.start(git_version="v1.27.3-eks-a5565ad", minor="27+")
        self.assert_ok(self.kcm("discover"))
        self.assertEqual(self.node_capacity()["kcm.intel.com/dataplane"], "4")

    def test_discover_uses_opaque_integer_resource_before_v1_8(self):
        self.start(git_version="v1.7.16")
        self.assert_ok(self.kcm("discover"))
        self.assert_requests([
            ("GET", "/version", 200),
            ("GET", "/api/v1/nodes/n1", 200),
            ("PATCH", "/api/v1/nodes/n1/status", 200,
             [{"op": "add",
               "path": "/status/capacity/pod.alpha.kubernetes.io~1opaque-int-resource-kcm",
               "value": "4"}]),
        ])
        self.assertEqual(self.node_capacity()["pod.alpha.kubernetes.io/opaque-int-resource-kcm"],
                         "4")

    def test_discover_reports_a_missing_node(self):
        self.start()
        self.assert_fails(self.kcm("discover", NODE_NAME="n2"),
                          'kcm: error: GET /api/v1/nodes/n2: 404 NotFound: nodes "n2" not found\n')

    def test_discover_reports_forbidden_with_status_reason_and_message(self):
        manifest = os.path.join(self.tmp, "rbac-without-patch.yaml")
        with open(RBAC) as f:
            text = f.read()
        without = text.replace('    resources: ["nodes/status"]\n    verbs: ["patch"]\n',
                               '    resources: ["nodes/status"]\n    verbs: ["get"]\n')
        self.assertNotEqual(without, text)
        with open(manifest, "w") as f:
            f.write(without)
        self.start(rbac=manifest)
        self.assert_fails(self.kcm("discover"),
                          'kcm: error: PATCH /api/v1/nodes/n1/status: 403 Forbidden: nodes "n1" '
                          'is forbidden: User "system:serviceaccount:kcm:kcm" cannot patch '
                          'resource "nodes/status" in API group "" at the cluster scope\n')

    # ------------------------------------------------------------------ publish

    def published(self, collection):
        objects = self.server.state()["objects"]
        prefix = collection[len("/apis/"):].replace("/namespaces/", "/")
        return {k: v for k, v in objects.items() if k.startswith(prefix + "/")}

    def test_reconcile_publish_creates_then_updates_one_object(self):
        self.start()
        first = self.kcm("reconcile", "--publish")
        self.assert_ok(first)
        report = json.loads(first.stdout)

        def object_body(body):
            self.assertEqual(set(body), {"apiVersion", "kind", "metadata", "last_updated",
                                         "report"})
            self.assertEqual(body["apiVersion"], "report.kcm.intel.com/v1")
            self.assertEqual(body["kind"], "Reconcile")
            self.assertEqual(body["metadata"]["name"], NODE)
            self.assertRegex(body["last_updated"], RFC3339_UTC)
            self.assertEqual(body["report"], report)

        self.assert_requests([
            ("GET", RECONCILE_CRD, 404),
            ("POST", CRDS, 201, crd_manifest("reconciles", "Reconcile")),
            ("GET", RECONCILE_CRD, 200),
            ("GET", RECONCILE_CRD, 200),  # the model establishes it at the second GET
            ("GET", RECONCILES + "/n1", 404),
            ("POST", RECONCILES, 201, object_body),
        ])
        created = self.published(RECONCILES)["report.kcm.intel.com/v1/kcm/reconciles/n1"]

        second = self.kcm("reconcile", "--publish")
        self.assert_ok(second)

        def update_body(body):
            self.assertEqual(body["metadata"]["resourceVersion"],
                             created["metadata"]["resourceVersion"])
            self.assertEqual(body["metadata"]["uid"], created["metadata"]["uid"])
            self.assertEqual(body["report"], json.loads(second.stdout))
            self.assertRegex(body["last_updated"], RFC3339_UTC)

        self.assert_requests([
            ("GET", RECONCILE_CRD, 200),
            ("GET", RECONCILES + "/n1", 200),
            ("PUT", RECONCILES + "/n1", 200, update_body),
        ], since=6)
        objects = self.published(RECONCILES)
        self.assertEqual(list(objects), ["report.kcm.intel.com/v1/kcm/reconciles/n1"])
        updated = objects["report.kcm.intel.com/v1/kcm/reconciles/n1"]
        self.assertEqual(updated["metadata"]["uid"], created["metadata"]["uid"])
        self.assertNotEqual(updated["metadata"]["resourceVersion"],
                            created["metadata"]["resourceVersion"])

    def test_node_report_publish_uses_its_own_crd(self):
        self.start(established_after=0)
        first = self.kcm("node-report", "--publish")
        self.assert_ok(first)
        report = json.loads(first.stdout)
        self.assert_requests([
            ("GET", NODEREPORT_CRD, 404),
            ("POST", CRDS, 201, crd_manifest("nodereports", "NodeReport")),
            ("GET", NODEREPORTS + "/n1", 404),
            ("POST", NODEREPORTS, 201,
             lambda body: (self.assertEqual(body["kind"], "NodeReport"),
                           self.assertEqual(body["report"], report))),
        ])
        self.assert_ok(self.kcm("node-report", "--publish"))
        self.assert_requests([
            ("GET", NODEREPORT_CRD, 200),
            ("GET", NODEREPORTS + "/n1", 200),
            ("PUT", NODEREPORTS + "/n1", 200),
        ], since=4)
        self.assertEqual(len(self.published(NODEREPORTS)), 1)

    def test_publish_tolerates_a_crd_created_concurrently(self):
        self.start(established_after=1)
        self.assert_ok(self.kcm("reconcile", "--publish"))
        # Another node's kcm created the CRD between our GET and POST.
        self.server.configure(faults=[{"method": "GET", "path": re.escape(RECONCILE_CRD),
                                       "status": 404, "times": 1}])
        # (The injected 404 has no NotFound details; kcm only needs the status.)
        self.assert_ok(self.kcm("reconcile", "--publish"))
        self.assert_requests([
            ("GET", RECONCILE_CRD, 404),
            ("POST", CRDS, 409),
            ("GET", RECONCILE_CRD, 200),
            ("GET", RECONCILES + "/n1", 200),
            ("PUT", RECONCILES + "/n1", 200),
        ], since=5)

    def test_publish_retries_an_update_that_conflicts(self):
        self.start(established_after=0)
        self.assert_ok(self.kcm("reconcile", "--publish"))
        self.server.configure(concurrent_updates=1)
        self.assert_ok(self.kcm("reconcile", "--publish"))
        log = self.assert_requests([
            ("GET", RECONCILE_CRD, 200),
            ("GET", RECONCILES + "/n1", 200),
            ("PUT", RECONCILES + "/n1", 409),
            ("GET", RECONCILES + "/n1", 200),
            ("PUT", RECONCILES + "/n1", 200,
             lambda body: self.assertEqual(body["metadata"]["labels"],
                                           {"other-writer": "was-here"})),
        ], since=4)
        self.assertNotEqual(json.loads(log[2]["body"])["metadata"]["resourceVersion"],
                            json.loads(log[4]["body"])["metadata"]["resourceVersion"])

    def test_publish_updates_an_object_created_concurrently(self):
        self.start(established_after=0, concurrent_creates=1)
        self.assert_ok(self.kcm("reconcile", "--publish"))
        self.assert_requests([
            ("GET", RECONCILE_CRD, 404),
            ("POST", CRDS, 201),
            ("GET", RECONCILES + "/n1", 404),
            ("POST", RECONCILES, 409),
            ("GET", RECONCILES + "/n1", 200),
            ("PUT", RECONCILES + "/n1", 200),
        ])
        self.assertEqual(len(self.published(RECONCILES)), 1)

    def test_publish_gives_up_on_an_object_that_keeps_changing(self):
        self.start(established_after=0)
        self.assert_ok(self.kcm("reconcile", "--publish"))
        self.server.configure(concurrent_updates=100)
        result = self.kcm("reconcile", "--publish")
        self.assert_fails(result, 'kcm: error: publish Reconcile "n1": the object kept '
                                  'changing; gave up after 5 attempts\n')
        self.assertEqual([r["method"] for r in self.server.requests()[5:]].count("PUT"), 5)

    def test_publish_reports_a_crd_that_is_not_served(self):
        for mode, message in (("plain", "404 Not Found: 404 page not found"),
                              ("json", "404 NotFound: the server could not find the "
                                       "requested resource")):
            with self.subTest(mode=mode):
                if self.server:
                    self.server.stop()
                    shutil.rmtree(self.server.state_dir)
                self.start(established_after=0, crd_missing=mode)
                result = self.kcm("reconcile", "--publish")
                self.assert_fails(result, "kcm: error: GET %s/n1: %s\n" % (RECONCILES, message))
                self.assertNotIn("POST " + RECONCILES,
                                 ["%s %s" % (r["method"], r["path"])
                                  for r in self.server.requests()])

    def test_publish_waits_for_established(self):
        self.start(established_after=4)
        self.assert_ok(self.kcm("reconcile", "--publish"))
        paths = [(r["method"], r["path"]) for r in self.server.requests()]
        self.assertEqual(paths.count(("GET", RECONCILE_CRD)), 1 + 4)
        self.assertEqual(paths[-2:], [("GET", RECONCILES + "/n1"), ("POST", RECONCILES)])

    # ------------------------------------------------------------------ HTTP behaviour

    def test_throttled_requests_wait_what_retry_after_asks(self):
        self.start(faults=[{"method": "GET", "path": "/version", "status": 429,
                            "retry_after": "1", "times": 2}])
        result = self.kcm("discover")
        self.assert_ok(result)
        log = self.assert_requests([
            ("GET", "/version", 429), ("GET", "/version", 429), ("GET", "/version", 200),
            ("GET", "/api/v1/nodes/n1", 200), ("PATCH", "/api/v1/nodes/n1/status", 200),
        ])
        for before, after in zip(log[:2], log[1:3]):
            self.assertGreaterEqual(after["time"] - before["time"], 1.0)
            self.assertLess(after["time"] - before["time"], 3.0)

    def test_server_errors_are_retried_with_backoff(self):
        self.start(faults=[{"method": "PATCH", "path": ".*", "status": 503, "times": 1},
                           {"method": "GET", "path": "/version", "action": "close",
                            "times": 1}])
        self.assert_ok(self.kcm("discover"))
        self.assert_requests([
            ("GET", "/version", None), ("GET", "/version", 200),
            ("GET", "/api/v1/nodes/n1", 200),
            ("PATCH", "/api/v1/nodes/n1/status", 503), ("PATCH", "/api/v1/nodes/n1/status", 200),
        ])

    def test_retries_stop_after_five(self):
        self.start(faults=[{"method": "GET", "path": "/version", "status": 429,
                            "retry_after": "0", "times": 100}])
        self.assert_fails(self.kcm("discover"),
                          "kcm: error: GET /version: 429 TooManyRequests: Too many requests, "
                          "please try again later.\n")
        self.assertEqual(len(self.server.requests()), 1 + 5)

    def test_client_errors_are_not_retried(self):
        self.start(faults=[{"method": "GET", "path": "/version", "status": 403,
                            "message": "denied", "times": 100}])
        self.assert_fails(self.kcm("discover"), "kcm: error: GET /version: 403 Forbidden: denied\n")
        self.assertEqual(len(self.server.requests()), 1)

    def test_rotated_token_is_re_read_after_401(self):
        token_file = os.path.join(self.sa, "token")
        self.start(rotate_token={"after": 1, "token": "token-2", "file": token_file})
        self.assert_ok(self.kcm("discover"))
        self.assert_requests([
            ("GET", "/version", 200, None, TOKEN),
            ("GET", "/api/v1/nodes/n1", 401, None, TOKEN),
            ("GET", "/api/v1/nodes/n1", 200, None, "token-2"),
            ("PATCH", "/api/v1/nodes/n1/status", 200, None, "token-2"),
        ])

    def test_a_token_refused_twice_is_an_error(self):
        self.start(tokens=["another-token"])
        self.assert_fails(self.kcm("discover"), "kcm: error: GET /version: 401 Unauthorized: "
                                                "Unauthorized\n")
        self.assertEqual(len(self.server.requests()), 2)

    def test_server_signed_by_another_ca_is_refused(self):
        self.start()
        shutil.copy(self.other_ca, os.path.join(self.sa, "ca.crt"))
        result = self.kcm("discover")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stderr, "kcm: error: GET /version: SSL certificate problem: "
                                        "unable to get local issuer certificate\n")
        self.assertEqual(self.server.requests(), [])

    @unittest.skipUnless(bindable("127.0.0.2"), "127.0.0.2 is not a local address")
    def test_server_whose_certificate_does_not_name_the_host_is_refused(self):
        self.start(host="127.0.0.2")
        result = self.kcm("discover")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stderr, "kcm: error: GET /version: SSL: no alternative "
                                        "certificate subject name matches target host name "
                                        "'127.0.0.2'\n")
        self.assertEqual(self.server.requests(), [])

    @unittest.skipUnless(ipv6_loopback(), "no IPv6 loopback")
    def test_ipv6_service_host(self):
        self.start(host="::1")
        self.assert_ok(self.kcm("discover", KUBERNETES_SERVICE_HOST="::1"))
        self.assertEqual(self.node_capacity()["kcm.intel.com/dataplane"], "4")
        self.assertEqual(self.server.requests()[0]["headers"]["host"],
                         "[::1]:%d" % self.server.port)

    # ------------------------------------------------------------------ configuration

    def test_outside_a_cluster(self):
        for args in (["discover"], ["reconcile", "--publish"]):
            result = self.kcm(*args)
            self.assertEqual((result.returncode, result.stderr), (1, NOT_IN_CLUSTER), args)

    def test_missing_pieces_are_named(self):
        self.start()
        cases = [
            ({"NODE_NAME": None}, ["discover"], "NODE_NAME is not set"),
            ({"KUBERNETES_SERVICE_PORT": None}, ["discover"], "KUBERNETES_SERVICE_PORT is not set"),
            ({}, ["discover"], '"%s/token" does not exist' % self.sa),
            ({}, ["reconcile", "--publish"], '"%s/namespace" does not exist' % self.sa),
        ]
        os.rename(os.path.join(self.sa, "namespace"), os.path.join(self.tmp, "namespace"))
        for env, args, missing in cases:
            with self.subTest(missing=missing):
                if "token" in missing:
                    os.rename(os.path.join(self.sa, "token"), os.path.join(self.tmp, "token"))
                result = self.kcm(*args, **env)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn("kcm: error: incomplete in-cluster Kubernetes config: ",
                              result.stderr)
                self.assertIn(missing, result.stderr)
                if "token" in missing:
                    os.rename(os.path.join(self.tmp, "token"), os.path.join(self.sa, "token"))
        self.assertEqual(self.server.requests(), [])

    def test_rbac_manifest_grants_nothing_more(self):
        with open(RBAC) as f:
            docs = apiserver.parse_yaml(f.read())
        rules = []
        for doc in docs:
            for rule in doc.get("rules") or []:
                for group in rule["apiGroups"]:
                    for resource in rule["resources"]:
                        for verb in rule["verbs"]:
                            rules.append((doc["kind"], group, resource, verb,
                                          tuple(rule.get("resourceNames") or ())))
        crds = ("reconciles.report.kcm.intel.com", "nodereports.report.kcm.intel.com")
        self.assertEqual(sorted(rules), sorted([
            ("ClusterRole", "", "nodes", "get", ()),
            ("ClusterRole", "", "nodes/status", "patch", ()),
            ("ClusterRole", "apiextensions.k8s.io", "customresourcedefinitions", "create", ()),
            ("ClusterRole", "apiextensions.k8s.io", "customresourcedefinitions", "get", crds),
            ("Role", "report.kcm.intel.com", "reconciles", "get", ()),
            ("Role", "report.kcm.intel.com", "reconciles", "create", ()),
            ("Role", "report.kcm.intel.com", "reconciles", "update", ()),
            ("Role", "report.kcm.intel.com", "nodereports", "get", ()),
            ("Role", "report.kcm.intel.com", "nodereports", "create", ()),
            ("Role", "report.kcm.intel.com", "nodereports", "update", ()),
        ]))
        kinds = sorted(d["kind"] for d in docs)
        self.assertEqual(kinds, ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                                 "ServiceAccount"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
