#!/bin/bash
# A live rsyslogd runs both recipes of contrib/rsyslog/hush-redact.conf:
# mmexternal (hush-redact --rsyslog-mmexternal rewrites each message before
# the file action stores it) and omprog (hush-redact behind the wrapper).
# Messages arrive through a real syslog socket (logger), carrying a
# built-in-rule secret and a credential value from hush.ini.
. "$(dirname "$0")/lib/common.sh"

RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
[ -x "$RSYSLOGD" ] || { echo "rsyslogd missing: make deps installs rsyslog"; fail "rsyslogd present"; finish; exit 1; }
src=${HUSH_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
bindir=$work/bin
mkdir "$bindir"
ln -s "$HUSH_REDACT" "$bindir/hush-redact"
cp "$src/contrib/rsyslog/hush-redact-omprog" "$bindir/"

credval='db-password-4c1f9e7a2b6d8e0f'
apikey='sk-ant-api03-RsyslogTestKey0123456789abcdefghijklmnopqrstuv-AAAA'
printf '%s\n' "$credval" > "$work/db"
cat > "$work/hush.ini" <<EOF
[credential "db"]
source = file:$work/db
EOF
chmod 600 "$work/hush.ini"

# The shipped recipe, with paths pointed into $work.
sed -e "s|/usr/bin/hush-redact|$bindir/hush-redact|" \
    -e "s|/usr/libexec/rsyslog/hush-redact-omprog /var/log/redacted.log|$bindir/hush-redact-omprog $work/omprog.log -c $work/hush.ini|" \
    -e "s|/etc/hush/hush.ini|$work/hush.ini|" \
    "$src/contrib/rsyslog/hush-redact.conf" > "$work/recipe.conf"
grep -q "$work/omprog.log" "$work/recipe.conf" && pass "recipe rewritten for the test" || fail "recipe rewritten for the test"
mkdir "$work/spool"
cat > "$work/rsyslog.conf" <<EOF
global(workDirectory="$work/spool")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$work/log.sock")
# The recipe's omprog action sees messages as they arrive; mmexternal
# then rewrites them for every action after it.
include(file="$work/recipe.conf")
template(name="msgonly" type="string" string="%msg%\n")
action(type="omfile" file="$work/stored.log" template="msgonly")
EOF

PATH=$bindir:$PATH "$RSYSLOGD" -n -f "$work/rsyslog.conf" -i "$work/rsyslog.pid" 2>"$work/rsyslog.err" &
rpid=$!
for _ in $(seq 200); do [ -S "$work/log.sock" ] && break; sleep 0.05; done
[ -S "$work/log.sock" ] && pass "rsyslogd listens" || { fail "rsyslogd listens"; cat "$work/rsyslog.err"; }

logger -u "$work/log.sock" -t app "plain line one"
logger -u "$work/log.sock" -t app "key=$apikey in the middle"
logger -u "$work/log.sock" -t app "connecting with password $credval now"
logger -u "$work/log.sock" -t app 'quotes " and backslash \ survive'
logger -u "$work/log.sock" -t app "END-OF-TEST"

# Wait (bounded) for the last message in both outputs; no timing is asserted.
for _ in $(seq 600); do
	grep -q END-OF-TEST "$work/stored.log" 2>/dev/null &&
	    grep -q END-OF-TEST "$work/omprog.log" 2>/dev/null && break
	sleep 0.05
done
kill -TERM "$rpid"; wait "$rpid"

out=$(cat "$work/stored.log" 2>/dev/null)
expect_output "plain line one" "mmexternal: a clean message is stored as it was"
expect_output "key=[REDACTED:anthropic-api-key] in the middle" "mmexternal: built-in rule masked"
expect_output "password [REDACTED:credential:db] now" "mmexternal: credential value masked"
expect_output 'quotes " and backslash \ survive' "mmexternal: quotes and backslashes round-trip"
expect_output "END-OF-TEST" "mmexternal: every message stored"
expect_absent "$apikey" "mmexternal: the API key is not stored"
expect_absent "$credval" "mmexternal: the credential is not stored"
[ "$(grep -c . "$work/stored.log")" = 5 ] && pass "mmexternal: five messages, five lines" || fail "mmexternal: five messages, five lines"

out=$(cat "$work/omprog.log" 2>/dev/null)
expect_output "app: plain line one" "omprog: a clean message passes"
expect_output "[REDACTED:anthropic-api-key]" "omprog: built-in rule masked"
expect_output "[REDACTED:credential:db]" "omprog: credential value masked"
expect_absent "$apikey" "omprog: the API key is not written"
expect_absent "$credval" "omprog: the credential is not written"

out=$(cat "$work/rsyslog.err")
expect_absent "$credval" "rsyslogd's stderr holds no credential"

# The protocol itself: one reply line per message, in order, even for an
# empty message, a message without its newline at EOF, and control bytes.
printf 'a\n\nkey %s\nlast' "$apikey" | "$HUSH_REDACT" --rsyslog-mmexternal > "$work/replies"
expect_status 0 "mmexternal mode exits 0 at EOF" true
out=$(cat "$work/replies")
[ "$(wc -l < "$work/replies")" = 4 ] && pass "one reply per message" || fail "one reply per message: $out"
python3 - "$work/replies" <<'EOF' && pass "replies are JSON objects with msg" || fail "replies are JSON objects with msg"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
msgs = [json.loads(l)["msg"] for l in lines]
assert msgs == ["a", "", "key [REDACTED:anthropic-api-key]", "last"], msgs
EOF
printf 'tab\there\x01\n' | "$HUSH_REDACT" --rsyslog-mmexternal > "$work/ctl"
grep -qF '{"msg":"tab\u0009here\u0001"}' "$work/ctl" && pass "control bytes escaped" || fail "control bytes escaped: $(cat "$work/ctl")"
expect_status 2 "mmexternal with a FILE: usage error" "$HUSH_REDACT" --rsyslog-mmexternal "$work/db"
out=$(printf 'x %s\n' "$credval" | "$HUSH_REDACT" --rsyslog-mmexternal -c "$work/hush.ini")
expect_output '{"msg":"x [REDACTED:credential:db]"}' "-c credentials masked in mmexternal mode"
finish
