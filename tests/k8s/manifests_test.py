#!/usr/bin/env python3
"""packaging/kubernetes/ (docs/operator.md): the manifests parse, the kustomizations list
every file, and the DaemonSet's, the components' and the uninstall Job's commands are run
for real, as the kubelet would run them, with the built programs ($KCM_BIN,
$KCM_RUNTIME_BIN, $KCM_HOOK_BIN) on a node made of temp directories:

- every hostPath volume is a directory under a temp root (the host's /proc is the real
  one, its /sys a topology fixture, /var/lib/kubelet the test's own, as every other
  directory); a container's paths are mapped to the host through
  its volumeMounts, so a path a command names outside its mounts fails the test, and so
  does a mount the command never uses, or one whose readOnly does not match whether the
  command writes there (and a read-only one must come out of the run unchanged);
- env is built as the kubelet builds it (literal values, the downward API's
  spec.nodeName, the ConfigMap's keys, then `$(VAR)` in the command expanded); every
  variable set is one kcm reads (lib/env.cpp, lib/k8s_config.cpp) or one the command
  expands;
- the API server is the model (apiserver.py) authorizing with rbac.yaml as the
  DaemonSet's service account: the init containers advertise the dataplane slots, the
  two daemons publish both reports and stop cleanly on SIGTERM, a restarted pod keeps the
  node's configuration, node-report sees the kubelet's CPU manager state on the node;
  every request is allowed and every rule of rbac.yaml is used.

kustomize itself is not needed: the components' JSON patches and the `images:` entry are
applied here; when kubectl is on PATH, `kubectl kustomize` must render the same objects.
"""

import copy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import harness  # noqa: E402

PACKAGE = os.path.join(SOURCE, "packaging", "kubernetes")
RBAC = os.path.join(PACKAGE, "rbac.yaml")
TOPOLOGY_SYS = os.path.join(SOURCE, "tests", "fixtures", "topologies",
                            "32amd64-4s2n4c-cgroup2", "sys")
PROGRAMS = {"kcm": os.environ.get("KCM_BIN", ""),
            "kcm-hook": os.environ.get("KCM_HOOK_BIN", ""),
            "kcm-runtime": os.environ.get("KCM_RUNTIME_BIN", ""),
            "busybox": shutil.which("busybox") or ""}
IMAGE_BIN = "/usr/local/bin"  # where the Containerfile puts the programs
NODE = "node-1"
TOKEN = "token-1"
# Files applied by hand rather than through a kustomization (docs/operator.md).
STANDALONE = {"uninstall/job.yaml", "examples/hello-world.yaml"}
COMPONENTS = {"containerd": "/etc/containerd/config.toml", "crio": "/etc/crio/crio.conf"}
KUBELET_DIR = "/var/lib/kubelet"
# The checks of node-report whose outcome this test decides: the directory's, and
# exclusiveCpus, which judges processes only on lists with a holder (here none). irqs reads
# the real /proc's IRQ affinities against the fixture's CPUs: on a machine with as many
# CPUs as the fixture, they overlap its dataplane. kubelet reads the test's own state.
CHECKS_DECIDED = {"configDirectory", "cpus", "tasks", "owners", "exclusiveCpus"}


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def yaml_files():
    found = set()
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith((".yaml", ".yml")):
                found.add(os.path.relpath(os.path.join(root, name), PACKAGE))
    return found


def kustomization(directory):
    return load(os.path.join(PACKAGE, directory, "kustomization.yaml"))[0]


def pointer(doc, path):
    """The parent of the RFC 6901 pointer `path` in `doc`, and the last key."""
    *parents, last = path.lstrip("/").split("/")
    for key in parents:
        doc = doc[int(key)] if isinstance(doc, list) else doc[key]
    return doc, last


def apply_json_patch(doc, operations):
    """The RFC 6902 operations the components use: `add` and `copy`."""
    for op in operations:
        if op["op"] == "add":
            value = op["value"]
        elif op["op"] == "copy":
            parent, key = pointer(doc, op["from"])
            value = parent[int(key) if isinstance(parent, list) else key]
        else:
            raise AssertionError("unsupported patch op " + op["op"])
        target, last = pointer(doc, op["path"])
        if isinstance(target, list):
            target.insert(len(target) if last == "-" else int(last), copy.deepcopy(value))
        else:
            target[last] = copy.deepcopy(value)


