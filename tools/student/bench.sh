#!/usr/bin/env bash
# bench.sh - `make bench`: lab 12's echo server side by side with socat, on loopback, in one run.
#
# Usage: [TREE_DIR=DIR] [BENCH_MIB=256] [BENCH_CONNS=500] [BENCH_ROUNDS=3] tools/student/bench.sh
# echo_sv (from TREE_DIR, default solutions/, else labs/) and `socat TCP-LISTEN:0,fork PIPE` are measured
# by the kit's probe (`probe stream`, which checks every byte): the throughput of BENCH_MIB MiB through
# one connection each way, and BENCH_CONNS cycles of connect, 64 bytes each way, close; each figure the
# best of BENCH_ROUNDS rounds, the two servers taking turns. Nothing leaves 127.0.0.1; it is a
# benchmark, not a test: it passes or fails nothing.
set -euo pipefail
source "${BASH_SOURCE[0]%/*}/../lib.sh"
mib=${BENCH_MIB:-256} conns=${BENCH_CONNS:-500} rounds=${BENCH_ROUNDS:-3}
tree=${TREE_DIR:-}
[[ -n $tree ]] || tree=$top/solutions
[[ -d $tree/12-echo ]] || tree=$top/labs
probe=$top/build/probe/probe

for v in "$mib" "$conns" "$rounds"; do
	[[ $v =~ ^[1-9][0-9]{0,5}$ ]] || { echo "bench: BENCH_MIB, BENCH_CONNS and BENCH_ROUNDS are whole numbers from 1" >&2; exit 2; }
done
command -v socat >/dev/null || {
	echo "make bench compares with socat, which is not installed (Debian/Ubuntu: apt install socat)" >&2
	exit 2
}
quiet_make TREE="$tree" LAB=12-echo bins || { echo "bench: $tree/12-echo does not build" >&2; exit 1; }
bin=$(quiet_make TREE="$tree" print-out)/12-echo

work=$(mktemp -d "${TMPDIR:-/tmp}/socklab-bench.XXXXXX")
# At the end, and on Ctrl-C: the servers (and socat's children) are stopped, the work folder goes.
trap 'stop_tree; rm -rf "$work"' EXIT
stop_on_ctrl_c "bench: interrupted"

# serve NAME CMD...: start a server in its own session (its children with it), wait (bounded) for
# its first line in $work/NAME.out; sets the port it reports ("... port N" or "...:N").
serve() {
	local name=$1 line
	shift
	setsid "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null &
	line=$("$probe" await "$work/$name.out" "$!" 5000) || {
		echo "bench: $name did not start: $(head -c 300 "$work/$name.err")" >&2
		exit 1
	}
	[[ $line =~ (port\ |:)([0-9]+)$ ]] || { echo "bench: $name said \"$line\": no port" >&2; exit 1; }
	port=${BASH_REMATCH[2]}
}
# (through the kit's launcher, as in the tests: no descriptor above 2 of ours reaches it)
serve echo_sv "$top/build/tools/launch" "$bin/echo_sv" 127.0.0.1 0
# shellcheck disable=SC2034 # sv_port and so_port are read as ${!p} below
sv_port=$port
# socat names its port only in its log (-d -d): the log goes to stdout, its first line is that.
serve socat socat -d -d -lf /dev/stdout TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork PIPE
# shellcheck disable=SC2034
so_port=$port

# run PORT N BYTES: one probe run, bounded; its seconds in t.
run() {
	local out
	run_child timeout -k 2 120 "$probe" stream -n "$2" 127.0.0.1 "$1" "$3" >"$work/probe.out" </dev/null || {
		out=$(head -c 300 "$work/probe.out")
		echo "bench: probe stream -n $2 127.0.0.1 $1 $3 failed${out:+: $out} (does make check LAB=12 TREE=${tree#"$top"/} pass?)" >&2
		exit 1
	}
	out=$(<"$work/probe.out")
	[[ $out =~ \ ([0-9.]+)\ s$ ]] || { echo "bench: unexpected probe output: $out" >&2; exit 1; }
	t=${BASH_REMATCH[1]}
}

# best VAR VALUE: VAR = the larger of the two (VAR empty: VALUE).
best() {
	local -n b=$1
	if [[ -z $b ]] || awk -v a="$2" -v c="$b" 'BEGIN { exit !(a > c) }'; then b=$2; fi
}

bytes=$((mib * 1048576))
sv_tp='' so_tp='' sv_cr='' so_cr=''
printf 'socklab bench: echo over loopback, %d MiB through one connection and %d connections, best of %d rounds\n' \
	"$mib" "$conns" "$rounds"
for ((r = 1; r <= rounds; r++)); do
	# Take turns, the first server changing each round.
	order=(sv so)
	((r % 2)) || order=(so sv)
	for who in "${order[@]}"; do
		p=${who}_port
		run "${!p}" 1 "$bytes"
		best "${who}_tp" "$(awk -v m="$mib" -v t="$t" 'BEGIN { printf "%.1f", m / t }')"
		run "${!p}" "$conns" 64
		best "${who}_cr" "$(awk -v n="$conns" -v t="$t" 'BEGIN { printf "%.0f", n / t }')"
	done
	printf '  round %d: echo_sv %s MiB/s, %s conn/s; socat %s MiB/s, %s conn/s (best so far)\n' \
		"$r" "$sv_tp" "$sv_cr" "$so_tp" "$so_cr"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
printf '  %-28s %12s %12s %16s\n' "" "echo_sv" "socat" "echo_sv/socat"
printf '  %-28s %12s %12s %16s\n' "throughput (MiB/s each way)" "$sv_tp" "$so_tp" "$(ratio "$sv_tp" "$so_tp")"
printf '  %-28s %12s %12s %16s\n' "connections per second" "$sv_cr" "$so_cr" "$(ratio "$sv_cr" "$so_cr")"
echo
printf '  echo_sv: %s (iterative, %s)\n' "${tree#"$top"/}/12-echo/echo_sv.c" "$(grep -om1 'BUF_SIZE [0-9]*' "$tree/12-echo/echo_sv.c" || echo '?')"
printf '  socat:   %s, TCP-LISTEN,fork PIPE (a process per connection)\n' "$(socat -V 2>/dev/null | grep -om1 'socat version [^ ]*' || echo socat)"
printf '  machine: %s, %s CPUs, load %s\n' "$(uname -sr)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
