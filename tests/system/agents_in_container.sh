#!/bin/bash
# Real Codex and real Claude Code inside a container, through the
# README's container recipe: contrib/compose/hush.override.yml over a
# compose file that still mounts the (fake) host's ~/.codex and ~/.claude,
# docker-compose 1.29 on podman's Docker API. Codex (its static binary
# from the npm package) reads the auth.json the overlay fetched into
# CODEX_HOME, Claude Code the CLAUDE_CODE_OAUTH_TOKEN it exported; both
# call the loopback API stand-in, which must see the tokens hushd served,
# and the host's ~/.codex and ~/.claude must stay byte-identical (no file
# added: Claude Code writes its transcripts to CLAUDE_CONFIG_DIR, which
# the overlay points at its tmpfs) although both ran with them mounted.
# The service shares the host's network namespace only to reach the
# stand-in on 127.0.0.1 (nothing else is reachable here).
. "$(dirname "$0")/lib/hostenv.bash"
. "$(dirname "$0")/lib/podman.bash"

require_containers
need_release_build || { fail "release build"; finish; exit 1; }
need_static_client || { fail "static client (make static-client)"; finish; exit 1; }
need_agents || { fail "npm install of Codex"; finish; exit 1; }
codex_bin=$(ls "$sysdir"/npm/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex 2>/dev/null | head -n 1)
[ -x "$codex_bin" ] || { fail "Codex's static binary in the npm package"; finish; exit 1; }
claude_bin=$(readlink -f "$CLAUDE")
[ -x "$claude_bin" ] || { fail "Claude Code's binary in the npm package"; finish; exit 1; }
need_image hush-test-debian "$CTR_ROOT" $CTR_PKGS || { fail "Debian image from a debootstrap root"; finish; exit 1; }
apt_install docker-compose || { fail "install docker-compose"; finish; exit 1; }
start_standin || { fail "API stand-in starts"; finish; exit 1; }

