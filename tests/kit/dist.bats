#!/usr/bin/env bats
# dist: what the instructor hands out and grades with: the student copy (make dist, with the GitHub
# Classroom workflow and its reporter) and the Gradescope bundle (make gradescope, run_autograder).
# run_prog caps what a command may write (ulimit -f, for the labs' programs); the commands here are
# compilers, zip, make: give them room.
SOCKLAB_OUTPUT_CAP=$((256 << 20))
load ../lib/socklab
# Grading runs a whole lab through make grade: allow for a slow, loaded machine.
BATS_TEST_TIMEOUT=120

# One student copy and one Gradescope bundle (lab 01 only) for the whole file.
# The bundle is unpacked into a Gradescope-like root, and its setup.sh run there without apt.
setup_file() {
	export D=$BATS_FILE_TMPDIR/dist G=$BATS_FILE_TMPDIR/gs R=$BATS_FILE_TMPDIR/autograder
	export DIST_STATUS=0 SETUP_STATUS=0
	"$SOCKLAB_TOP/tools/instructor/dist.sh" -o "$D" >"$BATS_FILE_TMPDIR/dist.log" 2>&1 || DIST_STATUS=$?
	# The bundle from that student tree (make gradescope makes its own the same way).
	"$SOCKLAB_TOP/tools/instructor/gradescope/build.sh" -o "$G" --from "$D/socklab" 01-sockaddr >"$BATS_FILE_TMPDIR/gs.log" 2>&1 &&
		mkdir -p "$R/source" "$R/submission" &&
		unzip -q "$G/socklab-01-sockaddr-autograder.zip" -d "$R/source" &&
		cp "$R/source/run_autograder" "$R/run_autograder" &&
		# As if the upload had lost the executable bits: setup.sh gives them back.
		(cd "$R/source/socklab" && xargs chmod -x <gradescope.executables) &&
		# The kit's helper programs, already built: setup.sh's make finds them up to date (the
		# compiler's time is the largest part of setup.sh, and the kit's other tests build them).
		{ make -s -C "$SOCKLAB_TOP" probe reporter >/dev/null 2>&1 || true; } &&
		mkdir -p "$R/source/socklab/build" &&
		cp -a "$SOCKLAB_TOP/build/probe" "$SOCKLAB_TOP/build/tools" "$R/source/socklab/build/" &&
		AUTOGRADER_ROOT=$R APT_GET=true bash "$R/source/setup.sh" >"$BATS_FILE_TMPDIR/setup.log" 2>&1 ||
		SETUP_STATUS=$?
	# Grading a whole lab takes seconds: the bundle's copy of lab 01's tests keeps two of them (byte
	# order), which the solution passes and the starter fails; the others become plain functions that
	# nothing calls. The lab's points stay 10.
	local t=$R/source/socklab/tests/01-sockaddr.bats
	[[ -f $t ]] && awk '/^@test "/ && !/127\.0\.0\.1:8080|family read back/ { print "dropped_" ++n "() {"; next } 1' \
		"$t" >"$t.new" && mv "$t.new" "$t"
	return 0
}

setup() {
	sl_begin
	[[ $DIST_STATUS == 0 ]] || fail "tools/instructor/dist.sh failed: $(cat "$BATS_FILE_TMPDIR/dist.log")"
}
teardown() { lab_teardown; }

# The labs the kit has (a starter folder), and their program files.
kit_labs() { awk '!/^#/ && NF { print $1 }' "$SOCKLAB_TOP/labs/manifest" | while read -r l; do [[ -d $SOCKLAB_TOP/labs/$l ]] && echo "$l"; done; }

# Skip, with the reason, where a tool the test needs is missing (CI installs them all: .ci/run).
need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || skip "needs $t (Debian/Ubuntu: apt install $t)"
	done
}

# A Gradescope submission folder holding these files (relative path, then source), one pair per argument.
submit() {
	rm -rf "$R/submission" "$R/results" && mkdir -p "$R/submission"
	local pair
	for pair in "$@"; do
		mkdir -p "$(dirname "$R/submission/${pair%%=*}")"
		cp "${pair#*=}" "$R/submission/${pair%%=*}"
	done
}

