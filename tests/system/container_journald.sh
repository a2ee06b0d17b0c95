#!/bin/bash
# The journald recipe, live: `journalctl -f -o cat | hush-redact -c
# hush.ini`. A real systemd-journald runs in a podman container (its own
# /run, so the host's journal is never touched); a program there fetches
# a credential from hushd through the mounted socket directory and logs
# it with systemd-cat; the follower must mask it and keep following.
. "$(dirname "$0")/lib/hostenv.bash"
. "$(dirname "$0")/lib/podman.bash"

require_containers
need_release_build || { fail "release build"; finish; exit 1; }
need_image hush-test-debian "$CTR_ROOT" $CTR_PKGS || { fail "Debian image from a debootstrap root"; finish; exit 1; }

host=$work/host
mkdir -p "$host" "$work/agent" "$work/out"
chmod 700 "$host" "$work/agent"
token='ghp_JournaldTest0123456789abcdefghijklmnop'
printf '%s\n' "$token" > "$host/github"
sock=$work/agent/hush.sock
cat > "$work/hush.ini" <<EOF
[client "agent"]
socket = $sock
allow = github
[credential "github"]
source = file:$host/github
EOF
chmod 600 "$work/hush.ini"
start_hushd_conf "$work/hush.ini" "$sock" || { fail "hushd starts"; finish; exit 1; }

cat > "$work/out/run.sh" <<'EOF'
set -u
/lib/systemd/systemd-journald 2>/out/journald.err &
for _ in $(seq 300); do [ -S /run/systemd/journal/stdout ] && break; sleep 0.1; done
[ -S /run/systemd/journal/stdout ] || { echo "journald did not start"; cat /out/journald.err; exit 1; }
# The README recipe, following live.
journalctl -f -o cat | /hush-redact -c "$HUSH_INI" > /out/redacted.log &
echo "before the fetch" | systemd-cat -t app
tok=$(curl -sf --unix-socket /run/hush/hush.sock http://hush/v1/credentials/github)
echo "pushing with token $tok" | systemd-cat -t app
echo "END-OF-TEST" | systemd-cat -t app
for _ in $(seq 600); do grep -q END-OF-TEST /out/redacted.log && break; sleep 0.1; done
journalctl -o cat > /out/raw.log
echo container-done
EOF
out=$("${PODMAN[@]}" "${PODMAN_RUN[@]}" -v "$work/agent:/run/hush:ro" \
    -v "$work/hush.ini:$work/hush.ini:ro" -v "$host:$host:ro" \
    -v "$HUSH_REDACT:/hush-redact:ro" -v "$work/out:/out" -e HUSH_INI="$work/hush.ini" \
    localhost/hush-test-debian:latest sh /out/run.sh 2>&1); rc=$?
[ "$rc" = 0 ] && pass "the container ran journald and the follower" || { fail "the container ran journald and the follower ($rc)"; printf '%s\n' "$out" | tail -20; }
grep -q "pushing with token $token" "$work/out/raw.log" && pass "the journal itself holds the token (the leak being filtered)" || fail "the journal holds the token"
out=$(cat "$work/out/redacted.log")
expect_output "before the fetch" "journalctl -f | hush-redact passes clean lines"
expect_output "pushing with token [REDACTED:credential:github]" "journalctl -f | hush-redact masks the served credential"
expect_output "END-OF-TEST" "the follower stayed live to the last line"
expect_absent "$token" "the token is not in the redacted stream"
stop_bg
finish
