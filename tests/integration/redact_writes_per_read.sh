#!/usr/bin/env bash
# hush-redact writes what one read produced in one writev, not a write per
# changed line: at most as many writes to stdout as reads from stdin (plus
# one at the end), from a file and from a pipe, on a stream whose secrets
# sit between long clean runs. A regular file never waits, so it is read
# without an idle poll. The output is still the masked stream, byte for
# byte. (Counts system calls with strace; nothing here is timed.)
set -u
: "${HUSH_REDACT:?}"
# LeakSanitizer cannot run under strace (it ptraces the process itself).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
GH=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

# 8 MiB: a secret every 1000 lines (about 70 KiB of clean text apart).
python3 - "$T/in" "$T/want" "$GH" <<'PY'
import sys
inp, want, gh = sys.argv[1], sys.argv[2], sys.argv[3]
with open(inp, "w") as f, open(want, "w") as w:
    i = 0
    while f.tell() < 8 << 20:
        line = "Nov 30 06:%02d:%02d host app[%d]: request %d served in %d ms" % (
            i // 60 % 60, i % 60, 1000 + i % 97, i, i % 13)
        if i % 1000 == 999:
            f.write(line + " token=" + gh + "\n")
            w.write(line + " token=[REDACTED:github-token]\n")
        else:
            f.write(line + "\n")
            w.write(line + "\n")
        i += 1
PY

fails=0
check() {	# check NAME: counts in $T/trace, output in $T/out
	local reads writes polls
	reads=$(grep -c '^read(0,' "$T/trace")
	writes=$(grep -cE '^writev?\(1,' "$T/trace")
	polls=$(grep -c '^poll(' "$T/trace")
	echo "$1: $reads reads from stdin, $writes writes to stdout, $polls polls"
	cmp -s "$T/out" "$T/want" || { echo "FAIL: $1: output differs"; fails=1; }
	[ "$writes" -le $((reads + 1)) ] ||
		{ echo "FAIL: $1: more writes than reads"; fails=1; }
	[ "$2" = pipe ] || [ "$polls" -eq 0 ] ||
		{ echo "FAIL: $1: polls while reading a regular file"; fails=1; }
}
strace -o "$T/trace" -e trace=read,write,writev,poll "$HUSH_REDACT" \
    <"$T/in" >"$T/out" || { echo "FAIL: status $?"; fails=1; }
check "from a file" file
cat "$T/in" | strace -o "$T/trace" -e trace=read,write,writev,poll \
    "$HUSH_REDACT" >"$T/out" || { echo "FAIL: status $?"; fails=1; }
check "from a pipe" pipe
exit $fails
