#!/bin/bash
# hush exec: -e puts a value in the environment, -f in a 0400 file in a
# private 0700 directory removed afterwards; the child's output is
# redacted; the exit status and signals pass through.
. "$(dirname "$0")/lib/common.sh"

secret='hushexec7Qm2vX9pL4tR8wZ1nB6yK3'
token='ghp_0123456789abcdefghijklmnopqrstuvwxyzAB'
printf '%s' "$secret" > "$work/key"
printf '%s' "$token" > "$work/gh"
printf 'binary\000value-0123456789' > "$work/bin"
cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
[client "gw"]
socket = $work/gw.sock
allow = key, gh, bin
[credential "bin"]
source = file:$work/bin
[credential "key"]
source = file:$work/key
[credential "gh"]
source = file:$work/gh
EOF
chmod 600 "$work/hush.ini"
start_hushd "$work/gw.sock" || exit 1
export HUSH_SOCKET=$work/gw.sock TMPDIR=$work
unset XDG_RUNTIME_DIR

expect_status 0 "-e: the child sees the value" "$HUSH" exec -e KEY=key -- sh -c '[ "$KEY" = "$0" ] && echo same' "$secret"
[ "$out" = same ] && pass "-e value is exact" || fail "-e value is exact: $out"
expect_status 0 "the child prints the value" "$HUSH" exec -e KEY=key -- sh -c 'echo "key: $KEY"; echo "err: $KEY" >&2'
expect_absent "$secret" "stdout and stderr are redacted"
expect_output "key: [REDACTED:" "stdout: masked in place"
expect_output "err: [REDACTED:" "stderr: masked in place"
expect_status 0 "the bare value" "$HUSH" exec -e KEY=key -- sh -c 'echo "$KEY"'
[ "$out" = "[REDACTED:credential:key]" ] && pass "marker names the credential" || fail "marker names the credential: $out"
expect_status 0 "encodings are masked" "$HUSH" exec -e KEY=key -- sh -c 'printf %s "$KEY" | base64 -w0; echo'
expect_absent "$(printf %s "$secret" | base64 -w0 | head -c 40)" "base64 of the value masked"
expect_status 0 "built-in rules apply" "$HUSH" exec -- sh -c 'echo "token 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"'
expect_absent "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" "a GitHub token not fetched is still masked"

expect_status 0 "-f: a file with the value" "$HUSH" exec -f CREDS=key -- sh -c 'stat -c "%a %s" "$CREDS"; stat -c %a "$(dirname "$CREDS")"; echo "$CREDS" > '"$work/path"'; cmp -s "$CREDS" '"$work/key"' && echo same'
expect_output "400 ${#secret}" "file is 0400 and holds the value"
expect_output "700" "directory is 0700"
expect_output "same" "file content is exact"
p=$(cat "$work/path")
[ -n "$p" ] && [ ! -e "$p" ] && [ ! -e "$(dirname "$p")" ] && pass "file and directory removed after" || fail "file and directory removed after ($p)"

expect_status 7 "exit status passes through" "$HUSH" exec -e KEY=key -- sh -c 'exit 7'
expect_status 127 "missing command: 127" "$HUSH" exec -- /nonexistent/cmd
expect_status 1 "unknown credential: nothing runs" "$HUSH" exec -e X=nope -- sh -c "touch $work/ran"
[ -e "$work/ran" ] && fail "nothing ran" || pass "nothing ran"
expect_status 1 "-e with a NUL byte: refused" "$HUSH" exec -e B=bin -- true
expect_output "NUL" "says why"
expect_status 0 "-f with a NUL byte: fine" "$HUSH" exec -f B=bin -- sh -c 'cmp -s "$B" '"$work/bin"' && echo same'
expect_output same "binary file content exact"
expect_status 2 "no command: usage" "$HUSH" exec -e X=key
expect_status 2 "bad -e: usage" "$HUSH" exec -e =key -- true

# signals are forwarded: TERM to hush reaches the child, which reports it
"$HUSH" exec -e KEY=key -- sh -c 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.05; done' > "$work/sig.out" 2>&1 &
hp=$!
for _ in $(seq 100); do grep -q ready "$work/sig.out" 2>/dev/null && break; sleep 0.05; done
kill -TERM "$hp"
wait "$hp"; rc=$?
[ "$rc" = 42 ] && pass "SIGTERM forwarded, child's status returned" || fail "SIGTERM forwarded (exit $rc)"
grep -q got-term "$work/sig.out" && pass "child saw SIGTERM" || fail "child saw SIGTERM"

# a long stream with the value split across writes is still masked
expect_status 0 "split writes" "$HUSH" exec -e KEY=key -- sh -c 'for i in 1 2 3; do printf "%s" "$(printf %s "$KEY" | head -c 10)"; sleep 0.05; printf "%s\n" "$(printf %s "$KEY" | tail -c +11)"; done'
expect_absent "$secret" "value split across writes masked"

kill -TERM "$pid"; wait "$pid"
out=$(cat "$work/stderr" "$work/audit.jsonl")
expect_absent "$secret" "no secret in hushd's stderr or audit log"
finish
