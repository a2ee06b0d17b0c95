#!/bin/bash
# What one request costs hushd (audit log on) and nginx (one process,
# `return 200 "..."` from memory, access log off), serving the same 120
# bytes on Unix sockets: CPU time per 100,000 requests (the server's
# utime + stime from /proc, user and system apart) and user-space
# instructions per request (valgrind's callgrind, zeroed after a warm-up
# and dumped after the run). Unlike requests per second these hardly
# depend on what else runs on the machine, so builds compare on a shared
# one. (This VM exposes no hardware counters: `perf stat -e instructions`
# says <not supported>, so callgrind counts instead; it sees user space
# only, system time is the kernel's share.)
#
#   tests/bench/hushd_nginx_cost.sh BUILD_DIR [REQUESTS] [CONNS] [CG_REQUESTS]
#
# Each server gets REQUESTS (default 200,000) from tests/bench/hushd_load
# -n on CONNS (default 50) keep-alive connections, after a warm-up; then,
# under callgrind, CG_REQUESTS (default 20,000). HUSHD=path overrides the
# hushd binary (an older build, for a before/after). The callgrind files
# are kept in CG_DIR if set (for callgrind_annotate).
set -eu
. "$(dirname "$0")/nginx_return.sh"
build=${1:?usage: $0 BUILD_DIR [REQUESTS] [CONNS]}
n=${2:-200000}
conns=${3:-50}
ncg=${4:-20000}
hushd=${HUSHD:-$build/broker/hushd}
load=$build/tests/hushd_load
work=$(mktemp -d /tmp/hush-cost.XXXXXX)
chmod 700 "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
command -v valgrind >/dev/null || { echo "needs valgrind" >&2; exit 1; }

head -c 90 /dev/urandom | base64 -w0 | head -c 120 > "$work/cred"
cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
idle_timeout = 5m
[client "bench"]
socket = $work/bench.sock
allow = bench
[credential "bench"]
source = file:$work/cred
EOF
chmod 600 "$work/hush.ini"

# one process that serves (master_process off): the counters see it all
nginx_return_conf "$work" 1024 "master_process off;"

# start NAME [WRAPPER...]: the server, its pid in $spid, once it answers
start() {
	local name=$1 sock
	shift
	if [ "$name" = hushd ]; then
		sock=$work/bench.sock
		"$@" "$hushd" -c "$work/hush.ini" 2>"$work/hushd.err" &
	else
		sock=$work/nginx.sock
		"$@" nginx -c "$work/nginx.conf" -p "$work/nginx" \
		    2>"$work/nginx.err" &
	fi
	spid=$!; pids+=("$spid")
	for _ in $(seq 600); do
		curl -sf --unix-socket "$sock" http://h/v1/credentials/bench \
		    2>/dev/null | cmp -s - "$work/cred" && return 0
		sleep 0.1
	done
	echo "$name did not answer" >&2
	exit 1
}

stop() {
	kill "$spid"
	wait "$spid" 2>/dev/null || true
	rm -f "$work/bench.sock" "$work/nginx.sock"
}

# utime and stime of pid, in clock ticks
cpu_ticks() {
	awk '{ print $14, $15 }' "/proc/$1/stat"
}

sock_of() {
	[ "$1" = hushd ] && echo "$work/bench.sock" || echo "$work/nginx.sock"
}

measure_cpu() {	# name
	local name=$1 sock u0 s0 u1 s1 hz
	sock=$(sock_of "$name")
	start "$name"
	"$load" -s "$sock" -c "$conns" -n 5000 >/dev/null
	read -r u0 s0 < <(cpu_ticks "$spid")
	"$load" -s "$sock" -c "$conns" -n "$n" > "$work/$name.load"
	read -r u1 s1 < <(cpu_ticks "$spid")
	stop
	hz=$(getconf CLK_TCK)
	awk -v name="$name" -v n="$n" -v u="$((u1 - u0))" \
	    -v s="$((s1 - s0))" -v hz="$hz" 'BEGIN {
		k = 1000 / hz * 100000 / n
		printf "%s: CPU per 100k requests: %.0f ms user + %.0f ms " \
		    "sys = %.0f ms (%d requests)\n", name, u * k, s * k,
		    (u + s) * k, n
	}'
	sed "s/^/$name load: /" "$work/$name.load"
}

measure_ir() {	# name
	local name=$1 sock ir out
	sock=$(sock_of "$name")
	out=${CG_DIR:-$work}/callgrind.$name
	rm -f "$out"*
	start "$name" valgrind -q --tool=callgrind --callgrind-out-file="$out"
	"$load" -s "$sock" -c "$conns" -n 2000 >/dev/null
	callgrind_control -z "$spid" >/dev/null
	"$load" -s "$sock" -c "$conns" -n "$ncg" >/dev/null
	callgrind_control -d "$spid" >/dev/null
	stop
	# the dump after the zero is part 1 (part 2: from there to the exit)
	ir=$(awk '/^summary:/ { print $2 }' "$out.1")
	awk -v name="$name" -v n="$ncg" -v ir="$ir" 'BEGIN {
		printf "%s: %.0f user-space instructions per request " \
		    "(callgrind, %d requests)\n", name, ir / n, n
	}'
}

measure_cpu nginx
measure_cpu hushd
measure_ir nginx
measure_ir hushd
echo "hushd audit lines: $(wc -l < "$work/audit.jsonl")"
