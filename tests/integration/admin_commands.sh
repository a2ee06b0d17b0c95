#!/bin/bash
# hush token, keygen and seal as real processes: output formats, file
# modes, the token matching its hash, and a sealed file that a
# configuration accepts.
set -u
: "${HUSH:?HUSH must name the hush binary}" "${HUSHD:?HUSHD must name hushd}"

T=$(mktemp -d /tmp/hush-admin-XXXXXX)
trap 'rm -rf "$T"' EXIT
umask 077
fails=0

ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
expect() {	# expect DESC COMMAND...: the command succeeds
	local desc=$1; shift
	if "$@"; then ok "$desc"; else bad "$desc"; fi
}
mode_of() { stat -c %a "$1"; }

# --- hush token ---
"$HUSH" token >"$T/tok" 2>"$T/tok.err"
expect "token exits 0" test $? -eq 0
tok=$(cat "$T/tok")
expect "token is hush_ and 43 base64url characters on one line" \
	grep -Eqx 'hush_[A-Za-z0-9_-]{43}' "$T/tok"
expect "token output is exactly one line" test "$(wc -l <"$T/tok")" -eq 1
expect "token prints one token_hash line on stderr" \
	grep -Eqx 'token_hash = [0-9a-f]{64}' "$T/tok.err"
expect "token stderr has nothing else" test "$(wc -l <"$T/tok.err")" -eq 1
hash=$(sed -n 's/^token_hash = //p' "$T/tok.err")
want=$(printf %s "$tok" | python3 -c \
	'import hashlib,sys; print(hashlib.blake2b(sys.stdin.buffer.read(), digest_size=32).hexdigest())')
expect "token_hash is BLAKE2b-256 of the token" test "$hash" = "$want"
expect "token never appears on stderr" \
	test "$(grep -cF -- "$tok" "$T/tok.err")" -eq 0
tok2=$("$HUSH" token 2>/dev/null)
expect "two tokens differ" test "$tok" != "$tok2"

# The hash line pastes into a [client] section as is.
cat >"$T/client.ini" <<EOF
[credential "c"]
source = env:HOME

[client "ci"]
socket = $T/ci.sock
$(cat "$T/tok.err")
allow = c
EOF
out=$("$HUSHD" -c "$T/client.ini" --check 2>&1)
expect "the token_hash line is accepted by hushd --check" test "$out" = ok

"$HUSH" token extra >/dev/null 2>&1
expect "token with an argument is a usage error (2)" test $? -eq 2
"$HUSH" token --help >"$T/help" 2>&1
expect "token --help exits 0" test $? -eq 0
expect "token --help says how" grep -q '^usage: hush token' "$T/help"

# --- hush keygen ---
"$HUSH" keygen -o "$T/master.key" 2>"$T/kg.err"
expect "keygen exits 0" test $? -eq 0
expect "keygen makes a 0600 file" test "$(mode_of "$T/master.key")" = 600
expect "key file is one line hush-key-v1:<base64 of 32 bytes>" \
	grep -Eqx 'hush-key-v1:[A-Za-z0-9+/]{43}=' "$T/master.key"
expect "key file has exactly one line" \
	test "$(wc -l <"$T/master.key")" -eq 1
expect "keygen prints nothing" test ! -s "$T/kg.err"
cp "$T/master.key" "$T/master.key.orig"
"$HUSH" keygen -o "$T/master.key" >"$T/kg2.out" 2>"$T/kg2.err"
expect "keygen refuses to overwrite (exit 1)" test $? -eq 1
expect "keygen left the existing key alone" \
	cmp -s "$T/master.key" "$T/master.key.orig"
expect "keygen says why" grep -q 'refusing to overwrite' "$T/kg2.err"
expect "keygen never prints the existing key" \
	test "$(cat "$T/kg2.out" "$T/kg2.err" | grep -c 'hush-key-v1')" -eq 0
