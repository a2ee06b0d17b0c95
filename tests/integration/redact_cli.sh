#!/usr/bin/env bash
# hush-redact as users run it: pipes, files, options, exit statuses, and
# no secret in any output or error message.
set -u
: "${HUSH_REDACT:?HUSH_REDACT must point at the hush-redact binary}"
R=$HUSH_REDACT
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
umask 022
fails=0
GH=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

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# A pipe: secrets masked, everything else byte for byte.
printf 'plain line\ntoken=%s\r\nno newline %s' "$GH" "$GH" >"$T/in"
printf 'plain line\ntoken=[REDACTED:github-token]\r\nno newline [REDACTED:github-token]' >"$T/want"
"$R" <"$T/in" >"$T/out"; st=$?
if [ $st -eq 0 ] && cmp -s "$T/out" "$T/want"; then ok "pipe"; else fail "pipe (status $st)"; fi

# FILE arguments and "-" in order.
printf 'one %s\n' "$GH" >"$T/a"
printf 'two\n' | "$R" "$T/a" - "$T/a" >"$T/out"
if [ "$(cat "$T/out")" = "$(printf 'one [REDACTED:github-token]\ntwo\none [REDACTED:github-token]')" ]; then
	ok "files and -"; else fail "files and -"; fi

# --check: FILE:LINE: rule, never the secret, status 1 when found.
printf 'a\nb\nkey %s\n' "$GH" >"$T/c"
out=$("$R" --check "$T/c"); st=$?
if [ $st -eq 1 ] && [ "$out" = "$T/c:3: github-token" ]; then ok "--check finds"; else fail "--check finds: $st $out"; fi
out=$("$R" --check "$T/in" <<<"" 2>&1 | grep -c "$GH")
[ "$out" = 0 ] && ok "--check hides the secret" || fail "--check printed the secret"
printf 'nothing here\n' | "$R" --check >/dev/null; st=$?
[ $st -eq 0 ] && ok "--check clean is 0" || fail "--check clean: $st"

# --stats on stderr.
"$R" --stats <"$T/in" >/dev/null 2>"$T/err"
grep -Eq '^ +2 github-token$' "$T/err" && ok "--stats" || fail "--stats: $(cat "$T/err")"

# --list-rules.
"$R" --list-rules >"$T/out"; st=$?
if [ $st -eq 0 ] && grep -q '^github-token$' "$T/out" && grep -q 'keywords: ghp_' "$T/out"; then
	ok "--list-rules"; else fail "--list-rules"; fi
n=$("$R" --no-builtin --list-rules | wc -l)
[ "$n" = 0 ] && ok "--no-builtin" || fail "--no-builtin lists $n lines"

# --format, and a bad one is a usage error.
printf 'x %s\n' "$GH" | "$R" --format '<{rule}:{len}>' >"$T/out"
[ "$(cat "$T/out")" = "x <github-token:40>" ] && ok "--format" || fail "--format: $(cat "$T/out")"
printf 'x\n' | "$R" --format '{nope}' >/dev/null 2>"$T/err"; st=$?
[ $st -eq 2 ] && grep -q '{nope}' "$T/err" && ok "--format bad" || fail "--format bad: $st"

# -l: literals and their encodings; a short one is refused with FILE:LINE
# and its value is never printed.
printf 'Lit3ralSecretValue\n' >"$T/lits"
b64=$(printf 'Lit3ralSecretValue' | base64)
printf 'a Lit3ralSecretValue b\nc %s d\n' "$b64" | "$R" --no-builtin -l "$T/lits" >"$T/out"
if ! grep -q 'Lit3ral' "$T/out" && ! grep -q "$b64" "$T/out" && [ "$(grep -c 'REDACTED:literal' "$T/out")" = 2 ]; then
	ok "-l literal and base64"; else fail "-l: $(cat "$T/out")"; fi
printf 'longenoughvalue\nshrt7ch\n' >"$T/short"
"$R" -l "$T/short" </dev/null >/dev/null 2>"$T/err"; st=$?
if [ $st -eq 78 ] && grep -q "^hush-redact: $T/short:2: " "$T/err" && ! grep -q shrt7ch "$T/err"; then
	ok "-l short literal refused"; else fail "-l short: $st $(cat "$T/err")"; fi

