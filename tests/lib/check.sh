#!/usr/bin/env bash
# check.sh - grade the labs of one tree and show the student where they stand (`make check`), or
# grade them for an instructor and write reports (`make grade`): one engine, one table.
#
# Usage: TREE_DIR=/path/to/labs [FILTER=REGEX] tests/lib/check.sh [NN-name]   grade all labs, or one
#        TREE_DIR=... tests/lib/check.sh --report DIR [NN-name]   the same, and write DIR/summary.txt,
#                                               DIR/junit.xml, DIR/results.json (see tests/lib/report.c)
#        TREE_DIR=... tests/lib/check.sh --report DIR --no-run [NN-name]   only the reports, from the TAP
#                                               files an earlier run left (grade.sh, after a time limit)
#        tests/lib/check.sh --list                             the lab list with the last progress
#        tests/lib/check.sh --plan [NN-name]   only the plan: every test and its points (make doctor)
# The labs run side by side, CHECK_JOBS at once (default: the number of processors plus two), each lab's bats
# file under a time limit; its TAP output goes to build/check/TREE/NN-name.tap (build/grade/TREE/
# for --report). The table comes in the manifest's order. FILTER=REGEX (ignoring case) runs only the
# tests whose names match; one that matches no test is a usage error that lists the tests.
# A skipped test (the machine lacks what it needs) scores 0, here as in the reports: the table says
# "N passed, M skipped", and which tests skipped and why.
# Exit status 0 only when no test of a graded lab failed (for --report: when no point was lost,
# skipped tests included); 2 for a usage error, missing test tools, or a kit that is inconsistent
# (points, see plan_lab).
#
# Points. The maximum is static, read before anything runs: a lab's points in labs/manifest are
# shared by the tests its bats file declares (its `@test "..." {` lines), in hundredths of a point,
# the first tests taking the remainder so that they add up exactly. A test may instead declare its
# own points with a bats tag on a line before it, `# bats test_tags=points:N` (N whole points);
# the lab's other tests then share what is left. A test the untouched starter already passes (a
# usage error the starter's given code handles) is best tagged `points:0`: the starters then
# score 0. A lab whose bats file crashes, or whose program does not compile, keeps
# its full maximum and scores 0; a lab with no bats file yet is one test worth all its points.
# SOCKLAB_MANIFEST and SOCKLAB_TESTS point at another manifest and tests folder (the kit's own tests);
# SOCKLAB_GRADE_NOTE is a note for the reports (grade.sh: "the time limit ran out"); grade.sh also
# sets SOCKLAB_TREE_NAME (the name the reports give the tree: the student's folder, not the sandbox's),
# SOCKLAB_SANDBOX (what the programs could reach, said in the reports) and SOCKLAB_RESULTS (where the
# TAP files go: out of the sandbox, so that a run stopped by its time limit can still be reported).
# A lab whose bats run was stopped by something else than its time limit (the student's program
# killed it) scores 0: "your program stopped the test run"; and whatever a program writes into the
# results is caught by the report writer (tests/lib/report.c: "tampered with").
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tree=${TREE_DIR:-$top/labs}
tag=${tree#"$top"/}
tag=${tag//\//_}
results=$top/build/check/$tag
LAB_TIME_LIMIT=${LAB_TIME_LIMIT:-300}
manifest_file=${SOCKLAB_MANIFEST:-$top/labs/manifest}
tests_dir=${SOCKLAB_TESTS:-$top/tests}
reporter=$top/build/tools/report
export SOCKLAB_TOP=$top

if [[ -t 1 ]]; then
	green=$'\e[32m' red=$'\e[31m' bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'
else
	green= red= bold= dim= off=
fi

# The manifest: lab, points, title.
mapfile -t manifest < <(awk '!/^#/ && NF' "$manifest_file")

bar() { # passed total width
	local n=$(($3 * $1 / ($2 > 0 ? $2 : 1))) s=
	s=$(printf '%*s' "$n" '' | tr ' ' '#')$(printf '%*s' $(($3 - n)) '' | tr ' ' '.')
	printf '[%s]' "$s"
}

if [[ ${1:-} == --list ]]; then
	done_labs=0 seen=0
	for row in "${manifest[@]}"; do
		read -r lab points title <<<"$row"
		mark='    '
		if [[ -f $top/build/check/labs/$lab.result ]]; then
			read -r passed total earned _ <"$top/build/check/labs/$lab.result"
			seen=1
			if [[ $passed == "$total" ]]; then mark=" ok " done_labs=$((done_labs + 1)); else mark="$passed/$total"; fi
		fi
		printf '  %-5s %-20s %s\n' "$mark" "$lab" "$title"
	done
	if [[ $seen == 1 ]]; then
		printf '\nYour progress (last make check): %s %d/%d labs\n' "$(bar "$done_labs" ${#manifest[@]} 20)" "$done_labs" ${#manifest[@]}
	else
		printf '\nYour progress: not checked yet. Start with labs/%s and run: make check\n' "${manifest[0]%% *}"
	fi
	exit 0
fi

report= run=1 plan_only=
if [[ ${1:-} == --plan ]]; then
	# Only the plan (every test and its points), on stdout: make doctor reads it.
	plan_only=1 run=
	shift
	results=$top/build/check/.plan
fi
if [[ ${1:-} == --report ]]; then
	report=${2:?--report needs a folder}
	shift 2
	[[ ${1:-} == --no-run ]] && run= && shift
	results=${SOCKLAB_RESULTS:-$top/build/grade/$tag}
	if [[ -n ${FILTER:-} ]]; then
		echo "make grade grades every test of a lab; FILTER= is for make check" >&2
		exit 2
	fi
fi
only=${1:-}
if [[ -n $only ]] && ! printf '%s\n' "${manifest[@]}" | grep -q "^$only "; then
	echo "check.sh: no lab $only in $manifest_file" >&2
	exit 2
fi
# The one program that matches TAP output to the plan and writes the reports (built like the probe).
if [[ -z $plan_only ]] && [[ ! -x $reporter || $top/tests/lib/report.c -nt $reporter ]]; then
	env -u MAKEFLAGS -u MFLAGS make -s --no-print-directory -C "$top" reporter >&2 ||
		{ echo "check.sh: cannot build $reporter" >&2; exit 2; }
fi

# FILTER=REGEX: only the tests whose names match, ignoring case, e.g. FILTER=eaddrinuse. Such a
# run is kept apart (build/check/TREE-filtered) and never counts as the student's progress.
if [[ -n ${FILTER:-} ]]; then
	results=$results-filtered
fi
mkdir -p "$results"
plan=$results/plan

# plan_lab LAB POINTS: the plan's lines for one lab, from its bats file (tests/lib/report.c reads
# the points tags). Exit status 3 if the tests' points do not fit the manifest's.
plan_lab() {
	"$reporter" plan "$1" "$2" "$tests_dir/$1.bats" "$results/$1.tap" "$results/$1.err"
}

# The plan of this run, written before anything runs.
{
	printf 'tree\t%s\n' "${SOCKLAB_TREE_NAME:-${tree/#"$top"\//}}"
	[[ -z ${SOCKLAB_GRADE_NOTE:-} ]] || printf 'note\t%s\n' "${SOCKLAB_GRADE_NOTE//[$'\t\n']/ }"
	[[ -z ${SOCKLAB_SANDBOX:-} ]] || printf 'sandbox\t%s\n' "${SOCKLAB_SANDBOX//[$'\t\n']/ }"
	for row in "${manifest[@]}"; do
		read -r lab points title <<<"$row"
		[[ -z $only || $only == "$lab" ]] || continue
		plan_lab "$lab" "$points" || exit 2
		[[ -z $run ]] || rm -f "$results/$lab.tap" "$results/$lab.err"
	done
} >"$plan" || exit 2
if [[ -n $plan_only ]]; then
	cat "$plan"
	exit 0
fi

# The labs to grade, in the manifest's order; with FILTER, only those with a matching test, and for
# each the exact names of its matching tests for bats (bats --filter is case-sensitive).
declare -A bats_filter=()
labs=()
if [[ -n ${FILTER:-} ]]; then
	shopt -s nocasematch
	rc=0
	[[ "" =~ $FILTER ]] || rc=$?
	if ((rc == 2)); then
		echo "FILTER=$FILTER is not a regular expression (bash's =~, POSIX extended)" >&2
		exit 2
	fi
	lab= keep=() names=() all_names=()
	flush() { # the buffered lab, if a test of it matched
		((${#keep[@]} > 1)) || return 0
		printf '%s\n' "${keep[@]}"
		labs+=("$lab")
		bats_filter[$lab]="^($(IFS='|'; echo "${names[*]}"))\$"
	}
	while IFS= read -r line; do
		IFS=$'\t' read -r kind a b _ <<<"$line"
		case $kind in
		lab) flush; lab=$a keep=("$line") names=() ;;
		test)
			all_names+=("$b")
			[[ $b =~ $FILTER ]] || continue
			keep+=("$line")
			names+=("$(sed 's/[][\.^$|?*+(){}]/\\&/g' <<<"$b")") ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$plan" >"$plan.filtered"
	flush >>"$plan.filtered"
	shopt -u nocasematch
	mv "$plan.filtered" "$plan"
	if ((${#labs[@]} == 0)); then
		{
			echo "FILTER=$FILTER matches no test${only:+ of $only} (case is ignored). The tests are:"
			printf '  %s\n' "${all_names[@]}"
			echo "Give FILTER a part of one of these names, e.g. FILTER='${all_names[0]#*: }'"
		} >&2
		exit 2
	fi
else
	for row in "${manifest[@]}"; do
		read -r lab _ <<<"$row"
		[[ -z $only || $only == "$lab" ]] && labs+=("$lab")
	done
fi

# How many labs run at once: by default two more than the processors, as a lab spends much of its
# time waiting (timers, handshakes, a hung program's time limit), not computing. Measured on two
# processors, loaded by other work: all labs 40 s with 4 at once, 56 s with 2.
jobs=${CHECK_JOBS:-$(($(nproc 2>/dev/null || echo 2) + 2))}
if [[ ! $jobs =~ ^[1-9][0-9]*$ ]]; then
	echo "CHECK_JOBS=$jobs: give how many labs may run at once (1 or more)" >&2
	exit 2
fi

# The test tools: none usable is said once, here, not as every lab failing.
if [[ -n $run ]] && ! "$top/tests/lib/bats" --version >/dev/null 2>"$results/tools.err"; then
	cat "$results/tools.err" >&2
	exit 2
fi

printf '%sGrading %s%s%s\n' "$bold" "${SOCKLAB_TREE_NAME:-${tree/#"$top"\//}}" "${FILTER:+ (only the tests matching FILTER=$FILTER)}" "$off"
# What this machine lacks, in one line (make doctor says all).
[[ -z $run ]] || "$top/tests/lib/doctor.sh" --summary 2>/dev/null

# ------------------------------------------------------------------------------------------------
# Running the labs: side by side, CHECK_JOBS at once (see above); the table
# still comes in the manifest's order, each row as soon as its lab and those above it are done.

declare -A pid_of=() t_of=() secs_of=() finished=()

# start_lab LAB: the lab's bats file, in the background, under a time limit; its TAP output in
# $results/LAB.tap. timeout runs bats in a process group of its own (out of the terminal's reach):
# on Ctrl-C, interrupted() hands the SIGINT on to it, and timeout passes it to bats, which ends its
# test and tears down. (stdin /dev/null, as under make test.)
start_lab() {
	local lab=$1 f=()
	[[ -z ${bats_filter[$lab]:-} ]] || f=(--filter "${bats_filter[$lab]}")
	rm -f "$results/$lab.nocompile"
	(
		# A lab that does not compile is one line, the compiler's first error (end_lab), not every
		# test failing under its own name.
		if compgen -G "$tree/$lab/*.c" >/dev/null &&
			! env -u MAKEFLAGS -u MFLAGS make -s --no-print-directory -C "$top" TREE="$tree" LAB="$lab" bins \
				>"$results/$lab.build" 2>&1; then
			{ grep -m1 -E ': (fatal )?error: ' "$results/$lab.build" || grep -m1 -v '^make' "$results/$lab.build"; } |
				sed "s|$top/||g; s|$tree/|${tree/#"$top"\//}/|g" >"$results/$lab.nocompile"
			echo "(no compiler message)" >>"$results/$lab.nocompile"
			exit 0
		fi
		TREE_DIR=$tree exec timeout -k 5 "$LAB_TIME_LIMIT" "$top/tests/lib/bats" --tap "${f[@]}" "$tests_dir/$lab.bats"
	) >"$results/$lab.tap" 2>"$results/$lab.err" </dev/null &
	pid_of[$lab]=$!
	t_of[$lab]=$EPOCHREALTIME
}

# end_lab LAB RC: the lab's bats ended with status RC.
end_lab() {
	local lab=$1 rc=$2
	secs_of[$lab]=$(awk -v a="${t_of[$lab]}" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	if [[ -s $results/$lab.nocompile ]]; then
		printf 'verdict\t%s\t%s does not compile (with -Werror), so none of its tests ran; the compiler'"'"'s first error: %s\n' \
			"$lab" "$lab" "$(head -n 1 "$results/$lab.nocompile")" >>"$plan"
	elif [[ $rc == 124 || ($rc == 137 && ${secs_of[$lab]%.*} -ge $LAB_TIME_LIMIT) ]]; then
		echo "not ok 0 $lab: the whole lab timed out after $LAB_TIME_LIMIT s" >>"$results/$lab.tap"
	elif [[ -z ${interrupted:-} ]] && ((rc > 128)); then
		# bats itself was killed, and not by its time limit: by the program it was testing.
		printf 'verdict\t%s\tyour program stopped the test run (bats was ended by SIG%s while it tested your program), so none of its results count\n' \
			"$lab" "$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))" >>"$plan"
	elif [[ -z ${interrupted:-} ]] && ((rc != 0)) && grep -qE '^[^ ]*bats-core/bats-exec-[a-z]+: line [0-9]+: +[0-9]+ Killed ' "$results/$lab.err"; then
		# One of bats' own processes was killed (bash says so on bats' stderr): the same.
		printf 'verdict\t%s\tyour program stopped the test run (a process of bats was killed while it tested your program), so none of its results count\n' \
			"$lab" >>"$plan"
	fi
	finished[$lab]=1
}

interrupted() {
	trap '' INT TERM
	interrupted=1
	local p
	for p in "${pid_of[@]}"; do kill -INT "$p" 2>/dev/null; done
}

# The longest labs first (their times in the last run, of this tree or else of any), so that the
# slowest one never starts last.
times_file=$results/times
order=("${labs[@]}")
if [[ -n $run ]] && ((${#labs[@]} > 1 && jobs > 1)); then
	t=$times_file
	[[ -f $t ]] || t=$(ls -t "$top"/build/check/*/times 2>/dev/null | head -n 1)
	if [[ -n $t && -f $t ]]; then
		mapfile -t order < <(awk 'NR == FNR { s[$1] = $2; next } { print (($1 in s) ? s[$1] : 0), FNR, $1 }' \
			"$t" <(printf '%s\n' "${labs[@]}") | sort -k1,1gr -k2,2n | awk '{ print $3 }')
	fi
fi

all_ok=1 labs_ok=0 labs_n=0 skips=0 next= t0=$SECONDS
# row LAB: the lab's line of the table, from its TAP output matched to the plan.
row() {
	local lab=$1 passed skipped failed total earned earned_skips max earned_text max_text mark tests
	# passed, skipped, failed, declared tests; points earned (hundredths) without and with the
	# skipped tests, the maximum. A skipped test scores 0 in make check as in make grade: the
	# machine could not run it, and the points are missing either way. Then the two as text.
	read -r passed skipped failed total earned earned_skips max earned_text max_text < <("$reporter" tally "$plan" "$lab") ||
		{ echo "check.sh: $reporter failed on $plan" >&2; exit 2; }
	labs_n=$((labs_n + 1))
	skips=$((skips + skipped))
	# For make next and the lab list: the tests that did not fail, of how many.
	[[ -z $report ]] && echo "$((passed + skipped)) $total $earned_text $max_text" >"$results/$lab.result"
	if ((passed + skipped == total)); then
		labs_ok=$((labs_ok + 1))
		mark="${green}PASS${off}"
		# make grade: full points only; make check: no test failed.
		[[ -z $report ]] || ((skipped == 0)) || all_ok=0
	else
		all_ok=0
		mark="${red}FAIL${off}"
		[[ -n $next ]] || next=$lab
	fi
	tests="$passed/$total passed"
	((skipped == 0)) || tests+=", $skipped skipped"
	printf '  %s  %-20s %s %-24s %7s points\n' "$mark" "$lab" "$(bar "$passed" "$total" 10)" "$tests" \
		"$earned_text/$max_text"
	local verdict
	verdict=$("$reporter" verdict "$plan" "$lab")
	[[ -z $verdict ]] || printf '        %s%s%s\n' "$red" "$verdict" "$off"
}

queue=("${order[@]}") running=() shown=0
[[ -z $run ]] || trap interrupted INT TERM
exec {tick}<> <(:)
while ((shown < ${#labs[@]})); do
	if [[ -n $run && -z ${interrupted:-} ]]; then
		while ((${#running[@]} < jobs && ${#queue[@]} > 0)); do
			start_lab "${queue[0]}"
			running+=("${queue[0]}")
			queue=("${queue[@]:1}")
		done
	fi
	# Every lab whose turn has come and whose result is in, in the manifest's order.
	while ((shown < ${#labs[@]})) && [[ -z $run || -n ${finished[${labs[shown]}]:-} ]]; do
		row "${labs[shown]}"
		shown=$((shown + 1))
	done
	((shown < ${#labs[@]})) || break
	# A short pause (a read that times out: no sleep, no spinning), then collect the labs that ended.
	read -rt 0.1 -u "$tick" _
	still=()
	for lab in "${running[@]}"; do
		if kill -0 "${pid_of[$lab]}" 2>/dev/null; then
			still+=("$lab")
		else
			rc=0
			{ wait "${pid_of[$lab]}"; } 2>/dev/null || rc=$?
			end_lab "$lab" "$rc"
		fi
	done
	running=("${still[@]}")
	if [[ -n ${interrupted:-} ]]; then
		# Ctrl-C: every running bats has been told; give their teardowns 10 s, then kill what is left.
		for ((i = 0; i < 100 && ${#running[@]} > 0; i++)); do
			read -rt 0.1 -u "$tick" _
			still=()
			for lab in "${running[@]}"; do kill -0 "${pid_of[$lab]}" 2>/dev/null && still+=("$lab"); done
			running=("${still[@]}")
		done
		for lab in "${running[@]}"; do kill -KILL -- "-${pid_of[$lab]}" 2>/dev/null; done
		echo "check.sh: interrupted (Ctrl-C): the grading stops here" >&2
		exit 130
	fi
done
trap - INT TERM
if [[ -n $run ]] && ((${#labs[@]} > 1)); then
	for lab in "${labs[@]}"; do echo "$lab ${secs_of[$lab]}"; done >"$times_file"
fi

if [[ -n $report ]]; then
	printf 'seconds\t%d\n' $((SECONDS - t0)) >>"$plan"
	mkdir -p "$report" && "$reporter" grade "$plan" "$report" >"$results/totals" ||
		{ echo "check.sh: could not write the reports in $report" >&2; exit 2; }
fi
# The points of every lab, as the reports count them: earned, maximum, lost to skipped tests.
read -r pts pts_max skip_pts < <("$reporter" total "$plan") || { echo "check.sh: $reporter failed on $plan" >&2; exit 2; }
printf '  %s\n  progress %s %d/%d labs, %s/%s points\n' "------------------------------------------------------------" \
	"$(bar "$labs_ok" "$labs_n" 20)" "$labs_ok" "$labs_n" "$pts" "$pts_max"

# Skipped tests: the same in make check and make grade, and said plainly: they score 0.
if ((skips > 0)); then
	printf '\n%s%d test(s) skipped: this machine could not run them, and they score 0 (make check and make grade alike): %s points missing.%s\n' \
		"$bold" "$skips" "$skip_pts" "$off"
	for lab in "${labs[@]}"; do
		sed -nE 's/^ok [0-9]+ (.*) # skip ?(.*)$/    \1\n      skipped: \2/p' "$results/$lab.tap" 2>/dev/null
	done | head -n 40
	echo "  make doctor: what this machine lacks for the kit, and which tests skip because of it"
fi

if [[ -n $next ]]; then
	tap=$results/$next.tap
	first=$(grep -m1 -E '^not ok ' "$tap" 2>/dev/null | sed -E 's/^not ok [0-9]+ //')
	printf '\n%sNext: %s%s\n' "$bold" "$next" "$off"
	verdict=$("$reporter" verdict "$plan" "$next")
	if [[ -s $results/$next.nocompile ]]; then
		printf '  %s%s does not compile%s; the compiler said:\n' "$red" "$next" "$off"
		grep -v '^make' "$results/$next.build" | sed "s|$top/||g; s|^|    |" | head -n 15
	elif [[ -n $verdict ]]; then
		printf '  %s%s%s\n' "$red" "$verdict" "$off"
	elif [[ -n $first ]]; then
		printf '  first failing test: %s%s%s\n' "$red" "$first" "$off"
		# The failing test's own report: the commands, what was expected, what came.
		t=$first awk 'found && /^(not )?ok / { exit } found && !/^# *(\(?from function|in test file|`.*'"'"' failed$)/ { sub(/^# ?/, "    "); print } index($0, ENVIRON["t"]) && /^not ok/ { found = 1 }' "$tap" | head -n 40
	else
		printf '  the test file did not run; bats said:\n'
		head -n 20 "$results/$next.err" 2>/dev/null | sed 's/^/    /'
	fi
	printf '  read:  docs/%s.md ("What the tests check"), 中文: docs/zh/%s.md\n' "$next" "$next"
	again="make check LAB=${next%%-*}"
	[[ $tree == "$top/labs" ]] || again+=" TREE=${tree/#"$top"\//}"
	[[ -z ${FILTER:-} ]] || again+=" FILTER=${FILTER@Q}"
	printf '  again: %s\n' "$again"
fi
if [[ -n $report ]]; then
	printf '\nReports: %s/summary.txt, junit.xml, results.json\n' "${report/#"$top"\//}"
fi
[[ $all_ok == 1 ]]
