# hushd --check on [upstream] sections (issue 11): a valid one is "ok";
# each mistake is reported at its FILE:LINE, all in one run, exit 78.
. "$(dirname "$0")/lib/common.sh"

umask 077
printf 'sk-ant-check-secret-0123456789abcdef' > "$work/key"
cat > "$work/good.ini" <<INI
[credential "anthropic-key"]
source = file:$work/key
[upstream "anthropic"]
url = https://api.anthropic.com
credential = anthropic-key
header = x-api-key: {value}
paths = /v1/messages, /v1/models*
methods = GET, POST
max_request_size = 32MiB
timeout = 10m
env = ANTHROPIC_BASE_URL
key_env = ANTHROPIC_API_KEY
[client "agent"]
socket = $work/agent.sock
allow = upstream:anthropic, anthropic-key
INI
expect_status 0 "valid [upstream] passes --check" "$HUSHD" -c "$work/good.ini" --check
[ "$out" = ok ] && pass "prints exactly ok" || fail "prints exactly ok: $out"

cat > "$work/bad.ini" <<INI
[credential "anthropic-key"]
source = file:$work/key
[upstream "anthropic"]
url = http://api.anthropic.com
credential = anthropic-kee
header = x-api-key
paths = v1/messages
methods = GET, post
max_request_size = lots
timeout = forever
ca_file = relative.pem
colour = blue
[upstream "twice"]
url = https://a.example
[client "agent"]
socket = $work/agent.sock
allow = upstream:anthropc
INI
expect_status 78 "broken [upstream]: exit 78" "$HUSHD" -c "$work/bad.ini" --check
expect_output 'bad.ini:4: url: invalid value "http://api.anthropic.com"' "plain http to a remote host"
expect_output 'bad.ini:5: upstream "anthropic": credential: no [credential "anthropic-kee"]' "unknown credential"
expect_output 'bad.ini:6: header: invalid value' "header without {value}"
expect_output 'bad.ini:7: upstream "anthropic": paths: "v1/messages"' "relative path"
expect_output 'bad.ini:8: upstream "anthropic": methods: "post"' "lower-case method"
expect_output 'bad.ini:9: max_request_size: invalid value' "bad size"
expect_output 'bad.ini:10: timeout: invalid value' "bad duration"
expect_output 'bad.ini:12: unknown key "colour" in [upstream "anthropic"]' "unknown key"
expect_output 'bad.ini:13: upstream "twice": missing credential' "missing credential"
expect_output 'bad.ini:13: upstream "twice": missing paths' "missing paths"
expect_output 'bad.ini:17: client "agent": allow names unknown upstream "anthropc"' "allow names an unknown upstream"
expect_absent 'sk-ant-check-secret' "no secret in --check output"
finish
