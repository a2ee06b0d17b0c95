#!/usr/bin/env bash
# hush-redact throughput against cat and an equivalent perl -pe filter,
# on the same generated log stream, in the same run, one core each.
#
#   tests/bench/bench_redact.sh [BUILD_DIR] [MiB]
#
# BUILD_DIR is a Release build (cmake -DCMAKE_BUILD_TYPE=Release); MiB is
# the size of the stream (default 64). Perl runs on an eighth of it,
# because it is slow; its MB/s is computed on what it read.
set -eu
B=${1:-build/bench}
MIB=${2:-64}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

"$B/tests/bench_redact" -m "$MIB" -n 100 -w "$T/log" -l "$T/lits" \
	-p "$T/rules.pl"
head -c $((MIB * 1024 * 1024 / 8)) "$T/log" >"$T/log8"
bytes=$(stat -c %s "$T/log")
bytes8=$(stat -c %s "$T/log8")

secs() {	# run "$@" on one core, print seconds (best of 3)
	best=
	for _ in 1 2 3; do
		s=$(date +%s.%N)
		taskset -c 0 "$@" >/dev/null
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc -l)
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then
			best=$t
		fi
	done
	echo "$best"
}
mbs() { echo "scale=1; $1 / 1000000 / $2" | bc -l; }

cat_s=$(secs cat "$T/log")
hr_s=$(secs "$B/redact/hush-redact" -l "$T/lits" "$T/log")
perl_s=$(secs perl -p "$T/rules.pl" "$T/log8")
cat_r=$(mbs "$bytes" "$cat_s")
hr_r=$(mbs "$bytes" "$hr_s")
perl_r=$(mbs "$bytes8" "$perl_s")
rules=$(grep -c '^s/' "$T/rules.pl")
echo "stream: $bytes bytes ($(wc -l <"$T/log") lines), perl on $bytes8 bytes"
echo "perl script: $rules substitutions ($(grep -c '\\Q' "$T/rules.pl") literals)"
echo "cat:         $cat_r MB/s"
echo "hush-redact: $hr_r MB/s (full pack + 100 literals)"
echo "perl -pe:    $perl_r MB/s"
echo "hush-redact / perl: $(echo "scale=1; $hr_r / $perl_r" | bc -l)x"
