#!/bin/bash
# Real Claude Code (npm @anthropic-ai/claude-code) against a loopback
# stand-in of the Anthropic API, fed by hushd through the README's
# recipes: `hush exec -e ANTHROPIC_API_KEY=...`, `hush exec -e
# CLAUDE_CODE_OAUTH_TOKEN=...` and an apiKeyHelper calling curl on the
# socket. The stand-in must see exactly the credential hushd served, and
# the host's credential file must be untouched.
. "$(dirname "$0")/lib/hostenv.bash"

need_release_build || { fail "release build"; finish; exit 1; }
need_agents || { fail "npm install of Claude Code"; finish; exit 1; }
start_standin || { fail "API stand-in starts"; finish; exit 1; }

host=$work/host
mkdir -p "$host/.claude" "$work/agent"
chmod 700 "$host" "$work/agent"
apikey='sk-ant-api03-SystemTestKey0123456789abcdefghijklmnopqrstuvwx-AAAA'
oauth='sk-ant-oat01-SystemTestOAuth0123456789abcdefghijklmnopqrs-AAAA'
refresh='sk-ant-ort01-SystemTestRefresh0123456789abcdefghijklmn-AAAA'
printf '%s\n' "$apikey" > "$host/anthropic-key"
cat > "$host/.claude/.credentials.json" <<EOF
{"claudeAiOauth":{"accessToken":"$oauth","refreshToken":"$refresh","expiresAt":4102444800000,"scopes":["user:inference"],"subscriptionType":"max"}}
EOF
cp -a "$host/.claude" "$work/claude.orig"
sock=$work/agent/hush.sock
cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
[client "agent"]
socket = $sock
allow = anthropic-key, claude-token
[credential "anthropic-key"]
source = file:$host/anthropic-key
content_type = text/plain
[credential "claude-token"]
source = file:$host/.claude/.credentials.json
json_field = claudeAiOauth.accessToken
content_type = text/plain
EOF
chmod 600 "$work/hush.ini"
start_hushd_conf "$work/hush.ini" "$sock" || { fail "hushd starts"; finish; exit 1; }

# The workload's home: empty, as in a fresh container.
home=$work/ctr-home
mkdir -m 700 "$home"
run_claude() {
	( cd "$home" && env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" \
	    HUSH_SOCKET="$sock" ANTHROPIC_BASE_URL="$API_URL" "${agent_env[@]}" \
	    timeout 300 "$@" </dev/null )
}

# 1. hush exec -e ANTHROPIC_API_KEY=anthropic-key -- claude -p
: > "$API_LOG"
out=$(run_claude "$HUSH" exec -e ANTHROPIC_API_KEY=anthropic-key -- "$CLAUDE" -p "hello" 2>&1); rc=$?
[ "$rc" = 0 ] && pass "exec -e ANTHROPIC_API_KEY: claude exits 0" || { fail "exec -e ANTHROPIC_API_KEY: claude exits 0 ($rc)"; printf '%s\n' "$out" | tail -20; }
expect_output "hello from the stand-in" "exec -e ANTHROPIC_API_KEY: the stand-in's answer is printed"
python3 - "$API_LOG" "$apikey" <<'EOF' && pass "the stand-in got x-api-key = the served key, on every call" || fail "the stand-in got x-api-key = the served key"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1]) if '"/v1/messages' in l]
assert calls, "no /v1/messages call"
assert all(c["x-api-key"] == sys.argv[2] for c in calls), calls
EOF

# 2. hush exec -e CLAUDE_CODE_OAUTH_TOKEN=claude-token (the access token
#    only: the refresh token stays on the host)
: > "$API_LOG"
out=$(run_claude "$HUSH" exec -e CLAUDE_CODE_OAUTH_TOKEN=claude-token -- "$CLAUDE" -p "hello" 2>&1); rc=$?
[ "$rc" = 0 ] && pass "exec -e CLAUDE_CODE_OAUTH_TOKEN: claude exits 0" || { fail "exec -e CLAUDE_CODE_OAUTH_TOKEN: claude exits 0 ($rc)"; printf '%s\n' "$out" | tail -20; }
expect_output "hello from the stand-in" "OAuth token: the stand-in's answer is printed"
python3 - "$API_LOG" "$oauth" <<'EOF' && pass "the stand-in got Authorization: Bearer <served access token>" || fail "the stand-in got Authorization: Bearer <served access token>"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1]) if '"/v1/messages' in l]
assert calls, "no /v1/messages call"
assert all(c["authorization"] == "Bearer " + sys.argv[2] for c in calls), calls
EOF
grep -q "$refresh" "$API_LOG" && fail "the refresh token never reaches the API" || pass "the refresh token never reaches the API"

# 3. apiKeyHelper = curl on the socket (settings.json, as in the README)
: > "$API_LOG"
mkdir -p "$home/.claude"
cat > "$home/.claude/settings.json" <<EOF
{"apiKeyHelper": "curl -sf --unix-socket $sock http://hush/v1/credentials/anthropic-key"}
EOF
out=$(run_claude "$CLAUDE" -p "hello" 2>&1); rc=$?
[ "$rc" = 0 ] && pass "apiKeyHelper: claude exits 0" || { fail "apiKeyHelper: claude exits 0 ($rc)"; printf '%s\n' "$out" | tail -20; }
expect_output "hello from the stand-in" "apiKeyHelper: the stand-in's answer is printed"
python3 - "$API_LOG" "$apikey" <<'EOF' && pass "apiKeyHelper: the served key arrives (trailing newline trimmed)" || fail "apiKeyHelper: the served key arrives"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1]) if '"/v1/messages' in l]
assert calls, "no /v1/messages call"
k = sys.argv[2]
assert all(c["x-api-key"] == k or c["authorization"] == "Bearer " + k for c in calls), calls
EOF

diff -r "$host/.claude" "$work/claude.orig" >/dev/null && pass "the host's ~/.claude is byte-identical" || fail "the host's ~/.claude is byte-identical"
n=$(grep -c '"result":"ok"' "$work/audit.jsonl")
[ "$n" -ge 3 ] && pass "hushd audited the fetches ($n ok)" || fail "hushd audited the fetches ($n ok)"
out=$(cat "$work/hushd.stderr" "$work/audit.jsonl")
expect_absent "$apikey" "no API key in hushd's logs"
expect_absent "$oauth" "no OAuth token in hushd's logs"
stop_bg
finish