def render(components=()):
    """What `kustomize build` makes of packaging/kubernetes with `components`."""
    base = kustomization(".")
    docs = [d for r in base["resources"] for d in load(os.path.join(PACKAGE, r))]
    for d in docs:
        set_images(d, base["images"])
    for component in components:
        k = kustomization(os.path.join("components", component))
        assert k["kind"] == "Component", component
        for patch in k["patches"]:
            operations = load(os.path.join(PACKAGE, "components", component, patch["path"]))[0]
            t = patch["target"]
            targets = [d for d in docs if d["kind"] == t["kind"]
                       and d["metadata"]["name"] == t["name"]
                       and d["apiVersion"] == "%s/%s" % (t["group"], t["version"])]
            assert len(targets) == 1, patch
            apply_json_patch(targets[0], operations)
    return docs


def set_images(doc, images):
    for c in containers_of(doc):
        for image in images:
            if c["image"] == image["name"]:
                c["image"] = "%s:%s" % (image["newName"], image["newTag"])


def pod_spec(doc):
    if doc.get("kind") in ("DaemonSet", "Job"):
        return doc["spec"]["template"]["spec"]
    if doc.get("kind") == "Pod":
        return doc["spec"]
    return None


def containers_of(doc):
    spec = pod_spec(doc)
    if spec is None:
        return []
    return spec.get("initContainers", []) + spec.get("containers", [])


def find(docs, kind, name=None):
    found = [d for d in docs if d["kind"] == kind and
             (name is None or d["metadata"].get("name") == name)]
    assert len(found) == 1, (kind, name, len(found))
    return found[0]


def uninstall_job(node):
    with open(os.path.join(PACKAGE, "uninstall", "job.yaml")) as f:
        return yaml.safe_load(f.read().replace("@NODE@", node))


def every_pod():
    """The DaemonSet, once with each component, and the uninstall Job."""
    pods = [d for d in render() if pod_spec(d)]
    for component in COMPONENTS:
        pods.append(find(render([component]), "DaemonSet", "kcm"))
    return pods + [uninstall_job(NODE)]


def whitespace_folded(value):
    """`value` with every run of white space in its strings made one space: kustomize
    re-emits a folded scalar's more-indented lines with an extra line break, which is
    white space between CEL tokens to the API server."""
    if isinstance(value, dict):
        return {k: whitespace_folded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whitespace_folded(v) for v in value]
    return re.sub(r"\s+", " ", value) if isinstance(value, str) else value


def variables_kcm_reads():
    """The environment variables of lib/env.cpp and lib/k8s_config.cpp."""
    names = set()
    for source in ("env.cpp", "k8s_config.cpp"):
        with open(os.path.join(SOURCE, "lib", source)) as f:
            names |= set(re.findall(r'\b(?:env|non_empty)\("([A-Z_]+)"\)', f.read()))
    return names


# What each command does with the paths it is given: "w" writes there, "r" only reads,
# "host" names a host path for another program (the engine), which the container only
# reads. Keyed by program and subcommand; flags by name, env vars by name, "*" for the
# operands of busybox.
ACCESS = {
    ("kcm", "init"): {"--conf-dir": "w", "KCM_PROC_FS": "r", "KCM_SYS_FS": "r"},
    ("kcm", "install"): {"--install-dir": "w"},
    ("kcm", "discover"): {"--conf-dir": "r", "KCM_PROC_FS": "r"},
    ("kcm", "reconcile"): {"--conf-dir": "w", "KCM_PROC_FS": "r"},
    ("kcm", "node-report"): {"--conf-dir": "r", "KCM_PROC_FS": "r", "KCM_SYS_FS": "r",
                             "KCM_KUBELET_CPU_MANAGER_STATE": "r"},
    ("kcm-runtime", "configure"): {"--config": "w", "--runtime-path": "host"},
    ("kcm-runtime", "unconfigure"): {"--config": "w"},
    ("busybox", "rm"): {"*": "w"},
    ("busybox", "rmdir"): {"*": "w"},
}


