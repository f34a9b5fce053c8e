#!/usr/bin/env bash
# selftest.sh - the kit proves itself (`make test`; `make test-full` with SELFTEST_FULL=1).
#
# Usage: tools/maint/selftest.sh [NN-name|KIT ...]   (default: every lab of the manifest and every
#        tests/kit/*.bats; KIT names one of those, e.g. kit for tests/kit/kit.bats)
# It checks every lab's files and handouts (structure, sync of the starters with the solutions,
# finished solutions), runs the lab tests on solutions/ (ASan + UBSan: all pass) and on the untouched
# starters (each lab fails), runs the kit's own bats files beside them, and in the full self-test also
# the mutants (each TODO region undone alone, each statement of a region altered alone: a test must
# fail) and the kit's slow tests; then checks that the run left nothing running, listening or lying
# around and sent nothing off the machine. A mutant's tests start with the test that killed it last
# time: the last full run's build/selftest/all/killers.txt and line-killers.txt when present, else the
# committed seeds tools/maint/killers.txt and line-killers.txt (a note says when a seed is out of date).
# Ends with "N passed, N failed"; exit status 0 only if nothing failed.
set -u
source "${BASH_SOURCE[0]%/*}/../lib.sh"
cd "$top" || exit 2
bats=$top/tools/bats
args=("$@")
[[ ${1:-} == --job ]] && args=()
work=$top/build/selftest/$(IFS=+; echo "${args[*]:-all}")
# Three at a time on two cores: a good part of every run is spent waiting on the network stack.
jobs=${SELFTEST_JOBS:-3}

