#!/usr/bin/env python3
"""The man pages of the build (man/README.md) render, and each describes every
subcommand and option its program's usage lists.

The SYNOPSIS is the usage text itself, so these checks look past it, at the sections
written by hand (COMMANDS, STAGES, OPTIONS): an option added to a program's usage without
a line in its page fails here. Paths come from the environment: KCM_MAN_DIR (the build's
man/), KCM_BIN, KCM_HOOK_BIN, KCM_RUNTIME_BIN.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

MAN_DIR = os.environ.get("KCM_MAN_DIR", "build/man")
KCM = os.environ.get("KCM_BIN", "build/cli/kcm")
KCM_HOOK = os.environ.get("KCM_HOOK_BIN", "build/hook/kcm-hook")
KCM_RUNTIME = os.environ.get("KCM_RUNTIME_BIN", "build/shim/kcm-runtime")

# Only the PATH of the environment: a KCM_* setting of the caller must not change the
# usage; an empty directory as PATH keeps kcm-runtime from finding a runc to pass to.
EMPTY_DIR = tempfile.mkdtemp(prefix="kcm-man-test-")


def run(args, path=EMPTY_DIR):
    return subprocess.run(args, capture_output=True, text=True, timeout=30,
                          env={"PATH": path, "LC_ALL": "C"}, check=False)


def render(page):
    """The page as `man -l` prints it to a pipe (plain text, no hyphenation), and what
    man and groff said on stderr."""
    done = subprocess.run(["man", "--warnings", "-l", os.path.join(MAN_DIR, page)],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8",
                               "MANWIDTH": "100", "MAN_KEEP_FORMATTING": ""})
    return done.returncode, done.stdout, done.stderr


def sections(text):
    """{SECTION NAME: its text} of a rendered page."""
    found = {}
    name = None
    for line in text.splitlines():
        if re.match(r"^[A-Z][A-Z ]+$", line):
            name = line.strip()
            found[name] = ""
        elif name:
            found[name] += line + "\n"
    return found


def entries(section_text):
    """The tags of a section's .TP entries: the lines indented by the section's indent
    and no more (the descriptions are indented further)."""
    return [line.strip() for line in section_text.splitlines()
            if re.match(r"^ {7}\S", line)]


def options_of(usage):
    return sorted(set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", usage)))


class ManPages(unittest.TestCase):
    def page(self, name):
        code, text, warnings = render(name)
        self.assertEqual(code, 0, f"man -l {name}: {warnings}")
        self.assertEqual(warnings, "", f"man -l {name} warned")
        return sections(text)

    def assert_each_has_entry(self, names, section, page, section_name):
        tags = entries(section)
        for name in names:
            with self.subTest(page=page, name=name):
                self.assertTrue(any(re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(name), t)
                                    for t in tags),
                                f"{page}: {section_name} has no entry for {name}: {tags}")

    def test_kcm(self):
        usage = run([KCM, "--help"]).stdout
        subcommands = re.findall(r"^  kcm ([a-z][a-z-]*)", usage, re.M)
        self.assertIn("isolate", subcommands)
        page = self.page("kcm.1")
        self.assertIn("kcm node-report [--conf-dir=<dir>] [--publish]", page["SYNOPSIS"])
        self.assert_each_has_entry([f"kcm {s}" for s in subcommands], page["COMMANDS"],
                                   "kcm.1", "COMMANDS")
        self.assert_each_has_entry(options_of(usage), page["OPTIONS"], "kcm.1", "OPTIONS")

    def test_kcm_hook(self):
        usage = run([KCM_HOOK]).stderr
        self.assertIn("usage: kcm-hook", usage)
        stages = re.search(r"STAGE: (.*)", usage).group(1)
        page = self.page("kcm-hook.8")
        self.assertIn("usage: kcm-hook [--conf-dir=DIR] STAGE", page["SYNOPSIS"])
        self.assert_each_has_entry(re.findall(r"\b(prestart|createRuntime|poststop)\b", stages),
                                   page["STAGES"], "kcm-hook.8", "STAGES")
        self.assert_each_has_entry(options_of(usage.split("\n", 1)[0]), page["OPTIONS"],
                                   "kcm-hook.8", "OPTIONS")

    def test_kcm_runtime(self):
        page = self.page("kcm-runtime.8")
        for command in ("configure", "unconfigure"):
            self.assert_each_has_entry([command], page["COMMANDS"], "kcm-runtime.8",
                                       "COMMANDS")
            # With no runc on PATH, a kcm-runtime without the command fails: nothing to
            # compare then; one with it prints its usage.
            done = run([KCM_RUNTIME, command, "--help"])
            if done.returncode != 0 or "--engine" not in done.stdout:
                continue
            self.assert_each_has_entry(options_of(done.stdout), page["OPTIONS"],
                                       "kcm-runtime.8", "OPTIONS")


if __name__ == "__main__":
    try:
        if not shutil.which("man", path="/usr/bin:/bin"):
            print("man: man (man-db) is not installed: skipped")
            sys.exit(77)  # meson's SKIP
        unittest.main(verbosity=2)
    finally:
        os.rmdir(EMPTY_DIR)
