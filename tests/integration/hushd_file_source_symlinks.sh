#!/bin/bash
# file: sources and symbolic links (docs/sources.md, "Whose file is
# served"): an unprivileged user who controls a source's path plants links
# to files she cannot read (root's key, another user's file, through a
# directory link, a relative "..", a sticky /tmp-like directory, a
# directory others may write, a world-readable file behind a directory
# only root may search) and gets none of them; her own file, a
# world-readable file and a root-owned Kubernetes secret volume with its
# "..data" swap keep being served.
. "$(dirname "$0")/lib/common.sh"

if [ "$(id -u)" != 0 ]; then
	echo "ok - skipped: needs root to create users"
	finish
	exit 0
fi

alice=hush-t-alice-$$
bob=hush-t-bob-$$
# a home outside $work (0700): the users must reach their directories
homes=$(mktemp -d /tmp/hush-homes.XXXXXX)
chmod 755 "$homes"
cleanup() {
	userdel "$alice" 2>/dev/null
	userdel "$bob" 2>/dev/null
	rm -rf "$homes" "$work"
}
trap cleanup EXIT
useradd -M -d "$homes/alice" -s /bin/sh "$alice" || exit 1
useradd -M -d "$homes/bob" -s /bin/sh "$bob" || exit 1
as_alice() { runuser -u "$alice" -- "$@"; }

mkdir -p "$homes/alice/.claude" "$homes/bob"
chown -R "$alice:" "$homes/alice"
chown "$bob:" "$homes/bob"
chmod 700 "$homes/bob"
# root's secret (a sealing key), bob's secret, a world-readable file
rootsecret='ROOT-SECRET-sealing-key-0123456789abcdef'
bobsecret='BOB-SECRET-0123456789abcdef0123456789'
public='PUBLIC-not-secret-0123456789abcdef'
mkdir -p "$work/etc"
printf '%s' "$rootsecret" > "$work/etc/master.key"
chmod 600 "$work/etc/master.key"
chmod 755 "$work" "$work/etc"
printf '%s' "$bobsecret" > "$homes/bob/secret"
chown "$bob:" "$homes/bob/secret"
chmod 600 "$homes/bob/secret"
printf '%s' "$public" > "$work/etc/public"
chmod 644 "$work/etc/public"
# world-readable, but in a directory only root may search (like /root)
hidden='HIDDEN-world-readable-in-0700-dir-0123456789'
mkdir -m 700 "$work/rootonly"
printf '%s' "$hidden" > "$work/rootonly/id.pub"
chmod 644 "$work/rootonly/id.pub"
mine='sk-ant-alice-own-credential-0123456789'
as_alice sh -c "umask 077; printf '%s' '$mine' > '$homes/alice/.claude/.credentials.json'"

# the links alice plants, each named by one credential
as_alice ln -s "$work/etc/master.key" "$homes/alice/.claude/to-root"
as_alice ln -s "$homes/bob/secret" "$homes/alice/.claude/to-bob"
as_alice ln -s .credentials.json "$homes/alice/.claude/to-own"
as_alice ln -s "$work/etc/public" "$homes/alice/.claude/to-public"
as_alice ln -s "$work/rootonly/id.pub" "$homes/alice/.claude/to-hidden"
as_alice ln -s "$work/etc" "$homes/alice/etcdir"
as_alice ln -s ../../../../..$work/etc/master.key "$homes/alice/.claude/dotdot"
as_alice mkdir -m 777 "$homes/alice/shared"
as_alice sh -c "printf x > '$homes/alice/shared/f'"
# a sticky, world-writable directory owned by root (like /tmp)
mkdir -m 1777 "$work/tmp"
as_alice ln -s "$work/etc/master.key" "$work/tmp/planted"
printf '%s' "$public" > "$work/tmp/roots"
chmod 600 "$work/tmp/roots"
# a Kubernetes secret volume: all root, token -> ..data/token
k1='k8s-token-one-0123456789abcdef01234'
k2='k8s-token-two-0123456789abcdef01234'
mkdir -p "$work/k8s/..2026_1" "$work/k8s/..2026_2"
printf '%s' "$k1" > "$work/k8s/..2026_1/token"
printf '%s' "$k2" > "$work/k8s/..2026_2/token"
chmod 600 "$work/k8s/..2026_1/token" "$work/k8s/..2026_2/token"
ln -s ..2026_1 "$work/k8s/..data"
ln -s ..data/token "$work/k8s/token"

cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
[client "a"]
socket = $work/a.sock
allow = *
[credential "own"]
source = file:$homes/alice/.claude/.credentials.json
[credential "to-root"]
source = file:$homes/alice/.claude/to-root
[credential "to-bob"]
source = file:$homes/alice/.claude/to-bob
[credential "to-own"]
source = file:$homes/alice/.claude/to-own
[credential "to-public"]
source = file:$homes/alice/.claude/to-public
[credential "to-hidden"]
source = file:$homes/alice/.claude/to-hidden
[credential "via-dir-link"]
source = file:$homes/alice/etcdir/master.key
[credential "dotdot"]
source = file:$homes/alice/.claude/dotdot
[credential "shared"]
source = file:$homes/alice/shared/f
[credential "sticky-planted"]
source = file:$work/tmp/planted
[credential "sticky-roots"]
source = file:$work/tmp/roots
[credential "k8s"]
source = file:$work/k8s/token
EOF
chmod 600 "$work/hush.ini"
start_hushd "$work/a.sock" || exit 1

get() { out=$(curl -s --unix-socket "$work/a.sock" -w ' %{http_code}' "http://h/v1/credentials/$1"); }

get own
[ "$out" = "$mine 200" ] && pass "her own file (the SPEC example) is served" || fail "own: $out"
get to-own
[ "$out" = "$mine 200" ] && pass "a link to her own file is served" || fail "to-own: $out"
get to-public
[ "$out" = "$public 200" ] && pass "a link to a world-readable file is served" || fail "to-public: $out"
for c in to-root via-dir-link dotdot sticky-planted; do
	get $c
	case $out in
	*"$rootsecret"*) fail "$c: root's key served" ;;
	*" 500") pass "$c: a link to root's 0600 key is refused" ;;
	*) fail "$c: unexpected answer: $out" ;;
	esac
done
get to-hidden
case $out in
*"$hidden"*) fail "to-hidden: a file behind root's 0700 directory served" ;;
*" 500") pass "a world-readable file she cannot reach (0700 directory) is refused" ;;
*) fail "to-hidden: unexpected answer: $out" ;;
esac
get to-bob
case $out in
*"$bobsecret"*) fail "to-bob: bob's file served" ;;
*" 500") pass "a link to another user's 0600 file is refused" ;;
*) fail "to-bob: unexpected answer: $out" ;;
esac
get shared
case $out in
*" 500") pass "a directory others may write is refused" ;;
*) fail "shared: $out" ;;
esac
grep -q "shared is writable by group or others (mode 0777)" "$work/stderr" && pass "stderr says which directory and why" || fail "stderr says which directory and why"
get sticky-roots
[ "$out" = "$public 200" ] && pass "root's own file in a sticky directory is served" || fail "sticky-roots: $out"

get k8s
[ "$out" = "$k1 200" ] && pass "k8s secret volume: first value" || fail "k8s: $out"
ln -s ..2026_2 "$work/k8s/..data_tmp"
mv -T "$work/k8s/..data_tmp" "$work/k8s/..data"
get k8s
[ "$out" = "$k2 200" ] && pass "k8s ..data swapped: new value" || fail "k8s after swap: $out"

# alice swaps her own file for a link to root's key after it was served
as_alice ln -sfn "$work/etc/master.key" "$homes/alice/.claude/.credentials.json"
get own
case $out in
*"$rootsecret"*) fail "swapped: root's key served" ;;
*) pass "her file swapped for a link to root's key: not served" ;;
esac

kill -TERM "$pid"; wait "$pid"
out=$(cat "$work/stderr" "$work/audit.jsonl")
expect_absent "$rootsecret" "root's key never in stderr or the audit log"
expect_absent "$bobsecret" "bob's secret never in stderr or the audit log"
expect_absent "$hidden" "the hidden file never in stderr or the audit log"
expect_output "uid $(id -u "$alice") can change the path" "the refusal names who controls the path"
finish