# -r: user rules; a bad pattern is 78 with FILE:LINE.
cat >"$T/rules.ini" <<'INI'
[rule "acme-token"]
pattern = acme_([a-z0-9]{12})
keywords = acme_
secret_group = 1
INI
printf 'id acme_abcdef123456 ok\n' | "$R" -r "$T/rules.ini" >"$T/out"
[ "$(cat "$T/out")" = "id acme_[REDACTED:acme-token] ok" ] && ok "-r rules" || fail "-r: $(cat "$T/out")"
printf '[rule "bad"]\n\npattern = acme_(\n' >"$T/bad.ini"
"$R" -r "$T/bad.ini" </dev/null >/dev/null 2>"$T/err"; st=$?
[ $st -eq 78 ] && grep -q "^hush-redact: $T/bad.ini:3: " "$T/err" && ok "-r bad pattern" || fail "-r bad: $st $(cat "$T/err")"

# -c: [redact] errors are 78 with FILE:LINE.
printf '[redact]\ndisable = jwt, github-tokn\n' >"$T/hush.ini"
"$R" -c "$T/hush.ini" </dev/null >/dev/null 2>"$T/err"; st=$?
[ $st -eq 78 ] && grep -q "^hush-redact: $T/hush.ini:2: .*github-tokn.*did you mean \"github-token\"" "$T/err" \
	&& ok "-c unknown disable" || fail "-c disable: $st $(cat "$T/err")"
printf '[redact]\ndisable = github-token\nformat = ***\n' >"$T/hush.ini"
printf 'a %s\n' "$GH" | "$R" -c "$T/hush.ini" >"$T/out"
[ "$(cat "$T/out")" = "a $GH" ] && ok "-c disable" || fail "-c disable: $(cat "$T/out")"

# -c with a [credential] served as one JSON field: its value is masked.
cat >"$T/cred.json" <<'JSON'
{"svc": {"token": "PlainCredValue-0042", "user": "bob"}}
JSON
cat >"$T/hush.ini" <<INI
[credential "svc"]
source = file:$T/cred.json
json_field = svc.token
INI
chmod 600 "$T/hush.ini"
cb64=$(printf 'PlainCredValue-0042' | base64)
printf 'x PlainCredValue-0042 y\nz %s\nbob\n' "$cb64" | "$R" --no-builtin -c "$T/hush.ini" >"$T/out" 2>"$T/err"; st=$?
if [ $st -eq 0 ] && ! grep -q PlainCredValue "$T/out" && ! grep -q "$cb64" "$T/out" \
	&& [ "$(grep -c 'REDACTED:credential:svc' "$T/out")" = 2 ] && grep -q '^bob$' "$T/out"; then
	ok "-c credential json_field"; else fail "-c credential: $st $(cat "$T/out" "$T/err")"; fi
printf '[redact]\ncredentials = no\n' >>"$T/hush.ini"
printf 'x PlainCredValue-0042\n' | "$R" --no-builtin -c "$T/hush.ini" >"$T/out"
grep -q PlainCredValue "$T/out" && ok "credentials = no" || fail "credentials = no"

# A credential too short to mask is refused by name, never by value.
printf '{"svc": {"token": "Zq7xW"}}\n' >"$T/cred.json"
sed -i '/^\[redact\]/,$d' "$T/hush.ini"
"$R" -c "$T/hush.ini" </dev/null >/dev/null 2>"$T/err"; st=$?
if [ $st -eq 78 ] && grep -q 'credential "svc"' "$T/err" && ! grep -q Zq7xW "$T/err"; then
	ok "-c short credential refused"; else fail "-c short credential: $st $(cat "$T/err")"; fi

# A closed pipe ends the filter quietly with status 0.
( yes "line $GH" | head -c 20000000; ) | "$R" 2>"$T/err" | head -n 1 >"$T/out"
st=${PIPESTATUS[1]}
if [ "$st" -eq 0 ] && [ ! -s "$T/err" ] && [ "$(cat "$T/out")" = "line [REDACTED:github-token]" ]; then
	ok "EPIPE quiet"; else fail "EPIPE: status $st, $(cat "$T/err")"; fi

# A read error is status 1 with a message; a missing file too.
"$R" "$T" >/dev/null 2>"$T/err"; st=$?
[ $st -eq 1 ] && grep -q 'read error' "$T/err" && ok "read error" || fail "read error: $st"
"$R" "$T/missing" >/dev/null 2>"$T/err"; st=$?
[ $st -eq 1 ] && grep -q 'missing' "$T/err" && ok "missing file" || fail "missing: $st"

# Usage.
"$R" --help >/dev/null && ok "--help" || fail "--help"
"$R" --version | grep -q '^hush-redact ' && ok "--version" || fail "--version"
"$R" --bogus </dev/null >/dev/null 2>&1; st=$?
[ $st -eq 2 ] && ok "unknown option" || fail "unknown option: $st"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
