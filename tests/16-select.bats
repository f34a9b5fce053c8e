#!/usr/bin/env bats
# 16-select: one process, many clients, with select() and with poll() (mux_sv -p). Most tests run
# the same scene against both. The clients are the kit's probe; what the server did is read from
# the kernel: ss for the queues of each connection (bytes the server has read, bytes it has sent
# back), /proc/PID/fd for the descriptors it holds, /proc/PID/task and the process table for its
# threads and children, /proc/PID/stat for the CPU it burns while idle, strace for the calls.
load lib/socklab
load lib/calls

setup_file() { lab_setup_file 16-select; }
setup() {
	lab_setup
	command -v ss >/dev/null || skip "needs ss (iproute2) to see the connections' queues"
}
teardown() { lab_teardown; }

LO=127.0.0.1
DOC=docs/16-select.md

# server MODE [WRAP...]: mux_sv on $LO, port 0, as background "sv"; MODE select (no flag) or poll
# (-p). WRAP, if given, is a command that runs it (ending in exec "$0" "$@"). Sets $svport, $mode.
server() {
	mode=$1
	shift
	local flag=()
	[[ $mode == poll ]] && flag=(-p)
	echo "--- the $mode server ---"
	start_bg sv "$@" "$LAB_BIN/mux_sv" "${flag[@]}" "$LO" 0
	svport=$sv_port
	[[ -n $svport ]] || fail "the server's first line names no port: expected \"listening on $LO port N, ...\""
	# It must then wait (asleep) for its first client, not end.
	wait_until dead_or asleep "$sv_pid" || true
	alive "$sv_pid" || sv_fail "the $mode server ended right after its first line, before any client came"
}

# Is process $1 alive (not gone, not a zombie)?
alive() {
	local st
	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" && [[ $st != Z ]]
}

# sv_fail TEXT [SECTION]: fail with TEXT, after the server's output so far and the kernel's view of
# its connections; SECTION: the handout's section to read.
sv_fail() {
	local out err
	sl_slurp out "$BATS_TEST_TMPDIR/sv.out"
	sl_slurp err "$BATS_TEST_TMPDIR/sv.err"
	echo "the $mode server's stdout so far (last 15 lines):"
	sl_indent "$(tail -n 15 <<<"$out")"
	echo "its stderr:"
	sl_indent "$(tail -n 15 <<<"$err")"
	echo "the kernel's view of the connections on port $svport (ss -tan, at most 15):"
	sl_indent "$(ss -Htan "( sport = :$svport or dport = :$svport )" | head -n 15)"
	alive "$sv_pid" || echo "the server (pid $sv_pid) has ended"
	fail "$1${2:+. Read $DOC, \"$2\" (中文: docs/zh/16-select.md)}"
}

# wait_sv TEXT [SECTION]: wait (bounded) until the server has printed TEXT; a server that dies on the
# way is reported at once, with its exit status and stderr.
said_or_died() { grep -qF -- "$1" "$BATS_TEST_TMPDIR/sv.out" || ! alive "$sv_pid"; }
wait_sv() {
	wait_until said_or_died "$1" || true
	grep -qF -- "$1" "$BATS_TEST_TMPDIR/sv.out" && return 0
	sv_fail "the $mode server did not print \"$1\"$(alive "$sv_pid" && echo " within $SOCKLAB_TIMEOUT s" || echo ": it died")" "$2"
}

# dead_or CMD...: the server has ended, or CMD succeeds.
dead_or() { ! alive "$sv_pid" || "$@"; }

# await TEXT SECTION CMD...: wait (bounded) until CMD succeeds; fail with TEXT if it never does, or
# at once if the server dies first.
await() {
	local text=$1 section=$2
	shift 2
	wait_until dead_or "$@" || true
	alive "$sv_pid" || sv_fail "the $mode server died: $text" "$section"
	"$@" || sv_fail "$text" "$section"
}