host=$work/host
mkdir -p "$host/.codex" "$host/.claude" "$work/agent"
chmod 700 "$host" "$work/agent"
access='codex-access-InContainer-0123456789abcdefghijklm'
refresh='codex-refresh-InContainer-0123456789abcdefghijkl'
idtok=$(python3 -c '
import base64, json
enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
print(enc({"alg": "none"}) + "." + enc({"email": "dev@example.invalid",
    "https://api.openai.com/auth": {"chatgpt_plan_type": "plus",
    "chatgpt_account_id": "acct-ctr"}}) + ".c2ln")')
cat > "$host/.codex/auth.json" <<EOF
{"auth_mode":"chatgpt","OPENAI_API_KEY":null,"tokens":{"id_token":"$idtok","access_token":"$access","refresh_token":"$refresh","account_id":"acct-ctr"},"last_refresh":"2026-11-29T10:00:00Z"}
EOF
oauth='sk-ant-oat01-InContainer0123456789abcdefghijklmnopqrstu-AAAA'
crefresh='sk-ant-ort01-InContainerRefresh0123456789abcdefghijkl-AAAA'
printf '{"claudeAiOauth":{"accessToken":"%s","refreshToken":"%s","expiresAt":4102444800000}}\n' \
    "$oauth" "$crefresh" > "$host/.claude/.credentials.json"
( cd "$host" && find . -type f -exec sha256sum {} + | sort ) > "$work/host.sums"
sock=$work/agent/hush.sock
cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
[client "agent"]
socket = $sock
allow = claude-token, codex-auth
[credential "claude-token"]
source = file:$host/.claude/.credentials.json
json_field = claudeAiOauth.accessToken
[credential "codex-auth"]
source = file:$host/.codex/auth.json
json_blank = tokens.refresh_token
content_type = application/json
EOF
chmod 600 "$work/hush.ini"
start_hushd_conf "$work/hush.ini" "$sock" || { fail "hushd starts"; finish; exit 1; }

"${PODMAN[@]}" system service -t 0 "unix://$work/podman.sock" 2>"$work/podman-service.log" &
svc_pid=$!
for _ in $(seq 300); do [ -S "$work/podman.sock" ] && break; sleep 0.1; done
mkdir -p "$work/proj"
cat > "$work/proj/docker-compose.yml" <<EOF
version: "3.8"
services:
  agent:
    image: localhost/hush-test-debian:latest
    network_mode: host
    volumes:
      - $host/.codex:/root/.codex
      - $host/.claude:/root/.claude
      - $codex_bin:/usr/local/bin/codex:ro
      - $claude_bin:/usr/local/bin/claude:ro
    working_dir: /root
    environment:
      ANTHROPIC_BASE_URL: $API_URL
      DISABLE_TELEMETRY: "1"
      DISABLE_ERROR_REPORTING: "1"
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1"
      DISABLE_AUTOUPDATER: "1"
    command:
      - sh
      - -c
      - |
        codex exec --skip-git-repo-check -c openai_base_url=$API_URL/v1 "say hello" </dev/null || exit 11
        claude -p "say hello" </dev/null || exit 12
EOF
cp "$src/contrib/compose/hush.override.yml" "$work/proj/"
: > "$API_LOG"
out=$(cd "$work/proj" && env DOCKER_HOST="unix://$work/podman.sock" \
    HUSH_SOCKET_DIR="$work/agent" HUSH_CLIENT="$HUSH_STATIC" \
    timeout 400 docker-compose -p hushcodex$$ -f docker-compose.yml -f hush.override.yml \
    up --abort-on-container-exit --exit-code-from agent --no-color 2>&1); rc=$?
(cd "$work/proj" && env DOCKER_HOST="unix://$work/podman.sock" HUSH_SOCKET_DIR="$work/agent" HUSH_CLIENT="$HUSH_STATIC" \
    timeout 120 docker-compose -p hushcodex$$ -f docker-compose.yml -f hush.override.yml down >/dev/null 2>&1)
kill "$svc_pid" 2>/dev/null; wait "$svc_pid" 2>/dev/null
[ "$rc" = 0 ] && pass "Codex and Claude Code in the container exit 0" || { fail "Codex and Claude Code in the container exit 0 ($rc)"; printf '%s\n' "$out" | grep -v rmcp | tail -20; }
n=$(printf '%s\n' "$out" | grep -c "hello from the stand-in")
[ "$n" -ge 2 ] && pass "both print the stand-in's answer" || fail "both print the stand-in's answer ($n)"
python3 - "$API_LOG" "$access" <<'EOF' && pass "the stand-in got Authorization: Bearer <served access token>" || fail "the stand-in got Authorization: Bearer <served access token>"
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1])]
posts = [c for c in posts if c["method"] == "POST" and c["path"].startswith("/v1/responses")]
assert posts, "no POST /v1/responses"
assert all(c["authorization"] == "Bearer " + sys.argv[2] for c in posts), posts
EOF
python3 - "$API_LOG" "$oauth" <<'EOF' && pass "the stand-in got Claude's Authorization: Bearer <served access token>" || fail "the stand-in got Claude's Authorization: Bearer <served access token>"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
calls = [c for c in calls if c["path"].startswith("/v1/messages")]
assert calls, "no /v1/messages call"
assert all(c["authorization"] == "Bearer " + sys.argv[2] for c in calls), calls
EOF
grep -q -e "$refresh" -e "$crefresh" "$API_LOG" && fail "no refresh token reaches the APIs" || pass "no refresh token reaches the APIs"
( cd "$host" && find . -type f -exec sha256sum {} + | sort ) > "$work/host.sums.after"
cmp -s "$work/host.sums" "$work/host.sums.after" && pass "the host's ~/.codex and ~/.claude are byte-identical after both ran with them mounted" ||
    { fail "the host's ~/.codex and ~/.claude are byte-identical (no file added)"; diff "$work/host.sums" "$work/host.sums.after" | sed 's/^/    /'; }
out=$(cat "$work/hushd.stderr" "$work/audit.jsonl")
expect_absent "$access" "no Codex access token in hushd's logs"
expect_absent "$oauth" "no Claude token in hushd's logs"
stop_bg
finish
