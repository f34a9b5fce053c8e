#!/usr/bin/env bats
# student: the student's commands around make check: make next, hint, watch, reset (tools/student/next.sh,
# hint.sh, watch.sh, reset.sh) and make trace (tools/student/trace.sh).
# The checks that `next` and `watch` start run a tiny lab of this file's own (SOCKLAB_MANIFEST and
# SOCKLAB_TESTS, as check.sh knows them), so that they take a second, not a lab's full run.
load ../lib/socklab
BATS_TEST_TIMEOUT=60

setup() {
	sl_begin
	STUDENT=$SOCKLAB_TOP/tools/student
}
teardown() {
	# After a failure, whatever is left of a session start_session began (the processes of a check
	# are not all in the session leader's group).
	local p
	if [[ -n ${bg_pid:-} ]]; then
		for p in $(session_procs "$bg_pid" | cut -d' ' -f1); do kill -KILL "$p" 2>/dev/null; done
	fi
	lab_teardown
}

# A tree of labs in a fixed place under build/ (so that its builds and results are reused and
# do not pile up), emptied first; with its check results (build/check/TAG) removed.
fresh_tree() {
	TREE=$SOCKLAB_TOP/build/kit/$1/tree
	RESULTS=$SOCKLAB_TOP/build/check/build_kit_${1}_tree
	rm -rf "$TREE" "$RESULTS" && mkdir -p "$TREE" "$RESULTS"
}

# A small kit of this test's own: labs 01-sockaddr and 02-socket, each with one test that passes
# when the lab's sockaddr.c (socket.c) holds the word "good"; 01's hangs while the file says "slow"
# (a check that is still running when it is interrupted).
tiny_kit() {
	local d=$BATS_TEST_TMPDIR/kit
	mkdir -p "$d/tests"
	printf '%s\n' '01-sockaddr 10 Lab one' '02-socket 10 Lab two' >"$d/manifest"
	printf '@test "01-sockaddr: the file says good" {\n\t%s\n\t%s\n}\n' \
		'! grep -q slow "$TREE_DIR/01-sockaddr/sockaddr.c" || { : >"$TREE_DIR/hanging"; sleep 60; }' \
		'grep -q good "$TREE_DIR/01-sockaddr/sockaddr.c"' >"$d/tests/01-sockaddr.bats"
	printf '@test "02-socket: the file says good" {\n\tgrep -q good "$TREE_DIR/02-socket/socket.c"\n}\n' \
		>"$d/tests/02-socket.bats"
	export SOCKLAB_MANIFEST=$d/manifest SOCKLAB_TESTS=$d/tests
}

# Start CMD in a session of its own, as a terminal would run it: SIGINT at its default (bash
# leaves it ignored for a command it starts in the background). $bg_pid is its pid, the session's.
start_session() {
	local out=$1
	shift
	if env --default-signal=INT true 2>/dev/null; then
		setsid env --default-signal=INT "$@" >"$out" 2>&1 </dev/null 3>&- &
	else
		setsid perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "exec: $!"' "$@" >"$out" 2>&1 </dev/null 3>&- &
	fi
	bg_pid=$!
	SL_GROUPS+=("$bg_pid")
}

