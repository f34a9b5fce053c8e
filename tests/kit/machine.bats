#!/usr/bin/env bats
# machine: the machines the kit meets. Offline npm, a system bats without its libraries, missing
# commands (make doctor), a FILTER that matches nothing, labs graded side by side. Every machine here
# is faked: a PATH with a fake npm that fails or hangs, a fake bats, a PATH without nc and socat.
# Nothing reaches a network: the fake npm answers for the real one.
load ../lib/socklab
BATS_TEST_TIMEOUT=120

setup() {
	sl_begin
	FAKE=$BATS_TEST_TMPDIR/bin
	mkdir -p "$FAKE"
	export FAKE_LOG=$BATS_TEST_TMPDIR/npm.calls
	: >"$FAKE_LOG"
}
teardown() { lab_teardown; }

# kit_copy: K, a copy of the kit's machinery without node_modules/ (a fresh clone, for the tools).
kit_copy() {
	K=$BATS_TEST_TMPDIR/kit
	mkdir -p "$K/labs" "$K/tests"
	cp -r "$SOCKLAB_TOP"/{Makefile,include,tools,package.json,package-lock.json} "$K/"
	cp -r "$SOCKLAB_TOP/tests/lib" "$K/tests/"
	cp "$SOCKLAB_TOP/labs/manifest" "$K/labs/"
}

# fake_npm fail|hang: an npm that logs its calls and fails at once as offline npm does, or hangs.
fake_npm() {
	cat >"$FAKE/npm" <<-EOF
		#!/usr/bin/env bash
		echo "\$*" >>"\$FAKE_LOG"
		if [[ $1 == fail ]]; then
			printf '%s\n' 'npm error code EAI_AGAIN' 'npm error syscall getaddrinfo' \
				'npm error errno EAI_AGAIN' 'npm error request failed, reason: getaddrinfo EAI_AGAIN' >&2
			exit 1
		fi
		exec tail -f /dev/null
	EOF
	chmod +x "$FAKE/npm"
}

# fake_bats bare|usable: a system bats 1.10.0 with no libraries, or the pinned one used as a system bats.
fake_bats() {
	if [[ $1 == bare ]]; then
		printf '%s\n' '#!/usr/bin/env bash' '[[ $1 == --version ]] && echo "Bats 1.10.0"' 'exit 1' >"$FAKE/bats"
	else
		printf '%s\n' '#!/usr/bin/env bash' "exec $SOCKLAB_TOP/node_modules/bats/bin/bats \"\$@\"" >"$FAKE/bats"
	fi
	chmod +x "$FAKE/bats"
}

# in_fake CMD...: run CMD (like run_prog) with the fake commands first in PATH.
in_fake() {
	run_prog -t 60 env -u MAKEFLAGS -u MFLAGS PATH="$FAKE:$PATH" "$@"
}

@test "machine: offline npm and a bats without bats-support and bats-assert: one message of what was found and what is missing, no table; npm is not tried again" {
	kit_copy
	fake_npm fail
	fake_bats bare
	local t0=$SECONDS
	BATS_LIB_PATH=$BATS_TEST_TMPDIR/nolibs in_fake make -s -C "$K" check LAB=01
	assert_failure
	((SECONDS - t0 < 30)) || fail "it took $((SECONDS - t0)) s: npm was not bounded"
	assert_stderr --partial "no usable test tools"
	assert_stderr --partial "npm           found, but it could not install the pinned tools: the registry did not answer npm ping (code EAI_AGAIN)"
	assert_stderr --partial "bats          $FAKE/bats, version 1.10.0: usable"
	assert_stderr --partial "bats-support  missing"
	assert_stderr --partial "bats-assert   missing"
	assert_stderr --partial "install what is missing: sudo apt install bats-support bats-assert"
	[[ $(grep -c "no usable test tools" <<<"$stderr") == 1 ]] || fail "the message should come once"
	refute_output --partial "FAIL"
	refute_output --partial "Grading"
	[[ $(wc -l <"$FAKE_LOG") == 1 ]] || fail "npm should have been tried once (a ping): $(cat "$FAKE_LOG")"
	# The next run does not wait for npm again, and says the same.
	BATS_LIB_PATH=$BATS_TEST_TMPDIR/nolibs in_fake make -s -C "$K" check LAB=01
	assert_failure
	assert_stderr --partial "sudo apt install bats-support bats-assert"
	[[ $(wc -l <"$FAKE_LOG") == 1 ]] || fail "npm was tried again: $(cat "$FAKE_LOG")"
}

