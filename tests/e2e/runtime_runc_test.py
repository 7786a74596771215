"""kcm-runtime as a drop-in for `runc run` on real bundles (root only; exit 77 otherwise)."""

import json
import os
import subprocess

import kcm_e2e
from kcm_e2e import (DATAPLANE_LISTS, HOOK, RUNTIME, STATUS_SCRIPT, busy_lists, cpus_allowed_list,
                     cpuset_cpus, read_owners, runtime_log_text, runtime_workspace,
                     unpinned_cpus, write_bundle)

DATAPLANE = {"kcm.intel.com/pool": "dataplane"}


class RuncDropInTest(kcm_e2e.ConfTestCase):
    def setUp(self):
        self.root, self.conf, config = runtime_workspace(self.addCleanup, "kcm-runtime-runc-")
        self.state = os.path.join(self.root, "runc-state")
        self.env = dict(os.environ, KCM_RUNTIME_CONFIG=config)

    def start(self, bundle, cid, use_cwd=False):
        args = [RUNTIME, "--root", self.state, "run"]
        if not use_cwd:
            args += ["-b", bundle]
        proc = subprocess.Popen(args + [cid], cwd=bundle, env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def cleanup():
            if proc.poll() is None:
                subprocess.run(["runc", "--root", self.state, "kill", cid, "KILL"],
                               capture_output=True)
                proc.wait(timeout=10)
            subprocess.run(["runc", "--root", self.state, "delete", "--force", cid],
                           capture_output=True)
        self.addCleanup(cleanup)
        return proc

    def test_annotated_run_is_pinned_while_it_runs_and_released_after(self):
        bundle = write_bundle(os.path.join(self.root, "b"), ["sh", "-c", STATUS_SCRIPT],
                                 DATAPLANE)
        os.chmod(os.path.join(bundle, "config.json"), 0o600)
        proc = self.start(bundle, "kcm-rt-pinned")
        cpus, pids = self.one_dataplane_list()
        # The pid recorded is the container's init as the runtime knows it, asked
        # through the wrapper (state passes through untouched).
        state = subprocess.run([RUNTIME, "--root", self.state, "state", "kcm-rt-pinned"],
                               env=self.env, capture_output=True, text=True, timeout=30)
        self.assertEqual(state.returncode, 0, state.stderr)
        self.assertEqual(pids, [json.loads(state.stdout)["pid"]])
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(cpus_allowed_list(out), cpus, out)
        self.assertEqual(cpuset_cpus(out), cpus, out)
        self.assertEqual(busy_lists(self.conf), {})
        self.assertEqual(os.listdir(os.path.join(self.conf, "owners")), [])
        config_path = os.path.join(bundle, "config.json")
        self.assertEqual(os.stat(config_path).st_mode & 0o7777, 0o600)
        with open(config_path) as f:
            hooks = json.load(f)["hooks"]
        self.assertEqual([h["path"] for h in hooks["prestart"]], [HOOK])
        self.assertEqual(hooks["poststop"][0]["args"],
                         ["kcm-hook", "--conf-dir=" + self.conf, "poststop"])

    def test_bundle_defaults_to_the_working_directory(self):
        bundle = write_bundle(os.path.join(self.root, "b"), ["sh", "-c", STATUS_SCRIPT],
                                 DATAPLANE)
        proc = self.start(bundle, "kcm-rt-cwd", use_cwd=True)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn(cpus_allowed_list(out), DATAPLANE_LISTS, out)
        self.assertEqual(busy_lists(self.conf), {})

    def test_unannotated_bundle_is_not_touched(self):
        bundle = write_bundle(os.path.join(self.root, "b"),
                                 ["grep", "Cpus_allowed_list", "/proc/self/status"])
        config_path = os.path.join(bundle, "config.json")
        before = os.stat(config_path)
        with open(config_path, "rb") as f:
            content = f.read()
        proc = self.start(bundle, "kcm-rt-plain")
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(cpus_allowed_list(out), unpinned_cpus(), out)
        after = os.stat(config_path)
        self.assertEqual((after.st_ino, after.st_mtime_ns), (before.st_ino, before.st_mtime_ns))
        with open(config_path, "rb") as f:
            self.assertEqual(f.read(), content)
        self.assertEqual(busy_lists(self.conf), {})

    def test_invalid_annotation_reaches_the_user_through_the_hook(self):
        bundle = write_bundle(os.path.join(self.root, "b"), ["true"],
                                 {"kcm.intel.com/pool": "Data Plane"})
        proc = self.start(bundle, "kcm-rt-invalid")
        out, err = proc.communicate(timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        # runc reports the failing prestart hook with the hook's stderr.
        self.assertIn("kcm.intel.com/pool", err)
        self.assertIn("Data Plane", err)
        self.assertIn("kcm-hook rejects it", runtime_log_text(self.root))
        self.assertEqual(busy_lists(self.conf), {})

    def symlinked_bundle(self, annotations, args):
        """A bundle whose config.json is a symlink to the real file, outside the bundle:
        (bundle, the link's target, the target's bytes)."""
        bundle = write_bundle(os.path.join(self.root, "b"), args, annotations)
        target = os.path.join(self.root, "spec.json")
        os.rename(os.path.join(bundle, "config.json"), target)
        os.symlink(target, os.path.join(bundle, "config.json"))
        with open(target, "rb") as f:
            return bundle, target, f.read()

    def assert_link_untouched(self, bundle, target, content):
        self.assertEqual(os.readlink(os.path.join(bundle, "config.json")), target)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), content)

    def test_symlinked_config_of_a_container_that_asks_for_cpus_is_refused(self):
        # runc follows the link; the wrapper will not edit through it, so the container
        # would run unpinned: it must not run at all.
        bundle, target, content = self.symlinked_bundle(DATAPLANE, ["sh", "-c", STATUS_SCRIPT])
        proc = self.start(bundle, "kcm-rt-symlink")
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 1, err)
        self.assertEqual(out, "")
        self.assertIn('kcm-runtime: "%s" is a symlink: kcm-runtime will not edit through it; '
                      "refusing a container that asks for CPUs" %
                      os.path.join(bundle, "config.json"), err)
        state = subprocess.run(["runc", "--root", self.state, "state", "kcm-rt-symlink"],
                               capture_output=True, text=True, timeout=30)
        self.assertNotEqual(state.returncode, 0, "runc knows the container: " + state.stdout)
        self.assertEqual(busy_lists(self.conf), {})
        self.assertEqual(read_owners(self.conf), {})
        self.assert_link_untouched(bundle, target, content)

    def test_symlinked_config_of_an_unannotated_container_runs(self):
        bundle, target, content = self.symlinked_bundle(
            None, ["grep", "Cpus_allowed_list", "/proc/self/status"])
        proc = self.start(bundle, "kcm-rt-symlink-plain")
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(cpus_allowed_list(out), unpinned_cpus(), out)
        self.assertEqual(busy_lists(self.conf), {})
        self.assert_link_untouched(bundle, target, content)


if __name__ == "__main__":
    kcm_e2e.main("KCM_RUNTIME_BIN")
