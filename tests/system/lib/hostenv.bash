# Shared by the container, Claude Code and Codex system tests (sourced).
# Builds or finds the binaries, installs what a test needs, runs hushd and
# the loopback API stand-in. Everything lives under $work (removed at exit)
# or the build directory's caches.
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
. "$src/tests/integration/lib/common.sh"
sysdir=${HUSH_SYSTEM_DIR:-$src/build/system}
mkdir -p "$sysdir"

# Versions the tests were written against: a newer release may change
# what it accepts, and CI must not turn red on someone else's release day.
CLAUDE_CODE_VERSION=${CLAUDE_CODE_VERSION:-2.1.197}
CODEX_VERSION=${CODEX_VERSION:-0.171.0}

apt_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		    grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	echo "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	    install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
	    { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq &&
	      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	        install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}

# hushd, hush and hush-redact: from the package `make deb` built (what
# test-system makes anyway), else the release build (make build).
need_release_build() {
	local b=${HUSH_BUILD:-$src/build} deb
	deb=$(ls "$b"/deb/hush_*.deb 2>/dev/null | head -n 1)
	if [ -z "${HUSHD:-}" ] && [ -n "$deb" ]; then
		mkdir -p "$work/pkg"
		dpkg-deb -x "$deb" "$work/pkg" || return 1
		HUSHD=$work/pkg/usr/sbin/hushd
		HUSH=$work/pkg/usr/bin/hush
		HUSH_REDACT=$work/pkg/usr/bin/hush-redact
	fi
	HUSHD=${HUSHD:-$b/release/broker/hushd}
	HUSH=${HUSH:-$b/release/broker/hush}
	HUSH_REDACT=${HUSH_REDACT:-$b/release/redact/hush-redact}
	if [ ! -x "$HUSHD" ] || [ ! -x "$HUSH" ] || [ ! -x "$HUSH_REDACT" ]; then
		make -C "$src" build JOBS=2 >/dev/null || return 1
	fi
	export HUSHD HUSH HUSH_REDACT
}

# Claude Code and Codex from npm, into a cache under the build directory
# (never globally). Sets CLAUDE and CODEX.
need_agents() {
	local dir=$sysdir/npm
	CLAUDE=$dir/node_modules/.bin/claude
	CODEX=$dir/node_modules/.bin/codex
	if [ ! -x "$CLAUDE" ] || [ ! -x "$CODEX" ] ||
	    [ "$(cat "$dir/.versions" 2>/dev/null)" != "$CLAUDE_CODE_VERSION $CODEX_VERSION" ]; then
		command -v npm >/dev/null || apt_install npm || return 1
		mkdir -p "$dir"
		( cd "$dir" && npm install --no-audit --no-fund --prefix "$dir" \
		    "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" \
		    "@openai/codex@$CODEX_VERSION" ) >"$sysdir/npm.log" 2>&1 ||
		    { tail -20 "$sysdir/npm.log"; return 1; }
		echo "$CLAUDE_CODE_VERSION $CODEX_VERSION" > "$dir/.versions"
	fi
}

# start_standin: the loopback API stand-in; sets API_URL and API_LOG.
start_standin() {
	API_LOG=$work/api.jsonl
	: > "$API_LOG"
	python3 "$src/tests/system/api_standin.py" "$API_LOG" "$work/api.port" &
	standin_pid=$!
	for _ in $(seq 300); do
		[ -s "$work/api.port" ] && break
		kill -0 "$standin_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -s "$work/api.port" ] || { echo "the API stand-in did not start"; return 1; }
	API_URL=http://127.0.0.1:$(cat "$work/api.port")
}

# start_hushd_conf INI SOCKET: hushd on INI, waits for SOCKET's health.
start_hushd_conf() {
	"$HUSHD" -c "$1" 2>>"$work/hushd.stderr" &
	hushd_pid=$!
	for _ in $(seq 300); do
		[ -S "$2" ] && curl -s --unix-socket "$2" http://h/v1/health \
		    >/dev/null && return 0
		kill -0 "$hushd_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "hushd did not start:"; cat "$work/hushd.stderr"; return 1
}

stop_bg() {
	[ -n "${hushd_pid:-}" ] && kill "$hushd_pid" 2>/dev/null && wait "$hushd_pid" 2>/dev/null
	[ -n "${standin_pid:-}" ] && kill "$standin_pid" 2>/dev/null && wait "$standin_pid" 2>/dev/null
	hushd_pid= standin_pid=
	return 0
}
trap 'stop_bg; rm -rf "$work"' EXIT

# The agents must not reach for the internet (there is none here) nor
# update themselves.
agent_env=(DISABLE_TELEMETRY=1 DISABLE_ERROR_REPORTING=1
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1
    NO_COLOR=1)
