#!/bin/bash
# git credential fill, with hush git-credential as the helper, gets the
# token from a real hushd, for the hosts named with --host only.
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
helper="!'$HUSH' git-credential --name gh --host github.com --host git.example.org:8443 -s '$work/git.sock'"
# fill URL: runs git credential fill for it with the helper, output in $out
fill() {
	expect_status "$1" "$2" sh -c "printf \"\$1\" | git -c credential.helper= -c credential.helper=\"\$0\" credential fill" "$helper" "$3"
}
expect_status 0 "git credential fill" sh -c "printf 'protocol=https\nhost=github.com\n\n' | git -c credential.helper= -c credential.helper=\"\$0\" credential fill" "$helper"
expect_output "password=$secret" "git gets the password (no newline)"
expect_output "username=x-access-token" "default username"
expect_status 0 "username from git's input is kept" sh -c "printf 'protocol=https\nhost=github.com\nusername=alice\n\n' | git -c credential.helper= -c credential.helper=\"\$0\" credential fill" "$helper"
expect_output "username=alice" "username=alice"
fill 0 "a listed host with a port" 'protocol=https\nhost=git.example.org:8443\n\n'
expect_output "password=$secret" "listed host:port gets the password"
fill 0 "host names are case-insensitive" 'protocol=https\nhost=GitHub.COM\n\n'
expect_output "password=$secret" "GitHub.COM gets the password"

# A hostile remote: git asks every helper; hush must answer nothing, so
# git falls through (and with no terminal, fails) without the token.
for req in 'protocol=https\nhost=evil.example\n\n' \
    'protocol=https\nhost=github.com.evil.example\n\n' \
    'protocol=https\nhost=git.example.org\n\n' \
    'protocol=https\nhost=git.example.org:9443\n\n' \
    'protocol=http\nhost=github.com\n\n' \
    'protocol=https\n\n' \
    "protocol=https\nhost=evil.example\nx=$(head -c 4090 /dev/zero | tr '\0' a)host=github.com\n\n"; do
	fill 128 "unlisted: git gets nothing ($(printf '%.40s' "$req" | tr '\n' ' '))" "$req"
	expect_absent "$secret" "no token for it"
	out=$(printf "$req" | "$HUSH" git-credential --name gh --host github.com -s "$work/git.sock" get 2>&1)
	[ -z "$out" ] && pass "helper prints nothing" || fail "helper prints nothing: $out"
done
expect_status 2 "--host is required" sh -c "printf 'protocol=https\nhost=github.com\n\n' | '$HUSH' git-credential --name gh -s '$work/git.sock' get"
expect_absent "$secret" "no token without --host"
expect_status 2 "--host with a URL is a usage error" "$HUSH" git-credential --name gh --host https://github.com get
expect_status 0 "store does nothing" sh -c "printf 'protocol=https\nhost=x\nusername=a\npassword=b\n\n' | '$HUSH' git-credential --name gh --host x -s '$work/git.sock' store"
[ -z "$out" ] && pass "store prints nothing" || fail "store prints nothing"
expect_status 0 "erase does nothing" sh -c "printf 'protocol=https\n\n' | '$HUSH' git-credential --name gh --host x -s '$work/git.sock' erase"
expect_status 1 "unknown credential: exit 1" sh -c "printf 'protocol=https\nhost=x\n\n' | '$HUSH' git-credential --name nope --host x -s '$work/git.sock' get"
expect_status 2 "--name is required" "$HUSH" git-credential get

kill -TERM "$pid"; wait "$pid"
out=$(cat "$work/stderr" "$work/audit.jsonl")
expect_absent "$secret" "no secret in stderr or audit log"
finish
