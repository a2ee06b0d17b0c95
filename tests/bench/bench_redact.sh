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

# run "$@" on one core three times; print the best wall seconds and the
# best CPU seconds (user + sys, from /usr/bin/time): on a loaded machine
# wall time follows the load, CPU time much less so.
secs() {
	best=; bestcpu=
	for _ in 1 2 3; do
		/usr/bin/time -f '%e %U %S' -o "$T/time" taskset -c 0 "$@" \
		    >/dev/null
		read -r t u sy <"$T/time"
		c=$(echo "$u + $sy" | bc -l)
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then
			best=$t
		fi
		if [ -z "$bestcpu" ] ||
		    [ "$(echo "$c < $bestcpu" | bc -l)" = 1 ]; then
			bestcpu=$c
		fi
	done
	# /usr/bin/time has 10 ms resolution: never divide by zero
	[ "$(echo "$bestcpu < 0.01" | bc -l)" = 1 ] && bestcpu=0.01
	[ "$(echo "$best < 0.01" | bc -l)" = 1 ] && best=0.01
	echo "$best $bestcpu"
}
mbs() { echo "scale=1; $1 / 1000000 / $2" | bc -l; }

read -r cat_s cat_c < <(secs cat "$T/log")
read -r hr_s hr_c < <(secs "$B/redact/hush-redact" -l "$T/lits" "$T/log")
read -r hp_s hp_c < <(secs "$B/redact/hush-redact" "$T/log")
read -r perl_s perl_c < <(secs perl -p "$T/rules.pl" "$T/log8")
cat_r=$(mbs "$bytes" "$cat_s")
hr_r=$(mbs "$bytes" "$hr_s")
perl_r=$(mbs "$bytes8" "$perl_s")
cat_cr=$(mbs "$bytes" "$cat_c")
hr_cr=$(mbs "$bytes" "$hr_c")
hp_cr=$(mbs "$bytes" "$hp_c")
perl_cr=$(mbs "$bytes8" "$perl_c")
rules=$(grep -c '^s/' "$T/rules.pl")
echo "stream: $bytes bytes ($(wc -l <"$T/log") lines), perl on $bytes8 bytes"
echo "perl script: $rules substitutions ($(grep -c '\\Q' "$T/rules.pl") literals)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "                      wall MB/s   CPU MB/s (user+sys)"
echo "cat:                  $cat_r        $cat_cr"
echo "hush-redact + lits:   $hr_r        $hr_cr   (full pack + 100 literals)"
echo "hush-redact (pack):   -            $hp_cr   (full pack only)"
echo "perl -pe:             $perl_r        $perl_cr"
echo "hush-redact / cat (CPU):  $(echo "scale=3; $hr_cr / $cat_cr" | bc -l)"
echo "hush-redact / perl (CPU): $(echo "scale=1; $hr_cr / $perl_cr" | bc -l)x"
echo "hush-redact / perl (wall): $(echo "scale=1; $hr_r / $perl_r" | bc -l)x"
