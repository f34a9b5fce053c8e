#!/usr/bin/env bats
# 08-close: the ways a TCP connection ends. Every test asks the kernel what really happened: the
# states `ss` shows for the exact port pair of the connection under test (TIME_WAIT entries live
# 60 s, so earlier runs leave some behind: never match on one port alone), and what the kit's
# probe, as the other end, got from its own socket calls (EOF, ECONNRESET).
load lib/socklab
load lib/calls

setup_file() { lab_setup_file 08-close; }
setup() {
	lab_setup
	command -v ss >/dev/null || skip "needs ss (iproute2) to see the TCP states"
}
teardown() { lab_teardown; }

# Is there a TCP socket in STATE with local port $2 and peer port $3 (one exact pair)?
in_state() { [[ -n $(ss -Htan state "$1" "( sport = :$2 and dport = :$3 )") ]]; }

# The kernel's sockets on either end of the pair $1 <-> $2, for the failure report.
show_pair() {
	echo "the kernel's sockets between ports $1 and $2 (ss -tan):"
	sl_indent "$(ss -Htan "( sport = :$1 and dport = :$2 ) or ( sport = :$2 and dport = :$1 )")"
}

# Wait (bounded: wait_until) until in_state STATE LPORT PPORT holds; no longer than it takes to see
# that it never will: the socket already went past STATE, in a state TCP never leaves for it.
await_state() {
	past=
	wait_until reached_or_past "$@" || true
	[[ -z $past ]] && in_state "$@" && return 0
	show_pair "$2" "$3"
	[[ -z $past ]] || fail "no socket in state $1 from port $2 to port $3: it is in $past, which never leads to $1"
	fail "no socket in state $1 from port $2 to port $3 within $SOCKLAB_TIMEOUT s"
}
# The states TCP cannot go from to the one awaited (RFC 9293's state diagram), as ss names them.
declare -gA NEVER_TO=([close-wait]="FIN-WAIT-1 FIN-WAIT-2 CLOSING TIME-WAIT LAST-ACK"
	[fin-wait-2]="CLOSING TIME-WAIT CLOSE-WAIT LAST-ACK" [time-wait]="CLOSE-WAIT LAST-ACK")
reached_or_past() {
	local now
	now=$(ss -Htan "( sport = :$2 and dport = :$3 )")
	now=${now%% *}
	in_state "$@" && return 0
	[[ -n $now && " ${NEVER_TO[$1]:-} " == *" $now "* ]] && past=$now
	[[ -n $past ]]
}

# Wait the same way until the kernel holds no socket at all for the pair (in any state).
await_gone() {
	wait_until no_pair "$1" "$2" && return 0
	show_pair "$1" "$2"
	fail "$3"
}
no_pair() { [[ -z $(ss -Htan "( sport = :$1 and dport = :$2 ) or ( sport = :$2 and dport = :$1 )") ]]; }

refute_state() {
	if in_state "$1" "$2" "$3"; then
		show_pair "$2" "$3"
		fail "$4"
	fi
}

# The port at the end of a probe line: "listening 127.0.0.1 41234", "local 127.0.0.1 52000".
probe_port() { echo "${1##* }"; }

# The client's port from close_cl's first line "connected from ADDR port P to ADDR port Q".
client_port() {
	[[ ${lines[0]:-} =~ ^connected\ from\ [0-9.]+\ port\ ([0-9]+)\ to ]] ||
		fail "expected a first line \"connected from ADDR port P to ADDR port Q\""
	cport=${BASH_REMATCH[1]}
}