# region_id LAB K: the TODO id (e.g. 05.2) of the k-th marked region of the lab's solution files.
region_id() {
	cat solutions/"$1"/*.c | grep 'BEGIN SOLUTION' | sed -n "$2p" | grep -o 'TODO([0-9.]*)' | tr -d 'TODO()'
}

# The equivalent line mutants (tools/maint/equivalent-mutants.txt): "LAB ID  reason", one a line.
equivalents=$top/tools/maint/equivalent-mutants.txt
# The killers of the region mutants and of the line mutants: the test that failed first last time,
# "LAB ID test name", one a line. The last full run's (build/selftest/all/), else the committed seeds.
killers=$top/build/selftest/all/killers.txt
[[ -s $killers ]] || killers=$top/tools/maint/killers.txt
line_killers=$top/build/selftest/all/line-killers.txt
[[ -s $line_killers ]] || line_killers=$top/tools/maint/line-killers.txt
# killer_of FILE LAB ID: the test FILE names for that mutant.
killer_of() {
	awk -v l="$2" -v i="$3" '$1 == l && $2 == i { sub(/^[^ ]+ [^ ]+ /, ""); print; exit }' "$1" 2>/dev/null
}

# A line mutant's run of its lab's tests ends after this many seconds (a hung test, or bats waiting
# on a process a test left behind, must not hold the whole self-test for the general 600 s).
line_limit=${SELFTEST_LINE_LIMIT:-120}

# line_job LAB FILE ID TREE BATSFILE LOG: run the tests on one line mutant, cheapest first: the test
# that killed it last time, else the one that killed its TODO region ($killers), else
# the lab's whole file (up to its first failure). A mutant that does not compile leaves LOG.nocompile.
line_job() {
	local lab=$1 id=$3 tree=$4 file=$5 log=$6 try t
	if ! quiet_make TREE="$tree" LAB="$lab" bins >"$log" 2>&1; then
		touch "$log.nocompile"
		return 0
	fi
	try=()
	t=$(killer_of "$line_killers" "$lab" "$id")
	[[ -z $t ]] || try+=("$t")
	t=$(killer_of "$killers" "$lab" "${id%%-*}")
	[[ -z $t || " ${try[*]-} " == *" $t "* ]] || try+=("$t")
	for t in "${try[@]+"${try[@]}"}"; do
		SAN= TREE_DIR=$tree timeout -k 5 "$line_limit" "$bats" --tap --filter "$(exact_filter "$t")" "$file" >"$log" 2>&1
		grep -qE '^not ok ' "$log" && break
	done
	grep -qE '^not ok ' "$log" 2>/dev/null ||
		SAN= TREE_DIR=$tree timeout -k 5 "$line_limit" "$bats" --tap "${abort[@]}" "$file" >"$log" 2>&1
	t=$(grep -m1 -E '^not ok ' "$log" | sed -E 's/^not ok [0-9]+ //')
	[[ -z $t ]] || echo "$lab $id $t" >"$log.killer"
}

# One job of the parallel part: run one lab's bats file against one tree; write a result line.
if [[ ${1:-} == --job ]]; then
	kind=$2 lab=$3 region=$4 work=$5
	case $kind in
	kit) tree=$top/labs san= ;;
	solutions) tree=$top/solutions san=1 ;;
	starters) tree=$top/labs san= ;;
	mutant)
		tree=$work/mutants/$lab.$region
		rm -rf "$tree" && mkdir -p "$tree/$lab"
		for f in solutions/"$lab"/*.c; do
			n=$(awk -v count=1 -f tools/maint/mkstarter "$f")
			if ((region <= n)); then
				awk -v only="$region" -f tools/maint/mkstarter "$f" >"$tree/$lab/${f##*/}"
			else
				cp "$f" "$tree/$lab/"
			fi
			region=$((region > n ? region - n : 1000000))
		done
		# The answered predictions, as a student who did them would have: their tests ask the kernel
		# through the probe, not the program, so they must not count as killing a mutant.
		cp solutions/"$lab"/predictions.md "$tree/$lab/" 2>/dev/null
		region=$4 san= ;;
	line)
		# One line mutant (tools/maint/linemut): REGION is FILE:ID; the other files stay the solution's.
		tree=$work/lines/$lab.${region#*:}
		rm -rf "$tree" && mkdir -p "$tree/$lab" && cp solutions/"$lab"/*.c "$tree/$lab/"
		cp solutions/"$lab"/predictions.md "$tree/$lab/" 2>/dev/null
		awk -v apply="${region#*:}" -f tools/maint/linemut "solutions/$lab/${region%%:*}" >"$tree/$lab/${region%%:*}"
		# Built without -Werror (a mutant often leaves a variable unused): the tests, not the
		# compiler, must catch it. One that does not compile even so is counted apart.
		export CFLAGS="-std=c11 -g -O1 -w" san= ;;
	esac
	# A starter or mutant that hangs costs its time limit: a shorter one (the programs answer in
	# milliseconds when they work) than a student gets.
	[[ $kind == mutant || $kind == starters || $kind == line ]] && export SOCKLAB_TIMEOUT=${SOCKLAB_TIMEOUT:-3}
	log=$work/$kind.$lab$([[ $kind == mutant || $kind == line ]] && echo ".${region#*:}").tap
	abort=()
	[[ ($kind == starters || $kind == mutant || $kind == line) && -n ${SELFTEST_ABORT:-} ]] && abort=(--abort)
	t0=$EPOCHREALTIME
	file=tests/$lab.bats
	[[ $kind == kit ]] && file=tests/kit/$lab.bats
	if [[ $kind == mutant ]]; then
		# The test that caught this region last time ($killers) runs alone first: one test instead
		# of the file up to its first failure. If it no longer fails, run them all.
		id=$(region_id "$lab" "$region")
		killer=$(killer_of "$killers" "$lab" "$id")
		if [[ -n $killer ]]; then
			SAN= TREE_DIR=$tree timeout -k 5 600 "$bats" --tap --filter "$(exact_filter "$killer")" "$file" >"$log" 2>&1
			grep -qE '^not ok ' "$log" || killer=
		fi
		[[ -n $killer ]] || SAN= TREE_DIR=$tree timeout -k 5 600 "$bats" --tap "${abort[@]}" "$file" >"$log" 2>&1
		first=$(grep -m1 -E '^not ok ' "$log" | sed -E 's/^not ok [0-9]+ //')
		[[ -z $first ]] || echo "$lab $id $first" >"$log.killer"
	elif [[ $kind == line ]]; then
		line_job "$lab" "${region%%:*}" "${region#*:}" "$tree" "$file" "$log"
	else
		# The kit's slow tests (tagged `# bats test_tags=slow`) run only in the full self-test.
		tags=()
		[[ $kind == kit && -z ${SELFTEST_FULL:-} ]] && tags=(--filter-tags '!slow')
		SAN=$san TREE_DIR=$tree timeout -k 5 600 "$bats" --tap "${abort[@]}" "${tags[@]}" "$file" >"$log" 2>&1
	fi
	echo "$kind $lab $region $(grep -cE '^ok ' "$log") $(grep -cE '^not ok ' "$log") $(grep -cE '^ok .*# skip' "$log")" \
		"$(since "$t0")" >"$log.result"
	# A line mutant's tree and programs are not kept (there are hundreds).
	[[ $kind != line ]] || rm -rf "$tree" "$top/build/${tree#"$top"/}"
	exit 0
fi

passed=0 failed=0
line_total=0 line_killed=0 line_nocompile=0 line_equiv=0
declare -A line_lab_total=() line_lab_killed=() line_lab_equiv=()
pass() { passed=$((passed + 1)); [[ -n ${VERBOSE:-} ]] && printf '  ok    %s\n' "$*"; return 0; }
flunk() { failed=$((failed + 1)); printf '  FAIL  %s\n' "$*"; }
check() { # description, then a command that must succeed
	local what=$1
	shift
	if "$@"; then pass "$what"; else flunk "$what"; fi
}

all=("${manifest_labs[@]}")
# Arguments: labs of the manifest, or the names of the kit's own bats files (kit, grade...).
labs=() kits=()
for a in "${args[@]}"; do
	if [[ " ${all[*]} " != *" $a "* && -f tests/kit/$a.bats ]]; then kits+=("$a"); else labs+=("$a"); fi
done
if [[ ${#args[@]} == 0 ]]; then
	labs=("${all[@]}")
	for f in tests/kit/*.bats; do
		f=${f#tests/kit/}
		kits+=("${f%.bats}")
	done
fi
# A fresh work folder; the last killers stay (the jobs read them, the end of the run rewrites them).
mkdir -p "$work" && find "$work" -mindepth 1 -maxdepth 1 ! -name killers.txt ! -name line-killers.txt -exec rm -rf {} +
start=$SECONDS

# Network safety: as root, the whole self-test runs in a network namespace of its own that holds
# nothing but a loopback interface, so no packet can leave this machine whatever a test does.
# Elsewhere, the host's interfaces' transmit counters are compared before and after the run.
if [[ -z ${SOCKLAB_NETNS:-} && $EUID == 0 && -z ${SELFTEST_HOST_NET:-} ]] && command -v ip >/dev/null &&
	unshare -n true 2>/dev/null; then
	export SOCKLAB_NETNS=1
	exec unshare -n sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
if [[ -n ${SOCKLAB_NETNS:-} ]]; then
	echo "== in a private network namespace (loopback only): no packet can leave this machine"
fi
tx_counters() { # the transmit counters of every interface but lo, one line each
	local i
	for i in /sys/class/net/*; do
		[[ ${i##*/} == lo || ! -r $i/statistics/tx_packets ]] || echo "${i##*/} $(<"$i/statistics/tx_packets")"
	done
}
tx_before=$(tx_counters)
# Tidiness: every process the run starts carries this mark in its environment; at the end none may
# be left, and no file may have appeared outside build/.
export SOCKLAB_RUN=$$.$EPOCHSECONDS
: >"$work/.start"
git_before=$(git status --porcelain --untracked-files=all 2>/dev/null | grep '^??')

