#!/usr/bin/env python3
"""The Debian package (packaging/debian/): packaging/debian/build.sh builds it, and
the unpacked .deb (dpkg -x, dpkg -e) holds exactly the files an operator expects:

- /usr/bin/kcm, /usr/bin/kcm-runtime and /usr/libexec/kcm/kcm-hook;
- the hooks.d files in /usr/share/containers/oci/hooks.d, naming that hook;
- /etc/kcm-runtime.json, a conffile, naming that hook;
- the systemd units, running /usr/bin/kcm;
- the man pages and every docs/*.md page.

Root (apt-get installs what the build needs): exit 77 (skip) otherwise, or when
dpkg-buildpackage is not installed. KCM_PACKAGE_OUT keeps the build's output there
instead of a temp directory. It is a build of its own (`dpkg-buildpackage`, Debian's
flags, buildtype=plain, with DEB_BUILD_OPTIONS=werror), so it is also the check that a
distribution's build compiles without warnings.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOOK = "/usr/libexec/kcm/kcm-hook"
HOOKS_DIR = "/usr/share/containers/oci/hooks.d"
DOCS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(SRC, "docs", "*.md")))

EXPECTED_FILES = {
    "/usr/bin/kcm",
    "/usr/bin/kcm-runtime",
    HOOK,
    f"{HOOKS_DIR}/kcm.json",
    f"{HOOKS_DIR}/kcm-poststop.json",
    "/etc/kcm-runtime.json",
    "/lib/systemd/system/kcm-reconcile.service",
    "/lib/systemd/system/kcm-reconcile.timer",
    "/usr/share/man/man1/kcm.1.gz",
    "/usr/share/man/man8/kcm-hook.8.gz",
    "/usr/share/man/man8/kcm-runtime.8.gz",
    "/usr/share/doc/kcm/changelog.gz",
    "/usr/share/doc/kcm/copyright",
    "/usr/share/doc/kcm/examples/kcm-runtime.json",
    "/usr/share/doc/kcm/examples/kcm.toml",
    "/usr/share/doc/kcm/examples/daemon.json",
    "/usr/share/doc/kcm/examples/containers.conf",
    "/usr/share/lintian/overrides/kcm",
}


def docs_found(found):
    """The docs/*.md pages in the package, by name: dh_compress gzips the longer ones."""
    return {os.path.basename(p).removesuffix(".gz") for p in found
            if os.path.dirname(p) == "/usr/share/doc/kcm" and ".md" in p}


def files_under(root):
    found = set()
    for dirpath, _, names in os.walk(root):
        for name in names:
            found.add("/" + os.path.relpath(os.path.join(dirpath, name), root))
    return found


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kcm-package-")
        cls.out = os.environ.get("KCM_PACKAGE_OUT") or os.path.join(cls.tmp, "out")
        start = time.monotonic()
        # werror (debian/rules): Debian's flags must not bring warnings either.
        env = dict(os.environ, DEB_BUILD_OPTIONS="werror")
        done = subprocess.run([os.path.join(SRC, "packaging", "debian", "build.sh"), cls.out],
                              capture_output=True, text=True, timeout=1500, check=False,
                              env=env)
        print(f"package build: {time.monotonic() - start:.0f} s", file=sys.stderr)
        if done.returncode != 0:
            raise AssertionError(f"build.sh failed:\n{done.stdout}\n{done.stderr}")
        debs = [d for d in glob.glob(os.path.join(cls.out, "kcm_*.deb"))]
        if len(debs) != 1:
            raise AssertionError(f"expected one kcm_*.deb in {cls.out}: {debs}")
        cls.deb = debs[0]
        cls.root = os.path.join(cls.tmp, "root")
        cls.control = os.path.join(cls.tmp, "DEBIAN")
        subprocess.run(["dpkg", "-x", cls.deb, cls.root], check=True)
        subprocess.run(["dpkg", "-e", cls.deb, cls.control], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def read(self, path):
        with open(self.root + path, encoding="utf-8") as f:
            return f.read()

    def test_exact_file_list(self):
        found = files_under(self.root)
        self.assertEqual(sorted(docs_found(found)), DOCS)
        found = {p for p in found
                 if not (os.path.dirname(p) == "/usr/share/doc/kcm" and ".md" in p)}
        self.assertEqual(sorted(found - EXPECTED_FILES), [], "files no one expects")
        self.assertEqual(sorted(EXPECTED_FILES - found), [], "files missing")

    def test_programs_are_executable(self):
        for path in ("/usr/bin/kcm", "/usr/bin/kcm-runtime", HOOK):
            with self.subTest(path=path):
                self.assertEqual(os.stat(self.root + path).st_mode & 0o777, 0o755)
        done = subprocess.run([self.root + "/usr/bin/kcm", "--version"], capture_output=True,
                              text=True, check=False)
        self.assertEqual(done.stdout, f"kcm {self.version()}\n")

    def version(self):
        fields = subprocess.run(["dpkg-deb", "-f", self.deb, "Version"], capture_output=True,
                                text=True, check=True).stdout.strip()
        return fields

    def test_hooks_d_files_name_the_installed_hook(self):
        for name, stage in (("kcm.json", "prestart"), ("kcm-poststop.json", "poststop")):
            with self.subTest(file=name):
                hook = json.loads(self.read(f"{HOOKS_DIR}/{name}"))
                self.assertEqual(hook["hook"]["path"], HOOK)
                self.assertEqual(hook["hook"]["args"][-1], stage)
                self.assertEqual(hook["stages"], [stage])

    def test_runtime_config_is_a_conffile_naming_the_hook(self):
        self.assertEqual(json.loads(self.read("/etc/kcm-runtime.json"))["hook"], HOOK)
        with open(os.path.join(self.control, "conffiles"), encoding="utf-8") as f:
            self.assertIn("/etc/kcm-runtime.json", f.read().split())

    def test_units_run_the_installed_kcm(self):
        service = self.read("/lib/systemd/system/kcm-reconcile.service")
        self.assertIn("ExecStart=/usr/bin/kcm reconcile", service)
        self.assertNotIn("/usr/local", service)
        # dh_installsystemd enables the timer: the postinst says so.
        with open(os.path.join(self.control, "postinst"), encoding="utf-8") as f:
            self.assertIn("kcm-reconcile.timer", f.read())

    def test_no_file_names_usr_local(self):
        for path in sorted(files_under(self.root)):
            if path.endswith(".gz") or path.startswith(("/usr/bin/", "/usr/libexec/")):
                continue
            if path.startswith(("/usr/share/doc/", "/usr/share/lintian/")):
                continue  # docs and examples describe by-hand installs in /usr/local
            with self.subTest(path=path):
                self.assertNotIn("/usr/local", self.read(path))

    @unittest.skipUnless(shutil.which("lintian"), "lintian is not installed")
    def test_lintian_is_clean(self):
        # Whatever it reports is fixed, or overridden with the reason in
        # packaging/debian/kcm.lintian-overrides (packaging/debian/README.md).
        done = subprocess.run(["lintian", "--fail-on", "error,warning", "--pedantic",
                               "--display-info", self.deb], capture_output=True, text=True,
                              timeout=300, check=False)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)

    def test_man_pages_name_the_packaged_paths(self):
        page = subprocess.run(["zcat", self.root + "/usr/share/man/man8/kcm-hook.8.gz"],
                              capture_output=True, text=True, check=True).stdout
        self.assertIn(HOOK.replace("-", "\\-"), page)
        self.assertIn(HOOKS_DIR, page)


def main():
    if os.geteuid() != 0:
        print("package: needs root (apt-get installs the build dependencies): skipped")
        sys.exit(77)
    if not shutil.which("dpkg-buildpackage"):
        print("package: dpkg-buildpackage is not installed (dpkg-dev): skipped")
        sys.exit(77)
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
