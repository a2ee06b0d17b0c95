#!/usr/bin/env bash
# How often hush-redact changes text that holds no secret: real logs on this
# machine and Debian changelogs (prose full of URLs and addresses), plus the
# generated benchmark stream, where only lines with injected secrets may
# change. Prints counts; the labelled corpus is checked by test_rules.
#
#   tests/bench/accuracy_redact.sh [BUILD_DIR]
set -eu
B=${1:-build/bench}
R=$B/redact/hush-redact
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for f in /var/log/dpkg.log /var/log/alternatives.log /var/log/fontconfig.log \
    /var/log/apt/history.log /var/log/apt/term.log; do
	[ -r "$f" ] && cat "$f"
done >"$T/logs"
echo "real logs: $(wc -l <"$T/logs") lines, $("$R" --check "$T/logs" | wc -l) changed"

find /usr/share/doc -name 'changelog*.gz' | sort | head -400 |
	xargs zcat 2>/dev/null >"$T/changelogs" || true
echo "changelogs: $(wc -l <"$T/changelogs") lines, $("$R" --check "$T/changelogs" | wc -l) changed"
"$R" --check "$T/changelogs" | head -5

"$B/tests/bench_redact" -q -m 8 -w "$T/gen" -l "$T/lits"
"$R" -l "$T/lits" "$T/gen" >"$T/gen.out"
inj=$(grep -c -E 'ghp_|AKIA|sk-ant-|eyJhbGci|postgres://app:|Authorization: Bearer|xoxb-|sk_live_' "$T/gen" || true)
lit=$(grep -c -F -f "$T/lits" "$T/gen" || true)
chg=$(diff "$T/gen" "$T/gen.out" | grep -c '^<' || true)
bad=$(diff "$T/gen" "$T/gen.out" | grep '^>' | grep -vc 'REDACTED' || true)
echo "generated: $((inj + lit)) lines with secrets, $chg changed, $bad changed without a marker"
