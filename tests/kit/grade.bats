#!/usr/bin/env bats
# grade: the grading engine (tools/check.sh, tools/report.c) and the batch grader
# (tools/instructor/grade.sh): points, a static maximum, reports that stay valid whatever a program prints,
# and a sandbox that survives a submission that forks, floods and hangs. The fixture labs are in
# tests/kit/fixtures/grade/ (a manifest of their own), so that this file stays fast.
load ../lib/socklab
# Grading runs whole bats files, in sandboxes: allow for a slow, loaded machine.
BATS_TEST_TIMEOUT=180

setup() { sl_begin; }
teardown() { lab_teardown; }

FIX=$SOCKLAB_TOP/tests/kit/fixtures/grade
# A fixed place inside build/, so that repeated runs reuse one build.
WORK=$SOCKLAB_TOP/build/kit/grade

# fixture_tree: WORK/tree, the fixture labs 91 to 93 (92's program does not compile) and their manifest.
fixture_tree() {
	rm -rf "$WORK/tree" && mkdir -p "$WORK/tree/92-broken"
	cp -r "$FIX/tree/91-bytes" "$WORK/tree/"
	printf '%s\n' '#define _GNU_SOURCE' '#include "socklab.h"' 'int main(void) { return missing; }' \
		>"$WORK/tree/92-broken/broken.c"
	grep -v '^94-' "$FIX/manifest" >"$WORK/manifest"
	export SOCKLAB_MANIFEST=$WORK/manifest SOCKLAB_TESTS=$FIX/tests
}

# valid_json FILE: valid UTF-8 that jq (or node) parses.
valid_json() {
	iconv -f UTF-8 -t UTF-8 "$1" >/dev/null || fail "$1 is not valid UTF-8"
	if command -v jq >/dev/null; then
		jq -e . "$1" >/dev/null || fail "jq cannot parse $1"
	elif command -v node >/dev/null; then
		node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$1" || fail "node cannot parse $1"
	else
		skip "needs jq or node to check the JSON (Debian/Ubuntu: apt install jq)"
	fi
}

# valid_xml FILE: well-formed XML 1.0: xmllint where installed; and always our own check of what a
# program's output could break: valid UTF-8, no byte XML 1.0 forbids, no noncharacter U+FFFE/U+FFFF,
# every & an entity, no < but in markup (the report's text is all escaped).
valid_xml() {
	if command -v xmllint >/dev/null; then
		xmllint --noout "$1" || fail "xmllint: $1 is not well-formed"
	fi
	iconv -f UTF-8 -t UTF-8 "$1" >/dev/null || fail "$1 is not valid UTF-8"
	! LC_ALL=C grep -qP '[\x00-\x08\x0B\x0C\x0E-\x1F]|\xEF\xBF[\xBE\xBF]' "$1" || fail "$1 holds bytes XML 1.0 forbids"
	! LC_ALL=C grep -qP '&(?!(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)' "$1" || fail "$1 has a bare &"
	! LC_ALL=C grep -qP '<(?![?/A-Za-z])' "$1" || fail "$1 has a bare <"
}

@test "grade: every lab declares its tests as the grader reads them, and they share exactly the manifest's points" {
	need_jq
	local empty=$WORK/empty report=$BATS_TEST_TMPDIR/report lab n want
	mkdir -p "$empty"
	# Only the plan and the reports: nothing runs (no tree), every test is "did not run".
	TREE_DIR=$empty run_cmd "$SOCKLAB_TOP/tools/check.sh" --report "$report" --no-run
	assert_failure 1
	valid_json "$report/results.json"
	want=$(awk '!/^#/ && NF { s += $2 } END { print s }' "$SOCKLAB_TOP/labs/manifest")
	run_prog jq -r '"\(.score) \(.max_score) \([.tests[].max_score] | add | . * 100 | round)"' "$report/results.json"
	assert_output "0 $want $((want * 100))"
	# Each lab's number of tests in the report: as many as @test lines in its bats file.
	run_prog jq -r '.tests | group_by(.number[0:2]) | .[] | "\(.[0].name | split(":")[0]) \(length)"' "$report/results.json"
	for lab in $(awk '!/^#/ && NF { print $1 }' "$SOCKLAB_TOP/labs/manifest"); do
		[[ -f $SOCKLAB_TOP/tests/$lab.bats ]] || continue
		n=$(grep -cE '^[[:space:]]*@test[[:space:]]' "$SOCKLAB_TOP/tests/$lab.bats")
		[[ " ${lines[*]} " == *" $lab $n "* ]] ||
			fail "tests/$lab.bats has $n @test lines, the grader read another number: write each as @test \"$lab: ...\" {"
	done
}

