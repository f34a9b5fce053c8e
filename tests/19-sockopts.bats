#!/usr/bin/env bats
# 19-sockopts: socket options that change what happens on the wire. The kit's probe is the other
# end of every connection and reports what its own reads saw (when a request became whole, how many
# bytes came, ECONNRESET); `ss -tin`/`ss -tmn` give the kernel's view of windows, buffers and states,
# /proc the state of a blocked writer, strace the options really set. Times are compared with times
# of the same run (ratios), never with a number fixed in advance.
load lib/socklab
load lib/calls

setup_file() { lab_setup_file 19-sockopts; }
setup() {
	lab_setup
	command -v ss >/dev/null || skip "needs ss (iproute2) to see the kernel's view of the connections"
}
teardown() { lab_teardown; }

LO=127.0.0.1
READ_NAGLE='docs/19-sockopts.md, "Nagle and the delayed ACK: write, write, read" (中文: docs/zh/19-sockopts.md)'
READ_LINGER='docs/19-sockopts.md, "SO_LINGER: how close() ends a connection that still has bytes to send" (中文: docs/zh/19-sockopts.md)'
READ_WINDOW='docs/19-sockopts.md, "SO_RCVBUF and the zero window" (中文: docs/zh/19-sockopts.md)'
READ_REUSE='docs/19-sockopts.md, "SO_REUSEPORT: several listeners on one port" (中文: docs/zh/19-sockopts.md)'
# Enough bytes to fill the receiver's small buffer and opts_cl's send buffer, which the kernel lets
# grow up to tcp_wmem's maximum (4 MiB here): twice that, and opts_cl must block.
read -r _ _ WMEM_MAX </proc/sys/net/ipv4/tcp_wmem
BIG=$((2 * WMEM_MAX))
((BIG >= 1000000)) || BIG=1000000

# The client's port from opts_cl's first line "connected from ADDR port P to ADDR port Q".
client_port() {
	[[ ${1:-} =~ ^connected\ from\ [0-9.]+\ port\ ([0-9]+)\ to ]] ||
		fail "expected opts_cl's first line to be \"connected from ADDR port P to ADDR port Q\""
	cport=${BASH_REMATCH[1]}
}

# The kernel's view (ss -tin) of the socket from port $1 to port $2, for the failure report.
show_sock() {
	echo "the kernel's socket from port $1 to port $2 (ss -tinm):"
	sl_indent "$(ss -Htinm "( sport = :$1 and dport = :$2 )")"
}

# The median of the numbers given.
median() {
	local s
	s=$(printf '%s\n' "$@" | sort -n)
	sed -n "$((($# + 1) / 2))p" <<<"$s"
}

# ---- Nagle and the delayed ACK ----

