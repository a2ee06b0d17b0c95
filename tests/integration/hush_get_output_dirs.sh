#!/bin/bash
# hush get -o in a fresh container: missing parent directories are created
# 0700, existing ones are left alone, and every error names the target the
# user gave, never the temporary file beside it. json_blank serves Codex's
# auth.json with the refresh token's key kept and its value empty.
. "$(dirname "$0")/lib/common.sh"

refresh='rt-host-only-0123456789abcdefghij'
access='at-served-0123456789abcdefghijkl'
cat > "$work/auth.json" <<EOF
{"auth_mode":"chatgpt","OPENAI_API_KEY":null,"tokens":{"id_token":"eyJ.id.sig","access_token":"$access","refresh_token":"$refresh","account_id":"acct-1"},"last_refresh":"2026-11-20T10:00:00Z"}
EOF
cp "$work/auth.json" "$work/auth.json.orig"
# A socket directory others may traverse, so an unprivileged client can
# reach it (the EACCES case below runs as nobody).
sockdir=$work/pub
mkdir -m 755 "$sockdir"
chmod 711 "$work"
cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
[client "gw"]
socket = $sockdir/hush.sock
socket_mode = 0666
allow = codex-auth, codex-omit
[credential "codex-auth"]
source = file:$work/auth.json
json_blank = tokens.refresh_token
content_type = application/json
[credential "codex-omit"]
source = file:$work/auth.json
json_omit = tokens.refresh_token
EOF
chmod 600 "$work/hush.ini"
sock=$sockdir/hush.sock
start_hushd "$sock" || exit 1

# json_blank: the key stays, the value is gone
expect_status 0 "curl gets the blanked document" curl -sS -f --unix-socket "$sock" http://hush/v1/credentials/codex-auth
expect_output '"refresh_token":""' "refresh_token kept as an empty string"
expect_output "\"access_token\":\"$access\"" "access token served"
expect_absent "$refresh" "the refresh token is not served"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["tokens"]["refresh_token"] == ""' "$out" \
    && pass "the result is JSON with tokens.refresh_token == \"\"" \
    || fail "the result is JSON with tokens.refresh_token == \"\""
expect_status 0 "json_omit still drops the key" curl -sS -f --unix-socket "$sock" http://hush/v1/credentials/codex-omit
expect_absent "refresh_token" "json_omit: no refresh_token key"

# missing parents: created 0700, two levels deep
home=$work/home
mkdir -m 755 "$home"
expect_status 0 "get -o into a missing ~/.codex" "$HUSH" get codex-auth -s "$sock" -o "$home/.codex/sub/auth.json"
[ -f "$home/.codex/sub/auth.json" ] && pass "the file exists" || fail "the file exists"
[ "$(stat -c %a "$home/.codex")" = 700 ] && pass "new parent is 0700" || fail "new parent is 0700 ($(stat -c %a "$home/.codex"))"
[ "$(stat -c %a "$home/.codex/sub")" = 700 ] && pass "new nested parent is 0700" || fail "new nested parent is 0700"
[ "$(stat -c %a "$home/.codex/sub/auth.json")" = 600 ] && pass "file is 0600" || fail "file is 0600"
[ "$(stat -c %a "$home")" = 755 ] && pass "an existing parent keeps its mode" || fail "an existing parent keeps its mode"
grep -q '"refresh_token":""' "$home/.codex/sub/auth.json" && pass "file holds the blanked document" || fail "file holds the blanked document"
# a relative path with no directory part and one with a trailing-slash parent
( cd "$home" && "$HUSH" get codex-auth -s "$sock" -o rel.json ) && [ -f "$home/rel.json" ] \
    && pass "relative -o without a directory" || fail "relative -o without a directory"
expect_status 0 "-o with doubled slashes" "$HUSH" get codex-auth -s "$sock" -o "$home//a//b/auth.json"
[ "$(stat -c %a "$home/a/b")" = 700 ] && pass "doubled slashes: parents 0700" || fail "doubled slashes: parents 0700"

# errors name the target, never the temporary file
: > "$work/plainfile"
target=$work/plainfile/sub/auth.json
expect_status 1 "a parent that is a file: exit 1" "$HUSH" get codex-auth -s "$sock" -o "$target"
expect_output "$target" "ENOTDIR error names the target"
expect_output "Not a directory" "ENOTDIR error says why"
expect_absent ".hush-" "ENOTDIR error does not name a temp file"
expect_absent "$access" "ENOTDIR error holds no secret"

mkdir -m 700 "$work/isdir"
mkdir "$work/isdir/auth.json"
expect_status 1 "a target that is a directory: exit 1" "$HUSH" get codex-auth -s "$sock" -o "$work/isdir/auth.json"
expect_output "$work/isdir/auth.json:" "EISDIR error names the target"
expect_absent ".hush-" "EISDIR error does not name a temp file"
ls -a "$work/isdir" | grep -q hush- && fail "no temp file left after EISDIR" || pass "no temp file left after EISDIR"

mkdir -m 755 "$work/rootonly"
chmod 711 "$work"
target=$work/rootonly/auth.json
expect_status 1 "an unwritable directory: exit 1" setpriv --reuid=65534 --regid=65534 --clear-groups "$HUSH" get codex-auth -s "$sock" -o "$target"
expect_output "$target: Permission denied" "EACCES error names the target"
expect_absent ".hush-" "EACCES error does not name a temp file"
target=$work/rootonly/new/auth.json
expect_status 1 "an unwritable parent for a new directory: exit 1" setpriv --reuid=65534 --regid=65534 --clear-groups "$HUSH" get codex-auth -s "$sock" -o "$target"
expect_output "$target: cannot create directory $work/rootonly/new: Permission denied" "mkdir error names the target and the directory"

# a failed fetch creates nothing
expect_status 1 "unknown credential: exit 1" "$HUSH" get nope -s "$sock" -o "$work/never/auth.json"
[ -e "$work/never" ] && fail "a failed fetch creates no directory" || pass "a failed fetch creates no directory"

cmp -s "$work/auth.json" "$work/auth.json.orig" && pass "the source file is untouched" || fail "the source file is untouched"
out=$(cat "$work/stderr" "$work/audit.jsonl")
expect_absent "$refresh" "no refresh token in hushd's stderr or audit log"
expect_absent "$access" "no access token in hushd's stderr or audit log"
kill -TERM "$pid"; wait "$pid"
finish
