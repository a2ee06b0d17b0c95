#!/bin/sh
# `make run`: starts hushd on an embedded demo configuration in a private
# temporary runtime directory, fetches a credential through its socket the
# way a container would, and pipes a log with secrets through hush-redact.
# Usage: run.sh BUILD_DIR
set -eu
build=${1:?usage: run.sh BUILD_DIR}
build=$(cd "$build" && pwd)
hushd=$build/broker/hushd
hush=$build/broker/hush
redact=$build/redact/hush-redact

umask 077
rt=$(mktemp -d "${TMPDIR:-/tmp}/hush-demo.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$rt"
}
trap cleanup EXIT INT TERM

# A fake Claude Code credentials file, as ~/.claude/.credentials.json looks.
token="sk-ant-oat01-DEMO$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')AA"
cat > "$rt/credentials.json" <<JSON
{"claudeAiOauth":{"accessToken":"$token","refreshToken":"sk-ant-ort01-DEMO-refresh-stays-on-the-host","expiresAt":1893456000000,"scopes":["user:inference"]}}
JSON
mkdir "$rt/agent"
cat > "$rt/hush.ini" <<INI
[broker]
audit_log = $rt/audit.jsonl

[client "agent"]
socket = $rt/agent/hush.sock
allow = claude

[credential "claude"]
source = file:$rt/credentials.json
json_field = claudeAiOauth.accessToken
content_type = text/plain
INI

if [ -t 1 ]; then b='\033[1m' n='\033[0m'; else b= n=; fi
say() { printf "\n${b}== %s${n}\n" "$*"; }

say "the demo configuration ($rt/hush.ini)"
cat "$rt/hush.ini"
say "hushd --check"
"$hushd" -c "$rt/hush.ini" --check

say "starting hushd"
"$hushd" -c "$rt/hush.ini" 2>"$rt/hushd.log" &
pid=$!
i=0
while [ ! -S "$rt/agent/hush.sock" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -S "$rt/agent/hush.sock" ]; then
	say "inside the container: curl --unix-socket .../hush.sock http://hush/v1/credentials/claude"
	curl -sS --unix-socket "$rt/agent/hush.sock" http://hush/v1/credentials/claude
	echo
	say "or: hush get claude"
	HUSH_SOCKET=$rt/agent/hush.sock "$hush" get claude
	echo
	say "a credential this client may not read: 404"
	curl -sS --unix-socket "$rt/agent/hush.sock" http://hush/v1/credentials/other || true
	echo
	kill "$pid" && wait "$pid" 2>/dev/null || true
	pid=
	say "the audit log (no value, only a keyed fingerprint)"
	cat "$rt/audit.jsonl" 2>/dev/null || true
else
	pid=
	echo "(hushd does not serve yet in this build:)"
	sed 's/^/  /' "$rt/hushd.log"
fi

if [ -x "$redact" ]; then
	say "a log with secrets | hush-redact -c hush.ini"
	printf '%s\n' \
	    "12:00:01 agent started with token $token" \
	    "12:00:02 GET https://api.github.com/user Authorization: Bearer ghp_$(printf 'A%.0s' $(seq 36))" \
	    "12:00:03 connecting to postgres://app:hunter2-correct-horse@db:5432/app" \
	    "12:00:04 request finished in 12ms" |
	    "$redact" -c "$rt/hush.ini"
fi
say "done; removed $rt"
