#!/usr/bin/env bash
# Golden files: tests/golden/redact/NAME.in through hush-redact (built-in
# rules, default format) must give NAME.out byte for byte, whole and fed
# through a pipe one small write at a time.
set -u
: "${HUSH_REDACT:?}" "${HUSH_SRC:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
for in in "$HUSH_SRC"/tests/golden/redact/*.in; do
	name=$(basename "$in" .in)
	want=${in%.in}.out
	"$HUSH_REDACT" "$in" >"$T/out"
	if cmp -s "$T/out" "$want"; then echo "ok: $name"; else
		echo "FAIL: $name"; diff "$want" "$T/out" | head -5; fails=$((fails + 1)); fi
	python3 -c '
import os, sys, time
data = open(sys.argv[1], "rb").read()
for i in range(0, len(data), 7):
    os.write(1, data[i:i + 7])
' "$in" | "$HUSH_REDACT" >"$T/out2"
	if cmp -s "$T/out2" "$want"; then echo "ok: $name (7-byte writes)"; else
		echo "FAIL: $name (7-byte writes)"; fails=$((fails + 1)); fi
done
exit $((fails > 0))
