#!/bin/bash
# hush in real containers (podman as root, vfs, cgroupfs, no network):
#  - a Debian image with only the socket directory mounted read-only
#    fetches a credential with curl --unix-socket;
#  - an image holding nothing but the static client fetches it too;
#  - `podman logs -f NAME | hush-redact` masks a container's output;
#  - contrib/compose/hush.override.yml over a compose file that still
#    mounts a (fake) home directory's ~/.codex and ~/.claude: the workload
#    gets its credentials and the host files stay byte-identical.
. "$(dirname "$0")/lib/hostenv.bash"
. "$(dirname "$0")/lib/podman.bash"

require_containers
need_release_build || { fail "release build"; finish; exit 1; }
need_static_client || { fail "static client (make static-client)"; finish; exit 1; }
need_image hush-test-debian "$CTR_ROOT" $CTR_PKGS || { fail "Debian image from a debootstrap root"; finish; exit 1; }
# The static client's image: that file and nothing else.
mkdir -p "$work/scratch"
install -m 755 "$HUSH_STATIC" "$work/scratch/hush"
tar -C "$work/scratch" -c hush | "${PODMAN[@]}" import - localhost/hush-test-static:latest >"$work/import.log" 2>&1 ||
    { fail "scratch image with the static client"; finish; exit 1; }
pass "images built locally (no registry)"
"${PODMAN[@]}" image prune -f >/dev/null 2>&1 || true	# the previous run's

host=$work/host
mkdir -p "$host/.codex" "$host/.claude" "$work/agent"
chmod 700 "$host" "$work/agent"
access='at-container-0123456789abcdefghijklmnopqr'
refresh='rt-container-host-only-0123456789abcdefghij'
oauth='sk-ant-oat01-ContainerTest0123456789abcdefghijklmnopq-AAAA'
crefresh='sk-ant-ort01-ContainerRefresh0123456789abcdefghijklm-AAAA'
cat > "$host/.codex/auth.json" <<EOF
{"auth_mode":"chatgpt","OPENAI_API_KEY":null,"tokens":{"id_token":"eyJ.id.sig","access_token":"$access","refresh_token":"$refresh","account_id":"acct-1"},"last_refresh":"2026-11-29T10:00:00Z"}
EOF
cat > "$host/.claude/.credentials.json" <<EOF
{"claudeAiOauth":{"accessToken":"$oauth","refreshToken":"$crefresh","expiresAt":4102444800000}}
EOF
( cd "$host" && find . -type f -exec sha256sum {} + | sort ) > "$work/host.sums"
sock=$work/agent/hush.sock
cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
[client "agent"]
socket = $sock
socket_mode = 0660
allow = claude-token, codex-auth
[credential "claude-token"]
source = file:$host/.claude/.credentials.json
json_field = claudeAiOauth.accessToken
content_type = text/plain
[credential "codex-auth"]
source = file:$host/.codex/auth.json
json_blank = tokens.refresh_token
content_type = application/json
EOF
chmod 600 "$work/hush.ini"
start_hushd_conf "$work/hush.ini" "$sock" || { fail "hushd starts"; finish; exit 1; }
want_codex=$("$HUSH" get codex-auth -s "$sock" | sha256sum | cut -d' ' -f1)

# 1. curl in a plain Debian image, only the socket directory mounted, ro.
out=$("${PODMAN[@]}" "${PODMAN_RUN[@]}" -v "$work/agent:/run/hush:ro" \
    localhost/hush-test-debian:latest \
    curl -sS -f --unix-socket /run/hush/hush.sock http://hush/v1/credentials/claude-token 2>&1); rc=$?
[ "$rc" = 0 ] && [ "$out" = "$oauth" ] && pass "curl --unix-socket in a container gets the served token" ||
    { fail "curl --unix-socket in a container gets the served token (exit $rc)"; printf '%s\n' "$out" | tail -5 | sed "s/$oauth/<token>/g"; }
out=$("${PODMAN[@]}" "${PODMAN_RUN[@]}" -v "$work/agent:/run/hush:ro" \
    localhost/hush-test-debian:latest sh -c \
    'curl -sS --unix-socket /run/hush/hush.sock http://hush/v1/credentials; echo;
     touch /run/hush/x 2>&1 || echo read-only-ok; ls -A /run/hush' 2>&1)
expect_output '{"credentials":["claude-token","codex-auth"]}' "the container lists what it may read"
expect_output "read-only-ok" "the socket directory is read-only in the container"
case $out in *hush.sock*) pass "only the socket is in the mounted directory" ;; *) fail "only the socket is in the mounted directory: $out" ;; esac

# 2. The static client in an image that holds nothing else.
out=$("${PODMAN[@]}" "${PODMAN_RUN[@]}" -v "$work/agent:/run/hush:ro" \
    -e HUSH_SOCKET=/run/hush/hush.sock localhost/hush-test-static:latest \
    /hush get claude-token 2>&1); rc=$?
[ "$rc" = 0 ] && [ "$out" = "$oauth" ] && pass "static client in an empty image gets the served token" ||
    { fail "static client in an empty image gets the served token (exit $rc)"; printf '%s\n' "$out" | tail -5 | sed "s/$oauth/<token>/g"; }
out=$("${PODMAN[@]}" "${PODMAN_RUN[@]}" -v "$work/agent:/run/hush:ro" \
    localhost/hush-test-static:latest /hush list -s /run/hush/hush.sock 2>&1)
