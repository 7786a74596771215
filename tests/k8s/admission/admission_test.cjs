// Evaluates packaging/kubernetes/admission-policy.yaml, read from the file itself, with a
// real CEL evaluator (@bufbuild/cel), the way the API server does for a
// ValidatingAdmissionPolicy: matchConditions first (all true, or the request is not
// checked), then the variables in order, each bound under `variables`, then the
// validations, with `object`, `oldObject` (null on CREATE), `request` and `params` (null:
// the policy has no paramKind) bound. An evaluation error refuses the request, as
// failurePolicy: Fail does. Then pods that must pass and pods that must be refused.
//
// Usage: node admission_test.cjs <policy.yaml> <node_modules dir> [<pod.yaml> ...]
// (run_test.py runs it); every pod file given (packaging/kubernetes/examples/) must be
// admitted.
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { test } = require("node:test");

const [policyPath, modules, ...examplePaths] = process.argv.slice(2);
// Resolved as from a file beside `modules`, so that package "exports" maps apply.
const need = require("node:module").createRequire(path.join(path.resolve(modules), "..", "x.js"));
const { run, isCelError, isCelMap, isCelList } = need("@bufbuild/cel");
const { strings } = need("@bufbuild/cel/ext");
const YAML = need("yaml");

const documents = YAML.parseAllDocuments(fs.readFileSync(policyPath, "utf8")).map((d) => {
  assert.deepEqual(d.errors, [], "YAML errors");
  return d.toJS();
});
const policy = documents.find((d) => d.kind === "ValidatingAdmissionPolicy");
const binding = documents.find((d) => d.kind === "ValidatingAdmissionPolicyBinding");

// JSON as the API server hands it to CEL: objects are maps, whole numbers ints.
function cel(value) {
  if (Array.isArray(value)) return value.map(cel);
  if (value !== null && typeof value === "object") {
    return new Map(Object.entries(value).map(([k, v]) => [k, cel(v)]));
  }
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  return value;
}

function evaluate(expression, bindings, what) {
  const result = run(expression, bindings, { funcs: strings });
  if (isCelError(result)) throw new Error(`${what}: ${result.message}`);
  return result;
}

// The API server's answer to `operation` of `object` (over `oldObject` on UPDATE):
// {allowed, messages}.
function admit({ operation = "CREATE", subResource = "", object, oldObject = null }) {
  const bindings = {
    object: cel(object),
    oldObject: cel(oldObject),
    params: null,
    request: cel({ operation, subResource, kind: { group: "", version: "v1", kind: "Pod" },
                   resource: { group: "", version: "v1", resource: "pods" },
                   namespace: "default", name: object.metadata.name }),
  };
  try {
    for (const condition of policy.spec.matchConditions ?? []) {
      const matched = evaluate(condition.expression, bindings, `matchCondition ${condition.name}`);
      assert.equal(typeof matched, "boolean", condition.name);
      if (!matched) return { allowed: true, messages: [], matched: false };
    }
    const variables = new Map();
    bindings.variables = variables;
    for (const variable of policy.spec.variables ?? []) {
      variables.set(variable.name, evaluate(variable.expression, bindings,
                                            `variable ${variable.name}`));
    }
    const messages = [];
    for (const validation of policy.spec.validations) {
      const ok = evaluate(validation.expression, bindings, validation.expression);
      assert.equal(typeof ok, "boolean");
      if (!ok) {
        const message = evaluate(validation.messageExpression, bindings, "messageExpression");
        assert.equal(typeof message, "string");
        assert.doesNotMatch(message, /\n/);
        messages.push(message);
      }
    }
    return { allowed: messages.length === 0, messages, matched: true };
  } catch (e) {
    return { allowed: false, messages: [`failurePolicy Fail: ${e.message}`], matched: true };
  }
}

// ---------------------------------------------------------------------------- pods

function container(name, dataplane, extra = {}) {
  const c = { name, image: "registry.example/app:1.0", ...extra };
  if (dataplane !== undefined) c.resources = { limits: { "kcm.intel.com/dataplane": dataplane } };
  return c;
}

function pod(annotations, containers, spec = {}) {
  const metadata = { name: "p", namespace: "default", labels: { app: "p" } };
  if (annotations) metadata.annotations = annotations;
  return { apiVersion: "v1", kind: "Pod", metadata,
           spec: { containers, restartPolicy: "Always", ...spec } };
}

