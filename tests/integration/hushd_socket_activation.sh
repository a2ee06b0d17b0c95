#!/bin/bash
# systemd socket activation: a socket passed in LISTEN_FDS is matched to
# its client by FileDescriptorName=, served, and left in place at exit
# (it is systemd's, not hushd's).
. "$(dirname "$0")/lib/common.sh"

if ! command -v systemd-socket-activate >/dev/null; then
	echo "ok - skipped: systemd-socket-activate is not installed"
	exit 0
fi
secret='activation-secret-0123456789abcdef'
printf '%s' "$secret" > "$work/cred"
cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
[client "gw"]
socket = $work/gw.sock
allow = cred
[client "own"]
socket = $work/own.sock
allow = cred
[credential "cred"]
source = file:$work/cred
EOF
chmod 600 "$work/hush.ini"
systemd-socket-activate -l "$work/gw.sock" --fdname=gw \
	"$HUSHD" -c "$work/hush.ini" 2>"$work/stderr" &
pid=$!
for _ in $(seq 100); do [ -S "$work/gw.sock" ] && break; sleep 0.05; done
expect_status 0 "activated socket serves" curl -sS -f --unix-socket "$work/gw.sock" http://hush/v1/credentials/cred
[ "$out" = "$secret" ] && pass "activated socket: the value" || fail "activated socket: the value"
for _ in $(seq 100); do [ -S "$work/own.sock" ] && break; sleep 0.05; done
expect_status 0 "a client without a passed fd gets its own socket" curl -sS -f --unix-socket "$work/own.sock" http://hush/v1/credentials/cred
kill -TERM "$pid"; wait "$pid"; rc=$?
[ "$rc" = 0 ] && pass "exit 0" || fail "exit $rc"
[ -S "$work/gw.sock" ] && pass "systemd's socket left in place" || fail "systemd's socket left in place"
[ -e "$work/own.sock" ] && fail "own socket removed" || pass "own socket removed"
finish
