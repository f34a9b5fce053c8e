#!/usr/bin/env bats
# 05-accept: the connected socket. The kit's probe is the client; what the server prints is checked
# against the probe's own view of the connection (its getsockname/getpeername) and against ss.
load lib/socklab
load lib/calls

setup_file() { lab_setup_file 05-accept; }
setup() { lab_setup; }
teardown() { lab_teardown; }

LO=127.0.0.1

# queue_len PORT N: wait (bounded: wait_until) until the listener on PORT has N connections
# waiting in its accept queue (ss -l shows that count as Recv-Q).
queue_len() {
	wait_until queue_is "$1" "$2" && return 0
	ss -Hltn "sport = :$1"
	fail "expected $2 connection(s) waiting in the accept queue of port $1 (ss Recv-Q)"
}
queue_is() { [[ $(ss -Hltn "sport = :$1" | awk '{ print $2 }') == "$2" ]]; }

# A probe client: connect to the server at $port (bounded), with MSG send it and read the answer.
# Sets cl_port: the client's own local port, from its getsockname().
client() {
	run_prog "$PROBE" connect "$LO" "$port" "$@"
	assert_success
	[[ ${lines[0]} =~ ^local\ [0-9.]+\ ([0-9]+)$ ]] || fail "the probe printed no \"local ADDR PORT\" line"
	cl_port=${BASH_REMATCH[1]}
}

# The server's line about client K in TEXT, split into c_lfd c_cfd c_peer c_pport c_local c_lport.
client_line() {
	local l re='^client [0-9]+: listening fd (-?[0-9]+), connected fd (-?[0-9]+), peer ([^ ]+) port ([0-9]+), local ([^ ]+) port ([0-9]+)$'
	l=$(grep -E "^client $2: " <<<"$1" | head -n 1)
	[[ $l =~ $re ]] ||
		fail "expected a line \"client $2: listening fd L, connected fd C, peer ADDR port P, local ADDR port Q\", got \"$l\""
	c_lfd=${BASH_REMATCH[1]} c_cfd=${BASH_REMATCH[2]} c_peer=${BASH_REMATCH[3]} c_pport=${BASH_REMATCH[4]}
	c_local=${BASH_REMATCH[5]} c_lport=${BASH_REMATCH[6]}
}

@test "05-accept: the peer port the server prints is the port the client got from its own getsockname" {
	start_bg srv "$LAB_BIN/accept" -a "$LO" -n 1 0
	client ping
	wait_exit srv
	assert_success
	client_line "$output" 1
	[[ $c_peer == "$LO" ]] || fail "the peer address should be $LO (the client's address), not $c_peer"
	[[ $c_pport == "$cl_port" ]] ||
		fail "the client's getsockname() says its port is $cl_port, the server printed peer port $c_pport (ntohs?)"
}

@test "05-accept: the client receives the greeting, which names the client's own address and port" {
	start_bg srv "$LAB_BIN/accept" -a "$LO" -n 1 0
	client ping
	assert_line "hello $LO port $cl_port, you are client 1"
	wait_exit srv
	assert_success
	# The probe sent "ping\n": 5 bytes, before the greeting came back.
	assert_line "client 1: read returned 5"
	# Nothing failed, so nothing was reported as failing.
	[[ -z $stderr ]] || fail "the server reported an error although read, send and close all succeeded"
}

@test "05-accept: the connected socket is a new fd whose local port is the listening port" {
	# The wildcard address: the connection's local address is still the one the client reached.
	start_bg srv "$LAB_BIN/accept" -n 1 0
	[[ $line =~ \(fd\ ([0-9]+)\) ]] || fail "the first line should end with \"(fd N)\", the listening fd"
	local lfd=${BASH_REMATCH[1]}
	client ping
	# The kernel's view, from the client's end: the connection's far end is the listening port.
	assert_line --index 1 "peer $LO $port"
	wait_exit srv
	client_line "$output" 1
	[[ $c_lfd == "$lfd" ]] || fail "the listening fd should be $lfd, as on the first line; got $c_lfd"
	[[ $c_cfd =~ ^[0-9]+$ && $c_cfd != "$c_lfd" ]] ||
		fail "accept() returns a NEW descriptor: the connected fd ($c_cfd) must differ from the listening fd ($c_lfd)"
	[[ $c_lport == "$port" ]] ||
		fail "the connected socket's local port (getsockname) is the listening port $port; got $c_lport"
	[[ $c_local == "$LO" ]] ||
		fail "the connected socket's local address is the one the client reached ($LO), even on 0.0.0.0; got $c_local"
}

