#!/usr/bin/env bats
# quality: the kit's robustness and quality gates. Network safety of the sources, the static
# checks (tools/maint/lint.sh), what the grader makes of broken submissions (tests/kit/fixtures/broken/),
# Ctrl-C in the middle of `make check`, random arguments under the sanitizers, and the servers'
# descriptors and memory (/proc/PID/fd, valgrind). A kit file: `make test` runs it beside the labs.
load ../lib/socklab
# The broken submissions are graded through `make check`, with a hang among them: allow for a slow,
# loaded machine.
BATS_TEST_TIMEOUT=240

setup() { sl_begin; }
teardown() { lab_teardown; }

LO=127.0.0.1
# The solutions' programs are built here for these tests, apart from the self-test's own builds
# (which other jobs may be writing at the same moment): plain for /proc and valgrind, SAN=1 for
# the random arguments.
QBUILD=$SOCKLAB_TOP/build/quality

# build_solutions OUT SAN PROG...: make solutions/PROG.c (e.g. 05-accept/accept) into OUT/PROG.
build_solutions() {
	local out=$1 san=$2 p targets=()
	shift 2
	for p in "$@"; do targets+=("$out/$p"); done
	run_prog -t 200 env -u MAKEFLAGS -u MFLAGS make -s -j2 --no-print-directory -C "$SOCKLAB_TOP" TREE=solutions \
		SAN="$san" OUT="$out" "${targets[@]}"
	assert_success
}

