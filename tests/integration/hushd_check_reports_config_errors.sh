# hushd --check: "ok" for valid configurations, every error with
# FILE:LINE and exit 78 for broken ones, never a secret in its output.
. "$(dirname "$0")/lib/common.sh"
D=$HUSH_TEST_DATA/conf

cp -r "$HUSH_SRC/contrib/examples" "$work/examples"
chmod -R go-w "$work/examples"
expect_status 0 "contrib example is valid" "$HUSHD" -c "$work/examples/hush.ini" --check
expect_output "ok" "contrib example prints ok"

for f in valid_every_key valid_continued_regex valid_with_include; do
	expect_status 0 "$f is valid" "$HUSHD" -c "$D/$f.ini" --check
	[ "$out" = ok ] && pass "$f prints exactly ok" || fail "$f prints exactly ok"
done

expect_status 78 "many errors: exit 78" "$HUSHD" -c "$D/invalid_many_errors_at_once.ini" --check
n=$(printf '%s\n' "$out" | grep -c 'invalid_many_errors_at_once.ini:[0-9]*: ')
[ "$n" -ge 13 ] && pass "all $n errors of the file reported at once" || fail "only $n errors reported"
# one shape (docs/internals.md "Error messages"): every line is
# "hushd: FILE:LINE: message"
m=$(printf '%s\n' "$out" | grep -c "^hushd: $D/invalid_many_errors_at_once.ini:[0-9]*: ")
[ "$m" -eq "$n" ] && pass "every error reads hushd: FILE:LINE: message" || fail "$m of $n errors in the shape hushd: FILE:LINE:"
expect_output 'invalid_many_errors_at_once.ini:2: unknown key "max_conections" in [broker]; did you mean "max_connections"?' "unknown key with suggestion"
expect_output 'invalid_many_errors_at_once.ini:33: rule "bad-regex": pattern: missing closing parenthesis at offset 14' "bad regex at its line with PCRE2's message and offset"
expect_output 'invalid_many_errors_at_once.ini:13: client "gw2": socket /tmp/hush-test/gw.sock is already used' "two clients on one socket"
# a missing source file is a warning (hushd_missing_source_not_fatal.sh)
printf '%s\n' "$out" | grep -q 'invalid_many_errors_at_once.ini:27: ' &&
    fail "a missing source file is not among the file's errors" ||
    pass "a missing source file is not among the file's errors"

expect_status 78 "overlong line: exit 78" "$HUSHD" -c "$D/invalid_overlong_line.ini" --check
expect_output 'invalid_overlong_line.ini:3: line is 221 characters long' "overlong line reported with its number"
expect_status 78 "unknown user/group: exit 78" "$HUSHD" -c "$D/invalid_unknown_user_and_group.ini" --check
expect_output 'invalid_unknown_user_and_group.ini:2: user: no such user' "unknown user at its line"
expect_output 'invalid_unknown_user_and_group.ini:3: group: no such group' "unknown group at its line"
expect_status 78 "included file's error: exit 78" "$HUSHD" -c "$D/invalid_include_names_included_file.ini" --check
expect_output 'included/broken.ini:4: unknown key "bogus"' "error names the included file and its line"

# A configuration others may write is refused.
cp "$D/valid_continued_regex.ini" "$work/open.ini"
chmod 0666 "$work/open.ini"
expect_status 78 "world-writable config refused" "$HUSHD" -c "$work/open.ini" --check
expect_output "writable by group or others" "refusal says why"
expect_status 78 "missing config file" "$HUSHD" -c "$work/none.ini" --check
expect_output "none.ini: No such file or directory" "missing file named"

# No secret in the output: a credential whose value is a marker, in a
# configuration with errors around it.
secret="hush-it-SECRET-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '{"a":{"b":"%s"}}' "$secret" > "$work/cred.json"
printf '%s\n' "$secret" > "$work/plain"
export HUSH_IT_SECRET="$secret"
cat > "$work/leak.ini" <<INI
[credential "json"]
source = file:$work/cred.json
json_field = a.b
[credential "plain"]
source = file:$work/plain
max_size = 4
[credential "envsecret"]
source = env:HUSH_IT_SECRET
[credential "cmd"]
source = exec:/bin/echo $secret
timeout = nonsense
[client "c"]
socket = $work/c.sock
allow = json, plian
[rule "r"]
pattern = (unclosed
INI
chmod 600 "$work/leak.ini"
expect_status 78 "config with errors near secrets: exit 78" "$HUSHD" -c "$work/leak.ini" --check
expect_absent "$secret" "no secret value in --check output"

expect_status 0 "--help" "$HUSHD" --help
expect_output "usage: hushd" "--help prints usage"
expect_status 0 "--version" "$HUSHD" --version
expect_status 2 "unknown option is a usage error" "$HUSHD" --bogus
finish