# The pictures: tests/kit/docs.bats (a kit job) checks them against pic/stamp and their sources, and
# renders them again where the generators of pic/stamp's versions are installed (see pic/render).

# The static checks: run while the jobs below keep the cores busy.
structure() {
	echo "== structure, sync, finished"
	for lab in "${labs[@]+"${labs[@]}"}"; do
		nn=${lab%%-*}
		[[ " ${all[*]} " == *" $lab "* ]] || { flunk "$lab is not in labs/manifest"; continue; }
		for f in "tests/$lab.bats" "docs/$lab.md" "docs/zh/$lab.md"; do
			check "$lab: $f exists" test -s "$f"
		done
		sols=(solutions/"$lab"/*.c)
		check "$lab: solutions/$lab/ has a program" test -f "${sols[0]}"
		for s in "${sols[@]}"; do
			[[ -f $s ]] || continue
			starter=labs/${s#solutions/}
			if awk -f tools/maint/mkstarter "$s" >"$work/starter.c" && cmp -s "$work/starter.c" "$starter"; then
				pass "$starter is in sync with $s"
			else
				flunk "$starter differs from what its solution generates: run make starters"
				diff -u "$starter" "$work/starter.c" | head -n 20 | sed 's/^/        /'
			fi
			stray=$(grep -n 'TODO' "$s" | grep -v 'BEGIN SOLUTION TODO(')
			check "$s: no unfinished TODO (only the starter text of marked regions)" test -z "$stray"
			[[ -z $stray ]] || echo "$stray" | sed 's/^/        /'
			check "$s: every region is TODO($nn.k)" \
				bash -c '! grep -o "TODO([0-9.]*)" "$1" | grep -vq "TODO($2\."' _ "$s" "$nn"
		done
		for s in labs/"$lab"/*.c; do
			check "$s has a solution" test -f "solutions/${s#labs/}"
		done
		# Predictions: the starter's are the reference's with every answer blank; the reference answers all.
		if [[ -f solutions/$lab/predictions.md ]]; then
			check "labs/$lab/predictions.md is solutions/$lab/predictions.md with the answers blank (make starters)" \
				cmp -s <(sed -E 's/^(answer:).*/\1/' "solutions/$lab/predictions.md") "labs/$lab/predictions.md"
			check "solutions/$lab/predictions.md answers every question" \
				bash -c '! grep -qE "^answer:[[:space:]]*$" "$1" && (( $(grep -c "^## P" "$1") == $(grep -c "^answer:" "$1") ))' _ \
				"solutions/$lab/predictions.md"
		fi
		# Handouts: the test names word for word, the TODOs, and the same sections in both languages.
		[[ -f tests/$lab.bats && -f docs/$lab.md && -f docs/zh/$lab.md ]] || continue
		mapfile -t names < <(sed -nE 's/^@test "(.*)" \{$/\1/p' "tests/$lab.bats")
		check "$lab: tests/$lab.bats has tests" test ${#names[@]} -gt 0
		for t in "${names[@]}"; do
			check "$lab: test name starts with \"$lab: \": $t" test "${t#"$lab: "}" != "$t"
			for d in docs/$lab.md docs/zh/$lab.md; do
				check "$d quotes the test \"$t\"" grep -qF -- "$t" "$d"
			done
		done
		for id in $(cat solutions/"$lab"/*.c | grep -o "TODO($nn\.[0-9]*)" | sort -u); do
			for d in docs/$lab.md docs/zh/$lab.md; do
				check "$d explains $id" grep -qF -- "$id" "$d"
			done
		done
		check "docs/$lab.md and docs/zh/$lab.md have the same number of sections" \
			test "$(grep -c '^##' "docs/$lab.md")" = "$(grep -c '^##' "docs/zh/$lab.md")"
	done
}

quiet_make probe || flunk "the probe does not build"
joblist=$work/jobs
: >"$joblist"
for k in "${kits[@]+"${kits[@]}"}"; do echo "kit $k 0" >>"$joblist"; done
for lab in "${labs[@]+"${labs[@]}"}"; do
	echo "solutions $lab 0" >>"$joblist"
	echo "starters $lab 0" >>"$joblist"
	n=0
	for s in solutions/"$lab"/*.c; do n=$((n + $(awk -v count=1 -f tools/maint/mkstarter "$s"))); done
	[[ -n ${SELFTEST_FULL:-} ]] || continue
	for ((k = 1; k <= n; k++)); do echo "mutant $lab $k" >>"$joblist"; done
	# Line mutants (tools/maint/linemut), but not those listed as equivalent: "line LAB FILE:ID".
	# SELFTEST_LINES=0: none (only the region mutants and the slow kit tests).
	[[ ${SELFTEST_LINES:-1} != 0 ]] || continue
	for s in solutions/"$lab"/*.c; do
		awk -f tools/maint/linemut "$s" | cut -d $'\037' -f 1 |
			awk -v l="$lab" -v f="${s##*/}" -v eq="$equivalents" -v eqout="$work/line-equivalent" '
				BEGIN { while ((getline x < eq) > 0) { split(x, a, " "); if (a[1] == l) e[a[2]] = 1 } }
				$1 in e { print l, f ":" $1 >> eqout; next }
				{ print "line", l, f ":" $1 }' >>"$joblist"
	done
done
# Longest first: the labs with the most tests start early.
# One failing test is all a starter or a mutant must show: stop there (bats >= 1.11).
"$bats" --help 2>/dev/null | grep -q -- --abort && export SELFTEST_ABORT=1
stop_on_ctrl_c "== interrupted: stopping every job of the run"
sed "s|\$| $work|" "$joblist" | xargs -P "$jobs" -L 1 "$top/tools/maint/selftest.sh" --job &
jobs_pid=$!
structure
if [[ -n ${SELFTEST_FULL:-} ]]; then
	echo "== solutions pass (ASan + UBSan), starters fail, every TODO is caught by a test, the kit works (all of it)"
else
	echo "== solutions pass (ASan + UBSan), starters fail, the kit works (make test-full: every TODO region, slow kit tests)"
fi
wait_child "$jobs_pid"
trap - INT TERM HUP

# line_desc LAB FILE:ID: where a line mutant is and what it does, for people.
line_desc() {
	awk -f tools/maint/linemut "solutions/$1/${2%%:*}" |
		awk -v i="${2#*:}" -v f="${2%%:*}" -F $'\037' '$1 == i { printf "%s:%s: %s: %s", f, $3, $2, $4; exit }'
}
while read -r kind lab region ok nok skip secs; do
	log=$work/$kind.$lab$([[ $kind == mutant || $kind == line ]] && echo ".${region#*:}").tap
	case $kind in
	solutions | kit)
		if ((ok + nok == 0)); then
			flunk "$lab: the tests did not run on solutions/ (see $log)"
			continue
		fi
		passed=$((passed + ok))
		failed=$((failed + nok))
		((nok == 0)) || { flunk "$lab: $nok test(s) fail$([[ $kind == solutions ]] && echo " on solutions/"):"; grep -E '^not ok' "$log" | sed 's/^/        /'; }
		((skip == 0)) || printf '  note  %s: %d test(s) skipped on this machine:\n%s\n' "$lab" "$skip" \
			"$(grep -E '^ok .*# skip' "$log" | sed 's/^/        /')"
		;;
	starters)
		check "$lab: the untouched starter fails its tests" test "$nok" -gt 0 ;;
	line)
		line_total=$((line_total + 1))
		if [[ -e $log.nocompile ]]; then
			line_nocompile=$((line_nocompile + 1))
			echo "  note  $lab: line mutant ${region#*:} ($(line_desc "$lab" "$region")) does not compile (not counted as killed)"
		elif ((nok > 0)); then
			line_killed=$((line_killed + 1))
			line_lab_killed[$lab]=$((${line_lab_killed[$lab]:-0} + 1))
			pass "$lab: line mutant ${region#*:} is killed"
		else
			flunk "$lab: line mutant ${region#*:} ($(line_desc "$lab" "$region")): no test fails (catch it with a test, or list it in tools/maint/equivalent-mutants.txt with the reason it behaves as the solution)"
		fi
		line_lab_total[$lab]=$((${line_lab_total[$lab]:-0} + 1)) ;;
	mutant)
		# Name the region by its TODO id: the k-th BEGIN SOLUTION line of the lab's files.
		id=TODO\($(region_id "$lab" "$region")\)
		# A stub that does not compile would fail every test without proving anything.
		if grep -q "does not compile" "$log"; then
			flunk "$lab: with only region $region (${id:-no TODO text}) undone the file does not compile: fix its STUB"
		else
			check "$lab: the solution with only region $region (${id:-no TODO text}) undone fails a test" \
				test "$nok" -gt 0
		fi ;;
	esac