@test "grade: points per test, a static maximum, and valid JSON and JUnit whatever a program printed" {
	need_jq
	fixture_tree
	local r=$BATS_TEST_TMPDIR/report
	run_cmd -t 120 make -s -C "$SOCKLAB_TOP" grade TREE="$WORK/tree" REPORT="$r"
	assert_failure # points were lost
	assert_line --regexp 'FAIL  91-bytes .* 1/3 passed, 1 skipped +1/4 points$'
	assert_line --regexp 'FAIL  93-crash .* 0/2 passed +0/3 points$'
	assert_line --partial "1/10 points"
	# summary.txt: per lab and per test. a points:1 tag above the first test of 91; the other two
	# share the rest; the lab that does not compile and the one whose bats file crashed keep their
	# whole maximum.
	run_prog cat "$r/summary.txt"
	assert_line --regexp '^91-bytes +1/4 +points'
	assert_line --regexp '^  pass +1/1 +91-bytes: the program says hello$'
	assert_line --regexp '^  skip +0/1\.5 +91-bytes: a test this machine cannot run  \(skipped: '
	assert_line --regexp '^92-broken +0/3 +points'
	assert_line --regexp '^93-crash +0/3 +points +0/2 tests'
	assert_line --regexp '^  FAIL +0/1\.5 +93-crash: a test that would pass  \(did not run\)$'
	assert_line "total 1/10 points, 0/3 labs complete"
	# results.json: valid, Gradescope's fields, the totals; the failing test's report holds what
	# the program printed: quotes, backslashes and escape bytes kept, invalid UTF-8 as U+FFFD.
	valid_json "$r/results.json"
	run_prog jq -r '"\(.score) \(.max_score) \(.tests | length) \([.tests[].max_score] | add | . * 100 | round) \([.tests[].score] | add)"' "$r/results.json"
	assert_output "1 10 8 1000 1"
	run_prog jq -r '.tests[] | "\(.status) \(.score)/\(.max_score) \(.name)"' "$r/results.json"
	assert_line --index 0 "passed 1/1 91-bytes: the program says hello"
	assert_line --index 1 'failed 0/1.5 91-bytes: a failing test whose report holds "quotes", \backslashes, control bytes and invalid UTF-8'
	assert_line --index 2 "failed 0/1.5 91-bytes: a test this machine cannot run"
	assert_line --index 3 "failed 0/1 92-broken: the program runs"
	run_prog jq -r '.tests[1].output' "$r/results.json"
	assert_output --partial 'quote " backslash \ tab'
	assert_output --partial $'esc \e[31m us \x1f del \x7f markup <b>&amp;</b> ]]>'
	assert_output --partial $'ff \xef\xbf\xbd fe \xef\xbf\xbd overlong'
	assert_output --partial $'valid: \xe4\xb8\xad\xe6\x96\x87'
	run_prog jq -r '.tests[3].output, .tests[6].output' "$r/results.json"
	assert_output --partial "92-broken does not compile"
	assert_output --partial "did not run"
	assert_output --partial "no-such-helper"
	# junit.xml: well-formed, a suite per lab, the failure's text escaped.
	valid_xml "$r/junit.xml"
	grep -qF '<testsuite name="92-broken" tests="3" failures="3" skipped="0"' "$r/junit.xml" || fail "no suite for 92-broken"
	grep -qF '<skipped message="a fixture: this test always skips"/>' "$r/junit.xml" || fail "no skipped test"
	grep -qF 'markup &lt;b&gt;&amp;amp;&lt;/b&gt; ]]&gt;' "$r/junit.xml" || fail "the markup is not escaped"
}

@test "grade: a skipped test scores 0 in make check as in make grade: the same row, \"N passed, M skipped\", the same points, and why it skipped" {
	fixture_tree
	local check
	run_cmd -t 60 make -s -C "$SOCKLAB_TOP" check TREE="$WORK/tree" LAB=91
	assert_failure # a test failed
	assert_line --regexp 'FAIL  91-bytes .* 1/3 passed, 1 skipped +1/4 points$'
	assert_output --partial "1 test(s) skipped: this machine could not run them, and they score 0 (make check and make grade alike): 1.5 points missing."
	assert_output --partial "skipped: a fixture: this test always skips"
	check=$(grep '91-bytes ' <<<"$output" | head -n 1)
	run_cmd -t 60 make -s -C "$SOCKLAB_TOP" grade TREE="$WORK/tree" LAB=91 REPORT="$BATS_TEST_TMPDIR/report"
	assert_failure
	assert_line "$check"
	assert_output --partial "1.5 points missing."
	assert_output --partial "skipped: a fixture: this test always skips"
	# Only the skip: no test failed, so make check passes; make grade says points are missing.
	run_cmd -t 60 make -s -C "$SOCKLAB_TOP" check TREE="$WORK/tree" LAB=91 FILTER='HELLO|cannot run'
	assert_success
	assert_line --regexp 'PASS  91-bytes .* 1/2 passed, 1 skipped +1/2\.5 points$'
}

