#!/usr/bin/env bash
# hush-redact --list-rules names every rule of the built-in pack
# (redact/pack/*.ini), each with its keywords and description.
set -u
: "${HUSH_REDACT:?}" "${HUSH_SRC:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
sed -n 's/^\[rule "\(.*\)"\]$/\1/p' "$HUSH_SRC"/redact/pack/*.ini | sort >"$T/pack"
"$HUSH_REDACT" --list-rules >"$T/list" || { echo "FAIL: exit $?"; exit 1; }
grep -v '^ ' "$T/list" | sort >"$T/listed"
n=$(wc -l <"$T/pack")
echo "pack: $n rules, listed: $(wc -l <"$T/listed")"
fails=0
[ "$n" -ge 200 ] || { echo "FAIL: only $n rules in the pack"; fails=1; }
diff "$T/pack" "$T/listed" || { echo "FAIL: listed names differ"; fails=1; }
[ "$(grep -c '^  keywords: ' "$T/list")" -eq "$n" ] ||
	{ echo "FAIL: a rule without keywords"; fails=1; }
exit $fails
