#!/usr/bin/env bats
# attack: submissions written to beat the grade, graded for real. A forger (writes passed results
# wherever it can), a tamperer (rewrites the tests, the report writer, the results), an includer
# (builds the reference solution into its program) and a harmful one (files outside, reading other
# submissions, signals, daemons, forks, floods) are graded beside an honest submission in one batch
# of `make grade SUBMISSIONS=`: they score 0, the honest one full points, and nothing is left. The
# attacks are tests/kit/fixtures/attack/*.c, appended to the labs' untouched starters (labs 01 and 02).
load ../lib/socklab
BATS_TEST_TIMEOUT=240

setup() { sl_begin; }
teardown() { lab_teardown; }

FIX=$SOCKLAB_TOP/tests/kit/fixtures/attack
WORK=$SOCKLAB_TOP/build/kit/attack
LABS=(01-sockaddr 02-socket)

# submission NAME [SNIPPET]: WORK/subs/NAME with the starters of LABS, SNIPPET appended to each file.
submission() {
	local d=$WORK/subs/$1 lab f
	for lab in "${LABS[@]}"; do
		mkdir -p "$d/$lab"
		for f in "$SOCKLAB_TOP/labs/$lab"/*.c; do
			cat "$f" ${2:+"$FIX/$2"} >"$d/$lab/${f##*/}"
		done
	done
}

# The reference, by every path a submission could try: the kit's own, and relative ones.
includer() {
	local d=$WORK/subs/includer lab f rel up
	for lab in "${LABS[@]}"; do
		mkdir -p "$d/$lab"
		for f in "$SOCKLAB_TOP/solutions/$lab"/*.c; do
			rel=solutions/$lab/${f##*/}
			{
				printf '#if __has_include("%s")\n#include "%s"\n' "$f" "$f"
				for up in ../.. ../../.. ../../../.. ../../../../.. ../../../../../.. /kit/.. /; do
					printf '#elif __has_include("%s/%s")\n#include "%s/%s"\n' "$up" "$rel" "$up" "$rel"
				done
				printf '#else\n#error "no reference solution in sight"\n#endif\n'
			} >"$d/$lab/${f##*/}"
		done
	done
}

