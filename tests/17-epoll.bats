#!/usr/bin/env bats
# 17-epoll: one thread, non-blocking sockets, an epoll loop. The peers are the kit's probe (idle
# connections, a client that stops reading, a slowloris, a burst in one send, an echo client that
# checks every byte), and the kernel is asked what the server really did: its epoll set and the
# event mask of every registered descriptor (/proc/PID/fdinfo of the epoll descriptor), the flags
# of its descriptors (O_NONBLOCK), its threads (/proc/PID/task), its memory (VmRSS), and the queues
# of its connections (ss): bytes it has not read wait in its Recv-Q.
load lib/socklab
load lib/calls

setup_file() { lab_setup_file 17-epoll; }
setup() { lab_setup; }
teardown() { lab_teardown; }

LO=127.0.0.1
READ_MORE='docs/17-epoll.md (中文: docs/zh/17-epoll.md)'

# server [-e] [NOFILE]: start epoll_sv on $LO, port 0; svport is its port. With NOFILE, its soft
# descriptor limit is raised to NOFILE first (within the hard limit: see need_nofile).
server() {
	local opt=()
	[[ ${1:-} == -e ]] && opt=(-e) && shift
	if [[ -n ${1:-} ]]; then
		# shellcheck disable=SC2016
		start_bg sv bash -c 'ulimit -Sn "$0" && exec "$@"' "$1" "$LAB_BIN/epoll_sv" "${opt[@]}" "$LO" 0
	else
		start_bg sv "$LAB_BIN/epoll_sv" "${opt[@]}" "$LO" 0
	fi
	svport=$sv_port
	[[ -n $svport ]] || fail "the server's first line names no port: expected \"listening on $LO port N (...)\""
}

# need_nofile N: skip unless this process may raise its descriptor limit to N (the hard limit).
need_nofile() {
	local hard
	hard=$(ulimit -Hn)
	[[ $hard == unlimited ]] || (($1 <= hard)) ||
		skip "needs $1 descriptors per process, and the hard limit (ulimit -Hn, RLIMIT_NOFILE) is $hard here"
}

# The server's epoll descriptor, from /proc: EPFD (fails the test if it has none).
find_epfd() {
	EPFD=$(find "/proc/$sv_pid/fd" -lname 'anon_inode:\[eventpoll\]' -printf '%f\n' 2>/dev/null | head -n 1)
	if [[ -z $EPFD ]]; then
		alive "$sv_pid" || { stop_bg sv; fail "the server died (exit status $status): see its stderr above"; }
		[[ -r /proc/$sv_pid/fdinfo ]] || skip "cannot read the server's /proc/$sv_pid/fd here"
		ls -l "/proc/$sv_pid/fd" | sed 1d
		fail "the server holds no epoll descriptor (anon_inode:[eventpoll] in /proc/$sv_pid/fd): create it with epoll_create1 (TODO(17.1))"
	fi
}

# registered: the number of descriptors in the server's epoll set.
registered() { grep -c '^tfd:' "/proc/$sv_pid/fdinfo/$EPFD" 2>/dev/null; }
at_least_registered() { (($(registered) >= $1)) || ! alive "$sv_pid"; }

# mask FD: the event mask (hex) that the server's epoll set holds for its descriptor FD.
mask() { awk -v fd="$1" '$1 == "tfd:" && $2 == fd { print $4 }' "/proc/$sv_pid/fdinfo/$EPFD" 2>/dev/null; }

