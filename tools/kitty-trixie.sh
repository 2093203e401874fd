#!/usr/bin/env bash
# kitty-trixie.sh - get a recent kitty (Debian trixie's 0.41.x) running on Debian 12 without
# touching the system.
#
# Why: Debian 12 (bookworm) ships kitty 0.26, but unicode-placeholder images (an image placed
# with U=1 and drawn by U+10EEEE cells) only exist since kitty 0.28.  xmedia draws its kitty
# pictures with placeholders, so with bookworm's kitty a developer cannot see what users of a
# current kitty see.  This script fetches trixie's kitty, unpacks it next to trixie's own C
# library, Python, mesa (software GL via llvmpipe) and X libraries into one directory, and puts
# a small launcher in DIR/bin, so it can be used with termshot:
#     PATH=DIR/bin:$PATH /work/shared/tools/termshot --term kitty -- PROGRAM ...
#
# How: a private apt configuration under DIR/apt (trixie sources, its own lists, cache and an
# EMPTY dpkg status, so apt resolves the complete dependency closure) downloads the packages;
# each .deb is unpacked with `dpkg-deb -x` into DIR/root.  kitty is started through trixie's
# dynamic loader (copied to DIR/root/usr/bin/ld.so) with --library-path pointing at DIR/root, so
# only kitty itself sees the trixie libraries; the programs it starts use the system's.
#
# What it does NOT do: it does not write to /etc/apt, does not run `apt-get update` on the
# system's lists, and does not install, upgrade or configure any system package (no dpkg -i, no
# maintainer scripts).  It needs only what bookworm already has: apt, dpkg-deb and the
# debian-archive-keyring.  Everything it creates is inside DIR; `rm -rf DIR` removes it all.
#
# usage: tools/kitty-trixie.sh [DIR]        (default DIR=/tmp/kitty-new, about 450 MB)
# If DIR/bin/kitty already works it only prints where it is.  Only amd64 is supported.
# Env: KITTY_TRIXIE_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

