#!/usr/bin/env bash
# grade.sh - grade a folder of submissions (`make grade SUBMISSIONS=dir`), each in a sandbox of its own,
# GRADE_JOBS (the number of processors) at a time.
#
# Usage: REPORT_DIR=DIR tools/instructor/grade.sh SUBMISSIONS [NN-name]
# Each subfolder of SUBMISSIONS is one student: a copy of labs/ (NN-name folders), or a whole checkout
# with labs/ inside. Writes DIR/STUDENT/{summary.txt,junit.xml,results.json,log.txt} (as make grade)
# and DIR/grades.csv: student, the points of each lab, total, note (why a submission lost points
# without failing tests: its time ran out). The kit's grading parts are staged once per batch outside
# the kit and shown read-only to every submission's sandbox (tools/instructor/sandbox.sh). Limits:
# GRADE_TIME_LIMIT s per submission (150 per lab graded), GRADE_CPU_LIMIT s of CPU per process (60),
# GRADE_NPROC processes (256), GRADE_FSIZE bytes per file (64 MiB), GRADE_MEMORY bytes of address
# space per process (256 MiB; none with SAN=1), GRADE_OUTPUT_CAP bytes kept of a run's output (1 MiB);
# GRADE_SANDBOX=none grades without namespaces, and says so. Exit status 0 when every submission was
# graded, whatever the points; 2 for a usage error or a broken kit.
set -u
source "${BASH_SOURCE[0]%/*}/../lib.sh"
subs=${1:?usage: REPORT_DIR=DIR tools/instructor/grade.sh SUBMISSIONS [NN-name]}
only=${2:-}
report=${REPORT_DIR:-$top/build/report}
jobs=${GRADE_JOBS:-$(nproc 2>/dev/null || echo 2)}
time_limit=${GRADE_TIME_LIMIT:-}
cpu_limit=${GRADE_CPU_LIMIT:-60}
nproc_limit=${GRADE_NPROC:-256}
fsize_limit=${GRADE_FSIZE:-$((64 << 20))}
mem_limit=${GRADE_MEMORY:-$((256 << 20))}
output_cap=${GRADE_OUTPUT_CAP:-$((1 << 20))}
# The user ids of the sandboxes (tools/instructor/sandbox.sh): 65536 from GRADE_UID_BASE + 65536 * slot,
# the slot from this batch's process id and the submission's number, so that two batches graded at
# the same time do not share their students' user ids.
export SB_UID_BASE=${GRADE_UID_BASE:-3000000000}
salt=$((($$ % 64) * 64))
sandbox=$top/tools/instructor/sandbox.sh

[[ -d $subs ]] || { echo "grade.sh: no folder $subs" >&2; exit 2; }
labs=("${manifest_labs[@]}")
if [[ -n $only ]]; then
	only=$(lab_name "$only") || exit 2
	labs=("$only")
