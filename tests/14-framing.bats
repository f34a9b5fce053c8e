#!/usr/bin/env bats
# 14-framing: messages on a byte stream. The other end is always the kit's probe (`probe framed`):
# as a client it cuts the byte stream into write()s where the test says (every byte, one write for
# everything, pieces of 1000 bytes) and, after each write, waits until the kernel says the server
# has received AND read it (sock_diag: the server socket's bytes_received and empty receive queue),
# so that a split is a split in the server's read() calls too; then it checks every answer against
# its message reversed. As a server it shows the client's bytes as they came on the wire. strace
# counts the calls where the number of calls is the lesson (a buffered reader, one send per message).
load lib/socklab
load lib/calls

setup_file() { lab_setup_file 14-framing; }
setup() { lab_setup; }
teardown() { lab_teardown; }

LO=127.0.0.1
SEE="docs/14-framing.md (中文: docs/zh/14-framing.md)"

# server [-l]: start frame_sv on $LO, port 0; $sv_port is the port it reports.
server() { start_bg sv "$LAB_BIN/frame_sv" "$@" "$LO" 0; }

# send ARGS...: the probe as client of the server: probe framed send ARGS... $LO $sv_port ITEMS;
# the arguments before "--" are the probe's options, the ones after it the items.
send() {
	local opts=()
	while [[ $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	shift
	run_prog -t 8 "$PROBE" framed send "${opts[@]}" "$LO" "$sv_port" "$@"
	[[ $status == 0 ]] && return 0
	sv_so_far
	if [[ $output == *"the peer closed the connection after write"* ]]; then
		fail "the server closed the connection before the probe had sent all its bytes (see the server's own words above): a piece of a message is not the end of it"
	elif [[ $output == *"the peer did not read all of write"* ]]; then
		fail "the server stopped reading before the end of the probe's bytes (see above): it must read on until a whole message is in, whatever the pieces"
	fi
	fail "the probe found wrong answers (NOT message K reversed, see above): each answer must be its message's payload reversed. Read $SEE, \"The protocol of this lab\""
}

# sv_so_far: show what the server has printed so far, both streams.
sv_so_far() {
	local out err
	sl_slurp out "$BATS_TEST_TMPDIR/sv.out"
	sl_slurp err "$BATS_TEST_TMPDIR/sv.err"
	echo "the server's stdout so far:"
	sl_indent "$out"
	echo "the server's stderr so far:"
	sl_indent "$err"
}

# replies N END: the probe got N replies, each its message reversed, then END (EOF, ...).
replies() {
	local k
	for ((k = 1; k <= $1; k++)); do
		[[ $output == *"reply $k: "*", message $k reversed"* ]] ||
			fail "the probe expected reply $k to be message $k's payload reversed (see what it got above). Read $SEE, \"The protocol of this lab\""
	done
	[[ $output =~ (^|$'\n')$1\ replies,\ then\ ($2)$ ]] ||
		fail "the probe expected exactly $1 replies, then ${2//|/ or } (see what it got above)"
}

# said K TEXT: the server's stdout so far has the line "client K: TEXT" (waits for it, bounded).
said() {
	wait_until grep -qxF -- "client $1: $2" "$BATS_TEST_TMPDIR/sv.out" && return 0
	sv_so_far
	fail "expected the server to print \"client $1: $2\" (the exact lines are in the header of frame_sv.c)"
}

# The socket calls of a program traced by strace in $1, on the descriptor that accept() or connect()
# gave it: "CALL RESULT", one a line (calls that move bytes only, the ones named in $2).
calls_on_socket() {
	awk -v calls="$2" '
		{ sub(/^[0-9]+ +/, "") }
		/^(accept|accept4)\(/ && / = [0-9]+$/ { fd = $NF; next }
		/^connect\(/ && / = 0$/ { fd = substr($0, 9); sub(/,.*/, "", fd); next }
		fd != "" {
			name = $0; sub(/\(.*/, "", name)
			if (index(" " calls " ", " " name " ") == 0) next
			arg = substr($0, length(name) + 2); sub(/,.*/, "", arg)
			if (arg == fd) print name, $NF
		}' "$1"
}

# RLIMIT_AS for a program that must not allocate what a client announces: a limit in KiB, or none
# for a sanitizer build (ASan reserves terabytes of address space for its shadow memory).
as_limit() {
	if [[ -n ${SAN:-} || $LAB_REAL == */build/san/* ]]; then
		echo unlimited
	else
		echo 32768
	fi
}

@test "14-framing: the server answers each length-prefixed message with its payload reversed (one write per message, an empty one too)" {
	server
	send -- "hello" "" "framing on a stream"
	assert_line --index 0 "sent 36 bytes in 3 writes, each read by the peer before the next"
	replies 3 EOF
	said 1 "3 messages, then EOF"
}

@test "14-framing: messages split at every byte boundary, each byte read by the server before the next is sent, are answered the same" {
	server
	send -x 1 -- "hi" "" "framing"
	# The kernel's word (sock_diag): each of the 21 bytes was in the server's hands before the next left.
	assert_line --index 0 "sent 21 bytes in 21 writes, each read by the peer before the next"
	replies 3 EOF
	said 1 "3 messages, then EOF"
	# Pieces that end inside the length, and the next message's length in the same piece.
	send -x 3,5,2,7 -- "one" "two words" "" "three"
	replies 4 EOF
	said 2 "4 messages, then EOF"
}

@test "14-framing: several messages coalesced into one write are answered one by one" {
	server
	send -x all -- "one" "two" "" "three" "%5000"
	assert_line --index 0 "sent 5031 bytes in 1 write"
	replies 5 EOF
	said 1 "5 messages, then EOF"
}

@test "14-framing: the server reads through a buffer: five messages, or five lines, coalesced into one write take one read() call (strace)" {
	need_strace
	local mode t calls n
	for mode in messages lines; do
		t=$BATS_TEST_TMPDIR/$mode.strace
		local l=()
		[[ $mode == lines ]] && l=(-l)
		start_bg sv strace -f -qq -o "$t" -e trace=accept,accept4,read,recv,recvfrom,recvmsg,readv \
			"$LAB_BIN/frame_sv" "${l[@]}" "$LO" 0
		send "${l[@]}" -x all -- "one" "two" "three" "four" "five"
		replies 5 EOF
		said 1 "5 $mode, then EOF"
		stop_bg sv
		calls=$(calls_on_socket "$t" "read recv recvfrom recvmsg readv")
		echo "the server's reads on the client's socket ($mode), strace: CALL RESULT"
		sl_indent "$calls"
		n=$(awk '$2 > 0' <<<"$calls" | grep -c .)
		((n == 1)) ||
			fail "the 5 $mode came in one write and were all there at once: a buffered reader takes them with one read() call, this server made $n that returned data. Read $SEE, \"Why a buffered reader\""
	done
}

@test "14-framing: a message of the maximum length (65536 bytes, in writes of 1000 bytes) is answered; a length of 65537 is a protocol error" {
	server
	send -x 1000 -- "%65536"
	assert_line --index 0 "sent 65540 bytes in 66 writes, each read by the peer before the next"
	replies 1 EOF
	said 1 "1 messages, then EOF"
	# -k: the probe does not half-close; only the server's own close ends the connection.
	send -k -- "@00010001"
	replies 0 "EOF|ECONNRESET"
	said 2 "protocol error: message 1 announces 65537 bytes, over the maximum of 65536"
}

@test "14-framing: a length of 4294967295 or 2147483648 is a protocol error that closes the connection, without allocating it (RLIMIT_AS 32 MiB), and the next client is served" {
	# A server that believed the length would ask malloc for 4 GiB (refused under this limit), or
	# wait for 4 GiB to arrive; a signed length makes 2147483648 negative, "smaller than the maximum".
	local lim
	lim=$(as_limit)
	echo "the server runs with ulimit -v $lim (KiB)"
	# shellcheck disable=SC2016
	start_bg sv bash -c 'ulimit -v "$0" && exec "$@"' "$lim" "$LAB_BIN/frame_sv" "$LO" 0
	send -k -- "ok" "@ffffffff"
	replies 1 "EOF|ECONNRESET"
	said 1 "protocol error: message 2 announces 4294967295 bytes, over the maximum of 65536"
	send -k -- "@80000000"
	replies 0 "EOF|ECONNRESET"
	said 2 "protocol error: message 1 announces 2147483648 bytes, over the maximum of 65536"
	send -- "still" "there"
	replies 2 EOF
	said 3 "2 messages, then EOF"
}

@test "14-framing: EOF between messages is the normal end; EOF inside a length or inside a payload is reported as such" {
	server
	send -- "one" "two"
	replies 2 EOF
	said 1 "2 messages, then EOF"
	# The probe half-closes after 2 of the 4 bytes of the second message's length.
	send -- "one" "@0000"
	replies 1 EOF
	said 2 "EOF inside the length of message 2, after 2 of 4 bytes"
	# ... after the length 10 and 5 bytes of the payload, each in its own write.
	send -x 4,1 -- "@0000000a" "@6865" "@6c6c6f"
	replies 0 EOF
	said 3 "EOF inside message 1, after 5 of 10 bytes"
	# Nothing at all: connected, then EOF.
	send -- "@"
	replies 0 EOF
	said 4 "0 messages, then EOF"
}

@test "14-framing: a client that resets the connection (ECONNRESET) is reported and dropped, and the next client is served" {
	server
	run_prog "$PROBE" rst "$LO" "$sv_port"
	assert_success
	said 1 "dropped after 0 messages"
	send -- "next"
	replies 1 EOF
	said 2 "1 messages, then EOF"
	stop_bg sv
	[[ $stderr =~ ^frame_sv:\ (recv|read|recvfrom|recvmsg):\ ECONNRESET\ \( ]] ||
		fail "expected the server to report the reset as \"frame_sv: recv: ECONNRESET (...)\" (or read:) on stderr"
}

@test "14-framing: in line mode (-l) the server answers each line reversed, whether lines come one per write, one byte per write or all in one write" {
	server -l
	local split
	for split in "" 1 all; do
		local x=()
		[[ -n $split ]] && x=(-x "$split")
		send -l "${x[@]}" -- "hello" "" "a line protocol"
		replies 3 EOF
	done
	assert_line --index 0 "sent 23 bytes in 1 write"
	said 1 "3 lines, then EOF"
	said 2 "3 lines, then EOF"
	said 3 "3 lines, then EOF"
}

@test "14-framing: in line mode a line of 1024 bytes is answered, a longer one is a protocol error, and EOF after part of a line is reported as EOF inside a line" {
	server -l
	send -l -- "%1024"
	replies 1 EOF
	said 1 "1 lines, then EOF"
	send -l -k -- "short" "%1025"
	replies 1 "EOF|ECONNRESET"
	said 2 "protocol error: line 2 is longer than 1024 bytes"
	send -l -- "whole" "@70617274"
	replies 1 EOF
	said 3 "EOF inside line 2, after 4 bytes and no newline"
}

# cl_with SERVE_OPTS... -- MSGS...: start the probe as the server (probe framed serve OPTS), run
# frame_cl against it with the messages, wait for the probe to end.
cl_with() {
	local opts=()
	while [[ $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	shift
	start_bg ps "$PROBE" framed serve "${opts[@]}" "$LO" 0
	run_prog "$LAB_BIN/frame_cl" "$LO" "$ps_port" "$@"
	cl_status=$status cl_output=$output cl_stderr=$stderr
}

@test "14-framing: the client's bytes on the wire are exactly a 4-byte big-endian length and the payload (read by the probe): 258 is 00 00 01 02" {
	local m258
	m258=$(printf 'bytes%.0s' {1..51})xyz
	cl_with -- "hi" "$m258" ""
	assert_success
	assert_line --index 0 "reply 1: ih"
	assert_line --index 1 "reply 2: $(rev <<<"$m258")"
	assert_line --index 2 "reply 3: "
	wait_exit ps
	echo "the probe's view of the client's bytes:"
	assert_line "message 1: 00 00 00 02 68 69"
	[[ $output == *$'\n'"message 2: 00 00 01 02 62 79 74 65 73 62 79 74 65 73 62 79 ... (262 bytes)"$'\n'* ]] ||
		fail "expected the second message on the wire as 00 00 01 02 (258 in network byte order: most significant byte first), then its payload \"bytesbytes...\": 262 bytes. Read $SEE, \"Byte order: the length on the wire\""
	assert_line "message 3: 00 00 00 00"
	assert_line "3 messages, then EOF"
}

@test "14-framing: the client sends each message with one call, its length and payload together (strace)" {
	need_strace
	start_bg ps "$PROBE" framed serve "$LO" 0
	traced connect,write,send,sendto,sendmsg,writev "$LAB_BIN/frame_cl" "$LO" "$ps_port" "one" "two" "three" "four"
	assert_success
	assert_line --index 3 "reply 4: ruof"
	wait_exit ps
	assert_line "4 messages, then EOF"
	[[ -n $trace ]] || return 0
	local calls n
	calls=$(calls_on_socket "$trace" "write send sendto sendmsg writev")
	echo "the client's writes on its socket, strace: CALL RESULT"
	sl_indent "$calls"
	n=$(grep -c . <<<"$calls")
	((n == 4)) ||
		fail "4 messages should take 4 calls (the length and the payload built into one buffer, or one writev), not $n: a length sent on its own waits for the server's delayed ACK, about 40 ms a message. Read $SEE, \"Nagle's algorithm and the length in its own segment\""
}

@test "14-framing: the client reassembles answers the probe sends one byte per write, each read by the client before the next" {
	cl_with -x 1 -- "hello" "two words" ""
	[[ $cl_status == 0 ]] || fail "the client failed (status $cl_status): answers that come one byte at a time are still whole answers"
	[[ $cl_output == $'reply 1: olleh\nreply 2: sdrow owt\nreply 3: ' ]] ||
		fail "expected \"reply 1: olleh\", \"reply 2: sdrow owt\", \"reply 3: \" (one byte per read: readn must loop until it has all). Read $SEE, \"readn: a loop until n bytes\""
	wait_exit ps
	assert_line "3 messages, then EOF"
}

@test "14-framing: the client reports an answer whose length is over the maximum as a protocol error, exit 1" {
	local lim
	lim=$(as_limit)
	start_bg ps "$PROBE" framed serve -a ffffffff "$LO" 0
	# shellcheck disable=SC2016
	run_prog bash -c 'ulimit -v "$0" && exec "$@"' "$lim" "$LAB_BIN/frame_cl" "$LO" "$ps_port" "hello"
	[[ $status == 1 ]] || fail "expected exit status 1 (a protocol error), got $status"
	[[ $stderr == "frame_cl: protocol error: reply 1 announces 4294967295 bytes, over the maximum of 65536" ]] ||
		fail "expected \"frame_cl: protocol error: reply 1 announces 4294967295 bytes, over the maximum of 65536\" on stderr, before reading (or allocating) any of it"
	[[ -z $output ]] || fail "expected no reply on stdout"
}

@test "14-framing: the client reports a server that closes before an answer, inside its length or inside its payload, exit 1" {
	local raw want
	for raw in "" 0000 0000000568 00000005686f; do
		case $raw in
		"") want="the server closed the connection before reply 1" ;;
		0000) want="EOF inside the length of reply 1, after 2 of 4 bytes" ;;
		0000000568) want="EOF inside reply 1, after 1 of 5 bytes" ;;
		*) want="EOF inside reply 1, after 2 of 5 bytes" ;;
		esac
		cl_with -a "$raw" -- "hello"
		[[ $status == 1 && $stderr == "frame_cl: $want" ]] ||
			fail "the probe answered with the bytes \"$raw\" and closed: expected exit status 1 and \"frame_cl: $want\" on stderr. Read $SEE, \"EOF, clean or not\""
		wait_exit ps
	done
}

# bats test_tags=points:0
@test "14-framing: frame_sv without arguments, with a bad address or a bad port is a usage error, exit 2" {
	local args
	for args in "" "$LO" "-l" "-l $LO" "$LO 0 extra" "-x $LO 0" "localhost 0" "$LO abc" "$LO 65536"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/frame_sv" $args
		assert_usage
	done
}

# bats test_tags=points:0
@test "14-framing: frame_cl without a message, with a bad address or a bad port is a usage error, exit 2" {
	local args
	for args in "" "$LO" "$LO 80" "localhost 80 hi" "$LO abc hi" "$LO 0 hi" "$LO 65536 hi"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/frame_cl" $args </dev/null
		assert_usage
	done
	run_prog "$LAB_BIN/frame_cl" "$LO" 80 "$(head -c 65537 /dev/zero | tr '\0' x)"
	assert_usage
}

# Predictions (labs/14-framing/predictions.md): the probe runs each experiment on a loopback
# connection of its own; the kernel's answer in this run is the truth.
@test "14-framing: prediction P1: how many read() calls a 10-byte frame sent one byte per write takes" {
	run_prog "$PROBE" framed reads
	assert_success
	[[ ${lines[0]:-} =~ made\ ([0-9]+)\ read ]] || fail "the probe printed no \"split: ... made N read() calls\" line"
	expect_prediction P1 number "${BASH_REMATCH[1]}" "${lines[0]}" "$SEE, \"A stream has no messages\""
}

@test "14-framing: prediction P2: how many read() calls a buffered reader makes for three frames in one write" {
	run_prog "$PROBE" framed reads
	assert_success
	[[ ${lines[2]:-} =~ made\ ([0-9]+)\ read ]] || fail "the probe printed no \"coalesced: ... buffered reader ... made N read() call\" line"
	expect_prediction P2 number "${BASH_REMATCH[1]}" "${lines[2]}; ${lines[1]}" "$SEE, \"Why a buffered reader\""
}

@test "14-framing: prediction P3: the four bytes of the length 258 on the wire" {
	run_prog "$PROBE" framed bytes
	assert_success
	[[ ${lines[0]:-} =~ wire:\ ([0-9a-f]{2})\ ([0-9a-f]{2})\ ([0-9a-f]{2})\ ([0-9a-f]{2}) ]] ||
		fail "the probe printed no \"length 258 with htonl: 4 bytes on the wire: .. .. .. ..\" line"
	local hex=${BASH_REMATCH[1]}${BASH_REMATCH[2]}${BASH_REMATCH[3]}${BASH_REMATCH[4]}
	expect_prediction P3 word "$hex|0x$hex" "${lines[0]}" "$SEE, \"Byte order: the length on the wire\""
}

@test "14-framing: prediction P4: how many bytes a struct sent raw puts on the wire" {
	run_prog "$PROBE" framed bytes
	assert_success
	[[ ${lines[2]:-} =~ raw:\ ([0-9]+)\ bytes ]] || fail "the probe printed no \"struct ... sent raw: N bytes on the wire\" line"
	expect_prediction P4 number "${BASH_REMATCH[1]}" "${lines[2]}" "$SEE, \"Why not send the struct as it is\""
}