@test "05-accept: while a client is connected, ss shows the server holding the connected fd on the listening port" {
	start_bg srv "$LAB_BIN/accept" -a "$LO" 0
	local sport=$port
	start_bg cli "$PROBE" hold "$LO" "$port"
	local cport=${line##* }
	port=$sport
	wait_output srv "client 1: "
	client_line "$(cat "$BATS_TEST_TMPDIR/srv.out")" 1
	echo "$ ss -Hltnp 'sport = :$port'"
	ss -Hltnp "sport = :$port"
	ss -Hltnp "sport = :$port" | grep -qF "pid=$srv_pid,fd=$c_lfd)" ||
		fail "ss should show the listening socket on port $port as fd $c_lfd of the server (pid $srv_pid)"
	echo "$ ss -Htnp state established '( sport = :$port )'"
	local est
	est=$(ss -Htnp state established "( sport = :$port )")
	echo "$est"
	[[ $est == *"$LO:$port $LO:$cport "*"pid=$srv_pid,fd=$c_cfd)"* ]] ||
		fail "ss should show the connection $LO:$port <-> $LO:$cport held by the server (pid $srv_pid) as fd $c_cfd"
	# The client leaves: the server's read() sees end of file, and the server goes on.
	stop_bg cli
	wait_output srv "client 1: read returned 0"
	stop_bg srv
	assert_success
}

@test "05-accept: several clients are served one after another through the same listening socket" {
	start_bg srv "$LAB_BIN/accept" -a "$LO" 0
	local i ports=()
	for i in 1 2 3; do
		client "message $i"
		assert_line "hello $LO port $cl_port, you are client $i"
		ports+=("$cl_port")
	done
	stop_bg srv
	assert_success
	local lfd=
	for i in 1 2 3; do
		client_line "$output" "$i"
		[[ $c_pport == "${ports[i - 1]}" ]] || fail "client $i connected from port ${ports[i - 1]}, the server printed $c_pport"
		[[ -z $lfd || $c_lfd == "$lfd" ]] || fail "every client comes through the same listening fd ($lfd), not $c_lfd"
		lfd=$c_lfd
		[[ $c_lport == "$port" ]] || fail "client $i: the local port should be the listening port $port, got $c_lport"
	done
	[[ ${ports[0]} != "${ports[1]}" && ${ports[1]} != "${ports[2]}" ]] || fail "three clients, three different ports"
}

@test "05-accept: with -n N the server exits 0 by itself after N clients and nothing listens on the port any more" {
	start_bg srv "$LAB_BIN/accept" -a "$LO" -n 2 0
	client one
	client two
	wait_exit srv
	assert_success
	client_line "$output" 2
	refute_output --partial "client 3"
	echo "$ ss -Hltn 'sport = :$port'"
	[[ -z $(ss -Hltn "sport = :$port") ]] || fail "nothing should listen on port $port once the server has exited"
}

@test "05-accept: SIGTERM ends the server with exit status 0 and closes the listening socket" {
	start_bg srv "$LAB_BIN/accept" -a "$LO" 0
	client ping
	[[ -n $(ss -Hltn "sport = :$port") ]] || fail "the server should still be listening on port $port after a client"
	stop_bg srv
	[[ $status == 0 ]] || fail "on SIGTERM the server should exit with status 0, got $status"
	echo "$ ss -Hltn 'sport = :$port'"
	[[ -z $(ss -Hltn "sport = :$port") ]] || fail "after SIGTERM nothing should listen on port $port"
	run_prog "$PROBE" connect "$LO" "$port"
	assert_errno connect ECONNREFUSED
}

@test "05-accept: accept on a socket that is not listening fails with EINVAL (-L)" {
	traced accept "$LAB_BIN/accept" -a "$LO" -L 0
	assert_errno accept EINVAL
	assert_traced accept EINVAL
}

@test "05-accept: a non-blocking accept with no client waiting fails at once with EAGAIN (-N)" {
	traced accept "$LAB_BIN/accept" -a "$LO" -N 0
	assert_errno accept EAGAIN
	assert_traced accept EAGAIN
}

@test "05-accept: a non-blocking accept takes a client that is already waiting (-N -w)" {
	start_bg srv "$LAB_BIN/accept" -a "$LO" -N -w -n 1 0
	local sport=$port socks
	# Setting a flag opens nothing: the server holds one socket, the listening one.
	socks=$(find "/proc/$srv_pid/fd" -lname 'socket:*' 2>/dev/null | wc -l)
	((socks == 1)) || fail "before any client the server should hold exactly one socket (the listening one), /proc/$srv_pid/fd shows $socks"
	start_bg cli "$PROBE" connect "$LO" "$port" ping
	local cport=${line##* }
	port=$sport
	queue_len "$port" 1
	kill -USR1 "$srv_pid"
	wait_exit cli
	assert_success
	assert_line "hello $LO port $cport, you are client 1"
	wait_exit srv
	assert_success
	client_line "$output" 1
	[[ $c_pport == "$cport" ]] || fail "the waiting client's port is $cport, the server printed $c_pport"
}

@test "05-accept: a client that connected and left before accept is still accepted, and read returns 0" {
	start_bg srv "$LAB_BIN/accept" -a "$LO" -w -n 2 0
	client
	local gone=$cl_port
	# The kernel completed the handshake without the server: the connection waits in the accept
	# queue (ss shows Recv-Q 1), although the client has closed it already.
	queue_len "$port" 1
	! grep -q '^client 1:' "$BATS_TEST_TMPDIR/srv.out" || fail "with -w the server must not accept before SIGUSR1"
	kill -USR1 "$srv_pid"
	queue_len "$port" 0
	# The server survives it: the next client is served as usual.
	client ping
	assert_line "hello $LO port $cl_port, you are client 2"
	wait_exit srv
	assert_success
	client_line "$output" 1
	[[ $c_pport == "$gone" ]] || fail "client 1 (port $gone) should be accepted although it had gone; got peer port $c_pport"
	assert_line "client 1: read returned 0"
}

@test "05-accept: a client that resets before accept: read reports ECONNRESET, send EPIPE (no SIGPIPE), the server goes on" {
	start_bg srv "$LAB_BIN/accept" -a "$LO" -w -n 2 0
	# The probe connects and closes with SO_LINGER {1, 0}: an RST to the connection in the queue.
	run_prog "$PROBE" rst "$LO" "$port"
	assert_success
	local gone=${lines[0]##* }
	queue_len "$port" 1
	kill -USR1 "$srv_pid"
	client ping
	assert_line "hello $LO port $cl_port, you are client 2"
	wait_exit srv
	assert_success
	client_line "$output" 1
	[[ $c_pport == "$gone" ]] || fail "client 1 (port $gone) should be accepted although it had reset; got peer port $c_pport"
	[[ $stderr =~ (^|$'\n')[^:$'\n']+:\ read:\ ECONNRESET\ \( ]] ||
		fail "expected the server to report \"accept: read: ECONNRESET (...)\" for client 1 (report_errno) and go on"
	[[ $stderr =~ (^|$'\n')[^:$'\n']+:\ send:\ EPIPE\ \( ]] ||
		fail "expected \"accept: send: EPIPE (...)\" for the greeting to the reset client: MSG_NOSIGNAL, not SIGPIPE"
}

@test "05-accept: three clients that connect before the first accept all complete their handshake (a real backlog)" {
	start_bg srv "$LAB_BIN/accept" -a "$LO" -w -n 3 0
	local sport=$port i
	for i in 1 2 3; do
		start_bg "c$i" "$PROBE" nbconnect "$LO" "$sport" 3000
		[[ $line == "connected "* ]] ||
			fail "client $i should complete its handshake while the server waits: listen() needs a backlog above 1"
	done
	port=$sport
	queue_len "$port" 3
	kill -USR1 "$srv_pid"
	# The clients hang up (their FIN: the server's read returns 0), and all three are served.
	for i in 1 2 3; do stop_bg "c$i"; done
	wait_exit srv
	assert_success
	assert_line "served 3 clients, closing the listening socket"
}

@test "05-accept: a failing listen, fcntl or getsockname (made to fail by strace) ends the server with its errno" {
	need_strace
	injected listen EADDRINUSE "$LAB_BIN/accept" -a "$LO" 0
	injected fcntl EBADF "$LAB_BIN/accept" -a "$LO" -N 0
	# The second getsockname: the connected socket's, once a client has come.
	start_injected srv getsockname:2 EBADF "$LAB_BIN/accept" -a "$LO" -n 1 0
	run_prog "$PROBE" connect "$LO" "$port"
	wait_exit srv
	assert_errno getsockname EBADF
}

@test "05-accept: a port given on the command line is the port the server listens on" {
	run "$PROBE" bind "$LO" 0
	local want=${output##* }
	start_bg srv "$LAB_BIN/accept" -a "$LO" -n 1 "$want"
	[[ $port == "$want" ]] || fail "the server should listen on port $want as asked, it says $port"
	[[ -n $(ss -Hltn "sport = :$want") ]] || fail "ss shows nothing listening on port $want"
	client ping
	assert_line --index 1 "peer $LO $want"
	wait_exit srv
	assert_success
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "05-accept: no arguments, a missing port or a bad port (abc, -1, 65536) is a usage error, exit 2" {
	run_prog "$LAB_BIN/accept"
	assert_usage
	run_prog "$LAB_BIN/accept" -a "$LO" -n 1
	assert_usage
	local p
	for p in abc -1 65536; do
		run_prog "$LAB_BIN/accept" -a "$LO" "$p"
		assert_usage
	done
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "05-accept: a bad address or a bad client count (-n 0, -n -1, -n abc) is a usage error, exit 2" {
	local a n
	for a in 256.1.1.1 localhost ::1; do
		run_prog "$LAB_BIN/accept" -a "$a" 0
		assert_usage
	done
	for n in 0 -1 abc; do
		run_prog "$LAB_BIN/accept" -a "$LO" -n "$n" 0
		assert_usage
	done
	run_prog "$LAB_BIN/accept" -x 0
	assert_usage
}

# Predictions (labs/05-accept/predictions.md): the kit's probe runs each experiment, so the truth is
# what the kernel did in this run; nothing in this file says what it is.
READ05="docs/05-accept.md, the paragraph"
ZH05="(中文: docs/zh/05-accept.md)"


@test "05-accept: prediction P1: how many different local ports a listening socket and three accepted sockets have" {
	start_bg srv "$PROBE" serve -n 3 "$LO" 0
	local lport=$port i ports=()
	local -A seen=([$lport]=1)
	# Each client's getpeername() is the server's connected socket as the kernel names it.
	for i in 1 2 3; do
		run_prog "$PROBE" connect "$LO" "$lport" "client $i"
		assert_success
		[[ ${lines[1]:-} =~ ^peer\ [0-9.]+\ ([0-9]+)$ ]] || fail "the probe client printed no \"peer ADDR PORT\" line"
		ports+=("${BASH_REMATCH[1]}")
		seen[${BASH_REMATCH[1]}]=1
	done
	expect_prediction P1 number "${#seen[@]}" \
		"the listening socket had port $lport, the three connected sockets had local ports ${ports[*]} (each client's getpeername): ${#seen[@]} different port number(s)" \
		"$READ05 \"The connected socket's own name\" $ZH05"
}

@test "05-accept: prediction P2: the errno of accept on a bound socket that never called listen" {
	run_prog "$PROBE" try accept-unlistened
	probe_errno
	expect_prediction P2 errno "$errno" "accept() on a socket bound to 127.0.0.1 without listen() $happened" \
		"$READ05 \"Errors worth knowing\" $ZH05"
}

@test "05-accept: prediction P3: the errno of a non-blocking accept with nobody in the queue" {
	run_prog "$PROBE" try accept-nonblock
	probe_errno
	# EAGAIN and EWOULDBLOCK are one number: either name is right.
	[[ $errno != EAGAIN ]] || errno="EAGAIN|EWOULDBLOCK"
	expect_prediction P3 word "$errno" "accept() on a non-blocking listener with an empty queue $happened" \
		"$READ05 \"Blocking\" $ZH05"
}

@test "05-accept: prediction P4: what the first read returns on a connection whose client closed before accept" {
	run_prog "$PROBE" try accept-gone
	assert_success
	[[ ${lines[1]:-} =~ ^read\ returned\ (-?[0-9]+)$ ]] || fail "the probe printed no \"read returned N\" line"
	expect_prediction P4 number "${BASH_REMATCH[1]}" \
		"the client connected and closed; then accept() returned the connection and the first read() returned ${BASH_REMATCH[1]}" \
		"$READ05 \"Errors worth knowing\" $ZH05"
}