class Container:
    """One container of a pod spec, run as the kubelet would on the node `host`."""

    def __init__(self, spec, pod, host, configmaps):
        self.spec, self.pod, self.host = spec, pod, host
        self.name = spec["name"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        # mountPath -> (host directory, readOnly, hostPath on the real node)
        self.mounts = {}
        for m in spec.get("volumeMounts", []):
            host_path = volumes[m["name"]]["hostPath"]["path"]
            self.mounts[m["mountPath"]] = (host.path(host_path), m.get("readOnly", False),
                                           host_path)
        self.env = {}
        for e in spec.get("env", []):
            if "value" in e:
                self.env[e["name"]] = e["value"]
            elif "fieldRef" in e.get("valueFrom", {}):
                assert e["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName", e
                self.env[e["name"]] = host.node
            else:
                ref = e["valueFrom"]["configMapKeyRef"]
                self.env[e["name"]] = configmaps[ref["name"]][ref["key"]]
        self.argv = [self.expand(a) for a in spec.get("command", []) + spec.get("args", [])]
        program = os.path.basename(self.argv[0])
        self.access = ACCESS[(program, self.argv[1])]
        self.used = set()  # mountPaths the command's paths lie under

    def expand(self, text):
        """`$(VAR)` as the kubelet expands it: defined variables only, `$$` escapes."""
        return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                      lambda m: "$" if m.group(0) == "$$" else self.env.get(m.group(1),
                                                                           m.group(0)),
                      text)

    def mount_of(self, path):
        best = None
        for mount in self.mounts:
            if path == mount or path.startswith(mount.rstrip("/") + "/"):
                if best is None or len(mount) > len(best):
                    best = mount
        return best

    def host_path(self, path, access, what):
        """The host file behind the container's `path`; checks the mount's readOnly."""
        mount = self.mount_of(path)
        if mount is None:
            raise AssertionError("%s: %s %s is under none of its volumeMounts %s"
                                 % (self.name, what, path, sorted(self.mounts)))
        self.used.add(mount)
        directory, read_only, node_path = self.mounts[mount]
        if access == "host":
            # The engine runs it on the node: the same path there.
            if node_path != mount:
                raise AssertionError("%s: %s %s is mounted from %s, another path on the node"
                                     % (self.name, what, path, node_path))
            access = "r"
        if read_only != (access == "r"):
            raise AssertionError("%s: %s %s is %s, its mount %s has readOnly: %s"
                                 % (self.name, what, path,
                                    "only read" if access == "r" else "written", mount,
                                    read_only))
        return directory + path[len(mount):]

    def command(self):
        """argv and env for the test's process: paths mapped to the node's directories,
        except a "host" path, which the program writes into the engine's config as it is."""
        argv = [self.host.image_program(self.argv[0])]
        for arg in self.argv[1:]:
            name, eq, value = arg.partition("=")
            if eq and name in self.access:
                mapped = self.host_path(value, self.access[name], name)
                argv.append(arg if self.access[name] == "host" else name + "=" + mapped)
            elif arg.startswith("/") and "*" in self.access:
                argv.append(self.host_path(arg, self.access["*"], "operand"))
            else:
                self.refuse_path(arg)
                argv.append(arg)
        env = {"PATH": self.host.image_dir}
        for name, value in self.env.items():
            if name in self.access:
                env[name] = self.host_path(value, self.access[name], name)
            else:
                self.refuse_path(value)
                env[name] = value
        env.update(self.host.cluster_env(self.pod))
        return argv, env

    def refuse_path(self, text):
        if text.startswith("/") or "=/" in text:
            raise AssertionError("%s: %s names a path this test does not know the use of "
                                 "(add it to ACCESS)" % (self.name, text))

    def read_only_trees(self):
        return [d for d, ro, node_path in self.mounts.values() if ro and node_path != "/proc"]

    def check_mounts_used(self):
        unused = set(self.mounts) - self.used
        if unused:
            raise AssertionError("%s: volumeMounts %s are not used by its command"
                                 % (self.name, sorted(unused)))


def snapshot(root):
    """Names, types, modes and contents of a tree: what a read-only mount must keep."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            content = None
            if os.path.isfile(path) and not os.path.islink(path) and st.st_size < 1 << 20:
                with open(path, "rb") as f:
                    content = f.read()
            state[os.path.relpath(path, root)] = (st.st_mode, content)
    return state


class Node:
    """A node's host paths under a temp root, the image's programs, and the cluster."""

    def __init__(self, root, node, server=None, service_account=None):
        self.root, self.node, self.server, self.sa = root, node, server, service_account
        self.image_dir = os.path.join(root, "image", IMAGE_BIN.lstrip("/"))
        os.makedirs(self.image_dir)
        for name, path in PROGRAMS.items():
            if path:
                shutil.copy(path, os.path.join(self.image_dir, name))
        # A node of the cluster runs a kubelet, which made its directory.
        os.makedirs(self.path(KUBELET_DIR))

    def path(self, host_path):
        if host_path == "/proc":
            return "/proc"
        if host_path == "/sys":
            return TOPOLOGY_SYS
        return os.path.join(self.root, "host", host_path.lstrip("/"))

    def prepare_volumes(self, pod):
        """hostPath types as the kubelet checks them before it starts the pod."""
        for v in pod.get("volumes", []):
            path = self.path(v["hostPath"]["path"])
            kind = v["hostPath"].get("type", "")
            if kind == "DirectoryOrCreate":
                os.makedirs(path, mode=0o755, exist_ok=True)
            elif kind == "Directory":
                assert os.path.isdir(path), "hostPath %s is not a directory" % path
            else:
                raise AssertionError("hostPath %s: type %r" % (path, kind))

    def image_program(self, path):
        assert path.startswith(IMAGE_BIN + "/"), path
        return os.path.join(self.image_dir, path[len(IMAGE_BIN) + 1:])

    def cluster_env(self, pod):
        if self.server is None or pod.get("automountServiceAccountToken") is False:
            return {}
        return {"KUBERNETES_SERVICE_HOST": self.server.host,
                "KUBERNETES_SERVICE_PORT": str(self.server.port),
                "KCM_K8S_SERVICEACCOUNT_DIR": self.sa}


class FilesTest(unittest.TestCase):
    """What the files say, without running anything."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kcm-manifests-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.docs = render()
        self.daemonset = find(self.docs, "DaemonSet", "kcm")

    # ------------------------------------------------------------ files

    def test_every_yaml_file_parses_into_named_objects(self):
        for rel in sorted(yaml_files()):
            with self.subTest(file=rel):
                docs = load(os.path.join(PACKAGE, rel))
                self.assertTrue(docs)
                if os.path.basename(rel) == "kustomization.yaml" or rel.startswith(
                        "components/") and isinstance(docs[0], list):
                    continue
                for d in docs:
                    self.assertTrue(d.get("apiVersion") and d.get("kind"), d)
                    self.assertTrue(d["metadata"].get("name") or
                                    d["metadata"].get("generateName"), d)

    def test_the_kustomizations_list_every_file_and_each_exists(self):
        listed = set()
        for directory in ["."] + ["components/" + c for c in COMPONENTS]:
            k = kustomization(directory)
            files = k.get("resources", []) + [p["path"] for p in k.get("patches", [])]
            for f in files:
                rel = os.path.normpath(os.path.join(directory, f))
                self.assertTrue(os.path.isfile(os.path.join(PACKAGE, rel)), rel)
                listed.add(rel)
            listed.add(os.path.normpath(os.path.join(directory, "kustomization.yaml")))
        self.assertEqual(yaml_files() - listed, STANDALONE)
        self.assertEqual(set(os.listdir(os.path.join(PACKAGE, "components"))), set(COMPONENTS))
        self.assertTrue(os.path.isfile(os.path.join(PACKAGE, "Containerfile")))

    def test_objects_are_unique_and_namespaced_in_kcm(self):
        names = [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"])
                 for d in self.docs]
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(find(self.docs, "Namespace")["metadata"]["name"], "kcm")
        for d in self.docs:
            if d["kind"] in ("ServiceAccount", "ConfigMap", "DaemonSet", "Role", "RoleBinding"):
                self.assertEqual(d["metadata"]["namespace"], "kcm", d["kind"])
        self.assertEqual(uninstall_job(NODE)["metadata"]["namespace"], "kcm")

    def test_every_container_runs_the_image_kustomization_names(self):
        image = kustomization(".")["images"][0]
        expected = "%s:%s" % (image["newName"], image["newTag"])
        for pod in every_pod():
            for c in containers_of(pod):
                with self.subTest(pod=pod["metadata"], container=c["name"]):
                    self.assertIn(c["image"], (expected, image["name"]))
                    self.assertTrue(c["command"][0].startswith(IMAGE_BIN + "/"))
                    requests = c["resources"]["requests"]
                    self.assertEqual(set(requests), {"cpu", "memory"})
                    self.assertIn("memory", c["resources"]["limits"])
                    security = c["securityContext"]
                    self.assertFalse(security["allowPrivilegeEscalation"])
                    self.assertTrue(security["readOnlyRootFilesystem"])
                    self.assertEqual(security["capabilities"]["drop"], ["ALL"])

    def test_the_image_holds_every_program_the_commands_run(self):
        """The Containerfile's final stage COPYs the programs into IMAGE_BIN; `kcm
        install` needs kcm-hook and kcm-runtime beside kcm."""
        with open(os.path.join(PACKAGE, "Containerfile")) as f:
            text = f.read()
        final = text[text.rindex("\nFROM "):]
        self.assertTrue(final.startswith("\nFROM scratch\n"), final)
        held = set()
        for line in final.splitlines():
            words = line.split()
            if words[:1] == ["COPY"]:
                sources = [w for w in words[1:-1] if not w.startswith("--")]
                self.assertEqual(words[-1], IMAGE_BIN + "/")
                held |= {os.path.basename(w) for w in sources}
        self.assertEqual(held, {"kcm", "kcm-hook", "kcm-runtime", "busybox"})
        run = {os.path.basename(c["command"][0]) for pod in every_pod()
               for c in containers_of(pod)}
        self.assertEqual(run, held - {"kcm-hook"})

    def test_the_daemonset_is_a_node_daemon_of_the_managed_nodes(self):
        spec = pod_spec(self.daemonset)
        self.assertEqual(spec["priorityClassName"], "system-node-critical")
        self.assertIn({"operator": "Exists"}, spec["tolerations"])
        self.assertEqual(spec["nodeSelector"]["kcm.intel.com/managed"], "true")
        runtime_class = find(self.docs, "RuntimeClass", "kcm")
        self.assertEqual(runtime_class["scheduling"]["nodeSelector"],
                         {"kcm.intel.com/managed": "true"})
        self.assertEqual(spec["serviceAccountName"],
                         find(self.docs, "ServiceAccount")["metadata"]["name"])
        self.assertEqual([c["name"] for c in spec["initContainers"]],
                         ["init", "install", "discover"])
        self.assertEqual([c["command"][1:] for c in spec["containers"]],
                         [["reconcile", "--conf-dir=/etc/kcm", "--publish", "--interval=60"],
                          ["node-report", "--conf-dir=/etc/kcm", "--publish",
                           "--interval=300"]])

    def test_env_vars_are_ones_kcm_reads_or_the_command_expands(self):
        known = variables_kcm_reads()
        self.assertTrue({"KCM_PROC_FS", "KCM_SYS_FS", "NODE_NAME"} <= known, known)
        for pod in every_pod():
            for c in containers_of(pod):
                referenced = set(re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                                            " ".join(c["command"] + c.get("args", []))))
                for e in c.get("env", []):
                    with self.subTest(container=c["name"], var=e["name"]):
                        self.assertTrue(e["name"] in known or e["name"] in referenced,
                                        "%s sets %s, which kcm does not read"
                                        % (c["name"], e["name"]))
                        self.assertNotEqual(e["name"], "KCM_K8S_SERVICEACCOUNT_DIR")
                self.assertEqual(referenced - {e["name"] for e in c.get("env", [])}, set())

    def test_node_report_reads_the_kubelet_state_of_the_node(self):
        """KCM_KUBELET_CPU_MANAGER_STATE names, through a read-only mount of the kubelet's
        directory (type Directory: a missing file hostPath would become a directory), the
        file the kubelet writes on the node: lib/env.h's default."""
        with open(os.path.join(SOURCE, "lib", "env.h")) as f:
            default = re.search(r'kubelet_cpu_manager_state = "([^"]+)"', f.read()).group(1)
        spec = pod_spec(self.daemonset)
        container = [c for c in spec["containers"] if c["command"][1] == "node-report"][0]
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        self.assertIn("KCM_KUBELET_CPU_MANAGER_STATE", env)
        path = env["KCM_KUBELET_CPU_MANAGER_STATE"]
        volumes = {v["name"]: v["hostPath"] for v in spec["volumes"]}
        mounts = [m for m in container["volumeMounts"]
                  if path.startswith(m["mountPath"].rstrip("/") + "/")]
        self.assertEqual(len(mounts), 1, mounts)
        mount = mounts[0]
        self.assertTrue(mount.get("readOnly"), mount)
        host = volumes[mount["name"]]
        self.assertEqual(host["type"], "Directory")
        self.assertEqual(host["path"] + path[len(mount["mountPath"]):], default)
        self.assertEqual(host["path"], KUBELET_DIR)

    def test_every_pod_runs_as_spc_t_on_selinux_nodes(self):
        """container_t may not write the host's /etc/kcm, /opt/kcm/bin or engine
        configuration, nor read other domains' /proc/<pid> (docs/operator.md)."""
        for pod in every_pod():
            spec = pod_spec(pod)
            with self.subTest(pod=pod["metadata"]):
                self.assertEqual(spec.get("securityContext", {}).get("seLinuxOptions"),
                                 {"type": "spc_t"})
                for c in containers_of(pod):
                    self.assertNotIn("seLinuxOptions", c["securityContext"], c["name"])

    def test_the_uninstall_guide_removes_the_hooks_d_files_it_has_installed(self):
        """The Job deletes /opt/kcm/bin/kcm-hook: hooks.d files naming it must go first."""
        with open(os.path.join(SOURCE, "docs", "operator.md")) as f:
            text = f.read()
        section = text[text.index("\n## Uninstalling\n"):]
        section = section[:section.index("\n## ", 1)]
        cluster = section[section.index("**A cluster**"):]
        job = cluster.index("uninstall/job.yaml")
        for name in sorted(os.listdir(os.path.join(SOURCE, "config", "hooks.d"))):
            with self.subTest(file=name):
                self.assertIn(name, cluster[:job])
        self.assertIn("hook.path", text[:text.index("\n## Uninstalling\n")])

    def test_rbac_has_no_wildcard(self):
        for d in load(RBAC):
            for rule in d.get("rules", []):
                self.assertNotIn("nonResourceURLs", rule)
                for key in ("apiGroups", "resources", "verbs", "resourceNames"):
                    self.assertNotIn("*", rule.get(key, []), rule)
                    self.assertFalse(any("*" in v for v in rule.get(key, []) if v), rule)

    @unittest.skipUnless(shutil.which("kubectl"), "kubectl is not installed")
    def test_kubectl_kustomize_renders_the_same_objects(self):
        def kustomize(directory):
            result = subprocess.run(["kubectl", "kustomize", directory], capture_output=True,
                                    text=True)
            self.assertEqual(result.returncode, 0, result.stderr)
            out = result.stdout
            return sorted(yaml.safe_load_all(out), key=key)
        def key(d):
            return (d["kind"], d["metadata"]["name"])

        self.assertEqual(whitespace_folded(kustomize(PACKAGE)),
                         whitespace_folded(sorted(self.docs, key=key)))
        for component in COMPONENTS:
            overlay = os.path.join(self.tmp, component)
            os.mkdir(overlay)
            with open(os.path.join(overlay, "kustomization.yaml"), "w") as f:
                # kustomize takes only relative paths.
                yaml.safe_dump({"resources": [os.path.relpath(PACKAGE, overlay)],
                                "components": [os.path.relpath(
                                    os.path.join(PACKAGE, "components", component), overlay)]},
                               f)
            with self.subTest(component=component):
                self.assertEqual(whitespace_folded(kustomize(overlay)),
                                 whitespace_folded(sorted(render([component]), key=key)))