@test "machine: npm that hangs gets a short bounded try, then a usable system bats is used with one line saying so, kept until package.json changes" {
	kit_copy
	fake_npm hang
	fake_bats usable
	local t0=$SECONDS
	SOCKLAB_NPM_PING_TIMEOUT=2 BATS_LIB_PATH=$SOCKLAB_TOP/node_modules in_fake make -s -C "$K" tools
	assert_success
	((SECONDS - t0 < 30)) || fail "it took $((SECONDS - t0)) s: npm was not bounded"
	assert_line --regexp "^  note: using the system's bats 1\.13\.0 \($FAKE/bats\) with bats-support and bats-assert from $SOCKLAB_TOP/node_modules \(npm could not install the pinned ones: the registry did not answer npm ping"
	[[ $(grep -c "note: using" <<<"$output") == 1 ]] || fail "one line should say so"
	run_prog cat "$K/build/tools/choice"
	assert_output --regexp "^system $FAKE/bats 1\.13\.0 "
	# The kit's bats runner now runs that bats.
	BATS_LIB_PATH=$SOCKLAB_TOP/node_modules in_fake "$K/tools/bats" --version
	assert_output "Bats 1.13.0"
	# Remembered: nothing to do, nothing said, npm not called.
	BATS_LIB_PATH=$SOCKLAB_TOP/node_modules in_fake make -s -C "$K" tools
	assert_success
	assert_output ""
	[[ $(wc -l <"$FAKE_LOG") == 1 ]] || fail "npm was tried again: $(cat "$FAKE_LOG")"
	# New package files: npm gets its try again.
	touch "$K/package.json"
	SOCKLAB_NPM_PING_TIMEOUT=1 BATS_LIB_PATH=$SOCKLAB_TOP/node_modules in_fake make -s -C "$K" tools
	assert_success
	[[ $(wc -l <"$FAKE_LOG") == 2 ]] || fail "npm should have been tried again after package.json changed: $(cat "$FAKE_LOG")"
}