# fd_count PID: how many descriptors PID holds (no subprocess: a glob of /proc/PID/fd).
fd_count() {
	local fds=(/proc/"$1"/fd/*)
	echo "${#fds[@]}"
}
fds_are() { [[ $(fd_count "$1") == "$2" ]]; }

# ---------------------------------------------------------------------------------------------
# Network safety: every address literal is one that cannot take a packet off this machine.

@test "quality: no lab test runs a lab program in a user namespace of its own (the sandbox could not make it the student's user)" {
	# In make grade SUBMISSIONS='s sandbox the tests are root and the launcher runs every program as
	# the student's user; inside a user namespace a test made with unshare -r that user does not
	# exist, and the launcher refuses. Lab tests make their namespaces with "${UNSHARE[@]}" (no user
	# namespace as root). (A copy of a program run as nobody, $NOBODY_BIN, is not the harness's.)
	run_prog grep -nE 'unshare -r[a-z]* [^|;&]*\$LAB_BIN|unshare -r[a-z]* .*\$PROBE|nsenter .*-U' "$SOCKLAB_TOP"/tests/[0-9][0-9]-*.bats
	# (a line that adds -U only for an ordinary user is right: as root no user namespace was made)
	local bad=() l
	for l in "${lines[@]}"; do [[ $l == *'((EUID == 0)) ||'* ]] || bad+=("$l"); done
	((${#bad[@]} == 0)) || fail "run these through \"\${UNSHARE[@]}\" -n (tests/lib/socklab.bash), and nsenter -U only for an ordinary user: ${bad[*]}"
}

@test "quality: every IP address in tests/ and solutions/ is loopback, a wildcard, or a documentation range in a file that makes its own namespace; never TEST-NET-1" {
	command -v python3 >/dev/null || skip "needs python3 (its ipaddress module reads the literals)"
	# The addresses that are not loopback nor wildcard and still safe, each with the reason; the
	# file, the network, why. Anything else fails, and TEST-NET-1 (this machine's real network)
	# fails whatever this says.
	local allowed=$BATS_TEST_TMPDIR/allowed
	cat >"$allowed" <<-'EOF'
		tests/01-sockaddr.bats	0.0.0.0/0	lab 01 only fills address structures (sockaddr, probe in/in6): no socket is opened
		tests/01-sockaddr.bats	::/0	lab 01 only fills address structures (sockaddr, probe in/in6): no socket is opened
		tests/03-bind.bats	1.0.0.127/32	127.0.0.1 without htonl: bind() fails with EADDRNOTAVAIL, nothing is sent
		solutions/03-bind/predictions.md	198.51.100.1/32	a question's text: the probe binds it (EADDRNOTAVAIL), nothing is sent
		tests/10-ipv6.bats	1.2.3.4/32	a usage error: the program rejects it before any socket exists
		tests/10-ipv6.bats	fe80::/10	a usage error (a scope id): rejected before any socket exists
		solutions/10-ipv6/ipv6.c	2001:db8::/32	the usage text and a comment: "ipv6 convert" only converts text
		solutions/10-ipv6/ipv6.c	fe80::/10	a comment about scope ids
	EOF
	# The claim about lab 01 is checked, not trusted: its program makes no socket.
	local f
	for f in "$SOCKLAB_TOP"/solutions/01-sockaddr/*.c; do
		# The code without its comments (cc -fpreprocessed strips them and expands nothing).
		! cc -fpreprocessed -dD -E "$f" | grep -qE '\b(socket|connect|bind|send|sendto|sendmsg)\(' ||
			fail "$f now calls socket functions: lab 01's addresses are no longer safe by construction"
	done
	run_prog -t 30 python3 - "$SOCKLAB_TOP" "$allowed" <<-'PY'
		import ipaddress, os, re, sys
		top, allowed_file = sys.argv[1], sys.argv[2]
		allowed = []
		for row in open(allowed_file):
		    f, net, why = row.rstrip("\n").split("\t")
		    allowed.append((f, ipaddress.ip_network(net), why))
		doc = [ipaddress.ip_network(n) for n in ("198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
		never = ipaddress.ip_network((0xC0000200, 24))  # TEST-NET-1, built so this file never spells it
		token = re.compile(r"[0-9A-Za-z:.%]+")
		own_netns = re.compile(r"\b(unshare|UNSHARE)\b[^\n]*\s-[a-zA-Z]*n")
		bad = seen = 0
		for sub in ("tests", "solutions"):
		    for d, _, files in os.walk(os.path.join(top, sub)):
		        for name in sorted(files):
		            path = os.path.join(d, name)
		            rel = os.path.relpath(path, top)
		            if rel == "tests/kit/quality.bats":
		                continue  # this file: it names the addresses it looks for
		            try:
		                text = open(path, encoding="utf-8").read()
		            except (UnicodeDecodeError, OSError):
		                continue
		            for n, line in enumerate(text.splitlines(), 1):
		                for m in token.finditer(line):
		                    t = m.group(0).strip(".")
		                    if ":" not in t and t.count(".") != 3:
		                        continue
		                    if re.fullmatch(r"(?i)::ffff:127(\.[0-9]*)*", t):
		                        continue  # the start of a v4-mapped loopback address, ::ffff:127.x
		                    try:
		                        a = ipaddress.ip_address(t)
		                    except ValueError:
		                        continue  # not an address: 256.1.1.1, ::g, a time, ${x:2:2}
		                    seen += 1
		                    mapped = getattr(a, "ipv4_mapped", None)
		                    plain = mapped or a
		                    if plain in never:
		                        why = f"{never} is this machine's real network: never"
		                    elif plain.is_loopback or plain.is_unspecified:
		                        continue
		                    elif any(plain in net for net in doc):
		                        if own_netns.search(text):
		                            continue
		                        why = "a documentation range in a file that makes no network namespace of its own (unshare -rn)"
		                    else:
		                        why = "neither loopback, nor a wildcard, nor a documentation range"
		                    if plain not in never and any(rel == f and plain.version == net.version and plain in net for f, net, _ in allowed):
		                        continue
		                    print(f"{rel}:{n}: {t}: {why}")
		                    bad += 1
		print(f"{seen} address literals read, {bad} unsafe")
		sys.exit(1 if bad else 0)
	PY
	assert_success
	[[ ${lines[-1]} =~ ^([0-9]+)\ address && ${BASH_REMATCH[1]} -gt 100 ]] ||
		fail "the scan read too few addresses: is it still reading the files?"
}

# ---------------------------------------------------------------------------------------------
# Static checks.

@test "quality: clang-format with the committed .clang-format is clean on the solutions and the kit's C (make lint)" {
	command -v clang-format >/dev/null || skip "needs clang-format (Debian/Ubuntu: apt install clang-format)"
	run_prog -t 60 "$SOCKLAB_TOP/tools/maint/lint.sh" format
	assert_success
	assert_output --partial "lint: clean"
}

# bats test_tags=slow
@test "quality: cppcheck and clang-tidy are clean on the solutions, the starters and the kit's C (make lint)" {
	local t missing=()
	for t in cppcheck clang-tidy; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	((${#missing[@]} == 0)) || skip "needs ${missing[*]} (Debian/Ubuntu: apt install ${missing[*]})"
	run_prog -t 200 "$SOCKLAB_TOP/tools/maint/lint.sh" cppcheck tidy
	assert_success
	assert_output --partial "lint: clean"
}

# ---------------------------------------------------------------------------------------------
# Broken submissions (tests/kit/fixtures/broken/): graded once, by `make check` with the labs' own
# tests, each test below reads the verdict on one of them.
BROKEN=$SOCKLAB_TOP/tests/kit/fixtures/broken
BROKEN_FILTER='^(03-bind: no arguments|05-accept: (no arguments|a bad address|a non-blocking accept with no client|the peer port the server prints|accept on a socket that is not listening))'
BROKEN_LIMIT=2 # SOCKLAB_TIMEOUT for them: the hang costs this much (the others need a fraction of it)

# broken_grade: run the grading (first call only), then set broken_status, broken_secs and
# output (what make check printed); broken_tap LAB names that lab's TAP file.
broken_grade() {
	local done=$BATS_FILE_TMPDIR/broken.done log=$BATS_FILE_TMPDIR/broken.out
	if [[ ! -f $done ]]; then
		local t0=$SECONDS rc=0
		env -u SAN -u MAKEFLAGS -u MFLAGS SOCKLAB_MANIFEST="$BROKEN/manifest" SOCKLAB_TIMEOUT=$BROKEN_LIMIT \
			LAB_TIME_LIMIT=120 timeout -k 5 200 make -s --no-print-directory -C "$SOCKLAB_TOP" check TREE="$BROKEN" \
			FILTER="$BROKEN_FILTER" >"$log" 2>&1 </dev/null || rc=$?
		echo "$rc $((SECONDS - t0))" >"$done"
	fi
	read -r broken_status broken_secs <"$done"
	sl_slurp output "$log"
	echo "\$ make check TREE=tests/kit/fixtures/broken FILTER=... (status $broken_status, $broken_secs s)"
	sl_indent "$output"
}
broken_tap() { echo "$SOCKLAB_TOP/build/check/tests_kit_fixtures_broken-filtered/$1.tap"; }
# assert_tap LAB TEXT: LAB's TAP report contains TEXT (shown when it does not).
assert_tap() {
	local tap
	tap=$(broken_tap "$1")
	[[ -f $tap ]] || fail "no TAP report for $1 ($tap)"
	grep -qF -- "$2" "$tap" && return 0
	echo "$1's TAP report:"
	sl_indent "$(head -c 4000 "$tap")"
	fail "expected $1's report to say \"$2\""
}

@test "quality: a submission that does not compile: the compiler's message is shown, that lab scores 0, the other labs are graded" {
	broken_grade
	# The grader itself went through: check.sh exited 1 (points lost; 2 would be a broken kit), so
	# make reports "Error 1" and exits 2; no crash, no hang.
	[[ $broken_status == 2 ]] || fail "make check should exit 2 (its recipe failed), not $broken_status"
	assert_output --regexp "make(\[[0-9]+\])?: \*\*\* \[.*check\] Error 1"
	assert_output --regexp "bind\.c:[0-9]+:[0-9]+: error: .*bnid"
	assert_output --regexp "FAIL  03-bind .* 0/1 passed +0/[0-9.]+ points"
	# One line for the lab, with the compiler's first error (its tests do not run, each says why).
	assert_output --regexp "03-bind does not compile \(with -Werror\), so none of its tests ran; the compiler's first error: .*bind\.c:[0-9]+:[0-9]+: error: .*bnid"
	# The other lab ran: the one test its program gets right (-L) passes.
	assert_output --regexp "FAIL  05-accept .* 1/5 passed"
}

@test "quality: a submission that hangs in accept fails its test with \"timed out\", within the bound" {
	broken_grade
	assert_tap 05-accept "timed out after $BROKEN_LIMIT s"
	# Two labs, six tests, one of them a hang of BROKEN_LIMIT s: nowhere near a lab's time limit.
	((broken_secs < 100)) || fail "grading the broken submissions took $broken_secs s: something waited unbounded"
}

@test "quality: a submission that segfaults fails its test with \"crashed with SIGSEGV\"" {
	broken_grade
	assert_tap 05-accept "crashed with SIGSEGV"
}

@test "quality: a submission that prints megabytes fails with \"output capped at N bytes\", and its report stays small" {
	broken_grade
	assert_tap 05-accept "[output capped at $SOCKLAB_OUTPUT_CAP bytes]"
	local size
	size=$(stat -c %s "$(broken_tap 05-accept)")
	echo "05-accept's TAP report: $size bytes"
	((size < 4 * SOCKLAB_OUTPUT_CAP)) || fail "the TAP report is $size bytes: the program's 16 MB were not capped"
}

@test "quality: a submission that prints the expected lines without the socket calls fails" {
	broken_grade
	# It named port 1, where nothing listens: the test's client, connecting there, is refused.
	assert_tap 05-accept "probe: connect: ECONNREFUSED"
}

# ---------------------------------------------------------------------------------------------
# Ctrl-C: make check stops, and leaves nothing behind.

# has_mark PID: the process carries this test's mark in its environment.
has_mark() {
	local env IFS=' '
	mapfile -td '' env 2>/dev/null <"/proc/$1/environ" || return 1
	[[ " ${env[*]} " == *" SOCKLAB_QUALITY_MARK=$mark "* ]]
}
# lab_listener: a process of the lab's program ($bin) with the mark holds a listening socket; sets
# listening (ss's line). It starts from ss's few listeners, not from every process in /proc: the
# self-test runs hundreds of processes beside it.
lab_listener() {
	local line pid
	while read -r line; do
		for pid in $(grep -oE 'pid=[0-9]+' <<<"$line" | cut -d= -f2); do
			[[ /proc/$pid/exe -ef $bin ]] && has_mark "$pid" || continue
			listening=$line
			return 0
		done
	done < <(ss -Hltnp)
	return 1
}

# ctrl_c PID LOG WHAT: Ctrl-C to the process group PID leads, as a terminal sends it; fail unless
# it ends within 20 s; then $status is its exit status and $output what it wrote to LOG.
ctrl_c() {
	kill -INT -- "-$1"
	local rc=0 t0=${EPOCHREALTIME//[!0-9]/}
	"$PROBE" await /dev/null "$1" 20000 >/dev/null || rc=$?
	[[ $rc == 3 ]] || fail "$3 was still running 20 s after Ctrl-C"
	status=0
	wait "$1" || status=$?
	sl_slurp output "$2"
	echo "$3 ended with status $status, $(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000)) ms after Ctrl-C:"
	sl_indent "$output"
}

# refute_marked_alive: fail naming every process that still carries the mark.
refute_marked_alive() {
	local p left=()
	for p in /proc/[0-9]*; do
		has_mark "${p#/proc/}" && left+=("${p#/proc/}: $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)")
	done
	((${#left[@]} == 0)) || fail "still alive after Ctrl-C: ${left[*]}"
}

@test "quality: Ctrl-C in make check stops it at once, even in a hung test; no process of the run is left, nothing it started listens" {
	# The submission that hangs in accept() with -N (tests/kit/fixtures/broken/05-accept), given a
	# time limit far longer than the test: it would listen for 100 s if Ctrl-C did not end it.
	local mark=quality.$$.$RANDOM log=$BATS_TEST_TMPDIR/check.log
	local bin=$SOCKLAB_TOP/build/tests/kit/fixtures/broken/05-accept/accept
	local cmd=(make -s --no-print-directory -C "$SOCKLAB_TOP" TREE="$BROKEN" LAB=05)
	export SOCKLAB_MANIFEST=$BROKEN/manifest
	run_prog -t 200 env -u SAN -u MAKEFLAGS -u MFLAGS "${cmd[@]}" bins
	assert_success
	# As in a terminal: make leads a process group of its own, with SIGINT's default action (a
	# background job of a script would ignore it), and the mark in its environment.
	SOCKLAB_QUALITY_MARK=$mark SOCKLAB_TIMEOUT=100 setsid env -u SAN -u MAKEFLAGS -u MFLAGS --default-signal=INT \
		"${cmd[@]}" check FILTER='^05-accept: a non-blocking accept with no client' >"$log" 2>&1 </dev/null 3>&- &
	local pid=$! listening=
	SL_GROUPS+=("$pid")
	echo "\$ make check TREE=tests/kit/fixtures/broken LAB=05 FILTER=... &   (pid $pid)"
	wait_until -t 60 lab_listener || fail "the hanging 05-accept server of the run was not seen listening within 60 s"
	echo "a server of the run listens (and would for 100 s):"
	sl_indent "$listening"
	ctrl_c "$pid" "$log" "make check"
	((status != 0)) || fail "an interrupted make check must not exit 0"
	assert_output --partial "interrupted"
	refute_output --partial "PASS"
	# Nothing of the run is left: no process with the mark...
	refute_marked_alive
	# ...and nobody listens where the run's server listened.
	local addr
	for addr in $(awk '{ print $4 }' <<<"$listening"); do
		[[ -z $(ss -Hltn "sport = :${addr##*:}") ]] || fail "port ${addr##*:} still has a listener after Ctrl-C"
	done
}

# tap_oks FILE N: FILE holds at least N "ok" lines.
tap_oks() {
	local n
	n=$(grep -c '^ok ' "$1" 2>/dev/null) || return 1
	((n >= $2))
}

@test "quality: Ctrl-C in the self-test stops every job at once; no process of the run is left, nothing it started listens" {
	# The self-test of one lab (solutions and starter, as make test runs them), interrupted once its
	# solution job is a few tests in, as a terminal interrupts make test.
	# It runs in a copy of the kit with that one lab: the self-test running this test builds and
	# tests the same lab at the same time, and the two must not write the same files.
	local mark=quality.$$.$RANDOM log=$BATS_TEST_TMPDIR/selftest.log k=$BATS_TEST_TMPDIR/kit f
	mkdir -p "$k"/{labs,solutions,tests,docs/zh}
	cp -r "$SOCKLAB_TOP"/{Makefile,include,tools} "$k/"
	cp -r "$SOCKLAB_TOP/tests/lib" "$SOCKLAB_TOP/tests/05-accept.bats" "$k/tests/"
	cp -r "$SOCKLAB_TOP/labs/manifest" "$SOCKLAB_TOP/labs/05-accept" "$k/labs/"
	cp -r "$SOCKLAB_TOP/solutions/05-accept" "$k/solutions/"
	for f in docs/05-accept.md docs/zh/05-accept.md; do cp "$SOCKLAB_TOP/$f" "$k/$f"; done
	ln -s "$SOCKLAB_TOP/node_modules" "$k/node_modules"
	local tap=$k/build/selftest/05-accept/solutions.05-accept.tap
	SOCKLAB_QUALITY_MARK=$mark setsid env -u MAKEFLAGS -u MFLAGS -u SOCKLAB_TOP -u TREE_DIR -u SELFTEST_FULL --default-signal=INT \
		"$k/tools/maint/selftest.sh" 05-accept >"$log" 2>&1 </dev/null 3>&- &
	local pid=$!
	SL_GROUPS+=("$pid")
	echo "\$ tools/maint/selftest.sh 05-accept &   (pid $pid)"
	wait_until -t 100 tap_oks "$tap" 2 || fail "the self-test's solution job did not pass 2 tests within 100 s"
	echo "the solution job has passed $(grep -c '^ok ' "$tap") tests: Ctrl-C"
	ctrl_c "$pid" "$log" "the self-test"
	# Nothing of the run is left: no process with the mark, so no listener of it either.
	refute_marked_alive
	local p stray=()
	for p in $(ss -Hltnp | grep -oE 'pid=[0-9]+' | cut -d= -f2); do
		if has_mark "$p"; then stray+=("$p"); fi
	done
	((${#stray[@]} == 0)) || fail "listening after Ctrl-C: ${stray[*]}"
	[[ $status == 130 ]] || fail "an interrupted self-test must exit 130, not $status"
	assert_output --partial "interrupted: stopping every job of the run"
	refute_output --regexp "[0-9]+ passed, [0-9]+ failed"
}

# ---------------------------------------------------------------------------------------------
# Bad input: random arguments to every lab program, built with ASan and UBSan.

# fuzz_run SEED COUNT PROG...: COUNT invocations of each PROG with 0..5 random arguments (words of
# its own usage message, and bad values); prints every one that ended with a status other than 0,
# 1, 2 or the time limit's (124, 137), or with a sanitizer report. Runs inside `unshare -rn`.
fuzz_run() {
	local seed=$1 count=$2 prog words n i k st err=$PWD/.err bad=0 e args tally=()
	shift 2
	RANDOM=$seed
	local long1 long2
	printf -v long1 'x%.0s' {1..120}
	printf -v long2 'y%.0s' {1..5000}
	local values=("" 0 1 -1 2 65535 65536 99999 99999999999999999999 -2147483649 4294967296 abc 0x10 1e3 " 1" "1 "
		+ - -- "%s%n%s" 127.0.0.1 0.0.0.0 :: ::1 ::ffff:127.0.0.1 256.1.1.1 1.2.3 127.1 "[::1]" localhost @sock
		sock ./sock "$long1" "$long2" $'a\tb' $'\n' "中文")
	for prog in "$@"; do
		# The program's own words: commands and options from its usage message.
		mapfile -t words < <(timeout 5 "$prog" 2>&1 >/dev/null | grep -oE '(^|[ [|])-?[a-z][a-z0-9]*' | tr -d ' [|' | sort -u)
		for ((k = 0; k < count; k++)); do
			args=()
			n=$((RANDOM % 6))
			for ((i = 0; i < n; i++)); do
				if ((RANDOM % 2 && ${#words[@]})); then
					args+=("${words[RANDOM % ${#words[@]}]}")
				else
					args+=("${values[RANDOM % ${#values[@]}]}")
				fi
			done
			st=0
			timeout -k 0.5 0.5 "$prog" "${args[@]}" >/dev/null 2>"$err" </dev/null || st=$?
			e=
			read -rd '' e <"$err"
			case $st in
			0 | 1 | 2 | 124 | 137)
				if [[ $e != *AddressSanitizer* && $e != *"runtime error:"* ]]; then
					tally[st]=$((${tally[st]:-0} + 1))
					continue
				fi ;;
			esac
			printf 'status %s: %s' "$st" "${prog##*/}"
			printf ' %q' "${args[@]}"
			printf '\n%s\n' "${e:0:600}"
			bad=$((bad + 1))
		done
	done
	echo "$((count * $#)) runs: ${tally[0]:-0} exit 0, ${tally[1]:-0} exit 1, ${tally[2]:-0} exit 2 (usage)," \
		"$((${tally[124]:-0} + ${tally[137]:-0})) stopped at the time limit; $bad bad"
	return $((bad > 0))
}