# ask MSG WHY SECTION: a client (probe connect) sends the line MSG and half-closes; within 3 s it
# must get exactly MSG back, then the server's EOF. WHY: what it means if it waits. $asked: its port.
ask() {
	local out=$BATS_TEST_TMPDIR/ask.out err=$BATS_TEST_TMPDIR/ask.err rc=0
	(
		sl_close_fds
		exec timeout -k 1 3 "$PROBE" connect "$LO" "$svport" "$1" >"$out" 2>"$err"
	) || rc=$?
	sl_slurp output "$out"
	sl_slurp stderr "$err"
	printf '$ probe connect %s %s "%s"\nexit status %s\n' "$LO" "$svport" "$1" "$rc"
	sl_show_result
	asked=$(last_word "${lines[0]:-}")
	if [[ $rc == 124 || $rc == 137 ]]; then
		sv_fail "a client that sent the line \"$1\" got no echo and no EOF within 3 s: $2" "$3"
	fi
	alive "$sv_pid" || sv_fail "the $mode server died while a client sent \"$1\"" "$3"
	[[ $rc == 0 && ${lines[2]:-} == "$1" && ${#lines[@]} == 3 ]] ||
		sv_fail "a client that sent the line \"$1\" and half-closed should get exactly that line back, then EOF (the server closes after the echo is out)" "$3"
}

# The last word of a line ("local 127.0.0.1 41234": the port).
last_word() { echo "${1##* }"; }

# q LOCAL PEER: "RECVQ SENDQ" of the TCP socket from local port LOCAL to peer port PEER (empty if none).
q() { ss -Htn "( sport = :$1 and dport = :$2 )" | awk '{ print $2, $3; exit }'; }
# recvq_is LOCAL PEER N: that socket has exactly N bytes in its receive queue.
recvq_is() {
	local r
	read -r r _ < <(q "$1" "$2")
	[[ $r == "$3" ]]
}
# both_stuck A B: the connection between ports A and B has bytes waiting to go in both directions
# (Send-Q > 0 at both ends): each side has stopped reading what the other sends.
both_stuck() {
	local s1 s2
	read -r _ s1 < <(q "$1" "$2")
	read -r _ s2 < <(q "$2" "$1")
	[[ -n $s1 && -n $s2 ]] && ((s1 > 0 && s2 > 0))
}

# Is there a TCP socket in STATE from local port $2 to peer port $3?
in_state() { [[ -n $(ss -Htn state "$1" "( sport = :$2 and dport = :$3 )") ]]; }

# nfds PID: how many descriptors PID holds; fd_list PID: them, for the report. (One process each:
# bats traces every command a test's shell runs, so loops in bash are slow.)
nfds() { ls "/proc/$1/fd" | wc -l; }
fds_are() { [[ $(nfds "$1") == "$2" ]]; }
fd_list() { sl_indent "$(ls -l "/proc/$1/fd" 2>&1 | awk 'NR > 1 { print $(NF - 2), $(NF - 1), $NF }' | head -n 20)"; }

# kids PID: the pids of PID's children, from the process table (the 4th field of /proc/P/stat,
# counted after the command name in parentheses, which may hold spaces).
kids() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$1" '{ s = $0; sub(/^.*\) /, "", s); split(s, a, " ") }
		a[2] == p { printf "%s ", $1 }'
	return 0
}

# one_thread_no_child PID HOW: PID is one thread and has no child process; HOW: the clients it has.
one_thread_no_child() {
	local n k
	n=$(ls "/proc/$1/task" | wc -l)
	k=$(kids "$1")
	k=${k% }
	echo "the server (pid $1) with $2: $n thread(s), children: ${k:-none}"
	((n == 1)) || sv_fail "the server runs $n threads: one process and one thread must serve every client (no thread per client)" "One process, many clients"
	[[ -z $k ]] || sv_fail "the server has child processes ($k): one process must serve every client (no fork)" "One process, many clients"
}

# ticks PID: CPU time PID has used so far (utime + stime, in clock ticks).
ticks() {
	local s a
	read -r s <"/proc/$1/stat"
	read -ra a <<<"${s##*) }"
	echo $((a[11] + a[12]))
}

# pause S: wait S seconds (a blocking read on a private FIFO: no sleep process).
pause() {
	local fifo=$BATS_TEST_TMPDIR/.pause fd
	[[ -p $fifo ]] || mkfifo "$fifo"
	exec {fd}<>"$fifo"
	read -rt "$1" -u "$fd" _ || true
	exec {fd}<&-
}

# Is process $1 asleep (state S)?
asleep() {
	local st
	read -r _ _ st _ <"/proc/$1/stat" 2>/dev/null && [[ $st == S ]]
}

@test "16-select: the server echoes a client's line, then closes its side once the echo is out, after the client's half-close (select and poll)" {
	local m
	for m in select poll; do
		server "$m"
		ask "hello, many clients" "the server did not answer at all" "EOF and half-close: close after the echo"
		wait_sv "client 1: echoed 20 bytes, then EOF" "EOF and half-close: close after the echo"
		grep -qE "^client 1: fd [0-9]+, peer $LO port $asked\$" "$BATS_TEST_TMPDIR/sv.out" ||
			sv_fail "expected \"client 1: fd F, peer $LO port $asked\": the probe's own port"
		# A last line without a newline: it goes back at the EOF, before the server closes.
		start_bg last "$PROBE" split "$LO" "$svport" "no newline at the end"
		wait_exit last
		[[ ${lines[-1]} == 'reply "no newline at the end" then EOF' ]] ||
			sv_fail "a client that sent \"no newline at the end\" and half-closed should get it back, then EOF: after the EOF, what is left goes back before the server closes" "EOF and half-close: close after the echo"
		stop_bg sv
	done
}

@test "16-select: an idle client does not hold up another client's line (select and poll)" {
	local m idle
	for m in select poll; do
		server "$m"
		start_bg idle "$PROBE" hold "$LO" "$svport"
		idle=$idle_port
		wait_sv "client 1: fd"
		ask "not kept waiting" "the server waits for the first client, which is connected but sends nothing (a read() or accept() on a socket select() or poll() did not report ready? the sets not armed again each round?)" \
			"select(): sets in, sets out"
		wait_sv "client 2: echoed 17 bytes, then EOF"
		in_state established "$idle" "$svport" ||
			sv_fail "the idle client's connection should still be there, untouched"
		# The idle client leaves without a byte: EOF, nothing to echo, closed.
		stop_bg idle
		wait_sv "client 1: echoed 0 bytes, then EOF" "EOF and half-close: close after the echo"
		stop_bg sv
	done
}

@test "16-select: readiness is not completion: a line sent in pieces is kept while another client is served, and comes back whole (select and poll)" {
	local m a sect="Readiness is not completion"
	for m in select poll; do
		server "$m"
		# Client 1 sends "hel" and waits for SIGUSR1 before each next piece.
		start_bg a "$PROBE" split "$LO" "$svport" "hel" "lo, wor" $'ld\nsecond line\nthi' $'rd\n'
		a=$a_port
		# The server has read the piece once the kernel holds none of it for the server.
		await "the server did not read the first piece (\"hel\") of client 1's line within $SOCKLAB_TIMEOUT s" "$sect" \
			eval 'grep -qF "client 1: fd" "$BATS_TEST_TMPDIR/sv.out" && recvq_is "$svport" "$a" 0'
		ask "meanwhile, another client" "the server waits for the rest of client 1's line (a loop of read() until a newline blocks every client)" "$sect"
		wait_sv "client 2: echoed 26 bytes, then EOF" "$sect"
		recvq_is "$a" "$svport" 0 ||
			sv_fail "client 1 sent \"hel\" (no newline) and got back $(q "$a" "$svport" | cut -d' ' -f1) bytes: a line goes back only once it is whole" "$sect"
		kill -USR1 "$a_pid"
		wait_output a "sent part 2"
		kill -USR1 "$a_pid"
		wait_output a "sent part 3"
		# "hello, world\nsecond line\n" (25 bytes) are whole lines: they go back; "thi" waits.
		await "after \"lo, wor\" and \"ld\\nsecond line\\nthi\", client 1 should have the 25 bytes of its two whole lines back, no more" "$sect" \
			recvq_is "$a" "$svport" 25
		kill -USR1 "$a_pid"
		wait_exit a
		assert_success
		[[ ${lines[-1]} == 'reply "hello, world\nsecond line\nthird\n" then EOF' ]] ||
			sv_fail "client 1 sent \"hel\", \"lo, wor\", \"ld\\nsecond line\\nthi\", \"rd\\n\" and half-closed: it should get back \"hello, world\\nsecond line\\nthird\\n\", then EOF" "$sect"
		wait_sv "client 1: echoed 31 bytes, then EOF" "$sect"
		stop_bg sv
	done
}

# slow_bytes: $n = how much a client that reads nothing (probe stream -p) sends so that the server
# stops reading it too: more than the server's send queue and the client's receive queue can hold
# (the largest send buffer, tcp_wmem's third figure, and a receive buffer's first size, tcp_rmem's
# second). Skips where that is too much for the time of a test.
slow_bytes() {
	local wmem rmem
	read -r _ _ wmem </proc/sys/net/ipv4/tcp_wmem
	read -r _ rmem _ </proc/sys/net/ipv4/tcp_rmem
	n=$((wmem + rmem + 65536))
	echo "tcp_wmem max $wmem, tcp_rmem default $rmem: the slow client sends $n bytes"
	((n <= 33554432)) || skip "this machine's TCP buffers are too large to fill in the time of a test (tcp_wmem max $wmem)"
}

@test "16-select: a client that reads nothing back does not stall the others: no send() waits (select and poll)" {
	local m slow sect="Never wait in a round: a send() that does not block" n
	# probe stream -p sends n bytes and reads nothing until SIGUSR1: the server's echo to it fills
	# the probe's receive queue and the server's send queue, and the server stops reading it.
	slow_bytes
	for m in select poll; do
		server "$m"
		start_bg slow "$PROBE" stream -p "$LO" "$svport" "$n"
		slow=$slow_port
		await "the slow client's connection should fill up both ways (Send-Q > 0 at both ends) within $SOCKLAB_TIMEOUT s" "$sect" \
			both_stuck "$slow" "$svport"
		ask "still served" "the server is stuck sending to a client that does not read (a send() that waits for room? use MSG_DONTWAIT)" "$sect"
		wait_sv "client 2: echoed 13 bytes, then EOF" "$sect"
		# Let it read: all 4 MB must come back.
		kill -USR1 "$slow_pid"
		wait_exit slow
		assert_success
		assert_line "sent $n bytes, received $n bytes, then EOF"
		wait_sv "client 1: echoed $n bytes, then EOF" "$sect"
		stop_bg sv
	done
}

@test "16-select: one process, one thread: all the connections are the server's own descriptors, no child, no thread (select and poll)" {
	local m base
	for m in select poll; do
		server "$m"
		base=$(nfds "$sv_pid")
		start_bg c1 "$PROBE" hold "$LO" "$svport"
		start_bg c2 "$PROBE" hold "$LO" "$svport"
		start_bg c3 "$PROBE" hold "$LO" "$svport"
		wait_sv "client 3: fd" "One process, many clients"
		echo "the server's descriptors with 3 clients connected:"
		fd_list "$sv_pid"
		fds_are "$sv_pid" $((base + 3)) ||
			sv_fail "with 3 clients connected the server should hold its $base descriptors and one socket per client: $((base + 3)), not $(nfds "$sv_pid")" "One process, many clients"
		one_thread_no_child "$sv_pid" "3 clients connected"
		ask "a fourth client" "the server does not serve a fourth client while three are connected" "One process, many clients"
		one_thread_no_child "$sv_pid" "3 clients connected and a fourth served"
		stop_bg sv
	done
}

@test "16-select: after its clients have left, the server holds only its listening socket again and sleeps: closed descriptors are out of the set (select and poll)" {
	local m base t0 t1 i sect="EOF and half-close: close after the echo"
	for m in select poll; do
		server "$m"
		base=$(nfds "$sv_pid")
		echo "the server's descriptors at the start: $base"
		fd_list "$sv_pid"
		# Three clients one after another, each 5000 bytes both ways, then one that stays while
		# another comes and goes, then leaves too.
		run_prog "$PROBE" stream -n 3 "$LO" "$svport" 5000
		alive "$sv_pid" || sv_fail "the $mode server died while clients came and went" "$sect"
		assert_success
		start_bg stay "$PROBE" hold "$LO" "$svport"
		ask "one more" "the server stopped serving after clients had left (is a closed descriptor still in the set?)" "$sect"
		stop_bg stay
		wait_sv "client 4: echoed 0 bytes, then EOF" "$sect"
		await "after all its clients have left, the server should hold its $base first descriptors again (the clients' sockets closed), not $(nfds "$sv_pid")" "$sect" \
			fds_are "$sv_pid" "$base"
		fd_list "$sv_pid"
		# Idle, it must sleep in select() or poll(), not spin on a closed descriptor (POLLNVAL):
		# asleep at five looks 10 ms apart, and next to no CPU used meanwhile.
		t0=$(ticks "$sv_pid")
		for i in 1 2 3 4 5; do
			asleep "$sv_pid" || break
			pause 0.01
		done
		t1=$(ticks "$sv_pid")
		echo "the idle server: asleep at $((i - 1)) of 5 looks, CPU used meanwhile: $((t1 - t0)) ticks of $(getconf CLK_TCK) a second"
		((i == 5 && t1 - t0 <= 2)) ||
			sv_fail "with no client left, the server should sleep in $mode(); it is busy instead (a closed descriptor still watched: poll() answers POLLNVAL at once, every time)" "$sect"
		ask "and one more" "the server stopped serving after clients had left" "$sect"
		stop_bg sv
	done
}

@test "16-select: a client that resets its connection is reported and dropped, the others are served on (select and poll)" {
	local m idle slow n sect="EOF and half-close: close after the echo"
	slow_bytes
	for m in select poll; do
		server "$m"
		start_bg idle "$PROBE" hold "$LO" "$svport"
		idle=$idle_port
		wait_sv "client 1: fd"
		# Client 2 resets while the server waits to read from it: the reset meets read().
		run_prog "$PROBE" rst "$LO" "$svport"
		assert_success
		wait_sv "client 2: dropped after 0 bytes" "$sect"
		# Client 3 reads nothing until the server has stopped reading it (its buffer full of
		# echo to send), then is killed: its kernel resets the connection (unread bytes), and
		# the server, which waits to send to it, meets the reset in send().
		start_bg slow "$PROBE" stream -p "$LO" "$svport" "$n"
		slow=$slow_port
		await "the slow client's connection should fill up both ways (Send-Q > 0 at both ends) within $SOCKLAB_TIMEOUT s" "$sect" \
			both_stuck "$slow" "$svport"
		kill -KILL "$slow_pid"
		wait_sv "client 3: dropped after" "$sect"
		ask "after the resets" "the server stopped serving after a client reset" "$sect"
		in_state established "$idle" "$svport" || sv_fail "the idle client's connection should still be there, untouched"
		stop_bg sv
		[[ ${#stderr_lines[@]} == 2 && ${stderr_lines[0]} =~ ^mux_sv:\ read:\ ECONNRESET\ \( &&
			${stderr_lines[1]} =~ ^mux_sv:\ send:\ (ECONNRESET|EPIPE)\ \( ]] ||
			fail "expected exactly two lines on the server's stderr: \"mux_sv: read: ECONNRESET (...)\" (client 2), then \"mux_sv: send: ECONNRESET (...)\" (client 3): each failure reported once, by the call that met it, and that client dropped at once"
		[[ $(grep -c '^client 2: ' <<<"$output") == 2 && $(grep -c '^client 3: ' <<<"$output") == 2 ]] ||
			fail "expected two lines about client 2 and two about client 3 (fd and peer, dropped): a failed call ends that client at once"
	done
}

@test "16-select: a signal while the server waits in select() or poll() costs nothing: EINTR starts the round again" {
	local m i
	for m in select poll; do
		server "$m"
		start_bg idle "$PROBE" hold "$LO" "$svport"
		wait_sv "client 1: fd"
		for i in 1 2 3; do
			await "the server should wait, asleep, in $m()" "Signals: EINTR in select() and poll()" asleep "$sv_pid"
			kill -USR1 "$sv_pid"
		done
		ask "after three signals" "the server did not go back to waiting after a signal" "Signals: EINTR in select() and poll()"
		stop_bg sv
		[[ $status == 0 && -z $stderr ]] ||
			fail "SIGUSR1 (three times, the server asleep in $m()) should cost nothing: nothing on stderr, exit status 0 on SIGTERM (EINTR: start the round again)"
		stop_bg idle
	done
}

# need_fds N: skip unless the hard limit of open files allows N.
need_fds() {
	local hard
	hard=$(ulimit -Hn)
	[[ $hard == unlimited ]] || ((hard >= $1)) ||
		skip "needs a hard limit of at least $1 open files to push a descriptor past FD_SETSIZE (1024); ulimit -Hn is $hard here"
}

# past_fd_setsize MODE: the server (soft limit of open files 1100) with every descriptor below 1024
# taken by a client of probe many ("many": N connections, each echoes a line); the next client's
# descriptor is 1024.
past_fd_setsize() {
	need_fds 1100
	# shellcheck disable=SC2016 # $0 and $@ are the inner shell's
	server "$1" bash -c 'ulimit -n 1100 && exec "$0" "$@"'
	local base top
	base=$(nfds "$sv_pid")
	start_bg many "$PROBE" many "$LO" "$svport" $((1024 - base))
	[[ $many_line == *"each echoed a line" ]] || fail "probe many did not get its connections echoed"
	top=$(ls "/proc/$sv_pid/fd" | sort -n | tail -n 1)
	echo "the server holds $(nfds "$sv_pid") descriptors, the highest $top"
	[[ $top == 1023 ]] ||
		sv_fail "with $((1024 - base)) clients more the server's descriptors should fill 0 to 1023, the highest is $top" "FD_SETSIZE: the wall select() hits"
}

@test "16-select: above FD_SETSIZE: the select() server refuses a client whose descriptor is 1024 or more, with a message, and serves the others on" {
	local over sect="FD_SETSIZE: the wall select() hits"
	past_fd_setsize select
	start_bg over "$PROBE" hold "$LO" "$svport"
	over=$over_port
	wait_sv "fd 1024 >= FD_SETSIZE (1024)" "$sect"
	# Refused: closed at once, so the client's socket has the server's FIN (CLOSE-WAIT).
	await "the refused client's connection should be closed by the server (the client in CLOSE-WAIT)" "$sect" \
		in_state close-wait "$over" "$svport"
	[[ ! -e /proc/$sv_pid/fd/1024 ]] || sv_fail "the server still holds descriptor 1024 after refusing it" "$sect"
	# The 1020 others still work, every one.
	kill -USR1 "$many_pid"
	wait_output many "connections echoed again"
	alive "$sv_pid" || sv_fail "the server died" "$sect"
	stop_bg sv
	[[ -z $stderr ]] || fail "refusing a client is not an error of a call: nothing on stderr"
}

@test "16-select: poll() has no FD_SETSIZE wall: the poll() server serves a client on descriptor 1024" {
	past_fd_setsize poll
	ask "beyond FD_SETSIZE" "the poll() server did not serve a client on descriptor 1024" "poll(): an array instead of sets"
	grep -qF "fd 1024, peer $LO port $asked" "$BATS_TEST_TMPDIR/sv.out" ||
		sv_fail "expected the server to take that client on descriptor 1024 (\"client 1021: fd 1024, peer $LO port $asked\")" "poll(): an array instead of sets"
	kill -USR1 "$many_pid"
	wait_output many "connections echoed again"
}

@test "16-select: the select() server waits in select() and the poll() server in poll(), one call for all its sockets (strace)" {
	need_strace
	local m trace want other
	for m in select poll; do
		trace=$BATS_TEST_TMPDIR/$m.strace
		server "$m" env ASAN_OPTIONS="$(sl_no_lsan)" strace -f -qq -o "$trace" -e trace=select,pselect6,poll,ppoll
		start_bg idle "$PROBE" hold "$LO" "$svport"
		wait_sv "client 1: fd"
		ask "traced" "the traced server did not answer"
		stop_bg idle
		stop_bg sv
		echo "strace -e trace=select,pselect6,poll,ppoll (last 6 lines):"
		sl_indent "$(tail -n 6 "$trace")"
		if [[ $m == select ]]; then
			want='p?select6?\([0-9]+, \[[0-9]+ [0-9]+' other='p?poll\('
		else
			want='p?poll\(\[\{fd=[0-9]+, [^}]*\}, \{fd=[0-9]+' other='p?select6?\('
		fi
		grep -qE "^([0-9]+ +)?$want" "$trace" ||
			fail "the $m server should wait in $m(), with the listening socket and the clients' in one call: strace shows no such $m()"
		! grep -qE "^([0-9]+ +)?$other" "$trace" ||
			fail "the $m server should not call the other one ($([[ $m == select ]] && echo poll || echo select))"
	done
}

@test "16-select: a failure of select() or poll() other than EINTR ends the server, reported (EINVAL injected by strace)" {
	need_strace
	run_prog env ASAN_OPTIONS="$(sl_no_lsan)" strace -f -qq -o /dev/null -e trace=select,pselect6 \
		-e inject=select,pselect6:error=EINVAL "$LAB_BIN/mux_sv" "$LO" 0
	assert_errno select EINVAL
	run_prog env ASAN_OPTIONS="$(sl_no_lsan)" strace -f -qq -o /dev/null -e trace=poll,ppoll \
		-e inject=poll,ppoll:error=EINVAL "$LAB_BIN/mux_sv" -p "$LO" 0
	assert_errno poll EINVAL
}

# bats test_tags=points:0
@test "16-select: mux_sv without arguments, with a bad option, address or port is a usage error, exit 2" {
	local args
	for args in "" "-p $LO" "-x $LO 0" "$LO 0 extra" "localhost 0" "$LO abc" "$LO 65536"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/mux_sv" $args
		assert_usage
	done
}

# Predictions (labs/16-select/predictions.md): the kit's probe runs each experiment on a loopback
# connection of its own; the kernel's answer in this run is the truth. A point each: the behaviours
# of the server share the rest.
# bats test_tags=points:1
@test "16-select: prediction P1: what select() reports for a socket whose peer has half-closed" {
	run_prog "$PROBE" mux halfclose
	assert_success
	local got=${lines[0]#select: *, } truth
	case $got in
	readable) truth="readable|readfds|read" ;;
	nothing) truth=nothing ;;
	*) truth=${got// /_} ;;
	esac
	expect_prediction P1 word "$truth" "${lines[0]}" "$DOC, \"EOF and half-close: close after the echo\" (中文: docs/zh/16-select.md)"
}

# bats test_tags=points:1
@test "16-select: prediction P2: what read() returns on that socket" {
	run_prog "$PROBE" mux halfclose
	assert_success
	[[ ${lines[2]:-} =~ ^read\ returned\ (-?[0-9]+)$ ]] || fail "the probe printed no \"read returned N\" line"
	expect_prediction P2 number "${BASH_REMATCH[1]}" "${lines[2]}" "$DOC, \"EOF and half-close: close after the echo\" (中文: docs/zh/16-select.md)"
}

# bats test_tags=points:1
@test "16-select: prediction P3: the revents poll() gives for that socket, events POLLIN" {
	run_prog "$PROBE" mux halfclose
	assert_success
	local rev=${lines[1]##* }
	expect_prediction P3 word "${rev//|/_}" "${lines[1]}" "$DOC, \"poll(): an array instead of sets\" (中文: docs/zh/16-select.md)"
}

# bats test_tags=points:1
@test "16-select: prediction P4: what select() does with a closed descriptor in its set" {
	run_prog "$PROBE" mux closed
	assert_success
	local e=none kind=word
	[[ ${lines[0]:-} =~ ^select:\ -1\ (E[A-Z0-9]+)$ ]] && e=${BASH_REMATCH[1]} kind=errno
	expect_prediction P4 "$kind" "$e" "${lines[0]}" "$DOC, \"EOF and half-close: close after the echo\" (中文: docs/zh/16-select.md)"
}

# bats test_tags=points:1
@test "16-select: prediction P5: the revents poll() gives for a closed descriptor in its array" {
	run_prog "$PROBE" mux closed
	assert_success
	local rev=${lines[1]##* }
	expect_prediction P5 word "${rev//|/_}" "${lines[1]}" "$DOC, \"poll(): an array instead of sets\" (中文: docs/zh/16-select.md)"
}
