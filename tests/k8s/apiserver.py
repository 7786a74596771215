#!/usr/bin/env python3
"""A model of kube-apiserver for the endpoints kcm uses, for kcm's tests.

Python 3 standard library only. HTTPS (HTTP/1.1, keep-alive) with the certificate and
key given on the command line; it listens on a port the kernel picks and writes that
port to <state-dir>/port, so tests can run in parallel. Every API request is appended
to <state-dir>/requests.jsonl before the response is sent, one JSON object a line:
{"time", "method", "path", "headers" (names lower-cased), "body", "status"}.

Real behaviours it models (kube-apiserver 1.2x unless a version is named):
- Authentication: `Authorization: Bearer <token>` with an accepted token maps to the
  user system:serviceaccount:<ns>:<name>; a wrong token or another scheme is 401 with
  the Status the server writes (message and reason "Unauthorized"). Without the header
  the user is system:anonymous, who may read /version and nothing else (403).
- Authorization (with --rbac or the "rbac" setting): the RBAC objects of a manifest
  (ClusterRole, Role, ClusterRoleBinding, RoleBinding) are evaluated the way the RBAC
  authorizer does: verb from the method (GET get, POST create, PUT update, PATCH
  patch), resource/subresource ("nodes/status"), apiGroups, resourceNames (never
  matching a create, whose URL has no name), RoleBindings only in their namespace.
  Denials are 403 with the authorizer's message. /version is allowed to everyone
  (system:public-info-viewer). The manifest must use the YAML subset parse_yaml reads.
- GET /version: {major, minor, gitVersion, ...}; gitVersion and minor are settings
  (minor may read "27+", as on GKE and EKS).
- GET /api/v1/nodes/{name}; PATCH /api/v1/nodes/{name}/status and /api/v1/nodes/{name}
  with Content-Type application/json-patch+json (RFC 6902 add, remove, replace, move,
  copy, test; RFC 6901 pointers with ~0 and ~1): other content types are 415
  UnsupportedMediaType, a body that is not a JSON array of operations is 400
  BadRequest, a patch that does not apply is 422 with the specifics in
  details.causes, as NewGenericServerResponse writes it. The status subresource keeps
  the spec and the main resource keeps the status, as the node strategies do.
  Capacity validation: quantities must parse (else 422 on the decoded patch); names
  that are neither standard nor in a domain of their own: 422 "must be a standard
  resource for nodes" from v1.9 on (the OIR name pod.alpha.kubernetes.io/... included,
  as opaque integer resources were removed in 1.9); extended and opaque resources
  must be integers (422 "must be an integer") and not negative.
  (The real server also takes merge and strategic merge patches; the model answers
  415 to them, because kcm only ever sends JSON patches.)
- CustomResourceDefinitions under /apis/apiextensions.k8s.io/v1/customresourcedefinitions:
  POST validates what kcm relies on (name = <plural>.<group>, scope, exactly one
  storage version, a structural schema with type object) with 422 Invalid, 409
  AlreadyExists; GET shows NamesAccepted/Established conditions only after
  "established_after" GETs, as the apiextensions controllers set them asynchronously.
- Custom objects under /apis/<group>/<version>/namespaces/<ns>/<plural>[/<name>]: served
  only while their CRD exists, serves that version and is Established; otherwise the
  request falls through to the not-found handler: plain-text "404 page not found".
  GET, POST (201; uid, resourceVersion, creationTimestamp, generation set by the server;
  400 when resourceVersion is set, the apiVersion/kind or namespace do not match; 422
  without a name; 409 AlreadyExists), PUT (404 when absent, 422 without
  metadata.resourceVersion as custom resources forbid unconditional updates, 409
  Conflict on a stale one, 400 on a name mismatch; server-managed metadata kept).
  Unknown fields are pruned unless the schema sets x-kubernetes-preserve-unknown-fields.
- Status bodies as the server writes them:
  {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":...,
   "reason":...,"details":{...},"code":...}.
- Any other path: plain-text "404 page not found".

Test controls, which the real server does not have (POST JSON to /_test/config on the
same port, no authentication; the same keys in the --config file):
  git_version, minor        what /version reports
  tokens                    accepted bearer tokens
  service_account           "<namespace>:<name>" the tokens authenticate as
  rbac                      path of a manifest to authorize with (null: allow all)
  nodes                     {"<name>": {<capacity>}} nodes to create
  established_after         GETs of a new CRD before it is Established (default 2)
  crd_missing               null, "plain" or "json": custom-object requests answer 404
                            as if the CRD were gone (plain text, or a NotFound Status
                            without details as older servers and proxies write)
  faults                    [{"method": "GET" or "*", "path": regex, "times": N,
                              "status": 429|5xx|403..., "retry_after": "1",
                              "message": "...", "action": "close"}]: the next N matching
                            requests get that answer (or a dropped connection)
  concurrent_updates        N: after each of the next N GETs of a custom object,
                            another writer updates it (its resourceVersion moves)
  concurrent_creates        N: after each of the next N GETs that found no custom
                            object, another writer creates it
  rotate_token              {"after": N, "token": "t2", "file": path}: after N more
                            authenticated requests the server accepts only the new
                            token and writes it to the file, as the kubelet rotates a
                            projected service-account token
GET /_test/state returns {"nodes", "crds", "objects"}.
"""