const allowedPods = {
  "no kcm annotation, no dataplane": pod(null, [container("app")]),
  "other annotations only": pod({ "example.com/x": "y" }, [container("app")]),
  "the pod-wide pool, one list": pod({ "kcm.intel.com/pool": "dataplane" },
                                     [container("app", "1")]),
  "the pod-wide pool and count": pod(
      { "kcm.intel.com/pool": "dataplane", "kcm.intel.com/cores": "2" },
      [container("a", "2"), container("b", "2")]),
  "docs/hook.md's dpdk-app": pod(
      { "kcm.intel.com/pool": "infra", "kcm.intel.com/pool.fwd": "dataplane",
        "kcm.intel.com/cores.fwd": "2" },
      [container("fwd", "2"), container("metrics"), container("logs")]),
  "a container's own pool wins over the pod's": pod(
      { "kcm.intel.com/pool": "dataplane", "kcm.intel.com/pool.sidecar": "infra" },
      [container("app", "1"), container("sidecar")]),
  "a container's own count wins over the pod's": pod(
      { "kcm.intel.com/pool": "dataplane", "kcm.intel.com/cores": "3",
        "kcm.intel.com/cores.small": "1" },
      [container("big", "3"), container("small", "1")]),
  "requests equal to limits": pod({ "kcm.intel.com/pool.app": "dataplane" }, [
      container("app", undefined, { resources: {
        requests: { cpu: "1", "kcm.intel.com/dataplane": "1" },
        limits: { memory: "1Gi", "kcm.intel.com/dataplane": "1" } } })]),
  "a count with a leading zero, as kcm-hook reads it": pod(
      { "kcm.intel.com/pool": "dataplane", "kcm.intel.com/cores": "02" }, [container("a", "2")]),
  "an init container in the pool": pod({ "kcm.intel.com/pool.setup": "dataplane" },
      [container("app")], { initContainers: [container("setup", "1")] }),
  "a limit of 0 outside the pool": pod(null, [container("app", "0")]),
  "integer fields elsewhere in the pod": pod({ "kcm.intel.com/pool": "dataplane" },
      [container("app", "1", { ports: [{ containerPort: 8080, protocol: "TCP" }] })],
      { terminationGracePeriodSeconds: 30 }),
};

const refusedPods = {
  "the pod-wide pool without the limit": [
    pod({ "kcm.intel.com/pool": "dataplane" }, [container("app")]),
    /^a container in the kcm.intel.com\/pool dataplane needs the limit kcm.intel.com\/dataplane equal to its kcm.intel.com\/cores \(default 1\): container app asks for 1 and has the limit unset$/],
  "a limit smaller than the count": [
    pod({ "kcm.intel.com/pool": "dataplane", "kcm.intel.com/cores": "2" },
        [container("app", "1")]),
    /container app asks for 2 and has the limit 1$/],
  "a limit larger than the count": [
    pod({ "kcm.intel.com/pool.app": "dataplane" }, [container("app", "2")]),
    /container app asks for 1 and has the limit 2$/],
  "one of two containers without the limit": [
    pod({ "kcm.intel.com/pool": "dataplane" }, [container("a", "1"), container("b")]),
    /: container b asks for 1 and has the limit unset$/],
  "a container's own count against the pod's limit": [
    pod({ "kcm.intel.com/pool": "dataplane", "kcm.intel.com/cores.a": "2" },
        [container("a", "1")]),
    /container a asks for 2 and has the limit 1$/],
  "a count that is no number": [
    pod({ "kcm.intel.com/pool": "dataplane", "kcm.intel.com/cores": "two" },
        [container("a", "2")]),
    /container a asks for two and has the limit 2$/],
  "a count of 0": [
    pod({ "kcm.intel.com/pool": "dataplane", "kcm.intel.com/cores": "0" },
        [container("a", "0")]),
    /container a asks for 0 and has the limit 0$/],
  "the limit without the annotation": [
    pod(null, [container("app", "1")]),
    /^a container that requests kcm.intel.com\/dataplane must be in the kcm.intel.com\/pool dataplane: container app is in no pool$/],
  "the limit in another pool": [
    pod({ "kcm.intel.com/pool": "infra" }, [container("app", "1")]),
    /: container app is in the pool infra$/],
  "the limit on the container the annotation does not name": [
    pod({ "kcm.intel.com/pool.a": "dataplane" }, [container("a", "1"), container("b", "1")]),
    /: container b is in no pool$/],
  "a request without the annotation": [
    pod(null, [container("app", undefined, {
      resources: { requests: { "kcm.intel.com/dataplane": "1" } } })]),
    /: container app is in no pool$/],
  "an init container in the pool without the limit": [
    pod({ "kcm.intel.com/pool": "dataplane" }, [container("app", "1")],
        { initContainers: [container("setup")] }),
    /container setup asks for 1 and has the limit unset$/],
};

test("the file holds the policy and its binding, nothing else", () => {
  assert.equal(documents.length, 2);
  for (const d of documents) assert.equal(d.apiVersion, "admissionregistration.k8s.io/v1");
  assert.equal(binding.spec.policyName, policy.metadata.name);
  assert.deepEqual(binding.spec.validationActions, ["Deny"]);
  assert.equal(policy.spec.failurePolicy, "Fail");
  assert.equal(policy.spec.paramKind, undefined);
  const rules = policy.spec.matchConstraints.resourceRules;
  assert.deepEqual(rules.map((r) => r.resources).flat().sort(),
                   ["pods", "pods/ephemeralcontainers"]);
  for (const v of policy.spec.validations) assert.equal(v.reason, "Invalid");
});