# A PATH without nc and socat: every other command of the machine, linked (one cp per folder).
path_without_nc_socat() {
	local p=$BATS_TEST_TMPDIR/path d i=0
	NOPATH=
	for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
		[[ -d $d && ! -L $d ]] || continue
		i=$((i + 1))
		mkdir -p "$p/$i"
		cp -s "$d"/* "$p/$i/" 2>/dev/null || true
		rm -f "$p/$i"/{nc,nc.*,ncat,netcat,socat}
		NOPATH+=${NOPATH:+:}$p/$i
	done
}

@test "machine: without nc and socat, make doctor names them and the tests that will skip; make check says so in one line and scores the skip 0" {
	path_without_nc_socat
	run_prog -t 60 env PATH="$NOPATH" "$SOCKLAB_TOP/tools/doctor.sh"
	assert_success
	assert_line --regexp "^  MISSING  nc .*sudo apt install netcat-openbsd"
	assert_line --regexp "^  MISSING  socat .*sudo apt install socat"
	assert_output --partial "12-echo: nc (netcat-openbsd, -N) gets its bytes back from the server  (needs nc)"
	assert_output --partial "12-echo: socat gets its bytes back from the server  (needs socat)"
	assert_output --partial "12-echo: the client gets its bytes back from socat's echo server (a real peer)  (needs socat)"
	assert_output --regexp "Tests that will skip here: [0-9]+, worth [0-9.]+ points"
	# make check's engine on a fixture lab with a test that needs socat: the one line first, then the
	# skip in the table, scored 0, and why.
	local w=$BATS_TEST_TMPDIR/fix
	mkdir -p "$w/tree" "$w/tests"
	printf '%s\n' '85-tools 2 a test that needs socat' >"$w/manifest"
	printf '%s\n' '@test "85-tools: socat echoes" {' \
		'	command -v socat >/dev/null || skip "needs socat (Debian/Ubuntu: apt install socat)"' '}' \
		'@test "85-tools: nothing needed" {' '	true' '}' >"$w/tests/85-tools.bats"
	SOCKLAB_MANIFEST=$w/manifest SOCKLAB_TESTS=$w/tests TREE_DIR=$w/tree \
		run_prog -t 60 env PATH="$NOPATH" "$SOCKLAB_TOP/tools/check.sh"
	assert_success
	assert_line --index 1 --regexp "^  this machine lacks (.*, )?nc, socat(, .*)?: 1 test\(s\) will skip, 1 points missing in make check and make grade alike \(make doctor\)$"
	assert_line --index 2 --regexp "^  PASS  85-tools .* 1/2 passed, 1 skipped +1/2 points$"
	assert_output --partial "1 test(s) skipped: this machine could not run them, and they score 0 (make check and make grade alike): 1 points missing."
	assert_output --partial "skipped: needs socat (Debian/Ubuntu: apt install socat)"
}

@test "machine: a FILTER that matches no test is a usage error naming the tests; FILTER ignores case" {
	local copy=$SOCKLAB_TOP/build/kit/filter
	rm -rf "$copy" && mkdir -p "$copy" && cp -r "$SOCKLAB_TOP/solutions/01-sockaddr" "$copy/"
	run_prog -t 100 env -u MAKEFLAGS -u MFLAGS make -s -C "$SOCKLAB_TOP" check LAB=01 TREE="$copy" FILTER=no-such-test
	assert_failure
	assert_stderr --partial "FILTER=no-such-test matches no test of 01-sockaddr (case is ignored). The tests are:"
	local t
	while IFS= read -r t; do
		assert_stderr --partial "  $t"
	done < <(sed -nE 's/^@test "(.*)" \{$/\1/p' "$SOCKLAB_TOP/tests/01-sockaddr.bats")
	refute_output --partial "PASS"
	run_prog -t 30 env -u MAKEFLAGS -u MFLAGS make -s -C "$SOCKLAB_TOP" check LAB=01 TREE="$copy" FILTER='(unclosed'
	assert_failure
	assert_stderr --partial "is not a regular expression"
	# Case: BYTE ORDER finds the tests named "byte order"; exactly those run.
	run_prog -t 100 env -u MAKEFLAGS -u MFLAGS make -s -C "$SOCKLAB_TOP" check LAB=01 TREE="$copy" FILTER='BYTE ORDER'
	assert_success
	local n
	n=$(grep -ci '^@test ".*byte order.*" {$' "$SOCKLAB_TOP/tests/01-sockaddr.bats")
	((n > 0)) || fail "tests/01-sockaddr.bats has no test about byte order any more: change this test's FILTER"
	assert_output --regexp "PASS  01-sockaddr .* $n/$n passed "
}

@test "machine: make check runs the labs side by side and prints the table in the manifest's order; CHECK_JOBS must be a count" {
	local w=$SOCKLAB_TOP/build/kit/jobs
	rm -rf "$w" && mkdir -p "$w/tree" "$w/tests"
	# Three fixture labs; the first waits until the last has started: only side by side can it pass.
	printf '%s\n' '81-first 1 waits for 83' '82-second 1 quick' '83-third 1 quick' >"$w/manifest"
	printf '%s\n' '@test "81-first: waits until 83 has started" {' \
		'	for ((i = 0; i < 300; i++)); do [[ -f $W/83.started ]] && return 0; read -rt 0.1 <> <(:) || true; done' \
		'	return 1' '}' >"$w/tests/81-first.bats"
	printf '%s\n' '@test "82-second: quick" {' '	true' '}' >"$w/tests/82-second.bats"
	printf '%s\n' '@test "83-third: quick" {' '	touch "$W/83.started"' '}' >"$w/tests/83-third.bats"
	rm -f "$w/times"
	W=$w SOCKLAB_MANIFEST=$w/manifest SOCKLAB_TESTS=$w/tests TREE_DIR=$w/tree CHECK_JOBS=3 \
		run_prog -t 60 "$SOCKLAB_TOP/tools/check.sh"
	assert_success
	assert_line --index 1 --regexp "^  PASS  81-first "
	assert_line --index 2 --regexp "^  PASS  82-second "
	assert_line --index 3 --regexp "^  PASS  83-third "
	SOCKLAB_MANIFEST=$w/manifest SOCKLAB_TESTS=$w/tests TREE_DIR=$w/tree CHECK_JOBS=none \
		run_prog -t 60 "$SOCKLAB_TOP/tools/check.sh"
	assert_failure 2
	assert_stderr --partial "CHECK_JOBS=none"
}
