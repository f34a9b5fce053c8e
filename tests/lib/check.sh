#!/usr/bin/env bash
# check.sh - grade the labs of one tree and show the student where they stand (`make check`).
#
# Usage: TREE_DIR=/path/to/labs [FILTER=REGEX] tests/lib/check.sh [NN-name]   grade all labs, or one
#        tests/lib/check.sh --list                             the lab list with the last progress
# Each lab's bats file runs under a time limit; its TAP output goes to build/check/TREE/NN-name.tap.
# Exit status 0 only when every test of every graded lab passed.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tree=${TREE_DIR:-$top/labs}
tag=${tree#"$top"/}
tag=${tag//\//_}
results=$top/build/check/$tag
LAB_TIME_LIMIT=${LAB_TIME_LIMIT:-300}

if [[ -t 1 ]]; then
	green=$'\e[32m' red=$'\e[31m' bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'
else
	green= red= bold= dim= off=
fi

# The manifest: lab, points, title.
mapfile -t manifest < <(awk '!/^#/ && NF' "$top/labs/manifest")

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

only=${1:-}
# FILTER=REGEX: only the tests whose names match (bats --filter), e.g. FILTER=EADDRINUSE. Such a
# run is kept apart (build/check/TREE-filtered) and never counts as the student's progress.
filter=()
if [[ -n ${FILTER:-} ]]; then
	filter=(--filter "$FILTER")
	results=$results-filtered
fi
mkdir -p "$results"
printf '%sGrading %s%s%s\n' "$bold" "${tree/#"$top"\//}" "${FILTER:+ (only the tests matching FILTER=$FILTER)}" "$off"
all_ok=1 labs_ok=0 labs_n=0 pts=0 pts_max=0 next=
for row in "${manifest[@]}"; do
	read -r lab points title <<<"$row"
	[[ -z $only || $only == "$lab" ]] || continue
	labs_n=$((labs_n + 1))
	pts_max=$((pts_max + points))
	tap=$results/$lab.tap
	total=$("$top/tests/lib/bats" --count "${filter[@]}" "$top/tests/$lab.bats" 2>/dev/null) || total=0
	TREE_DIR=$tree timeout -k 5 "$LAB_TIME_LIMIT" "$top/tests/lib/bats" --tap "${filter[@]}" "$top/tests/$lab.bats" \
		>"$tap" 2>"$results/$lab.err"
	rc=$?
	passed=$(grep -cE '^ok [0-9]+' "$tap")
	skipped=$(grep -cE '^ok [0-9]+ .* # skip' "$tap")
	[[ $rc == 124 || $rc == 137 ]] && echo "not ok 0 $lab: the whole lab timed out after $LAB_TIME_LIMIT s" >>"$tap"
	((total > 0)) || total=1 # a bats file that cannot even be counted still fails
	earned=$((points * passed / total))
	pts=$((pts + earned))
	echo "$passed $total $earned $points" >"$results/$lab.result"
	if ((passed == total)); then
		labs_ok=$((labs_ok + 1))
		mark="${green}PASS${off}"
	else
		all_ok=0
		mark="${red}FAIL${off}"
		[[ -n $next ]] || next=$lab
	fi
	extra=
	((skipped > 0)) && extra=" ${dim}($skipped skipped)${off}"
	printf '  %s  %-20s %s %3d/%-3d tests  %3d/%-3d points%s\n' "$mark" "$lab" "$(bar "$passed" "$total" 10)" \
		"$passed" "$total" "$earned" "$points" "$extra"
done

printf '  %s\n  progress %s %d/%d labs, %d/%d points\n' "------------------------------------------------------------" \
	"$(bar "$labs_ok" "$labs_n" 20)" "$labs_ok" "$labs_n" "$pts" "$pts_max"

if [[ -n $next ]]; then
	tap=$results/$next.tap
	first=$(grep -m1 -E '^not ok ' "$tap" | sed -E 's/^not ok [0-9]+ //')
	printf '\n%sNext: %s%s\n' "$bold" "$next" "$off"
	if [[ -n $first ]]; then
		printf '  first failing test: %s%s%s\n' "$red" "$first" "$off"
		# The failing test's own report: the commands, what was expected, what came.
		awk -v t="$first" 'found && /^(not )?ok / { exit } found && !/^# *(\(?from function|in test file)/ { sub(/^# ?/, "    "); print } index($0, t) && /^not ok/ { found = 1 }' "$tap" | head -n 40
	else
		printf '  the test file did not run; bats said:\n'
		head -n 20 "$results/$next.err" | sed 's/^/    /'
	fi
	printf '  read:  docs/%s.md ("What the tests check"), 中文: docs/zh/%s.md\n' "$next" "$next"
	printf '  again: make check LAB=%s\n' "${next%%-*}"
fi
[[ $all_ok == 1 ]]
