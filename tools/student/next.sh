#!/usr/bin/env bash
# next.sh - `make next`: the first lab not passing yet, its first failing test (what it did, what it
# expected, what came) and where to read.
#
# Usage: [TREE_DIR=DIR] tools/student/next.sh
# It uses the results make check keeps in build/check/TREE/ while they are newer than the lab's files,
# its tests, the test helpers and the shared header; a lab whose results are missing or stale is
# checked again (all its tests: FILTER does not apply).
set -u
source "${BASH_SOURCE[0]%/*}/common.sh"
unset FILTER
res=$(results_dir "$tree")

# fresh LAB: its last results exist and nothing they depend on changed since.
fresh() {
	local tap=$res/$1.tap newer
	[[ -f $tap && -f $res/$1.result ]] || return 1
	newer=$(find "$tree/$1" "$tests_dir/$1.bats" "$top/tests/lib" "$top/include" -newer "$tap" -type f \
		! -name '*.bak-*' -print -quit 2>/dev/null)
	[[ -z $newer ]]
}

# report LAB PASSED TOTAL: what make next says of the first lab not passing.
report() {
	local lab=$1 nn=${1%%-*} tap=$res/$1.tap first failure line where doc
	printf '%sNext: %s%s - %s\n' "$bold" "$lab" "$off" "${manifest_title[$lab]}"
	printf '  %d of %d tests pass (results of %s).\n' "$2" "$3" "$(date -r "$tap" '+%H:%M:%S, %Y-%m-%d')"
	first=$(first_failure "$tap")
	if [[ -z $first ]]; then
		echo "  The tests did not run; bats said:"
		head -n 20 "$res/$lab.err" 2>/dev/null | sed 's/^/    /'
	else
		printf '  first failing test: %s%s%s\n' "$red" "$first" "$off"
		failure=$(failure_report "$tap" "$first")
		# The whole report up to 40 lines; where it is longer, the lines that say what was expected
		# and what came are added, so that expected vs actual is always on the screen.
		echo "  what the test did, what it expected, what came:"
		head -n 40 <<<"$failure" | sed 's/^/    /'
		if (($(wc -l <<<"$failure") > 40)); then
			echo "    ..."
			tail -n +41 <<<"$failure" | grep -E '^(expected|actual|got|substring|output|--)|expected|timed out|crashed' |
				head -n 10 | sed 's/^/    /'
		fi
	fi
	# Where to read: the handout's line that names this test, the errno explainer for the errno
	# names the report mentions.
	printf '  read:  '
	for doc in "docs/$lab.md" "docs/zh/$lab.md"; do
		where=$doc
		if [[ -n $first && -f $top/$doc ]]; then
			line=$(grep -nF -- "$first" "$top/$doc" | tail -n 1 | cut -d: -f1)
			[[ -n $line ]] && where=$doc:$line
		fi
		[[ $doc == docs/zh/* ]] && printf '  中文: '
		printf '%s' "$where"
	done
	printf '   ("What the tests check", then the Task section)\n'
	local names=() n
	if [[ -n ${failure:-} ]]; then
		for n in $(grep -oE '\bE[A-Z0-9]{3,}\b' <<<"$failure" | sort -u); do
			grep -q "^## $n\$" "$top/docs/errno.md" 2>/dev/null && names+=("$n")
		done
		((${#names[@]})) && printf '         docs/errno.md: %s\n' "${names[*]}"
	fi
	printf '  stuck? make hint LAB=%s    again: make check LAB=%s%s    or, while you edit: make watch LAB=%s%s\n' \
		"$nn" "$nn" "$tree_arg" "$nn" "$tree_arg"
}

labs_ok=0 pts='' pts_max=0
for lab in "${manifest_labs[@]}"; do
	pts_max=$((pts_max + manifest_points[$lab]))
done
for lab in "${manifest_labs[@]}"; do
	if [[ ! -d $tree/$lab ]]; then
		printf '%sNext: %s%s - %s\n' "$bold" "$lab" "$off" "${manifest_title[$lab]}"
		printf '  %s/%s does not exist: this copy of the labs has no such lab yet.\n' "$show_tree" "$lab"
		exit 0
	fi
	if ! fresh "$lab"; then
		printf '%schecking %s (make check LAB=%s%s) ...%s\n' "$dim" "$lab" "${lab%%-*}" "$tree_arg" "$off"
		mkdir -p "$top/build/student"
		stop_on_ctrl_c "next: interrupted"
		run_child quiet_make check LAB="$lab" TREE="$tree" >"$top/build/student/next.log" 2>&1 </dev/null
		trap - INT TERM HUP
		if [[ ! -f $res/$lab.result || ! -f $res/$lab.tap ]]; then
			echo "could not check $lab; make check said:"
			tail -n 20 "$top/build/student/next.log" | sed 's/^/  /'
			exit 1
		fi
	fi
	read -r passed total earned _ <"$res/$lab.result"
	if ((passed == total)); then
		labs_ok=$((labs_ok + 1)) pts+=" $earned"
		continue
	fi
	report "$lab" "$passed" "$total"
	exit 0
done
# (the points as make check wrote them, 17.14 or 15: their sum, in the same form)
pts=$(awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }' <<<"$pts")
printf '%sAll %d labs pass: %s/%d points.%s\n' "$green$bold" "$labs_ok" "$pts" "$pts_max" "$off"
echo "  Watch the packets of a connection you wrote: make trace LAB=08$tree_arg"