@unittest.skipUnless(all(os.access(p, os.X_OK) for n, p in PROGRAMS.items() if n != "busybox"),
                     "KCM_BIN, KCM_HOOK_BIN or KCM_RUNTIME_BIN is not set")
class RunTest(harness.PkiTestCase):
    """The commands, run."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kcm-manifests-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.docs = render()
        self.daemonset = find(self.docs, "DaemonSet", "kcm")
        self.configmaps = {d["metadata"]["name"]: d["data"] for d in self.docs
                           if d["kind"] == "ConfigMap"}

    def test_the_runtime_class_names_the_handler_configure_registers(self):
        handler = find(self.docs, "RuntimeClass", "kcm")["handler"]
        config = os.path.join(self.tmp, "config.toml")
        with open(config, "w") as f:
            f.write("version = 2\n")
        out = subprocess.run([PROGRAMS["kcm-runtime"], "configure", "--engine=containerd",
                              "--config=" + config, "--dry-run"],
                             capture_output=True, text=True, check=True).stdout
        self.assertIn(".containerd.runtimes.%s]" % handler, out)

    # ------------------------------------------------------------ running it

    def start_server(self):
        spec = pod_spec(self.daemonset)
        self.sa = os.path.join(self.tmp, "serviceaccount")
        harness.write_service_account(self.sa, TOKEN, self.daemonset["metadata"]["namespace"],
                                      self.pki.ca)
        self.server = harness.ApiServer(
            os.path.join(self.tmp, "apiserver"), self.pki.cert, self.pki.key, self.pki.ca,
            settings={"nodes": {NODE: None}, "tokens": [TOKEN], "rbac": RBAC,
                      "service_account": "%s:%s" % (self.daemonset["metadata"]["namespace"],
                                                    spec["serviceAccountName"]),
                      "established_after": 1})
        self.addCleanup(self.server.stop)

    def run_to_completion(self, node, pod, names=None):
        """Runs the pod's init containers (or those of `names`) in order, each to exit 0,
        as the kubelet does; returns {name: its output}."""
        node.prepare_volumes(pod)
        logs = {}
        for spec in pod.get("initContainers", []):
            if names is not None and spec["name"] not in names:
                continue
            container = Container(spec, pod, node, self.configmaps)
            argv, env = container.command()
            before = [(d, snapshot(d)) for d in container.read_only_trees()]
            result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 0, "%s: %s\n%s" % (spec["name"], argv,
                                                                   result.stderr))
            for d, state in before:
                self.assertEqual(snapshot(d), state, "%s wrote under read-only %s"
                                 % (spec["name"], d))
            container.check_mounts_used()
            logs[spec["name"]] = result.stdout + result.stderr
        return logs

    def run_daemons(self, node, pod, rounds):
        """Starts the containers, waits until both reports have been written `rounds`
        times in all, then stops them with SIGTERM as the kubelet does; returns
        {name: stdout}."""
        node.prepare_volumes(pod)
        processes = {}
        for spec in pod["containers"]:
            container = Container(spec, pod, node, self.configmaps)
            argv, env = container.command()
            container.check_mounts_used()
            processes[spec["name"]] = subprocess.Popen(
                argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for p in processes.values():
            self.addCleanup(lambda p=p: p.poll() is None and p.kill())
        deadline = time.monotonic() + 20
        while not all(len(self.writes(plural)) >= rounds
                      for plural in ("reconciles", "nodereports")):
            if time.monotonic() > deadline or any(p.poll() is not None
                                                  for p in processes.values()):
                for p in processes.values():
                    p.kill()
                self.fail("no reports: %s" % {n: p.communicate() for n, p in processes.items()})
            time.sleep(0.05)
        outputs = {}
        for name, p in processes.items():
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=10)
            self.assertEqual(p.returncode, 0, "%s: %s" % (name, err))
            self.assertEqual(err, "", name)
            outputs[name] = out
        return outputs

    def writes(self, plural):
        """The successful POSTs and PUTs of report objects of kind `plural`."""
        return [r for r in self.requests() if r["method"] in ("POST", "PUT")
                and "/%s/" % plural in r["path"] + "/" and r["status"] in (200, 201)]

    def test_the_daemonset_advertises_the_slots_and_publishes_both_reports(self):
        self.start_server()
        node = Node(self.tmp, NODE, self.server, self.sa)
        pod = pod_spec(self.daemonset)
        self.run_to_completion(node, pod)
        conf = node.path("/etc/kcm")
        dp_cores = int(self.configmaps["kcm-init"]["num-dp-cores"])
        self.assertEqual(len(os.listdir(os.path.join(conf, "pools", "dataplane"))),
                         dp_cores + 1)  # the lists and `exclusive`
        for name in ("kcm", "kcm-hook", "kcm-runtime"):
            with open(os.path.join(node.path("/opt/kcm/bin"), name), "rb") as f, \
                    open(PROGRAMS[name], "rb") as g:
                self.assertTrue(f.read() == g.read(), name + " is not the image's")
        capacity = self.server.state()["nodes"][NODE]["status"]["capacity"]
        self.assertEqual(capacity["kcm.intel.com/dataplane"], str(dp_cores))
        outputs = self.run_daemons(node, pod, rounds=1)
        self.assertEqual(json.loads(outputs["reconcile"]),
                         {"mismatchedCpuMasks": [], "reclaimedCpuLists": []})
        # The node's kubelet has written no CPU manager state: no finding.
        self.assert_node_report(json.loads(outputs["node-report"]), kubelet_errors=[])

        # The pod again (a restart, an upgrade): the node's configuration is kept, the
        # slots are not patched again, the reports are updated.
        layout = snapshot(os.path.join(conf, "pools"))
        patches = len(self.requests("PATCH"))
        logs = self.run_to_completion(node, pod)
        self.assertIn("already holds a kcm configuration: kept (--keep-existing)", logs["init"])
        self.assertEqual(snapshot(os.path.join(conf, "pools")), layout)
        self.assertEqual(len(self.requests("PATCH")), patches)
        # Meanwhile the kubelet's static CPU manager gave a dataplane list to a container:
        # node-report reads it through the pod's mount of the node's kubelet directory.
        lists = sorted(n for n in os.listdir(os.path.join(conf, "pools", "dataplane"))
                       if n != "exclusive")
        state = node.path(KUBELET_DIR + "/cpu_manager_state")
        with open(state, "w") as f:
            json.dump({"policyName": "static", "defaultCpuSet": "0-3",
                       "entries": {"6f1c2d3e": {"app": lists[0]}}, "checksum": 1}, f)
        outputs = self.run_daemons(node, pod, rounds=2)
        self.assert_node_report(json.loads(outputs["node-report"]), kubelet_errors=[
            "The kubelet's static CPU manager (%s) sets the cpuset of every container without "
            "an exclusive assignment, kcm's holders too, to its defaultCpuSet 0-3, undoing "
            "kcm's pinning (use --cpu-manager-policy=none)" % state,
            "The kubelet's static CPU manager (%s) assigns CPUs %s to container \"app\" of "
            "pod 6f1c2d3e: CPUs %s are in kcm's list dataplane:%s "
            "(use --cpu-manager-policy=none)" % (state, lists[0], lists[0], lists[0])])
        self.assert_rbac_used_exactly()

    def assert_node_report(self, report, kubelet_errors):
        """The checks whose outcome does not depend on the machine running the test."""
        checks = report["checks"]
        self.assertLessEqual(CHECKS_DECIDED | {"kubelet"}, set(checks), report)
        for name in CHECKS_DECIDED:
            self.assertEqual(checks[name], {"errors": [], "ok": True}, name)
        self.assertEqual(checks["kubelet"], {"errors": kubelet_errors,
                                             "ok": not kubelet_errors})

    def requests(self, method=None):
        return [r for r in self.server.requests() if method in (None, r["method"])]

    def assert_rbac_used_exactly(self):
        """Every request was allowed, and every verb of every rule was asked for."""
        requests = self.requests()
        self.assertEqual([r for r in requests if r["status"] in (401, 403)], [])
        for r in requests:
            self.assertTrue(r["status"] < 400 or r["status"] == 404, r)
        verbs = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch"}
        used = set()
        for r in requests:
            path = r["path"].split("?")[0].strip("/").split("/")
            if path == ["version"]:
                continue
            group = "" if path[0] == "api" else path[1]
            rest = path[2:] if path[0] == "api" else path[3:]
            if rest and rest[0] == "namespaces":
                rest = rest[2:]
            resource = rest[0] + ("/" + rest[2] if len(rest) > 2 else "")
            used.add((group, resource, verbs[r["method"]], rest[1] if len(rest) > 1 else None))
        for d in load(RBAC):
            for rule in d.get("rules", []):
                for group in rule["apiGroups"]:
                    for resource in rule["resources"]:
                        for verb in rule["verbs"]:
                            names = rule.get("resourceNames")
                            with self.subTest(rule=(group, resource, verb, names)):
                                self.assertTrue(any(
                                    (g, res, v) == (group, resource, verb) and
                                    (names is None or n in names)
                                    for g, res, v, n in used),
                                    "rbac.yaml allows what kcm never asks for")

    def test_a_component_registers_the_runtime_and_the_uninstall_job_undoes_it_all(self):
        node = Node(self.tmp, NODE)
        base = {c["name"] for c in containers_of(self.daemonset)}
        for config in COMPONENTS.values():
            os.makedirs(os.path.dirname(node.path(config)))
        original = '[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "pause"\n'
        original = "version = 2\n\n" + original
        with open(node.path(COMPONENTS["containerd"]), "w") as f:
            f.write(original)
        for engine in COMPONENTS:
            with self.subTest(engine=engine):
                pod = pod_spec(find(render([engine]), "DaemonSet", "kcm"))
                added = [c["name"] for c in pod["initContainers"] if c["name"] not in base]
                self.assertEqual(added, ["configure-runtime"])
                self.run_to_completion(node, pod, names={"init", "install", "configure-runtime"})
                logs = self.run_to_completion(node, pod, names={"configure-runtime"})
                self.assertIn("nothing to change", logs["configure-runtime"])
        with open(node.path(COMPONENTS["containerd"])) as f:
            self.assertIn('BinaryName = "/opt/kcm/bin/kcm-runtime"', f.read())
        dropin = node.path("/etc/crio/crio.conf.d/kcm.conf")
        with open(dropin) as f:
            self.assertIn('runtime_path = "/opt/kcm/bin/kcm-runtime"', f.read())

        job = uninstall_job(NODE)
        self.assertEqual(pod_spec(job)["nodeName"], NODE)
        self.assertEqual(pod_spec(job)["restartPolicy"], "Never")
        names = {c["name"] for c in containers_of(job)}
        if not PROGRAMS["busybox"]:
            names = {n for n in names if not n.startswith("remove-")}
        # Init containers, then the container: all in order, each to exit 0.
        self.run_to_completion(node, {**pod_spec(job), "initContainers": containers_of(job)},
                               names)
        with open(node.path(COMPONENTS["containerd"])) as f:
            self.assertEqual(f.read(), original)
        self.assertFalse(os.path.exists(dropin))
        self.assertTrue(os.path.isdir(node.path("/etc/kcm/pools")))  # kept (docs/operator.md)
        if PROGRAMS["busybox"]:
            self.assertFalse(os.path.exists(node.path("/opt/kcm")))
            self.assertTrue(os.path.isdir(node.path("/opt")))

if __name__ == "__main__":
    unittest.main()