# bats test_tags=slow
@test "quality: random arguments to every lab program (ASan, UBSan, own network namespace): exit 0, 1 or 2, no crash, no sanitizer report" {
	need_userns
	local progs=() f
	for f in "$SOCKLAB_TOP"/solutions/*/*.c; do
		f=${f#"$SOCKLAB_TOP"/solutions/}
		progs+=("${f%.c}")
	done
	build_solutions "$QBUILD/san" 1 "${progs[@]}"
	local seed=${SOCKLAB_FUZZ_SEED:-$RANDOM} count=${SOCKLAB_FUZZ_COUNT:-12} dir=$BATS_TEST_TMPDIR/fuzz
	mkdir -p "$dir"
	echo "seed $seed (SOCKLAB_FUZZ_SEED=$seed repeats this run), $count runs of each of ${#progs[@]} programs"
	# Two halves side by side, each in a network namespace of its own with only a loopback: a
	# random address can reach nothing. A program's files land in a scratch folder.
	local half=$(((${#progs[@]} + 1) / 2)) bins=("${progs[@]/#/$QBUILD/san/}")
	run_prog -t 180 unshare -rn bash -c "$(declare -f fuzz_run)"'
		ip link set lo up || exit 3
		cd "$1" && mkdir -p a b || exit 3
		seed=$2 count=$3 half=$4
		shift 4
		(cd a && fuzz_run "$seed" "$count" "${@:1:half}") & a=$!
		(cd b && fuzz_run "$((seed + 1))" "$count" "${@:half+1}") & b=$!
		wait $a; ra=$?; wait $b; rb=$?
		exit $((ra || rb))' _ "$dir" "$seed" "$count" "$half" "${bins[@]}"
	assert_success
}

# ---------------------------------------------------------------------------------------------
# Resource hygiene: descriptors and memory of the servers.

@test "quality: the 05-accept and 12-echo servers hold as many descriptors after 1 and after 20 clients as before" {
	build_solutions "$QBUILD/plain" "" 05-accept/accept 12-echo/echo_sv
	local n0 i
	start_bg acc "$QBUILD/plain/05-accept/accept" -a "$LO" 0
	local aport=$port
	n0=$(fd_count "$acc_pid")
	echo "05-accept holds $n0 descriptors before any client"
	run_prog "$PROBE" connect "$LO" "$aport" one
	assert_success
	wait_until fds_are "$acc_pid" "$n0" || fail "05-accept holds $(fd_count "$acc_pid") descriptors after 1 client, $n0 before"
	for ((i = 2; i <= 20; i++)); do
		run_prog "$PROBE" connect "$LO" "$aport" "client $i" >/dev/null
		assert_success
	done
	wait_until fds_are "$acc_pid" "$n0" || fail "05-accept holds $(fd_count "$acc_pid") descriptors after 20 clients, $n0 before"

	start_bg echo "$QBUILD/plain/12-echo/echo_sv" "$LO" 0
	local eport=$port
	n0=$(fd_count "$echo_pid")
	echo "12-echo holds $n0 descriptors before any client"
	run_prog "$PROBE" stream "$LO" "$eport" 1000
	assert_success
	wait_until fds_are "$echo_pid" "$n0" || fail "echo_sv holds $(fd_count "$echo_pid") descriptors after 1 client, $n0 before"
	run_prog -t 30 "$PROBE" stream -n 19 "$LO" "$eport" 1000
	assert_success
	wait_until fds_are "$echo_pid" "$n0" || fail "echo_sv holds $(fd_count "$echo_pid") descriptors after 20 clients, $n0 before"
	stop_bg echo
	stop_bg acc
}

# vg_check NAME: background NAME ran under valgrind (log: NAME.vg) and has been collected: no
# memory error and no leak (valgrind's exit status 99 says there was one), no connection left open
# at exit.
vg_check() {
	local log=$BATS_TEST_TMPDIR/$1.vg
	echo "valgrind's report on $1:"
	sl_indent "$(grep -vE '^==[0-9]+== *$' "$log")"
	[[ $status != 99 ]] || fail "valgrind found a memory error or a leak in $1 (see its report above)"
	[[ $status == 0 ]] || fail "$1 ended with status $status under valgrind"
	! grep -qE 'Open AF_INET6? socket [0-9]+: .* <-> [0-9]' "$log" ||
		fail "$1 left a connected socket open when it exited"
}

# bats test_tags=slow
@test "quality: valgrind memcheck finds no memory error, no leak and no open connection in the servers of labs 05, 08 and 12" {
	command -v valgrind >/dev/null || skip "needs valgrind (Debian/Ubuntu: apt install valgrind)"
	valgrind -q --error-exitcode=99 true 2>/dev/null || skip "valgrind does not work on this machine (a sandbox such as gVisor?)"
	build_solutions "$QBUILD/plain" "" 05-accept/accept 08-close/close_sv 12-echo/echo_sv
	# Valgrind takes a while to start: a longer wait for each server's first line.
	local SOCKLAB_TIMEOUT=30 b=$QBUILD/plain
	local vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --track-fds=yes)
	start_bg acc "${vg[@]}" --log-file="$BATS_TEST_TMPDIR/acc.vg" "$b/05-accept/accept" -a "$LO" -n 1 0
	local aport=$port
	start_bg cls "${vg[@]}" --log-file="$BATS_TEST_TMPDIR/cls.vg" "$b/08-close/close_sv" upper "$LO" 0
	local cport=$port
	start_bg echo "${vg[@]}" --log-file="$BATS_TEST_TMPDIR/echo.vg" "$b/12-echo/echo_sv" "$LO" 0
	local eport=$port
	run_prog "$PROBE" connect "$LO" "$aport" ping
	assert_success
	run_prog "$PROBE" connect "$LO" "$cport" "a request, in lower case"
	assert_success
	assert_output --partial "A REQUEST, IN LOWER CASE"
	run_prog -t 30 "$PROBE" stream "$LO" "$eport" 100000
	assert_success
	wait_exit acc
	vg_check acc
	wait_exit cls
	vg_check cls
	stop_bg echo
	vg_check echo
}