fi
# 150 s a lab: a full run of the solutions takes a few seconds to half a minute a lab, two
# submissions at a time on a busy machine several times that; a hanging one ends where its tests'
# own time limits end it, this is the backstop.
time_limit=${time_limit:-$((150 * ${#labs[@]}))}
# The kit's own tools, built once here, then shown to every sandbox.
quiet_make probe reporter launch ||
	{ echo "grade.sh: cannot build the probe, the launcher and the report writer" >&2; exit 2; }
[[ -n ${SAN:-} ]] && mem_limit=
# A limit can only be lowered without privileges: where this process already has a lower hard
# limit (a caller's ulimit), keep that one. below HARD UNIT VALUE: the smaller, in VALUE's unit.
below() {
	[[ $1 == unlimited ]] || (($1 * $2 >= $3)) && echo "$3" || echo $(($1 * $2))
}
cpu_limit=$(below "$(ulimit -Ht)" 1 "$cpu_limit")
nproc_limit=$(below "$(ulimit -Hu)" 1 "$nproc_limit")
fsize_limit=$(below "$(ulimit -Hf)" 1024 "$fsize_limit")
[[ -z $mem_limit ]] || mem_limit=$(below "$(ulimit -Hv)" 1024 "$mem_limit")
export SB_LIMITS="--cpu=$cpu_limit --fsize=$fsize_limit --nproc=$nproc_limit ${mem_limit:+--as=$mem_limit} --core=0"

# Which sandbox this machine allows: "full", "partial: ..." or "none: ...".
mode=$("$sandbox" --mode)
case $mode in
full) box="full: a root of its own (no kit folder, solutions, builds, other submissions or reports), user, network, PID and mount namespaces; the tests as root there, the programs as another user" ;;
*) box=$mode ;;
esac

# The batch's folder, outside the kit: the staged kit, then one folder per submission.
work=$(mktemp -d "${TMPDIR:-/tmp}/socklab-batch.XXXXXX") || exit 2
kit=$work/kit
mkdir -p "$kit/labs" "$kit/tests" "$kit/tools/instructor" "$kit/build/probe" "$kit/build/tools"
cp -Rp "$top/Makefile" "$top/include" "$kit/"
cp -Rp "$top/tests/lib" "$kit/tests/"
# The grading engine and what it runs: check.sh, the shared library, bats' runner, doctor.sh,
# testtools.sh; and the sandbox, which runs itself again from there.
cp -p "$top"/tools/*.sh "$top/tools/bats" "$kit/tools/"
cp -p "$top/tools/instructor/sandbox.sh" "$kit/tools/instructor/"
cp -p "$tests_dir"/*.bats "$kit/tests/" 2>/dev/null
cp -p "$manifest_file" "$kit/labs/manifest"
for f in package.json package-lock.json; do [[ -f $top/$f ]] && cp -p "$top/$f" "$kit/"; done
# (their times kept, so that nothing rebuilds them inside)
cp -p "$top/build/probe/probe" "$kit/build/probe/"
cp -p "$top/build/tools/report" "$top/build/tools/launch" "$kit/build/tools/"
chmod -R a+rX "$kit"
# The pinned bats: shown at /kit/node_modules (a sandbox mounts it there), or linked without one.
node=$top/node_modules
if [[ $mode == none* ]]; then
	[[ -d $node ]] && ln -s "$node" "$kit/node_modules"
else
	mkdir -p "$kit/node_modules"
	[[ -d $node ]] || node=$kit/node_modules
fi

# kill_marked VAR=VALUE: SIGKILL every process with that in its environment (without a sandbox,
# every process of a submission's run carries SOCKLAB_JAIL=its folder and SOCKLAB_BATCH=this batch).
kill_marked() {
	local pids
	pids=$(marked "$1")
	# shellcheck disable=SC2086 # the pids, as words
	[[ -z $pids ]] || kill -KILL $pids 2>/dev/null
	return 0
}

# jail N DIR NAME CMD...: run CMD (check.sh) in the sandbox of submission N (folder DIR), within the
# time limit; its output goes to DIR/log.
jail() {
	local n=$1 dir=$2 name=$3 rc
	shift 3
	{
		SB_KIT=$kit SB_SUB=$dir/sub SB_OUT=$dir/out SB_NODE=$node SB_N=$((salt + n % 64)) TMPDIR=$dir \
			SOCKLAB_TREE_NAME="$name" SOCKLAB_SANDBOX="$box" SOCKLAB_BATCH="$batch" SOCKLAB_JAIL="$dir" \
			setsid -w timeout -s KILL "$time_limit" "$sandbox" "$@" >"$dir/log" 2>&1 </dev/null
	} 2>/dev/null
	rc=$?
	# Whatever escaped a run without a PID namespace: every process still carrying its mark.
	[[ $mode != none* ]] || kill_marked "SOCKLAB_JAIL=$dir"
	# The run's own output, capped (a flood that reached it stops here).
	if [[ -f $dir/log && ! -L $dir/log ]] && (($(stat -c %s "$dir/log") > output_cap)); then
		head -c "$output_cap" "$dir/log" >"$dir/log.cut" && mv -f "$dir/log.cut" "$dir/log"
		printf '\n... (cut at %d bytes)\n' "$output_cap" >>"$dir/log"
	fi
	return "$rc"
}

# grade_one N STUDENT: grade one submission into $report/STUDENT; print one line for the batch.
grade_one() {
	local n=$1 name=$2 src=$subs/$2 dir=$work/s$1 lab note= rc t0=$SECONDS f out in
	[[ -d $src/labs ]] && src=$src/labs
	mkdir -p "$dir/sub" "$dir/out"
	# The submission's lab folders: their regular files only (no links to follow as the grader, no
	# device files), each below 10 MiB.
	for lab in "${labs[@]}"; do
		[[ -d $src/$lab && ! -L $src/$lab ]] || continue
		(cd "$src" && find "$lab" -type f -size -10M -print0 | xargs -0r cp --parents -t "$dir/sub")
	done
	# Inside a sandbox the submission is /sub and the reports go to /out; without one, where they are.
	if [[ $mode == none* ]]; then in=$dir/sub out=$dir/out; else in=/sub out=/out; fi
	local shown=${subs/#"$top"\//}/$name
	jail "$n" "$dir" "$shown" env SOCKLAB_RESULTS="$out/results" tools/check.sh --report "$out" ${only:+"$only"}
	rc=$?
	if [[ $rc == 137 || $rc == 124 ]]; then
		note="the time limit of $time_limit s ran out; the tests that had not finished score 0"
	fi
	if [[ ! -f $dir/out/results.json || -n $note ]]; then
		# No reports (time ran out, or the run was killed): make them from the results the tests
		# wrote (out of the programs' reach), here, without running anything.
		[[ -n $note ]] || note="the grading stopped (exit status $rc) before it wrote its reports"
		rm -f "$dir/out/results.json"
		SOCKLAB_RESULTS=$dir/out/results SOCKLAB_GRADE_NOTE=$note SOCKLAB_TREE_NAME=$shown SOCKLAB_SANDBOX=$box \
			SOCKLAB_MANIFEST=$kit/labs/manifest SOCKLAB_TESTS=$kit/tests TREE_DIR=$dir/sub \
			"$top/tools/check.sh" --report "$dir/out" --no-run ${only:+"$only"} >/dev/null 2>&1
	fi
	mkdir -p "$report/$name"
	for f in summary.txt junit.xml results.json; do
		if [[ -f $dir/out/$f && ! -L $dir/out/$f ]]; then
			cp "$dir/out/$f" "$report/$name/$f"
		else
			rm -f "$report/$name/$f"
		fi
	done
	cp "$dir/log" "$report/$name/log.txt" 2>/dev/null
	# The points: from summary.txt, per lab and the total.
	{
		printf '%s' "$name"
		for lab in "${labs[@]}"; do
			printf '\x1f%s' "$(awk -v l="$lab" '$1 == l { split($2, p, "/"); print p[1]; exit }' \
				"$report/$name/summary.txt" 2>/dev/null)"
		done
		printf '\x1f%s\x1f%s\n' "$(awk '$1 == "total" { split($2, p, "/"); print p[1] }' \
			"$report/$name/summary.txt" 2>/dev/null)" "$note"
	} >"$report/.rows/$n"
	rm -rf "$dir"
	printf '  %-24s %s  (%d s)%s\n' "$name" "$(grep -m1 '^total' "$report/$name/summary.txt" 2>/dev/null ||
		echo 'no report')" $((SECONDS - t0)) "${note:+  - $note}"
}

mapfile -t students < <(cd "$subs" && for d in *; do [[ -d $d && ! -L $d ]] && echo "$d"; done | LC_ALL=C sort)
((${#students[@]})) || { echo "grade.sh: no submission folders in $subs" >&2; rm -rf "$work"; exit 2; }
mkdir -p "$report"
rm -rf "$report/.rows" && mkdir -p "$report/.rows"
# Interrupted (Ctrl-C, a kill): every sandbox is stopped (and with its first process, its PID
# namespace); without one, whatever carries the batch's mark too; then the batch's folder goes.
batch=$$.$EPOCHSECONDS
trap '[[ $mode != none* ]] || kill_marked "SOCKLAB_BATCH=$batch"; rm -rf "$work"' EXIT
stop_on_ctrl_c "grade.sh: interrupted: stopping every sandbox of the batch"
printf 'Grading %d submission(s) in %s, %d at a time\n  sandbox: %s\n' "${#students[@]}" "${subs/#"$top"\//}" \
	"$jobs" "$box"
printf '  limits: %d s per submission, %d s CPU per process, %d processes, files up to %d bytes%s\n' \
	"$time_limit" "$cpu_limit" "$nproc_limit" "$fsize_limit" "${mem_limit:+, $mem_limit bytes of memory per process}"

running=0
for ((i = 0; i < ${#students[@]}; i++)); do
	if ((running >= jobs)); then
		wait -n
		running=$((running - 1))
	fi
	grade_one "$i" "${students[i]}" &
	running=$((running + 1))
done
wait

# grades.csv: one row per student, in name order (RFC 4180 quoting, newline-ended lines).
csv() {
	local f out= sep=
	for f in "$@"; do
		[[ $f == *[\",$'\n\r']* ]] && f="\"${f//\"/\"\"}\""
		out+=$sep$f sep=,
	done
	printf '%s\n' "$out"
}
{
	csv student "${labs[@]}" total note
	for ((i = 0; i < ${#students[@]}; i++)); do
		IFS=$'\x1f' read -r -a row <"$report/.rows/$i" 2>/dev/null || row=("${students[i]}")
		while ((${#row[@]} < ${#labs[@]} + 3)); do row+=(""); done # read drops empty fields at the end
		csv "${row[@]}"
	done
} >"$report/grades.csv"
rm -rf "$report/.rows"
printf 'Grades: %s (reports per student in %s/STUDENT/)\n' "${report/#"$top"\//}/grades.csv" "${report/#"$top"\//}"
