#!/bin/bash
# Every way `hush seal` and `hush keygen` can fail: the right exit status,
# a message that says why, no file left behind, and never a byte of the
# secret or of the key on stdout or stderr.
set -u
: "${HUSH:?HUSH must name the hush binary}" "${HUSHD:?HUSHD must name hushd}"

T=$(mktemp -d /tmp/hush-admin-leak-XXXXXX)
trap 'rm -rf "$T"' EXIT
umask 077
fails=0

ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
expect() {
	local desc=$1; shift
	if "$@"; then ok "$desc"; else bad "$desc"; fi
}

canary="HUSHCANARY$RANDOM$RANDOM"
printf 'password=%s\n' "$canary" >"$T/plain"
"$HUSH" keygen -o "$T/good.key" || { echo "keygen failed"; exit 1; }
keytext=$(sed 's/^hush-key-v1://' "$T/good.key")

# run NAME EXIT CMD...: runs CMD, checks its exit status and that neither
# stream holds the canary or the key.
run() {
	local name=$1 want=$2 rc; shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	expect "$name: exits $want" test "$rc" -eq "$want"
	expect "$name: says why on stderr" test -s "$T/err"
	if grep -qaF -- "$canary" "$T/out" "$T/err" ||
	    grep -qaF -- "$keytext" "$T/out" "$T/err"; then
		bad "$name: leaks a secret"
	else
		ok "$name: leaks nothing"
	fi
}

# A key others may read is refused, and the key is not quoted.
cp "$T/good.key" "$T/open.key"
chmod 644 "$T/open.key"
run "seal with a group-readable key" 1 \
	"$HUSH" seal -k "$T/open.key" -o "$T/o1" "$T/plain"
expect "it names the mode" grep -q 'mode 0644' "$T/err"
expect "no output file" test ! -e "$T/o1"

# A malformed key holding the canary: its text is never echoed.
printf 'hush-key-v1:%s\n' "$canary" >"$T/bad.key"
run "seal with a malformed key" 1 \
	"$HUSH" seal -k "$T/bad.key" -o "$T/o2" "$T/plain"
expect "it says malformed" grep -q 'malformed hush key' "$T/err"
printf '%s\n' "$canary" >"$T/notakey.key"
run "seal with a file that is not a key" 1 \
	"$HUSH" seal -k "$T/notakey.key" -o "$T/o2" "$T/plain"
run "seal with a missing key" 1 \
	"$HUSH" seal -k "$T/missing.key" -o "$T/o3" "$T/plain"

# Over 1 MiB of input: an error, no output, no temporary file.
python3 -c "import sys; sys.stdout.write('$canary' * (1048576 // ${#canary} + 1))" \
	>"$T/big"
run "seal of more than 1 MiB" 1 \
	"$HUSH" seal -k "$T/good.key" -o "$T/o4" "$T/big"
expect "it says larger" grep -q 'larger than 1048576 bytes' "$T/err"
expect "no output file" test ! -e "$T/o4"
run "seal of more than 1 MiB from stdin" 1 \
	sh -c '"$1" seal -k "$2" <"$3"' sh "$HUSH" "$T/good.key" "$T/big"
expect "nothing on stdout" test ! -s "$T/out"
head -c 1048576 "$T/big" >"$T/exact"
"$HUSH" seal -k "$T/good.key" -o "$T/exact.sealed" "$T/exact"
expect "exactly 1 MiB is sealed" test $? -eq 0

: >"$T/empty"
run "seal of an empty input" 1 \
	"$HUSH" seal -k "$T/good.key" -o "$T/o5" "$T/empty"
expect "no output file" test ! -e "$T/o5"
run "seal of a missing input" 1 \
	"$HUSH" seal -k "$T/good.key" -o "$T/o6" "$T/nope"
run "seal into a missing directory" 1 \
	"$HUSH" seal -k "$T/good.key" -o "$T/no/such/dir/o7" "$T/plain"
expect "no temporary file is left behind" \
	test -z "$(find "$T" -name '*.tmp-*')"

# Usage errors.
run "seal without -k" 2 "$HUSH" seal "$T/plain"
run "seal -k without its argument" 2 "$HUSH" seal -k
run "keygen over an existing key" 1 "$HUSH" keygen -o "$T/good.key"
run "keygen into a missing directory" 1 \
	"$HUSH" keygen -o "$T/no/such/dir/k"

# hushd --check reads no values: a configuration whose sources hold the
# canary, valid or not, never prints it.
printf '%s' "$canary" >"$T/value"
"$HUSH" seal -k "$T/good.key" -o "$T/value.sealed" "$T/value"
cat >"$T/hush.ini" <<EOF
[credential "file"]
source = file:$T/value
json_field = a.b

[credential "sealed"]
source = sealed:$T/value.sealed
key_file = $T/good.key

[credential "sealed-open-key"]
source = sealed:$T/value.sealed
key_file = $T/missing.key

[credential "exec"]
source = exec:/bin/cat $T/value
EOF
"$HUSHD" -c "$T/hush.ini" --check >"$T/out" 2>"$T/err"
expect "hushd --check fails on the missing key file (78)" test $? -eq 78
expect "hushd --check names the key file" grep -q 'missing.key' "$T/err"
expect "hushd --check leaks no value" \
	test "$(cat "$T/out" "$T/err" | grep -caF -- "$canary")" -eq 0

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all failure checks passed"
