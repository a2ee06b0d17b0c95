#!/usr/bin/env bash
# The Debian package under real systemd (issue 10, items 3 and 5): a cached
# debootstrap root boots with systemd as PID 1 under systemd-nspawn, the
# .deb from `make deb` is installed with dpkg, and then, with the README's
# server configuration (user = hush, a client socket under
# /run/hush/agent/):
# - the package creates the hush user and /var/log/hush, enables and starts
#   hushd, and its /etc/hush/hush.ini passes hushd --check;
# - a member of the socket's group fetches a credential, others cannot;
# - systemctl reload applies a change (same socket inode, same process)
# - a source's owner removing it blocks neither a reload nor a restart
#   and refuses a broken file while the old configuration keeps serving;
# - logrotate rotates the audit log and hushd writes the next line to the
#   new file;
# - a LoadCredential= unit gets its credential from hushd's systemd socket,
#   and a unit whose credential cannot be read fails to start;
# - systemd-analyze security rates hushd.service 2.3 or better;
# - no secret reaches the audit log or the journal.
set -euo pipefail

src=${HUSH_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${HUSH_BUILD:-$src/build}
# shellcheck source=lib/nspawn.sh
. "$src/tests/system/lib/nspawn.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to boot a container"; exit 77; }

# The root: systemd, the tools the checks use, and the package's run-time
# dependencies, so that dpkg -i needs no mirror inside the container. Fixed
# here rather than read from the .deb so that `make test-system` can build
# it while the package compiles (--prepare); dpkg -i names anything missing.
root_pkgs="systemd systemd-sysv dbus logrotate curl acl procps libuv1
  libsodium23 libpcre2-8-0 libjansson4 libhttp-parser2.9 libvectorscan5
  libcurl4"
# shellcheck disable=SC2086 # a word list on purpose
root=$("$src/tests/system/rootfs.sh" hush-systemd $root_pkgs)
[ "${1:-}" != --prepare ] || exit 0

deb=$(ls "$build"/deb/hush_*_amd64.deb 2>/dev/null | head -n 1 || true)
[ -n "$deb" ] || { echo "no package in $build/deb: run make deb" >&2; exit 1; }

n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $*"; }
check() { # check DESCRIPTION CMD...: passes when CMD succeeds
  local what=$1; shift
  if "$@"; then ok "$what"; else nok "$what"; fi
}
eq() { # eq DESCRIPTION GOT WANT (a test secret is shown by its length only)
  local got=$2 want=$3
  case $got$want in
    *SYSTEMTEST*) got="${#2} bytes" want="${#3} bytes (a test secret)" ;;
  esac
  if [ "$2" = "$3" ]; then ok "$1"; else nok "$1: got '$got', want '$want'"; fi
}

work=$build/system/work/units
cleanup() {
  ct_stop
  rm -rf "$work"
}
trap cleanup EXIT
rm -rf "$work"
mkdir -p "$(dirname "$work")"
cp -a "$root" "$work"
cp "$deb" "$work/root/hush.deb"
ct_boot "$work"
echo "# booted $(ct cat /etc/debian_version), systemd $(ct systemctl --version | head -n 1)"

# --- the package ------------------------------------------------------
check "dpkg -i installs the package" ct dpkg -i /root/hush.deb
check "hush user created by sysusers.d" ct getent passwd hush
check "hush group created" ct getent group hush
eq "/var/log/hush belongs to the run-as user" \
  "$(ct stat -c '%U:%G %a' /var/log/hush)" "hush:adm 750"
eq "hushd.service enabled" "$(ct systemctl is-enabled hushd.service)" enabled
eq "hushd.service started by the package" \
  "$(ct systemctl is-active hushd.service || true)" active
check "systemctl status hushd" ct systemctl status hushd --no-pager
eq "the packaged hush.ini passes hushd --check" \
  "$(ct hushd --check -c /etc/hush/hush.ini 2>&1)" ok
check "hush.ini is a conffile" sh -c \
  "chroot '$work' dpkg-query -W -f='\${Conffiles}' hush | grep -q /etc/hush/hush.ini"
check "logrotate snippet is a conffile" sh -c \
  "chroot '$work' dpkg-query -W -f='\${Conffiles}' hush | grep -q /etc/logrotate.d/hush"

