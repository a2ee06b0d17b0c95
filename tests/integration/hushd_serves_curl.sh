#!/bin/bash
# curl --unix-socket and hush get/list against a real hushd; socket files:
# mode, stale replaced, live refused, removed on SIGTERM.
. "$(dirname "$0")/lib/common.sh"

secret='sk-ant-api03-curltestsecret-0123456789abcdef'
printf '%s' "$secret" > "$work/claude"
mkdir -m 700 "$work/gw"
cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
[client "gw"]
socket = $work/gw/hush.sock
socket_mode = 0640
allow = claude
[credential "claude"]
source = file:$work/claude
content_type = text/plain
EOF
chmod 600 "$work/hush.ini"
sock=$work/gw/hush.sock

# a stale socket file from a dead listener is replaced
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock"
[ -S "$sock" ] && pass "stale socket file in place" || fail "stale socket file in place"
start_hushd "$sock" || exit 1
pass "hushd starts over a stale socket"

mode=$(stat -c %a "$sock")
[ "$mode" = 640 ] && pass "socket_mode applied" || fail "socket_mode applied ($mode)"

expect_status 0 "curl gets the credential" curl -sS -f --unix-socket "$sock" http://hush/v1/credentials/claude
[ "$out" = "$secret" ] && pass "curl: the exact bytes" || fail "curl: the exact bytes"
expect_status 0 "curl -i" curl -sS -i --unix-socket "$sock" http://hush/v1/credentials/claude
expect_output "Cache-Control: no-store" "no-store header"
expect_output "Content-Type: text/plain" "Content-Type from config"
expect_status 22 "curl -f on an unknown name fails" curl -sS -f --unix-socket "$sock" http://hush/v1/credentials/nope
expect_status 0 "curl list" curl -sS --unix-socket "$sock" http://hush/v1/credentials
[ "$out" = '{"credentials":["claude"]}' ] && pass "list body" || fail "list body: $out"
expect_status 0 "curl health" curl -sS --unix-socket "$sock" http://hush/v1/health
expect_output '{"status":"ok"}' "health body"

expect_status 0 "hush get to stdout" "$HUSH" get claude -s "$sock"
[ "$out" = "$secret" ] && pass "hush get: the exact bytes" || fail "hush get: the exact bytes"
expect_status 0 "HUSH_SOCKET is used" env HUSH_SOCKET="$sock" "$HUSH" get claude
[ "$out" = "$secret" ] && pass "HUSH_SOCKET: the bytes" || fail "HUSH_SOCKET: the bytes"
expect_status 0 "hush get -o -m" "$HUSH" get claude -s "$sock" -o "$work/out.cred" -m 0640
[ "$(cat "$work/out.cred")" = "$secret" ] && pass "-o file holds the value" || fail "-o file holds the value"
[ "$(stat -c %a "$work/out.cred")" = 640 ] && pass "-m mode applied" || fail "-m mode applied"
expect_status 0 "hush get -o default mode" "$HUSH" get claude -s "$sock" -o "$work/out2.cred"
[ "$(stat -c %a "$work/out2.cred")" = 600 ] && pass "-o default mode 0600" || fail "-o default mode 0600"
ls "$work" | grep -q hush- && fail "no temp file left" || pass "no temp file left"
expect_status 1 "hush get unknown: exit 1" "$HUSH" get nope -s "$sock"
expect_output "404" "hush get unknown: says 404"
expect_status 1 "hush get, no socket: exit 1" "$HUSH" get claude -s "$work/none.sock"
expect_status 2 "hush get without a name: usage" "$HUSH" get
expect_status 0 "hush list" "$HUSH" list -s "$sock"
[ "$out" = claude ] && pass "hush list prints names" || fail "hush list prints names: $out"

# a second hushd on the same socket refuses to start, clearly
expect_status 1 "second hushd refuses a live socket" "$HUSHD" -c "$work/hush.ini"
expect_output "in use by a running listener" "the message says why"
expect_status 0 "first hushd still serves" curl -sS -f --unix-socket "$sock" http://hush/v1/health

kill -TERM "$pid"
wait "$pid"; rc=$?
[ "$rc" = 0 ] && pass "SIGTERM: exit 0" || fail "SIGTERM: exit $rc"
[ -e "$sock" ] && fail "SIGTERM: socket file removed" || pass "SIGTERM: socket file removed"
out=$(cat "$work/stderr" "$work/audit.jsonl")
expect_absent "$secret" "no secret in stderr or audit log"
expect_output '"event":"stop"' "stop audited"

# a socket path that does not fit sun_path is an error, never truncated
long=$work/$(printf 'd%.0s' $(seq 120))
mkdir -p "$long"
sed "s|^socket = .*|socket = $long/hush.sock|" "$work/hush.ini" > "$work/long.ini"
chmod 600 "$work/long.ini"
expect_status 78 "socket path too long: config error" "$HUSHD" -c "$work/long.ini"
ls "$long" | grep -q . && fail "nothing bound for a long path" || pass "nothing bound for a long path"
finish
