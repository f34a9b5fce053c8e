#!/usr/bin/env bash
# bench-kit.sh - the kit's own speed (`make bench-kit`), every figure taken in one run so that they compare.
#
# Usage: RUNS=3 BATCH=6 tools/maint/bench-kit.sh [all|labs|starters|batch ...]   (default: all)
# make check of each lab alone, of all labs side by side and one at a time (CHECK_JOBS=1), of the
# untouched starters, and a batch of BATCH copies of the solutions (make grade SUBMISSIONS=); each run
# RUNS times (the batch once) and given as min / median / max wall seconds. The machine is shared and
# noisy: quote the medians and the ratios. It only prints figures: never part of a timed test.
set -u
source "${BASH_SOURCE[0]%/*}/../lib.sh"
runs=${RUNS:-3}
batch=${BATCH:-6}
[[ $runs =~ ^[1-9][0-9]*$ && $batch =~ ^[1-9][0-9]*$ ]] || { echo "RUNS and BATCH are counts (1 or more)" >&2; exit 2; }
what=("${@:-all}")
[[ ${what[0]} == all ]] && what=(labs starters batch)
work=$top/build/bench-kit
stop_on_ctrl_c "bench-kit: interrupted"
rm -rf "$work" && mkdir -p "$work"
labs=("${manifest_labs[@]}")

# timed NAME N CMD...: run CMD N times (its output to $work/NAME.log); print min, median, max.
timed() {
	local name=$1 n=$2 i t0 s=()
	shift 2
	for ((i = 0; i < n; i++)); do
		t0=$EPOCHREALTIME
		run_child "$@" >>"$work/$name.log" 2>&1 </dev/null
		s+=("$(since "$t0" 2)")
	done
	printf '%s\n' "${s[@]}" | sort -g | awk -v name="$name" -v data="$work/data" '
		{ v[NR] = $1 }
		END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%s\t%.2f\n", name, m >>data
		      printf "  %-40s %7.2f %7.2f %7.2f   (%d runs)\n", name, v[1], m, v[NR], NR }'
}
median() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' "$work/data"; }

echo "socklab bench-kit: wall seconds, min / median / max; $(nproc) processors, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-40s %7s %7s %7s\n' "" min median max
# build TREE: every program of it, first: the figures are of the checks, not of the compiler.
build() {
	local lab
	for lab in "${labs[@]}"; do quiet_make TREE="$1" LAB="$lab" bins >/dev/null 2>&1; done
}
build solutions
for w in "${what[@]}"; do
	case $w in
	labs)
		slowest= slow=0
		for lab in "${labs[@]}"; do
			timed "$lab alone" "$runs" quiet_make check TREE=solutions LAB="$lab"
			m=$(median "$lab alone")
			if awk -v a="$m" -v b="$slow" 'BEGIN { exit !(a > b) }'; then slow=$m slowest=$lab; fi
		done
		timed "all labs (side by side)" "$runs" quiet_make check TREE=solutions
		CHECK_JOBS=1 timed "all labs, one at a time" "$runs" quiet_make check TREE=solutions
		all=$(median "all labs (side by side)") one=$(median "all labs, one at a time")
		awk -v a="$all" -v s="$slow" -v l="$slowest" -v o="$one" 'BEGIN {
			printf "  all labs / the slowest lab alone (%s): %.2f (the goal: 1.6 or less)\n", l, a / s
			printf "  one at a time / side by side: %.2f times faster\n", o / a }'
		;;
	starters)
		# A copy of the starters: the student's own progress (build/check/labs) stays as it is.
		mkdir -p "$work/starters" && cp -r "$top"/labs/[0-9]* "$work/starters/"
		build "$work/starters"
		timed "starters (side by side)" "$runs" quiet_make check TREE="$work/starters"
		awk -v a="$(median "starters (side by side)")" 'BEGIN {
			printf "  the untouched starters: %.1f s (the goal: 25 s or less)\n", a }'
		;;
	batch)
		# make grade SUBMISSIONS= on BATCH copies of the solutions (tools/instructor/grade.sh).
		rm -rf "$work/subs" && mkdir -p "$work/subs"
		for ((i = 1; i <= batch; i++)); do
			mkdir -p "$work/subs/s$i" && cp -r "$top"/solutions/[0-9]* "$work/subs/s$i/"
		done
		timed "batch of $batch (make grade SUBMISSIONS=)" 1 quiet_make grade SUBMISSIONS="$work/subs" REPORT="$work/report"
		awk -v a="$(median "batch of $batch (make grade SUBMISSIONS=)")" -v n="$batch" 'BEGIN {
			printf "  submissions an hour at that pace: %d\n", n * 3600 / a }'
		[[ -f $work/report/grades.csv ]] && sed 's/^/    /' "$work/report/grades.csv"
		;;
	*) echo "bench-kit: unknown part $w (all, labs, starters, batch)" >&2; exit 2 ;;
	esac
done
echo "(the logs: ${work#"$top"/}/*.log)"