TERMSHOT=/work/shared/tools/termshot
MIRROR=${KITTY_TRIXIE_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# Top-level packages; apt works out everything they depend on.  Besides kitty: the libglvnd
# front ends and mesa's GLX/EGL/DRI back ends (kitty needs OpenGL; on Xvfb that is llvmpipe),
# and the libraries kitty's X11 backend or kitty itself dlopen() rather than link, which are
# therefore not in its Depends (libXrandr, libXinerama, libXi, startup-notification, canberra).
PACKAGES=(
  kitty
  libgl1 libegl1 libglx-mesa0 libegl-mesa0 libgl1-mesa-dri
  libxrandr2 libxinerama1 libxi6 libxcursor1 libx11-xcb1
  libstartup-notification0 libcanberra0
)

case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0;; esac
[[ $# -le 1 ]] || { echo "usage: $0 [DIR]" >&2; exit 2; }
DIR=${1:-/tmp/kitty-new}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)

say() { printf 'kitty-trixie: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# "works" = starts and reports a version with placeholder support (>= 0.28)
kitty_works() {
  local v
  v=$("$DIR/bin/kitty" --version 2>/dev/null) || return 1
  [[ $v =~ ^kitty\ ([0-9]+)\.([0-9]+) ]] || return 1
  (( BASH_REMATCH[1] > 0 || BASH_REMATCH[2] >= 28 ))
}

finish() {
  say "$("$DIR/bin/kitty" --version) at $DIR/bin/kitty"
  echo "$DIR/bin/kitty"
  # shellcheck disable=SC2016  # $PATH is meant literally in the printed command
  printf 'use it with termshot:\n  PATH=%q/bin:$PATH %s --term kitty ...\n' "$DIR" "$TERMSHOT"
}

if kitty_works; then finish; exit 0; fi

arch=$(dpkg --print-architecture)
[[ $arch == amd64 ]] || die "only amd64 is supported (this machine is $arch)"
for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -r $KEYRING ]] || die "$KEYRING missing (package debian-archive-keyring)"
start=$SECONDS

# DIR/root is replaced below; never do that to a directory this script did not make
if [[ -e $DIR/root && ! -e $DIR/root/usr/bin/kitty-bin ]]; then
  die "$DIR/root exists but was not made by this script; choose another DIR"
fi

# --- private apt state ------------------------------------------------------------------
A=$DIR/apt
mkdir -p "$A/etc/apt.conf.d" "$A/etc/preferences.d" "$A/etc/sources.list.d" \
         "$A/state/lists/partial" "$A/cache/archives/partial" "$A/log"
[[ -e $A/state/status ]] || : >"$A/state/status"
[[ -s $A/state/status ]] && die "$A/state/status is not empty; remove $A and rerun"
echo "deb [signed-by=$KEYRING] $MIRROR trixie main" >"$A/etc/sources.list"
# Carry over an apt proxy setting from the system configuration, if there is one.
proxy=$(apt-config dump --format '%v' Acquire::http::Proxy 2>/dev/null || true)
# Dir::Etc::parts/main point away from /etc/apt so that no system apt.conf.d snippet
# (appstream hooks, docker-clean, extra index targets) takes part in these private runs.
cat >"$A/apt.conf" <<EOF
Dir::Etc::main "/dev/null";
Dir::Etc::parts "$A/etc/apt.conf.d";
Dir::Etc::sourcelist "$A/etc/sources.list";
Dir::Etc::sourceparts "$A/etc/sources.list.d";
Dir::Etc::preferences "$A/etc/preferences";
Dir::Etc::preferencesparts "$A/etc/preferences.d";
Dir::State "$A/state";
Dir::State::lists "$A/state/lists";
Dir::State::status "$A/state/status";
Dir::Cache "$A/cache";
Dir::Log "$A/log";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order { "gz"; };
${proxy:+Acquire::http::Proxy \"$proxy\";}
EOF
export APT_CONFIG=$A/apt.conf
# apt fetches as the unprivileged _apt user when run as root; let it write the partial dirs
if [[ $(id -u) == 0 ]] && id _apt >/dev/null 2>&1; then
  chown _apt "$A/state/lists/partial" "$A/cache/archives/partial"
fi

say "updating the private trixie package lists"
apt-get -q update >"$A/log/update.log" 2>&1 || { cat "$A/log/update.log" >&2; die "apt-get update failed"; }

# --- resolve and download ---------------------------------------------------------------
# With an empty status file nothing counts as installed, so a simulated install lists the
# whole closure: "Inst NAME (VERSION RELEASE [ARCH])".
sim=$(apt-get -s install "${PACKAGES[@]}" 2>"$A/log/resolve.err") \
  || { cat "$A/log/resolve.err" >&2; die "dependency resolution failed"; }
declare -A want=()
while read -r kw name ver _; do
  if [[ $kw == Inst ]]; then want[$name]=${ver#(}; fi
done <<<"$sim"
[[ ${#want[@]} -gt 0 && -n ${want[kitty]:-} ]] || die "apt did not resolve kitty (see $A/log/resolve.err)"
say "kitty ${want[kitty]}: ${#want[@]} packages; downloading"
apt-get -q -y install --download-only "${PACKAGES[@]}" >"$A/log/download.log" 2>&1 \
  || { tail -20 "$A/log/download.log" >&2; die "download failed"; }

# --- unpack exactly the resolved set (the cache may also hold older versions) -----------
stage=$DIR/root.partial
rm -rf "$stage"
mkdir -p "$stage"
declare -A done_=()
for deb in "$A"/cache/archives/*.deb; do
  # shellcheck disable=SC2016  # ${Package} is dpkg-deb's format syntax
  { read -r p; read -r v; } < <(dpkg-deb --showformat='${Package}\n${Version}\n' -W "$deb")
  [[ ${want[$p]:-} == "$v" && -z ${done_[$p]:-} ]] || continue
  dpkg-deb -x "$deb" "$stage"
  done_[$p]=1
done
for p in "${!want[@]}"; do
  [[ -n ${done_[$p]:-} ]] || die "package $p ${want[$p]} was not downloaded"
done

# --- launcher ---------------------------------------------------------------------------
# The loader must be a real file in usr/bin: kitty's launcher finds ../lib/kitty, and the
# embedded Python finds ../lib/python3.X, relative to /proc/self/exe, which is the loader.
cp -L "$stage/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$stage/usr/bin/ld.so"
mv "$stage/usr/bin/kitty" "$stage/usr/bin/kitty-bin"
cat >"$stage/usr/bin/kitty" <<'EOF'
#!/bin/sh
# Launcher written by tools/kitty-trixie.sh: runs Debian trixie's kitty with trixie's loader and
# libraries from this tree.  --library-path (unlike LD_LIBRARY_PATH) applies to this process only,
# so shells and programs started inside kitty keep using the system libraries.
usr=$(dirname "$(dirname "$(readlink -f "$0")")")
lib=$usr/lib/x86_64-linux-gnu
export LIBGL_DRIVERS_PATH="$lib/dri"
export __EGL_VENDOR_LIBRARY_DIRS="$usr/share/glvnd/egl_vendor.d"
run() { exec "$usr/bin/ld.so" --library-path "$lib" --argv0 kitty "$usr/bin/kitty-bin" "$@"; }
case "${1-}" in
  # +kitten/+runpy, remote control and info options take no -o settings
  +*|@*|--version|-v|--help|-h) run "$@";;
  # "env NAME" without a value removes NAME from the environment of kitty's children
  *) run -o env=LIBGL_DRIVERS_PATH -o env=__EGL_VENDOR_LIBRARY_DIRS "$@";;
esac
EOF
chmod 755 "$stage/usr/bin/kitty"

rm -rf "$DIR/root"
mv "$stage" "$DIR/root"
mkdir -p "$DIR/bin"
ln -sfn ../root/usr/bin/kitty "$DIR/bin/kitty"
ln -sfn ../root/usr/bin/kitten "$DIR/bin/kitten"

kitty_works || die "$DIR/bin/kitty does not start; try: $DIR/bin/kitty --version"
say "done in $((SECONDS - start)) s"
finish