for (const [name, object] of Object.entries(allowedPods)) {
  test(`admits: ${name}`, () => {
    const answer = admit({ object });
    assert.deepEqual(answer.messages, []);
    assert.equal(answer.allowed, true);
  });
}

for (const [name, [object, message]] of Object.entries(refusedPods)) {
  test(`refuses: ${name}`, () => {
    const answer = admit({ object });
    assert.equal(answer.allowed, false);
    assert.equal(answer.messages.length, 1, answer.messages.join("\n"));
    assert.match(answer.messages[0], message);
  });
}

test("refuses both faults at once, each with its message", () => {
  const answer = admit({ object: pod({ "kcm.intel.com/pool.a": "dataplane" },
                                     [container("a"), container("b", "1")]) });
  assert.equal(answer.messages.length, 2);
  assert.match(answer.messages[0], /container a asks for 1 and has the limit unset/);
  assert.match(answer.messages[1], /container b is in no pool/);
});

// ---------------------------------------------------------------------------- updates

const legacy = pod({ "kcm.intel.com/pool": "dataplane" }, [container("app")]);
const labelled = structuredClone(legacy);
labelled.metadata.labels.extra = "yes";
labelled.metadata.annotations["example.com/note"] = "x";

test("an update that leaves kcm's part alone is not checked", () => {
  const answer = admit({ operation: "UPDATE", object: labelled, oldObject: legacy });
  assert.deepEqual(answer, { allowed: true, messages: [], matched: false });
});

test("an update that adds the pool annotation is checked", () => {
  const before = pod(null, [container("app")]);
  const after = pod({ "kcm.intel.com/pool": "dataplane" }, [container("app")]);
  const answer = admit({ operation: "UPDATE", object: after, oldObject: before });
  assert.equal(answer.allowed, false);
  assert.match(answer.messages[0], /container app asks for 1 and has the limit unset/);
});

test("an update that changes or removes a kcm annotation is checked", () => {
  const before = pod({ "kcm.intel.com/pool": "dataplane", "kcm.intel.com/cores": "1" },
                     [container("app", "1")]);
  const changed = structuredClone(before);
  changed.metadata.annotations["kcm.intel.com/cores"] = "2";
  assert.equal(admit({ operation: "UPDATE", object: changed, oldObject: before }).allowed, false);
  const removed = structuredClone(before);
  delete removed.metadata.annotations["kcm.intel.com/pool"];
  const answer = admit({ operation: "UPDATE", object: removed, oldObject: before });
  assert.equal(answer.matched, true);
  assert.match(answer.messages[0], /container app is in no pool/);
  const all = structuredClone(before);
  delete all.metadata.annotations;
  assert.equal(admit({ operation: "UPDATE", object: all, oldObject: before }).allowed, false);
  assert.equal(admit({ operation: "UPDATE", object: before, oldObject: all }).matched, true);
});

test("a resize of a container is checked", () => {
  const before = pod({ "kcm.intel.com/pool": "dataplane" }, [container("app", "1")]);
  const after = pod({ "kcm.intel.com/pool": "dataplane" }, [container("app", "2")]);
  const answer = admit({ operation: "UPDATE", object: after, oldObject: before });
  assert.equal(answer.allowed, false);
  assert.deepEqual(admit({ operation: "UPDATE", object: before, oldObject: before }).matched,
                   false);
});

test("an ephemeral container in the pool is refused, one outside it admitted", () => {
  const base = pod({ "kcm.intel.com/pool": "dataplane" }, [container("app", "1")]);
  const debugged = structuredClone(base);
  debugged.spec.ephemeralContainers = [{ name: "debugger", image: "busybox" }];
  const answer = admit({ operation: "UPDATE", subResource: "ephemeralcontainers",
                         object: debugged, oldObject: base });
  assert.equal(answer.allowed, false);
  assert.match(answer.messages[0], /^an ephemeral container cannot be in the kcm.intel.com\/pool dataplane .*: debugger$/);

  const perContainer = pod({ "kcm.intel.com/pool.app": "dataplane" }, [container("app", "1")]);
  const debugged2 = structuredClone(perContainer);
  debugged2.spec.ephemeralContainers = [{ name: "debugger", image: "busybox" }];
  assert.equal(admit({ operation: "UPDATE", subResource: "ephemeralcontainers",
                       object: debugged2, oldObject: perContainer }).allowed, true);
});

// ---------------------------------------------------------------------------- examples

for (const examplePath of examplePaths) {
  test(`admits the example ${path.basename(examplePath)}`, () => {
    const pods = YAML.parseAllDocuments(fs.readFileSync(examplePath, "utf8")).map((d) => {
      assert.deepEqual(d.errors, [], "YAML errors");
      return d.toJS();
    }).filter((d) => d.kind === "Pod");
    assert.notEqual(pods.length, 0, "no Pod in the file");
    for (const object of pods) {
      const answer = admit({ object });
      assert.deepEqual(answer.messages, []);
      assert.equal(answer.allowed, true);
    }
  });
}
