#!/bin/bash
# What one request costs hushd (audit log on) and nginx (one process,
# `return 200 "..."` from memory, access log off), serving the same 120
# bytes on Unix sockets: instructions per request (user and kernel, from
# perf's counters) and CPU time per 100,000 requests (utime + stime from
# /proc). Unlike requests per second these do not depend on what else
# runs on the machine, so old and new builds compare on a shared one.
#
#   tests/bench/hushd_nginx_cost.sh BUILD_DIR [REQUESTS] [CONNS]
#
# Each server gets REQUESTS (default 200,000) from tests/bench/hushd_load
# -n on CONNS (default 50) keep-alive connections, after a warm-up; perf
# stat counts the server's process only (-p), not the load generator.
set -eu
build=${1:?usage: $0 BUILD_DIR [REQUESTS] [CONNS]}
n=${2:-200000}
conns=${3:-50}
hushd=$build/broker/hushd
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
perf stat -e instructions:u true >/dev/null 2>&1 || {
	echo "perf cannot count instructions here (perf_event_paranoid?)" >&2
	exit 1
}

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

mkdir -p "$work/nginx"
cred=$(cat "$work/cred")
# one process that serves (master_process off): the counters see it all
cat > "$work/nginx.conf" <<EOF
worker_processes 1;
master_process off;
user root root;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $work/nginx;
	proxy_temp_path $work/nginx;
	fastcgi_temp_path $work/nginx;
	uwsgi_temp_path $work/nginx;
	scgi_temp_path $work/nginx;
	keepalive_requests 1000000;
	server {
		listen unix:$work/nginx.sock;
		default_type application/octet-stream;
		add_header Cache-Control no-store;
		location = /v1/credentials/bench {
			return 200 "$cred";
		}
	}
}
EOF

"$hushd" -c "$work/hush.ini" 2>"$work/hushd.err" &
hpid=$!; pids+=("$hpid")
nginx -c "$work/nginx.conf" -p "$work/nginx" 2>"$work/nginx.err" &
npid=$!; pids+=("$npid")
for _ in $(seq 100); do
	[ -S "$work/bench.sock" ] && [ -S "$work/nginx.sock" ] && break
	sleep 0.05
done
curl -sf --unix-socket "$work/bench.sock" http://h/v1/credentials/bench | cmp - "$work/cred"
curl -sf --unix-socket "$work/nginx.sock" http://h/v1/credentials/bench | cmp - "$work/cred"

# utime + stime of pid, in clock ticks
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

measure() {	# name pid sock
	local name=$1 pid=$2 sock=$3 t0 t1 hz iu ik
	"$load" -s "$sock" -c "$conns" -n 5000 >/dev/null
	t0=$(cpu_ticks "$pid")
	perf stat -x, -e instructions:u,instructions:k -p "$pid" \
	    -o "$work/$name.perf" &
	local perf=$!
	sleep 0.2	# perf attached
	"$load" -s "$sock" -c "$conns" -n "$n" > "$work/$name.load"
	kill -INT "$perf"
	wait "$perf" || true
	t1=$(cpu_ticks "$pid")
	hz=$(getconf CLK_TCK)
	iu=$(awk -F, '/instructions:u/ { print $1 }' "$work/$name.perf")
	ik=$(awk -F, '/instructions:k/ { print $1 }' "$work/$name.perf")
	awk -v name="$name" -v n="$n" -v iu="$iu" -v ik="$ik" \
	    -v t="$((t1 - t0))" -v hz="$hz" 'BEGIN {
		printf "%s: %d requests: %.0f instructions/request user, " \
		    "%.0f kernel; CPU %.0f ms per 100k requests (user+sys)\n",
		    name, n, iu / n, ik / n, t * 1000 / hz * 100000 / n
	}'
	sed "s/^/$name load: /" "$work/$name.load"
}

measure nginx "$npid" "$work/nginx.sock"
measure hushd "$hpid" "$work/bench.sock"
echo "hushd audit lines: $(wc -l < "$work/audit.jsonl")"