import argparse
import copy
import http.server
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import uuid

# ---------------------------------------------------------------- YAML subset


def _strip_comment(line):
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def _scalar(text):
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [_scalar(part) for part in _split_flow(inner)] if inner else []
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if text in ("", "null", "~"):
        return None
    if text[0] in "{&*!|>":
        raise ValueError("unsupported YAML: %r" % text)
    return text


def _split_flow(text):
    parts, quote, current = [], None, ""
    for c in text:
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == ",":
            parts.append(current)
            current = ""
            continue
        current += c
    parts.append(current)
    return parts


def _key_value(content):
    m = re.match(r"""^("[^"]*"|'[^']*'|[^\s'"][^:]*?):(?:\s+(.*))?$""", content)
    if not m:
        return None
    return _scalar(m.group(1)), (m.group(2) or "")


def _parse_block(lines, i, indent):
    """Parses the node whose lines start at lines[i], all at `indent`."""
    if lines[i][1].startswith("- ") or lines[i][1] == "-":
        result = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("-"):
            rest = lines[i][1][1:].lstrip()
            if not rest:
                value, i = _parse_block(lines, i + 1, lines[i + 1][0])
            elif _key_value(rest) is not None:
                # "- key: value" opens a mapping whose keys align with "key".
                lines[i] = (indent + len(lines[i][1]) - len(rest), rest)
                value, i = _parse_block(lines, i, lines[i][0])
            else:
                value, i = _scalar(rest), i + 1
            result.append(value)
        return result, i
    result = {}
    while i < len(lines) and lines[i][0] == indent:
        kv = _key_value(lines[i][1])
        if kv is None:
            raise ValueError("unsupported YAML line: %r" % lines[i][1])
        key, rest = kv
        i += 1
        if rest:
            result[key] = _scalar(rest)
        elif i < len(lines) and (lines[i][0] > indent or
                                 (lines[i][0] == indent and lines[i][1].startswith("-"))):
            result[key], i = _parse_block(lines, i, lines[i][0])
        else:
            result[key] = None
    return result, i


def parse_yaml(text):
    """The YAML subset Kubernetes manifests in this repository use: documents split by
    '---', block mappings and sequences, flow sequences of scalars, quoted and plain
    scalars, comments. Raises ValueError on anything else."""
    docs = []
    for doc in re.split(r"(?m)^---\s*$", text):
        lines = []
        for raw in doc.splitlines():
            line = _strip_comment(raw).rstrip()
            if line.strip():
                if "\t" in line[:len(line) - len(line.lstrip())]:
                    raise ValueError("tab indentation: %r" % raw)
                lines.append((len(line) - len(line.lstrip()), line.strip()))
        if lines:
            value, end = _parse_block(lines, 0, lines[0][0])
            if end != len(lines):
                raise ValueError("unparsed YAML from line: %r" % lines[end][1])
            docs.append(value)
    return docs


# ---------------------------------------------------------------- RBAC


class Rbac:
    def __init__(self, manifest_path):
        with open(manifest_path) as f:
            self.objects = [d for d in parse_yaml(f.read()) if isinstance(d, dict)]

    def _role(self, kind, name, namespace):
        for o in self.objects:
            meta = o.get("metadata") or {}
            if o.get("kind") == kind and meta.get("name") == name and (
                    kind == "ClusterRole" or meta.get("namespace") == namespace):
                return o
        return None

    def _rules_for(self, sa_namespace, sa_name, namespace):
        rules = []
        for b in self.objects:
            if b.get("kind") not in ("ClusterRoleBinding", "RoleBinding"):
                continue
            bound = any(s.get("kind") == "ServiceAccount" and s.get("name") == sa_name and
                        s.get("namespace") == sa_namespace for s in b.get("subjects") or [])
            if not bound:
                continue
            b_ns = (b.get("metadata") or {}).get("namespace")
            if b["kind"] == "RoleBinding" and b_ns != namespace:
                continue
            ref = b.get("roleRef") or {}
            role = self._role(ref.get("kind"), ref.get("name"), b_ns)
            if role:
                rules.extend(role.get("rules") or [])
        return rules

    def allows(self, sa_namespace, sa_name, attrs):
        resource = attrs["resource"] + ("/" + attrs["subresource"] if attrs["subresource"] else "")
        for rule in self._rules_for(sa_namespace, sa_name, attrs["namespace"]):
            names = rule.get("resourceNames") or []
            if (_matches(rule.get("verbs"), attrs["verb"]) and
                    _matches(rule.get("apiGroups"), attrs["group"]) and
                    _matches(rule.get("resources"), resource) and
                    (not names or attrs["name"] in names)):
                return True
        return False


