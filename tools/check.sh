#!/usr/bin/env bash
# check.sh - grade the labs of one tree: the student's table (`make check`), or an instructor's reports
# (`make grade`); one engine, one table.
#
# Usage: TREE_DIR=DIR [FILTER=REGEX] tools/check.sh [--report DIR [--no-run]] [NN-name] | --list | --plan [NN-name]
# The labs run side by side (CHECK_JOBS at once), each lab's bats file under a time limit, its TAP output
# in build/check/TREE/ (build/grade/TREE/ for --report, which also writes DIR/summary.txt, junit.xml and
# results.json; --no-run only writes them from an earlier run's TAP files); the table comes in the
# manifest's order. FILTER runs only the tests whose names match, ignoring case. --list is the lab
# list with the last progress, --plan every test and its points (make doctor). Exit status 0 only when
# no test of a graded lab failed (for --report: when no point was lost), 2 for a usage error, missing
# test tools or an inconsistent kit. Why it works this way: docs/maintainers.md.
set -u
source "${BASH_SOURCE[0]%/*}/lib.sh"
tree=${TREE_DIR:-$top/labs}
results=$(results_dir "$tree")
LAB_TIME_LIMIT=${LAB_TIME_LIMIT:-300}
reporter=$top/build/tools/report
export SOCKLAB_TOP=$top

bar() { # passed total width
	local n=$(($3 * $1 / ($2 > 0 ? $2 : 1))) s=
	s=$(printf '%*s' "$n" '' | tr ' ' '#')$(printf '%*s' $(($3 - n)) '' | tr ' ' '.')
	printf '[%s]' "$s"
}

if [[ ${1:-} == --list ]]; then
	done_labs=0 seen=0
	for lab in "${manifest_labs[@]}"; do
		mark='    '
		if [[ -f $top/build/check/labs/$lab.result ]]; then
			read -r passed total earned _ <"$top/build/check/labs/$lab.result"
			seen=1
			if [[ $passed == "$total" ]]; then mark=" ok " done_labs=$((done_labs + 1)); else mark="$passed/$total"; fi
		fi
		printf '  %-5s %-20s %s\n' "$mark" "$lab" "${manifest_title[$lab]}"
	done
	if [[ $seen == 1 ]]; then
		printf '\nYour progress (last make check): %s %d/%d labs\n' "$(bar "$done_labs" ${#manifest_labs[@]} 20)" "$done_labs" ${#manifest_labs[@]}
	else
		printf '\nYour progress: not checked yet. Start with labs/%s and run: make check\n' "${manifest_labs[0]:-}"
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
	results=${SOCKLAB_RESULTS:-$top/build/grade/$(tree_tag "$tree")}
	if [[ -n ${FILTER:-} ]]; then
		echo "make grade grades every test of a lab; FILTER= is for make check" >&2
		exit 2
	fi
fi
only=${1:-}
if [[ -n $only ]]; then
	only=$(lab_name "$only") || exit 2
fi
# The one program that matches TAP output to the plan and writes the reports (built like the probe).
if [[ -z $plan_only ]] && [[ ! -x $reporter || $top/tools/report.c -nt $reporter ]]; then
	quiet_make reporter >&2 ||
		{ echo "check.sh: cannot build $reporter" >&2; exit 2; }
fi

# FILTER=REGEX: only the tests whose names match, ignoring case, e.g. FILTER=eaddrinuse. Such a
# run is kept apart (build/check/TREE-filtered) and never counts as the student's progress.
if [[ -n ${FILTER:-} ]]; then
	results=$results-filtered
fi
mkdir -p "$results"
plan=$results/plan

# plan_lab LAB POINTS: the plan's lines for one lab, from its bats file (tools/report.c reads
# the points tags). Exit status 3 if the tests' points do not fit the manifest's.
plan_lab() {
	"$reporter" plan "$1" "$2" "$tests_dir/$1.bats" "$results/$1.tap" "$results/$1.err"
}

# The plan of this run, written before anything runs.
{
	printf 'tree\t%s\n' "${SOCKLAB_TREE_NAME:-${tree/#"$top"\//}}"
	[[ -z ${SOCKLAB_GRADE_NOTE:-} ]] || printf 'note\t%s\n' "${SOCKLAB_GRADE_NOTE//[$'\t\n']/ }"
	[[ -z ${SOCKLAB_SANDBOX:-} ]] || printf 'sandbox\t%s\n' "${SOCKLAB_SANDBOX//[$'\t\n']/ }"
	for lab in "${manifest_labs[@]}"; do
		[[ -z $only || $only == "$lab" ]] || continue
		plan_lab "$lab" "${manifest_points[$lab]}" || exit 2
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
		bats_filter[$lab]="($(IFS='|'; echo "${names[*]}"))"
	}
	while IFS= read -r line; do
		IFS=$'\t' read -r kind a b _ <<<"$line"
		case $kind in
		lab) flush; lab=$a keep=("$line") names=() ;;
		test)
			all_names+=("$b")
			[[ $b =~ $FILTER ]] || continue
			keep+=("$line")
			names+=("$(exact_filter "$b")") ;;
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
	for lab in "${manifest_labs[@]}"; do
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
if [[ -n $run ]] && ! "$top/tools/bats" --version >/dev/null 2>"$results/tools.err"; then
	cat "$results/tools.err" >&2
	exit 2