done < <(cat "$work"/*.result)

# Line mutants: the figure, per lab and in all.
if [[ -n ${SELFTEST_FULL:-} ]]; then
	line_equiv=0
	if [[ -s $work/line-equivalent ]]; then
		while read -r lab _; do
			line_equiv=$((line_equiv + 1))
			line_lab_equiv[$lab]=$((${line_lab_equiv[$lab]:-0} + 1))
			line_lab_total[$lab]=$((${line_lab_total[$lab]:-0} + 1))
		done <"$work/line-equivalent"
	fi
	# Listed equivalents that no longer exist (the solution changed): say so, so the list stays true.
	while read -r lab id _; do
		[[ -n $lab && $lab != \#* && " ${labs[*]-} " == *" $lab "* ]] || continue
		grep -q " [^ ]*:$id\$" "$work/line-equivalent" 2>/dev/null ||
			echo "  note  tools/maint/equivalent-mutants.txt lists $lab $id, which is no longer a mutant of the solution: remove it"
	done <"$equivalents"
	for lab in "${labs[@]+"${labs[@]}"}"; do
		[[ -n ${line_lab_total[$lab]:-} ]] || continue
		printf '  line mutants of %-18s killed %3d / %3d (%d listed equivalent)\n' "$lab:" \
			"${line_lab_killed[$lab]:-0}" "${line_lab_total[$lab]}" "${line_lab_equiv[$lab]:-0}"
	done
	# The line mutants' killers, where they ran (as the region mutants' below).
	if [[ ${SELFTEST_LINES:-1} != 0 ]]; then
		{
			printf '# lab, line mutant id (tools/maint/linemut), and the first test that fails on it. Written by\n'
			printf '# `make test-full` (build/selftest/all/line-killers.txt); it runs these tests first.\n'
			cat "$work"/line.*.killer 2>/dev/null | sort -k1,1 -k2,2
		} >"$work/line-killers.txt"
		if [[ ${#args[@]} == 0 ]] && ! cmp -s "$work/line-killers.txt" tools/maint/line-killers.txt; then
			echo "  note  tools/maint/line-killers.txt is out of date (a slower self-test, nothing worse):"
			echo "        cp ${work#"$top"/}/line-killers.txt tools/maint/line-killers.txt"
		fi
	fi
fi

# The tests that caught each region this time: the next run tries that one test first (a pure
# speed-up: a stale or missing entry only costs time). Only where the mutants ran.
if [[ -n ${SELFTEST_FULL:-} ]]; then
	{
		printf '# lab, TODO id, and the first test that fails when only that region of the solution is\n'
		printf '# undone. Written by `make test-full` (build/selftest/all/killers.txt); it runs these tests first.\n'
		cat "$work"/mutant.*.killer 2>/dev/null | sort -k1,1 -k2,2V
	} >"$work/killers.txt"
fi
if [[ ${#args[@]} == 0 && -n ${SELFTEST_FULL:-} ]] && ! cmp -s "$work/killers.txt" tools/maint/killers.txt; then
	echo "  note  tools/maint/killers.txt is out of date (a slower self-test, nothing worse):"
	echo "        cp ${work#"$top"/}/killers.txt tools/maint/killers.txt"
fi

[[ -n ${VERBOSE:-} ]] && { echo "  slowest runs (seconds):"; sort -k7 -rn "$work"/*.result | head -n 12 | sed 's/^/        /'; }

echo "== tidy: nothing left running, listening or lying around; nothing sent off this machine"
left=()
for p in $(marked "SOCKLAB_RUN=$SOCKLAB_RUN"); do
	left+=("$p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | head -c 200)")
done
check "no process started by the run is still alive" test ${#left[@]} = 0
((${#left[@]} == 0)) || printf '        %s\n' "${left[@]}"
if [[ -n ${SOCKLAB_NETNS:-} ]]; then
	listening=$(ss -Hltn; ss -Hlxn | grep -v ' @' || true)
	check "no socket is left listening (the run's own network namespace)" test -z "$listening"
	[[ -z $listening ]] || echo "$listening" | sed 's/^/        /'
fi
strays=$(find /tmp /var/tmp /dev/shm -maxdepth 1 -newer "$work/.start" \( -name 'socklab*' -o -name 'bats*' -o -type s \) 2>/dev/null)
check "no temporary file or socket is left in /tmp, /var/tmp or /dev/shm" test -z "$strays"
[[ -z $strays ]] || echo "$strays" | sed 's/^/        /'
git_after=$(git status --porcelain --untracked-files=all 2>/dev/null | grep '^??')
new_files=$(comm -13 <(echo "$git_before") <(echo "$git_after"))
check "no new file appeared in the checkout outside build/ (git status)" test -z "$new_files"
[[ -z $new_files ]] || echo "$new_files" | sed 's/^/        /'
tx_after=$(tx_counters)
if [[ $tx_after == "$tx_before" ]]; then
	pass "the host's network interfaces sent nothing during the run"
elif [[ -n ${SOCKLAB_NETNS:-} ]]; then
	echo "  note  the host's interfaces sent packets during the run, not from it (it had no way out):"
	diff <(echo "$tx_before") <(echo "$tx_after") | sed -n 's/^[<>] /        /p'
else
	flunk "the host's network interfaces sent packets during the run (transmit counters before and after):"
	diff <(echo "$tx_before") <(echo "$tx_after") | sed -n 's/^[<>] /        /p'
fi

echo "== done in $((SECONDS - start)) s"
[[ -z ${SELFTEST_FULL:-} ]] || echo "line mutants: killed $line_killed / total $((line_total + line_equiv)) ($line_equiv listed equivalent$( ((line_nocompile == 0)) || echo ", $line_nocompile not compiling, not counted as killed"))"
echo "$passed passed, $failed failed"
((failed == 0))
