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
# Each lab's bats file runs under a time limit; its TAP output goes to build/check/TREE/NN-name.tap
# (build/grade/TREE/ for --report).
# Exit status 0 only when every test of every graded lab passed (for --report: when no point was
# lost: a skipped test scores 0 there); 2 when the kit itself is inconsistent (points, see plan_lab).
#
# Points. The maximum is static, read before anything runs: a lab's points in labs/manifest are
# shared by the tests its bats file declares (its `@test "..." {` lines), in hundredths of a point,
# the first tests taking the remainder so that they add up exactly. A test may instead declare its
# own points on the line right above it, `# points: N` (N up to two decimals, then any comment);
# the lab's other tests then share what is left. A test the untouched starter already passes (a
# usage error the starter's given code handles) is best declared `# points: 0`: the starters then
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

report= run=1
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
if [[ ! -x $reporter || $top/tests/lib/report.c -nt $reporter ]]; then
	env -u MAKEFLAGS -u MFLAGS make -s --no-print-directory -C "$top" reporter >&2 ||
		{ echo "check.sh: cannot build $reporter" >&2; exit 2; }
fi

# FILTER=REGEX: only the tests whose names match (bats --filter), e.g. FILTER=EADDRINUSE. Such a
# run is kept apart (build/check/TREE-filtered) and never counts as the student's progress.
filter=()
if [[ -n ${FILTER:-} ]]; then
	filter=(--filter "$FILTER")
	results=$results-filtered
fi
mkdir -p "$results"
plan=$results/plan

