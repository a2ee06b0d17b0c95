#!/usr/bin/env bash
# tests/system/rootfs.sh NAME [PKG...]
#
# Prints the path of a cached Debian 12 root directory
# build/system/roots/NAME: debootstrap --variant=minbase bookworm from the
# mirror this machine's apt already uses, plus PKG... installed with apt.
#
# Building a root takes minutes and needs the mirror; using it again takes
# nothing, so system tests share roots through this helper. A root is
# rebuilt only when the package list asked for under NAME changes: give
# each package set its own NAME.
#
# Callers must not change the cached root itself: boot it with
# `systemd-nspawn --volatile=overlay` / `--overlay`, copy it (`cp -a`), or
# tar it (`tar -C ROOT -c . | podman import - IMAGE`).
#
# Progress and errors go to stderr (and NAME.log beside the root); stdout
# carries only the path, so `root=$(tests/system/rootfs.sh base curl)`
# works. Exits non-zero with the reason when the root cannot be built.
set -euo pipefail

die() { echo "rootfs.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: $0 NAME [PKG...]"
name=$1; shift
case $name in
  ''|*/*|.*) die "NAME must be a plain directory name, got '$name'" ;;
esac
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot)"

src=$(cd "$(dirname "$0")/../.." && pwd)
top=${HUSH_SYSTEM_DIR:-$src/build/system}
roots=$top/roots
root=$roots/$name
mkdir -p "$roots" "$top/debs"

# The stamp names everything the root depends on; a different package list
# under the same NAME rebuilds it. Bump the version when this script changes
# how roots are made.
pkgs=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ' | sed 's/ *$//')
stamp="rootfs-v1 bookworm minbase pkgs: $pkgs"

# One builder per NAME at a time: two tests asking for the same root wait
# for each other instead of debootstrapping into the same directory.
exec 9>"$roots/.$name.lock"
flock 9

if [ -f "$root/.hush-rootfs" ] && [ "$(cat "$root/.hush-rootfs")" = "$stamp" ]
then
  echo "$root"
  exit 0
fi

apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"
}
if ! command -v debootstrap >/dev/null; then
  echo "rootfs.sh: installing debootstrap" >&2
  apt_get install -y -qq --no-install-recommends debootstrap >&2 ||
    die "cannot install debootstrap"
fi

# The machine's own mirror: the one apt uses for bookworm main. On a
# machine without network beyond that mirror (CI), nothing else works.
policy=$(apt-cache policy 2>/dev/null || true)
mirror_of() {
  printf '%s\n' "$policy" |
    awk -v s="$1/main" '$3 == s && $2 ~ /^https?:/ { print $2; exit }'
}
mirror=${HUSH_MIRROR:-$(mirror_of bookworm)}
mirror=${mirror:-http://deb.debian.org/debian}
updates=$(mirror_of bookworm-updates)
security=$(mirror_of bookworm-security)

log=$roots/$name.log
tmp=$roots/.$name.new
cleanup() {
  for m in proc sys dev/pts; do
    mountpoint -q "$tmp/$m" 2>/dev/null && umount -l "$tmp/$m"
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
cleanup
: >"$log"
echo "rootfs.sh: building $name from $mirror (log: $log)" >&2

if ! debootstrap --variant=minbase --cache-dir="$top/debs" \
     bookworm "$tmp" "$mirror" >>"$log" 2>&1; then
  tail -n 20 "$log" >&2
  die "debootstrap failed for $name"
fi

{
  echo "deb $mirror bookworm main"
  [ -z "$updates" ] || echo "deb $updates bookworm-updates main"
  [ -z "$security" ] || echo "deb $security bookworm-security main"
} >"$tmp/etc/apt/sources.list"

if [ -n "$pkgs" ]; then
  # Services must not start inside the chroot while installing: they would
  # run on the host's kernel outside any container and keep the root busy.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/usr/sbin/policy-rc.d"
  mount -t proc proc "$tmp/proc"
  cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
  # shellcheck disable=SC2086 # the package list is words on purpose
  if ! { chroot "$tmp" apt-get update -qq &&
         chroot "$tmp" env DEBIAN_FRONTEND=noninteractive \
           apt-get install -y -qq --no-install-recommends $pkgs; } \
       >>"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "installing '$pkgs' into $name failed"
  fi
  chroot "$tmp" apt-get clean >>"$log" 2>&1
  rm -f "$tmp/usr/sbin/policy-rc.d"
  umount -l "$tmp/proc"
fi

echo "$stamp" >"$tmp/.hush-rootfs"
rm -rf "$root"
mv "$tmp" "$root"
echo "$root"
