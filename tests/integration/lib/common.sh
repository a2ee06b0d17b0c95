# Shared helpers for the integration scripts (sourced, not a test).
set -u
fails=0
passes=0
work=$(mktemp -d "${TMPDIR:-/tmp}/hush-it.XXXXXX")
chmod 700 "$work"
trap 'rm -rf "$work"' EXIT

pass() { passes=$((passes + 1)); echo "ok - $1"; }
fail() { fails=$((fails + 1)); echo "not ok - $1"; }

# expect_status WANT DESC CMD...: runs CMD, keeps its output in $out.
expect_status() {
	want=$1; desc=$2; shift 2
	out=$("$@" 2>&1); got=$?
	if [ "$got" = "$want" ]; then pass "$desc"
	else fail "$desc (exit $got, wanted $want)"; printf '%s\n' "$out" | sed 's/^/    /'; fi
}

# expect_output NEEDLE DESC: the last command's output contains NEEDLE.
expect_output() {
	case $out in
	*"$1"*) pass "$2" ;;
	*) fail "$2 (no \"$1\")"; printf '%s\n' "$out" | sed 's/^/    /' ;;
	esac
}

# expect_absent NEEDLE DESC: the last output does not contain NEEDLE.
expect_absent() {
	case $out in
	*"$1"*) fail "$2 (found it)" ;;
	*) pass "$2" ;;
	esac
}

# start_hushd SOCKET: runs hushd on $work/hush.ini (stderr appended to
# $work/stderr), sets $pid, and waits until SOCKET answers /v1/health.
start_hushd() {
	"$HUSHD" -c "$work/hush.ini" 2>>"$work/stderr" &
	pid=$!
	for _ in $(seq 100); do
		[ -S "$1" ] && curl -s --unix-socket "$1" http://h/v1/health \
		    >/dev/null && return 0
		sleep 0.05
	done
	echo "hushd did not start:"; cat "$work/stderr"; return 1
}

finish() {
	echo "$passes passed, $fails failed"
	[ "$fails" = 0 ]
}
