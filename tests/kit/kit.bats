#!/usr/bin/env bats
# kit: the machinery every lab relies on: helpers, starter generation, the Makefile contract.
load ../lib/socklab
# Two of these tests grade a whole lab through `make check`: allow for a slow, loaded machine.
BATS_TEST_TIMEOUT=240

setup() { sl_begin; }
teardown() { lab_teardown; }

fixture() {
	FIXTURE_PIDFILE=$BATS_TEST_TMPDIR/pid run_prog -t 60 "$SOCKLAB_TOP/tools/bats" --tap \
		-f "$1" "$SOCKLAB_TOP/tests/kit/fixtures/helpers.bats"
}

# bats test_tags=slow
@test "kit: a program that hangs fails its test with \"timed out after N s\"" {
	fixture "hangs"
	assert_failure
	assert_output --partial "timed out after 1 s"
}

# bats test_tags=slow
@test "kit: a program that crashes fails its test with \"crashed with SIGSEGV\"" {
	fixture "segfaults"
	assert_failure
	assert_output --partial "crashed with SIGSEGV"
}

@test "kit: a server that never reports fails within the bound, and its process group is killed" {
	fixture "never reports"
	assert_failure
	assert_output --partial "printed nothing within 1 s"
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/pid")
	! kill -0 "$pid" 2>/dev/null || fail "the background program $pid is still running after teardown"
}

@test "kit: a server that exits before reporting fails with its status and stderr" {
	fixture "dies before"
	assert_failure
	assert_output --partial "exited (status 3) before printing its first line"
	assert_output --partial "no port for you"
}

@test "kit: LAB=3, LAB=03 and LAB=03-bind all name lab 03-bind; an unknown lab is an error" {
	local l
	for l in 3 03 03-bind; do
		run_prog make -s -n -C "$SOCKLAB_TOP" check LAB="$l"
		assert_success
		assert_output --partial "check.sh 03-bind"
	done
	run_prog make -s -n -C "$SOCKLAB_TOP" check LAB=99
	assert_failure
	assert_stderr --partial "no such lab"
}

@test "kit: mkstarter turns a region into its TODO and stub, and rejects broken markers" {
	local f=$BATS_TEST_TMPDIR/x.c
	printf '%s\n' 'int f(void)' '{' '	/* BEGIN SOLUTION TODO(01.1): return 42. */' '	return 42;' \
		'	/* STUB: return 0; */' '	/* END SOLUTION */' '}' >"$f"
	run_prog awk -f "$SOCKLAB_TOP/tools/maint/mkstarter" "$f"
	assert_success
	assert_output "$(printf '%s\n' 'int f(void)' '{' '	/* TODO(01.1): return 42. */' '	return 0;' '}')"
	head -n 4 "$f" >"$f.bad"
	run_prog awk -f "$SOCKLAB_TOP/tools/maint/mkstarter" "$f.bad"
	assert_failure
	assert_stderr --partial "unterminated"
}

@test "kit: make check grades a copy of the labs anywhere (TREE=path) and exits 0 when all pass" {
	# A fixed place inside build/, so that repeated runs reuse one build and one results folder.
	local copy=$SOCKLAB_TOP/build/kit/copy
	rm -rf "$copy" && mkdir -p "$copy"
	cp -r "$SOCKLAB_TOP/solutions/01-sockaddr" "$copy/"
	run_prog -t 200 make -s -C "$SOCKLAB_TOP" check LAB=01 TREE="$copy" FILTER='byte order|usage'
	assert_success
	assert_output --regexp "PASS  01-sockaddr .* 5/5 passed "
}

@test "kit: make check on the untouched starters exits non-zero and names lab 01 as the next lab" {
	run_prog -t 200 make -s -C "$SOCKLAB_TOP" check LAB=01 FILTER='byte order'
	assert_failure
	assert_output --partial "Next: 01-sockaddr"
	assert_output --partial "first failing test: 01-sockaddr:"
	assert_output --partial "docs/01-sockaddr.md"
}