# --- the README's configuration ----------------------------------------
ACCESS=sk-ant-oat01-SYSTEMTESTaccess0123456789abcdefghij
REFRESH=sk-ant-ort01-SYSTEMTESTrefresh0123456789abcdefgh
CODEX_REFRESH=codex-refresh-SYSTEMTEST-0123456789abcdef
APIKEY=sk-ant-api03-SYSTEMTESTloadcredential0123456789
ct groupadd agent
ct useradd -m -s /bin/sh alice
ct useradd -m -s /bin/sh -G agent bob
ct useradd -m -s /bin/sh carol
ct install -d -o alice -g alice -m 0700 /home/alice/.claude /home/alice/.codex
printf '{"claudeAiOauth":{"accessToken":"%s","refreshToken":"%s","expiresAt":4102444800000}}\n' \
  "$ACCESS" "$REFRESH" >"$work/home/alice/.claude/.credentials.json"
printf '{"auth_mode":"chatgpt","OPENAI_API_KEY":null,"tokens":{"access_token":"codex-access-SYSTEMTEST","refresh_token":"%s"}}\n' \
  "$CODEX_REFRESH" >"$work/home/alice/.codex/auth.json"
ct chown alice:alice /home/alice/.claude/.credentials.json \
  /home/alice/.codex/auth.json
ct chmod 0600 /home/alice/.claude/.credentials.json /home/alice/.codex/auth.json
# README: exactly these files for hushd's user, x on the directories
ct setfacl -m u:hush:r /home/alice/.claude/.credentials.json \
  /home/alice/.codex/auth.json
ct setfacl -m u:hush:x /home/alice /home/alice/.claude /home/alice/.codex