# The Gradescope results.json is well formed: numbers, one entry per test, the tests add up.
valid_results() {
	jq -e '(.score | type) == "number" and (.max_score | type) == "number" and (.tests | length) > 0
		and all(.tests[]; (.name | type) == "string" and (.score | type) == "number" and .score <= .max_score
			and (.status == "passed" or .status == "failed"))
		and (([.tests[].score] | add) - .score | fabs) < 0.01
		and (.output | contains("socklab autograder: the files graded"))' "$1" >/dev/null ||
		fail "$1 is not a valid results.json: $(cat "$1")"
}

@test "dist: make dist writes a folder and a tarball: starters, lab tests, handouts, pictures, the workflow" {
	run_prog make -s -n -C "$SOCKLAB_TOP" dist
	assert_output --partial "tools/instructor/dist.sh"
	local s=$D/socklab f l
	for f in Makefile README.md README.zh-CN.md labs/manifest include/socklab.h package.json \
		package-lock.json tools/bats tools/check.sh tests/lib/socklab.bash tests/lib/probe.c \
		tools/classroom.sh .github/workflows/socklab.yml docs/errno.md docs/zh/errno.md; do
		[[ -s $s/$f ]] || fail "the student copy has no $f"
	done
	for l in $(kit_labs); do
		for f in "$SOCKLAB_TOP"/labs/"$l"/*.c; do
			cmp "$f" "$s/labs/$l/${f##*/}" || fail "labs/$l/${f##*/} is not the kit's starter"
			cmp "$f" "$s/tests/starters/$l/${f##*/}" || fail "tests/starters/$l/${f##*/} (for make reset) is not the kit's starter"
		done
		for f in tests/$l.bats docs/$l.md docs/zh/$l.md; do
			[[ ! -f $SOCKLAB_TOP/$f || -s $s/$f ]] || fail "the student copy has no $f"
		done
	done
	for f in "$SOCKLAB_TOP"/pic/*.png "$SOCKLAB_TOP"/pic/*.svg; do
		[[ -f $f ]] || continue
		[[ -s $s/pic/${f##*/} ]] || fail "the student copy has no pic/${f##*/}"
	done
	[[ -x $s/tools/check.sh && -x $s/tools/bats ]] || fail "the scripts lost their executable bit"
	# The tarball holds the same files.
	diff <(cd "$D" && find socklab -type f | LC_ALL=C sort) <(tar -tzf "$D/socklab.tar.gz" | grep -v '/$' | LC_ALL=C sort) ||
		fail "socklab.tar.gz and the folder differ"
}

@test "dist: the student copy holds no solution: no solutions/, no solution region, no copy of a solution file" {
	local s=$D/socklab f
	[[ ! -e $s/solutions ]] || fail "the student copy has solutions/"
	! tar -tzf "$D/socklab.tar.gz" | grep -q '^socklab/solutions' || fail "the tarball has solutions/"
	run_prog grep -rlE 'BEGIN SOLUTION|END SOLUTION|/\* STUB' --include='*.c' --include='*.h' "$s"
	assert_output ""
	run_prog awk 'NR == FNR { sol[$1] = 1; next } $1 in sol { print $2 " is a copy of a solution file" }' \
		<(find "$SOCKLAB_TOP/solutions" -type f -exec sha256sum {} +) <(find "$s" -type f -exec sha256sum {} +)
	assert_output ""
	# Nor the maintainers' tools: the self-test, the kit's own tests, starter generation, CI.
	for f in tests/kit/kit.bats tests/kit/dist.bats tests/kit/fixtures tools/maint/selftest.sh tools/maint/killers.txt \
		tools/maint/lint.sh tools/maint/mkstarter tools/instructor/dist.sh tools/instructor/gradescope .ci \
		tools/maint/linemut tools/maint/line-killers.txt tools/maint/equivalent-mutants.txt tools/maint tools/instructor \
		tests/kit; do
		[[ ! -e $s/$f ]] || fail "the student copy has $f"
	done
}