@test "08-close: close_sv reads the request up to the client's half-close (EOF), then still sends its reply" {
	start_bg sv "$LAB_BIN/close_sv" upper 127.0.0.1 0
	local svport=$port msg reply=$BATS_TEST_TMPDIR/reply
	# Random and long (about 60 kB, many reads): only a server that reads to EOF has it all.
	msg=$(head -c 45000 /dev/urandom | base64 -w0)
	local n=$((${#msg} + 1)) # the probe sends MSG and a newline, then shutdown(SHUT_WR)
	echo "\$ probe connect 127.0.0.1 $svport <$n random bytes>"
	timeout -k 1 5 "$PROBE" connect 127.0.0.1 "$svport" "$msg" >"$reply" 2>&1 ||
		fail "the probe failed or timed out: $(head -c 300 "$reply")"
	echo "the probe got back: $(head -c 300 "$reply")..."
	[[ $(sed -n 3p "$reply") == "got $n bytes" ]] ||
		fail "expected the reply to start with \"got $n bytes\" (the whole request, read up to EOF)"
	[[ $(sed -n 4p "$reply") == "${msg^^}" && $(wc -l <"$reply") == 4 ]] ||
		fail "expected the reply to go on with the $n bytes in upper case, complete"
	local cport
	cport=$(probe_port "$(head -n 1 "$reply")")
	wait_exit sv
	[[ $status == 0 ]] || fail "expected close_sv to exit 0 after serving its client"
	assert_line "peer 127.0.0.1 port $cport"
	assert_line "read returned 0 (EOF) after $n bytes"
}

@test "08-close: close_cl half-closes with shutdown(SHUT_WR) and still reads the whole reply up to EOF" {
	start_bg peer "$PROBE" drain 127.0.0.1 0
	local svport msg n
	svport=$(probe_port "$line")
	msg=$(head -c 600 /dev/urandom | base64 -w0)
	n=$((${#msg} + 1))
	run_prog "$LAB_BIN/close_cl" half 127.0.0.1 "$svport" "$msg"
	assert_success
	client_port
	assert_line --index 1 "sent $n bytes, then shutdown(SHUT_WR)"
	assert_line --index 2 "got $n bytes"
	assert_line --index 3 "${msg^^}"
	assert_line --index 4 "EOF after $((${#n} + 11 + n)) bytes of reply"
	wait_exit peer
	[[ $status == 0 ]] || fail "the probe (the server) failed: see its stderr above"
	assert_line "peer 127.0.0.1 $cport"
	assert_line "got $n bytes, then EOF"
}

@test "08-close: close_cl half prints the whole reply when it comes in pieces with pauses between them, up to EOF" {
	# The probe answers as drain does, but 100 bytes at a time, 40 ms apart: one read() gets one piece.
	start_bg peer env PROBE_PIECES=100/40 "$PROBE" drain 127.0.0.1 0
	local svport msg n
	svport=$(probe_port "$line")
	msg=$(head -c 300 /dev/urandom | base64 -w0)
	n=$((${#msg} + 1))
	run_prog "$LAB_BIN/close_cl" half 127.0.0.1 "$svport" "$msg"
	assert_success
	assert_line --index 2 "got $n bytes"
	assert_line --index 3 "${msg^^}"
	assert_line --index 4 "EOF after $((${#n} + 11 + n)) bytes of reply"
	wait_exit peer
	assert_line "got $n bytes, then EOF"
}

@test "08-close: the side that closes first (here the client) gets the TIME_WAIT, the other side none" {
	start_bg sv "$LAB_BIN/close_sv" upper 127.0.0.1 0
	local svport=$port
	run_prog "$LAB_BIN/close_cl" half 127.0.0.1 "$svport" "time to say goodbye"
	assert_success
	assert_line "TIME TO SAY GOODBYE"
	client_port
	# The client's FIN went first (shutdown), the server's second: the client keeps the pair.
	await_state time-wait "$cport" "$svport"
	refute_state time-wait "$svport" "$cport" "the server closed second: it should have no TIME_WAIT"
	wait_exit sv
	assert_line "peer 127.0.0.1 port $cport"
}

@test "08-close: close_sv hold stays in CLOSE-WAIT after the client's FIN until SIGUSR1, then closes" {
	start_bg sv "$LAB_BIN/close_sv" hold 127.0.0.1 0
	local svport=$port cport
	# The probe connects and closes at once: its FIN goes first.
	run_prog "$PROBE" connect 127.0.0.1 "$svport"
	assert_success
	cport=$(probe_port "${lines[0]}")
	await_state close-wait "$svport" "$cport"
	await_state fin-wait-2 "$cport" "$svport"
	wait_output sv "read returned 0"
	# The server has seen EOF and must still hold its end open: the half-closed connection.
	in_state close-wait "$svport" "$cport" || {
		show_pair "$svport" "$cport"
		fail "close_sv left CLOSE-WAIT before SIGUSR1: it must keep the socket open until told"
	}
	kill -USR1 "$sv_pid"
	await_state time-wait "$cport" "$svport"
	refute_state time-wait "$svport" "$cport" "the server closed second: it should have no TIME_WAIT"
	wait_exit sv
	[[ $status == 0 ]] || fail "expected close_sv to exit 0 after SIGUSR1"
	assert_line "peer 127.0.0.1 port $cport"
	assert_line --index 3 "closed"
}

# The server's socket from port $1 to $2 has read everything (Recv-Q 0), and the process $3 sleeps.
all_read() {
	local q st
	q=$(ss -Htn "( sport = :$1 and dport = :$2 )" | awk '{ print $2 }')
	read -r _ _ st _ 2>/dev/null <"/proc/$3/stat"
	[[ $q == 0 && $st == S ]]
}
# ... or it never will be: the connection is gone, or the server has ended.
all_read_or_never() {
	local st=
	read -r _ _ st _ 2>/dev/null <"/proc/$3/stat"
	all_read "$@" || [[ -z $st || $st == Z ]] || no_pair "$1" "$2"
}

@test "08-close: close_sv hold reads what its client sends and stays in read until the FIN: data is not the end" {
	start_bg sv "$LAB_BIN/close_sv" hold 127.0.0.1 0
	local svport=$port cport
	# The probe sends 5000 bytes and then waits (no FIN) until SIGUSR1.
	start_bg cl "$PROBE" stream -p 127.0.0.1 "$svport" 5000
	cport=$(probe_port "$line")
	wait_output sv "peer 127.0.0.1 port $cport"
	wait_until all_read_or_never "$svport" "$cport" "$sv_pid" || true
	all_read "$svport" "$cport" "$sv_pid" || {
		show_pair "$svport" "$cport"
		fail "close_sv hold should read the client's 5000 bytes and then wait in read() for more"
	}
	! grep -q "read returned 0" "$BATS_TEST_TMPDIR/sv.out" ||
		fail "close_sv hold reported the EOF while the client was still connected, with no FIN sent: read until read() returns 0"
	in_state established "$svport" "$cport" || { show_pair "$svport" "$cport"; fail "the connection should still be open both ways"; }
	kill -USR1 "$cl_pid" # now the probe half-closes: its FIN
	wait_output sv "read returned 0"
	await_state close-wait "$svport" "$cport"
	kill -USR1 "$sv_pid"
	wait_exit sv
	[[ $status == 0 ]] || fail "expected close_sv to exit 0 after SIGUSR1"
}

@test "08-close: close_sv hold reports ECONNRESET when its client resets the connection instead of closing it" {
	start_bg sv "$LAB_BIN/close_sv" hold 127.0.0.1 0
	local svport=$port
	run_prog "$LAB_BIN/close_cl" reset 127.0.0.1 "$svport"
	assert_success
	client_port
	wait_exit sv
	assert_errno read ECONNRESET
	refute_line --partial "read returned 0"
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "08-close: a server that closes first gets the TIME_WAIT, its client sits in CLOSE-WAIT until it closes too" {
	start_bg sv "$LAB_BIN/close_sv" close 127.0.0.1 0
	local svport=$port cport
	start_bg cl "$PROBE" hold 127.0.0.1 "$svport"
	cport=$(probe_port "$line")
	await_state close-wait "$cport" "$svport"
	await_state fin-wait-2 "$svport" "$cport"
	stop_bg cl # the probe closes: the second FIN
	await_state time-wait "$svport" "$cport"
	refute_state time-wait "$cport" "$svport" "the client closed second: it should have no TIME_WAIT"
	wait_exit sv
	[[ $status == 0 ]] || fail "expected close_sv to exit 0"
	assert_line "peer 127.0.0.1 port $cport"
}

# epipe_against PEER...: start the peer (its first line names its port: $svport), then run
# `close_cl epipe` against it.
epipe_against() {
	start_bg peer "$@"
	svport=$(probe_port "$line")
	run_prog "$LAB_BIN/close_cl" epipe 127.0.0.1 "$svport"
}

@test "08-close: after the peer closed, the first send succeeds and a later one fails with EPIPE (MSG_NOSIGNAL)" {
	epipe_against "$PROBE" close 127.0.0.1 0
	assert_errno send EPIPE
	client_port
	assert_line --index 1 "peer closed: read returned 0 (EOF)"
	assert_line --index 2 "send 1: OK"
	# The first send drew an RST from the peer's closed socket: nothing of the pair is left.
	await_gone "$cport" "$svport" "the peer's RST should have ended the connection on both sides"
}

@test "08-close: epipe reads up to the peer's FIN: bytes that come first, in pieces, are not the end" {
	# The peer sends a greeting a byte at a time, 40 ms apart, and only then closes.
	epipe_against env PROBE_PIECES=1/40 "$PROBE" send 127.0.0.1 0 "hello"
	assert_errno send EPIPE
	client_port
	assert_line --index 1 "peer closed: read returned 0 (EOF)"
	assert_line --index 2 "send 1: OK"
	wait_exit peer
	assert_line "sent 5 bytes, then FIN"
}

@test "08-close: epipe reports a peer that resets instead of closing: read fails with ECONNRESET" {
	epipe_against "$PROBE" send -R 127.0.0.1 0 ""
	assert_errno read ECONNRESET
	client_port
	refute_line --partial "peer closed"
}

@test "08-close: strace shows epipe's sends: the first returns 1, the next really fails with EPIPE, both with MSG_NOSIGNAL" {
	need_strace
	start_bg peer "$PROBE" close 127.0.0.1 0
	local svport trace=$BATS_TEST_TMPDIR/trace
	svport=$(probe_port "$line")
	run_prog strace -qq -o "$trace" -e trace=sendto,sendmsg,write "$LAB_BIN/close_cl" epipe 127.0.0.1 "$svport"
	assert_errno send EPIPE
	echo "strace said:"
	sl_indent "$(grep -E '^send' "$trace")"
	# The sends on the socket, as "RESULT FLAGS" (a send() is sendto() to the kernel).
	local sends
	sends=$(awk '/^send(to|msg)\(/ { r = $0; sub(/.*\) += /, "", r); sub(/ .*/, "", r)
		f = ($0 ~ /MSG_NOSIGNAL/) ? "MSG_NOSIGNAL" : "no-MSG_NOSIGNAL"; if ($0 ~ /EPIPE/) r = "EPIPE"; print r, f }' "$trace")
	[[ $(head -n 1 <<<"$sends") == "1 MSG_NOSIGNAL" ]] ||
		fail "expected the first send() with MSG_NOSIGNAL to return 1 (the peer's socket still takes it)"
	[[ $(tail -n 1 <<<"$sends") == "EPIPE MSG_NOSIGNAL" ]] ||
		fail "expected the last send() with MSG_NOSIGNAL to fail with EPIPE: the error printed must be the kernel's answer to a real send()"
}

@test "08-close: without MSG_NOSIGNAL the send after the peer's close kills the client with SIGPIPE (status 141)" {
	start_bg peer "$PROBE" close 127.0.0.1 0
	local svport
	svport=$(probe_port "$line")
	run_prog --signal "$LAB_BIN/close_cl" sigpipe 127.0.0.1 "$svport"
	[[ $status == 141 ]] || fail "expected death by signal 13 (SIGPIPE): exit status 141, got $status"
	assert_line --index 1 "peer closed: read returned 0 (EOF)"
	assert_line --index 2 "send 1: OK"
	[[ -z $stderr ]] || fail "expected no error message: SIGPIPE kills before send() can return -1"
}

@test "08-close: close with SO_LINGER {1, 0} sends RST: the peer's read fails with ECONNRESET, no TIME_WAIT is left" {
	start_bg peer "$PROBE" drain 127.0.0.1 0
	local svport
	svport=$(probe_port "$line")
	run_prog "$LAB_BIN/close_cl" reset 127.0.0.1 "$svport"
	assert_success
	client_port
	wait_exit peer
	assert_errno read ECONNRESET
	assert_line "peer 127.0.0.1 $cport"
	await_gone "$cport" "$svport" "an abortive close leaves no TIME_WAIT (nor any other state) behind"
}

@test "08-close: close_sv reports ECONNRESET when its client resets the connection instead of closing it" {
	start_bg sv "$LAB_BIN/close_sv" upper 127.0.0.1 0
	local svport=$port
	run_prog "$LAB_BIN/close_cl" reset 127.0.0.1 "$svport"
	assert_success
	client_port
	wait_exit sv
	assert_errno read ECONNRESET
	assert_line "peer 127.0.0.1 port $cport"
	refute_state time-wait "$cport" "$svport" "an abortive close leaves no TIME_WAIT"
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "08-close: shutdown on a socket that never connected fails with ENOTCONN" {
	traced shutdown "$LAB_BIN/close_cl" notconn
	assert_errno shutdown ENOTCONN
	assert_traced shutdown ENOTCONN
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "08-close: close_cl without arguments, with an unknown mode, a bad port or a bad address is a usage error, exit 2" {
	local args
	for args in "" "bogus 127.0.0.1 80" "half 127.0.0.1 80" "epipe 127.0.0.1 abc" "reset 127.0.0.1 -1" \
		"half 127.0.0.1 65536 hi" "epipe localhost 80"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/close_cl" $args
		assert_usage
	done
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "08-close: close_sv without arguments, with an unknown mode, a bad port or a bad address is a usage error, exit 2" {
	local args
	for args in "" "bogus 127.0.0.1 0" "upper 127.0.0.1" "upper 127.0.0.1 abc" "hold 127.0.0.1 -1" \
		"close 127.0.0.1 65536" "upper 1.2.3 0"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/close_sv" $args
		assert_usage
	done
}

@test "08-close: close_sv upper reports a client that closed without reading the reply (send: EPIPE or ECONNRESET), it is not killed by SIGPIPE" {
	start_bg sv "$LAB_BIN/close_sv" upper 127.0.0.1 0
	local svport=$port
	# 1 MiB, then close() without reading: the reply's first send() makes the client's kernel answer
	# with an RST, and a later send() of the 1 MiB reply fails. Without MSG_NOSIGNAL that send()
	# also raises SIGPIPE, and the server dies silently with status 141.
	run_prog "$PROBE" stream -x 127.0.0.1 "$svport" 1048576
	assert_success
	wait_exit sv
	[[ $status != 141 ]] ||
		fail "close_sv was killed by SIGPIPE: send() the reply with MSG_NOSIGNAL, then the call fails with EPIPE"
	assert_line "read returned 0 (EOF) after 1048576 bytes"
	[[ $status == 1 && $stderr =~ (^|$'\n')close_sv:\ send:\ (EPIPE|ECONNRESET)\ \( ]] ||
		fail "expected exit status 1 and \"close_sv: send: EPIPE (...)\" (or ECONNRESET) on stderr; read \"## EPIPE\" in docs/errno.md"
}

# Predictions (labs/08-close/predictions.md): the kit's probe runs each experiment; the kernel's
# answer in this run is the truth. p_closed: a probe server that closes its client at once
# ($svport), and a probe client that keeps its socket open ($cport), in whatever state ss shows
# once the server's FIN has come (bounded wait for CLOSE-WAIT).
p_closed() {
	start_bg sv "$PROBE" close 127.0.0.1 0
	svport=$(probe_port "$line")
	start_bg cl "$PROBE" hold 127.0.0.1 "$svport"
	cport=$(probe_port "$line")
	wait_until in_state close-wait "$cport" "$svport" || true
}

# The state ss shows for the socket from port $1 to port $2, or "gone".
state_of() {
	local st
	st=$(ss -Htan "( sport = :$1 and dport = :$2 )" | awk '{ print $1; exit }')
	echo "${st:-gone}"
}

tw_side() { in_state time-wait "$svport" "$cport" || in_state time-wait "$cport" "$svport"; }

@test "08-close: prediction P1: the state of a client whose server closed first, while it keeps its socket open" {
	local svport cport st
	p_closed
	st=$(state_of "$cport" "$svport")
	show_pair "$cport" "$svport"
	expect_prediction P1 word "$st" "the server closed first; the client (port $cport) that keeps its socket open is in $st" \
		"docs/08-close.md, \"An orderly ending takes two FINs\" (中文: docs/zh/08-close.md)"
}

@test "08-close: prediction P2: which side keeps the TIME-WAIT when the server closes first" {
	local svport cport side=neither
	p_closed
	stop_bg cl # SIGTERM: the probe client closes its socket now
	wait_until tw_side || true
	show_pair "$cport" "$svport"
	if in_state time-wait "$svport" "$cport"; then
		side=server
	elif in_state time-wait "$cport" "$svport"; then
		side=client
	fi
	expect_prediction P2 word "$side" "the server (port $svport) closed first, then the client (port $cport); the TIME-WAIT went to: $side" \
		"docs/08-close.md, \"TIME_WAIT belongs to whoever closed first\" (中文: docs/zh/08-close.md)"
}

# p_afterclose: the probe reads to the EOF of a server that closed at once, then writes twice.
p_afterclose() {
	start_bg sv "$PROBE" close 127.0.0.1 0
	run_prog "$PROBE" afterclose 127.0.0.1 "$(probe_port "$line")"
	[[ $status == 0 ]] || fail "the probe's experiment failed (see above)"
}

@test "08-close: prediction P3: what the first write after the peer's close returns" {
	p_afterclose
	local w=${lines[2]#write 1: }
	expect_prediction P3 number "${w% bytes}" "after read() returned 0, the probe's first write() of 5 bytes returned: $w" \
		"docs/08-close.md, \"Writing to a connection the peer has closed: RST, EPIPE and SIGPIPE\" (中文: docs/zh/08-close.md)"
}

@test "08-close: prediction P4: the errno of the next write after the peer's close" {
	p_afterclose
	local w=${lines[3]#write 2: }
	expect_prediction P4 errno "$w" "after read() returned 0, the probe's first write() returned ${lines[2]#write 1: }, its second: $w" \
		"docs/08-close.md, \"Writing to a connection the peer has closed: RST, EPIPE and SIGPIPE\" (中文: docs/zh/08-close.md)"
}