# nagle_run [-n]: opts_cl nagle [-n] against the probe as a server that answers each request once it
# has it whole; sets rounds_us (opts_cl's own rounds), cl_med (its median line) and gap_us (the
# probe's median time from a request's first byte to its newline).
nagle_run() {
	start_bg an "$PROBE" opts answer "$LO" 0
	run_prog "$LAB_BIN/opts_cl" nagle "$@" "$LO" "$an_port" 5
	assert_success
	local l want=off
	[[ ${1:-} == -n ]] && want=on
	rounds_us=()
	for l in "${lines[@]}"; do
		[[ $l =~ ^round\ [1-5]:\ ([0-9]+)\ us$ ]] && rounds_us+=("${BASH_REMATCH[1]}")
	done
	((${#rounds_us[@]} == 5)) || fail "expected five lines \"round K: U us\" from opts_cl nagle $* ... 5"
	[[ ${lines[6]:-} =~ ^median\ ([0-9]+)\ us\ \(TCP_NODELAY\ $want\)$ ]] ||
		fail "expected the last line \"median U us (TCP_NODELAY $want)\""
	cl_med=${BASH_REMATCH[1]}
	[[ $cl_med == "$(median "${rounds_us[@]}")" ]] ||
		fail "opts_cl's median $cl_med us is not the median of its five rounds (${rounds_us[*]})"
	wait_exit an
	[[ $status == 0 ]] || fail "the probe (the server) failed: see its stderr above"
	local k
	for k in 1 2 3 4 5; do
		assert_line --index $((k + 1)) --regexp "^request $k: 7 bytes in [0-9]+ reads, whole after [0-9]+ us$"
	done
	[[ ${lines[7]:-} =~ ^EOF\ after\ 5\ requests,\ median\ ([0-9]+)\ us$ ]] ||
		fail "the probe did not get five requests \"ping K\" and then EOF"
	gap_us=${BASH_REMATCH[1]}
}

@test "19-sockopts: write-write-read waits for the peer's delayed ACK with Nagle on; with TCP_NODELAY (-n) it does not: medians of one run differ by a clear ratio" {
	local rounds_us cl_med gap_us
	nagle_run
	local off_med=$cl_med off_gap=$gap_us
	nagle_run -n
	local on_med=$cl_med on_gap=$gap_us
	echo "Nagle on:  opts_cl's median round $off_med us; the probe saw each request whole $off_gap us after its first byte (median)"
	echo "TCP_NODELAY: opts_cl's median round $on_med us; the probe: $on_gap us"
	# A clear ratio, not a number: 5 times at least (about 40 ms against tens of µs on an idle machine;
	# a loaded one slows the short rounds most).
	((off_med >= 5 * on_med)) ||
		fail "with Nagle on, a round should take far longer (the delayed ACK) than with TCP_NODELAY: $off_med us vs $on_med us, not 5 times; read $READ_NAGLE"
	((off_gap >= 5 * on_med)) ||
		fail "with Nagle on, the second piece of a request should reach the probe only after the peer's delayed ACK ($off_gap us after the first), far later than a whole TCP_NODELAY round ($on_med us); read $READ_NAGLE"
	((on_gap * 5 <= off_gap)) ||
		fail "with TCP_NODELAY the second piece should follow the first at once: the probe saw it $on_gap us later (Nagle on: $off_gap us); is TCP_NODELAY set (TODO 19.1)? read $READ_NAGLE"
}

# The write-family calls of the trace on a socket (not stdout or stderr), one per line.
sock_writes() {
	grep -E '^([0-9]+ +)?(write|sendto|sendmsg|writev)\(' "$trace" | grep -vE '^([0-9]+ +)?[a-z]+\([12], '
}

@test "19-sockopts: strace shows opts_cl nagle -n setting TCP_NODELAY at the TCP level and sending each request in two writes; without -n no such option" {
	need_strace
	start_bg an "$PROBE" opts answer "$LO" 0
	traced setsockopt,write,sendto,sendmsg,writev "$LAB_BIN/opts_cl" nagle -n "$LO" "$an_port" 3
	assert_success
	grep -qE '^([0-9]+ +)?setsockopt\([0-9]+, (SOL_TCP|IPPROTO_TCP), TCP_NODELAY, \[1\], 4\) += 0$' "$trace" ||
		fail "expected setsockopt(fd, SOL_TCP, TCP_NODELAY, [1], 4) = 0: Nagle is a TCP option, level IPPROTO_TCP (TODO 19.1)"
	echo "the writes on the socket:"
	sl_indent "$(sock_writes)"
	[[ $(sock_writes | wc -l) == 6 ]] || fail "expected 6 writes on the socket for 3 rounds: \"ping \" and \"K\\n\" apart, each with its own call (TODO 19.2)"
	[[ $(sock_writes | head -n 2 | grep -oE '"[^"]*"' | tr -d '\n') == '"ping ""1\n"' ]] ||
		fail "expected the first round as write(\"ping \") then write(\"1\\n\") (TODO 19.2)"
	wait_exit an
	start_bg an2 "$PROBE" opts answer "$LO" 0
	traced setsockopt "$LAB_BIN/opts_cl" nagle "$LO" "$an2_port" 1
	assert_success
	! grep -q TCP_NODELAY "$trace" || fail "without -n opts_cl must leave Nagle on: no TCP_NODELAY"
}

@test "19-sockopts: opts_cl nagle reads each reply up to its newline, even in pieces; a server that half-closes, resets or answers too long a line instead is an error, exit 1" {
	# The reply "pong\n" in pieces of 2 bytes, 20 ms apart: a round cannot end before the last one.
	start_bg an env PROBE_PIECES=2/20 "$PROBE" opts answer "$LO" 0
	run_prog "$LAB_BIN/opts_cl" nagle -n "$LO" "$an_port" 2
	assert_success
	local l
	for l in "${lines[@]}"; do
		if [[ $l =~ ^round\ [12]:\ ([0-9]+)\ us$ ]] && ((BASH_REMATCH[1] < 38000)); then
			fail "\"$l\": the reply came in three pieces 20 ms apart, so a round that reads it to its newline takes 40 ms; read until the newline (TODO 19.2)"
		fi
	done
	wait_exit an
	assert_line --regexp "^EOF after 2 requests, median [0-9]+ us$"
	# The server half-closes instead of answering the second request: read() returns 0 mid-reply.
	start_bg hc "$PROBE" opts answer -e 1 "$LO" 0
	run_prog "$LAB_BIN/opts_cl" nagle "$LO" "$hc_port" 3
	[[ $status == 1 && $stderr == "opts_cl: the server closed the connection" ]] ||
		fail "expected exit status 1 and \"opts_cl: the server closed the connection\" on stderr: the server ended its side before the reply's newline (TODO 19.2)"
	assert_line --index 1 --partial "round 1: "
	refute_line --partial "round 2: "
	# It resets instead: read() fails.
	start_bg rs "$PROBE" opts answer -r 1 "$LO" 0
	run_prog "$LAB_BIN/opts_cl" nagle "$LO" "$rs_port" 3
	assert_errno read ECONNRESET
	# A reply longer than opts_cl's 64-byte buffer, without a newline in it.
	start_bg lg "$PROBE" opts answer -L "$LO" 0
	run_prog "$LAB_BIN/opts_cl" nagle "$LO" "$lg_port" 1
	[[ $status == 1 && $stderr == "opts_cl: the reply line is too long" ]] ||
		fail "expected exit status 1 and \"opts_cl: the reply line is too long\" on stderr: 64 bytes came and no newline (TODO 19.2)"
}

# ---- the zero window and a blocked writer ----

# zero_window PID LPORT PPORT: the writer PID sleeps in a write-family call, and the kernel's socket
# from LPORT to PPORT has bytes it may not send: nothing in flight, no window (ss prints snd_wnd
# only when it is not 0).
zero_window() {
	local info where
	where=$("$PROBE" opts blocked "$1") || return 1
	[[ $where =~ ^state\ S\ in\ (write|sendto|sendmsg|writev), ]] || return 1
	info=$(ss -Htin "( sport = :$2 and dport = :$3 )")
	[[ $info == *notsent:* && ! $info =~ snd_wnd:[1-9] && ! $info =~ unacked:[1-9] ]]
}

# ... or it never will be: the writer has ended.
zero_window_or_never() {
	local st=
	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat"
	zero_window "$@" || [[ -z $st || $st == Z ]]
}

# await_zero_window NAME PID LPORT PPORT: wait (bounded) for zero_window, or fail with the views.
await_zero_window() {
	wait_until zero_window_or_never "$2" "$3" "$4" || true
	zero_window "$2" "$3" "$4" && return 0
	# (probe finrst ends on SIGUSR1 only: release it now rather than wait for the teardown's SIGKILL)
	[[ -z ${release:-} ]] || kill -USR1 "$release" 2>/dev/null || true
	echo "where the writer is (/proc/$2): $("$PROBE" opts blocked "$2")"
	show_sock "$3" "$4"
	show_sock "$4" "$3"
	fail "$5"
}

@test "19-sockopts: opts_cl send to a peer that does not read blocks in the kernel (state S in a write call) while ss shows its window closed (no snd_wnd, bytes not sent); it ends once the peer reads" {
	start_bg sk "$PROBE" opts sink -r 4096 "$LO" 0
	start_bg cl "$LAB_BIN/opts_cl" send "$LO" "$sk_port" "$BIG"
	local cport
	client_port "$cl_line"
	await_zero_window cl "$cl_pid" "$cport" "$sk_port" \
		"opts_cl should be asleep in send() (a write call, TODO 19.3) with the peer's window closed: the probe reads nothing; read $READ_WINDOW"
	echo "opts_cl (pid $cl_pid): $("$PROBE" opts blocked "$cl_pid")"
	show_sock "$cport" "$sk_port"
	! grep -q "wrote" "$BATS_TEST_TMPDIR/cl.out" || fail "opts_cl says it wrote everything while the peer has read nothing"
	kill -USR1 "$sk_pid"
	wait_exit sk
	assert_line "read $BIG bytes, then EOF"
	wait_exit cl
	[[ $status == 0 ]] || fail "expected opts_cl to exit 0 once the peer read everything"
	assert_line --index 1 "wrote $BIG bytes"
}

@test "19-sockopts: a send blocked by a zero window fails with EPIPE when the peer half-closes and then resets: opts_cl reports it (exit 1), not killed by SIGPIPE" {
	start_bg fr "$PROBE" finrst "$LO" 0
	start_bg cl "$LAB_BIN/opts_cl" send "$LO" "$fr_port" "$BIG"
	local cport release=$fr_pid
	client_port "$cl_line"
	await_zero_window cl "$cl_pid" "$cport" "$fr_port" \
		"opts_cl should be asleep in send() (a write call, TODO 19.3) with the peer's window closed; read $READ_WINDOW"
	kill -USR1 "$fr_pid" # the probe sends its FIN, then closes with the bytes unread: RST
	wait_exit fr
	assert_line --partial "FIN, then RST"
	wait_exit cl
	[[ $status != 141 ]] ||
		fail "opts_cl was killed by SIGPIPE: a send on a connection the peer has reset must fail with EPIPE and be reported; send with MSG_NOSIGNAL (TODO 19.3); read \"## EPIPE\" in docs/errno.md"
	assert_errno send EPIPE
	refute_line --partial "wrote"
}

@test "19-sockopts: opts_sv slow -r 4096 gets the receive buffer the kernel gives for it (ss -tm rb); its unread queue stays within it while the writer sees a zero window" {
	run_prog "$PROBE" opts try rcvbuf 4096
	[[ ${lines[0]:-} =~ ^SO_RCVBUF\ 4096\ gives\ ([0-9]+)$ ]] || fail "the probe printed no \"SO_RCVBUF 4096 gives N\""
	local want=${BASH_REMATCH[1]} wport mem q
	start_bg sv "$LAB_BIN/opts_sv" slow -r 4096 "$LO" 0
	# The probe's own send buffer is small (SO_SNDBUF 16384): 300000 bytes are more than both buffers.
	local n=300000
	start_bg wr "$PROBE" opts write -s 16384 "$LO" "$sv_port" "$n"
	wport=${wr_line##* }
	wait_output sv "receive buffer"
	mem=$(ss -Htmn "( sport = :$sv_port and dport = :$wport )")
	[[ $mem == *"rb$want,"* ]] || {
		echo "the kernel gives SO_RCVBUF 4096 as $want bytes; the server's socket (ss -tmn):"
		sl_indent "$mem"
		fail "expected the accepted socket's receive buffer to be rb$want in ss -tmn: set SO_RCVBUF on the listener before listen() (TODO 19.5); read $READ_WINDOW"
	}
	await_zero_window wr "$wr_pid" "$wport" "$sv_port" \
		"the probe, writing to opts_sv slow, should be blocked by a zero window: the server reads nothing until SIGUSR1 and its buffer is small; read $READ_WINDOW"
	mem=$(ss -Htmn "( sport = :$sv_port and dport = :$wport )")
	echo "the kernel gives SO_RCVBUF 4096 as $want bytes; the server's socket (ss -tmn):"
	sl_indent "$mem"
	read -r _ q _ <<<"$mem"
	((q > 0 && q <= want)) || fail "expected the server's unread bytes (Recv-Q $q) to be some, and no more than its buffer ($want)"
	kill -USR1 "$sv_pid"
	wait_exit wr
	assert_line --index 1 "wrote $n bytes"
	wait_exit sv
	[[ $status == 0 ]] || fail "expected opts_sv to exit 0 after reading to EOF"
	assert_line --index 1 "peer 127.0.0.1 port $wport"
	assert_line --index 2 "receive buffer $want bytes (SO_RCVBUF)"
	assert_line --index 3 "read $n bytes, then EOF"
}

# ---- SO_LINGER ----

# The client's line "close returned after MS ms": $close_ms.
close_ms() {
	local l
	for l in "${lines[@]}"; do
		[[ $l =~ ^close\ returned\ after\ ([0-9]+)\ ms$ ]] && close_ms=${BASH_REMATCH[1]} && return 0
	done
	fail "expected a line \"close returned after MS ms\" from opts_cl"
}

@test "19-sockopts: with SO_LINGER {1, 1} and a peer that does not read, close blocks about 1 s, returns 0, and the kernel keeps the bytes (FIN-WAIT-1): the peer gets them all later, no RST" {
	start_bg sk "$PROBE" opts sink -r 4096 "$LO" 0
	local t0=${EPOCHREALTIME/[.,]/} ms cport close_ms
	run_prog "$LAB_BIN/opts_cl" send -l 1 "$LO" "$sk_port" 200000
	ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
	assert_success
	client_port "${lines[0]}"
	assert_line --index 1 "wrote 200000 bytes"
	close_ms
	echo "opts_cl ran for $ms ms; it says close() took $close_ms ms"
	((close_ms >= 900 && ms >= 900)) ||
		fail "close() should block for the linger time, 1 s, while the peer acknowledges nothing (SO_LINGER {1, 1}, TODO 19.4); read $READ_LINGER"
	local st
	st=$(ss -Htn state fin-wait-1 "( sport = :$cport and dport = :$sk_port )")
	show_sock "$cport" "$sk_port"
	[[ -n $st ]] || fail "after close() returned, the kernel should still hold the connection in FIN-WAIT-1 with the bytes the peer has not taken"
	read -r _ q _ <<<"$st"
	((q > 0)) || fail "expected bytes still to send (Send-Q) on the closed socket"
	kill -USR1 "$sk_pid"
	wait_exit sk
	[[ $status == 0 ]] || fail "the probe should read every byte and then EOF: the linger timeout resets nothing on Linux"
	assert_line "read 200000 bytes, then EOF"
}

@test "19-sockopts: with SO_LINGER {1, 5} and a peer that reads, close returns as soon as the bytes are acknowledged, long before 5 s (strace shows the option)" {
	need_strace
	start_bg sk "$PROBE" opts sink -g "$LO" 0
	local close_ms
	traced setsockopt,close "$LAB_BIN/opts_cl" send -l 5 "$LO" "$sk_port" 200000
	assert_success
	assert_line --index 1 "wrote 200000 bytes"
	grep -qE '^([0-9]+ +)?setsockopt\([0-9]+, SOL_SOCKET, SO_LINGER, \{l_onoff=1, l_linger=5\}, 8\) += 0$' "$trace" ||
		fail "expected setsockopt(fd, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=5}, 8) = 0 before close (TODO 19.4)"
	close_ms
	((close_ms < 2500)) || fail "close() took $close_ms ms although the peer read everything: it waits only until the bytes are acknowledged"
	wait_exit sk
	assert_line "read 200000 bytes, then EOF"
}

@test "19-sockopts: with SO_LINGER {1, 0} close returns at once and resets: the peer reads fewer bytes than were written, then ECONNRESET; no socket is left" {
	start_bg sk "$PROBE" opts sink -r 4096 "$LO" 0
	local cport close_ms got
	run_prog "$LAB_BIN/opts_cl" send -l 0 "$LO" "$sk_port" 200000
	assert_success
	client_port "${lines[0]}"
	close_ms
	((close_ms < 500)) || fail "close() with SO_LINGER {1, 0} should not wait (it took $close_ms ms)"
	local left
	left=$(ss -Htan "( sport = :$cport and dport = :$sk_port )")
	[[ -z $left ]] || {
		show_sock "$cport" "$sk_port"
		fail "an abortive close leaves nothing behind: no FIN-WAIT, no TIME-WAIT; read $READ_LINGER"
	}
	kill -USR1 "$sk_pid"
	wait_exit sk
	assert_errno read ECONNRESET
	[[ ${lines[2]:-} =~ ^read\ ([0-9]+)\ bytes,\ then\ ECONNRESET$ ]] || fail "expected the probe to read some bytes, then ECONNRESET"
	got=${BASH_REMATCH[1]}
	((got < 200000)) || fail "the peer got all 200000 bytes: the unsent ones should have been thrown away by the RST"
}

# ---- SO_REUSEPORT ----

@test "19-sockopts: two opts_sv share listen on one port (ss shows both) and the kernel spreads 40 connections over them: each accepts some, every connection exactly once" {
	start_bg a "$LAB_BIN/opts_sv" share "$LO" 0
	start_bg b "$LAB_BIN/opts_sv" share "$LO" "$a_port"
	local p=$a_port listeners
	[[ $b_port == "$p" ]] || fail "the second opts_sv should listen on port $p too (it said: $b_line)"
	listeners=$(ss -Htln "( sport = :$p )")
	echo "listening sockets on port $p (ss -tln):"
	sl_indent "$listeners"
	[[ $(grep -c LISTEN <<<"$listeners") == 2 ]] || fail "expected two listening sockets on port $p"
	run_prog "$PROBE" opts conns 40 "$LO" "$p"
	assert_success
	all_accepted() { awk '/^accepted / { n++ } END { exit !(n >= 40) }' "$BATS_TEST_TMPDIR"/[ab].out; }
	wait_until all_accepted || true
	local na nb twice
	na=$(grep -c '^accepted ' "$BATS_TEST_TMPDIR/a.out") || true
	nb=$(grep -c '^accepted ' "$BATS_TEST_TMPDIR/b.out") || true
	echo "the first server accepted $na connections, the second $nb"
	((na + nb == 40)) || fail "expected the two servers to accept the 40 connections between them, got $na + $nb"
	((na > 0 && nb > 0)) || fail "expected both servers to get some of the connections: set SO_REUSEPORT (TODO 19.6); read $READ_REUSE"
	# Each of the probe's 40 client ports, accepted exactly once by one server or the other.
	twice=$(awk '/^local / { want[$3] = 1; n++ } /^accepted [0-9]+: peer 127\.0\.0\.1 port / { got[$6]++ }
		END { for (p in want) if (got[p] != 1) { print p; exit } }' <(printf '%s\n' "${lines[@]}") \
		"$BATS_TEST_TMPDIR/a.out" "$BATS_TEST_TMPDIR/b.out")
	[[ -z $twice ]] || fail "the probe's connection from port $twice should be accepted exactly once, by one of the servers"
	run_prog "$PROBE" bind "$LO" "$p"
	assert_errno bind EADDRINUSE
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "19-sockopts: opts_sv share on a port whose listener did not set SO_REUSEPORT fails: bind EADDRINUSE" {
	start_bg ls "$PROBE" listen "$LO" 0
	traced bind "$LAB_BIN/opts_sv" share "$LO" "$ls_port"
	assert_errno bind EADDRINUSE
	assert_traced bind EADDRINUSE
}

@test "19-sockopts: a failed setsockopt is reported and ends the program: each option's setsockopt made to fail (strace) gives PROG: setsockopt: ENOPROTOOPT, exit 1" {
	need_strace
	start_bg ls "$PROBE" listen "$LO" 0
	injected setsockopt ENOPROTOOPT "$LAB_BIN/opts_cl" nagle -n "$LO" "$ls_port" 1
	refute_line --partial "round 1"
	injected setsockopt ENOPROTOOPT "$LAB_BIN/opts_cl" send -l 0 "$LO" "$ls_port" 1000
	refute_line --partial "close returned"
	injected setsockopt ENOPROTOOPT "$LAB_BIN/opts_sv" slow -r 4096 "$LO" 0
	injected setsockopt ENOPROTOOPT "$LAB_BIN/opts_sv" share "$LO" 0
	[[ -z $output ]] || fail "opts_sv went on after its setsockopt failed"
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "19-sockopts: opts_cl without arguments, with an unknown mode, a bad port, address, count or linger time is a usage error, exit 2" {
	local args
	for args in "" "bogus $LO 80 1" "nagle $LO 80" "nagle $LO 80 101" "nagle -x $LO 80 1" "send $LO 0 10" \
		"send -l $LO 80 10" "send -l 61 $LO 80 10" "send localhost 80 10" "send $LO 80 -5"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/opts_cl" $args
		assert_usage
	done
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "19-sockopts: opts_sv without arguments, with an unknown mode, a bad buffer size, port or address is a usage error, exit 2" {
	local args
	for args in "" "bogus $LO 0" "slow $LO" "slow -r 0 $LO 0" "slow -r x $LO 0" "slow -r $LO 0" \
		"share -r 4096 $LO 0" "share $LO 65536" "share 1.2.3 0"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/opts_sv" $args
		assert_usage
	done
}

# ---- predictions (labs/19-sockopts/predictions.md): the probe runs each experiment ----

@test "19-sockopts: prediction P1: how long a write-write-read round takes with Nagle on" {
	run_prog "$PROBE" opts try nagle
	assert_success
	[[ ${lines[0]:-} =~ ^median\ round\ ([0-9]+)\ us ]] || fail "the probe printed no \"median round U us\" line"
	local us=${BASH_REMATCH[1]} unit=milliseconds
	((us < 1000)) && unit=microseconds
	((us >= 1000000)) && unit=seconds
	expect_prediction P1 word "$unit" "three rounds of write(\"ping \"), write(\"K\\n\"), read() on 127.0.0.1 with Nagle on: the median round took $us us ($unit)" \
		"$READ_NAGLE"
}

@test "19-sockopts: prediction P2: the errno of a bind without SO_REUSEPORT to a port a SO_REUSEPORT listener holds" {
	run_prog "$PROBE" opts try reuseport
	assert_success
	[[ ${lines[0]:-} =~ ^bind:\ ([A-Z]+)$ ]] || fail "the probe printed no \"bind: ...\" line"
	local e=${BASH_REMATCH[1]} kind=errno
	[[ $e == OK ]] && e=none kind=word
	expect_prediction P2 "$kind" "$e" "a listener with SO_REUSEPORT holds 127.0.0.1 port P; a socket without it binding P: ${lines[0]}" \
		"$READ_REUSE"
}

@test "19-sockopts: prediction P3: what getsockopt reads back after SO_RCVBUF 4096" {
	run_prog "$PROBE" opts try rcvbuf 4096
	assert_success
	[[ ${lines[0]:-} =~ ^SO_RCVBUF\ 4096\ gives\ ([0-9]+)$ ]] || fail "the probe printed no \"SO_RCVBUF 4096 gives N\""
	expect_prediction P3 number "${BASH_REMATCH[1]}" "setsockopt(SO_RCVBUF, 4096) on a TCP socket, then getsockopt(SO_RCVBUF) read ${BASH_REMATCH[1]}" \
		"$READ_WINDOW"
}
