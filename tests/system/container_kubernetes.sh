#!/bin/bash
# contrib/kubernetes: the manifests parse, and the hush.ini they ship runs
# for real: a secret volume laid out the way kubelet lays it out (..data
# symlink to a timestamped directory, swapped atomically on update), an
# exec: source calling `vault kv get` (a stand-in script with the same
# command line), one socket directory per workload, each workload seeing
# only what its client allows. There is no cluster here: the DaemonSet
# itself is not scheduled.
. "$(dirname "$0")/lib/hostenv.bash"

need_release_build || { fail "release build"; finish; exit 1; }
apt_install python3-yaml || { fail "install python3-yaml"; finish; exit 1; }
k8s=$src/contrib/kubernetes

python3 - "$k8s"/*.yaml > "$work/hush.ini.k8s" <<'EOF' && pass "manifests parse; DaemonSet mounts /run/hush, the Secret as a directory" || fail "manifests parse"
import sys, yaml
docs = [d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d]
kinds = {d["kind"] for d in docs}
assert {"Namespace", "Secret", "ConfigMap", "DaemonSet", "Pod"} <= kinds, kinds
ds = next(d for d in docs if d["kind"] == "DaemonSet")
spec = ds["spec"]["template"]["spec"]
vols = {v["name"]: v for v in spec["volumes"]}
assert vols["run-hush"]["hostPath"]["path"] == "/run/hush"
mounts = spec["containers"][0]["volumeMounts"]
sec = next(m for m in mounts if m["name"] == "secrets")
assert "subPath" not in sec, "a subPath secret mount never sees the ..data swap"
pod = next(d for d in docs if d["kind"] == "Pod")
pv = pod["spec"]["volumes"][0]["hostPath"]["path"]
assert pv == "/run/hush/agent-a", pv
assert pod["spec"]["containers"][0]["volumeMounts"][0]["readOnly"] is True
cm = next(d for d in docs if d["kind"] == "ConfigMap")
sys.stdout.write(cm["data"]["hush.ini"])
EOF

# The ConfigMap's hush.ini with the node's paths moved into $work.
mkdir -p "$work/run/hush/agent-a" "$work/run/hush/ci-runner" "$work/bin"
chmod 711 "$work/run/hush/agent-a" "$work/run/hush/ci-runner"
sed -e "s|/run/hush/|$work/run/hush/|" -e "s|/etc/hush/secrets/|$work/secrets/|" \
    -e "s|exec:/usr/bin/vault|exec:$work/bin/vault|" "$work/hush.ini.k8s" > "$work/hush.ini"
chmod 600 "$work/hush.ini"
cat > "$work/bin/vault" <<'EOF'
#!/bin/sh
# Stands in for `vault kv get -field=password secret/ci/db`.
[ "$*" = "kv get -field=password secret/ci/db" ] || { echo "unexpected: $*" >&2; exit 2; }
[ -n "$VAULT_ADDR" ] || { echo "VAULT_ADDR not passed" >&2; exit 2; }
echo "vault-db-password-0123456789"
EOF
chmod 755 "$work/bin/vault"

# kubelet's layout: ..data -> ..TIMESTAMP/, and each key -> ..data/key.
sec=$work/secrets
mkdir -m 755 "$sec" "$sec/..2026_11_30_01_00_00.000000001"
printf '%s' 'sk-ant-api03-K8sFirst0123456789abcdefghijklmnopqrstuvw-AAAA' > "$sec/..2026_11_30_01_00_00.000000001/anthropic-key"
ln -s ..2026_11_30_01_00_00.000000001 "$sec/..data"
ln -s ..data/anthropic-key "$sec/anthropic-key"

expect_status 0 "hushd --check accepts the ConfigMap's hush.ini" env VAULT_ADDR=https://vault.invalid "$HUSHD" --check -c "$work/hush.ini"
VAULT_ADDR=https://vault.invalid VAULT_TOKEN=t start_hushd_conf "$work/hush.ini" "$work/run/hush/agent-a/hush.sock" ||
    { fail "hushd starts on the ConfigMap's hush.ini"; finish; exit 1; }
a=$work/run/hush/agent-a/hush.sock
c=$work/run/hush/ci-runner/hush.sock
expect_status 0 "agent-a gets anthropic-key from the secret volume" curl -sf --unix-socket "$a" http://hush/v1/credentials/anthropic-key
[ "$out" = 'sk-ant-api03-K8sFirst0123456789abcdefghijklmnopqrstuvw-AAAA' ] && pass "the secret's bytes" || fail "the secret's bytes"
expect_status 22 "agent-a may not read db-password" curl -sf --unix-socket "$a" http://hush/v1/credentials/db-password
expect_status 0 "ci-runner gets db-password from vault kv get" curl -sf --unix-socket "$c" http://hush/v1/credentials/db-password
[ "$out" = vault-db-password-0123456789 ] && pass "exec: vault output served" || fail "exec: vault output served: $out"
expect_status 22 "ci-runner may not read anthropic-key" curl -sf --unix-socket "$c" http://hush/v1/credentials/anthropic-key

# kubelet updates the Secret: new directory, ..data swapped by rename.
mkdir -m 755 "$sec/..2026_11_30_02_00_00.000000002"
printf '%s' 'sk-ant-api03-K8sSecond0123456789abcdefghijklmnopqrstuv-BBBB' > "$sec/..2026_11_30_02_00_00.000000002/anthropic-key"
ln -s ..2026_11_30_02_00_00.000000002 "$sec/..data_tmp"
mv -T "$sec/..data_tmp" "$sec/..data"
rm -rf "$sec/..2026_11_30_01_00_00.000000001"
expect_status 0 "after the ..data swap" curl -sf --unix-socket "$a" http://hush/v1/credentials/anthropic-key
[ "$out" = 'sk-ant-api03-K8sSecond0123456789abcdefghijklmnopqrstuv-BBBB' ] && pass "the new value is served, no restart" || fail "the new value is served, no restart"
out=$(cat "$work/hushd.stderr")
expect_absent "K8sSecond" "no secret in hushd's log"
expect_absent "vault-db-password" "no vault value in hushd's log"
stop_bg
finish