# words HEX: an event mask in words (the kernel adds EPOLLERR and EPOLLHUP to every one).
words() {
	local m=$((16#${1:-0})) w=
	((m & 0x1)) && w+=" EPOLLIN"
	((m & 0x4)) && w+=" EPOLLOUT"
	((m & 0x2000)) && w+=" EPOLLRDHUP"
	((m & 0x80000000)) && w+=" EPOLLET"
	echo "${w# }"
}
has() { (((16#${1:-0}) & $2)); }
EPOLLIN=0x1 EPOLLOUT=0x4 EPOLLRDHUP=0x2000 EPOLLET=0x80000000

# show_set: the server's epoll set as the kernel holds it, one line per mask: how many have it.
show_set() {
	echo "the server's epoll set (/proc/$sv_pid/fdinfo/$EPFD), descriptors by event mask:"
	awk '$1 == "tfd:" { n[$4]++ } END { for (m in n) print n[m], m }' "/proc/$sv_pid/fdinfo/$EPFD" 2>/dev/null |
		while read -r n m; do printf '  %5d x %s (%s)\n' "$n" "$m" "$(words "$m")"; done
}

# conn_fd PEERPORT: the server's descriptor for its connection with the client on PEERPORT (the
# socket's inode from ss, found among the server's descriptors).
conn_fd() {
	local ino
	ino=$(ss -Htne "( sport = :$svport and dport = :$1 )" | grep -o 'ino:[0-9]*' | head -n 1)
	[[ -n $ino ]] || return 1
	find "/proc/$sv_pid/fd" -lname "socket:\[${ino#ino:}\]" -printf '%f\n' 2>/dev/null | head -n 1
}

# Is process $1 still alive (not gone, not a zombie)?
alive() {
	local st
	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" && [[ $st != Z ]]
}

# wait_sv_line TEXT: wait_output sv TEXT, but a server that dies on the way is reported as such.
wait_sv_line() {
	local text=$1
	wait_until eval 'grep -qF -- "$text" "$BATS_TEST_TMPDIR/sv.out" || ! alive "$sv_pid"' || true
	if ! grep -qF -- "$1" "$BATS_TEST_TMPDIR/sv.out" && ! alive "$sv_pid"; then
		stop_bg sv
		fail "the server died (exit status $status$( ((status == 141)) && echo ', killed by SIGPIPE: send with MSG_NOSIGNAL')) before printing \"$1\""
	fi
	wait_output sv "$1"
}

# rss: the server's resident memory in KiB (VmRSS).
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$sv_pid/status"; }

# The port at the end of a probe line ("local 127.0.0.1 41234").
last_word() { echo "${1##* }"; }

# queues PEERPORT: "RECVQ SENDQ" of the server's side of its connection with PEERPORT.
queues() { ss -Htn "( sport = :$svport and dport = :$1 )" | awk '{ print $2, $3; exit }'; }

# slow_start: a client (probe evloop slow) that sends for as long as the server lets it and never
# reads; at most what the kernel could ever hold for it (both buffers' maximum, twice) and 8 MiB.
slow_start() {
	local rmax wmax
	read -r _ _ rmax </proc/sys/net/ipv4/tcp_rmem
	read -r _ _ wmax </proc/sys/net/ipv4/tcp_wmem
	start_bg slow "$PROBE" evloop slow "$LO" "$svport" $((2 * (rmax + wmax) + 8388608))
	slowport=$(last_word "$slow_line")
}
# stuck: the slow client's connection is full both ways on the server's side: bytes the server has
# not read (Recv-Q) and echo the client does not take (Send-Q) - or the client gave up (all sent).
stuck() {
	local q
	grep -q 'without being made to wait\|closed or reset' "$BATS_TEST_TMPDIR/slow.out" && return 0
	! alive "$sv_pid" && return 0
	q=$(queues "$slowport")
	[[ -n $q && ${q% *} -gt 0 && ${q#* } -gt 0 ]]
}
# wait_stuck: wait until the slow client is stuck, or fail saying what the server did instead.
wait_stuck() {
	wait_until stuck || true
	if ! alive "$sv_pid"; then
		stop_bg sv
		fail "the server died while a client sent to it without reading its echo (exit status $status)"
	fi
	local said
	sl_slurp said "$BATS_TEST_TMPDIR/slow.out"
	if [[ $said == *"without being made to wait"* ]]; then
		echo "the slow client: $said"
		echo "the server's memory: VmRSS $(rss) KiB"
		fail "the server read everything a client sent although the client never read its echo: it must stop reading from a client whose output buffer is full (TODO(17.3)), so that the client's bytes wait in the kernel and the server's memory stays bounded"
	fi
	if [[ $said == *"closed or reset"* ]]; then
		echo "the slow client: $said"
		fail "the server dropped a client that only reads slowly (see its stderr): EAGAIN from send is not an error, the rest waits for EPOLLOUT (TODO(17.4))"
	fi
	stuck || {
		echo "ss, the server's side of the slow client's connection (Recv-Q Send-Q): $(queues "$slowport")"
		fail "the client that does not read was not stuck within $SOCKLAB_TIMEOUT s (the server's side of its connection should hold unread bytes and unsent echo)"
	}
	echo "the slow client is stuck: the server's side of its connection holds Recv-Q Send-Q = $(queues "$slowport")"
}

# once_rdhup FD: the server said at most once that the client on FD half-closed (the client drained
# its echo after its FIN: EPOLLRDHUP, once seen, must no longer be asked for).
once_rdhup() {
	local n
	n=$(grep -c "^fd $1: peer half-closed" "$BATS_TEST_TMPDIR/sv.out") || true
	((n <= 1)) ||
		fail "the server printed \"fd $1: peer half-closed (EPOLLRDHUP)\" $n times: once seen, stop asking for EPOLLRDHUP (rdhup, TODO(17.6)), or epoll reports it on every wake-up while the echo drains"
}

# crowd N: N idle connections (probe evloop idle), and wait until the server's epoll set holds at
# least N + 1 descriptors (the listener and N clients).
crowd() {
	start_bg idle "$PROBE" evloop idle "$LO" "$svport" "$1"
	find_epfd
	wait_until at_least_registered $(($1 + 1)) || true
	alive "$sv_pid" || { stop_bg sv; fail "the server died with $1 idle clients (exit status $status)"; }
	local n
	n=$(registered)
	echo "the server's epoll set holds $n descriptors"
	((n >= $1 + 1)) || fail "the server's epoll set holds $n descriptors after $1 clients connected: it should hold every client and the listener (accept every waiting client, TODO(17.2), and register each, TODO(17.7))"
}

# stall_test [-e]: 1000 idle clients, a client that stopped reading and a slowloris, then an active
# client must get its echo at once.
stall_test() {
	need_nofile 1100
	server "$@" 1100
	crowd 1000
	slow_start
	start_bg drip "$PROBE" evloop drip "$LO" "$svport" 20
	wait_stuck
	local t0=$EPOCHREALTIME t
	run_prog -t 3 "$PROBE" stream "$LO" "$svport" 200000
	t=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
	echo "the active client's 200000 bytes took $t s"
	[[ $status != 124 && $status != 137 ]] ||
		fail "the active client's echo stalled (3 s): the server is stuck on another client - a blocking call on one socket stops them all (read(), send() or accept() on a socket that is not non-blocking?)"
	assert_success
	assert_line --index 1 "sent 200000 bytes, received 200000 bytes, then EOF"
	local tasks
	tasks=$(find "/proc/$sv_pid/task" -mindepth 1 -maxdepth 1 | wc -l)
	echo "the server's threads (/proc/$sv_pid/task): $tasks"
	((tasks == 1)) || fail "the server runs $tasks threads: this lab's server has one thread, the event loop"
	# The slowloris got its bytes back all along.
	stop_bg drip
	[[ $output =~ dripped\ ([0-9]+)\ bytes,\ ([0-9]+)\ came\ back ]] || fail "the slowloris probe did not report"
	# (the last few may still be on their way when it is stopped)
	((BASH_REMATCH[2] > 0 && BASH_REMATCH[1] - BASH_REMATCH[2] <= 5)) ||
		fail "the slowloris sent ${BASH_REMATCH[1]} bytes one at a time and got ${BASH_REMATCH[2]} back: each byte should come back as it arrives"
}

@test "17-epoll: the server echoes a line, level-triggered by default and edge-triggered with -e (EPOLLET in its epoll set)" {
	local opt mode
	for opt in "" -e; do
		mode=level-triggered
		[[ -n $opt ]] && mode=edge-triggered
		server $opt
		[[ $sv_line == "listening on $LO port $svport ($mode)" ]] ||
			fail "expected the first line \"listening on $LO port $svport ($mode)\""
		find_epfd
		start_bg held "$PROBE" hold "$LO" "$svport"
		wait_until at_least_registered 2 || fail "the server did not register the client with its epoll set (TODO(17.7))"
		show_set
		local m bad=0
		while read -r _ _ _ m _; do
			if [[ -n $opt ]]; then has "$m" $EPOLLET || bad=1; else ! has "$m" $EPOLLET || bad=1; fi
		done < <(grep '^tfd:' "/proc/$sv_pid/fdinfo/$EPFD")
		((bad == 0)) || fail "$mode: every registration should $([[ -n $opt ]] || echo "not ")carry EPOLLET (the listener's and each client's)"
		run_prog "$PROBE" connect "$LO" "$svport" "hello, $mode"
		assert_success
		assert_line --index 2 "hello, $mode"
		wait_output sv "echoed $((${#mode} + 8)) bytes, then EOF"
		stop_bg held
		stop_bg sv
		[[ $status == 0 ]] || fail "the server should exit 0 on SIGTERM, got $status"
	done
}

@test "17-epoll: every socket is non-blocking: O_NONBLOCK in the kernel's flags of the listener and of each client; the epoll descriptor is close-on-exec" {
	server
	start_bg held "$PROBE" hold "$LO" "$svport"
	find_epfd
	wait_until at_least_registered 2 || fail "the server did not register the client with its epoll set"
	local f fd flags n=0 bad=()
	while read -r f; do
		fd=${f##*/}
		flags=$(awk '/^flags:/ { print $2 }' "/proc/$sv_pid/fdinfo/$fd")
		echo "fd $fd: $(readlink "$f"), flags $flags (octal)"
		n=$((n + 1))
		((8#$flags & 04000)) || bad+=("$fd")
	done < <(find "/proc/$sv_pid/fd" -lname 'socket:*')
	((n == 2)) || fail "expected two sockets in the server (the listener and the client), found $n"
	((${#bad[@]} == 0)) || fail "descriptor(s) ${bad[*]} of the server are blocking sockets: the listener needs O_NONBLOCK (fcntl, TODO(17.1)), each client SOCK_NONBLOCK from accept4 (TODO(17.2)); read $READ_MORE, \"Non-blocking sockets\""
	flags=$(awk '/^flags:/ { print $2 }' "/proc/$sv_pid/fdinfo/$EPFD")
	echo "fd $EPFD: anon_inode:[eventpoll], flags $flags (octal)"
	((8#$flags & 02000000)) || fail "the epoll descriptor is not close-on-exec (O_CLOEXEC, 02000000): create it with EPOLL_CLOEXEC (TODO(17.1))"
}

@test "17-epoll: strace shows accept4 with SOCK_NONBLOCK until EAGAIN, reads that end in EAGAIN, not in a wait, and no epoll_ctl when nothing changes" {
	need_strace
	local trace=$BATS_TEST_TMPDIR/strace.out
	start_bg sv env ASAN_OPTIONS="$(sl_no_lsan)" strace -f -qq -o "$trace" -e trace=accept4,read,recvfrom,recvmsg,readv,epoll_ctl \
		"$LAB_BIN/epoll_sv" "$LO" 0
	svport=$sv_port
	# A slowloris: one byte every 20 ms. Each byte is read at once; the read after it finds nothing.
	start_bg drip "$PROBE" evloop drip "$LO" "$svport" 20
	wait_until grep -qE '(read|recvfrom|recvmsg|readv)\([0-9]+,.*\) += -1 EAGAIN' "$trace" || true
	# A few more bytes: each is an event that changes nothing the server waits for.
	wait_until eval '(($(grep -cE "(read|recvfrom|recvmsg|readv)\\([0-9]+,.*\\) += 1$" "$trace") >= 3))' || true
	stop_bg drip
	stop_bg sv
	echo "strace -e trace=accept4,read,epoll_ctl:"
	sl_indent "$(grep -E 'accept4|EAGAIN|epoll_ctl' "$trace" | head -n 20)"
	grep -qE 'accept4\(.*SOCK_NONBLOCK.*\) += [0-9]+' "$trace" ||
		fail "no accept4(..., SOCK_NONBLOCK) that returned a client: take each client non-blocking from the start (TODO(17.2))"
	grep -qE 'accept4\(.*\) += -1 EAGAIN' "$trace" ||
		fail "no accept4() = -1 EAGAIN: take clients until the kernel says none is left (TODO(17.2))"
	grep -qE '(read|recvfrom|recvmsg|readv)\([0-9]+,.*\) += -1 EAGAIN' "$trace" ||
		fail "no read = -1 EAGAIN: read each ready client until the kernel says nothing is left (TODO(17.3))"
	! grep -qE 'epoll_ctl\(.*EPOLL_CTL_MOD' "$trace" ||
		fail "epoll_ctl(EPOLL_CTL_MOD) for a slowloris whose every byte went straight back: nothing changed what it waits for, so no call is needed (compare with c->events, TODO(17.5))"
}

@test "17-epoll: level-triggered: 1000 idle clients, one that stopped reading and a slowloris do not stall an active client's echo" {
	stall_test
}

@test "17-epoll: edge-triggered (-e): 1000 idle clients, one that stopped reading and a slowloris do not stall an active client's echo" {
	stall_test -e
}

@test "17-epoll: a client that stops reading: the server stops reading from it (its bytes wait in the kernel), its memory stays bounded, and the client gets every byte once it reads" {
	server -e
	crowd 3
	local before after
	before=$(rss)
	slow_start
	wait_stuck
	after=$(rss)
	echo "the server's VmRSS: $before KiB before the slow client, $after KiB with it stuck"
	((after - before < 8192)) ||
		fail "the server's memory grew by $((after - before)) KiB for one client that does not read: cap its output buffer and stop reading from it while the buffer is full (TODO(17.3))"
	# Stopped reading: what the client sends waits in the kernel (Recv-Q).
	local q
	q=$(queues "$slowport")
	echo "the server's side of the slow connection, Recv-Q Send-Q: $q"
	((${q% *} > 0)) || fail "the server went on reading from a client that does not take its echo: its Recv-Q should stay full"
	# Its registration changed (EPOLLOUT in): edge-triggered still.
	local sfd m
	find_epfd
	sfd=$(conn_fd "$slowport")
	wait_until eval 'has "$(mask "$sfd")" $EPOLLOUT' || true
	m=$(mask "$sfd")
	echo "the slow client's descriptor $sfd in the server's epoll set: $m ($(words "$m"))"
	has "$m" $EPOLLET || fail "edge-triggered, the slow client's changed registration lost EPOLLET: every mask carries the run's mode (trig, TODO(17.5))"
	kill -USR1 "$slow_pid"
	wait_exit slow
	assert_success
	[[ $output =~ sent\ ([0-9]+)\ bytes,\ received\ ([0-9]+)\ bytes,\ then\ EOF ]] ||
		fail "the slow client, reading at last, did not get its echo and EOF (after EPOLLOUT, send the rest; once there is room, read again - TODO(17.4), TODO(17.5))"
	wait_output sv "fd $sfd: echoed ${BASH_REMATCH[1]} bytes, then EOF"
	once_rdhup "$sfd"
}

@test "17-epoll: EPOLLOUT is in the kernel's epoll set only while output waits: on the client that stopped reading, on no idle client, and nowhere once it has read" {
	server
	crowd 5
	start_bg drip "$PROBE" evloop drip "$LO" "$svport" 10
	slow_start
	wait_stuck
	local sfd m
	sfd=$(conn_fd "$slowport")
	[[ -n $sfd ]] || fail "cannot find the server's descriptor for the slow client"
	# The loop may be between two calls: wait (bounded) for the registration to settle.
	wait_until eval 'has "$(mask "$sfd")" $EPOLLOUT && ! has "$(mask "$sfd")" $EPOLLIN' || true
	m=$(mask "$sfd")
	show_set
	echo "the slow client's descriptor $sfd: $m ($(words "$m"))"
	has "$m" $EPOLLOUT ||
		fail "the slow client's echo waits in the server, but its descriptor is not registered for EPOLLOUT: nothing will tell the server when there is room (TODO(17.5))"
	! has "$m" $EPOLLIN ||
		fail "the slow client's buffer is full, but its descriptor is still registered for EPOLLIN: level-triggered, epoll reports it again and again, a busy loop (TODO(17.5))"
	local others
	others=$(awk -v s="$sfd" '$1 == "tfd:" && $2 != s { print $4 }' "/proc/$sv_pid/fdinfo/$EPFD" |
		while read -r m; do has "$m" $EPOLLOUT && echo x; done | wc -l)
	((others == 0)) ||
		fail "$others other descriptor(s) with nothing to send are registered for EPOLLOUT: ask for it only while output waits (TODO(17.5))"
	kill -USR1 "$slow_pid"
	wait_exit slow
	assert_success
	wait_output sv "fd $sfd: echoed"
	once_rdhup "$sfd"
	wait_until eval '! grep -q "^tfd: *$sfd " "/proc/$sv_pid/fdinfo/$EPFD"' || true
	show_set
	others=$(awk '$1 == "tfd:" { print $4 }' "/proc/$sv_pid/fdinfo/$EPFD" |
		while read -r m; do has "$m" $EPOLLOUT && echo x; done | wc -l)
	((others == 0)) ||
		fail "once all echo is sent, no descriptor should be registered for EPOLLOUT; $others still are (TODO(17.5))"
	local without
	without=$(awk '$1 == "tfd:" { print $4 }' "/proc/$sv_pid/fdinfo/$EPFD" |
		while read -r m; do has "$m" $EPOLLRDHUP || echo x; done | wc -l)
	# (the listener is the one descriptor that needs no EPOLLRDHUP)
	((without <= 1)) || fail "$((without - 1)) idle client(s) are not registered for EPOLLRDHUP (TODO(17.7))"
}

@test "17-epoll: edge-triggered (-e): a burst of 60000 bytes in one send() comes back whole: each event is read until EAGAIN, not once" {
	server -e
	run_prog "$PROBE" evloop burst "$LO" "$svport" 60000 2000
	[[ $status == 0 ]] || fail "the echo of one send() of 60000 bytes stopped short: edge-triggered, epoll reports the arrival once; what one read leaves behind is never reported again - read until EAGAIN (TODO(17.3)); read $READ_MORE, \"Level- and edge-triggered\""
	assert_output "sent 60000 bytes in one send(), received 60000 back"
}

@test "17-epoll: a client that half-closes is seen as EPOLLRDHUP, gets the rest of its echo, then EOF" {
	server
	find_epfd
	# A client that closes while the server waits: the FIN can only be learnt from the event.
	start_bg held "$PROBE" hold "$LO" "$svport"
	local hport hfd m
	hport=$(last_word "$held_line")
	wait_until at_least_registered 2 || fail "the server did not register the client with its epoll set (TODO(17.7))"
	hfd=$(conn_fd "$hport")
	m=$(mask "$hfd")
	echo "the client's descriptor $hfd in the server's epoll set: $m ($(words "$m"))"
	has "$m" $EPOLLRDHUP || fail "the client is not registered for EPOLLRDHUP (TODO(17.7))"
	stop_bg held
	wait_output sv "fd $hfd: echoed 0 bytes, then EOF"
	grep -qxF "fd $hfd: peer half-closed (EPOLLRDHUP)" "$BATS_TEST_TMPDIR/sv.out" ||
		fail "expected \"fd $hfd: peer half-closed (EPOLLRDHUP)\" when the client's FIN came (TODO(17.6))"
	# A half-close while the echo is under way: the rest of the echo must still come, then EOF.
	run_prog "$PROBE" stream "$LO" "$svport" 3000000
	assert_success
	assert_line --index 1 "sent 3000000 bytes, received 3000000 bytes, then EOF"
	wait_output sv "echoed 3000000 bytes, then EOF"
}

@test "17-epoll: a client that resets is dropped and reported (read: ECONNRESET), and the server goes on" {
	server
	run_prog "$PROBE" rst "$LO" "$svport"
	assert_success
	wait_output sv "dropped after 0 bytes"
	run_prog "$PROBE" connect "$LO" "$svport" "still there?"
	assert_success
	assert_line --index 2 "still there?"
	stop_bg sv
	[[ $stderr =~ epoll_sv:\ (read|recv):\ ECONNRESET\ \( ]] ||
		fail "expected the server to report \"epoll_sv: read: ECONNRESET (...)\" on stderr"
}

@test "17-epoll: a failed accept4 (EMFILE, injected by strace) is reported and the server goes on" {
	start_injected sv accept4:1 EMFILE "$LAB_BIN/epoll_sv" "$LO" 0
	svport=$sv_port
	run_prog "$PROBE" connect "$LO" "$svport" "after EMFILE"
	assert_success
	assert_line --index 2 "after EMFILE"
	stop_bg sv
	[[ $stderr =~ epoll_sv:\ accept4:\ EMFILE\ \( ]] ||
		fail "expected \"epoll_sv: accept4: EMFILE (...)\" on stderr: report a failed accept4 and go on (TODO(17.2))"
}

@test "17-epoll: a client that resets while its echo waits is dropped and reported (send: ECONNRESET), and leaves the epoll set" {
	server
	find_epfd
	slow_start
	wait_stuck
	local sfd
	sfd=$(conn_fd "$slowport")
	# SIGTERM: the slow client closes with its echo unread, and its kernel answers with an RST.
	stop_bg slow
	wait_sv_line "fd $sfd: dropped after"
	wait_until eval '! grep -q "^tfd: *$sfd " "/proc/$sv_pid/fdinfo/$EPFD"' ||
		fail "the reset client's descriptor $sfd is still in the server's epoll set: end the client (close) when a send fails (TODO(17.4))"
	run_prog "$PROBE" connect "$LO" "$svport" "next"
	assert_success
	assert_line --index 2 "next"
	stop_bg sv
	[[ $stderr =~ epoll_sv:\ (send|write|read|recv):\ (ECONNRESET|EPIPE)\ \( ]] ||
		fail "expected the server to report \"epoll_sv: send: ECONNRESET (...)\" (or EPIPE) on stderr"
}

@test "17-epoll: edge-triggered (-e): a client gone before accept4 (ECONNABORTED, injected by strace) does not stop the loop: the next one is taken" {
	start_injected sv accept4:1 ECONNABORTED "$LAB_BIN/epoll_sv" -e "$LO" 0
	svport=$sv_port
	# Edge-triggered, the listener is reported once: a loop that stops at the failure leaves this
	# client in the queue for good.
	run_prog -t 3 "$PROBE" connect "$LO" "$svport" "after ECONNABORTED"
	[[ $status != 124 && $status != 137 ]] ||
		fail "the client waited for ever: after ECONNABORTED the accept loop must go on (continue) until EAGAIN (TODO(17.2))"
	assert_success
	assert_line --index 2 "after ECONNABORTED"
	stop_bg sv
	# (reporting it is allowed; stopping the loop at it is not)
	[[ -z $(grep -v 'accept4: ECONNABORTED' <<<"$stderr") ]] ||
		fail "ECONNABORTED is a client that left before accept4: not a failure of the server (TODO(17.2))"
}

@test "17-epoll: a failed registration (epoll_ctl: ENOSPC, injected by strace) is reported, that client is closed, the server goes on" {
	# The first epoll_ctl registers the listener, the second the first client.
	start_injected sv epoll_ctl:2 ENOSPC "$LAB_BIN/epoll_sv" "$LO" 0
	svport=$sv_port
	run_prog -t 3 "$PROBE" connect "$LO" "$svport" "lost"
	[[ $status != 124 && $status != 137 ]] ||
		fail "the client whose registration failed waited for ever: close it (finish, TODO(17.7))"
	run_prog "$PROBE" connect "$LO" "$svport" "next"
	assert_success
	assert_line --index 2 "next"
	stop_bg sv
	[[ $stderr =~ epoll_sv:\ epoll_ctl:\ ENOSPC\ \( ]] ||
		fail "expected \"epoll_sv: epoll_ctl: ENOSPC (...)\" on stderr (TODO(17.7))"
}

# state PID S: process PID is in state S (S: asleep in a system call, T: stopped).
state() {
	local st
	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" && [[ $st == "$2" ]]
}

@test "17-epoll: stopped and continued (SIGSTOP, SIGCONT) while it waits, epoll_wait fails with EINTR: the server waits again" {
	server
	# After its first line the server can only be asleep in epoll_wait.
	wait_until state "$sv_pid" S || fail "the server did not come to wait in epoll_wait"
	kill -STOP "$sv_pid"
	wait_until state "$sv_pid" T || fail "the server was not stopped $SOCKLAB_TIMEOUT s after SIGSTOP"
	kill -CONT "$sv_pid"
	echo "SIGSTOP, then SIGCONT: epoll_wait returns -1 with EINTR even without a signal handler"
	run_prog "$PROBE" connect "$LO" "$svport" "after SIGCONT"
	local st=$status out=$output
	stop_bg sv
	[[ -z $stderr ]] ||
		fail "the server reported an error: EINTR from epoll_wait means only \"wait again\" (TODO(17.8)); read $READ_MORE, \"epoll: one waiting place for every socket\""
	[[ $st == 0 && $out == *$'\n'"after SIGCONT" ]] || fail "the client after SIGCONT did not get its line back"
	assert_line --regexp '^fd [0-9]+: echoed 14 bytes, then EOF$'
}

@test "17-epoll: a failed epoll_create1 (EMFILE, injected by strace) is reported, exit 1" {
	injected epoll_create1 EMFILE "$LAB_BIN/epoll_sv" "$LO" 0
}

# bats test_tags=points:0
@test "17-epoll: epoll_sv without arguments, with a bad option, address or port is a usage error, exit 2" {
	local args
	for args in "" "-x $LO 0" "localhost 0" "$LO 65536"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/epoll_sv" $args
		assert_usage
	done
}

# Predictions (labs/17-epoll/predictions.md): the kit's probe runs each experiment on a loopback
# connection of its own; the kernel's answer in this run is the truth.
@test "17-epoll: prediction P1: what read returns on a non-blocking socket with nothing to read" {
	run_prog "$PROBE" evloop try nonblock-read
	assert_success
	local e=none
	[[ ${lines[0]:-} =~ ^read:\ -1\ (E[A-Z0-9]+)$ ]] && e=${BASH_REMATCH[1]}
	expect_prediction P1 errno "$e" "${lines[0]:-}" "$READ_MORE, \"Non-blocking sockets\""
}

# p_count MODE: how many of 3 epoll_wait calls reported 100 unread bytes, in $count.
p_count() {
	run_prog "$PROBE" evloop try "$1"
	assert_success
	[[ ${lines[0]:-} =~ reported\ the\ socket\ ([0-9]+)\ time ]] || fail "the probe printed no count"
	count=${BASH_REMATCH[1]}
}

@test "17-epoll: prediction P2: how many of three level-triggered epoll_wait calls report 100 bytes never read" {
	local count
	p_count lt
	expect_prediction P2 number "$count" "${lines[0]}" "$READ_MORE, \"Level- and edge-triggered\""
}

@test "17-epoll: prediction P3: how many of three edge-triggered epoll_wait calls report 100 bytes never read" {
	local count
	p_count et
	expect_prediction P3 number "$count" "${lines[0]}" "$READ_MORE, \"Level- and edge-triggered\""
}

@test "17-epoll: prediction P4: the event besides EPOLLIN that epoll reports when the peer half-closes" {
	run_prog "$PROBE" evloop try rdhup
	assert_success
	local w
	w=$(sed 's/^events://; s/ EPOLLIN\b//' <<<"${lines[0]:-}")
	w=${w# }
	w=${w%% *}
	expect_prediction P4 word "${w:-none}" "${lines[0]:-}" "$READ_MORE, \"Half-close: EPOLLRDHUP\""
}
