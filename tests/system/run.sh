#!/usr/bin/env bash
# tests/system/run.sh: `make test-system` runs every tests/system/*.sh
# (but this runner and the rootfs.sh helper), one after the other: they
# boot containers and the machine has 2 cores.
#
# A test exits 0 when it passed, 77 when this machine truly cannot run
# what it needs (it prints why), anything else when it failed. Each test's
# output goes to build/system/logs/NAME.log; a failure prints its tail.
# Environment for the tests: HUSH_SRC (the tree), HUSH_BUILD (its build
# directory, holding deb/ and static/ from `make deb static-client`).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export HUSH_SRC=${HUSH_SRC:-$(cd "$here/../.." && pwd)}
export HUSH_BUILD=${HUSH_BUILD:-$HUSH_SRC/build}
logs=$HUSH_BUILD/system/logs
mkdir -p "$logs"

pass=0 fail=0 skip=0
failed=()
for t in "$here"/*.sh; do
  name=$(basename "$t" .sh)
  case $name in run|rootfs) continue ;; esac
  [ $# -eq 0 ] || printf '%s\n' "$@" | grep -qx "$name" || continue
  start=$(date +%s)
  # 15 minutes is the whole target's budget: a hung test must not eat CI
  timeout --kill-after=30 900 bash "$t" >"$logs/$name.log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  case $rc in
    0) pass=$((pass + 1)); echo "PASS $name (${secs}s)" ;;
    77) skip=$((skip + 1))
        echo "SKIP $name: $(grep '^SKIP' "$logs/$name.log" | tail -n 1)" ;;
    *) fail=$((fail + 1)); failed+=("$name")
       echo "FAIL $name (exit $rc, ${secs}s); last lines of $logs/$name.log:"
       tail -n 40 "$logs/$name.log" | sed 's/^/    /' ;;
  esac
done

echo "system: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
[ $((pass + skip)) -gt 0 ] || { echo "no system test ran"; exit 1; }
