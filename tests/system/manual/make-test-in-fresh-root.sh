#!/usr/bin/env bash
# tests/system/manual/make-test-in-fresh-root.sh [COMMIT]
#
# Issue 10 item 1, done for real: a clean clone of COMMIT (default HEAD) in
# a fresh debootstrap minbase Debian 12 root holding only git, make, cmake,
# gcc, pkgconf, python3 and curl runs `make test` as root, under
# systemd-nspawn (not booted: the root's own /usr, the host's kernel and
# network for apt). Anything `make` forgets to install fails here. Then
# `make deb static-client` in the same root, for their package lists.
#
# Not part of `make test-system`: it rebuilds and reruns the whole suite
# (about 20 minutes on 2 cores), which the 15-minute budget cannot hold.
set -euo pipefail
src=$(cd "$(dirname "$0")/../../.." && pwd)
commit=${1:-HEAD}
base=$("$src/tests/system/rootfs.sh" fresh git make cmake gcc pkgconf \
  python3 curl)
work=$src/build/system/fresh-make-test
rm -rf "$work"
cp -a "$base" "$work"
git clone -q --no-local "$src" "$work/root/hush"
git -C "$work/root/hush" checkout -q "$(git -C "$src" rev-parse "$commit")"
command -v systemd-nspawn >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd-container
systemd-nspawn -q --register=no --keep-unit -D "$work" --chdir=/root/hush --setenv=CI=true \
  bash -c 'make test && make deb static-client'
