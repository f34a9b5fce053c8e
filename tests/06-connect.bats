#!/usr/bin/env bats
# 06-connect: the client. The probe is the server (`probe serve` prints "peer ADDR PORT" for each
# client it accepts, "got LINE" for what it read, and answers "echo: LINE"), so every port the
# client prints is checked against what the kernel told the other end.
load lib/socklab
load lib/calls

setup_file() { lab_setup_file 06-connect; }
setup() { lab_setup; }
teardown() { lab_teardown; }

# Start the probe server on a port the kernel chooses: serve_on ADDR [CLIENTS]. Sets $srv_port.
# (The probe prints "listening ADDR PORT", without the word "port", so $port is not set.)
serve_on() {
	start_bg srv "$PROBE" serve -n "${2:-1}" "$1" 0
	srv_port=${line##* }
	[[ $srv_port =~ ^[0-9]+$ ]] || fail "the probe server did not report its port: $line"
}

# What the server has printed so far ("peer ADDR PORT" and "got LINE" lines). The probe flushes
# both before it answers, so once the client has its reply they are there.
server_said() { cat "$BATS_TEST_TMPDIR/srv.out"; }

# "ADDR PORT" from the client's line "WHAT ADDR port N" (WHAT = local or peer); empty if none.
printed() { awk -v w="$1" '$1 == w && $3 == "port" { print $2, $4; exit }' <<<"$output"; }

# The client's local "ADDR PORT" into $client; fails the test if it printed none.
client_local() {
	client=$(printed local)
	[[ $client =~ ^[0-9a-f.:]+\ [0-9]+$ ]] ||
		fail "expected a line \"local ADDR port N\" on stdout (getsockname after connect)"
}

# Check that the server saw a client at "ADDR PORT" ($1).
expect_server_saw() {
	echo "server said:"
	sl_indent "$(server_said)"
	grep -qxF "peer $1" <(server_said) ||
		fail "the server saw no client at $1: the port printed is not the one the kernel gave the connection"
}

random_line() { echo "line-$RANDOM-$RANDOM-$$"; }

@test "06-connect: the client connects without bind and prints the local port the server sees as its peer" {
	serve_on 127.0.0.1
	run_prog "$LAB_BIN/connect" 127.0.0.1 "$srv_port" "$(random_line)"
	assert_success
	client_local
	expect_server_saw "$client"
}

@test "06-connect: the kernel picks the local port from ip_local_port_range" {
	local low high
	read -r low high </proc/sys/net/ipv4/ip_local_port_range
	echo "ip_local_port_range: $low $high"
	serve_on 127.0.0.1
	run_prog "$LAB_BIN/connect" 127.0.0.1 "$srv_port" "$(random_line)"
	assert_success
	local addr lport
	client_local
	read -r addr lport <<<"$client"
	[[ $addr == 127.0.0.1 ]] || fail "the kernel should choose 127.0.0.1 as the source address to reach 127.0.0.1"
	((lport >= low && lport <= high)) || fail "local port $lport is outside ip_local_port_range $low-$high"
	expect_server_saw "$addr $lport"
}

@test "06-connect: getpeername names the server's address and listening port" {
	serve_on 127.0.0.1
	run_prog "$LAB_BIN/connect" 127.0.0.1 "$srv_port" "$(random_line)"
	assert_success
	[[ $(printed peer) == "127.0.0.1 $srv_port" ]] ||
		fail "expected a line \"peer 127.0.0.1 port $srv_port\" (getpeername: the server's address and port)"
}

@test "06-connect: a random line makes the round trip and the server's echo comes back" {
	local msg
	msg=$(random_line)
	serve_on 127.0.0.1
	run_prog "$LAB_BIN/connect" 127.0.0.1 "$srv_port" "$msg"
	assert_success
	echo "server said:"
	sl_indent "$(server_said)"
	grep -qxF "got $msg" <(server_said) ||
		fail "the server did not read \"$msg\" followed by a newline from the connection"
	assert_line "echo: $msg"
}

@test "06-connect: without a line argument the client sends the default line and prints the reply" {
	serve_on 127.0.0.1
	run_prog "$LAB_BIN/connect" 127.0.0.1 "$srv_port"
	assert_success
	local got
	got=$(sed -n 's/^got //p' <(server_said))
	echo "the server read: \"$got\""
	[[ -n $got ]] || fail "the server read an empty line: send a default line (\"hello\") when none is given"
	assert_line "echo: $got"
}

@test "06-connect: two runs get different ephemeral ports and the server sees each" {
	serve_on 127.0.0.1 2
	local first second
	run_prog "$LAB_BIN/connect" 127.0.0.1 "$srv_port" "$(random_line)"
	assert_success
	client_local
	first=$client
	run_prog "$LAB_BIN/connect" 127.0.0.1 "$srv_port" "$(random_line)"
	assert_success
	client_local
	second=$client
	[[ $first != "$second" ]] || fail "both runs printed the same local address and port: $first"
	expect_server_saw "$first"
	expect_server_saw "$second"
}

# Does the server side of the pair (port $1 <- $2) hold $3 unread bytes (Recv-Q)?
recvq_is() { [[ $(ss -Htn state established "( sport = :$1 and dport = :$2 )" | awk '{ print $1 }') == "$3" ]]; }

@test "06-connect: while the client waits for the reply, ss shows the ESTABLISHED pair and the bytes queued at the server" {
	# A server that listens but never accepts nor reads: the kernel completes the handshake and
	# takes the client's bytes into the server side's receive queue; the client waits for a reply.
	start_bg lst "$PROBE" listen 127.0.0.1 0
	local sport=${line##* } msg
	msg=$(random_line)
	start_bg cli "$LAB_BIN/connect" 127.0.0.1 "$sport" "$msg"
	[[ -n $port && $port != 0 ]] || fail "the client's first line should be \"local ADDR port N\" with the kernel's port"
	local cport=$port want=$((${#msg} + 1)) srv cli
	# Bounded wait for the line to arrive in the server's receive queue.
	wait_until recvq_is "$sport" "$cport" "$want" || true
	srv=$(ss -Htn state established "( sport = :$sport and dport = :$cport )")
	cli=$(ss -Htn state established "( sport = :$cport and dport = :$sport )")
	echo "ss, client side (Recv-Q Send-Q Local Peer):"
	sl_indent "$cli"
	echo "ss, server side:"
	sl_indent "$srv"
	[[ $cli == *"127.0.0.1:$cport"*"127.0.0.1:$sport"* ]] ||
		fail "no ESTABLISHED connection from the printed local port $cport to the server's port $sport"
	[[ $srv == *"127.0.0.1:$sport"*"127.0.0.1:$cport"* ]] ||
		fail "the server side of the connection is not ESTABLISHED"
	[[ $(awk '{ print $1 }' <<<"$srv") == "$want" ]] ||
		fail "expected the $want bytes of \"$msg\\n\" waiting in the server's receive queue (Recv-Q)"
}

@test "06-connect: connect on an already connected socket fails with EISCONN" {
	serve_on 127.0.0.1
	traced connect "$LAB_BIN/connect" -2 127.0.0.1 "$srv_port"
	assert_errno connect EISCONN
	# ... and so did the second: the kernel refused it, the program did not just say so.
	assert_traced connect EISCONN
	# The first connect really happened: the server saw this client.
	client_local
	expect_server_saw "$client"
}

@test "06-connect: connect to a loopback port where nobody listens fails with ECONNREFUSED" {
	# A port the kernel just handed out and took back: nobody listens on it.
	run "$PROBE" bind 127.0.0.1 0
	[[ $status == 0 && $output =~ ^bound\ 127\.0\.0\.1\ ([0-9]+)$ ]] || fail "probe bind failed: $output"
	local free=${BASH_REMATCH[1]}
	traced connect "$LAB_BIN/connect" 127.0.0.1 "$free" "$(random_line)"
	assert_errno connect ECONNREFUSED
	assert_traced connect ECONNREFUSED
	[[ -z $output ]] || fail "nothing should be printed when connect fails"
}

@test "06-connect: the client also connects over IPv6 to ::1" {
	"$PROBE" bind ::1 0 >/dev/null 2>&1 || skip "this machine has no IPv6 loopback (::1)"
	local msg
	msg=$(random_line)
	serve_on ::1
	run_prog "$LAB_BIN/connect" ::1 "$srv_port" "$msg"
	assert_success
	[[ $(printed peer) == "::1 $srv_port" ]] || fail "expected a line \"peer ::1 port $srv_port\""
	client_local
	expect_server_saw "$client"
	assert_line "echo: $msg"
}

@test "06-connect: strace shows socket and connect but no bind" {
	need_strace
	serve_on 127.0.0.1
	local trace=$BATS_TEST_TMPDIR/trace
	# LeakSanitizer cannot run under ptrace: turn it off for this one traced run.
	run_prog env ASAN_OPTIONS="${ASAN_OPTIONS//detect_leaks=1/detect_leaks=0}" \
		strace -qq -e trace=network -o "$trace" "$LAB_BIN/connect" 127.0.0.1 "$srv_port" "$(random_line)"
	assert_success
	echo "strace -e trace=network:"
	sl_indent "$(cat "$trace")"
	grep -qE '^socket\(AF_INET, SOCK_STREAM' "$trace" || fail "no socket(AF_INET, SOCK_STREAM, ...) call"
	grep -qE "^connect\([0-9]+, .*htons\($srv_port\).*\) = 0$" "$trace" ||
		fail "no successful connect() to port $srv_port"
	! grep -qE '^bind\(' "$trace" || fail "the client called bind(): a client needs no bind before connect"
}

@test "06-connect: a reply that arrives in pieces, a byte at a time, is printed whole" {
	local msg
	msg=$(random_line)
	# The probe answers "echo: LINE\n" one byte at a time, 20 ms apart: one read gets a piece.
	PROBE_PIECES=1/20 serve_on 127.0.0.1
	run_prog "$LAB_BIN/connect" 127.0.0.1 "$srv_port" "$msg"
	assert_success
	assert_line "echo: $msg"
}

@test "06-connect: the longest line allowed (1000 bytes) makes the round trip whole" {
	local msg
	msg=$(random_line)$(printf 'x%.0s' {1..1000})
	msg=${msg:0:1000}
	serve_on 127.0.0.1
	run_prog "$LAB_BIN/connect" 127.0.0.1 "$srv_port" "$msg"
	assert_success
	grep -qxF "got $msg" <(server_said) ||
		fail "the server did not read the 1000-byte line followed by a newline (is the buffer for the line and its newline big enough?)"
	assert_line "echo: $msg"
}

@test "06-connect: a server that resets the connection instead of answering makes read fail with ECONNRESET" {
	start_bg srv "$PROBE" reset 127.0.0.1 0
	srv_port=${line##* }
	traced read "$LAB_BIN/connect" 127.0.0.1 "$srv_port" "$(random_line)"
	assert_errno read ECONNRESET
	assert_traced read ECONNRESET
}

@test "06-connect: a failing socket, getsockname or getpeername (made to fail by strace) ends the client with its errno" {
	need_strace
	serve_on 127.0.0.1 2
	injected socket EACCES "$LAB_BIN/connect" 127.0.0.1 "$srv_port" "$(random_line)"
	injected getsockname EBADF "$LAB_BIN/connect" 127.0.0.1 "$srv_port" "$(random_line)"
	injected getpeername ENOTCONN "$LAB_BIN/connect" 127.0.0.1 "$srv_port" "$(random_line)"
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "06-connect: a bad port, a missing or extra argument, or no arguments, is a usage error, exit 2" {
	run_prog "$LAB_BIN/connect"
	assert_usage
	run_prog "$LAB_BIN/connect" 127.0.0.1
	assert_usage
	local p
	for p in abc -1 65536; do
		run_prog "$LAB_BIN/connect" 127.0.0.1 "$p"
		assert_usage
	done
	run_prog "$LAB_BIN/connect" 127.0.0.1 80 one two
	assert_usage
	run_prog "$LAB_BIN/connect" -x 127.0.0.1 80
	assert_usage
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "06-connect: a host that is not a numeric IPv4 or IPv6 address is a usage error, exit 2" {
	local h
	for h in localhost 1.2.3 256.1.1.1 ::g; do
		run_prog "$LAB_BIN/connect" "$h" 80
		assert_usage
	done
}

# Predictions (labs/06-connect/predictions.md): the kit's probe runs each experiment, so the truth is
# what the kernel did in this run; nothing in this file says what it is.
READ06="docs/06-connect.md, the section"
ZH06="(中文: docs/zh/06-connect.md)"


@test "06-connect: prediction P1: the errno of a connect to a port that is bound but not listening" {
	start_bg rsv "$PROBE" reserve 127.0.0.1 0
	local closed=${line##* }
	run_prog "$PROBE" connect 127.0.0.1 "$closed"
	probe_errno
	expect_prediction P1 errno "$errno" \
		"port $closed was bound by another socket that never listened; connect() to 127.0.0.1:$closed $happened" \
		"$READ06 \"What connect() does and when it returns\" $ZH06"
}

@test "06-connect: prediction P2: the local port of a client socket before connect" {
	run_prog "$PROBE" try unbound
	assert_success
	[[ $output =~ ^local\ [0-9.]+\ ([0-9]+)$ ]] || fail "the probe printed no \"local ADDR PORT\" line"
	expect_prediction P2 number "${BASH_REMATCH[1]}" \
		"getsockname() on a new TCP socket, before connect(), gave ${output#local } (address, port)" \
		"$READ06 \"The client's two steps\" $ZH06"
}

@test "06-connect: prediction P3: the state of a client whose server never calls accept" {
	start_bg lst "$PROBE" listen 127.0.0.1 0
	local sport=${line##* } st
	start_bg cli "$PROBE" hold 127.0.0.1 "$sport"
	local cport=${line##* }
	st=$(ss -Htan "sport = :$cport and dport = :$sport" | awk '{ print $1; exit }')
	echo "\$ ss -Htan 'sport = :$cport and dport = :$sport'"
	ss -Htan "sport = :$cport and dport = :$sport"
	# ss says ESTAB: ESTABLISHED is the same state.
	[[ $st != ESTAB ]] || st="ESTAB|ESTABLISHED"
	expect_prediction P3 word "${st:-none}" \
		"connect() returned and ss -tan shows the client (port $cport) in ${st%%|*}, though the server never called accept()" \
		"$READ06 \"What connect() does and when it returns\" $ZH06"
}

# The Recv-Q of the server's end (local port $1, peer port $2) of an established connection.
server_recvq() { ss -Htn state established "( sport = :$1 and dport = :$2 )" | awk '{ print $1; exit }'; }
recvq_not_empty() { [[ $(server_recvq "$1" "$2") =~ ^[1-9] ]]; }

@test "06-connect: prediction P4: the Recv-Q of a server end that never accepts, after the client sent 100 bytes" {
	start_bg lst "$PROBE" listen 127.0.0.1 0
	local sport=${line##* } q
	# stream -p: send the bytes, then read nothing and hold the connection.
	start_bg cli "$PROBE" stream -p 127.0.0.1 "$sport" 100
	local cport=${line##* }
	wait_until recvq_not_empty "$sport" "$cport" || true
	q=$(server_recvq "$sport" "$cport")
	echo "\$ ss -Htn state established '( sport = :$sport and dport = :$cport )'"
	ss -Htn state established "( sport = :$sport and dport = :$cport )"
	expect_prediction P4 number "${q:-none}" \
		"the client sent 100 bytes; ss showed Recv-Q ${q:-(no connection)} at the server's end, whose program never called accept() or read()" \
		"$READ06 \"After connect(): a full-duplex byte stream\" $ZH06"
}