@test "grade: points tags that do not fit the manifest's points stop the grader with a plain message" {
	local t=$WORK/points
	rm -rf "$t" && mkdir -p "$t/tests" "$t/tree"
	printf '%s\n' '99-x  2  a fixture' >"$t/manifest"
	printf '%s\n' '# bats test_tags=points:3' '@test "99-x: one" {' '}' '@test "99-x: two" {' '}' >"$t/tests/99-x.bats"
	SOCKLAB_MANIFEST=$t/manifest SOCKLAB_TESTS=$t/tests TREE_DIR=$t/tree \
		run_cmd "$SOCKLAB_TOP/tools/check.sh" --report "$t/report" --no-run
	assert_failure 2
	assert_stderr --partial '99-x.bats: the tests'"'"' points tags give 3 points, but the manifest gives 99-x 2'
	# The old comment grammar is refused by name, not read as a test worth a share.
	printf '%s\n' '# points: 1' '@test "99-x: one" {' '}' '@test "99-x: two" {' '}' >"$t/tests/99-x.bats"
	SOCKLAB_MANIFEST=$t/manifest SOCKLAB_TESTS=$t/tests TREE_DIR=$t/tree \
		run_cmd "$SOCKLAB_TOP/tools/check.sh" --report "$t/report" --no-run
	assert_failure 2
	assert_stderr --partial '99-x.bats:1: points are a bats tag now: write "# bats test_tags=points:N"'
}

# bats test_tags=slow
@test "grade: SUBMISSIONS=dir grades each student in a sandbox; one that forks, floods and hangs loses those tests, and the batch goes on" {
	need_jq
	need_userns
	local subs=$WORK/subs r=$WORK/report t0=$SECONDS p bg
	rm -rf "$subs" "$r" && mkdir -p "$subs"/{a/good/labs,a/absent,b/evil,b/zz-after}
	cp -r "$FIX/tree/94-sandbox" "$subs/a/good/labs/" # a whole checkout
	cp -r "$FIX/evil/94-sandbox" "$subs/b/evil/"      # a copy of labs/
	echo "no labs here" >"$subs/a/absent/README"
	echo "no labs here" >"$subs/b/zz-after/README"
	export GRADE_NPROC=64 SOCKLAB_MANIFEST=$FIX/manifest SOCKLAB_TESTS=$FIX/tests
	# Its own user ids and temporary folder: other batches may be graded at the same time.
	export GRADE_UID_BASE=3400000000 TMPDIR=$WORK/tmp
	rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"
	# Two batches at once, so that the evil one's time limit can be short and the good one's is not
	# at the mercy of a busy machine. b: one at a time, zz-after only once evil's time is up.
	GRADE_TIME_LIMIT=120 timeout 150 make -s -C "$SOCKLAB_TOP" grade SUBMISSIONS="$subs/a" LAB=94 REPORT="$r/a" \
		>"$BATS_TEST_TMPDIR/a.out" 2>&1 &
	bg=$!
	GRADE_TIME_LIMIT=3 GRADE_JOBS=1 run_cmd -t 90 make -s -C "$SOCKLAB_TOP" grade SUBMISSIONS="$subs/b" LAB=94 REPORT="$r/b"
	assert_success
	assert_output --regexp 'sandbox: (full|partial)'
	wait "$bg" || fail "the first batch failed: $(cat "$BATS_TEST_TMPDIR/a.out")"
	(((SECONDS - t0) < 60)) || fail "the batches took $((SECONDS - t0)) s"
	run_prog cat "$r/a/grades.csv" "$r/b/grades.csv"
	assert_line --index 0 "student,94-sandbox,total,note"
	assert_line --index 1 "absent,0,0,"
	assert_line --index 2 "good,4,4,"
	# evil keeps the point of the test it passed (if a busy machine let it run before the time was up).
	assert_line --index 4 --regexp '^evil,([01]),\1,the time limit of 3 s ran out; the tests that had not finished score 0$'
	assert_line --index 5 --regexp '^zz-after,0,0,'
	# The good one passed inside the sandbox: a private network, and forks stopped by the limit.
	run_prog jq -r '.tests[] | "\(.status) \(.name)"' "$r/a/good/results.json"
	refute_output --partial failed
	# The evil one: its reports are whole, its lost tests say why.
	valid_json "$r/b/evil/results.json"
	valid_xml "$r/b/evil/junit.xml"
	run_prog jq -r '"\(.max_score)", (.tests[] | "\(.status) \(.name)")' "$r/b/evil/results.json"
	assert_line --index 0 "4"
	# (its first test passes only if a busy machine let it run within the 3 s: either is right)
	assert_line --index 1 --regexp "^(passed|failed) 94-sandbox: the network is the sandbox's own: nothing but lo, and lo is up\$"
	assert_line --index 2 "failed 94-sandbox: forks stop at the sandbox's process limit"
	assert_line --index 3 "failed 94-sandbox: the program says hello"
	assert_line --index 4 "failed 94-sandbox: the program returns (this test has no time limit of its own)"
	run_prog cat "$r/b/evil/summary.txt"
	assert_line "note: the time limit of 3 s ran out; the tests that had not finished score 0"
	# Nothing of the batches is left: no process, no sandbox folder.
	run_prog sandbox_processes 3400000000
	assert_output ""
	run_prog ls "$WORK/tmp"
	assert_output ""
}
