"""`kcm-runtime configure` / `unconfigure` through the built binary, on engine configs in a
temp dir named with --config (docs/runtime.md "Registering kcm with an engine").

Standard library only; no root. KCM_RUNTIME_BIN names the built kcm-runtime.
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

RUNTIME = os.path.abspath(os.environ.get("KCM_RUNTIME_BIN", ""))
KCM_PATH = "/usr/local/bin/kcm-runtime"

CONTAINERD = """# the node's config
version = 2
root = "/var/lib/containerd"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.6"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
"""

DAEMON_JSON = """{
    "log-driver": "journald",
    "runtimes": {
        "nvidia": {"path": "/usr/bin/nvidia-container-runtime"}
    }
}
"""


def tree(root):
    """{relative path: bytes or 'dir'} of everything under root."""
    out = {}
    for base, dirs, files in os.walk(root):
        for d in dirs:
            out[os.path.relpath(os.path.join(base, d), root)] = "dir"
        for f in files:
            with open(os.path.join(base, f), "rb") as fh:
                out[os.path.relpath(os.path.join(base, f), root)] = fh.read()
    return out


class ConfigureTest(unittest.TestCase):
    def setUp(self):
        self.t = tempfile.mkdtemp(prefix="kcm-configure-")
        self.addCleanup(shutil.rmtree, self.t, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.t, name)

    def write(self, name, text):
        os.makedirs(os.path.dirname(self.path(name)), exist_ok=True)
        with open(self.path(name), "w") as f:
            f.write(text)

    def run_runtime(self, *args):
        return subprocess.run([RUNTIME] + list(args), capture_output=True, text=True, timeout=60)

    def cycle(self, engine, config):
        """configure --dry-run (nothing written), configure, configure again (nothing to
        change), unconfigure (the original tree), unconfigure again. Returns the
        configured tree."""
        common = ["--engine=" + engine, "--config=" + self.path(config)]
        original = tree(self.t)
        dry = self.run_runtime("configure", *common, "--runtime-path=" + KCM_PATH, "--dry-run")
        self.assertEqual(dry.returncode, 0, dry.stderr)
        self.assertIn("dry run: nothing written", dry.stdout)
        self.assertEqual(tree(self.t), original)
        done = self.run_runtime("configure", *common, "--runtime-path=" + KCM_PATH)
        self.assertEqual(done.returncode, 0, done.stderr)
        # The dry run printed what the real one then did.
        self.assertEqual(dry.stdout.replace("would create", "created")
                         .replace("would edit", "edited").splitlines()[:-1],
                         done.stdout.splitlines()[:-1])
        configured = tree(self.t)
        self.assertNotEqual(configured, original)
        again = self.run_runtime("configure", *common, "--runtime-path=" + KCM_PATH)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("nothing to change", again.stdout)
        self.assertEqual(tree(self.t), configured)
        undo = self.run_runtime("unconfigure", *common)
        self.assertEqual(undo.returncode, 0, undo.stderr)
        after = tree(self.t)
        # A drop-in directory configure created stays, empty.
        self.assertEqual({k: v for k, v in after.items() if v != "dir" or k in original},
                         original)
        undo_again = self.run_runtime("unconfigure", *common)
        self.assertIn("nothing to change", undo_again.stdout)
        self.assertEqual(tree(self.t), after)
        return configured

    def test_containerd(self):
        self.write("containerd/config.toml", CONTAINERD)
        configured = self.cycle("containerd", "containerd/config.toml")
        text = configured["containerd/config.toml"].decode()
        self.assertTrue(text.startswith(CONTAINERD))
        self.assertIn('BinaryName = "%s"' % KCM_PATH, text)
        self.assertIn('pod_annotations = ["kcm.intel.com/*"]', text)

    def test_containerd_without_a_config(self):
        os.makedirs(self.path("containerd"))
        self.cycle("containerd", "containerd/config.toml")

    def test_docker(self):
        self.write("docker/daemon.json", DAEMON_JSON)
        configured = self.cycle("docker", "docker/daemon.json")
        doc = json.loads(configured["docker/daemon.json"])
        self.assertEqual(list(doc), ["log-driver", "runtimes"])
        self.assertEqual(doc["runtimes"], {"nvidia": {"path": "/usr/bin/nvidia-container-runtime"},
                                           "kcm": {"path": KCM_PATH}})

    def test_podman_and_crio_drop_ins(self):
        self.write("containers/containers.conf", "[engine]\ncgroup_manager = \"cgroupfs\"\n")
        configured = self.cycle("podman", "containers/containers.conf")
        self.assertIn('kcm = ["%s"]' % KCM_PATH,
                      configured["containers/containers.conf.d/kcm.conf"].decode())
        os.makedirs(self.path("crio"))  # its parent must exist: a typo creates nothing
        configured = self.cycle("crio", "crio/crio.conf")
        self.assertIn('runtime_path = "%s"' % KCM_PATH,
                      configured["crio/crio.conf.d/kcm.conf"].decode())

    def test_default_runtime_path_is_the_running_binary(self):
        self.write("docker/daemon.json", "{}")
        r = self.run_runtime("configure", "--engine=docker",
                             "--config=" + self.path("docker/daemon.json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.path("docker/daemon.json")) as f:
            self.assertEqual(json.load(f)["runtimes"]["kcm"]["path"], os.path.realpath(RUNTIME))

    def test_errors_leave_the_config_untouched(self):
        self.write("docker/daemon.json", '{"debug": tru')
        before = tree(self.t)
        r = self.run_runtime("configure", "--engine=docker",
                             "--config=" + self.path("docker/daemon.json"))
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.startswith('kcm-runtime: parse "%s": malformed JSON: '
                                            % self.path("docker/daemon.json")), r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(tree(self.t), before)
        for args, message in [
                ([], "kcm-runtime: configure: option --engine is required"),
                (["--engine=lxc"], 'kcm-runtime: unknown engine "lxc"'),
                (["--engine=docker", "--config=rel.json"],
                 "kcm-runtime: option --config needs an absolute path"),
                (["--engine=docker", "--bogus"], 'kcm-runtime: configure: unknown argument "--bogus"')]:
            r = self.run_runtime("configure", *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertTrue(r.stderr.startswith(message), r.stderr)
        self.assertEqual(tree(self.t), before)

    def test_help(self):
        for command in ("configure", "unconfigure"):
            r = self.run_runtime(command, "--help")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(r.stdout.startswith("Usage: kcm-runtime %s --engine=ENGINE" % command))


if __name__ == "__main__":
    if not RUNTIME or not os.access(RUNTIME, os.X_OK):
        raise SystemExit("KCM_RUNTIME_BIN must name the built kcm-runtime")
    unittest.main(verbosity=2)