@test "dist: the student copy's README speaks to students, in English and Chinese: no maintainer content" {
	local s=$D/socklab f word target
	cmp "$SOCKLAB_TOP/docs/student/README.md" "$s/README.md" || fail "README.md is not docs/student/README.md"
	cmp "$SOCKLAB_TOP/docs/student/README.zh-CN.md" "$s/README.zh-CN.md" || fail "README.zh-CN.md is not docs/student/README.zh-CN.md"
	[[ ! -e $s/docs/student ]] || fail "the student copy has docs/student/ (its READMEs are the copy's README*.md)"
	for f in README.md README.zh-CN.md; do
		# What a student needs: how to work, the commands, predictions, where to read, grading.
		local own=(skipped sandbox)
		[[ $f == README.zh-CN.md ]] && own=(跳过 沙箱)
		for word in "make check" "make next" "make hint" "make watch" "make trace" "make reset" predictions.md \
			docs/errno.md "TODO(NN.k)" "${own[@]}"; do
			grep -qF -- "$word" "$s/$f" || fail "the student copy's $f does not mention $word"
		done
		# Nothing for maintainers or instructors: the self-test, the reference, the builders.
		run_prog grep -nE 'make (test|test-full|lint|starters|pics|dist|gradescope|grade)\b|TREE=solutions|solutions/|mkstarter|selftest|For (maintainers|instructors)|SUBMISSIONS=' "$s/$f"
		assert_output ""
		# Every relative link leads to a file of the student copy.
		while read -r target; do
			[[ -e $s/${target%%#*} ]] || fail "the student copy's $f links $target, which it does not have"
		done < <(grep -oE '\]\([^)[:space:]]+\)' "$s/$f" | sed -E 's/^\]\(//; s/\)$//' | grep -vE '^[a-z]+:')
	done
}

@test "dist: make dist refuses to ship a starter that is not what its solution generates" {
	local k=$BATS_TEST_TMPDIR/kit
	# What dist.sh reads before it writes anything: the library, the starters, the solutions.
	mkdir -p "$k/tools/instructor" "$k/tools/maint"
	cp -r "$SOCKLAB_TOP/labs" "$SOCKLAB_TOP/solutions" "$k/"
	cp "$SOCKLAB_TOP/tools/lib.sh" "$k/tools/"
	cp "$SOCKLAB_TOP/tools/instructor/dist.sh" "$k/tools/instructor/"
	cp "$SOCKLAB_TOP/tools/maint/mkstarter" "$k/tools/maint/"
	echo '/* finished by hand */' >>"$k/labs/01-sockaddr/sockaddr.c"
	run_prog -t 60 "$k/tools/instructor/dist.sh" -o "$k/build/dist"
	assert_failure
	assert_stderr --partial "labs/01-sockaddr/sockaddr.c is not what solutions/01-sockaddr/sockaddr.c generates"
	[[ ! -e $k/build/dist/socklab ]] || fail "it wrote a student copy anyway"
}

@test "dist: make check in the student copy fails the untouched starter, make reset works, make test needs the kit" {
	local c=$BATS_TEST_TMPDIR/copy
	cp -a "$D/socklab" "$c"
	# The pinned tools, as npm would install them on the student's machine; the kit's two helper
	# programs already built (the copy's make finds them up to date), to save the compiler's time.
	cp -a "$SOCKLAB_TOP/node_modules" "$c/" && touch "$c/node_modules/.package-lock.json"
	make -s -C "$SOCKLAB_TOP" probe reporter >/dev/null 2>&1 && mkdir -p "$c/build" &&
		cp -a "$SOCKLAB_TOP/build/probe" "$SOCKLAB_TOP/build/tools" "$c/build/" || true
	run_prog -t 100 make -s -C "$c" check LAB=01 FILTER='network byte order'
	assert_failure 2
	assert_output --regexp "FAIL  01-sockaddr .* 0/[1-9]"
	assert_output --partial "first failing test: 01-sockaddr:"
	refute_output --partial "did not run"
	refute_output --partial "does not compile"
	grep -q '^not ok ' "$c"/build/check/labs-filtered/01-sockaddr.tap || fail "no test ran in the copy"
	# make reset finds the pristine starter without solutions/.
	echo '/* the student was here */' >>"$c/labs/01-sockaddr/sockaddr.c"
	run_prog make -s -C "$c" reset LAB=01 YES=1
	assert_success
	cmp "$c/labs/01-sockaddr/sockaddr.c" "$SOCKLAB_TOP/labs/01-sockaddr/sockaddr.c" || fail "make reset did not restore the starter"
	run_prog make -s -C "$c" test
	assert_failure 2
	assert_stderr --partial "this is the student copy"
	run_prog make -s -C "$c" starters
	assert_failure 2
	assert_stderr --partial "this is the student copy"
}

@test "dist: the Classroom workflow runs make grade and hands the step's points to the reporter" {
	# The system's python3 first: a version manager's shim in PATH costs a second to start.
	local py=/usr/bin/python3
	[[ -x $py ]] || py=$(command -v python3) || skip "needs python3 with PyYAML (Debian: apt install python3-yaml)"
	run_prog "$py" - "$D/socklab/.github/workflows/socklab.yml" <<'PY'
import sys
try:
    import yaml
except ImportError:
    sys.exit(77)
w = yaml.safe_load(open(sys.argv[1]))
assert w["name"] == "Autograding Tests", w["name"]
assert w["permissions"]["checks"] == "write"
assert "push" in w["on"]
job = w["jobs"]["run-autograding-tests"]
steps = job["steps"]
grade = [s for s in steps if s.get("id") == "socklab"][0]
assert "make grade" in grade["run"] and "tools/classroom.sh" in grade["run"], grade["run"]
rep = [s for s in steps if "autograding-grading-reporter" in s.get("uses", "")][0]
assert rep["with"]["runners"] == "socklab"
assert "steps.socklab.outputs.result" in rep["env"]["SOCKLAB_RESULTS"]
print("ok", len(steps), "steps")
PY
	[[ $status != 77 ]] || skip "needs PyYAML (Debian: apt install python3-yaml) to read the workflow"
	assert_success
}

@test "dist: the Classroom reporter gets make grade's points, and a missing results.json is an error" {
	need_tools jq base64
	local r=$BATS_TEST_TMPDIR/report out=$BATS_TEST_TMPDIR/out sum=$BATS_TEST_TMPDIR/summary
	mkdir -p "$r"
	cat >"$r/results.json" <<'JSON'
{"score": 7.5, "max_score": 12.5, "output": "socklab: 7.5/12.5 points",
 "tests": [{"name": "01-x: one", "score": 5, "max_score": 5, "status": "passed", "output": ""},
           {"name": "01-x: two", "score": 0, "max_score": 5, "status": "failed", "output": "expected 2, got 0"},
           {"name": "01-x: three", "score": 2.5, "max_score": 2.5, "status": "passed", "output": ""}]}
JSON
	echo "01-x 7.5/12.5 points" >"$r/summary.txt"
	: >"$out" && : >"$sum"
	GITHUB_OUTPUT=$out GITHUB_STEP_SUMMARY=$sum run_prog "$SOCKLAB_TOP/tools/classroom.sh" "$r"
	assert_success
	assert_output --partial "7.5 / 12.5 points"
	grep -q '^result=' "$out" || fail "no result= in GITHUB_OUTPUT"
	sed -n 's/^result=//p' "$out" | base64 -d >"$r/decoded.json"
	jq -e '.version == 1 and .status == "fail" and .max_score == 12.5 and (.tests | length) == 3
		and ([.tests[].score] | add) == 7.5 and .tests[1].status == "fail" and .tests[1].message == "expected 2, got 0"
		and .tests[0].status == "pass"' "$r/decoded.json" >/dev/null || fail "wrong runner result: $(cat "$r/decoded.json")"
	grep -qF "7.5 / 12.5 points" "$sum" && grep -qF -- "- 01-x: two" "$sum" || fail "step summary: $(cat "$sum")"
	# No results.json: an error result, so that the run fails visibly instead of giving nothing.
	rm "$r/results.json" && : >"$out"
	GITHUB_OUTPUT=$out run_prog "$SOCKLAB_TOP/tools/classroom.sh" "$r"
	assert_success
	sed -n 's/^result=//p' "$out" | base64 -d | jq -e '.status == "error"' >/dev/null || fail "no error result"
}

@test "dist: make gradescope zips setup.sh and run_autograder at the root, and the kit without solutions" {
	need_tools zip unzip
	run_prog make -s -n -C "$SOCKLAB_TOP" gradescope LAB=1
	assert_output --partial "build.sh 01-sockaddr"
	run_prog unzip -Z1 "$G/socklab-01-sockaddr-autograder.zip"
	assert_success
	local f
	for f in setup.sh run_autograder socklab/Makefile socklab/labs/manifest socklab/include/socklab.h \
		socklab/tests/01-sockaddr.bats socklab/tools/check.sh socklab/labs/01-sockaddr/sockaddr.c \
		socklab/node_modules/bats/bin/bats socklab/gradescope.conf; do
		[[ " ${lines[*]} " == *" $f "* ]] || fail "the bundle has no $f"
	done
	refute_output --partial "solutions/"
	grep -qx 'lab=01-sockaddr' "$R/source/socklab/gradescope.conf" || fail "the bundle does not say which lab it grades"
}

@test "dist: setup.sh gives the scripts back their executable bit, makes the probe and starts bats" {
	need_tools zip unzip
	[[ $SETUP_STATUS == 0 ]] || fail "setup.sh failed: $(cat "$BATS_FILE_TMPDIR/setup.log")"
	grep -q "autograder ready" "$BATS_FILE_TMPDIR/setup.log" || fail "$(cat "$BATS_FILE_TMPDIR/setup.log")"
	[[ -x $R/source/socklab/tools/check.sh && -x $R/source/socklab/node_modules/bats/bin/bats ]] ||
		fail "the executable bits were not restored"
	[[ -x $R/source/socklab/build/probe/probe ]] || fail "the probe was not built"
}

# bats test_tags=slow
@test "dist: run_autograder finds the files of a repository, of labs/, of a zipped folder, and loose files" {
	need_tools zip unzip jq
	local s=$SOCKLAB_TOP/solutions/01-sockaddr/sockaddr.c
	submit "labs/01-sockaddr/sockaddr.c=$s" "old/sockaddr.c=/dev/null"
	AUTOGRADER_ROOT=$R run_prog "$R/run_autograder" --files
	assert_success
	assert_output --partial "01-sockaddr/sockaddr.c  <-  labs/01-sockaddr/sockaddr.c"
	submit "01-sockaddr/sockaddr.c=$s"
	AUTOGRADER_ROOT=$R run_prog "$R/run_autograder" --files
	assert_output --partial "01-sockaddr/sockaddr.c  <-  01-sockaddr/sockaddr.c"
	submit "socklab-main/labs/01-sockaddr/sockaddr.c=$s"
	AUTOGRADER_ROOT=$R run_prog "$R/run_autograder" --files
	assert_output --partial "<-  socklab-main/labs/01-sockaddr/sockaddr.c"
	submit "sockaddr.c=$s"
	AUTOGRADER_ROOT=$R run_prog "$R/run_autograder" --files
	assert_output --partial "01-sockaddr/sockaddr.c  <-  sockaddr.c"
	# Never from a hidden folder (.git) or build/, even where that would be the shallowest match.
	submit "src/lab1/sockaddr.c=$s" ".git/sockaddr.c=/dev/null" "build/sockaddr.c=/dev/null"
	AUTOGRADER_ROOT=$R run_prog "$R/run_autograder" --files
	assert_output --partial "01-sockaddr/sockaddr.c  <-  src/lab1/sockaddr.c"
	submit "notes.txt=/dev/null"
	AUTOGRADER_ROOT=$R run_prog "$R/run_autograder" --files
	assert_output --partial "01-sockaddr/sockaddr.c  NOT FOUND"
	assert_output --partial "No lab file was found"
	[[ ! -e $R/results/results.json ]] || fail "--files graded anyway"
}

# bats test_tags=slow
@test "dist: run_autograder gives the solution full marks and the starter 0, in a valid results.json" {
	need_tools zip unzip jq
	submit "labs/01-sockaddr/sockaddr.c=$SOCKLAB_TOP/solutions/01-sockaddr/sockaddr.c"
	AUTOGRADER_ROOT=$R run_prog -t 100 "$R/run_autograder"
	assert_success
	valid_results "$R/results/results.json"
	jq -e '.score == 10 and .max_score == 10' "$R/results/results.json" >/dev/null ||
		fail "the solution did not get 10/10: $(cat "$R/results/results.json")"
	# The same report through the Classroom reporter: all passed.
	run_prog "$SOCKLAB_TOP/tools/classroom.sh" "$R/source/socklab/build/gradescope/report/submission"
	assert_success
	jq -e '.status == "pass" and .max_score == 10' "$R/source/socklab/build/gradescope/report/submission/classroom.json" >/dev/null ||
		fail "Classroom result: $(cat "$R/source/socklab/build/gradescope/report/submission/classroom.json")"
	# The untouched starter, submitted as one loose file.
	submit "sockaddr.c=$SOCKLAB_TOP/labs/01-sockaddr/sockaddr.c"
	AUTOGRADER_ROOT=$R run_prog -t 100 "$R/run_autograder"
	assert_success
	valid_results "$R/results/results.json"
	jq -e '.score == 0 and .max_score == 10 and (.output | contains("01-sockaddr/sockaddr.c  <-  sockaddr.c"))' \
		"$R/results/results.json" >/dev/null || fail "the starter did not get 0/10: $(cat "$R/results/results.json")"
}
