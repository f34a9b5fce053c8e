#!/usr/bin/env bats
# 13-udp: datagrams. The kit's probe is the other end of every exchange (probe udp: echo, send,
# flood, reserve), so the server is checked against a client it did not write and the client
# against a server it did not write; what the probe got back, the receive queues `ss -uan` shows,
# the kernel's counters in /proc/net/snmp (in a network namespace of the test's own) and the
# system calls strace saw are the proof, not what a program says it did.
load lib/socklab
load lib/calls

setup_file() { lab_setup_file 13-udp; }
setup() { lab_setup; }
teardown() { lab_teardown; }

LO=127.0.0.1
READ="docs/13-udp.md (中文: docs/zh/13-udp.md)"

# server [OPTIONS...]: start udp_sv OPTIONS 127.0.0.1 0 as background "sv"; its port in $svport.
server() {
	start_bg sv "$LAB_BIN/udp_sv" "$@" "$LO" 0
	[[ $sv_line =~ ^listening\ 127\.0\.0\.1\ port\ ([0-9]+)$ ]] ||
		fail "expected udp_sv's first line to be \"listening 127.0.0.1 port N\""
	svport=${BASH_REMATCH[1]}
}

# send_from_probe [-w MS] DGRAM...: the probe sends each DGRAM as one datagram to udp_sv (and,
# with -w, prints every reply until it has one per datagram or none came for MS ms); its port in
# $cport.
send_from_probe() {
	local w=()
	if [[ $1 == -w ]]; then
		w=(-w "$2")
		shift 2
	fi
	run_prog "$PROBE" udp send "${w[@]}" "$LO" "$svport" "$@"
	assert_success
	[[ ${lines[0]:-} =~ ^local\ [0-9.]+\ ([0-9]+)$ ]] || fail "the probe printed no \"local ADDR PORT\" line"
	cport=${BASH_REMATCH[1]}
}

# recv_q [NS...] PORT: the Recv-Q of the UDP socket on PORT, as ss shows it (in the namespace NS if
# given: the nsenter command).
recv_q() {
	local p=${*: -1}
	"${@:1:$#-1}" ss -Huan "( sport = :$p )" | awk '{ print $2; exit }'
}
queue_empty() { [[ $(recv_q "$@") == 0 ]]; }

# The "udp_sv -s / -r" and the probe's replies: the bytes of "@N" are a..z again and again.
filler() { local s=abcdefghijklmnopqrstuvwxyz; s=$s$s$s; echo "${s:0:$1}"; }