[ "$out" = "$(printf 'claude-token\ncodex-auth')" ] && pass "static client: hush list" || fail "static client: hush list: $out"
# get -o into a directory that does not exist in the image (item 7)
out=$("${PODMAN[@]}" "${PODMAN_RUN[@]}" -v "$work/agent:/run/hush:ro" \
    -e HUSH_SOCKET=/run/hush/hush.sock localhost/hush-test-static:latest \
    /hush get codex-auth -o /root/.codex/auth.json 2>&1); rc=$?
[ "$rc" = 0 ] && pass "static client: get -o creates ~/.codex in an empty image" || fail "static client: get -o in an empty image: $out"

# 3. podman logs -f | hush-redact (README recipe), the container's output
#    carrying the served token.
"${PODMAN[@]}" run -d --name hush-logs-$$ --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
    -v "$work/agent:/run/hush:ro" localhost/hush-test-debian:latest sh -c \
    'echo "start"; echo "token=$(curl -s --unix-socket /run/hush/hush.sock http://hush/v1/credentials/claude-token)"; echo "done"' >/dev/null
"${PODMAN[@]}" logs -f hush-logs-$$ 2>&1 | "$HUSH_REDACT" -c "$work/hush.ini" > "$work/logs.out"
"${PODMAN[@]}" rm -f hush-logs-$$ >/dev/null 2>&1
out=$(cat "$work/logs.out")
expect_output "token=[REDACTED:credential:claude-token]" "podman logs -f | hush-redact masks the served token"
expect_output "done" "podman logs -f | hush-redact: the stream is complete"
expect_absent "$oauth" "the token is not in the redacted logs"

# 4. The compose overlay over a compose file that still mounts the home
#    directories, through docker-compose and podman's Docker API.
apt_install docker-compose || { fail "install docker-compose"; finish; exit 1; }
"${PODMAN[@]}" system service -t 0 "unix://$work/podman.sock" 2>"$work/podman-service.log" &
svc_pid=$!
for _ in $(seq 300); do [ -S "$work/podman.sock" ] && break; sleep 0.1; done
mkdir -p "$work/proj"
cat > "$work/proj/docker-compose.yml" <<EOF
version: "3.8"
services:
  agent:
    image: localhost/hush-test-debian:latest
    network_mode: none
    volumes:
      # what every user starts with, and forgets to remove
      - $host/.codex:/root/.codex
      - $host/.claude:/root/.claude
    command:
      - sh
      - -c
      - |
        echo "codex-home=\$\$CODEX_HOME"
        echo "codex-sum=\$\$(sha256sum < "\$\$CODEX_HOME/auth.json" | cut -d' ' -f1)"
        echo "codex-dir-mode=\$\$(stat -c %a "\$\$CODEX_HOME")"
        echo "codex-file-mode=\$\$(stat -c %a "\$\$CODEX_HOME/auth.json")"
        echo "claude-token-sum=\$\$(printf %s "\$\$CLAUDE_CODE_OAUTH_TOKEN" | sha256sum | cut -d' ' -f1)"
        echo "home-mount=\$\$(ls -A /root/.codex | tr '\n' ' ')"
        echo workload-ran
EOF
cp "$src/contrib/compose/hush.override.yml" "$work/proj/"
out=$(cd "$work/proj" && env DOCKER_HOST="unix://$work/podman.sock" \
    HUSH_SOCKET_DIR="$work/agent" HUSH_CLIENT="$HUSH_STATIC" \
    timeout 300 docker-compose -p hushtest$$ -f docker-compose.yml -f hush.override.yml \
    up --abort-on-container-exit --no-color 2>&1); rc=$?
(cd "$work/proj" && env DOCKER_HOST="unix://$work/podman.sock" HUSH_SOCKET_DIR="$work/agent" HUSH_CLIENT="$HUSH_STATIC" \
    timeout 120 docker-compose -p hushtest$$ -f docker-compose.yml -f hush.override.yml down >/dev/null 2>&1)
kill "$svc_pid" 2>/dev/null; wait "$svc_pid" 2>/dev/null
expect_output "workload-ran" "compose: the workload ran behind the overlay's entrypoint"
expect_output "codex-home=/run/hush-creds/codex" "compose: CODEX_HOME is the overlay's private tmpfs"
expect_output "codex-sum=$want_codex" "compose: the workload's auth.json is what hushd served"
expect_output "codex-dir-mode=700" "compose: CODEX_HOME created 0700 by hush get -o"
expect_output "codex-file-mode=600" "compose: auth.json born 0600"
expect_output "claude-token-sum=$(printf %s "$oauth" | sha256sum | cut -d' ' -f1)" "compose: CLAUDE_CODE_OAUTH_TOKEN is the served token"
[ "$rc" = 0 ] || { fail "docker-compose up exits 0 ($rc)"; printf '%s\n' "$out" | tail -20; }
( cd "$host" && find . -type f -exec sha256sum {} + | sort ) > "$work/host.sums.after"
cmp -s "$work/host.sums" "$work/host.sums.after" && pass "compose: the host's ~/.codex and ~/.claude are byte-identical, no file added" ||
    { fail "compose: the host's ~/.codex and ~/.claude are byte-identical"; diff "$work/host.sums" "$work/host.sums.after" | sed 's/^/    /'; }

out=$(cat "$work/hushd.stderr" "$work/audit.jsonl")
expect_absent "$oauth" "no token in hushd's logs"
expect_absent "$access" "no Codex access token in hushd's logs"
stop_bg
finish