# The configuration block of the README's "On a server" section, as is.
readme_ini=$(awk '/^## On a server/ { s = 1 } s && /^```ini/ { b = 1; next }
  b && /^```/ { exit } b { print }' "$src/README.md")
[ -n "$readme_ini" ] || { echo "README has no ini block under 'On a server'" >&2; exit 1; }
printf '%s\n' "$readme_ini" >"$work/etc/hush/hush.ini"
ct chmod 0644 /etc/hush/hush.ini
eq "README configuration passes hushd --check" \
  "$(ct hushd --check -c /etc/hush/hush.ini 2>&1)" ok
check "systemctl restart hushd with it" ct systemctl restart hushd.service
eq "hushd active" "$(ct systemctl is-active hushd.service || true)" active
if ! ct test -S /run/hush/agent/hush.sock; then
  ct journalctl -u hushd.service --no-pager | tail -n 20
fi
check "socket under /run/hush/agent" ct test -S /run/hush/agent/hush.sock
ct ls -la /run/hush/agent
eq "hushd runs as hush" \
  "$(ct ps -o user= -p "$(ct systemctl show -P MainPID hushd.service)" 2>/dev/null ||
     ct stat -c %U "/proc/$(ct systemctl show -P MainPID hushd.service)")" hush

fetch() { # fetch USER NAME: the credential as USER sees it over the socket
  ct runuser -u "$1" -- curl -sf --unix-socket /run/hush/agent/hush.sock \
    "http://hush/v1/credentials/$2"
}
eq "root on the host gets it (README)" "$(ct curl -sf --unix-socket \
  /run/hush/agent/hush.sock http://hush/v1/credentials/claude)" "$ACCESS"
eq "a member of socket_group gets the access token" "$(fetch bob claude)" \
  "$ACCESS"
check "a user outside socket_group cannot connect" \
  sh -c "! nsenter -t $ct_leader -m -u -i -n -p -r -w runuser -u carol -- \
    curl -sf --unix-socket /run/hush/agent/hush.sock http://hush/v1/credentials/claude"
eq "the hush client gets it too" \
  "$(ct runuser -u bob -- hush get claude -s /run/hush/agent/hush.sock)" \
  "$ACCESS"

# --- the static client, in a root that holds nothing else -------------------
static=$build/static/hush
if [ -x "$static" ]; then
  mkdir -p "$work/srv/empty/run/hush"
  cp "$static" "$work/srv/empty/hush"
  ct mount --bind /run/hush/agent /srv/empty/run/hush
  ct mount -o remount,bind,ro /srv/empty/run/hush
  eq "the empty root holds only the client" \
    "$(cd "$work/srv/empty" && find . -type f)" ./hush
  bob_uid=$(ct id -u bob)
  agent_gid=$(ct getent group agent | cut -d: -f3)
  eq "static hush in the empty root, socket directory read-only" \
    "$(ct chroot --userspec="$bob_uid:$agent_gid" /srv/empty \
       /hush get claude -s /run/hush/hush.sock)" "$ACCESS"
  ct umount /srv/empty/run/hush
else
  nok "no $static: run make static-client"
fi

# --- reload ---------------------------------------------------------------
pid0=$(ct systemctl show -P MainPID hushd.service)
ino0=$(ct stat -c %i /run/hush/agent/hush.sock)
codex=$(fetch bob codex-auth || true)
check "codex-auth served without its refresh token" \
  sh -c "printf '%s' '$codex' | grep -q codex-access-SYSTEMTEST &&
    ! printf '%s' '$codex' | grep -q '$CODEX_REFRESH'"
sed -i 's/^allow = claude, codex-auth/allow = claude/' "$work/etc/hush/hush.ini"
check "systemctl reload hushd" ct systemctl reload hushd.service
check "after reload: codex-auth no longer allowed" \
  sh -c "! nsenter -t $ct_leader -m -u -i -n -p -r -w runuser -u bob -- \
    curl -sf --unix-socket /run/hush/agent/hush.sock http://hush/v1/credentials/codex-auth"
eq "after reload: same process" "$(ct systemctl show -P MainPID hushd.service)" "$pid0"
eq "after reload: same socket inode" "$(ct stat -c %i /run/hush/agent/hush.sock)" "$ino0"
cp "$work/etc/hush/hush.ini" "$work/root/good.ini"
printf '\n[client "typo"]\nsocket = /run/hush/typo/hush.sock\nalow = claude\n' \
  >>"$work/etc/hush/hush.ini"
check "systemctl reload refuses a broken hush.ini" \
  sh -c "! nsenter -t $ct_leader -m -u -i -n -p -r -w systemctl reload hushd.service"
eq "the old configuration keeps serving" "$(fetch bob claude)" "$ACCESS"
cp "$work/root/good.ini" "$work/etc/hush/hush.ini"
check "reload with the fixed file" ct systemctl reload hushd.service

# A source's owner cannot block a reload or a restart: alice moves her
# auth.json away; ExecReload's --check warns and passes, the change applies.
code() { # code USER NAME: the HTTP status USER gets for NAME
  ct runuser -u "$1" -- curl -s -o /dev/null -w '%{http_code}' \
    --unix-socket /run/hush/agent/hush.sock "http://hush/v1/credentials/$2"
}
ct runuser -u alice -- mv /home/alice/.codex/auth.json /home/alice/.codex/auth.json.away
sed -i 's/^allow = claude$/allow = claude, codex-auth/' "$work/etc/hush/hush.ini"
check "reload with a source its owner removed" ct systemctl reload hushd.service
eq "the reload applied: codex-auth allowed again, 500 while it is missing" \
  "$(code bob codex-auth)" 500
check "restart with that source missing" ct systemctl restart hushd.service
eq "hushd active with the source missing" \
  "$(ct systemctl is-active hushd.service || true)" active
eq "the other credential is served" "$(fetch bob claude)" "$ACCESS"
check "the journal names the missing source" sh -c \
  "nsenter -t $ct_leader -m -u -i -n -p -r -w journalctl -u hushd.service \
    --no-pager | grep -q 'credential \"codex-auth\".*answered with 500'"
ct runuser -u alice -- mv /home/alice/.codex/auth.json.away /home/alice/.codex/auth.json
eq "served again once alice puts it back" "$(code bob codex-auth)" 200
cp "$work/root/good.ini" "$work/etc/hush/hush.ini"
check "reload back to the README's policy" ct systemctl reload hushd.service

# --- logrotate ------------------------------------------------------------
fetch bob claude >/dev/null
check "logrotate -f rotates the audit log" ct logrotate -f /etc/logrotate.d/hush
check "rotated file kept" ct test -s /var/log/hush/audit.jsonl.1
fetch bob claude >/dev/null
n_new=$(ct sh -c 'grep -c "\"credential\":\"claude\"" /var/log/hush/audit.jsonl || true')
check "hushd writes the next request to the new audit.jsonl" \
  test "${n_new:-0}" -ge 1
eq "new audit log owned by the run-as user" \
  "$(ct stat -c %U /var/log/hush/audit.jsonl)" hush
eq "hushd still active after rotation" \
  "$(ct systemctl is-active hushd.service || true)" active

# --- LoadCredential= --------------------------------------------------------
printf '%s' "$APIKEY" >"$work/etc/hush/anthropic.key"
ct chown root:hush /etc/hush/anthropic.key
ct chmod 0640 /etc/hush/anthropic.key
# present while the configuration is checked, gone when a unit asks
printf 'vanishing-credential-SYSTEMTEST-0123456789' >"$work/etc/hush/broken.key"
ct chown root:hush /etc/hush/broken.key
ct chmod 0640 /etc/hush/broken.key
cat >>"$work/etc/hush/hush.ini" <<'INI'

[client "systemd"]
socket = /run/hush/systemd/creds.sock
protocol = systemd
allow = anthropic-key, broken

[credential "anthropic-key"]
source = file:/etc/hush/anthropic.key

[credential "broken"]
source = file:/etc/hush/broken.key
INI
# a new socket directory is made as root: restart, not reload (README)
check "restart with a systemd client" ct systemctl restart hushd.service
cat >"$work/etc/systemd/system/cred-ok.service" <<'UNIT'
[Service]
Type=oneshot
LoadCredential=anthropic-key:/run/hush/systemd/creds.sock
ExecStart=/bin/sh -c 'sha256sum < "$CREDENTIALS_DIRECTORY/anthropic-key" > /run/cred-ok.sum'
UNIT
sed 's/anthropic-key/broken/g; s/cred-ok/cred-bad/g' \
  "$work/etc/systemd/system/cred-ok.service" \
  >"$work/etc/systemd/system/cred-bad.service"
sed 's/anthropic-key/nope/g; s/cred-ok/cred-nope/g' \
  "$work/etc/systemd/system/cred-ok.service" \
  >"$work/etc/systemd/system/cred-nope.service"
ct systemctl daemon-reload
rm "$work/etc/hush/broken.key"
check "a LoadCredential= unit starts" ct systemctl start cred-ok.service
eq "and gets the credential hushd served" \
  "$(ct cut -d' ' -f1 /run/cred-ok.sum 2>/dev/null || true)" \
  "$(printf '%s' "$APIKEY" | sha256sum | cut -d' ' -f1)"
check "a unit whose credential cannot be read fails to start" \
  sh -c "! nsenter -t $ct_leader -m -u -i -n -p -r -w systemctl start cred-bad.service"
check "and never ran" ct test ! -e /run/cred-bad.sum
check "a unit asking for an unknown credential fails to start" \
  sh -c "! nsenter -t $ct_leader -m -u -i -n -p -r -w systemctl start cred-nope.service"
check "and never ran" ct test ! -e /run/cred-nope.sum

# --- hardening --------------------------------------------------------------
exposure=$(ct systemd-analyze security --no-pager hushd.service |
  awk '/Overall exposure level/ { for (i = 1; i <= NF; i++)
    if ($i ~ /^[0-9]+\.[0-9]+$/) print $i }')
echo "# systemd-analyze security hushd.service: $exposure"
check "systemd-analyze security: 2.3 or better (got ${exposure:-none})" \
  awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 2.3) }'

# --- no secret leaked -----------------------------------------------------
logs=$(ct sh -c 'cat /var/log/hush/audit.jsonl*; journalctl --no-pager -o cat')
for v in ACCESS REFRESH CODEX_REFRESH APIKEY; do
  check "no \$$v in the audit log or the journal" \
    sh -c "! printf '%s' \"\$1\" | grep -qF -- \"\$2\"" _ "$logs" "${!v}"
done

echo "# $n checks, $bad failed"
[ "$bad" -eq 0 ]