@test "13-udp: udp_sv reports each datagram with its length and its sender, and sends it back to that sender" {
	server
	send_from_probe -w 2000 "hello, udp"
	local a=$cport
	assert_line --index 2 "reply 10 bytes from $LO $svport: hello, udp"
	# A second client on the same socket: no accept, no new socket, the reply goes to its sender.
	send_from_probe -w 2000 "second"
	local b=$cport
	assert_line --index 2 "reply 6 bytes from $LO $svport: second"
	((${#lines[@]} == 3)) || fail "the second client got more than its own reply"
	wait_output sv "port $b"
	stop_bg sv
	assert_line --index 1 "datagram 1: 10 bytes from $LO port $a \"hello, udp\""
	assert_line --index 2 "datagram 2: 6 bytes from $LO port $b \"second\""
}

@test "13-udp: three datagrams queued together are still three receives: the boundaries are kept" {
	server
	# The server is stopped while the three datagrams arrive: all three wait in its queue at once.
	kill -STOP "$sv_pid"
	start_bg cl "$PROBE" udp send -w 3000 "$LO" "$svport" a @300 xyz
	cport=$cl_port
	wait_output cl "sent 3 bytes"
	echo "udp_sv's receive queue while it is stopped (ss -uan): Recv-Q $(recv_q "$svport") bytes"
	kill -CONT "$sv_pid"
	wait_exit cl
	assert_line --index 4 "reply 1 bytes from $LO $svport: a"
	assert_line --index 5 "reply 300 bytes from $LO $svport: $(filler 64)"
	assert_line --index 6 "reply 3 bytes from $LO $svport: xyz"
	stop_bg sv
	assert_line --index 1 "datagram 1: 1 bytes from $LO port $cport \"a\""
	assert_line --index 2 "datagram 2: 300 bytes from $LO port $cport \"$(filler 64)\""
	assert_line --index 3 "datagram 3: 3 bytes from $LO port $cport \"xyz\""
	((${#lines[@]} == 4)) || fail "expected exactly three datagrams: one recvfrom() takes one datagram, never more"
}

@test "13-udp: an empty datagram is a datagram (recvfrom returns 0), not an end of file: the server goes on" {
	server
	send_from_probe -w 2000 "" "after"
	assert_line --index 3 "reply 0 bytes from $LO $svport: "
	assert_line --index 4 "reply 5 bytes from $LO $svport: after"
	kill -0 "$sv_pid" 2>/dev/null || fail "udp_sv ended after an empty datagram: 0 from recvfrom is a datagram of 0 bytes, UDP has no end of file"
	stop_bg sv
	assert_line --index 1 "datagram 1: 0 bytes from $LO port $cport \"\""
	assert_line --index 2 "datagram 2: 5 bytes from $LO port $cport \"after\""
}

@test "13-udp: a datagram longer than the server's buffer is cut to it, MSG_TRUNC still tells its real length, and the next one comes whole" {
	server -s 10
	send_from_probe -w 2000 @100 next
	# The echo is what the server kept: 10 bytes. The other 90 are gone, not served as the next datagram.
	assert_line --index 3 "reply 10 bytes from $LO $svport: $(filler 10)"
	assert_line --index 4 "reply 4 bytes from $LO $svport: next"
	stop_bg sv
	assert_line --index 1 "datagram 1: 100 bytes from $LO port $cport, truncated to 10 \"$(filler 10)\""
	assert_line --index 2 "datagram 2: 4 bytes from $LO port $cport \"next\""
}

@test "13-udp: strace shows udp_sv's recvfrom with a 10-byte buffer and MSG_TRUNC returning 100, and no listen() nor accept()" {
	need_strace
	local trace=$BATS_TEST_TMPDIR/sv.strace
	start_bg sv env ASAN_OPTIONS="$(sl_no_lsan)" strace -f -qq -o "$trace" \
		-e trace=bind,listen,accept,accept4,recvfrom,recvmsg,sendto,sendmsg "$LAB_BIN/udp_sv" -s 10 "$LO" 0
	svport=$sv_port
	send_from_probe -w 2000 @100
	wait_output sv "truncated to 10"
	stop_bg sv
	echo "strace said:"
	sl_indent "$(cat "$trace")"
	grep -qE "^([0-9]+ +)?bind\(.*\) += 0$" "$trace" || fail "strace shows no bind() that succeeded"
	! grep -qE "^([0-9]+ +)?(listen|accept4?)\(" "$trace" ||
		fail "udp_sv called listen() or accept(): a datagram socket has no connections (EOPNOTSUPP); read $READ, \"No connection, no end of file\""
	grep -qE "^([0-9]+ +)?recvfrom\([0-9]+, .*, 10, MSG_TRUNC, .*\) += 100$" "$trace" ||
		fail "expected recvfrom(fd, buf, 10, MSG_TRUNC, ...) = 100: the flag makes the kernel return the datagram's real length; read $READ"
	grep -qE "^([0-9]+ +)?sendto\([0-9]+, \"$(filler 10)\", 10, 0, \{sa_family=AF_INET, sin_port=htons\($cport\), .*\) += 10$" "$trace" ||
		fail "expected sendto(fd, \"$(filler 10)\", 10, 0, {... the probe's port $cport ...}) = 10: the bytes kept, back to their sender"
}

@test "13-udp: udp_sv -r asks for a small receive buffer (SO_RCVBUF) and ss shows the size the kernel gave" {
	server -r 4096
	wait_output sv "receive buffer"
	run_prog "$PROBE" udp try rcvbuf 4096
	assert_success
	[[ ${lines[0]:-} =~ ^SO_RCVBUF\ 4096\ gives\ ([0-9]+)$ ]] || fail "the probe printed no \"SO_RCVBUF 4096 gives N\""
	local want=${BASH_REMATCH[1]} mem
	mem=$(ss -Huanm "( sport = :$svport )")
	echo "the kernel gives SO_RCVBUF 4096 as $want bytes; ss -uanm for udp_sv's port $svport:"
	sl_indent "$mem"
	[[ $mem == *"rb$want,"* ]] ||
		fail "expected udp_sv's socket to have a receive buffer of $want bytes (rb$want in ss -uanm): set SO_RCVBUF to the -r value before bind (TODO 13.1)"
	stop_bg sv
	assert_line --index 1 "receive buffer $want bytes (SO_RCVBUF)"
}

# The kernel's Udp RcvbufErrors counter in the namespace IN (the nsenter command).
rcvbuf_errors() {
	"${IN[@]}" awk '$1 == "Udp:" && $2 !~ /^[0-9]/ { for (i = 2; i <= NF; i++) col[$i] = i; next }
		$1 == "Udp:" { print $col["RcvbufErrors"]; exit }' /proc/net/snmp
}

@test "13-udp: a flood into a small receive buffer loses datagrams: the sequence numbers show the gaps, Udp RcvbufErrors counts each one (own network namespace)" {
	need_userns
	command -v ip >/dev/null && command -v nsenter >/dev/null ||
		skip "needs ip (iproute2) and nsenter (util-linux) for the test's own network namespace"
	# /proc/net/snmp counts for a whole network namespace: this one is the test's alone, its
	# loopback brought up, held by a probe.
	start_bg ns "${UNSHARE[@]}" -n sh -c 'ip link set lo up && exec "$0" udp reserve 127.0.0.1 0' "$PROBE"
	IN=(nsenter -t "$ns_pid" -n)
	((EUID == 0)) || IN+=(-U --preserve-credentials)
	start_bg sv "${IN[@]}" "$LAB_BIN/udp_sv" -r 8192 "$LO" 0
	[[ $sv_line =~ port\ ([0-9]+)$ ]] || fail "expected udp_sv's first line to be \"listening 127.0.0.1 port N\""
	svport=${BASH_REMATCH[1]}
	wait_output sv "receive buffer"
	local before after n=200 got lost seqs s mem drops
	before=$(rcvbuf_errors)
	# Stopped, the server reads nothing: its queue holds what its receive buffer allows.
	kill -STOP "$sv_pid"
	run_prog "${IN[@]}" "$PROBE" udp flood "$LO" "$svport" "$n" 1000
	assert_success
	after=$(rcvbuf_errors)
	# The socket's own count of dropped datagrams: the d of skmem in ss -m.
	mem=$("${IN[@]}" ss -Huanm "( sport = :$svport )")
	[[ $mem =~ [\(,]d([0-9]+)\) ]] && drops=${BASH_REMATCH[1]} || drops="?"
	kill -CONT "$sv_pid"
	# Once the queue is empty, a last datagram marks the end of what the server can still get.
	wait_until queue_empty "${IN[@]}" "$svport" || fail "udp_sv did not read its queue within $SOCKLAB_TIMEOUT s"
	run_prog "${IN[@]}" "$PROBE" udp send "$LO" "$svport" end
	wait_output sv '"end"'
	stop_bg sv
	seqs=$(grep -oE '"seq [0-9]+ ' "$BATS_TEST_TMPDIR/sv.out" | grep -oE '[0-9]+') || true
	got=$(wc -w <<<"$seqs")
	lost=$((n - got))
	echo "the probe sent $n datagrams of 1000 bytes (seq 1..$n); udp_sv printed $got of them: $(echo $seqs)"
	echo "Udp RcvbufErrors in the namespace: $before before the flood, $after after; the socket's drops (ss -m): $drops"
	sl_indent "$mem"
	((got >= 1)) || fail "udp_sv printed none of the probe's datagrams \"seq K ...\""
	local -A seen=()
	for s in $seqs; do
		((s >= 1 && s <= n)) && [[ -z ${seen[$s]:-} ]] ||
			fail "udp_sv printed the sequence number $s twice or out of 1..$n: each datagram is received once"
		seen[$s]=1
	done
	((lost >= 1)) ||
		fail "nothing was lost: a receive buffer of 8192 bytes (SO_RCVBUF, TODO 13.1) holds only a few datagrams of 1000 bytes"
	((after - before == lost)) ||
		fail "the kernel counted $((after - before)) datagrams dropped for a full receive buffer (Udp RcvbufErrors), but $lost sequence numbers are missing from udp_sv's output"
	[[ $drops == "$lost" ]] ||
		fail "ss -m counts $drops datagrams dropped on udp_sv's socket, but $lost sequence numbers are missing from its output"
}

# ---- the client ----

# echo_server [-o]: the probe as a UDP echo server (-o: it replies from a second port, $otherport).
echo_server() {
	start_bg sv "$PROBE" udp echo "$@" "$LO" 0
	svport=$sv_port
	if [[ ${1:-} == -o ]]; then
		wait_output sv "replies from"
		otherport=$(awk '/^replies from/ { print $4 }' "$BATS_TEST_TMPDIR/sv.out")
	fi
}

# The client's own port, from its line "local ADDR port P".
client_port() {
	local l
	for l in "${lines[@]}"; do
		[[ $l =~ ^local\ [0-9.]+\ port\ ([0-9]+)$ ]] && cport=${BASH_REMATCH[1]} && return 0
	done
	fail "expected a line \"local ADDR port P\" from udp_cl"
}

@test "13-udp: udp_cl sends each argument as one datagram and prints each reply with its sender" {
	echo_server
	run_prog "$LAB_BIN/udp_cl" "$LO" "$svport" one "" three
	assert_success
	client_port
	assert_line "sent 1: 3 bytes"
	assert_line "sent 2: 0 bytes"
	assert_line "sent 3: 5 bytes"
	assert_line "reply 1: 3 bytes from $LO port $svport \"one\""
	assert_line "reply 2: 0 bytes from $LO port $svport \"\""
	assert_line "reply 3: 5 bytes from $LO port $svport \"three\""
	wait_output sv "got 5 bytes"
	stop_bg sv
	assert_line --index 1 "got 3 bytes from $LO $cport"
	assert_line --index 2 "got 0 bytes from $LO $cport"
	assert_line --index 3 "got 5 bytes from $LO $cport"
}

@test "13-udp: a datagram of 65507 bytes goes there and back whole; one of 65508 fails with EMSGSIZE" {
	# 65535 (the IPv4 total length) - 20 (IPv4 header) - 8 (UDP header) = 65507
	server
	run_prog "$LAB_BIN/udp_cl" "$LO" "$svport" @65507
	assert_success
	client_port
	assert_line "reply 1: 65507 bytes from $LO port $svport \"$(filler 64)\""
	wait_output sv "datagram 1: 65507 bytes from $LO port $cport"
	traced sendto,send "$LAB_BIN/udp_cl" "$LO" "$svport" @65508
	assert_errno sendto EMSGSIZE
	assert_traced sendto EMSGSIZE
	# Connected, the datagram goes with send(): the error is reported under that name.
	traced connect,sendto,send "$LAB_BIN/udp_cl" -c "$LO" "$svport" @65508
	assert_errno send EMSGSIZE
	assert_traced sendto EMSGSIZE
}

@test "13-udp: unconnected, udp_cl takes a reply from any address; connected (-c), the kernel drops a reply from anyone but its peer" {
	echo_server -o
	run_prog "$LAB_BIN/udp_cl" "$LO" "$svport" hello
	assert_success
	assert_line "reply 1: 5 bytes from $LO port $otherport \"hello\""
	traced connect,recvfrom "$LAB_BIN/udp_cl" -c -w 200 "$LO" "$svport" hello
	client_port
	wait_output sv "got 5 bytes from $LO $cport"
	assert_errno recvfrom EAGAIN
	refute_line --partial "reply 1:"
	assert_traced recvfrom EAGAIN
	[[ -z $trace ]] || grep -qE "^([0-9]+ +)?connect\([0-9]+, \{sa_family=AF_INET, sin_port=htons\($svport\), .*\) += 0$" "$trace" ||
		fail "strace shows no connect() to port $svport that succeeded (TODO 13.5)"
}

@test "13-udp: connected (-c) to a port where nobody listens, the ICMP port unreachable comes back as ECONNREFUSED" {
	start_bg closed "$PROBE" udp reserve "$LO" 0
	traced connect,sendto,recvfrom "$LAB_BIN/udp_cl" -c -w 3000 "$LO" "$closed_port" hello
	assert_line "sent 1: 5 bytes"
	assert_errno recvfrom ECONNREFUSED
	assert_traced recvfrom ECONNREFUSED
}

@test "13-udp: unconnected, the same datagram brings no error: only the receive timeout (SO_RCVTIMEO) ends the wait, with EAGAIN" {
	start_bg closed "$PROBE" udp reserve "$LO" 0
	local t0=${EPOCHREALTIME/[.,]/} ms
	traced setsockopt,sendto,recvfrom "$LAB_BIN/udp_cl" -w 400 "$LO" "$closed_port" hello
	ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
	echo "udp_cl ran for $ms ms"
	assert_line "sent 1: 5 bytes"
	assert_errno recvfrom EAGAIN
	assert_traced recvfrom EAGAIN
	# (strace decodes the struct timeval, or, for SO_RCVTIMEO_OLD in older versions, shows its bytes)
	[[ -z $trace ]] || grep -qE 'setsockopt\([0-9]+, SOL_SOCKET, SO_RCVTIMEO(_OLD|_NEW)?, (\{tv_sec=0, tv_usec=400000\}|"(\\0){8}\\200\\32\\6(\\0){5}")' "$trace" ||
		fail "expected setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, {tv_sec=0, tv_usec=400000}, ...) for -w 400 (TODO 13.7)"
	((ms >= 380)) || fail "udp_cl gave up after $ms ms: it should wait the 400 ms of -w for a reply"
}

# bats test_tags=points:0
@test "13-udp: udp_sv with no arguments, a bad option, address or port is a usage error, exit 2" {
	local args
	for args in "" "$LO" "-r 0 $LO 0" "-s 0 $LO 0" "-s 65537 $LO 0" "-x 1 $LO 0" "$LO 65536" "1.2.3 0" \
		"localhost 0" "-r $LO 0"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/udp_sv" $args
		assert_usage
	done
}

# bats test_tags=points:0
@test "13-udp: udp_cl with no datagram, a bad option, address, port (0 too) or @N is a usage error, exit 2" {
	local args
	for args in "" "$LO 9" "$LO 0 hi" "$LO abc hi" "-w 0 $LO 9 hi" "-w x $LO 9 hi" "-q $LO 9 hi" \
		"$LO 9 @70001" "$LO 9 @x" "localhost 9 hi"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/udp_cl" $args
		assert_usage
	done
}

# ---- predictions (labs/13-udp/predictions.md): the probe runs each experiment ----

@test "13-udp: prediction P1: how many recvfrom calls return data after three sendto of 4 bytes" {
	run_prog "$PROBE" udp try three
	assert_success
	[[ ${lines[0]:-} =~ then\ ([0-9]+)\ recvfrom ]] || fail "the probe printed no \"... then N recvfrom ...\" line"
	expect_prediction P1 number "${BASH_REMATCH[1]}" "${lines[0]}" \
		"docs/13-udp.md, \"Datagrams, not a stream: one send, one receive\" (中文: docs/zh/13-udp.md)"
}

@test "13-udp: prediction P2: what recvfrom with MSG_TRUNC returns for a 100-byte datagram and a 10-byte buffer" {
	run_prog "$PROBE" udp try trunc
	assert_success
	[[ ${lines[0]:-} =~ ^recvfrom\ returned\ ([0-9]+)$ ]] || fail "the probe printed no \"recvfrom returned N\" line"
	expect_prediction P2 number "${BASH_REMATCH[1]}" "recvfrom(fd, buf, 10, MSG_TRUNC, ...) of a 100-byte datagram returned ${BASH_REMATCH[1]}; ${lines[1]:-}" \
		"docs/13-udp.md, \"A datagram that does not fit: truncation and MSG_TRUNC\" (中文: docs/zh/13-udp.md)"
}

# p_errno KIND_VAR: after run_prog of the probe, $errno (probe_errno) and the KIND for expect_prediction.
p_kind() {
	probe_errno
	kind=errno
	[[ $errno == none ]] && kind=word
	return 0
}

@test "13-udp: prediction P3: the errno of a sendto of 65508 bytes over IPv4" {
	local errno happened kind
	run_prog "$PROBE" udp try big 65508
	p_kind
	expect_prediction P3 "$kind" "$errno" "sendto() of 65508 bytes to 127.0.0.1 $happened" \
		"docs/13-udp.md, \"How big a datagram can be: 65507 bytes and EMSGSIZE\" (中文: docs/zh/13-udp.md)"
}

@test "13-udp: prediction P4: the errno of a connected UDP socket's second send to a port where nobody listens" {
	local errno happened kind
	start_bg closed "$PROBE" udp reserve "$LO" 0
	run_prog "$PROBE" udp try refused "$LO" "$closed_port"
	p_kind
	expect_prediction P4 "$kind" "$errno" "connected to a port where nobody listens, send 1 returned 5 bytes; the second send $happened" \
		"docs/13-udp.md, \"connect() on a datagram socket: a fixed peer, and errors from ICMP\" (中文: docs/zh/13-udp.md)"
}

@test "13-udp: prediction P5: the errno of an unconnected socket's recvfrom (SO_RCVTIMEO 200 ms) after two sendto to that port" {
	local errno happened kind
	start_bg closed "$PROBE" udp reserve "$LO" 0
	run_prog "$PROBE" udp try refused -u "$LO" "$closed_port"
	p_kind
	[[ $errno == EAGAIN ]] && errno="EAGAIN|EWOULDBLOCK"
	expect_prediction P5 "$kind" "$errno" "unconnected, both sendto() returned 5 bytes; then recvfrom() $happened" \
		"docs/13-udp.md, \"connect() on a datagram socket: a fixed peer, and errors from ICMP\" (中文: docs/zh/13-udp.md)"
}

@test "13-udp: prediction P6: the errno of listen() on a UDP socket" {
	local errno happened kind
	run_prog "$PROBE" udp try listen
	p_kind
	[[ $errno == EOPNOTSUPP ]] && errno="EOPNOTSUPP|ENOTSUP"
	expect_prediction P6 "$kind" "$errno" "listen() on a bound UDP socket $happened" \
		"docs/13-udp.md, \"No connection, no end of file\" (中文: docs/zh/13-udp.md)"
}
