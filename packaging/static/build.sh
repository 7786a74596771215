#!/usr/bin/env bash
# packaging/static/build.sh OUTDIR: builds kcm, kcm-hook and kcm-runtime linked fully
# statically and leaves exactly those three programs in OUTDIR, so that `kcm install` can
# put them in a container of any distribution, or one with no libraries at all
# (docs/install.md).
#
# On Debian 12, as root: installs the packages it needs. Debian's libcurl.a cannot be
# linked statically (its GSSAPI, LDAP and RTMP dependencies ship no archives), so this
# builds a minimal libcurl, HTTP and HTTPS over OpenSSL and nothing else, from Debian's own
# curl source package, once: it is cached under $KCM_STATIC_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/kcm-static/curl-<version>). The source list apt fetches
# it with is private to this script (a temp directory); the system's apt configuration,
# lists and caches are only read.
#
# Environment: KCM_STATIC_CACHE (the cache above), KCM_STATIC_BUILD_DIR (the meson build
# directory, default build-static/ in the source tree, which git ignores).
set -euo pipefail
shopt -s inherit_errexit

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: packaging/static/build.sh OUTDIR" >&2
  exit 2
fi
out=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
cache=${KCM_STATIC_CACHE:-${XDG_CACHE_HOME:-$home/.cache}/kcm-static}
build_dir=${KCM_STATIC_BUILD_DIR:-$src/build-static}
jobs=${KCM_STATIC_JOBS:-$(nproc)}

PACKAGES=(
  meson ninja-build pkg-config g++ make dpkg-dev file
  libssl-dev libseccomp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
)

say() { echo "build.sh: $*" >&2; }


# The source version of the libcurl installed on this system, if any: usually the newest
# in its Debian sources, so that a cached build is found without going to the network.
system_curl_version() {
  dpkg-query -W -f='${source:Version}\n' libcurl4 libcurl4-openssl-dev 2>/dev/null |
    grep -v '^$' | head -n 1 || true
}

# The system's own Debian sources (those for this release's suites), as deb-src entries
# in files under $1. Other vendors' repositories often have no source indexes.
write_source_list() {
  local parts=$1 codename f
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v c="$codename" '
      $1 == "deb" {
        i = 2
        if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) ~ "^" c) { $1 = "deb-src"; print }
      }' "$f" >>"$parts/debian.list"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822 stanzas are separated by blank lines; keep those for this release.
    awk -v c="$codename" '
      BEGIN { RS = ""; ORS = "\n\n" }
      {
        if ($0 !~ ("\nSuites:[^\n]*" c) && $0 !~ ("^Suites:[^\n]*" c)) next
        if ($0 ~ /Enabled: *no/) next
        gsub(/Types:[^\n]*/, "Types: deb-src")
        print
      }' "$f" >>"$parts/$(basename "$f")"
  done
}

