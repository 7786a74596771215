"""kcm-runtime hands every command line to the real runtime unchanged, is never the reason
an unannotated container fails, and never lets one that asks for CPUs through unpinned
(root only; exit 77 otherwise).

The "real runtime" here is a script that records its argv, prints a marker on stdout and
exits 7, so the test sees exactly what runc would have received.
"""

import json
import os
import subprocess
import unittest

import kcm_e2e
from kcm_e2e import (HOOK, RUNTIME, SHIPPED_CONFIG, busy_lists, make_temp_dir, run_hook,
                     runtime_log_text, write_config_dir, write_runtime_config)

FAKE_EXIT = 7
FAKE_SCRIPT = """#!/bin/sh
printf '%s\\0' "$0" "$@" > "{argv_file}"
echo fake-runtime-stdout
exit {code}
"""


class PassThroughTest(unittest.TestCase):
    def setUp(self):
        self.root = make_temp_dir(self.addCleanup, "kcm-runtime-pass-")
        self.conf = write_config_dir(os.path.join(self.root, "kcm"))
        self.argv_file = os.path.join(self.root, "argv")
        self.fake_dir = os.path.join(self.root, "fakebin")
        os.makedirs(self.fake_dir)
        # Named runc so that it is also the default runtime found on PATH.
        self.fake = os.path.join(self.fake_dir, "runc")
        with open(self.fake, "w") as f:
            f.write(FAKE_SCRIPT.format(argv_file=self.argv_file, code=FAKE_EXIT))
        os.chmod(self.fake, 0o755)
        self.config = write_runtime_config(self.root, self.conf, runtime=self.fake)
        self.env = dict(os.environ, KCM_RUNTIME_CONFIG=self.config)

    def wrapper(self, args, env=None, cwd=None):
        if os.path.exists(self.argv_file):
            os.unlink(self.argv_file)
        return subprocess.run([RUNTIME] + args, env=env or self.env, cwd=cwd or self.root,
                              capture_output=True, text=True, timeout=30)

    def recorded(self):
        if not os.path.exists(self.argv_file):
            return None
        with open(self.argv_file, "rb") as f:
            return [a.decode() for a in f.read().split(b"\0")[:-1]]

    def assert_passed_through(self, args, result):
        self.assertEqual(self.recorded(), [self.fake] + args, result.stderr)
        self.assertEqual(result.returncode, FAKE_EXIT, result.stderr)
        self.assertEqual(result.stdout, "fake-runtime-stdout\n")

    def bundle(self, annotations=None, name="b"):
        path = os.path.join(self.root, name)
        os.makedirs(path)
        spec = {"ociVersion": "1.0.2", "process": {"args": ["true"]}, "root": {"path": "rootfs"}}
        if annotations is not None:
            spec["annotations"] = annotations
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(spec, f)
        return path

    def config_bytes(self, bundle):
        with open(os.path.join(bundle, "config.json"), "rb") as f:
            return f.read()

    def test_every_other_subcommand_reaches_the_runtime_unchanged(self):
        g = ["--root", "/run/containerd/runc/k8s.io", "--log", "/x/log.json", "--log-format", "json"]
        command_lines = [
            g + ["state", "c1"],
            g + ["start", "c1"],
            g + ["kill", "--all", "c1", "9"],
            g + ["delete", "--force", "c1"],
            g + ["exec", "--process", "/tmp/p.json", "--detach", "--pid-file", "/p", "c1"],
            g + ["ps", "--format", "json", "c1"],
            g + ["update", "--resources", "-", "c1"],
            g + ["pause", "c1"],
            g + ["resume", "c1"],
            g + ["events", "--stats", "c1"],
            ["--systemd-cgroup", "--root=/run/runc", "checkpoint", "--image-path", "/i", "c1"],
            ["features"],
            ["--version"],
            ["--help"],
            ["-v"],
            [],
            ["spec", "--rootless"],
            ["--unknown-flag", "create", "--bundle", "/nonexistent", "c1"],
            ["arg with spaces", "\t", "ünïcode"],
        ]
        for args in command_lines:
            with self.subTest(args=args):
                self.assert_passed_through(args, self.wrapper(args))

    def test_create_of_an_unannotated_bundle_passes_through_untouched(self):
        bundle = self.bundle({"io.kubernetes.cri.container-name": "web"})
        before = self.config_bytes(bundle)
        args = ["--root", "/r", "--log", "/l", "--log-format", "json", "create", "--bundle", bundle,
                "--pid-file", "/p", "c1"]
        self.assert_passed_through(args, self.wrapper(args))
        self.assertEqual(self.config_bytes(bundle), before)

    def test_create_of_an_annotated_bundle_adds_hooks_and_keeps_argv(self):
        bundle = self.bundle({"kcm.intel.com/pool": "dataplane"})
        for args in (["create", "--bundle=" + bundle, "c1"], ["run", "-b", bundle, "-d", "c1"],
                     ["--debug", "create", "-b=" + bundle, "c1"]):
            with self.subTest(args=args):
                self.assert_passed_through(args, self.wrapper(args))
                with open(os.path.join(bundle, "config.json")) as f:
                    hooks = json.load(f)["hooks"]
                # Injected once, however often the bundle is created.
                self.assertEqual(len(hooks["prestart"]), 1)
                self.assertEqual(len(hooks["poststop"]), 1)

    def test_sandbox_is_not_given_hooks(self):
        bundle = self.bundle({"kcm.intel.com/pool": "dataplane",
                              "io.kubernetes.cri.container-type": "sandbox"})
        before = self.config_bytes(bundle)
        self.assert_passed_through(["create", "-b", bundle, "c1"],
                                   self.wrapper(["create", "-b", bundle, "c1"]))
        self.assertEqual(self.config_bytes(bundle), before)

    def write_spec(self, bundle, text):
        with open(os.path.join(bundle, "config.json"), "w") as f:
            f.write(text)

    def assert_refused(self, result, *messages):
        """Exit 1 before the runtime ran, with each of `messages` on stderr."""
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIsNone(self.recorded())
        self.assertTrue(result.stderr.startswith("kcm-runtime: "), result.stderr)
        for message in messages:
            self.assertIn(message, result.stderr)

    def test_unparsable_spec_without_a_request_is_passed_through_and_logged(self):
        bundle = self.bundle()
        self.write_spec(bundle, '{"annotations": {"io.kubernetes.cri.container-name": "web"')
        args = ["create", "--bundle", bundle, "c1"]
        result = self.wrapper(args)
        self.assert_passed_through(args, result)
        self.assertIn("passing the container through", result.stderr)
        self.assertIn("config.json", runtime_log_text(self.root))

    def test_unparsable_spec_naming_the_pool_annotation_is_refused(self):
        # runc's decoder reads a first document and ignores what follows it: it would run
        # this container, unpinned.
        bundle = self.bundle()
        spec = {"ociVersion": "1.0.2", "process": {"args": ["true"]},
                "annotations": {"kcm.intel.com/pool": "dataplane"}}
        for text in (json.dumps(spec) + "\n{}", json.dumps(spec)[:-10]):
            with self.subTest(text=text):
                self.write_spec(bundle, text)
                result = self.wrapper(["create", "--bundle", bundle, "c1"])
                self.assert_refused(result, '"%s": malformed JSON' %
                                    os.path.join(bundle, "config.json"),
                                    "; refusing a container that asks for CPUs\n")

    def test_spec_nested_100000_levels_gets_a_message_not_a_crash(self):
        deep = "[" * 100000 + "]" * 100000
        for annotations, asks in (({"kcm.intel.com/pool": "dataplane"}, True),
                                  ({"io.kubernetes.cri.container-name": "web"}, False)):
            with self.subTest(annotations=annotations):
                bundle = self.bundle(annotations, name="deep-%s" % asks)
                with open(os.path.join(bundle, "config.json")) as f:
                    text = f.read()
                self.write_spec(bundle, text[:-1] + ', "x": ' + deep + "}")
                args = ["create", "--bundle", bundle, "c1"]
                result = self.wrapper(args)
                if not asks:
                    self.assert_passed_through(args, result)
                    continue
                self.assert_refused(
                    result, 'kcm-runtime: parse "%s": nested deeper than 64 levels; refusing '
                    "a container that asks for CPUs\n" % os.path.join(bundle, "config.json"))

    def test_spec_that_is_not_a_regular_file_is_refused(self):
        # A FIFO could hand runc any container; opening it must not hang either.
        bundle = os.path.join(self.root, "fifo")
        os.makedirs(bundle)
        os.mkfifo(os.path.join(bundle, "config.json"))
        result = self.wrapper(["create", "--bundle", bundle, "c1"])
        self.assert_refused(result, "is not a regular file", "cannot tell whether the "
                            "container asks for CPUs; refusing it")

    def test_spec_larger_than_16_mib_is_refused(self):
        bundle = self.bundle()
        spec = {"ociVersion": "1.0.2", "process": {"args": ["true"]},
                "x": "a" * (16 << 20)}
        self.write_spec(bundle, json.dumps(spec))
        result = self.wrapper(["create", "--bundle", bundle, "c1"])
        self.assert_refused(result, "is larger than 16777216 bytes",
                            "cannot tell whether the container asks for CPUs")

    def test_unknown_global_flag_still_gets_the_hooks_added(self):
        # Whether --future takes a value only runc knows; either way this creates the
        # bundle, which asks for CPUs.
        bundle = self.bundle({"kcm.intel.com/pool": "dataplane"})
        args = ["--future", "create", "--bundle", bundle, "c1"]
        result = self.wrapper(args)
        self.assert_passed_through(args, result)
        with open(os.path.join(bundle, "config.json")) as f:
            hooks = json.load(f)["hooks"]
        self.assertEqual([h["path"] for h in hooks["prestart"]], [HOOK])

    def test_missing_bundle_is_passed_through(self):
        args = ["create", "--bundle", os.path.join(self.root, "absent"), "c1"]
        self.assert_passed_through(args, self.wrapper(args))

    def test_malformed_config_passes_unannotated_containers_to_runc_on_path(self):
        with open(self.config, "w") as f:
            f.write("{ not json")
        env = dict(self.env, PATH=self.fake_dir + ":" + os.environ.get("PATH", "/usr/bin"))
        bundle = self.bundle()
        args = ["create", "--bundle", bundle, "c1"]
        result = self.wrapper(args, env=env)
        self.assert_passed_through(args, result)
        self.assertIn(self.config, result.stderr)

    def test_malformed_config_fails_a_container_that_asks_for_cpus(self):
        with open(self.config, "w") as f:
            f.write('{"confDir": 1}')
        env = dict(self.env, PATH=self.fake_dir + ":" + os.environ.get("PATH", "/usr/bin"))
        bundle = self.bundle({"kcm.intel.com/pool": "dataplane"})
        result = self.wrapper(["create", "--bundle", bundle, "c1"], env=env)
        self.assertEqual(result.returncode, 1)
        self.assertIsNone(self.recorded())
        self.assertIn("kcm-runtime: the container asks for CPUs", result.stderr)
        self.assertIn('"' + self.config + '"', result.stderr)

    def test_wrapper_configured_as_its_own_runtime_is_refused(self):
        write_runtime_config(self.root, self.conf, runtime=RUNTIME)
        result = self.wrapper(["state", "c1"])
        self.assertEqual(result.returncode, 1)
        self.assertIn("itself", result.stderr)
        self.assertTrue(result.stderr.startswith("kcm-runtime: "), result.stderr)

    def test_wrapper_installed_as_runc_first_on_path_finds_the_real_one(self):
        write_runtime_config(self.root, self.conf)  # no "runtime": runc on PATH
        shadow = os.path.join(self.root, "shadow")
        os.makedirs(shadow)
        os.symlink(RUNTIME, os.path.join(shadow, "runc"))
        env = dict(self.env, PATH=shadow + ":" + self.fake_dir)
        self.assert_passed_through(["state", "c1"], self.wrapper(["state", "c1"], env=env))

    def test_missing_runtime_is_a_clear_error(self):
        write_runtime_config(self.root, self.conf, runtime=os.path.join(self.root, "nope"))
        result = self.wrapper(["state", "c1"])
        self.assertEqual(result.returncode, 1)
        self.assertIn("find the real runtime", result.stderr)
        self.assertIn("nope", result.stderr)

    def test_runtime_does_not_inherit_the_log_file(self):
        # runc, and the hooks runc runs, must not get kcm-runtime's log file descriptor.
        fds_file = os.path.join(self.root, "fds")
        with open(self.fake, "w") as f:
            f.write(f"#!/bin/sh\nls -l /proc/$$/fd > {fds_file}\nexit 0\n")
        log = os.path.join(self.root, "kcm-runtime.log")
        bundle = self.bundle({"kcm.intel.com/pool": "dataplane"})
        result = self.wrapper(["create", "--bundle", bundle, "c1"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(os.path.getsize(log) > 0, "the wrapper logged to its file")
        with open(fds_file) as f:
            self.assertNotIn(log, f.read())

    def test_missing_hook_fails_a_container_that_asks_for_cpus(self):
        write_runtime_config(self.root, self.conf, runtime=self.fake,
                                hook=os.path.join(self.root, "no-hook"))
        bundle = self.bundle({"kcm.intel.com/pool": "dataplane"})
        result = self.wrapper(["create", "-b", bundle, "c1"])
        self.assertEqual(result.returncode, 1)
        self.assertIsNone(self.recorded())
        self.assertIn("no-hook", result.stderr)

    def read_only(self, path):
        subprocess.run(["mount", "--bind", path, path], check=True)
        self.addCleanup(subprocess.run, ["umount", path], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", path], check=True)

    def test_read_only_bundle_fails_a_container_that_asks_for_cpus(self):
        bundle = self.bundle({"kcm.intel.com/pool": "dataplane"})
        self.read_only(bundle)
        result = self.wrapper(["create", "-b", bundle, "c1"])
        self.assertEqual(result.returncode, 1)
        self.assertIsNone(self.recorded())
        self.assertIn("kcm-runtime: the container asks for CPUs: create", result.stderr)
        self.assertIn("Read-only file system", result.stderr)

    def test_read_only_bundle_passes_an_unannotated_container(self):
        bundle = self.bundle()
        self.read_only(bundle)
        args = ["create", "-b", bundle, "c1"]
        self.assert_passed_through(args, self.wrapper(args))

    def test_invalid_log_level_still_passes_through(self):
        result = self.wrapper(["state", "c1"], env=dict(self.env, KCM_LOG_LEVEL="loud"))
        self.assert_passed_through(["state", "c1"], result)
        self.assertIn("KCM_LOG_LEVEL", result.stderr)

    def test_malformed_config_is_named_when_no_runtime_is_found_either(self):
        with open(self.config, "w") as f:
            f.write("{ not json")
        result = self.wrapper(["state", "c1"], env=dict(self.env, PATH=self.root))
        self.assertEqual(result.returncode, 1)
        self.assertIn("find the real runtime", result.stderr)
        self.assertIn(self.config, result.stderr)
        self.assertEqual(result.stderr.count("\n"), 1, result.stderr)

    def test_shipped_config_file_is_valid(self):
        with open(os.path.join(SHIPPED_CONFIG, "kcm-runtime.json")) as f:
            shipped = json.load(f)
        shipped["logFile"] = os.path.join(self.root, "shipped.log")
        with open(self.config, "w") as f:
            json.dump(shipped, f)
        env = dict(self.env, PATH=self.fake_dir)  # "runtime": "runc" is looked up on PATH
        result = self.wrapper(["--version"], env=env)
        self.assert_passed_through(["--version"], result)
        self.assertEqual(result.stderr, "")


class DeepStateTest(unittest.TestCase):
    """kcm-hook given a state nested 100,000 levels deep on stdin, as kcm-runtime's
    tests give it such a config.json."""

    def test_hook_refuses_it_with_a_usage_error(self):
        root = make_temp_dir(self.addCleanup, "kcm-hook-deep-")
        conf = write_config_dir(os.path.join(root, "kcm"))
        state = ('{"ociVersion": "1.0.2", "id": "deep", "status": "creating", '
                 '"annotations": {"kcm.intel.com/pool": "dataplane"}, "x": ' +
                 "[" * 100000 + "]" * 100000 + "}")
        result = run_hook("prestart", state, conf)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr.decode(),
                         "kcm-hook: parse OCI state: nested deeper than 64 levels\n")
        self.assertEqual(busy_lists(conf), {})


if __name__ == "__main__":
    kcm_e2e.main("KCM_RUNTIME_BIN")