def _matches(values, value):
    values = values or []
    return "*" in values or value in values


# ---------------------------------------------------------------- JSON patch


class PatchError(Exception):
    pass


def _pointer_tokens(pointer):
    if pointer == "":
        return []
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        raise PatchError("invalid JSON pointer %r" % (pointer,))
    tokens = []
    for raw in pointer[1:].split("/"):
        if re.search(r"~(?![01])", raw):
            raise PatchError("invalid JSON pointer escape in %r" % pointer)
        tokens.append(raw.replace("~1", "/").replace("~0", "~"))
    return tokens


def _array_index(token, limit):
    """The list index RFC 6901 spells as `token`, when below `limit`; else None."""
    if re.fullmatch(r"0|[1-9][0-9]*", token) and int(token) < limit:
        return int(token)
    return None


def _child_key(node, token):
    """The key or index of an existing child of `node` named by `token`, or None."""
    if isinstance(node, dict):
        return token if token in node else None
    if isinstance(node, list):
        return _array_index(token, len(node))
    return None


def _container(doc, tokens, pointer):
    node = doc
    for t in tokens[:-1]:
        key = _child_key(node, t)
        if key is None:
            raise PatchError("doc is missing path: %s" % pointer)
        node = node[key]
    return node


def _get(doc, pointer):
    tokens = _pointer_tokens(pointer)
    if not tokens:
        return doc
    parent = _container(doc, tokens, pointer)
    key = _child_key(parent, tokens[-1])
    if key is None:
        raise PatchError("doc is missing path: %s" % pointer)
    return parent[key]


def _add(doc, pointer, value, op="add"):
    tokens = _pointer_tokens(pointer)
    if not tokens:
        return value
    parent, last = _container(doc, tokens, pointer), tokens[-1]
    if isinstance(parent, dict):
        if op == "replace" and last not in parent:
            raise PatchError("replace operation does not apply: doc is missing key: %s" % pointer)
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and op == "add":
            parent.append(value)
        elif op == "replace" and _array_index(last, len(parent)) is not None:
            parent[int(last)] = value
        elif op == "add" and _array_index(last, len(parent) + 1) is not None:
            parent.insert(int(last), value)
        else:
            raise PatchError("%s operation does not apply: doc is missing path: %s" % (op, pointer))
    else:
        raise PatchError("%s operation does not apply: doc is missing path: %s" % (op, pointer))
    return doc


def _remove(doc, pointer):
    tokens = _pointer_tokens(pointer)
    if not tokens:
        raise PatchError("remove operation does not apply: cannot remove the whole document")
    parent = _container(doc, tokens, pointer)
    key = _child_key(parent, tokens[-1])
    if key is None:
        raise PatchError("remove operation does not apply: doc is missing path: %s" % pointer)
    return parent.pop(key)


def decode_json_patch(body):
    """400 territory: the body must be a JSON array of objects."""
    ops = json.loads(body)
    if not isinstance(ops, list) or not all(isinstance(o, dict) for o in ops):
        raise ValueError("json: cannot unmarshal %s into Go value of type jsonpatch.Patch" %
                         type(ops).__name__)
    return ops


def apply_json_patch(doc, ops):
    """422 territory: RFC 6902 application."""
    doc = copy.deepcopy(doc)
    for op in ops:
        kind, path = op.get("op"), op.get("path")
        if kind in ("add", "replace"):
            if "value" not in op:
                raise PatchError("%s operation: missing value" % kind)
            doc = _add(doc, path, copy.deepcopy(op["value"]), kind)
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "move":
            doc = _add(doc, path, _remove(doc, op.get("from")))
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op.get("from"))))
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise PatchError("testing value %s failed: test failed" % path)
        else:
            raise PatchError("Unexpected kind: %s" % kind)
    return doc


# ---------------------------------------------------------------- quantities

_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_SUFFIX = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
           "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_STANDARD_NODE_RESOURCES = {"cpu", "memory", "pods", "ephemeral-storage", "storage"}


def quantity_value(text):
    m = _QUANTITY.match(text)
    if not m or m.group(2) not in _SUFFIX and not re.fullmatch(r"[eE][-+]?[0-9]+", m.group(2)):
        return None
    try:
        number = float(m.group(1))
    except ValueError:
        return None
    suffix = m.group(2)
    return number * (_SUFFIX[suffix] if suffix in _SUFFIX else 10 ** int(suffix[1:]))