# Fetches Debian's curl source into $tmp and builds the minimal libcurl for the prefix
# $cache/curl-<Debian version>, installed under the staging directory $1; prints that
# prefix (already in place when the newest source is the version cached).
build_curl() {
  local stage=$1
  # Only this script's apt calls read these: the system's lists and caches are not written.
  mkdir -p "$tmp/parts" "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/src"
  write_source_list "$tmp/parts"
  local apt_opts=(
    -o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$tmp/parts"
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache"
  )
  # apt downloads as its unprivileged user where there is one.
  if id _apt >/dev/null 2>&1; then chown -R _apt "$tmp/lists" "$tmp/src"; fi
  say "fetching the index of Debian's curl sources"
  apt-get -qq "${apt_opts[@]}" update >&2
  local version
  version=$(apt-cache "${apt_opts[@]}" showsrc curl | awk '/^Version:/ { print $2 }' |
    sort -V | tail -n 1)
  if [ -z "$version" ]; then
    say "no curl source package in this system's Debian sources"
    return 1
  fi
  if [ -f "$cache/curl-$version/lib/libcurl.a" ]; then
    echo "$cache/curl-$version"
    return
  fi
  (cd "$tmp/src" && apt-get -qq "${apt_opts[@]}" source "curl=$version" >"$tmp/source.log" 2>&1) ||
    { cat "$tmp/source.log" >&2; return 1; }
  local dir prefix=$cache/curl-$version
  dir=$(find "$tmp/src" -mindepth 1 -maxdepth 1 -type d -name 'curl-*' | head -n 1)
  say "building libcurl $version (HTTP and HTTPS over OpenSSL only)"
  # No default CA bundle or path: kcm names the cluster's CA for every request
  # (docs/kubernetes.md), and a static program cannot rely on the host's layout.
  # Its output goes to a log, shown when the build fails.
  if ! (cd "$dir" && ./configure --quiet --prefix="$prefix" --disable-shared --enable-static \
    --with-openssl --without-zlib --without-brotli --without-zstd --without-libpsl \
    --without-nghttp2 --without-ngtcp2 --without-nghttp3 --without-quiche --without-msh3 \
    --without-libidn2 --without-librtmp --without-libssh2 --without-libssh \
    --without-gssapi --without-hyper --without-libgsasl \
    --without-ca-bundle --without-ca-path --without-ca-fallback \
    --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
    --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher \
    --disable-mqtt --disable-ftp --disable-file --disable-manual --disable-ntlm \
    --disable-ntlm-wb --disable-unix-sockets --disable-alt-svc --disable-hsts \
    --disable-cookies --disable-doh --disable-netrc --disable-progress-meter &&
    make -s -j"$jobs" -C lib &&
    make -s -C lib install DESTDIR="$stage" &&
    make -s -C include install DESTDIR="$stage" &&
    make -s install-pkgconfigDATA DESTDIR="$stage") >"$tmp/build.log" 2>&1; then
    tail -n 40 "$tmp/build.log" >&2
    say "building libcurl failed (the end of its log is above)"
    return 1
  fi
  echo "$prefix"
}

# The cached minimal libcurl's prefix, built when not cached yet.
curl_prefix() {
  local want
  want=$(system_curl_version)
  if [ -n "$want" ] && [ -f "$cache/curl-$want/lib/libcurl.a" ]; then
    echo "$cache/curl-$want"
    return
  fi
  # Installed into a staging directory beside the cache and renamed into place, so that
  # an interrupted build is never taken for a cached one.
  local prefix
  prefix=$(build_curl "$work")
  if [ -d "$work$prefix" ]; then
    rm -rf "$prefix"
    mv "$work$prefix" "$prefix"
    say "cached libcurl as $prefix"
  fi
  echo "$prefix"
}

start=$SECONDS
"$src/dev" packages "${PACKAGES[@]}"
# Temp directories: apt's lists and the curl source ($tmp, readable by apt's user), and the
# staging directory ($work, on the cache's file system).
mkdir -p "$cache"
tmp=$(mktemp -d)
work=$(mktemp -d "$cache/.work.XXXXXX")
trap 'rm -rf "$tmp" "$work"' EXIT
chmod 0755 "$tmp"
curl=$(curl_prefix)
say "libcurl: $curl ($((SECONDS - start)) s)"

# A release build, as a distribution makes one: warnings are not errors here (GCC 12 has
# false positives at -O3 that ./dev's warnings-as-errors build does not meet).
options=(--buildtype=release -Dwerror=false -Dstatic=true -Dtests=false -Dbench=false
  -Dfuzz=false "-Dpkg_config_path=$curl/lib/pkgconfig")
# ninja reconfigures by itself when a meson.build changes; setup runs again only when the
# options (the libcurl) do.
stamp=$build_dir/kcm-static-options
if [ ! -f "$build_dir/build.ninja" ]; then
  meson setup "${options[@]}" "$build_dir" "$src" >/dev/null
elif [ "$(cat "$stamp" 2>/dev/null)" != "${options[*]}" ]; then
  meson setup --reconfigure "${options[@]}" "$build_dir" "$src" >/dev/null
fi
echo "${options[*]}" >"$stamp"
ninja -C "$build_dir" -j"$jobs" cli/kcm hook/kcm-hook shim/kcm-runtime >&2

mkdir -p "$out"
for program in cli/kcm hook/kcm-hook shim/kcm-runtime; do
  name=$(basename "$program")
  # Stripped: the symbol tables are a fifth of a static program and nothing reads them.
  install -m 0755 -s "$build_dir/$program" "$out/$name"
  if ! file "$out/$name" | grep -q -E 'statically linked|static-pie linked'; then
    say "$out/$name is not statically linked: $(file -b "$out/$name")"
    exit 1
  fi
done
say "built $out/kcm, $out/kcm-hook, $out/kcm-runtime in $((SECONDS - start)) s"
