#!/bin/bash
# With a fingerprint_key_file, the fp of an audit line is the {fp} of the
# redaction marker for the same value: a masked log line can be traced to
# the request that served the value, without the value.
. "$(dirname "$0")/lib/common.sh"

secret='fp-trace-secret-0123456789abcdefghij'
printf '%s' "$secret" > "$work/cred"
head -c 32 /dev/urandom > "$work/fp.key"
chmod 600 "$work/fp.key"
cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
[redact]
format = [REDACTED:{rule}:{fp}]
fingerprint_key_file = $work/fp.key
[client "gw"]
socket = $work/gw.sock
allow = cred
[credential "cred"]
source = file:$work/cred
EOF
chmod 600 "$work/hush.ini"
start_hushd "$work/gw.sock" || exit 1
expect_status 0 "served" curl -sS -f --unix-socket "$work/gw.sock" http://hush/v1/credentials/cred
kill -TERM "$pid"; wait "$pid"
fp=$(sed -n 's/.*"credential":"cred".*"fp":"\([0-9a-f]*\)".*/\1/p' "$work/audit.jsonl" | head -1)
[ ${#fp} = 12 ] && pass "audit fp present" || fail "audit fp present ($fp)"
expect_status 0 "hush-redact masks the value" sh -c "echo 'token $secret here' | '$HUSH_REDACT' -c '$work/hush.ini'"
expect_output "[REDACTED:credential:cred:$fp]" "the marker's fp is the audit fp"
expect_absent "$secret" "the value is gone"
finish
