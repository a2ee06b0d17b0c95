#!/bin/bash
# hushd's own stderr goes through the redaction engine with every value it
# served registered: a log line that happened to hold a value is masked.
. "$(dirname "$0")/lib/common.sh"

# A value equal to a line hushd writes ("configuration reloaded") shows
# that the line is masked once the value has been served.
printf 'configuration reloaded' > "$work/val"
cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
[client "gw"]
socket = $work/gw.sock
allow = logtest
[credential "logtest"]
source = file:$work/val
EOF
chmod 600 "$work/hush.ini"
start_hushd "$work/gw.sock" || exit 1
expect_status 0 "value served" curl -sS -f --unix-socket "$work/gw.sock" http://hush/v1/credentials/logtest
kill -HUP "$pid"
for _ in $(seq 100); do grep -q 'REDACTED\|reloaded' "$work/stderr" && break; sleep 0.05; done
kill -TERM "$pid"; wait "$pid"
out=$(cat "$work/stderr")
expect_output "hushd: [REDACTED:credential:logtest]" "the line holding the value is masked"
expect_absent "configuration reloaded" "the value never reaches stderr"
expect_output "listening on" "other lines pass unchanged"
finish
