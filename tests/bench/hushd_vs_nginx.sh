#!/bin/bash
# hushd (audit log on) against nginx (1 worker) serving the same 120 bytes
# on Unix sockets, side by side, with tests/bench/hushd_load. nginx answers
# from memory (`return 200 "..."`, access log off): the limit for a small
# answer over a Unix socket, not nginx reading a file from disk.
#
#   tests/bench/hushd_vs_nginx.sh BUILD_DIR [SECONDS [ROUNDS]]
#   PIN=0 tests/bench/hushd_vs_nginx.sh ...   no pinning (default: servers
#                                            on CPU 1, the load on CPU 0)
#
# Prints: throughput and p99 at 50 connections for each, in ROUNDS
# (default 5) alternating rounds, and the median hushd/nginx ratio; a
# second client's p99 (100 requests/s on its own socket) while another
# client floods with 50 connections; hushd's resident memory with 10,000
# idle connections.
set -eu
. "$(dirname "$0")/nginx_return.sh"
build=${1:?usage: $0 BUILD_DIR [SECONDS [ROUNDS]]}
secs=${2:-5}
rounds=${3:-5}
rps() { sed -n 's/.* rps=\([0-9]*\).*/\1/p' "$1"; }
hushd=$build/broker/hushd
load=$build/tests/hushd_load
work=$(mktemp -d /tmp/hush-bench.XXXXXX)
chmod 700 "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# Servers on CPU 1, the load on CPU 0 (PIN=0: wherever the scheduler
# puts them), so that on a 2-core machine the scheduler does not move a
# server onto the load's core now and then.
srv=(); cli=()
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	srv=(taskset -c 1); cli=(taskset -c 0)
fi

head -c 90 /dev/urandom | base64 -w0 | head -c 120 > "$work/cred"
[ "$(wc -c < "$work/cred")" = 120 ]

cat > "$work/hush.ini" <<EOF
[broker]
audit_log = $work/audit.jsonl
max_connections = 20000
idle_timeout = 5m
[client "bench"]
socket = $work/bench.sock
allow = bench
max_connections = 20000
[client "probe"]
socket = $work/probe.sock
allow = bench
[credential "bench"]
source = file:$work/cred
EOF
chmod 600 "$work/hush.ini"

nginx_return_conf "$work" 20000

"${srv[@]}" "$hushd" -c "$work/hush.ini" 2>"$work/hushd.err" &
hpid=$!; pids+=("$hpid")
"${srv[@]}" nginx -c "$work/nginx.conf" -p "$work/nginx" 2>"$work/nginx.err" &
pids+=("$!")
for _ in $(seq 100); do
	[ -S "$work/bench.sock" ] && [ -S "$work/nginx.sock" ] && break
	sleep 0.05
done
curl -sf --unix-socket "$work/bench.sock" http://h/v1/credentials/bench | cmp - "$work/cred"
curl -sf --unix-socket "$work/nginx.sock" http://h/v1/credentials/bench | cmp - "$work/cred"

# Rounds alternate which server goes first, so that a neighbour's burst
# on a shared machine does not land on one server only; the figure is
# the median of the rounds' ratios.
echo "== 50 keep-alive connections, ${secs}s each, $rounds rounds"
ratios=()
for r in $(seq "$rounds"); do
	order=(nginx hushd)
	[ $((r % 2)) = 0 ] && order=(hushd nginx)
	for s in "${order[@]}"; do
		sock=$work/nginx.sock
		[ "$s" = hushd ] && sock=$work/bench.sock
		"${cli[@]}" "$load" -s "$sock" -c 50 -t "$secs" > "$work/$s.out"
		sed "s/^/round $r $s: /" "$work/$s.out"
	done
	ratios+=("$(rps "$work/hushd.out") $(rps "$work/nginx.out")")
done
printf '%s\n' "${ratios[@]}" | awk '{ printf "round %d hushd/nginx %.3f\n", NR, $1 / $2 }'
printf '%s\n' "${ratios[@]}" | awk '{ printf "%.3f\n", $1 / $2 }' | sort -n |
    awk '{ r[NR] = $1 } END { m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
          printf "hushd/nginx, median of %d rounds: %.3f\n", NR, m }'
echo "audit lines written: $(wc -l < "$work/audit.jsonl")"

echo "== second client (100 req/s, own socket) while 50 connections flood"
"${cli[@]}" "$load" -s "$work/bench.sock" -c 50 -t "$secs" > "$work/flood.out" &
flood=$!
"${cli[@]}" "$load" -s "$work/probe.sock" -c 1 -r 100 -t "$((secs - 1))" | sed 's/^/probe: /'
wait "$flood"
sed 's/^/flood: /' "$work/flood.out"

echo "== 10,000 idle connections"
rss0=$(awk '/VmRSS/ {print $2}' "/proc/$hpid/status")
"${cli[@]}" "$load" -s "$work/bench.sock" -i 10000 -t 10 > "$work/idle.out" &
idle=$!
sleep 8
rss1=$(awk '/VmRSS/ {print $2}' "/proc/$hpid/status")
st=0; wait "$idle" || st=$?
cat "$work/idle.out"
[ "$st" = 0 ] || echo "hushd_load -i exited $st"
echo "hushd RSS: ${rss0} KiB before, ${rss1} KiB with 10,000 idle connections"