# bats test_tags=slow
@test "attack: forged results, rewritten tests, the included reference and harm beyond points score 0 in the sandbox; the honest submission scores full points; nothing is left" {
	[[ $("$SOCKLAB_TOP/tools/instructor/sandbox.sh" --mode) == full ]] ||
		skip "needs the full sandbox of make grade SUBMISSIONS= (as root, with user namespaces): $("$SOCKLAB_TOP/tools/instructor/sandbox.sh" --mode)"
	need_jq
	local r=$WORK/report sum_before sum_after f
	rm -rf "$WORK" && mkdir -p "$WORK/subs/honest"
	printf '%s\n' "${LABS[@]/%/  10  a lab}" >"$WORK/manifest"
	for f in "${LABS[@]}"; do cp -r "$SOCKLAB_TOP/solutions/$f" "$WORK/subs/honest/"; done
	echo '/* HONEST-MARKER-5117 */' >>"$WORK/subs/honest/01-sockaddr/sockaddr.c"
	submission forger forge.c
	submission tamperer tamper.c
	submission harmful harm.c
	includer
	rm -f /tmp/socklab-attack-mark-* /var/tmp/socklab-attack-mark-* /dev/shm/socklab-attack-mark-*
	sum_before=$(cat "$SOCKLAB_TOP"/tests/*.bats "$SOCKLAB_TOP"/tests/lib/* "$SOCKLAB_TOP"/tools/* 2>/dev/null | md5sum)
	# Its own user ids and temporary folder: other batches may be graded at the same time.
	mkdir -p "$WORK/tmp"
	SOCKLAB_MANIFEST=$WORK/manifest GRADE_TIME_LIMIT=120 GRADE_UID_BASE=3100000000 TMPDIR=$WORK/tmp run_cmd -t 200 \
		make -s -C "$SOCKLAB_TOP" grade SUBMISSIONS="$WORK/subs" REPORT="$r"
	assert_success
	assert_output --partial "sandbox: full"
	run_prog cat "$r/grades.csv"
	assert_line --index 0 "student,01-sockaddr,02-socket,total,note"
	assert_line "forger,0,0,0,"
	assert_line "harmful,0,0,0,"
	assert_line "honest,10,10,20,"
	assert_line "includer,0,0,0,"
	assert_line "tamperer,0,0,0,"
	# The reports name the student's folder, say what the sandbox was, and hold nothing of another
	# submission or of the reference.
	run_prog head -n 2 "$r/forger/summary.txt"
	assert_line --index 0 --regexp "^socklab grades: .*/attack/subs/forger\$"
	assert_line --index 1 --regexp '^sandbox: full: '
	run_prog grep -rl -e HONEST-MARKER -e 'BEGIN SOLUTION' -e 'harm: read /kit/tools' "$r/harmful" "$r/includer" "$r/forger" "$r/tamperer"
	assert_output ""
	# The includer did not compile; the tamperer's writes all failed.
	run_prog grep -c 'does not compile' "$r/includer/results.json"
	refute_output 0
	run_prog grep -h '^tamper: wrote' -r "$r/tamperer"
	assert_output ""
	# Nothing left: the kit's tests as they were, no file of the attacks, no process, no sandbox.
	sum_after=$(cat "$SOCKLAB_TOP"/tests/*.bats "$SOCKLAB_TOP"/tests/lib/* "$SOCKLAB_TOP"/tools/* 2>/dev/null | md5sum)
	[[ $sum_before == "$sum_after" ]] || fail "the kit's tests changed during grading"
	run_prog ls /tmp /var/tmp /dev/shm "$WORK/tmp"
	refute_output --partial socklab-attack-mark
	refute_output --partial socklab-batch.
	refute_output --partial socklab-sandbox.
	run_prog sandbox_processes 3100000000
	assert_output ""
}

# check_attack NAME SNIPPET: make check (no sandbox) of lab 01's starter with SNIPPET appended; it
# must fail with 0 points.
check_attack() {
	local t=$WORK/$1
	rm -rf "$t" && mkdir -p "$t"
	WORK=$t submission "$1" "$2"
	run_cmd -t 120 make -s -C "$SOCKLAB_TOP" check TREE="$t/subs/$1" LAB=01
	assert_failure
	assert_line --regexp '^  FAIL  01-sockaddr .* 0/10 +points'
}

@test "attack: make check gives a forger nothing: its program gets no descriptor of bats, and results it slips in are caught as tampering" {
	check_attack forger forge.c
	assert_output --partial "the test output was tampered with (a second result for one test"
}

@test "attack: a program that kills the test run in make check is named for it, and its lab scores 0" {
	check_attack killer killer.c
	assert_output --partial "your program stopped the test run ("
}

# bats test_tags=slow
@test "attack: identical honest submissions graded together get identical, full grades" {
	[[ $("$SOCKLAB_TOP/tools/instructor/sandbox.sh" --mode) != none* ]] ||
		skip "needs the sandbox of make grade SUBMISSIONS= (user namespaces): $("$SOCKLAB_TOP/tools/instructor/sandbox.sh" --mode)"
	local t=$WORK/same lab i
	rm -rf "$t" && mkdir -p "$t"
	# The labs whose tests make namespaces of their own, and lab 10's bindv6only test among them.
	printf '%s\n' "07-connect-errors 15 a lab" "10-ipv6 10 a lab" "11-getaddrinfo 10 a lab" >"$t/manifest"
	for i in 1 2 3 4; do
		for lab in 07-connect-errors 10-ipv6 11-getaddrinfo; do
			mkdir -p "$t/subs/copy$i" && cp -r "$SOCKLAB_TOP/solutions/$lab" "$t/subs/copy$i/"
		done
	done
	SOCKLAB_MANIFEST=$t/manifest run_cmd -t 220 make -s -C "$SOCKLAB_TOP" grade SUBMISSIONS="$t/subs" REPORT="$t/report"
	assert_success
	run_prog cat "$t/report/grades.csv"
	assert_line --index 0 "student,07-connect-errors,10-ipv6,11-getaddrinfo,total,note"
	for i in 1 2 3 4; do
		assert_line --index "$i" "copy$i,15,10,10,35,"
	done
}
