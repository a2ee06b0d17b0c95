#!/bin/bash
# Real Codex (npm @openai/codex) against a loopback stand-in of the OpenAI
# API, through the README's recipe: hushd serves the host's auth.json with
# `json_blank = tokens.refresh_token`, the workload fetches it with
# `hush get codex-auth -o ~/.codex/auth.json` into a home where ~/.codex
# does not exist yet, and runs `codex exec -c openai_base_url=...`. The
# stand-in must see the access token hushd served; the host's auth.json
# must stay byte-identical. With json_omit instead, current Codex refuses
# the document and calls unauthenticated: the reason json_blank exists.
. "$(dirname "$0")/lib/hostenv.bash"

need_release_build || { fail "release build"; finish; exit 1; }
need_agents || { fail "npm install of Codex"; finish; exit 1; }
start_standin || { fail "API stand-in starts"; finish; exit 1; }

host=$work/host
mkdir -p "$host/.codex" "$work/agent"
chmod 700 "$host" "$work/agent"
access='codex-access-SystemTest-0123456789abcdefghijklmnop'
refresh='codex-refresh-SystemTest-0123456789abcdefghijklmno'
# An id_token Codex can decode (header.payload.signature, unsigned here).
idtok=$(python3 -c '
import base64, json
enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
print(enc({"alg": "none"}) + "." + enc({"email": "dev@example.invalid",
    "https://api.openai.com/auth": {"chatgpt_plan_type": "plus",
    "chatgpt_account_id": "acct-system-test"}}) + ".c2ln")')
cat > "$host/.codex/auth.json" <<EOF
{"auth_mode":"chatgpt","OPENAI_API_KEY":null,"tokens":{"id_token":"$idtok","access_token":"$access","refresh_token":"$refresh","account_id":"acct-system-test"},"last_refresh":"2026-11-29T10:00:00Z"}
EOF
sha_before=$(sha256sum < "$host/.codex/auth.json")
sock=$work/agent/hush.sock
cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
[client "agent"]
socket = $sock
allow = codex-auth, codex-auth-omit
[credential "codex-auth"]
source = file:$host/.codex/auth.json
json_blank = tokens.refresh_token      ; the host keeps refreshing
content_type = application/json
[credential "codex-auth-omit"]
source = file:$host/.codex/auth.json
json_omit = tokens.refresh_token
content_type = application/json
EOF
chmod 600 "$work/hush.ini"
start_hushd_conf "$work/hush.ini" "$sock" || { fail "hushd starts"; finish; exit 1; }

run_codex() {
	local home=$1; shift
	( cd "$home" && env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" \
	    HUSH_SOCKET="$sock" "${agent_env[@]}" timeout 300 "$@" </dev/null )
}

# The README recipe, in a home without ~/.codex.
home=$work/ctr-home
mkdir -m 700 "$home"
out=$(run_codex "$home" "$HUSH" get codex-auth -o "$home/.codex/auth.json" 2>&1)
[ $? = 0 ] && pass "hush get -o ~/.codex/auth.json in a fresh home" || fail "hush get -o ~/.codex/auth.json in a fresh home: $out"
[ "$(stat -c %a "$home/.codex")" = 700 ] && pass "~/.codex created 0700" || fail "~/.codex created 0700"
grep -q "$refresh" "$home/.codex/auth.json" && fail "the workload's auth.json holds no refresh token" || pass "the workload's auth.json holds no refresh token"
grep -q '"refresh_token":""' "$home/.codex/auth.json" && pass "the workload's auth.json keeps refresh_token as \"\"" || fail "the workload's auth.json keeps refresh_token as \"\""

: > "$API_LOG"
out=$(run_codex "$home" "$CODEX" exec --skip-git-repo-check -c "openai_base_url=$API_URL/v1" "say hello" 2>&1); rc=$?
[ "$rc" = 0 ] && pass "codex exec exits 0" || { fail "codex exec exits 0 ($rc)"; printf '%s\n' "$out" | tail -20; }
expect_output "hello from the stand-in" "codex prints the stand-in's answer"
python3 - "$API_LOG" "$access" <<'EOF' && pass "the stand-in got Authorization: Bearer <served access token>" || fail "the stand-in got Authorization: Bearer <served access token>"
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1])]
posts = [c for c in posts if c["method"] == "POST" and c["path"].startswith("/v1/responses")]
assert posts, "no POST /v1/responses"
assert all(c["authorization"] == "Bearer " + sys.argv[2] for c in posts), posts
EOF
grep -q "$refresh" "$API_LOG" && fail "the refresh token never reaches the API" || pass "the refresh token never reaches the API"

# Why json_blank: the same document with the key omitted is refused by
# current Codex, which then calls without any credential.
home2=$work/ctr-home-omit
mkdir -m 700 "$home2"
run_codex "$home2" "$HUSH" get codex-auth-omit -o "$home2/.codex/auth.json" >/dev/null 2>&1
: > "$API_LOG"
out=$(run_codex "$home2" "$CODEX" exec --skip-git-repo-check -c "openai_base_url=$API_URL/v1" "say hello" 2>&1)
grep -q "$access" "$API_LOG" && fail "json_omit: Codex refuses the document (no token sent)" || pass "json_omit: Codex refuses the document (no token sent)"

[ "$(sha256sum < "$host/.codex/auth.json")" = "$sha_before" ] && pass "the host's auth.json is byte-identical" || fail "the host's auth.json is byte-identical"
out=$(cat "$work/hushd.stderr" "$work/audit.jsonl")
expect_absent "$access" "no access token in hushd's logs"
expect_absent "$refresh" "no refresh token in hushd's logs"
stop_bg
finish
