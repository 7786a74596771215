#!/usr/bin/env python3
"""Runs admission_test.cjs on packaging/kubernetes/admission-policy.yaml.

Installs the evaluator pinned by package-lock.json (`npm ci`) into $KCM_NPM_DIR (the
build directory; a temp directory when unset), once per lockfile: a directory whose
copy of the lockfile matches is reused, so only the first run after a change of the
lockfile, or in a fresh clone, downloads. Exits 77 (skipped) without node or npm.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
POLICY = os.path.join(SOURCE, "packaging", "kubernetes", "admission-policy.yaml")
# Pods the documentation shows (docs/user.md): each must pass the policy.
EXAMPLES = os.path.join(SOURCE, "packaging", "kubernetes", "examples")
MANIFESTS = ("package.json", "package-lock.json")


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def install(directory):
    """node_modules for the lockfile in `directory`, installed when not already there."""
    modules = os.path.join(directory, "node_modules")
    if (os.path.isdir(modules) and
            all(read(os.path.join(directory, m)) == read(os.path.join(HERE, m))
                for m in MANIFESTS)):
        return modules
    os.makedirs(directory, exist_ok=True)
    shutil.rmtree(modules, ignore_errors=True)
    for m in MANIFESTS:
        shutil.copy(os.path.join(HERE, m), os.path.join(directory, m))
    started = time.monotonic()
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts",
                    "--prefix", directory], check=True, stdout=sys.stderr)
    print("npm ci: %.1f s" % (time.monotonic() - started), file=sys.stderr)
    return modules


def main():
    if not shutil.which("node") or not shutil.which("npm"):
        print("node or npm is not installed: skipped", file=sys.stderr)
        return 77
    directory = os.environ.get("KCM_NPM_DIR") or tempfile.mkdtemp(prefix="kcm-admission-")
    modules = install(directory)
    examples = sorted(os.path.join(EXAMPLES, f) for f in os.listdir(EXAMPLES)
                      if f.endswith(".yaml"))
    return subprocess.run(["node", os.path.join(HERE, "admission_test.cjs"), POLICY,
                           modules, *examples]).returncode


if __name__ == "__main__":
    sys.exit(main())