(umask 000 && "$HUSH" keygen -o "$T/loose.key")
expect "keygen makes 0600 even under umask 000" \
	test "$(mode_of "$T/loose.key")" = 600
"$HUSH" keygen >/dev/null 2>&1
expect "keygen without -o is a usage error (2)" test $? -eq 2
"$HUSH" keygen -o "$T/x.key" extra >/dev/null 2>&1
expect "keygen with an extra argument is a usage error (2)" test $? -eq 2
expect "and made no file" test ! -e "$T/x.key"
"$HUSH" keygen --help | grep -q '^usage: hush keygen'
expect "keygen --help" test "${PIPESTATUS[0]}" -eq 0

# --- hush seal ---
secret="sealed-value-$RANDOM$RANDOM"
printf '%s' "$secret" >"$T/plain"
"$HUSH" seal -k "$T/master.key" -o "$T/deploy.sealed" "$T/plain"
expect "seal INPUT -o FILE exits 0" test $? -eq 0
expect "sealed file is 0600" test "$(mode_of "$T/deploy.sealed")" = 600
expect "sealed file is the plaintext plus 49 bytes" \
	test "$(stat -c %s "$T/deploy.sealed")" -eq $((${#secret} + 49))
expect "sealed file starts with HUSHSEAL and version 1" \
	test "$(head -c 9 "$T/deploy.sealed" | od -An -c | tr -d ' \n')" = 'HUSHSEAL001'
expect "sealed file does not contain the plaintext" \
	test "$(grep -caF -- "$secret" "$T/deploy.sealed")" -eq 0
printf '%s' "$secret" | "$HUSH" seal -k "$T/master.key" >"$T/stdout.sealed"
expect "seal from stdin to stdout exits 0" test "${PIPESTATUS[1]}" -eq 0
expect "stdout seal has the same size" \
	test "$(stat -c %s "$T/stdout.sealed")" -eq $((${#secret} + 49))
expect "sealing twice gives different files" \
	test "$(cmp -s "$T/stdout.sealed" "$T/deploy.sealed"; echo $?)" -eq 1

# -o replaces an existing file atomically, with mode 0600 whatever it had.
printf old >"$T/replace.sealed"
chmod 644 "$T/replace.sealed"
(umask 022 && "$HUSH" seal -k "$T/master.key" -o "$T/replace.sealed" \
	"$T/plain")
expect "seal -o replaces an existing file" \
	test "$(stat -c %s "$T/replace.sealed")" -eq $((${#secret} + 49))
expect "replaced file is 0600" test "$(mode_of "$T/replace.sealed")" = 600
expect "no temporary file is left behind" \
	test -z "$(find "$T" -name '*.tmp-*')"

# A configuration using the sealed file and its key is valid.
cat >"$T/hush.ini" <<EOF
[credential "deploy"]
source = sealed:$T/deploy.sealed
key_file = $T/master.key
EOF
out=$("$HUSHD" -c "$T/hush.ini" --check 2>&1)
expect "hushd --check accepts the sealed credential (prints ok)" \
	test "$out" = ok
expect "hushd --check never prints the value" \
	test "$(printf '%s' "$out" | grep -cF -- "$secret")" -eq 0

"$HUSH" seal -o "$T/nokey.sealed" "$T/plain" >/dev/null 2>&1
expect "seal without -k is a usage error (2)" test $? -eq 2
"$HUSH" seal -k "$T/master.key" "$T/plain" "$T/plain" >/dev/null 2>&1
expect "seal with two inputs is a usage error (2)" test $? -eq 2
"$HUSH" seal -k "$T/master.key" -Z "$T/plain" >/dev/null 2>&1
expect "seal with an unknown option is a usage error (2)" test $? -eq 2
"$HUSH" seal --help | grep -q '^usage: hush seal'
expect "seal --help" test "${PIPESTATUS[0]}" -eq 0
"$HUSH" frobnicate >/dev/null 2>&1
expect "an unknown command is a usage error (2)" test $? -eq 2

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all admin command checks passed"
