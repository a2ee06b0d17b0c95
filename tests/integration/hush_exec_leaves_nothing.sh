#!/bin/bash
# hush exec leaves nothing behind: the -f files go when the child exits,
# even after kill -9 of hush itself; one credential may fill several
# variables; -e strips one trailing newline, -f keeps the bytes exact; the
# child's status is reported even when hush was started with SIGCHLD
# ignored.
. "$(dirname "$0")/lib/common.sh"

tok='ghp_leavesnothing0123456789abcdefghijklmn'
printf '%s\n' "$tok" > "$work/nl"
printf '%s\n\n' "$tok" > "$work/nl2"
printf '%s' "$tok" > "$work/bare"
cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
[client "gw"]
socket = $work/gw.sock
allow = nl, nl2, bare
[credential "nl"]
source = file:$work/nl
[credential "nl2"]
source = file:$work/nl2
[credential "bare"]
source = file:$work/bare
EOF
chmod 600 "$work/hush.ini"
start_hushd "$work/gw.sock" || exit 1
export HUSH_SOCKET=$work/gw.sock TMPDIR=$work
unset XDG_RUNTIME_DIR

# wait_gone PATH: true once PATH no longer exists (a generous bound, so a
# loaded machine is not a failure; this is not a timing assertion)
wait_gone() {
	for _ in $(seq 400); do [ -e "$1" ] || return 0; sleep 0.05; done
	return 1
}
wait_file() {
	for _ in $(seq 400); do [ -s "$1" ] && return 0; sleep 0.05; done
	return 1
}

# one credential, several variables
expect_status 0 "-f A=x -f B=x: one credential in two variables" "$HUSH" exec -f A=bare -f B=bare -e C=bare -- sh -c 'cmp -s "$A" '"$work/bare"' && cmp -s "$B" '"$work/bare"' && [ "$C" = "$0" ] && echo same' "$tok"
expect_output same "both files and the variable hold the value"
expect_status 2 "one variable given twice: usage error" "$HUSH" exec -e A=bare -f A=nl -- true
expect_output "A is given twice" "says which"

# -e strips one trailing newline; -f keeps the bytes
expect_status 0 "-e of a value ending in a newline" "$HUSH" exec -e T=nl -- sh -c '[ "$T" = "$0" ] && echo stripped' "$tok"
expect_output stripped "-e: one trailing newline removed"
expect_status 0 "-e of a value ending in two newlines" "$HUSH" exec -e T=nl2 -- sh -c 'printf %s "$T" | od -An -c | tr -s " " | tail -c 8'
expect_output '\n' "-e: only one newline removed"
expect_status 0 "-f keeps the newline" "$HUSH" exec -f F=nl -- sh -c 'cmp -s "$F" '"$work/nl"' && echo exact'
expect_output exact "-f: bytes exact"
expect_status 0 "the stripped value is masked too" "$HUSH" exec -e T=nl -- sh -c 'printf "%s|\n" "$T"'
expect_absent "$tok" "value without its newline is redacted"

# kill -9 of hush: the file lives while the child does, then goes
rm -f "$work/path" "$work/childpid"
"$HUSH" exec -f F=bare -- sh -c 'echo $$ > '"$work/childpid"'; echo "$F" > '"$work/path"'; exec sleep 300' &
hpid=$!
if wait_file "$work/path" && wait_file "$work/childpid"; then
	p=$(cat "$work/path"); cpid=$(cat "$work/childpid")
	kill -9 "$hpid"; wait "$hpid" 2>/dev/null
	[ -f "$p" ] && pass "hush killed: the file is still there for the running child" || fail "file gone while the child runs"
	kill "$cpid"
	wait_gone "$p" && pass "child exited: the file is removed" || fail "file outlived the child: $p"
	wait_gone "$(dirname "$p")" && pass "and its directory" || fail "directory outlived the child"
else
	fail "the child did not start"
	kill -9 "$hpid"
fi

# kill -9 of hush before the child ends, child ends by itself
rm -f "$work/path"
"$HUSH" exec -f F=nl -f G=nl -- sh -c 'echo "$F" > '"$work/path"'; sleep 1' &
hpid=$!
if wait_file "$work/path"; then
	p=$(cat "$work/path")
	kill -9 "$hpid"; wait "$hpid" 2>/dev/null
	wait_gone "$p" && pass "child ends by itself after hush was killed: file removed" || fail "file left: $p"
else
	fail "the child did not start"
fi
ls "$work" | grep -q '^hush-exec\.' && fail "no hush-exec directory left: $(ls "$work")" || pass "no hush-exec directory left"

# SIGCHLD ignored by whoever started hush: the status still passes through
expect_status 3 "SIGCHLD ignored: the child's status is reported" python3 -c '
import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])' "$HUSH" exec -e T=bare -- sh -c 'exit 3'

kill -TERM "$pid"; wait "$pid"
finish