# The processes of session SID (from /proc), one "pid (command)" a line.
session_procs() {
	local f line rest sid
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		rest=${line##*) }
		read -r _ _ _ sid _ <<<"$rest"
		[[ $sid == "$1" ]] && echo "${line%%) *})"
	done
	return 0
}
no_session() { [[ -z $(session_procs "$1") ]]; }

# wait_for SECS CMD...: run CMD every 0.1 s until it succeeds, at most SECS seconds (for waits as
# long as a whole check; the pause is a read on a private FIFO, no sleep).
wait_for() {
	local end=$((SECONDS + $1)) fifo=$BATS_TEST_TMPDIR/.wait_for fd rc=1
	shift
	[[ -p $fifo ]] || mkfifo "$fifo"
	exec {fd}<>"$fifo"
	while :; do
		"$@" && { rc=0; break; }
		((SECONDS < end)) || break
		read -rt 0.1 -u "$fd" _ || true
	done
	exec {fd}<&-
	return $rc
}
# seen FILE TEXT [N]: FILE holds TEXT at least N times (default 1); no process started.
seen() {
	local text
	sl_slurp text "$1"
	local rest=${text//"$2"/}
	(((${#text} - ${#rest}) >= ${3:-1} * ${#2}))
}

@test "student: make hint shows the lab's hints one at a time, remembers the last, and starts again after it" {
	local doc=$SOCKLAB_TOP/docs/05-accept.md first n
	first=$(awk '/^## Hints/ { h = 1; next } /^## / { h = 0 } h && /^- / { sub(/^- /, ""); print; exit }' "$doc")
	n=$(awk '/^## Hints/ { h = 1; next } /^## / { h = 0 } h && /^- /' "$doc" | wc -l)
	export HINT_STATE_DIR=$BATS_TEST_TMPDIR/hints LANG=C LC_ALL= LC_MESSAGES= HINT_LANG=
	run_prog make -s -C "$SOCKLAB_TOP" hint LAB=5
	assert_success
	assert_output --partial "Hint 1 of $n for 05-accept"
	assert_output --partial "1. $first"
	run_prog "$STUDENT/hint.sh" 05
	assert_output --partial "Hint 2 of $n for 05-accept"
	refute_output --partial "$first"
	echo $((n - 1)) >"$HINT_STATE_DIR/05-accept" # as if hints 3 .. n-1 had been shown too
	run_prog "$STUDENT/hint.sh" 05-accept
	assert_output --partial "Hint $n of $n"
	assert_output --partial "That was the last hint"
	run_prog "$STUDENT/hint.sh" 05-accept
	assert_output --partial "Hint 1 of $n"
}

@test "student: make hint ALL=1 shows every hint; HINT_LANG=zh or a zh_CN locale shows the Chinese handout's" {
	export HINT_STATE_DIR=$BATS_TEST_TMPDIR/hints LC_ALL= LC_MESSAGES=
	local n zh_first
	n=$(awk '/^## Hints/ { h = 1; next } /^## / { h = 0 } h && /^- /' "$SOCKLAB_TOP/docs/08-close.md" | wc -l)
	zh_first=$(awk '/^## Hints/ { h = 1; next } /^## / { h = 0 } h && /^- / { sub(/^- /, ""); print; exit }' \
		"$SOCKLAB_TOP/docs/zh/08-close.md")
	LANG=C run_prog make -s -C "$SOCKLAB_TOP" hint LAB=08 ALL=1
	assert_success
	assert_output --partial "All $n hints for 08-close"
	assert_equal "$(grep -cE '^ +[0-9]+\. ' <<<"$output")" "$n"
	# After ALL=1 the next one is the first again.
	LANG=C HINT_LANG=zh run_prog "$STUDENT/hint.sh" 08-close
	assert_output --partial "08-close 的提示 1/$n（来自 docs/zh/08-close.md）"
	assert_output --partial "1. $zh_first"
	LANG=zh_CN.UTF-8 run_prog "$STUDENT/hint.sh" 08-close
	assert_output --partial "08-close 的提示 2/$n"
	run_prog "$STUDENT/hint.sh" 99
	assert_failure 2
	assert_stderr --partial "LAB=99: no such lab; the labs are: 01-sockaddr "
}

@test "student: make next names the first lab not passing, its first failing test, expected vs actual, where to read" {
	fresh_tree student-next
	cp -r "$SOCKLAB_TOP/labs/01-sockaddr" "$SOCKLAB_TOP/labs/02-socket" "$TREE/"
	local name
	name=$(sed -nE 's/^@test "(.*)" \{$/\1/p' "$SOCKLAB_TOP/tests/02-socket.bats" | sed -n 2p)
	# Results as make check leaves them, newer than the lab's files: used as they are.
	printf '1..1\nok 1 01-sockaddr: fine\n' >"$RESULTS/01-sockaddr.tap"
	echo "1 1 10 10" >"$RESULTS/01-sockaddr.result"
	printf '%s\n' '1..2' 'ok 1 02-socket: the first' "not ok 2 $name" \
		"# (from function \`assert_errno' in file tests/lib/socklab.bash, line 1," '# $ socket 12345 stream' \
		'# exit status 0' '# -- output differs --' '# expected : socket: socket: EAFNOSUPPORT (...)' \
		'# actual   : socket(12345, SOCK_STREAM, 0) = fd 3' '# --' 'not ok 3 02-socket: another' '# not shown' \
		>"$RESULTS/02-socket.tap"
	echo "1 3 3 10" >"$RESULTS/02-socket.result"
	run_prog make -s -C "$SOCKLAB_TOP" next TREE="$TREE"
	assert_success
	refute_output --partial "checking"
	assert_output --partial "Next: 02-socket"
	assert_output --partial "1 of 3 tests pass"
	assert_output --partial "first failing test: $name"
	assert_output --partial "expected : socket: socket: EAFNOSUPPORT"
	assert_output --partial "actual   : socket(12345"
	refute_output --partial "from function"
	refute_output --partial "not shown"
	assert_output --regexp "read: +docs/02-socket.md:[0-9]+ +中文: docs/zh/02-socket.md:[0-9]+"
	assert_output --partial "docs/errno.md: EAFNOSUPPORT"
	assert_output --partial "make hint LAB=02"
}

@test "student: make next checks a lab again when its files changed since its last results" {
	tiny_kit
	fresh_tree student-recheck
	mkdir -p "$TREE/01-sockaddr" "$TREE/02-socket"
	cp "$SOCKLAB_TOP/solutions/01-sockaddr/sockaddr.c" "$TREE/01-sockaddr/"
	echo '/* good */' >>"$TREE/01-sockaddr/sockaddr.c"
	echo 'int x; /* not yet */' >"$TREE/02-socket/socket.c"
	# 01 failed a minute ago, and has been edited since: stale. 02's failure is fresh.
	printf '1..1\nnot ok 1 01-sockaddr: the file says good\n' >"$RESULTS/01-sockaddr.tap"
	echo "0 1 0 10" >"$RESULTS/01-sockaddr.result"
	touch -d '1 minute ago' "$RESULTS/01-sockaddr.tap" "$RESULTS/01-sockaddr.result"
	printf '1..1\nnot ok 1 02-socket: the file says good\n' >"$RESULTS/02-socket.tap"
	echo "0 1 0 10" >"$RESULTS/02-socket.result"
	run_prog -t 40 make -s -C "$SOCKLAB_TOP" next TREE="$TREE"
	assert_success
	assert_output --partial "checking 01-sockaddr"
	refute_output --partial "checking 02-socket"
	assert_output --partial "Next: 02-socket"
	assert_equal "$(cut -d' ' -f1,2 "$RESULTS/01-sockaddr.result")" "1 1"
}

# bats test_tags=slow
@test "student: make watch checks the lab again when a file of it changes; Ctrl-C ends it and all it started" {
	tiny_kit
	fresh_tree student-watch
	mkdir -p "$TREE/01-sockaddr"
	cp "$SOCKLAB_TOP/solutions/01-sockaddr/sockaddr.c" "$TREE/01-sockaddr/"
	local out=$BATS_TEST_TMPDIR/watch.out
	start_session "$out" make -s -C "$SOCKLAB_TOP" watch LAB=01 TREE="$TREE"
	wait_for 30 seen "$out" '== waiting for a change' || fail "no first check within 30 s: $(cat "$out")"
	local result=$RESULTS/01-sockaddr.result
	[[ $(cut -d' ' -f1,2 "$result") == "0 1" ]] || fail "the first check did not run: $(cat "$out")"
	echo '/* good */' >>"$TREE/01-sockaddr/sockaddr.c"
	wait_for 30 seen "$out" '== waiting for a change' 2 || fail "no second check within 30 s: $(cat "$out")"
	[[ $(cut -d' ' -f1,2 "$result") == "1 1" ]] || fail "the second check did not see the change: $(cat "$out")"
	# Ctrl-C: SIGINT to the terminal's foreground group, here the session's.
	kill -INT -- "-$bg_pid"
	wait_for 15 no_session "$bg_pid" || fail "still running 15 s after SIGINT: $(session_procs "$bg_pid")"
	cat "$out"
	assert_equal "$(grep -c '== run ' "$out")" 2
	grep -q 'watch: stopped' "$out" || fail "watch did not say it stopped"
}

# bats test_tags=slow
@test "student: make watch without inotifywait looks every WATCH_POLL s; SIGINT during a check stops the check too" {
	tiny_kit
	fresh_tree student-poll
	mkdir -p "$TREE/01-sockaddr"
	cp "$SOCKLAB_TOP/solutions/01-sockaddr/sockaddr.c" "$TREE/01-sockaddr/"
	local out=$BATS_TEST_TMPDIR/watch.out
	WATCH_INOTIFY=no WATCH_POLL=0.2 TREE_DIR=$TREE start_session "$out" "$STUDENT/watch.sh" 01
	wait_for 30 seen "$out" '== waiting for a change' || fail "no first check within 30 s: $(cat "$out")"
	grep -q 'a look every 0.2 s' "$out" || fail "not in polling mode: $(cat "$out")"
	echo '/* slow */' >>"$TREE/01-sockaddr/sockaddr.c"
	wait_for 10 seen "$out" '== run 2' || fail "the change was not seen within 10 s: $(cat "$out")"
	wait_for 20 test -e "$TREE/hanging" || fail "the second check did not reach its hanging test: $(cat "$out")"
	# The second check is running (make, check.sh, bats under timeout, a test that hangs): SIGINT to
	# the watcher alone.
	kill -INT "$bg_pid"
	wait_for 20 no_session "$bg_pid" || fail "still running 20 s after SIGINT: $(session_procs "$bg_pid")"
	cat "$out"
	grep -q 'watch: stopped' "$out" || fail "watch did not say it stopped"
}

@test "student: make reset keeps the student's file as FILE.bak-DATE and restores the starter, after asking" {
	local tree=$BATS_TEST_TMPDIR/labs f
	mkdir -p "$tree/03-bind"
	f=$tree/03-bind/bind.c
	echo "/* my work */" >"$f"
	export TREE_DIR=$tree
	run_prog bash -c 'echo n | "$0" 03' "$STUDENT/reset.sh"
	assert_failure
	assert_output --partial "Nothing changed"
	assert_equal "$(cat "$f")" "/* my work */"
	run_prog "$STUDENT/reset.sh" 03 </dev/null
	assert_failure
	assert_equal "$(cat "$f")" "/* my work */"
	run_prog make -s -C "$SOCKLAB_TOP" reset LAB=03 TREE="$tree" YES=1
	assert_success
	cmp "$f" "$SOCKLAB_TOP/labs/03-bind/bind.c" || fail "bind.c is not the starter after make reset"
	local backups=("$f".bak-*)
	assert_equal "${#backups[@]}" 1
	assert_equal "$(cat "${backups[0]}")" "/* my work */"
	run_prog make -s -C "$SOCKLAB_TOP" reset LAB=03 TREE="$tree" YES=1
	assert_output --partial "nothing to do"
	run_prog make -s -C "$SOCKLAB_TOP" reset LAB=03 TREE=solutions YES=1
	assert_failure
}

@test "student: make reset in a student's copy (no solutions/) restores from the copy's pristine starters" {
	# The student's kit: tools/lib.sh, tools/student/ and the manifest, no solutions/, no mkstarter.
	local kit=$BATS_TEST_TMPDIR/copy
	mkdir -p "$kit/tools" "$kit/labs/06-connect"
	cp -r "$STUDENT" "$SOCKLAB_TOP/tools/lib.sh" "$kit/tools/"
	cp "$SOCKLAB_TOP/labs/manifest" "$kit/labs/"
	echo "/* mine */" >"$kit/labs/06-connect/connect.c"
	run_prog env -u TREE_DIR YES=1 "$kit/tools/student/reset.sh" 06
	assert_failure
	assert_stderr --partial "no pristine starter"
	mkdir -p "$kit/tests/starters/06-connect"
	cp "$SOCKLAB_TOP/labs/06-connect/connect.c" "$kit/tests/starters/06-connect/"
	run_prog env -u TREE_DIR YES=1 "$kit/tools/student/reset.sh" 06
	assert_success
	assert_output --partial "tests/starters/06-connect"
	cmp "$kit/labs/06-connect/connect.c" "$SOCKLAB_TOP/labs/06-connect/connect.c"
	grep -qx '/\* mine \*/' "$kit"/labs/06-connect/connect.c.bak-*
}

@test "student: make trace LAB=06 shows the program's system calls and its SYN, SYN-ACK, ACK and FIN exchange" {
	command -v strace >/dev/null || skip "needs strace (Debian/Ubuntu: apt install strace)"
	command -v tcpdump >/dev/null || skip "needs tcpdump (Debian/Ubuntu: apt install tcpdump)"
	need_userns
	unshare -n --map-user=65534 --map-group=65534 --keep-caps true 2>/dev/null ||
		unshare -n -c --keep-caps true 2>/dev/null || skip "needs unshare --keep-caps (util-linux >= 2.38)"
	run_prog -t 50 make -s -C "$SOCKLAB_TOP" trace LAB=06 TREE=solutions
	assert_success
	assert_output --partial "a private network namespace"
	assert_output --regexp "connect\(3, \{sa_family=AF_INET, sin_port=htons\([0-9]+\), sin_addr=inet_addr\(\"127.0.0.1\"\)\}, 16\) = 0"
	refute_output --regexp "^ *bind\("
	local flow='client SYN, server SYN-ACK, client ACK, client data, server ACK, server data, client ACK, server FIN, client FIN, server ACK'
	assert_output --partial "$flow"
	assert_output --partial "the three-way handshake (SYN, SYN-ACK, ACK); the FIN exchange"
	assert_output --partial "client SYN, server RST"
	[[ -s $SOCKLAB_TOP/build/trace/solutions/06-connect/packets.pcap ]] || fail "no capture file kept"
}

@test "student: make trace without a scenario tries the lab's programs as servers; outside a namespace it captures nothing" {
	# A lab with no scenario of its own (99-nonesuch), whose programs are lab 05's.
	local bin
	make -s -C "$SOCKLAB_TOP" bins LAB=05 TREE=solutions >/dev/null
	bin=$(make -s --no-print-directory -C "$SOCKLAB_TOP" print-out TREE=solutions)/05-accept
	TRACE_NAMESPACE=no LAB_BIN=$bin TREE_DIR=$SOCKLAB_TOP/solutions run_prog -t 50 \
		"$SOCKLAB_TOP/tools/student/trace.sh" 99-nonesuch
	assert_success
	assert_output --partial "No scenario written for 99-nonesuch"
	assert_output --regexp "accept .*0 &"
	assert_output --partial "probe connect 127.0.0.1"
	assert_output --regexp "accept\(3, \{sa_family=AF_INET, sin_port=htons\([0-9]+\), sin_addr=inet_addr\(\"127.0.0.1\"\)\}, \[16\]\) = 4"
	assert_output --partial "network:      this machine's loopback, 127.0.0.1 only"
	assert_output --partial "not shown:    the packets: no private network namespace (TRACE_NAMESPACE=no)"
	refute_output --partial "== the packets"
	rm -rf "$SOCKLAB_TOP/build/trace/solutions/99-nonesuch"
	run_prog make -s -C "$SOCKLAB_TOP" trace
	assert_failure
	assert_stderr --partial "make trace needs LAB=NN"
}