fi

printf '%sGrading %s%s%s\n' "$bold" "${SOCKLAB_TREE_NAME:-${tree/#"$top"\//}}" "${FILTER:+ (only the tests matching FILTER=$FILTER)}" "$off"
# What this machine lacks, in one line (make doctor says all).
[[ -z $run ]] || "$top/tools/doctor.sh" --summary 2>/dev/null

# ------------------------------------------------------------------------------------------------
# Running the labs: side by side, CHECK_JOBS at once (see above); the table
# still comes in the manifest's order, each row as soon as its lab and those above it are done.

declare -A pid_of=() t_of=() secs_of=() finished=()

# start_lab LAB: the lab's bats file, in the background, under a time limit; its TAP output in
# $results/LAB.tap (stdin /dev/null, as under make test).
start_lab() {
	local lab=$1 f=()
	[[ -z ${bats_filter[$lab]:-} ]] || f=(--filter "${bats_filter[$lab]}")
	rm -f "$results/$lab.nocompile"
	(
		# A lab that does not compile is one line, the compiler's first error (end_lab), not every
		# test failing under its own name.
		if compgen -G "$tree/$lab/*.c" >/dev/null &&
			! quiet_make TREE="$tree" LAB="$lab" bins >"$results/$lab.build" 2>&1; then
			{ grep -m1 -E ': (fatal )?error: ' "$results/$lab.build" || grep -m1 -v '^make' "$results/$lab.build"; } |
				sed "s|$top/||g; s|$tree/|${tree/#"$top"\//}/|g" >"$results/$lab.nocompile"
			echo "(no compiler message)" >>"$results/$lab.nocompile"
			exit 0
		fi
		TREE_DIR=$tree exec timeout -k 5 "$LAB_TIME_LIMIT" "$top/tools/bats" --tap "${f[@]}" "$tests_dir/$lab.bats"
	) >"$results/$lab.tap" 2>"$results/$lab.err" </dev/null &
	pid_of[$lab]=$!
	t_of[$lab]=$EPOCHREALTIME
}

# end_lab LAB RC: the lab's bats ended with status RC.
end_lab() {
	local lab=$1 rc=$2
	secs_of[$lab]=$(since "${t_of[$lab]}")
	if [[ -s $results/$lab.nocompile ]]; then
		printf 'verdict\t%s\t%s does not compile (with -Werror), so none of its tests ran; the compiler'"'"'s first error: %s\n' \
			"$lab" "$lab" "$(head -n 1 "$results/$lab.nocompile")" >>"$plan"
	elif [[ $rc == 124 || ($rc == 137 && ${secs_of[$lab]%.*} -ge $LAB_TIME_LIMIT) ]]; then
		echo "not ok 0 $lab: the whole lab timed out after $LAB_TIME_LIMIT s" >>"$results/$lab.tap"
	elif ((rc > 128)); then
		# bats itself was killed, and not by its time limit: by the program it was testing.
		printf 'verdict\t%s\tyour program stopped the test run (bats was ended by SIG%s while it tested your program), so none of its results count\n' \
			"$lab" "$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))" >>"$plan"
	elif ((rc != 0)) && grep -qE '^[^ ]*bats-core/bats-exec-[a-z]+: line [0-9]+: +[0-9]+ Killed ' "$results/$lab.err"; then
		# One of bats' own processes was killed (bash says so on bats' stderr): the same.
		printf 'verdict\t%s\tyour program stopped the test run (a process of bats was killed while it tested your program), so none of its results count\n' \
			"$lab" >>"$plan"
	fi
	finished[$lab]=1
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
# Ctrl-C: every bats run is told (its teardown stops the servers of its test), then all is stopped.
[[ -z $run ]] || stop_on_ctrl_c "check.sh: interrupted (Ctrl-C): the grading stops here"
while ((shown < ${#labs[@]})); do
	if [[ -n $run ]]; then
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
	# A short pause, then collect the labs that ended.
	nap 0.1
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
done
trap - INT TERM HUP
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
	first=$(first_failure "$tap")
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
		failure_report "$tap" "$first" | head -n 40 | sed 's/^/    /'
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
