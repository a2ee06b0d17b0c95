#!/bin/bash
# Socket directories (issue 8, item 1): hushd creates missing ones with
# the owner, group and mode it documents, refuses a directory that is a
# symbolic link, sits below one, is writable by group or others or is
# owned by anyone but root or the run-as user (FILE:LINE, at start and at
# reload), and never follows a link planted at a socket path on SIGHUP.
. "$(dirname "$0")/lib/common.sh"

if [ "$(id -u)" != 0 ]; then
	echo "ok - skipped: needs root (creates a user and a group)"
	exit 0
fi
grp=hushsd$$
usr=hushsu$$
cleanup() {
	[ -n "${pid:-}" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid"
	userdel "$usr" 2>/dev/null
	groupdel "$grp" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
groupadd "$grp" || exit 1
useradd -M -N -g "$grp" -s /usr/sbin/nologin "$usr" || exit 1
printf 'dir-secret-0123456789abcdef' > "$work/cred"

conf() {	# conf SOCKET [MODE [GROUP-LINE]]
	cat > "$work/hush.ini" <<EOC
[broker]
audit_log = $work/audit.jsonl
[client "gw"]
socket = $1
socket_mode = ${2:-0660}
${3:-}
allow = cred
[credential "cred"]
source = file:$work/cred
EOC
	chmod 600 "$work/hush.ini"
}

# refused DESC NEEDLE: hushd must exit 1 before listening, saying
# hush.ini:4 (the socket line) and NEEDLE.
refused() {
	out=$(timeout 20 "$HUSHD" -c "$work/hush.ini" 2>&1); got=$?
	if [ "$got" = 1 ]; then pass "$1: refused"
	else fail "$1: refused (exit $got)"; printf '%s\n' "$out" | sed 's/^/    /'; fi
	expect_output "hush.ini:4:" "$1: the message names hush.ini:4"
	expect_output "$2" "$1: the message says why"
}

reloads() {	# reloads N: waits for the Nth reload line of the audit log
	for _ in $(seq 200); do
		[ "$(grep -c '"event":"reload"' "$work/audit.jsonl" 2>/dev/null)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# 1. Missing directories are created: above the socket's own, owned by
# the run-as user (root here) and 0755; the socket's own with group
# socket_group and a mode derived from socket_mode.
conf "$work/run/a/gw/hush.sock" 0660 "socket_group = $grp"
start_hushd "$work/run/a/gw/hush.sock" || exit 1
st=$(stat -c '%U:%G %a' "$work/run/a")
[ "$st" = "root:root 755" ] && pass "a missing parent is created root:root 0755" || fail "parent: $st"
st=$(stat -c '%U:%G %a' "$work/run/a/gw")
[ "$st" = "root:$grp 750" ] && pass "the socket directory is created root:$grp 0750 for socket_mode 0660" || fail "socket dir: $st"
st=$(stat -c '%U:%G %a' "$work/run/a/gw/hush.sock")
[ "$st" = "root:$grp 660" ] && pass "the socket is root:$grp 0660" || fail "socket: $st"
expect_status 0 "serves on the created directory" curl -sS -f --unix-socket "$work/run/a/gw/hush.sock" http://h/v1/credentials/cred
kill -TERM "$pid"; wait "$pid"; pid=
[ -e "$work/run/a/gw/hush.sock" ] && fail "socket removed at exit" || pass "socket removed at exit"
rm -rf "$work/run"

conf "$work/run2/hush.sock" 0666
start_hushd "$work/run2/hush.sock" || exit 1
st=$(stat -c '%a' "$work/run2")
[ "$st" = 755 ] && pass "socket_mode 0666 gives a 0755 directory" || fail "0666 dir: $st"
kill -TERM "$pid"; wait "$pid"; pid=
conf "$work/run3/hush.sock" 0600
start_hushd "$work/run3/hush.sock" || exit 1
st=$(stat -c '%a' "$work/run3")
[ "$st" = 700 ] && pass "socket_mode 0600 gives a 0700 directory" || fail "0600 dir: $st"
kill -TERM "$pid"; wait "$pid"; pid=

# 2. Unsafe directories are refused.
mkdir -m 700 "$work/real"
ln -s real "$work/link"
conf "$work/link/hush.sock"
refused "a socket directory that is a symbolic link" "symbolic link"
[ -e "$work/real/hush.sock" ] && fail "nothing bound through the link" || pass "nothing bound through the link"
conf "$work/link/sub/hush.sock"
refused "a socket directory below a symbolic link" "symbolic link"
[ -e "$work/real/sub" ] && fail "nothing created through the link" || pass "nothing created through the link"
mkdir -m 700 "$work/gw"
chmod 770 "$work/gw"
conf "$work/gw/hush.sock"
refused "a group-writable socket directory" "writable by group or others"
chmod 1777 "$work/gw"
refused "a world-writable sticky socket directory" "writable by group or others"
chmod 700 "$work/gw"
chown "$usr" "$work/gw"
conf "$work/gw/hush.sock"
refused "a socket directory owned by another user" "owned by uid $(id -u "$usr")"
# the other user's own listener stays untouched
[ -e "$work/gw/hush.sock" ] && fail "nothing bound in the other user's directory" || pass "nothing bound in the other user's directory"
chown root "$work/gw"

# 3. A link planted at the socket path is never followed on SIGHUP: the
# file it points to keeps its mode and group.
printf 'sealing-key' > "$work/key"
chmod 600 "$work/key"
conf "$work/gw/hush.sock" 0600
start_hushd "$work/gw/hush.sock" || exit 1
rm "$work/gw/hush.sock"
ln -s ../key "$work/gw/hush.sock"
conf "$work/gw/hush.sock" 0666 "socket_group = $grp"
kill -HUP "$pid"
reloads 1 || fail "reload not audited"
st=$(stat -c '%U:%G %a' "$work/key")
[ "$st" = "root:root 600" ] && pass "the link's target keeps root:root 0600" || fail "the link's target is now $st"
grep -q 'no longer the socket hushd created (a symbolic link)' "$work/stderr" && pass "the planted link is reported" || { fail "the planted link is reported"; cat "$work/stderr"; }
grep '"event":"reload"' "$work/audit.jsonl" | grep -q '"result":"partial"' && pass "the reload is audited as partial, not ok" || fail "reload audited as partial"
[ -L "$work/gw/hush.sock" ] && pass "the link is left alone" || fail "the link is left alone"
kill -TERM "$pid"; wait "$pid"; pid=
[ -L "$work/gw/hush.sock" ] && pass "cleanup at exit leaves the link alone" || fail "cleanup at exit leaves the link alone"
rm -f "$work/gw/hush.sock" "$work/audit.jsonl"

# 4. At reload: a new client in an unsafe directory rejects the reload
# with FILE:LINE, and the previous configuration keeps serving.
conf "$work/gw/hush.sock" 0600
start_hushd "$work/gw/hush.sock" || exit 1
mkdir -m 777 "$work/open"
cat >> "$work/hush.ini" <<EOC
[client "late"]
socket = $work/open/hush.sock
allow = cred
EOC
kill -HUP "$pid"
reloads 1 || fail "reload not audited"
grep -q 'hush.ini:11: client "late": socket directory .*/open is writable by group or others' "$work/stderr" && pass "reload: the unsafe directory is refused with hush.ini:11" || { fail "reload: refused with hush.ini:11"; cat "$work/stderr"; }
grep '"event":"reload"' "$work/audit.jsonl" | grep -q '"result":"rejected"' && pass "reload: audited as rejected" || fail "reload: audited as rejected"
[ -e "$work/open/hush.sock" ] && fail "reload: nothing bound in the open directory" || pass "reload: nothing bound in the open directory"
expect_status 0 "reload: the previous configuration still serves" curl -sS -f --unix-socket "$work/gw/hush.sock" http://h/v1/credentials/cred
kill -TERM "$pid"; wait "$pid"; pid=
finish