# ---------------------------------------------------------------- the model


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def status_body(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason}
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.body = status_body(code, reason, message, details)
        self.headers = headers or {}


class PlainNotFound(Exception):
    pass


_SENTINEL = object()


class Model:
    def __init__(self, settings):
        self.lock = threading.Lock()
        self.settings = {
            "git_version": "v1.27.3", "minor": None, "tokens": ["token-1"],
            "service_account": "kcm:kcm", "rbac": None, "established_after": 2,
            "crd_missing": None, "faults": [], "concurrent_updates": 0,
            "concurrent_creates": 0, "rotate_token": None,
        }
        self.rbac = None
        self.revision = 100
        self.nodes, self.crds, self.objects = {}, {}, {}
        self.crd_gets = {}
        self.configure(settings)

    # -- settings

    def configure(self, settings):
        for key, value in settings.items():
            if key == "nodes":
                for name, capacity in value.items():
                    self._create_node(name, capacity)
            elif key in self.settings:
                self.settings[key] = value
                if key == "rbac":
                    self.rbac = Rbac(value) if value else None
            else:
                raise ValueError("unknown setting %r" % key)

    def next_rv(self):
        self.revision += 1
        return str(self.revision)

    def _metadata(self, name, namespace=None):
        meta = {"name": name}
        if namespace:
            meta["namespace"] = namespace
        meta.update({"uid": str(uuid.uuid4()), "resourceVersion": self.next_rv(),
                     "creationTimestamp": now_rfc3339()})
        return meta

    def _create_node(self, name, capacity):
        capacity = dict(capacity or {"cpu": "16", "memory": "65843676Ki", "pods": "110"})
        self.nodes[name] = {
            "kind": "Node", "apiVersion": "v1",
            "metadata": dict(self._metadata(name), labels={"kubernetes.io/hostname": name}),
            "spec": {"podCIDR": "10.244.0.0/24"},
            "status": {"capacity": capacity, "allocatable": dict(capacity),
                       "conditions": [{"type": "Ready", "status": "True"}]},
        }

    def version(self):
        m = re.match(r"v(\d+)\.(\d+)", self.settings["git_version"])
        return int(m.group(1)), int(m.group(2))

    def state(self):
        return {"nodes": self.nodes, "crds": self.crds,
                "objects": {"/".join(k): v for k, v in self.objects.items()}}

    # -- request pipeline

    def handle(self, method, path, headers, body):
        """Returns (status, content_type, payload bytes, extra headers); None means drop
        the connection."""
        with self.lock:
            authenticated = False
            try:
                user = self._authenticate(headers)
                authenticated = user != "system:anonymous"
                fault = self._fault(method, path)
                if fault is not _SENTINEL:
                    return fault
                self._authorize(user, request_attributes(method, path), path)
                result = self._route(method, path, headers, body)
                return 201 if method == "POST" else 200, "application/json", result, {}
            except ApiError as e:
                return e.code, "application/json", e.body, e.headers
            except PlainNotFound:
                return 404, "text/plain; charset=utf-8", b"404 page not found\n", {}
            except Exception as e:  # a bug in the model: answer as the server would
                print("apiserver: %s %s: %r" % (method, path, e), file=sys.stderr)
                return (500, "application/json",
                        status_body(500, "InternalError", "Internal error occurred: %s" % e), {})
            finally:
                if authenticated:
                    self._count_for_token_rotation()

    def _authenticate(self, headers):
        auth = headers.get("authorization")
        if auth is None:
            return "system:anonymous"
        m = re.fullmatch(r"Bearer ([^\s]+)", auth)
        if not m or m.group(1) not in self.settings["tokens"]:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        return "system:serviceaccount:" + self.settings["service_account"]

    def _count_for_token_rotation(self):
        rotate = self.settings["rotate_token"]
        if not rotate:
            return
        rotate["after"] -= 1
        if rotate["after"] > 0:
            return
        self.settings["tokens"] = [rotate["token"]]
        tmp = rotate["file"] + ".tmp"
        with open(tmp, "w") as f:
            f.write(rotate["token"] + "\n")
        os.replace(tmp, rotate["file"])
        self.settings["rotate_token"] = None

    def _fault(self, method, path):
        for fault in self.settings["faults"]:
            if fault.get("times", 1) <= 0:
                continue
            if fault.get("method", "*") not in ("*", method):
                continue
            if not re.fullmatch(fault.get("path", ".*"), path.split("?")[0]):
                continue
            fault["times"] = fault.get("times", 1) - 1
            if fault.get("action") == "close":
                return None
            code = fault["status"]
            reason = {403: "Forbidden", 429: "TooManyRequests", 500: "InternalError",
                      503: "ServiceUnavailable", 504: "Timeout"}.get(code, "Unknown")
            message = fault.get("message") or {
                429: "Too many requests, please try again later.",
                500: "Internal error occurred: injected",
                503: "the server is currently unable to handle the request",
            }.get(code, "injected failure")
            headers, details = {}, None
            if "retry_after" in fault:
                headers["Retry-After"] = str(fault["retry_after"])
                if str(fault["retry_after"]).isdigit():
                    details = {"retryAfterSeconds": int(fault["retry_after"])}
            return code, "application/json", status_body(code, reason, message, details), headers
        return _SENTINEL

    def _authorize(self, user, attrs, path):
        if path.split("?")[0] == "/version":
            return  # system:public-info-viewer
        allowed = (user.startswith("system:serviceaccount:") and
                   (self.rbac is None or
                    self.rbac.allows(*user.split(":")[2:4], attrs)))
        if allowed:
            return
        group = attrs["group"]
        qualified = attrs["resource"] + ("." + group if group else "")
        subject = '%s "%s"' % (qualified, attrs["name"]) if attrs["name"] else qualified
        resource = attrs["resource"] + ("/" + attrs["subresource"] if attrs["subresource"] else "")
        scope = ('in the namespace "%s"' % attrs["namespace"] if attrs["namespace"]
                 else "at the cluster scope")
        raise ApiError(403, "Forbidden",
                       '%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" %s'
                       % (subject, user, attrs["verb"], resource, group, scope),
                       {"name": attrs["name"], "group": group, "kind": attrs["resource"]}
                       if attrs["name"] else {"group": group, "kind": attrs["resource"]})

    def _route(self, method, path, headers, body):
        path = path.split("?")[0]
        if path == "/version":
            if method != "GET":
                raise _method_not_allowed()
            major, minor = self.version()
            return {"major": str(major), "minor": self.settings["minor"] or str(minor),
                    "gitVersion": self.settings["git_version"], "gitCommit": "0" * 40,
                    "gitTreeState": "clean", "buildDate": "2023-06-14T09:49:08Z",
                    "goVersion": "go1.20.5", "compiler": "gc", "platform": "linux/amd64"}
        m = re.fullmatch(r"/api/v1/nodes/([^/]+)(/status)?", path)
        if m:
            return self._node(method, m.group(1), bool(m.group(2)), headers, body)
        crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        m = re.fullmatch(re.escape(crds) + r"(?:/([^/]+))?", path)
        if m:
            return self._crd(method, m.group(1), headers, body)
        m = re.fullmatch(r"/apis/([^/]+)/([^/]+)/namespaces/([^/]+)/([^/]+)(?:/([^/]+))?", path)
        if m:
            return self._custom(method, *m.groups(), headers=headers, body=body)
        raise PlainNotFound()

    # -- nodes

    def _node(self, method, name, status_subresource, headers, body):
        node = self.nodes.get(name)
        if node is None:
            raise ApiError(404, "NotFound", 'nodes "%s" not found' % name,
                           {"name": name, "kind": "nodes"})
        if method == "GET":
            return node
        if method != "PATCH":
            raise _method_not_allowed()
        content_type = headers.get("content-type", "").split(";")[0].strip()
        if content_type != "application/json-patch+json":
            raise ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted media "
                           "types include: application/json-patch+json, "
                           "application/merge-patch+json, application/apply-patch+yaml, "
                           "application/strategic-merge-patch+json")
        try:
            ops = decode_json_patch(body)
        except ValueError as e:
            raise ApiError(400, "BadRequest", str(e))
        try:
            patched = apply_json_patch(node, ops)
        except PatchError as e:
            raise ApiError(422, "Invalid",
                           "the server rejected our request due to an error in our request",
                           {"causes": [{"message": str(e)}]})
        if not isinstance(patched, dict):
            raise ApiError(422, "Invalid", "the patched object is not an object")
        if status_subresource:
            patched["spec"] = node["spec"]
        else:
            patched["status"] = node["status"]
        patched["metadata"] = dict(node["metadata"])
        self._validate_capacity(node, patched)
        patched["metadata"]["resourceVersion"] = self.next_rv()
        self.nodes[name] = patched
        return patched

    def _validate_capacity(self, old, new):
        name = new["metadata"]["name"]
        capacity = (new.get("status") or {}).get("capacity") or {}
        old_capacity = (old.get("status") or {}).get("capacity") or {}
        errors = []
        for resource, value in capacity.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = capacity[resource] = str(value)  # Quantity takes JSON numbers
            amount = quantity_value(value) if isinstance(value, str) else None
            if amount is None:
                raise ApiError(422, "Invalid",
                               ' "" is invalid: patch: Invalid value: "%s": quantities must match '
                               "the regular expression '%s'" % (json.dumps(new), _QUANTITY.pattern),
                               {"causes": [{"reason": "FieldValueInvalid", "field": "patch"}]})
            if old_capacity.get(resource) == value:
                continue
            field = "status.capacity[%s]" % resource
            native = "/" not in resource or "kubernetes.io/" in resource
            standard = resource in _STANDARD_NODE_RESOURCES or resource.startswith("hugepages-")
            if native and not standard and self.version() >= (1, 9):
                errors.append((field, resource, "must be a standard resource for nodes"))
            elif not standard and amount != int(amount):
                errors.append((field, value, "must be an integer"))
            elif amount < 0:
                errors.append((field, value, "must be greater than or equal to 0"))
        if errors:
            causes = [{"reason": "FieldValueInvalid",
                       "message": 'Invalid value: "%s": %s' % (v, msg), "field": f}
                      for f, v, msg in errors]
            raise ApiError(422, "Invalid", 'Node "%s" is invalid: %s' % (
                name, ", ".join('%s: Invalid value: "%s": %s' % e for e in errors)),
                {"name": name, "kind": "Node", "causes": causes})

    # -- CRDs

    def _crd(self, method, name, headers, body):
        if method == "GET" and name:
            crd = self.crds.get(name)
            if crd is None:
                raise ApiError(404, "NotFound",
                               'customresourcedefinitions.apiextensions.k8s.io "%s" not found'
                               % name, {"name": name, "group": "apiextensions.k8s.io",
                                        "kind": "customresourcedefinitions"})
            self.crd_gets[name] += 1
            if self.crd_gets[name] >= self.settings["established_after"]:
                self._establish(crd)
            return crd
        if method != "POST" or name:
            raise _method_not_allowed()
        crd = _json_body(headers, body)
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        crd_name = (crd.get("metadata") or {}).get("name", "")
        errors = []
        if crd_name != "%s.%s" % (names.get("plural"), spec.get("group")):
            errors.append('metadata.name: Invalid value: "%s": must be spec.names.plural+"."+'
                          "spec.group" % crd_name)
        if spec.get("scope") not in ("Namespaced", "Cluster"):
            errors.append('spec.scope: Unsupported value: "%s": supported values: "Cluster", '
                          '"Namespaced"' % spec.get("scope"))
        if not names.get("kind"):
            errors.append("spec.names.kind: Required value")
        versions = spec.get("versions") or []
        if sum(1 for v in versions if v.get("storage")) != 1:
            errors.append("spec.versions: Invalid value: ...: must have exactly one version "
                          "marked as storage version")
        for i, v in enumerate(versions):
            schema = (v.get("schema") or {}).get("openAPIV3Schema")
            if not isinstance(schema, dict):
                errors.append("spec.versions[%d].schema.openAPIV3Schema: Required value: "
                              "schemas are required" % i)
            elif schema.get("type") != "object":
                errors.append('spec.versions[%d].schema.openAPIV3Schema.type: Unsupported value: '
                              '"%s": supported values: "object"' % (i, schema.get("type")))
        if errors:
            raise ApiError(422, "Invalid",
                           'CustomResourceDefinition.apiextensions.k8s.io "%s" is invalid: [%s]'
                           % (crd_name, ", ".join(errors)),
                           {"name": crd_name, "group": "apiextensions.k8s.io",
                            "kind": "CustomResourceDefinition",
                            "causes": [{"message": e} for e in errors]})
        if crd_name in self.crds:
            raise ApiError(409, "AlreadyExists",
                           'customresourcedefinitions.apiextensions.k8s.io "%s" already exists'
                           % crd_name, {"name": crd_name, "group": "apiextensions.k8s.io",
                                        "kind": "customresourcedefinitions"})
        crd["metadata"] = dict(crd["metadata"], **self._metadata(crd_name))
        crd["metadata"]["generation"] = 1
        crd["status"] = {"conditions": [], "acceptedNames": {"plural": "", "kind": ""},
                         "storedVersions": [v["name"] for v in versions if v.get("storage")]}
        self.crds[crd_name] = crd
        self.crd_gets[crd_name] = 0
        if self.settings["established_after"] <= 0:
            self._establish(crd)
        return crd

    @staticmethod
    def _establish(crd):
        if crd["status"]["conditions"]:
            return
        now = now_rfc3339()
        crd["status"]["conditions"] = [
            {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now,
             "reason": "NoConflicts", "message": "no conflicts found"},
            {"type": "Established", "status": "True", "lastTransitionTime": now,
             "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted"}]
        crd["status"]["acceptedNames"] = crd["spec"]["names"]

    # -- custom objects

    def _served_crd(self, group, version, plural):
        mode = self.settings["crd_missing"]
        if mode == "json":
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {})
        crd = self.crds.get("%s.%s" % (plural, group))
        established = crd and any(c["type"] == "Established" and c["status"] == "True"
                                  for c in crd["status"]["conditions"])
        served = crd and any(v["name"] == version and v.get("served")
                             for v in crd["spec"]["versions"])
        if mode == "plain" or not established or not served:
            raise PlainNotFound()
        return crd

    def _custom(self, method, group, version, namespace, plural, name, headers, body):
        crd = self._served_crd(group, version, plural)
        kind = crd["spec"]["names"]["kind"]
        qualified = "%s.%s" % (plural, group)
        details = {"name": name, "group": group, "kind": plural}
        key = (group, version, namespace, plural, name)
        if method == "GET" and name:
            obj = self.objects.get(key)
            if obj is None:
                if self.settings["concurrent_creates"] > 0:
                    self.settings["concurrent_creates"] -= 1
                    self.objects[key] = self._other_writer_object(crd, version, namespace, name)
                raise ApiError(404, "NotFound", '%s "%s" not found' % (qualified, name), details)
            result = copy.deepcopy(obj)
            if self.settings["concurrent_updates"] > 0:
                self.settings["concurrent_updates"] -= 1
                obj["metadata"]["resourceVersion"] = self.next_rv()
                obj["metadata"].setdefault("labels", {})["other-writer"] = "was-here"
            return result
        if method == "POST" and not name:
            obj = self._validated(_json_body(headers, body), crd, group, version, namespace)
            name = (obj.get("metadata") or {}).get("name")
            if not name:
                raise ApiError(422, "Invalid", '%s.%s "" is invalid: metadata.name: Required '
                               "value: name or generateName is required" % (kind, group),
                               {"group": group, "kind": kind, "causes": [{
                                   "reason": "FieldValueRequired", "field": "metadata.name",
                                   "message": "Required value: name or generateName is required",
                               }]})
            if obj["metadata"].get("resourceVersion"):
                raise ApiError(400, "BadRequest",
                               "resourceVersion should not be set on objects to be created")
            key = key[:4] + (name,)
            if key in self.objects:
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (qualified, name),
                               dict(details, name=name))
            obj["metadata"] = dict(obj["metadata"], **self._metadata(name, namespace))
            obj["metadata"]["generation"] = 1
            self.objects[key] = obj
            return obj
        if method == "PUT" and name:
            obj = self._validated(_json_body(headers, body), crd, group, version, namespace)
            meta = obj.get("metadata") or {}
            if meta.get("name") != name:
                raise ApiError(400, "BadRequest",
                               "the name of the object (%s) does not match the name on the URL (%s)"
                               % (meta.get("name"), name))
            current = self.objects.get(key)
            if current is None:
                raise ApiError(404, "NotFound", '%s "%s" not found' % (qualified, name), details)
            if not meta.get("resourceVersion"):
                raise ApiError(422, "Invalid", '%s.%s "%s" is invalid: metadata.resourceVersion: '
                               "Invalid value: 0x0: must be specified for an update"
                               % (kind, group, name),
                               dict(details, kind=kind, causes=[{
                                   "reason": "FieldValueInvalid",
                                   "message": "Invalid value: 0x0: must be specified for an update",
                                   "field": "metadata.resourceVersion"}]))
            cur_meta = current["metadata"]
            if meta.get("uid") and meta["uid"] != cur_meta["uid"]:
                raise ApiError(409, "Conflict", "Precondition failed: UID in precondition: %s, "
                               "UID in object meta: %s" % (cur_meta["uid"], meta["uid"]), details)
            if meta["resourceVersion"] != cur_meta["resourceVersion"]:
                raise ApiError(409, "Conflict",
                               'Operation cannot be fulfilled on %s "%s": the object has been '
                               "modified; please apply your changes to the latest version and "
                               "try again" % (qualified, name), details)
            generation = cur_meta.get("generation", 1)
            changed = {k: v for k, v in obj.items() if k != "metadata"} != {
                k: v for k, v in current.items() if k != "metadata"}
            obj["metadata"] = dict(meta, uid=cur_meta["uid"], namespace=namespace,
                                   creationTimestamp=cur_meta["creationTimestamp"],
                                   resourceVersion=self.next_rv(),
                                   generation=generation + (1 if changed else 0))
            self.objects[key] = obj
            return obj
        raise _method_not_allowed()

    def _validated(self, obj, crd, group, version, namespace):
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", "Object 'Kind' is missing in '%s'" % json.dumps(obj))
        kind = crd["spec"]["names"]["kind"]
        if obj.get("apiVersion") != "%s/%s" % (group, version) or obj.get("kind") != kind:
            raise ApiError(400, "BadRequest",
                           "the API version in the data (%s) does not match the expected API "
                           "version (%s/%s)" % (obj.get("apiVersion"), group, version)
                           if obj.get("kind") == kind else
                           "%s in version \"%s\" cannot be handled as a %s: kind mismatch"
                           % (obj.get("kind"), version, kind))
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            raise ApiError(400, "BadRequest", "metadata must be an object")
        if meta.get("namespace") not in (None, "", namespace):
            raise ApiError(400, "BadRequest", "the namespace of the provided object does not "
                           "match the namespace sent on the request")
        schema = next(v for v in crd["spec"]["versions"] if v["name"] == version)
        schema = schema["schema"]["openAPIV3Schema"]
        if not schema.get("x-kubernetes-preserve-unknown-fields"):
            known = set((schema.get("properties") or {}).keys()) | {"apiVersion", "kind",
                                                                    "metadata"}
            obj = {k: v for k, v in obj.items() if k in known}
        return obj

    def _other_writer_object(self, crd, version, namespace, name):
        meta = self._metadata(name, namespace)
        meta["generation"] = 1
        return {"apiVersion": "%s/%s" % (crd["spec"]["group"], version),
                "kind": crd["spec"]["names"]["kind"], "metadata": meta,
                "last_updated": now_rfc3339(), "report": {"writer": "other"}}


