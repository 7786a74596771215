#!/usr/bin/env python3
"""`kcm init --keep-existing` (docs/cli.md, an extension): the built `kcm` ($KCM_BIN) on
temp directories. A directory that holds a configuration is kept as it is (exit 0, the
topology not even read); an absent or empty one is initialized; a broken configuration
and a foreign directory are refused, changing nothing; without the option nothing
changes."""

import os
import shutil
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from cli_test import EXAMPLE_POOLS, TOPOLOGIES, Base, run, snapshot, write_conf  # noqa: E402

SYS = {"KCM_SYS_FS": os.path.join(TOPOLOGIES, "8em64t-4c2t", "sys")}
FLAGS = ("--num-dp-cores=2", "--num-cp-cores=1")


class KeepExistingTest(Base):
    def init(self, *flags, env=SYS):
        return run("init", "--conf-dir=" + self.conf, *flags, env=env)

    def test_an_absent_or_empty_directory_is_initialized(self):
        for make in (False, True):
            with self.subTest(empty_directory=make):
                if make:
                    os.makedirs(self.conf)
                r = self.init("--keep-existing", *FLAGS)
                self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)
                self.assertEqual(sorted(os.listdir(os.path.join(self.conf, "pools", "dataplane"))),
                                 ["2,6", "3,7", "exclusive"])
                self.assertTrue(os.path.isdir(os.path.join(self.conf, "owners")))
                shutil.rmtree(self.conf)

    def test_a_configuration_is_kept_as_it_is(self):
        self.assertEqual(self.init(*FLAGS).returncode, 0)
        before = snapshot(self.conf)
        # Other sizes and a sysfs that does not exist: neither is looked at.
        r = self.init("--keep-existing", "--num-dp-cores=1", "--num-cp-cores=0",
                      env={"KCM_SYS_FS": os.path.join(self.tmp, "nosys")})
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        self.assertEqual(snapshot(self.conf), before)
        r = self.init("--keep-existing", *FLAGS, env={**SYS, "KCM_LOG_LEVEL": "info"})
        self.assertEqual(r.returncode, 0)
        self.assertIn('kcm: info: "%s" already holds a kcm configuration: kept '
                      '(--keep-existing)\n' % self.conf, r.stderr)

    def test_tasks_and_owners_are_not_judged(self):
        write_conf(self.conf, EXAMPLE_POOLS)  # PIDs that do not run here
        with open(os.path.join(self.conf, "pools", "infra", "0-2,8-10", "tasks"), "w") as f:
            f.write("garbage")
        before = snapshot(self.conf)
        r = self.init("--keep-existing", *FLAGS)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(snapshot(self.conf), before)

    def test_a_broken_configuration_is_refused_unchanged(self):
        write_conf(self.conf, EXAMPLE_POOLS)
        exclusive = os.path.join(self.conf, "pools", "dataplane", "exclusive")
        with open(exclusive, "w") as f:
            f.write("maybe")
        before = snapshot(self.conf)
        r = self.init("--keep-existing", *FLAGS)
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.startswith(
            'kcm: error: keep the existing configuration "%s": ' % self.conf), r.stderr)
        self.assertIn(exclusive, r.stderr)
        self.assertEqual(snapshot(self.conf), before)

    def test_pools_that_is_not_a_directory_is_refused(self):
        os.makedirs(self.conf)
        os.symlink("/", os.path.join(self.conf, "pools"))
        r = self.init("--keep-existing", *FLAGS)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("keep the existing configuration", r.stderr)
        self.assertEqual(os.readlink(os.path.join(self.conf, "pools")), "/")

    def test_a_foreign_directory_is_refused_as_without_the_option(self):
        os.makedirs(self.conf)
        with open(os.path.join(self.conf, "notes"), "w") as f:
            f.write("mine")
        without = self.init(*FLAGS)
        keep = self.init("--keep-existing", *FLAGS)
        self.assertEqual((keep.returncode, keep.stdout, keep.stderr),
                         (without.returncode, without.stdout, without.stderr))
        self.assertEqual(keep.returncode, 1)
        self.assertEqual(os.listdir(self.conf), ["notes"])

    def test_without_the_option_an_initialized_directory_is_still_refused(self):
        self.assertEqual(self.init(*FLAGS).returncode, 0)
        r = self.init(*FLAGS)
        self.assertEqual(r.returncode, 1)
        self.assertIn('\nkcm: error: initialize config directory "%s": is not empty (it holds '
                      % self.conf, r.stderr)

    def test_usage_errors_come_first(self):
        r = self.init("--keep-existing", "--num-dp-cores=x")
        self.assertEqual(r.returncode, 2)
        self.assertFalse(os.path.exists(self.conf))


if __name__ == "__main__":
    unittest.main()
