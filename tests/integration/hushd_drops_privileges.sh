#!/bin/bash
# Started as root with [broker] user/group, hushd binds its sockets and
# opens its audit log first, then runs as that user with no way back.
. "$(dirname "$0")/lib/common.sh"

if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
	echo "ok - skipped: needs root and a user nobody"
	exit 0
fi
group=$(id -gn nobody)
chmod 711 "$work"
mkdir -m 755 "$work/src"
secret='privdrop-secret-0123456789abcdef'
printf '%s' "$secret" > "$work/src/cred"
chmod 644 "$work/src/cred"
cat > "$work/hush.ini" <<EOF
[broker]
user = nobody
group = $group
audit_log = $work/audit.jsonl
[client "gw"]
socket = $work/gw.sock
socket_mode = 0666
allow = cred
[credential "cred"]
source = file:$work/src/cred
EOF
# readable by the run-as user's group: reloads read it after the drop
chgrp "$group" "$work/hush.ini"
chmod 640 "$work/hush.ini"
start_hushd "$work/gw.sock" || exit 1
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
nuid=$(id -u nobody)
[ "$uids" = "$nuid $nuid $nuid $nuid" ] && pass "runs as nobody (real, effective, saved, fs)" || fail "runs as nobody: $uids"
groups=$(awk '/^Groups:/ {print $2}' "/proc/$pid/status")
[ -z "$groups" ] || [ "$groups" = "$(id -g nobody)" ] && pass "no supplementary groups left" || fail "groups: $groups"
core=$(awk '/Max core file size/ {print $5, $6}' "/proc/$pid/limits")
[ "$core" = "0 0" ] && pass "no core dumps (RLIMIT_CORE 0)" || fail "RLIMIT_CORE: $core"
expect_status 0 "serves after dropping" curl -sS -f --unix-socket "$work/gw.sock" http://hush/v1/credentials/cred
[ "$out" = "$secret" ] && pass "the value" || fail "the value"
grep -q '"event":"get"' "$work/audit.jsonl" && pass "audit log still written" || fail "audit log still written"
kill -TERM "$pid"; wait "$pid"; rc=$?
[ "$rc" = 0 ] && pass "exit 0" || fail "exit $rc"
finish
