#!/usr/bin/env python3
"""Checks that the API server model (apiserver.py) answers as kube-apiserver does, so a
kcm test that passes against it means something: the rejections kcm must never trigger
(415, 400, 422, 409, 401, 403) are really there. Python 3 standard library only."""

import http.client
import json
import os
import shutil
import ssl
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import apiserver  # noqa: E402
import harness  # noqa: E402

RBAC = os.path.join(os.path.dirname(os.path.dirname(HERE)), "packaging", "kubernetes",
                    "rbac.yaml")
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
OBJECTS = "/apis/report.kcm.intel.com/v1/namespaces/kcm/reconciles"
JSON_PATCH = "application/json-patch+json"


def crd(name="reconciles.report.kcm.intel.com", schema=None):
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": name},
            "spec": {"group": "report.kcm.intel.com", "scope": "Namespaced",
                     "names": {"plural": "reconciles", "kind": "Reconcile"},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": schema or {
                                       "type": "object",
                                       "x-kubernetes-preserve-unknown-fields": True}}}]}}


def report(**metadata):
    return {"apiVersion": "report.kcm.intel.com/v1", "kind": "Reconcile",
            "metadata": dict({"name": "n1"}, **metadata), "report": {"a": 1}}


class ModelTest(harness.PkiTestCase):

    def start(self, **settings):
        state = tempfile.mkdtemp(prefix="kcm-model-")
        self.addCleanup(shutil.rmtree, state)
        settings = dict({"nodes": {"n1": None}, "tokens": ["t1"]}, **settings)
        self.server = harness.ApiServer(state, self.pki.cert, self.pki.key, self.pki.ca,
                                        settings=settings)
        self.addCleanup(self.server.stop)

    def request(self, method, path, body=None, content_type="application/json", token="t1"):
        context = ssl.create_default_context(cafile=self.pki.ca)
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, context=context)
        headers = {"Content-Type": content_type} if body is not None else {}
        if token:
            headers["Authorization"] = "Bearer " + token
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read().decode()
        conn.close()
        if response.getheader("Content-Type") == "application/json":
            data = json.loads(data)
        return response.status, data, response

    def assert_status(self, result, code, reason, message=None):
        status, body, _ = result
        self.assertEqual(status, code, body)
        self.assertEqual(list(body)[:6], ["kind", "apiVersion", "metadata", "status", "message",
                                          "reason"])
        self.assertEqual((body["kind"], body["apiVersion"], body["metadata"], body["status"],
                          body["reason"], body["code"]),
                         ("Status", "v1", {}, "Failure", reason, code))
        if message is not None:
            self.assertEqual(body["message"], message)
        return body

    def patch(self, ops, path="/api/v1/nodes/n1/status", content_type=JSON_PATCH):
        return self.request("PATCH", path, ops, content_type)

    # -- authentication and authorization

    def test_wrong_token_is_401_as_the_server_writes_it(self):
        self.start()
        status, body, _ = self.request("GET", "/version", token="nope")
        self.assertEqual((status, body), (401, {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Unauthorized", "reason": "Unauthorized", "code": 401}))

    def test_anonymous_may_read_the_version_only(self):
        self.start()
        self.assertEqual(self.request("GET", "/version", token=None)[0], 200)
        self.assert_status(self.request("GET", "/api/v1/nodes/n1", token=None), 403, "Forbidden")

    def test_rbac_denies_what_the_manifest_does_not_grant(self):
        self.start(rbac=RBAC, service_account="kcm:kcm")
        self.assertEqual(self.request("GET", "/api/v1/nodes/n1")[0], 200)
        self.assert_status(
            self.patch([], path="/api/v1/nodes/n1"), 403, "Forbidden",
            'nodes "n1" is forbidden: User "system:serviceaccount:kcm:kcm" cannot patch '
            'resource "nodes" in API group "" at the cluster scope')
        self.assert_status(
            self.request("GET", "/apis/report.kcm.intel.com/v1/namespaces/default/reconciles/n1"),
            403, "Forbidden",
            'reconciles.report.kcm.intel.com "n1" is forbidden: User '
            '"system:serviceaccount:kcm:kcm" cannot get resource "reconciles" in API group '
            '"report.kcm.intel.com" in the namespace "default"')

    # -- version and nodes

    def test_version_reports_the_configured_git_version(self):
        self.start(git_version="v1.7.16", minor="7+")
        _, body, _ = self.request("GET", "/version")
        self.assertEqual((body["gitVersion"], body["major"], body["minor"]), ("v1.7.16", "1", "7+"))

    def test_patch_with_another_content_type_is_415(self):
        self.start()
        for content_type in ("application/merge-patch+json", "application/json"):
            self.assert_status(self.patch([], content_type=content_type), 415,
                               "UnsupportedMediaType")

    def test_undecodable_patch_is_400(self):
        self.start()
        for body in ("[{", '{"op": "add"}', "[1]"):
            self.assert_status(self.patch(body), 400, "BadRequest")

    def test_patch_that_does_not_apply_is_422_with_the_cause(self):
        self.start()
        body = self.assert_status(
            self.patch([{"op": "add", "path": "/status/nothing/x", "value": "1"}]), 422,
            "Invalid", "the server rejected our request due to an error in our request")
        self.assertIn("missing path", body["details"]["causes"][0]["message"])
        bad_escape = [{"op": "add", "path": "/status/capacity/a~2", "value": "1"}]
        self.assert_status(self.patch(bad_escape), 422, "Invalid")
        self.assert_status(self.patch([{"op": "frobnicate", "path": "/status"}]), 422, "Invalid")

    def test_pointer_escapes_are_decoded(self):
        self.start()
        status, node, _ = self.patch(
            [{"op": "add", "path": "/status/capacity/example.com~1a~0b", "value": "2"}])
        self.assertEqual(status, 200, node)
        self.assertEqual(node["status"]["capacity"]["example.com/a~b"], "2")

    def test_extended_resource_must_be_an_integer_quantity(self):
        self.start()
        for value, message in (("1500m", "must be an integer"), ("-1", "greater than or equal"),
                               ("four", "quantities must match")):
            with self.subTest(value=value):
                body = self.assert_status(self.patch(
                    [{"op": "add", "path": "/status/capacity/kcm.intel.com~1dataplane",
                      "value": value}]), 422, "Invalid")
                self.assertIn(message, body["message"])

    def test_opaque_integer_resources_exist_only_before_v1_9(self):
        oir = [{"op": "add",
                "path": "/status/capacity/pod.alpha.kubernetes.io~1opaque-int-resource-kcm",
                "value": "4"}]
        self.start(git_version="v1.27.3")
        body = self.assert_status(self.patch(oir), 422, "Invalid")
        self.assertIn("must be a standard resource for nodes", body["message"])
        self.server.configure(git_version="v1.7.16")
        self.assertEqual(self.patch(oir)[0], 200)

    def test_main_resource_keeps_status_and_status_keeps_spec(self):
        self.start()
        status, node, _ = self.patch(
            [{"op": "add", "path": "/status/capacity/x.io~1y", "value": "1"},
             {"op": "add", "path": "/spec/unschedulable", "value": True}],
            path="/api/v1/nodes/n1")
        self.assertEqual(status, 200)
        self.assertNotIn("x.io/y", node["status"]["capacity"])
        self.assertTrue(node["spec"]["unschedulable"])
        status, node, _ = self.patch(
            [{"op": "add", "path": "/status/capacity/x.io~1y", "value": "1"},
             {"op": "remove", "path": "/spec/unschedulable"}])
        self.assertEqual(node["status"]["capacity"]["x.io/y"], "1")
        self.assertTrue(node["spec"]["unschedulable"])

    def test_missing_node_is_404_not_found(self):
        self.start()
        body = self.assert_status(self.request("GET", "/api/v1/nodes/n9"), 404, "NotFound",
                                  'nodes "n9" not found')
        self.assertEqual(body["details"], {"name": "n9", "kind": "nodes"})

    # -- CRDs and custom objects

    def test_crd_is_established_after_some_gets_and_created_once(self):
        self.start(established_after=2)
        status, created, _ = self.request("POST", CRDS, crd())
        self.assertEqual((status, created["status"]["conditions"]), (201, []))
        path = CRDS + "/reconciles.report.kcm.intel.com"
        self.assertEqual(self.request("GET", path)[1]["status"]["conditions"], [])
        conditions = self.request("GET", path)[1]["status"]["conditions"]
        self.assertIn({"type": "Established", "status": "True"},
                      [{k: c[k] for k in ("type", "status")} for c in conditions])
        self.assert_status(self.request("POST", CRDS, crd()), 409, "AlreadyExists")

    def test_invalid_crd_is_422(self):
        self.start()
        self.assert_status(self.request("POST", CRDS, crd(name="reconciles")), 422, "Invalid")
        self.assert_status(self.request("POST", CRDS, crd(schema={"type": "string"})), 422,
                           "Invalid")

    def test_custom_objects_are_not_served_before_established(self):
        self.start(established_after=5)
        self.assertEqual(self.request("GET", OBJECTS + "/n1")[:2], (404, "404 page not found\n"))
        self.request("POST", CRDS, crd())
        self.assertEqual(self.request("GET", OBJECTS + "/n1")[:2], (404, "404 page not found\n"))

    def test_crd_missing_json_mode_writes_a_status_without_details(self):
        self.start(established_after=0, crd_missing="json")
        self.request("POST", CRDS, crd())
        body = self.assert_status(self.request("GET", OBJECTS + "/n1"), 404, "NotFound",
                                  "the server could not find the requested resource")
        self.assertEqual(body["details"], {})

    def test_custom_object_lifecycle(self):
        self.start(established_after=0)
        self.request("POST", CRDS, crd())
        body = self.assert_status(self.request("GET", OBJECTS + "/n1"), 404, "NotFound",
                                  'reconciles.report.kcm.intel.com "n1" not found')
        self.assertEqual(body["details"], {"name": "n1", "group": "report.kcm.intel.com",
                                           "kind": "reconciles"})
        self.assert_status(self.request("PUT", OBJECTS + "/n1", report(resourceVersion="1")), 404,
                           "NotFound")
        self.assert_status(self.request("POST", OBJECTS, report(resourceVersion="1")), 400,
                           "BadRequest")
        status, created, _ = self.request("POST", OBJECTS, report())
        self.assertEqual(status, 201)
        meta = created["metadata"]
        self.assertTrue(meta["uid"] and meta["resourceVersion"] and meta["creationTimestamp"])
        self.assert_status(self.request("POST", OBJECTS, report()), 409, "AlreadyExists",
                           'reconciles.report.kcm.intel.com "n1" already exists')
        self.assert_status(self.request("PUT", OBJECTS + "/n1", report()), 422, "Invalid")
        self.assert_status(self.request("PUT", OBJECTS + "/n1", report(resourceVersion="1")),
                           409, "Conflict")
        self.assert_status(self.request("PUT", OBJECTS + "/n2", report(resourceVersion="1")),
                           400, "BadRequest")
        self.assert_status(self.request("POST", OBJECTS, report(), content_type="text/plain"),
                           415, "UnsupportedMediaType")
        status, updated, _ = self.request("PUT", OBJECTS + "/n1",
                                          report(resourceVersion=meta["resourceVersion"]))
        self.assertEqual(status, 200)
        self.assertEqual(updated["metadata"]["uid"], meta["uid"])
        self.assertNotEqual(updated["metadata"]["resourceVersion"], meta["resourceVersion"])

    def test_unknown_fields_are_pruned_without_preserve_unknown_fields(self):
        self.start(established_after=0)
        self.request("POST", CRDS, crd(schema={"type": "object"}))
        _, created, _ = self.request("POST", OBJECTS, report())
        self.assertNotIn("report", created)

    # -- faults and the log

    def test_throttling_fault_sends_retry_after(self):
        self.start(faults=[{"path": "/version", "status": 429, "retry_after": "3"}])
        status, body, response = self.request("GET", "/version")
        self.assertEqual((status, response.getheader("Retry-After")), (429, "3"))
        self.assertEqual(body["details"], {"retryAfterSeconds": 3})
        self.assertEqual(self.request("GET", "/version")[0], 200)

    def test_request_log_records_method_path_headers_and_body(self):
        self.start()
        self.patch([{"op": "test", "path": "/kind", "value": "Node"}])
        [record] = self.server.requests()
        self.assertEqual((record["method"], record["path"], record["status"]),
                         ("PATCH", "/api/v1/nodes/n1/status", 200))
        self.assertEqual(record["headers"]["authorization"], "Bearer t1")
        self.assertEqual(record["headers"]["content-type"], JSON_PATCH)
        self.assertEqual(json.loads(record["body"]),
                         [{"op": "test", "path": "/kind", "value": "Node"}])


class JsonPatchTest(unittest.TestCase):
    def test_applies_every_operation_of_rfc_6902(self):
        doc = apiserver.apply_json_patch({"a": [1, 2]}, [
            {"op": "add", "path": "/a/-", "value": 3},
            {"op": "add", "path": "/a/0", "value": 0},
            {"op": "replace", "path": "/a/1", "value": 9},
            {"op": "remove", "path": "/a/3"},
            {"op": "move", "from": "/a/0", "path": "/b"},
            {"op": "copy", "from": "/b", "path": "/c"},
            {"op": "test", "path": "/c", "value": 0},
        ])
        self.assertEqual(doc, {"a": [9, 2], "b": 0, "c": 0})

    def test_refuses_what_does_not_apply(self):
        for op in ({"op": "replace", "path": "/x", "value": 1},
                   {"op": "remove", "path": "/a/2"},
                   {"op": "add", "path": "/a/01", "value": 1},
                   {"op": "add", "path": "a", "value": 1},
                   {"op": "test", "path": "/a/0", "value": 2}):
            with self.subTest(op=op), self.assertRaises(apiserver.PatchError):
                apiserver.apply_json_patch({"a": [1]}, [op])


class YamlSubsetTest(unittest.TestCase):
    def test_reads_block_and_flow_forms(self):
        docs = apiserver.parse_yaml(
            "# c\na: 1\nb:\n  - x: 'q # not a comment'\n    y: [\"\", z]\n  - plain\n"
            "c:\n- 2\n---\nd: true # c\n")
        self.assertEqual(docs, [{"a": 1, "b": [{"x": "q # not a comment", "y": ["", "z"]},
                                               "plain"], "c": [2]}, {"d": True}])

    def test_refuses_what_it_does_not_read(self):
        with self.assertRaises(ValueError):
            apiserver.parse_yaml("a: {b: c}\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
