#!/usr/bin/env bash
# Builds the Debian package: packaging/debian/build.sh OUTDIR (packaging/debian/README.md).
#
# dpkg-buildpackage wants debian/ at the top of the source tree, and the source tree
# must not be written to: so the tree is copied to a temp directory with this directory
# as its debian/, built there with `dpkg-buildpackage -b -us -uc`, and the .deb, .buildinfo
# and .changes are moved to OUTDIR. Missing build dependencies are installed with
# apt-get (root); the tests are not run (DEB_BUILD_OPTIONS=nocheck), and the build uses
# every CPU (parallel=$(nproc)) unless DEB_BUILD_OPTIONS names its own parallel=N.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

version=$(dpkg-parsechangelog -l "$here/changelog" -S Version 2>/dev/null ||
  sed -n '1s/.*(\(.*\)).*/\1/p' "$here/changelog")
work=$(mktemp -d "${TMPDIR:-/tmp}/kcm-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree="$work/kcm-$version"
mkdir "$tree"

# The source without version control, build directories (any name: each holds a
# build.ninja) or a debian/ of its own; then this directory as debian/.
tar -C "$src" --exclude-vcs --exclude-tag-all=build.ninja --exclude=./debian \
  --exclude=__pycache__ -cf - . | tar -C "$tree" -xf -
cp -a "$here" "$tree/debian"
rm -f "$tree/debian/build.sh" "$tree/debian/README.md"

apt_quiet=(-y -qq -o Dpkg::Use-Pty=0)
if ! command -v dpkg-checkbuilddeps >/dev/null && [ "$(id -u)" -eq 0 ]; then
  echo "$0: installing dpkg-dev"
  { DEBIAN_FRONTEND=noninteractive apt-get install "${apt_quiet[@]}" dpkg-dev >/dev/null ||
    { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install "${apt_quiet[@]}" dpkg-dev >/dev/null; }; }
fi
if ! (cd "$tree" && dpkg-checkbuilddeps >/dev/null 2>&1); then
  if [ "$(id -u)" -ne 0 ]; then
    (cd "$tree" && dpkg-checkbuilddeps) || true
    echo "$0: build dependencies are missing and installing them needs root" >&2
    exit 1
  fi
  echo "$0: installing the build dependencies"
  DEBIAN_FRONTEND=noninteractive apt-get build-dep "${apt_quiet[@]}" "$tree" >/dev/null ||
    { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get build-dep "${apt_quiet[@]}" "$tree" >/dev/null; }
fi

# debhelper builds with one job unless DEB_BUILD_OPTIONS says parallel=N; the caller's
# own parallel=N wins.
options="nocheck ${DEB_BUILD_OPTIONS:-}"
case " $options " in
  *" parallel="*) ;;
  *) options="$options parallel=$(nproc)" ;;
esac
start=$SECONDS
(cd "$tree" && DEB_BUILD_OPTIONS="$options" dpkg-buildpackage -b -us -uc) > "$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log" >&2
  echo "$0: dpkg-buildpackage failed (the last lines of its log above)" >&2
  exit 1
}
mv "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out"/
cp "$work/build.log" "$out/build.log"
echo "$0: built $(cd "$out" && echo *.deb) in $((SECONDS - start)) s"
