#!/bin/bash
# Privilege drop that still works (issue 8, items 6 and 11): started as
# root with [broker] user = a user created here, hushd is not dumpable
# after the drop, creates its socket directories for that user, reloads
# (a revocation bites), reopens the audit log after a logrotate-style
# rename, applies socket mode changes, and leaves no socket behind at
# exit, even in a directory root owns, even after kill -9. --check
# reports what that user cannot read.
. "$(dirname "$0")/lib/common.sh"

if [ "$(id -u)" != 0 ]; then
	echo "ok - skipped: needs root (creates users and groups)"
	exit 0
fi
grp=hushpg$$
sgrp=hushps$$
usr=hushpu$$
old_dumpable=$(cat /proc/sys/fs/suid_dumpable)
cleanup() {
	echo "$old_dumpable" > /proc/sys/fs/suid_dumpable
	[ -n "${pid:-}" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid"
	id "$usr" >/dev/null 2>&1 && retry userdel "$usr"
	getent group "$sgrp" >/dev/null && retry groupdel "$sgrp"
	getent group "$grp" >/dev/null && retry groupdel "$grp"
	rm -rf "$work"
}
trap cleanup EXIT
# useradd and groupadd fail while another test holds /etc/passwd's lock
retry() { for _ in $(seq 50); do "$@" 2>/dev/null && return 0; sleep 0.1; done; "$@"; }
retry groupadd "$grp" && retry groupadd "$sgrp" || exit 1
retry useradd -M -N -g "$grp" -s /usr/sbin/nologin "$usr" || exit 1
uid=$(id -u "$usr")
chmod 711 "$work"
mkdir -m 755 "$work/etc" "$work/src" "$work/log" "$work/rootdir"
secret='privdrop-keeps-0123456789abcdef'
printf '%s' "$secret" > "$work/src/cred"
printf '%s' "other-secret-0123456789abcdef" > "$work/src/other"
chgrp "$grp" "$work/src/cred" "$work/src/other"
chmod 640 "$work/src/cred" "$work/src/other"
conf() {	# conf ALLOW MODE
	cat > "$work/etc/hush.ini" <<EOC
[broker]
user = $usr
group = $grp
audit_log = $work/log/audit.jsonl
[client "gw"]
socket = $work/run/hush/gw/hush.sock
socket_mode = $2
socket_group = $sgrp
allow = $1
[client "rootdir"]
socket = $work/rootdir/hush.sock
socket_mode = 0600
allow = cred
[credential "cred"]
source = file:$work/src/cred
[credential "other"]
source = file:$work/src/other
EOC
	chgrp "$grp" "$work/etc/hush.ini"
	chmod 640 "$work/etc/hush.ini"
}
conf "cred, other" 0660
reloads() {	# reloads N: waits for the Nth reload line of the audit logs
	for _ in $(seq 200); do
		[ "$(cat "$work"/log/audit.jsonl* 2>/dev/null | grep -c '"event":"reload"')" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
get() { curl -s -o /dev/null -w '%{http_code}' --unix-socket "$1" "http://h/v1/credentials/$2"; }

# suid_dumpable 1 is what makes setuid() leave a process dumpable (and
# ptrace-able by the new user); 0 would hide the bug.
echo 1 > /proc/sys/fs/suid_dumpable
"$HUSHD" -c "$work/etc/hush.ini" 2>>"$work/stderr" &
pid=$!
for _ in $(seq 200); do
	[ -S "$work/run/hush/gw/hush.sock" ] && curl -s --unix-socket "$work/run/hush/gw/hush.sock" http://h/v1/health >/dev/null && break
	sleep 0.05
done
echo "$old_dumpable" > /proc/sys/fs/suid_dumpable
if ! kill -0 "$pid" 2>/dev/null; then
	fail "hushd starts"; cat "$work/stderr"; pid=; finish; exit 1
fi
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
[ "$uids" = "$uid $uid $uid $uid" ] && pass "runs as $usr" || fail "runs as $usr: $uids"
owner=$(stat -c %u "/proc/$pid/status")
[ "$owner" = 0 ] && pass "not dumpable after the drop (/proc/PID is root's)" || fail "dumpable after the drop: /proc/$pid/status owned by uid $owner"

st=$(stat -c '%U:%G %a' "$work/run/hush")
[ "$st" = "$usr:$grp 755" ] && pass "created parent directory is $usr:$grp 0755" || fail "parent directory: $st"
st=$(stat -c '%U:%G %a' "$work/run/hush/gw")
[ "$st" = "$usr:$sgrp 750" ] && pass "created socket directory is $usr:$sgrp 0750" || fail "socket directory: $st"
st=$(stat -c '%U:%G %a' "$work/run/hush/gw/hush.sock")
[ "$st" = "$usr:$sgrp 660" ] && pass "socket is $usr:$sgrp 0660" || fail "socket: $st"
st=$(stat -c '%U %a' "$work/log/audit.jsonl")
[ "$st" = "$usr 600" ] && pass "audit log handed to $usr, 0600" || fail "audit log: $st"
[ "$(get "$work/run/hush/gw/hush.sock" other)" = 200 ] && pass "serves before the reload" || fail "serves before the reload"

# Revocation and a socket mode change, after the drop.
conf "cred" 0600
kill -HUP "$pid"
reloads 1 || fail "reload audited"
grep '"event":"reload"' "$work/log/audit.jsonl" | tail -1 | grep -q '"result":"ok"' && pass "reload after the drop: ok" || { fail "reload after the drop: ok"; cat "$work/stderr"; }
[ "$(get "$work/run/hush/gw/hush.sock" other)" = 404 ] && pass "the revoked credential is refused" || fail "the revoked credential is refused"
[ "$(get "$work/run/hush/gw/hush.sock" cred)" = 200 ] && pass "the kept credential is served" || fail "the kept credential is served"
st=$(stat -c '%a' "$work/run/hush/gw/hush.sock")
[ "$st" = 600 ] && pass "socket_mode change applied after the drop" || fail "socket_mode after reload: $st"

# logrotate with "create" then postrotate's SIGHUP: the new file is
# written from then on, the rotated one gets nothing more.
mv "$work/log/audit.jsonl" "$work/log/audit.jsonl.1"
install -m 600 -o "$usr" -g "$grp" /dev/null "$work/log/audit.jsonl"
kill -HUP "$pid"
reloads 2 || fail "second reload audited"
get "$work/run/hush/gw/hush.sock" cred >/dev/null
sleep 0.3
grep -q '"event":"get"' "$work/log/audit.jsonl" && pass "after rotation, requests go to the new audit file" || { fail "after rotation, requests go to the new audit file"; cat "$work/stderr"; }
n=$(grep -c '"event":"get"' "$work/log/audit.jsonl.1")
get "$work/run/hush/gw/hush.sock" cred >/dev/null
sleep 0.3
[ "$(grep -c '"event":"get"' "$work/log/audit.jsonl.1")" = "$n" ] && pass "the rotated file gets nothing more" || fail "the rotated file gets nothing more"

# Without "create", in a directory the run-as user owns: hushd makes
# the new file itself.
chown "$usr" "$work/log"
mv "$work/log/audit.jsonl" "$work/log/audit.jsonl.2"
kill -HUP "$pid"
reloads 3 || fail "third reload audited"
st=$(stat -c '%U %a' "$work/log/audit.jsonl" 2>&1)
[ "$st" = "$usr 600" ] && pass "reopen creates the audit file ($usr, 0600)" || fail "reopen creates the audit file: $st"

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ "$rc" = 0 ] && pass "exit 0" || fail "exit $rc"
grep -q '"event":"stop"' "$work/log/audit.jsonl" && pass "stop audited in the reopened file" || fail "stop audited"
for _ in $(seq 100); do [ -e "$work/rootdir/hush.sock" ] || break; sleep 0.05; done
[ -e "$work/run/hush/gw/hush.sock" ] && fail "socket in its own directory removed at exit" || pass "socket in its own directory removed at exit"
[ -e "$work/rootdir/hush.sock" ] && fail "socket in a root-owned directory removed at exit" || pass "socket in a root-owned directory removed at exit"

# kill -9: nothing of hushd runs its cleanup, the janitor still does.
"$HUSHD" -c "$work/etc/hush.ini" 2>>"$work/stderr" &
pid=$!
for _ in $(seq 200); do [ -S "$work/rootdir/hush.sock" ] && break; sleep 0.05; done
sleep 0.3
jpid=$(pgrep -P "$pid" -x hushd-janitor)
[ -n "$jpid" ] && [ "$(stat -c %u "/proc/$jpid")" = 0 ] && pass "one janitor, root's" || fail "one janitor, root's: '$jpid'"
kill -KILL "$pid"; wait "$pid" 2>/dev/null; pid=
for _ in $(seq 100); do [ -e "$work/rootdir/hush.sock" ] || break; sleep 0.05; done
[ -e "$work/rootdir/hush.sock" ] && fail "after kill -9, the root-owned directory's socket is removed" || pass "after kill -9, the root-owned directory's socket is removed"
for _ in $(seq 100); do [ -n "$jpid" ] && [ -d "/proc/$jpid" ] && [ "$(awk '/^State:/ {print $2}' "/proc/$jpid/status" 2>/dev/null)" != Z ] || break; sleep 0.05; done
[ -n "$jpid" ] && [ -d "/proc/$jpid" ] && [ "$(awk '/^State:/ {print $2}' "/proc/$jpid/status" 2>/dev/null)" != Z ] && fail "the janitor ends with hushd" || pass "the janitor ends with hushd"

# The same under the capabilities contrib/systemd/hushd.service leaves
# root (CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_CHOWN
# CAP_DAC_READ_SEARCH): no CAP_DAC_OVERRIDE or CAP_FOWNER to bind in, or
# chmod in, the run-as user's directories. A socket left in such a
# directory by kill -9 is stale and replaced.
caps="-all,+setuid,+setgid,+chown,+dac_read_search"
rounds="1 2 3"
if ! setpriv --bounding-set "$caps" true 2>/dev/null; then
	echo "ok - skipped: setpriv cannot bound capabilities here (no CAP_SETPCAP)"
	rounds=
fi
rm -rf "$work/run"
for round in $rounds; do
	setpriv --bounding-set "$caps" "$HUSHD" -c "$work/etc/hush.ini" 2>>"$work/stderr" &
	pid=$!
	for _ in $(seq 200); do
		curl -s --unix-socket "$work/run/hush/gw/hush.sock" http://h/v1/health >/dev/null && break
		sleep 0.05
	done
	[ "$(get "$work/run/hush/gw/hush.sock" cred)" = 200 ] && pass "bounded capabilities, start $round: serves" || { fail "bounded capabilities, start $round: serves"; tail -5 "$work/stderr"; }
	if [ "$round" = 1 ]; then
		kill -KILL "$pid"; wait "$pid" 2>/dev/null; pid=
		for _ in $(seq 100); do [ -e "$work/rootdir/hush.sock" ] || break; sleep 0.05; done
		continue
	fi
	conf "cred" "06${round}0"
	kill -HUP "$pid"
	reloads $((round + 2)) || fail "bounded capabilities: reload audited"
	st=$(stat -c '%a' "$work/run/hush/gw/hush.sock")
	[ "$st" = "6${round}0" ] && pass "bounded capabilities, start $round: socket_mode change applied" || fail "bounded capabilities: socket mode $st"
	kill -TERM "$pid"; wait "$pid"; pid=
	for _ in $(seq 100); do [ -e "$work/rootdir/hush.sock" ] || break; sleep 0.05; done
	[ -e "$work/run/hush/gw/hush.sock" ] || [ -e "$work/rootdir/hush.sock" ] && fail "bounded capabilities, start $round: sockets removed at exit" || pass "bounded capabilities, start $round: sockets removed at exit"
done

# --check as root reports what the run-as user cannot read: a warning,
# not a failure (the source's owner could otherwise keep hushd from
# starting or reloading; hushd_missing_source_not_fatal.sh).
chmod 600 "$work/src/other"
expect_status 0 "--check: a source the run-as user cannot read is a warning" "$HUSHD" --check -c "$work/etc/hush.ini"
expect_output "hush.ini:17:" "--check: names the source's line"
expect_output "as user $usr" "--check: says whose view failed"
expect_output "answered with 500" "--check: says what the daemon will do"
expect_absent "other-secret" "--check: no secret in the message"
chmod 640 "$work/src/other"
chmod 600 "$work/etc/hush.ini"
expect_status 78 "--check: a configuration the run-as user cannot read fails" "$HUSHD" --check -c "$work/etc/hush.ini"
expect_output "hush.ini: Permission denied" "--check: says the configuration is unreadable"
chmod 640 "$work/etc/hush.ini"
expect_status 0 "--check: ok once the run-as user can read everything" "$HUSHD" --check -c "$work/etc/hush.ini"
finish
