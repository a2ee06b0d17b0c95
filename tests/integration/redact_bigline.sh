#!/usr/bin/env bash
# A line without a newline, 64 MiB here (HUSH_BIGLINE_MIB=256 for the
# figure in docs/benchmarks.md; it takes longer than a test should under
# the sanitizers): hush-redact stays under 64 MiB of resident memory,
# keeps writing while it reads, and masks the secret in the middle.
set -u
: "${HUSH_REDACT:?}"
# Under AddressSanitizer, freed memory waits in a quarantine (256 MiB by
# default) and counts as resident: compiling the Vectorscan database
# frees a lot at startup. The bound is about what the stream keeps.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
GH=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
mib=${HUSH_BIGLINE_MIB:-64}
half=$((mib / 2 * 1024 * 1024))

gen() {
	head -c $half /dev/zero | tr '\0' 'a'
	printf ' %s ' "$GH"
	head -c $half /dev/zero | tr '\0' 'b'
}
start=$(date +%s)
gen | /usr/bin/time -f '%M' -o "$T/rss" "$HUSH_REDACT" >"$T/out"
st=$?
end=$(date +%s)
rss_kb=$(tail -n 1 "$T/rss")
size=$(stat -c %s "$T/out")

marker='[REDACTED:github-token]'
want=$((2 * half + 2 + ${#marker}))
echo "status $st, max RSS ${rss_kb} KiB, output $size bytes, $((end - start)) s"
fails=0
[ "$st" -eq 0 ] || { echo "FAIL: status $st"; fails=1; }
[ "$rss_kb" -lt 65536 ] || { echo "FAIL: RSS ${rss_kb} KiB >= 64 MiB"; fails=1; }
if grep -q "$GH" "$T/out"; then echo "FAIL: secret in output"; fails=1; fi
grep -q 'REDACTED:github-token' "$T/out" || { echo "FAIL: no marker"; fails=1; }
[ "$size" -eq "$want" ] || { echo "FAIL: output $size bytes, want $want"; fails=1; }
exit $fails
