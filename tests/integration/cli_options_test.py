#!/usr/bin/env python3
"""Every option of the built `kcm` that takes a value refuses an empty one.

An empty value must never let the option take the next argument instead (`kcm init
--conf-dir= --num-dp-cores=1` once made a directory named "--num-dp-cores=1"). The
subcommands and their options come from the usage block `kcm <sub> --help` prints, so an
option added there is covered here without editing this file. The binary is $KCM_BIN;
each command runs in a temp working directory that must stay empty.
"""
import os
import re
import subprocess
import tempfile
import unittest

KCM = os.path.abspath(os.environ.get("KCM_BIN", "build/cli/kcm"))

# A value for each placeholder of the usage block, for the options not under test; a
# relative <dir> lands in the working directory, where the test would see it.
PLACEHOLDER_VALUES = {"<dir>": "d", "<num>": "1", "<pool>": "infra", "<command>": "true"}


def run(args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCM_")}
    return subprocess.run([KCM, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=30)


def usage_lines():
    """{subcommand: its usage line without "kcm <subcommand>"}, from `kcm <sub> --help`."""
    with tempfile.TemporaryDirectory(prefix="kcm-options-") as cwd:
        text = run(["--help"], cwd).stdout
        lines = {}
        for match in re.finditer(r"^  kcm ([a-z][a-z-]*)(.*)$", text, re.M):
            sub, rest = match.groups()
            lines[sub] = rest
        for sub in lines:
            help_text = run([sub, "--help"], cwd).stdout
            line = re.search(r"^  kcm %s(.*)$" % re.escape(sub), help_text, re.M)
            if line:
                lines[sub] = line.group(1)
    return lines


def value_options(line):
    """[(option, placeholder)] of a usage line: the options written `--name=<value>`."""
    return re.findall(r"(--[a-z][a-z-]*)=(<[a-z-]+>)", line)


def flags(line):
    """The options of a usage line that take no value, e.g. ["--publish"]."""
    return re.findall(r"(--[a-z][a-z-]*)(?![a-z=-])", line)


def positionals(line):
    """The required positional placeholders of a usage line, e.g. ["<command>"]."""
    return re.findall(r"(?<![=\[])(<[a-z-]+>)(?![^\[]*\])", line)


class EmptyOptionValueTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lines = usage_lines()

    def cases(self, form):
        """(option, argv) for every value option of every subcommand, the option under
        test written in `form` and put first, so that it could swallow the arguments that
        follow: "equals" (`--opt=`), "separate" (`--opt ''`) or "bare" (`--opt` followed
        by the subcommand's other options; skipped where there are none)."""
        for sub, line in sorted(self.lines.items()):
            options = value_options(line)
            for option, _ in options:
                others = [o + "=" + PLACEHOLDER_VALUES.get(p, "x") for o, p in options
                          if o != option] + flags(line)
                if form == "bare" and not others:
                    continue
                written = {"equals": [option + "="], "separate": [option, ""],
                           "bare": [option]}[form]
                rest = [PLACEHOLDER_VALUES.get(p, "x") for p in positionals(line)]
                yield option, [sub] + written + others + rest

    def check(self, form, message):
        count = 0
        for option, args in self.cases(form):
            count += 1
            with self.subTest(args=args), tempfile.TemporaryDirectory(
                    prefix="kcm-options-") as cwd:
                result = run(args, cwd)
                self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
                self.assertIn("option %s %s" % (option, message), result.stderr)
                self.assertEqual(result.stdout, "")
                self.assertEqual(os.listdir(cwd), [], "the command created files")
        self.assertGreater(count, 0)

    def test_equals_with_nothing_after_it_is_refused(self):
        self.check("equals", "needs a non-empty value")

    def test_empty_separate_argument_is_refused(self):
        self.check("separate", "needs a non-empty value")

    def test_option_is_not_taken_as_the_value_of_another(self):
        self.check("bare", "needs a value, not the option")


if __name__ == "__main__":
    unittest.main(verbosity=2)