def _method_not_allowed():
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the "
                    "requested resource", {})


def _json_body(headers, body):
    content_type = headers.get("content-type", "").split(";")[0].strip()
    if content_type != "application/json":
        raise ApiError(415, "UnsupportedMediaType",
                       "the body of the request was in an unknown format - accepted media types "
                       "include: application/json, application/yaml, "
                       "application/vnd.kubernetes.protobuf")
    try:
        return json.loads(body)
    except ValueError as e:
        raise ApiError(400, "BadRequest", "couldn't get version/kind; json parse error: %s" % e)


def request_attributes(method, path):
    """The RBAC request attributes of a resource request, as RequestInfoFactory
    derives them."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    group = ""
    if parts[:1] == ["api"]:
        parts = parts[2:]
    elif parts[:1] == ["apis"]:
        group, parts = (parts[1] if len(parts) > 1 else ""), parts[3:]
    namespace = ""
    if len(parts) >= 3 and parts[0] == "namespaces":
        namespace, parts = parts[1], parts[2:]
    parts += [""] * (3 - len(parts))
    resource, name, subresource = parts[0], parts[1], parts[2]
    verb = {"GET": "get" if name else "list", "POST": "create", "PUT": "update",
            "PATCH": "patch", "DELETE": "delete"}.get(method, method.lower())
    return {"verb": verb, "group": group, "namespace": namespace, "resource": resource,
            "name": name, "subresource": subresource}


# ---------------------------------------------------------------- HTTP


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-model"

    def log_message(self, fmt, *args):
        pass

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/_test/"):
            return self._control(body)
        headers = {k.lower(): v for k, v in self.headers.items()}
        received = time.time()
        result = self.server.model.handle(self.command, self.path, headers, body)
        self.server.log({"time": received, "method": self.command, "path": self.path,
                         "headers": headers, "body": body.decode("utf-8", "replace"),
                         "status": result[0] if result else None})
        if result is None:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        code, content_type, payload, extra = result
        if not isinstance(payload, bytes):
            payload = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _control(self, body):
        model = self.server.model
        try:
            with model.lock:
                if self.command == "POST" and self.path == "/_test/config":
                    model.configure(json.loads(body))
                    payload = {}
                elif self.command == "GET" and self.path == "/_test/state":
                    payload = model.state()
                else:
                    raise ValueError("unknown control request")
                data = json.dumps(payload).encode()  # under the lock: state() is live
            code = 200
        except (ValueError, OSError) as e:
            code, data = 400, json.dumps({"error": str(e)}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host, context, model, log_path):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), Handler)
        self.context = context
        self.model = model
        self.log_path = log_path
        self.log_lock = threading.Lock()

    def log(self, record):
        with self.log_lock, open(self.log_path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def finish_request(self, request, client_address):
        # TLS per connection, in the connection's thread: a client that refuses the
        # certificate costs that thread only.
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            print("apiserver: TLS handshake with %s failed: %s" % (client_address[0], e),
                  file=sys.stderr)
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--state-dir", required=True,
                        help="where the port and requests.jsonl are written")
    parser.add_argument("--config", help="JSON file of initial settings")
    args = parser.parse_args()

    settings = {}
    if args.config:
        with open(args.config) as f:
            settings = json.load(f)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server = Server(args.host, context, Model(settings),
                    os.path.join(args.state_dir, "requests.jsonl"))
    port_file = os.path.join(args.state_dir, "port")
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(port_file + ".tmp", port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
