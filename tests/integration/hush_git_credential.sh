#!/bin/bash
# git credential fill, with hush git-credential as the helper, gets the
# token from a real hushd.
. "$(dirname "$0")/lib/common.sh"

secret='ghp_gitcredentialsecret0123456789abcdef'
printf '%s\n' "$secret" > "$work/gh"
cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
[client "git"]
socket = $work/git.sock
allow = gh
[credential "gh"]
source = file:$work/gh
EOF
chmod 600 "$work/hush.ini"
start_hushd "$work/git.sock" || exit 1

export HOME=$work GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
helper="!'$HUSH' git-credential --name gh -s '$work/git.sock'"
expect_status 0 "git credential fill" sh -c "printf 'protocol=https\nhost=github.com\n\n' | git -c credential.helper= -c credential.helper=\"\$0\" credential fill" "$helper"
expect_output "password=$secret" "git gets the password (no newline)"
expect_output "username=x-access-token" "default username"
expect_status 0 "username from git's input is kept" sh -c "printf 'protocol=https\nhost=github.com\nusername=alice\n\n' | git -c credential.helper= -c credential.helper=\"\$0\" credential fill" "$helper"
expect_output "username=alice" "username=alice"
expect_status 0 "store does nothing" sh -c "printf 'protocol=https\nhost=x\nusername=a\npassword=b\n\n' | '$HUSH' git-credential --name gh -s '$work/git.sock' store"
[ -z "$out" ] && pass "store prints nothing" || fail "store prints nothing"
expect_status 0 "erase does nothing" sh -c "printf 'protocol=https\n\n' | '$HUSH' git-credential --name gh -s '$work/git.sock' erase"
expect_status 1 "unknown credential: exit 1" sh -c "printf '\n' | '$HUSH' git-credential --name nope -s '$work/git.sock' get"
expect_status 2 "--name is required" "$HUSH" git-credential get

kill -TERM "$pid"; wait "$pid"
out=$(cat "$work/stderr" "$work/audit.jsonl")
expect_absent "$secret" "no secret in stderr or audit log"
finish