# plan_lab LAB POINTS: the plan's lines for one lab (see tests/lib/report.c): the lab, then each
# test declared in its bats file with its points in hundredths. Exit status 3 if the `# points:`
# declarations do not fit the manifest's points.
plan_lab() {
	local lab=$1 points=$2 file=$tests_dir/$1.bats tap=$results/$1.tap err=$results/$1.err
	printf 'lab\t%s\t%s\t%s\t%s\n' "$lab" "$points" "$tap" "$err"
	# The same test lines selftest.sh reads; the name unquoted as bash does for bats.
	LC_ALL=C awk -v total=$((points * 100)) -v lab="$lab" -v file="${file#"$top"/}" '
	function unquote(s, out, i, c) {
		out = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "\\" && i < length(s) && index("\"\\$`", substr(s, i + 1, 1))) c = substr(s, ++i, 1)
			out = out c
		}
		return out
	}
	/^# points: +[0-9]+(\.[0-9][0-9]?)?([ \t].*)?$/ {
		split($3, p, ".")
		declared = p[1] * 100 + (length(p[2]) == 1 ? p[2] * 10 : p[2] + 0)
		next
	}
	/^@test ".*" \{$/ {
		name[n] = unquote(substr($0, 8, length($0) - 10))
		pts[n++] = declared
		fixed += declared < 0 ? 0 : declared
		free += declared < 0 ? 1 : 0
	}
	{ declared = -1 }
	BEGIN { declared = -1; n = 0 }
	END {
		if (n == 0) {
			printf "test\t%d\t%s: its tests (%s has none yet)\n", total, lab, file
			exit 0
		}
		rest = total - fixed
		if (rest < 0 || (free == 0 && rest != 0)) {
			printf "%s: the tests'\'' \"# points:\" lines give %.2f points, but the manifest gives %s %d\n", \
				file, fixed / 100, lab, total / 100 > "/dev/stderr"
			exit 3
		}
		for (i = 0; i < n; i++) {
			if (pts[i] < 0) { pts[i] = int(rest / free) + (k < rest % free ? 1 : 0); k++ }
			printf "test\t%d\t%s\n", pts[i], name[i]
		}
	}' "$([[ -f $file ]] && echo "$file" || echo /dev/null)"
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
if [[ -n ${FILTER:-} ]]; then
	# Only the tests that match (bash's =~, as bats --filter): the lab's points become theirs.
	while IFS=$'\t' read -r kind a b rest; do
		if [[ $kind == test && ! $b =~ $FILTER ]]; then continue; fi
		printf '%s\t%s\t%s%s\n' "$kind" "$a" "$b" "${rest:+$'\t'$rest}"
	done <"$plan" >"$plan.filtered" && mv "$plan.filtered" "$plan"
fi

printf '%sGrading %s%s%s\n' "$bold" "${SOCKLAB_TREE_NAME:-${tree/#"$top"\//}}" "${FILTER:+ (only the tests matching FILTER=$FILTER)}" "$off"
all_ok=1 labs_ok=0 labs_n=0 pts=0 pts_max=0 next= next_skipped=0 t0=$SECONDS
for row in "${manifest[@]}"; do
	read -r lab points title <<<"$row"
	[[ -z $only || $only == "$lab" ]] || continue
	labs_n=$((labs_n + 1))
	tap=$results/$lab.tap
	if [[ -n $run ]]; then
		# Ctrl-C must stop the grading: timeout runs bats in a process group of its own, which a
		# terminal's SIGINT (sent to make's group) misses. So bats runs in the background (stdin
		# /dev/null, as under make test), and the trap hands the SIGINT on: timeout passes it to
		# bats, which ends its test and tears down.
		trap 'interrupted=1; [[ -z ${bats_pid:-} ]] || kill -INT "$bats_pid" 2>/dev/null' INT
		rc=0 t_lab=$SECONDS
		if [[ -z ${interrupted:-} ]]; then
			TREE_DIR=$tree timeout -k 5 "$LAB_TIME_LIMIT" "$top/tests/lib/bats" --tap "${filter[@]}" "$tests_dir/$lab.bats" \
				>"$tap" 2>"$results/$lab.err" </dev/null &
			bats_pid=$!
			# wait returns early when the trap runs: wait again until bats has really ended.
			while rc=0; { wait "$bats_pid"; } 2>/dev/null || rc=$?; kill -0 "$bats_pid" 2>/dev/null; do :; done
			bats_pid=
		fi
		if [[ -n ${interrupted:-} ]]; then
			echo "check.sh: interrupted (Ctrl-C) during $lab: the grading stops here" >&2
			exit 130
		fi
		if [[ $rc == 124 || ($rc == 137 && $((SECONDS - t_lab)) -ge $LAB_TIME_LIMIT) ]]; then
			echo "not ok 0 $lab: the whole lab timed out after $LAB_TIME_LIMIT s" >>"$tap"
		elif ((rc > 128)); then
			# bats itself was killed, and not by its time limit: by the program it was testing.
			printf 'verdict\t%s\tyour program stopped the test run (bats was ended by SIG%s while it tested your program), so none of its results count\n' \
				"$lab" "$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))" >>"$plan"
		fi
	fi
	# passed, skipped, failed, declared tests; points earned (hundredths) without and with the
	# skipped tests, the maximum. A student's make check counts a skipped test as passed (their
	# machine could not run it); make grade gives it 0.
	read -r passed skipped failed total earned earned_skips max < <("$reporter" tally "$plan" "$lab") ||
		{ echo "check.sh: $reporter failed on $plan" >&2; exit 2; }
	if [[ -z $report ]]; then
		passed=$((passed + skipped))
		earned=$earned_skips
	fi
	earned=$((earned / 100))
	pts=$((pts + earned))
	pts_max=$((pts_max + max / 100))
	[[ -z $report ]] && echo "$passed $total $earned $points" >"$results/$lab.result"
	if ((passed == total)); then
		labs_ok=$((labs_ok + 1))
		mark="${green}PASS${off}"
	else
		all_ok=0
		mark="${red}FAIL${off}"
		[[ -n $next ]] || next=$lab next_skipped=$skipped
	fi
	extra=
	((skipped > 0)) && extra=" ${dim}($skipped skipped${report:+, scored 0})${off}"
	printf '  %s  %-20s %s %3d/%-3d tests  %3d/%-3d points%s\n' "$mark" "$lab" "$(bar "$passed" "$total" 10)" \
		"$passed" "$total" "$earned" "$((max / 100))" "$extra"
	verdict=$("$reporter" verdict "$plan" "$lab")
	[[ -z $verdict ]] || printf '        %s%s%s\n' "$red" "$verdict" "$off"
done

if [[ -n $report ]]; then
	printf 'seconds\t%d\n' $((SECONDS - t0)) >>"$plan"
	mkdir -p "$report" && "$reporter" grade "$plan" "$report" >"$results/totals" ||
		{ echo "check.sh: could not write the reports in $report" >&2; exit 2; }
	# The exact total (a lab's points can be fractions of a point when a test is lost).
	read -r _ pts pts_max < <(grep '^total' "$results/totals")
fi
printf '  %s\n  progress %s %d/%d labs, %s/%s points\n' "------------------------------------------------------------" \
	"$(bar "$labs_ok" "$labs_n" 20)" "$labs_ok" "$labs_n" "$pts" "$pts_max"

if [[ -n $next ]]; then
	tap=$results/$next.tap
	first=$(grep -m1 -E '^not ok ' "$tap" 2>/dev/null | sed -E 's/^not ok [0-9]+ //')
	printf '\n%sNext: %s%s\n' "$bold" "$next" "$off"
	if [[ -n $first ]]; then
		printf '  first failing test: %s%s%s\n' "$red" "$first" "$off"
		# The failing test's own report: the commands, what was expected, what came.
		t=$first awk 'found && /^(not )?ok / { exit } found && !/^# *(\(?from function|in test file|`.*'"'"' failed$)/ { sub(/^# ?/, "    "); print } index($0, ENVIRON["t"]) && /^not ok/ { found = 1 }' "$tap" | head -n 40
	elif ((next_skipped > 0)); then
		printf '  no test failed, but make grade scores a skipped test 0; skipped here:\n'
		grep -E '^ok [0-9]+ .* # skip' "$tap" | sed -E 's/^ok [0-9]+ /    /' | head -n 20
	else
		printf '  the test file did not run; bats said:\n'
		head -n 20 "$results/$next.err" 2>/dev/null | sed 's/^/    /'
	fi
	printf '  read:  docs/%s.md ("What the tests check"), 中文: docs/zh/%s.md\n' "$next" "$next"
	printf '  again: make check LAB=%s\n' "${next%%-*}"
fi
if [[ -n $report ]]; then
	printf '\nReports: %s/summary.txt, junit.xml, results.json\n' "${report/#"$top"\//}"
fi
[[ $all_ok == 1 ]]
