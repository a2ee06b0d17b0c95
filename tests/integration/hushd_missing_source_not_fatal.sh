#!/bin/bash
# A source's owner cannot keep hushd from starting or from reloading.
# Alice owns the file hushd serves as "b"; she deletes it, or points a
# link in its path somewhere. Before, `hushd --check` failed on it (exit
# 78), so hushd did not start (at boot, ExecStartPre) and `systemctl
# reload` (ExecReload runs --check first) kept the old policy: an admin's
# revocation of another client did not take effect. Now --check and start
# warn with FILE:LINE and the path rule's reason, exit 0, and hushd serves
# the other credentials, answering 500 for "b" until it can read it.
. "$(dirname "$0")/lib/common.sh"

mkdir -m 700 "$work/src"
printf '%s' 'secret-a-0123456789abcdef' > "$work/src/a"
chmod 600 "$work/src/a"
conf() {	# conf ALLOW
	cat > "$work/hush.ini" <<EOC
[broker]
audit_log = $work/audit.jsonl
[client "gw"]
socket = $work/run/gw.sock
allow = $1
[credential "a"]
source = file:$work/src/a
[credential "b"]
source = file:$work/src/b
EOC
	chmod 600 "$work/hush.ini"
}
get() { curl -s -o "$work/body" -w '%{http_code}' --unix-socket "$work/run/gw.sock" "http://h/v1/credentials/$1"; }

conf "a, b"
expect_status 0 "--check: a missing source file is not an error" "$HUSHD" --check -c "$work/hush.ini"
expect_output "hush.ini:9: credential \"b\": $work/src/b: No such file or directory" "--check: warns with FILE:LINE, the credential and why"
expect_output "answered with 500" "--check: says what the daemon does meanwhile"
expect_output "ok" "--check: ok"

start_hushd "$work/run/gw.sock" && pass "hushd starts with a source missing" || fail "hushd starts with a source missing"
[ "$(get a)" = 200 ] && pass "the other credential is served" || fail "the other credential is served"
[ "$(get b)" = 500 ] && pass "the missing one answers 500" || fail "the missing one answers 500"
grep -q 'hush.ini:9: credential "b"' "$work/stderr" && pass "start warns too" || fail "start warns too"
printf '%s' 'secret-b-0123456789abcdef' > "$work/src/b"
[ "$(get b)" = 200 ] && cmp -s "$work/body" "$work/src/b" && pass "served once the file is back, no reload" || fail "served once the file is back, no reload"

# The revocation as systemd's ExecReload does it: --check, then SIGHUP.
rm "$work/src/b"
conf "b"
expect_status 0 "reload's --check passes with the source gone" "$HUSHD" --check -c "$work/hush.ini"
kill -HUP "$pid"
for _ in $(seq 100); do [ "$(get a)" = 200 ] || break; sleep 0.05; done
code=$(get a)
[ "$code" = 404 ] || [ "$code" = 403 ] && pass "the revocation takes effect ($code)" || fail "the revocation takes effect (got $code)"

# The path rule, in --check as in the daemon: a source below a directory
# that others may write is refused, with the reason.
mkdir -m 777 "$work/open"
printf '%s' 'secret-b-0123456789abcdef' > "$work/open/b"
sed -i "s|file:$work/src/b|file:$work/open/b|" "$work/hush.ini"
expect_status 0 "--check: a refused path is a warning" "$HUSHD" --check -c "$work/hush.ini"
expect_output "writable by group or others" "--check: applies the path rule and says why"
expect_absent "secret-b" "--check: no secret in the warning"

kill "$pid"; wait "$pid"
grep -q 'secret-' "$work/stderr" && fail "no secret in hushd's log" || pass "no secret in hushd's log"
finish
