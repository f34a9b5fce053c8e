#!/usr/bin/env bats
# 12-echo: the capstone. Every byte is checked (sha256 of random payloads, or the probe's own check
# of its pattern), the peers are independent of the student's code wherever possible (the kit's
# probe as client or as server, nc, socat, bash's /dev/tcp), and the kernel is asked what happened
# (ss for the states, a probe binding the port, the server's process state before a signal).
load lib/socklab
load lib/calls

setup_file() { lab_setup_file 12-echo; }
setup() { lab_setup; }
teardown() { lab_teardown; }

LO=127.0.0.1
MIB16=16777216

# Start echo_sv on $LO (port ${1:-0}); svport is the port it reports.
server() {
	start_bg sv "$LAB_BIN/echo_sv" "$LO" "${1:-0}"
	svport=$port
}

# random FILE BYTES: BYTES random bytes into FILE.
random() { head -c "$2" /dev/urandom >"$1"; }

# client IN OUT PORT [SECS]: echo_cl (bounded) from file IN to file OUT; prints status and stderr.
client() {
	local err=$BATS_TEST_TMPDIR/cl.err limit=${4:-$SOCKLAB_TIMEOUT}
	status=0 output='' lines=()
	timeout -k 1 "$limit" "$LAB_BIN/echo_cl" "$LO" "$3" <"$1" >"$2" 2>"$err" || status=$?
	sl_slurp stderr "$err"
	printf '$ echo_cl %s %s < %s > %s\nexit status %s\nstderr:\n' "$LO" "$3" "${1##*/}" "${2##*/}" "$status"
	sl_indent "$stderr"
	[[ $status != 124 && $status != 137 ]] ||
		fail "timed out after $limit s: a deadlock (writing everything before reading?) or no half-close (shutdown)?"
	sl_verdict "$limit" "" "$status" "$stderr"
}

# same IN OUT WHAT: the two files hold the same bytes (sha256 and size), or fail with WHAT.
same() {
	local a b
	a=$(sha256sum <"$1") b=$(sha256sum <"$2")
	printf 'sha256 %s  %s bytes sent\nsha256 %s  %s bytes back\n' "${a%% *}" "$(stat -c %s "$1")" \
		"${b%% *}" "$(stat -c %s "$2")"
	[[ $a == "$b" ]] || fail "$3"
}

# bg NAME IN CMD...: start CMD in its own session like start_bg, stdin from IN, no first line awaited.
bg() {
	local name=$1 in=$2
	shift 2
	(
		sl_close_fds # (the write end of a pipe whose EOF a client waits for too)
		exec setsid "$@"
	) <"$in" >"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" &
	printf -v "${name}_pid" %s "$!"
	SL_GROUPS+=("$!")
	printf '$ %s < %s &   (background "%s", pid %s)\n' "${*#"$LAB_BIN"/}" "${in##*/}" "$name" "$!"
}

# finish NAME: wait (bounded) for background NAME started by bg to end; $status, $stderr.
finish() {
	local pidvar=${1}_pid rc=0
	"$PROBE" await /dev/null "${!pidvar}" $((SOCKLAB_TIMEOUT * 1000)) >/dev/null || rc=$?
	[[ $rc == 3 ]] || sl_end_group "${!pidvar}" 500 || true
	status=0 output='' lines=()
	wait "${!pidvar}" || status=$?
	sl_slurp stderr "$BATS_TEST_TMPDIR/$1.err"
	printf '%s ended, exit status %s\nstderr:\n' "$1" "$status"
	sl_indent "$stderr"
	[[ $rc == 3 ]] || fail "$1 did not finish within $SOCKLAB_TIMEOUT s (a deadlock? no half-close?)"
	sl_verdict "$SOCKLAB_TIMEOUT" "" "$status" "$stderr"
}

# Is process $1 asleep in a system call (state S)? After its last line, the server can only be
# waiting in the blocking call that comes next (read or accept).
sleeping() {
	local st
	read -r _ _ st _ <"/proc/$1/stat" 2>/dev/null && [[ $st == S ]]
}

# Has process $1 a handler for SIGUSR1 (signal 10: bit 9 of SigCgt in /proc/PID/status)?
catches_usr1() {
	local key mask
	while read -r key mask; do
		[[ $key == SigCgt: ]] && return $((!(0x$mask & 0x200)))
	done <"/proc/$1/status"
	return 1
}

# usr1 PID N [CHECK...]: N times, wait (bounded) until PID sleeps in a system call and the command
# CHECK (if any) succeeds, then send PID a SIGUSR1.
usr1() {
	local pid=$1 n=$2 i
	shift 2
	for ((i = 0; i < n; i++)); do
		wait_until asleep "$pid" "$@" || {
			local out err state=ended
			kill -0 "$pid" 2>/dev/null && state="is still running"
			sl_slurp out "$BATS_TEST_TMPDIR/sv.out"
			sl_slurp err "$BATS_TEST_TMPDIR/sv.err"
			echo "the server's stdout so far:"
			sl_indent "$out"
			echo "the server's stderr so far:"
			sl_indent "$err"
			echo "the kernel's view of its connections (ss):"
			sl_indent "$(ss -Htn "( sport = :$svport or dport = :$svport )")"
			fail "the server (pid $pid) never came to wait in the call this step interrupts (its read, write or accept); it $state: see what it said above"
		}
		kill -USR1 "$pid"
	done
}
asleep() {
	local pid=$1
	shift
	sleeping "$pid" && { [[ $# == 0 ]] || "$@"; } && sleeping "$pid"
}

# queue_is PORT PEER RECVQ [ECHOED]: the connection from local PORT to PEER has RECVQ bytes in its
# receive queue (+: at least one); with ECHOED, its other end has ECHOED bytes in its receive queue
# and nothing left to send (all it sent has arrived).
queue_is() {
	local q sq
	q=$(ss -Htn "( sport = :$1 and dport = :$2 )" | awk '{ print $2 }')
	[[ -n $q ]] || return 1
	if [[ $3 == + ]]; then ((q > 0)) || return 1; else ((q == $3)) || return 1; fi
	[[ -z ${4:-} ]] && return 0
	read -r _ q sq _ < <(ss -Htn "( sport = :$2 and dport = :$1 )")
	[[ $q == "$4" && $sq == 0 ]]
}

# storm_start PID: in the background, send PID one SIGUSR1 after another, with a pause of a
# millisecond after every five - at most 3000 signals and SOCKLAB_TIMEOUT seconds in all, until
# storm_stop, which sets $signals to how many went.
storm_start() {
	local target=$1 dir=$BATS_TEST_TMPDIR
	rm -f "$dir/storm.stop" "$dir/storm.count" "$dir/storm.started"
	[[ -p $dir/.storm ]] || mkfifo "$dir/.storm"
	(
		sl_close_fds # (the write end of a pipe whose EOF a client waits for too)
		end=$((${EPOCHREALTIME//[!0-9]/} + SOCKLAB_TIMEOUT * 1000000))
		exec {fd}<>"$dir/.storm"
		for ((n = 0; n < 3000; n++)); do
			((n != 1)) || : >"$dir/storm.started"
			if [[ -e $dir/storm.stop ]] || ((${EPOCHREALTIME//[!0-9]/} > end)); then
				break
			fi
			kill -USR1 "$target" 2>/dev/null || break
			if ((n % 5 == 4)); then
				read -rt 0.001 -u "$fd" _ || true
			fi
		done
		echo "$n" >"$dir/storm.count"
	) &
	storm_pid=$!
	SL_GROUPS+=("$storm_pid")
	wait_until test -e "$dir/storm.count" -o -e "$dir/storm.started" || fail "the storm of signals did not start"
}
storm_stop() {
	: >"$BATS_TEST_TMPDIR/storm.stop"
	wait "$storm_pid" || true
	signals=$(<"$BATS_TEST_TMPDIR/storm.count")
	echo "sent $signals SIGUSR1 signals"
}

# Is there a TCP socket in STATE from local port $2 to peer port $3?
in_state() { [[ -n $(ss -Htn state "$1" "( sport = :$2 and dport = :$3 )") ]]; }

# Is process $1 still alive (not gone, not a zombie)?
alive() {
	local st
	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" && [[ $st != Z ]]
}

# wait_sv TEXT: wait_output sv TEXT, but a server that dies on the way is reported as such, with
# its exit status (141: killed by SIGPIPE).
wait_sv() {
	wait_until said_or_died "$1" || true
	if ! grep -qF -- "$1" "$BATS_TEST_TMPDIR/sv.out" && ! alive "$sv_pid"; then
		stop_bg sv
		fail "the server died (exit status $status$( ((status == 141)) && echo ', killed by SIGPIPE: is it ignored?')) before printing \"$1\""
	fi
	wait_output sv "$1"
}
said_or_died() { grep -qF -- "$1" "$BATS_TEST_TMPDIR/sv.out" || ! alive "$sv_pid"; }

# The server's stdout so far.
sv_out() { sl_slurp sv_text "$BATS_TEST_TMPDIR/sv.out"; }

# The port at the end of a probe line ("local 127.0.0.1 41234").
last_word() { echo "${1##* }"; }

@test "12-echo: the server echoes a line back to the kit's probe and names the probe's port" {
	server
	run_prog "$PROBE" connect "$LO" "$svport" "hello, echo"
	assert_success
	assert_line --index 2 "hello, echo"
	local cport
	cport=$(last_word "${lines[0]}")
	wait_output sv "client 1: echoed 12 bytes, then EOF"
	sv_out
	[[ $sv_text == *"client 1: peer $LO port $cport"* ]] ||
		fail "expected the server to print \"client 1: peer $LO port $cport\" (the probe's own port)"
}

@test "12-echo: the client sends all its input, half-closes at its end and prints the whole answer" {
	# probe drain answers only after the client's EOF: no half-close, no answer (a timeout).
	start_bg peer "$PROBE" drain "$LO" 0
	local pport=$port in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out
	head -c 6000 /dev/urandom | base64 >"$in"
	local n
	n=$(stat -c %s "$in")
	client "$in" "$out" "$pport" 3
	assert_success
	{ echo "got $n bytes"; tr '[:lower:]' '[:upper:]' <"$in"; } >"$BATS_TEST_TMPDIR/want"
	same "$BATS_TEST_TMPDIR/want" "$out" \
		"expected the probe's whole answer (\"got $n bytes\" and the input in upper case) on stdout, nothing else"
	wait_exit peer
	assert_line "got $n bytes, then EOF"
	# An empty input: connect, half-close at once, EOF back, exit 0.
	start_bg peer2 "$PROBE" drain "$LO" 0
	client /dev/null "$out" "$port" 3
	assert_success
	[[ $(<"$out") == "got 0 bytes" ]] || fail "with no input the client should print the answer to nothing: \"got 0 bytes\""
}

@test "12-echo: the client reads the echo while it is still sending: 16 MiB through the probe's echo server come back whole" {
	start_bg peer "$PROBE" echo "$LO" 0
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out
	random "$in" $MIB16
	client "$in" "$out" "$port"
	assert_success
	same "$in" "$out" "the echo that the client printed differs from its input"
	wait_exit peer
	assert_line "echoed $MIB16 bytes, then EOF"
}

@test "12-echo: a 16 MiB random payload comes back byte-identical through echo_cl and echo_sv (sha256)" {
	server
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out
	random "$in" $MIB16
	client "$in" "$out" "$svport"
	assert_success
	same "$in" "$out" "the 16 MiB did not come back byte for byte"
	wait_output sv "client 1: echoed $MIB16 bytes, then EOF"
}

@test "12-echo: several clients in a row are served one after another, each gets exactly its own bytes back" {
	server
	local i n sizes=(1 100000 3000000) ports=()
	for i in 0 1 2; do
		n=${sizes[i]}
		run_prog "$PROBE" stream "$LO" "$svport" "$n"
		assert_success
		assert_line --index 1 "sent $n bytes, received $n bytes, then EOF"
		ports+=("$(last_word "${lines[0]}")")
	done
	wait_output sv "client 3: echoed 3000000 bytes, then EOF"
	sv_out
	for i in 0 1 2; do
		[[ $sv_text == *"client $((i + 1)): peer $LO port ${ports[i]}"$'\n'"client $((i + 1)): echoed ${sizes[i]} bytes, then EOF"* ]] ||
			fail "expected \"client $((i + 1)): peer $LO port ${ports[i]}\" then \"client $((i + 1)): echoed ${sizes[i]} bytes, then EOF\""
	done
	[[ -n $(ss -Hltn "sport = :$svport") ]] || fail "the server should still be listening on port $svport"
}

@test "12-echo: a client that vanishes without reading its echo costs one connection, not the server (SIGPIPE ignored, EPIPE)" {
	server
	# Client 1 keeps the iterative server busy, so that client 2's bytes and FIN all arrive first.
	start_bg busy "$PROBE" hold "$LO" "$svport"
	wait_output sv "client 1: peer"
	run_prog "$PROBE" stream -x "$LO" "$svport" 40000
	assert_success
	local gone
	gone=$(last_word "${lines[0]}")
	# Waiting in the accept queue: all 40000 bytes and the FIN are in (CLOSE-WAIT; ss counts the FIN).
	wait_until in_state close-wait "$svport" "$gone" || {
		ss -Htan "( sport = :$svport )"
		fail "the vanished client's connection should wait in CLOSE-WAIT in the accept queue"
	}
	stop_bg busy
	# The first echo draws an RST from the closed client; the next write gets EPIPE - and, unless
	# SIGPIPE is ignored, the signal that kills the whole server.
	wait_sv "client 2: dropped after"
	run_prog "$PROBE" connect "$LO" "$svport" "still there?"
	assert_success
	assert_line --index 2 "still there?"
	stop_bg sv
	[[ $status == 0 ]] || fail "the server should have survived the vanished client and exit 0 on SIGTERM, got status $status"
	[[ $stderr =~ echo_sv:\ (write|send):\ EPIPE\ \( ]] ||
		fail "expected the server to report \"echo_sv: write: EPIPE (...)\" on stderr for the vanished client"
	assert_line "client 3: echoed 13 bytes, then EOF"
	# The failed write ends client 2: one "dropped" line, no echo of more, no EOF after it.
	[[ $(grep -c '^client 2: ' <<<"$output") == 2 ]] ||
		fail "expected exactly two lines about client 2 (peer, dropped): a failed write ends that client (return)"
}

@test "12-echo: a client that resets mid-transfer (SO_LINGER {1, 0}) costs one connection: reported, and the next client is served" {
	server
	run_prog "$PROBE" stream -R "$LO" "$svport" $MIB16
	assert_success
	assert_line --regexp '^sent [0-9]+ bytes, received [0-9]+ bytes, then reset'
	wait_sv "client 1: dropped after"
	run_prog "$PROBE" stream "$LO" "$svport" 100000
	assert_success
	assert_line --index 1 "sent 100000 bytes, received 100000 bytes, then EOF"
	stop_bg sv
	[[ $status == 0 ]] || fail "the server should exit 0 on SIGTERM, got $status"
	[[ $stderr =~ echo_sv:\ (read|write|recv|send):\ (ECONNRESET|EPIPE)\ \( ]] ||
		fail "expected the server to report the reset as \"echo_sv: read: ECONNRESET (...)\" (or write, or EPIPE) on stderr"
	assert_line "client 2: echoed 100000 bytes, then EOF"
}

@test "12-echo: a client that resets while the server waits in read() is reported as read: ECONNRESET, once, and the next client is served" {
	server
	# The probe connects and resets at once, with nothing sent: the server meets the RST in read().
	run_prog "$PROBE" rst "$LO" "$svport"
	assert_success
	wait_sv "client 1: dropped after"
	run_prog "$PROBE" connect "$LO" "$svport" "next"
	assert_success
	assert_line --index 2 "next"
	wait_output sv "client 2: echoed 5 bytes, then EOF"
	stop_bg sv
	[[ $stderr =~ ^echo_sv:\ read:\ ECONNRESET\ \( ]] ||
		fail "expected the server to report \"echo_sv: read: ECONNRESET (...)\" on stderr: the reset met it in read()"
	assert_line "client 1: dropped after 0 bytes"
	[[ $(grep -c '^client 1: ' <<<"$output") == 2 ]] ||
		fail "expected exactly two lines about client 1 (peer, dropped): a failed read ends that client (return)"
}

@test "12-echo: a failed accept() other than EINTR (EMFILE: no descriptor left under ulimit -n 4) ends the server, reported" {
	# Descriptors 0-2 and the listening socket: with at most 4, accept() has none left for a client
	# (the kernel takes the descriptor before it waits: it fails at once).
	# shellcheck disable=SC2016
	start_bg sv bash -c 'for f in /proc/$$/fd/*; do f=${f##*/}; ((f > 2)) && eval "exec $f>&-"; done
		ulimit -n 4 && exec "$0" "$@"' "$LAB_BIN/echo_sv" "$LO" 0
	wait_exit sv
	assert_errno accept EMFILE
}

@test "12-echo: killed with SIGKILL, the server starts again at once on its port while its connection is in TIME_WAIT (SO_REUSEADDR)" {
	server
	local p=$svport cport
	start_bg held "$PROBE" hold "$LO" "$p"
	cport=$(last_word "$line")
	wait_output sv "client 1: peer"
	kill -KILL "$sv_pid"
	wait "$sv_pid" || true
	# The kernel closed the dead server's connection first (its FIN); once the client closes too,
	# the server's end waits in TIME_WAIT on the listening port.
	stop_bg held
	wait_until in_state time-wait "$p" "$cport" || {
		ss -Htan "( sport = :$p or dport = :$p )"
		fail "expected the killed server's connection in TIME_WAIT on port $p"
	}
	# Without SO_REUSEADDR the port is taken for 60 s...
	run_prog "$PROBE" bind "$LO" "$p"
	assert_errno bind EADDRINUSE
	# ...with it, free: but only because the TIME_WAIT inherited SO_REUSEADDR from the old listener.
	run_prog "$PROBE" bind -r "$LO" "$p"
	[[ $status == 0 ]] ||
		fail "a bind with SO_REUSEADDR should succeed next to a TIME_WAIT of a listener that had SO_REUSEADDR: did echo_sv set it before bind()?"
	server "$p"
	[[ $svport == "$p" ]] || fail "the restarted server should listen on port $p, it says $svport"
	run_prog "$PROBE" connect "$LO" "$p" "back again"
	assert_success
	assert_line --index 2 "back again"
}

@test "12-echo: a signal that interrupts the server in read(), write() or accept() (EINTR, short write) costs nothing" {
	server
	# Client 1 sends 100000 bytes and reads nothing yet: once the server has echoed them all (its
	# receive queue is empty), it can only be asleep in read(). Interrupt it there, three times.
	start_bg c1 "$PROBE" stream -p "$LO" "$svport" 100000
	local cport
	cport=$(last_word "$line")
	wait_output sv "client 1: peer"
	usr1 "$sv_pid" 3 queue_is "$svport" "$cport" 0 100000
	kill -USR1 "$c1_pid" # the probe reads, half-closes, checks the echo
	wait_exit c1
	assert_success
	assert_line --index 1 "sent 100000 bytes, received 100000 bytes, then EOF"
	wait_output sv "client 1: echoed 100000 bytes, then EOF"
	# Between clients the server can only be asleep in accept().
	usr1 "$sv_pid" 3
	# Client 2 sends 32 MiB and reads nothing: the server, asleep with bytes still waiting in its
	# receive queue, is stuck in write(). A signal there makes write() return early: a short write.
	start_bg c2 "$PROBE" stream -p "$LO" "$svport" $((2 * MIB16))
	cport=$(last_word "$line")
	usr1 "$sv_pid" 3 queue_is "$svport" "$cport" +
	kill -USR1 "$c2_pid"
	wait_exit c2
	assert_success
	assert_line --index 1 "sent $((2 * MIB16)) bytes, received $((2 * MIB16)) bytes, then EOF"
	wait_output sv "client 2: echoed $((2 * MIB16)) bytes, then EOF"
	stop_bg sv
	[[ $status == 0 && -z $stderr ]] ||
		fail "the server should have reported nothing: an interrupted call (EINTR) is tried again, a short write finished"
}

@test "12-echo: a storm of SIGUSR1 during a 32 MiB echo does not disturb the server" {
	server
	storm_start "$sv_pid"
	run_prog "$PROBE" stream "$LO" "$svport" $((2 * MIB16))
	storm_stop
	assert_success
	assert_line --index 1 "sent $((2 * MIB16)) bytes, received $((2 * MIB16)) bytes, then EOF"
	wait_output sv "client 1: echoed $((2 * MIB16)) bytes, then EOF"
	stop_bg sv
	[[ -z $stderr ]] || fail "the server should have reported nothing: EINTR is tried again, a short write finished"
}

@test "12-echo: a signal while the client waits in poll(), and a storm of them during a 16 MiB echo, do not disturb it" {
	start_bg peer "$PROBE" echo "$LO" 0
	local in=$BATS_TEST_TMPDIR/in fifo=$BATS_TEST_TMPDIR/fifo w
	random "$in" $MIB16
	# The client's input is a pipe that stays empty for now: it can only wait in poll().
	mkfifo "$fifo"
	exec {w}<>"$fifo"
	bg cl "$fifo" "$LAB_BIN/echo_cl" "$LO" "$port"
	wait_output peer "peer"
	# Signals only once its handler is in place: before that, SIGUSR1 would still kill it.
	wait_until catches_usr1 "$cl_pid" || fail "echo_cl never installed its SIGUSR1 handler (or ended at once)"
	usr1 "$cl_pid" 3
	# Now the input, while SIGUSR1 keeps coming; closing the pipe is the client's end of input.
	storm_start "$cl_pid"
	timeout -k 1 "$SOCKLAB_TIMEOUT" cat "$in" >&"$w" || true
	exec {w}>&-
	finish cl
	storm_stop
	assert_success
	same "$in" "$BATS_TEST_TMPDIR/cl.out" "the echo printed by the client differs from its input"
}

# in_write PID: PID sleeps in write() (a pipe full), as /proc tells: its wait channel, or else the
# number of the system call it is in (x86-64 write 1, arm64 64). Where neither is readable (no
# ptrace rights over PID), that it sleeps is all /proc can say.
in_write() {
	local st wchan= sc=
	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" || return 1
	[[ $st == S ]] || return 1
	read -r wchan 2>/dev/null <"/proc/$1/wchan"
	[[ $wchan == *pipe_write* ]] && return 0
	if read -r sc _ 2>/dev/null <"/proc/$1/syscall"; then
		[[ $sc == 1 || $sc == 64 ]]
	else
		[[ -z $wchan || $wchan == 0 ]]
	fi
}

in_write_or_gone() { in_write "$1" || ! alive "$1"; }

@test "12-echo: the client's writes to a full stdout pipe, cut short by signals (short write, EINTR), lose nothing" {
	start_bg peer "$PROBE" echo "$LO" 0
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out fifo=$BATS_TEST_TMPDIR/stdout keep r i
	random "$in" 1000000
	# The client's stdout is a pipe read only a page at a time: once it is full (64 KiB) the client
	# sleeps in write(). Each round sends a signal: the write() then returns early with the bytes it
	# took (a short write), or fails with EINTR if it took none. Either way the rest must follow.
	mkfifo "$fifo"
	exec {keep}<>"$fifo" # so that neither the client's open() of the pipe nor ours waits
	(
		sl_close_fds # (the write end of a pipe whose EOF a client waits for too)
		exec setsid "$LAB_BIN/echo_cl" "$LO" "$port" <"$in" >"$fifo" 2>"$BATS_TEST_TMPDIR/cl.err"
	) &
	cl_pid=$!
	SL_GROUPS+=("$cl_pid")
	echo "\$ echo_cl $LO $port < in > pipe &   (pid $cl_pid)"
	exec {r}<"$fifo"
	exec {keep}>&- # the client is the pipe's only writer now: its exit is our end of file
	: >"$out"
	wait_until catches_usr1 "$cl_pid" || fail "echo_cl never installed its SIGUSR1 handler (or ended at once)"
	for i in 1 2 3 4 5 6; do
		wait_until in_write_or_gone "$cl_pid" ||
			fail "the client did not come to wait in write() on its full stdout within $SOCKLAB_TIMEOUT s"
		alive "$cl_pid" || break # it ended: its status and stderr tell why
		# Even rounds free a page first: the sleeping write() takes it, and returns it (short write).
		# Odd rounds do not: a write() that started on the full pipe took nothing, and fails (EINTR).
		((i % 2)) || head -c 4096 <&"$r" >>"$out"
		kill -USR1 "$cl_pid"
	done
	# Now read the rest of the pipe: the client goes on, and exits at its end.
	(
		exec cat <&"$r" >>"$out"
	) &
	local cat_pid=$!
	exec {r}<&-
	finish cl
	wait "$cat_pid" || true
	assert_success
	same "$in" "$out" "the echo printed by the client differs from its input: a short write's rest lost, or EINTR not retried?"
}

@test "12-echo: SIGTERM ends the server with exit status 0 and nothing listens on its port any more" {
	server
	run_prog "$PROBE" connect "$LO" "$svport" ping
	assert_success
	stop_bg sv
	[[ $status == 0 ]] || fail "on SIGTERM the server should exit with status 0, got $status"
	[[ -z $(ss -Hltn "sport = :$svport") ]] || fail "after SIGTERM nothing should listen on port $svport"
	run_prog "$PROBE" connect "$LO" "$svport"
	assert_errno connect ECONNREFUSED
}

@test "12-echo: the client reports a server that goes away (exit 1, an errno or a message), it is not killed by SIGPIPE" {
	# probe close accepts and closes at once: an RST or a FIN meets the 4 MiB the client sends.
	start_bg peer "$PROBE" close "$LO" 0
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out
	random "$in" $((MIB16 / 4))
	client "$in" "$out" "$port"
	[[ $status != 141 ]] || fail "the client was killed by SIGPIPE: send() the socket's data with MSG_NOSIGNAL"
	[[ $status == 1 ]] || fail "expected exit status 1 for a server that went away, got $status"
	[[ $stderr =~ ^echo_cl:\ ((send|write|read|recv):\ (EPIPE|ECONNRESET)\ \(|the\ server\ closed) ]] ||
		fail "expected \"echo_cl: send: EPIPE (...)\" (or read: ECONNRESET, or the early-EOF message) on stderr"
}

# in_poll PID: PID sleeps in poll() (or ppoll, select), as /proc tells: its wait channel, or else
# the number of the system call it is in (x86-64 poll 7, ppoll 271; arm64 ppoll 73). Where neither
# is readable (both need ptrace rights over PID, which kernel.yama.ptrace_scope >= 2 withholds),
# that it sleeps is all /proc can say.
in_poll() {
	local st wchan= sc=
	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" || return 1
	[[ $st == S ]] || return 1
	read -r wchan 2>/dev/null <"/proc/$1/wchan"
	[[ $wchan == *poll* || $wchan == *select* ]] && return 0
	if read -r sc _ 2>/dev/null <"/proc/$1/syscall"; then
		[[ $sc == 7 || $sc == 271 || $sc == 73 ]]
	else
		[[ -z $wchan || $wchan == 0 ]]
	fi
}
# stuck_sending PID PORT: PID waits in poll() and its connection to PORT has bytes it could not send
# yet (Send-Q): stdin (/dev/zero) never ends, so a client that waits has a piece of it to send.
stuck_sending() {
	in_poll "$1" && [[ -n $(ss -Htn "dport = :$2" | awk '$3 > 0') ]]
}
no_conn() { [[ -z $(ss -Htn "dport = :$1") ]]; }
# stopped PID: PID is stopped (state T): a SIGSTOP has taken effect, not only been sent.
stopped() {
	local st
	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" && [[ $st == T ]]
}

@test "12-echo: a server that half-closes, then resets: the client's next send() fails with EPIPE, it is not killed by SIGPIPE (MSG_NOSIGNAL)" {
	# probe finrst takes the client's bytes without reading them: soon the client waits in poll()
	# with bytes to send. Stopped there (SIGSTOP), its socket gets the FIN (CLOSE_WAIT), then the RST:
	# in CLOSE_WAIT the kernel records EPIPE, not ECONNRESET. Continued, the client sends first (the
	# loop's order): send() fails with EPIPE and, without MSG_NOSIGNAL, raises the SIGPIPE that kills.
	start_bg peer "$PROBE" finrst "$LO" 0
	local pport=$port err=$BATS_TEST_TMPDIR/cl.err
	(exec setsid "$LAB_BIN/echo_cl" "$LO" "$pport" </dev/zero >/dev/null 2>"$err" 3>&-) &
	local cl=$!
	SL_GROUPS+=("$cl")
	echo "\$ echo_cl $LO $pport < /dev/zero > /dev/null &   (pid $cl)"
	wait_until stuck_sending "$cl" "$pport" ||
		fail "the client did not come to wait in poll() with bytes to send within $SOCKLAB_TIMEOUT s (is it reading stdin and sending?)"
	kill -STOP "$cl"
	# Only once it has stopped: a FIN that came while it was still in poll() would end that poll
	# with POLLIN alone, and the client would read the EOF before it sends.
	wait_until stopped "$cl" || fail "the client was not stopped $SOCKLAB_TIMEOUT s after SIGSTOP"
	echo "the client waits in poll() with bytes to send: SIGSTOP; the server: FIN, then RST"
	kill -USR1 "$peer_pid"
	wait_exit peer
	assert_success
	wait_until no_conn "$pport" || fail "the client's connection was still there $SOCKLAB_TIMEOUT s after the RST"
	kill -CONT "$cl"
	local rc=0
	"$PROBE" await /dev/null "$cl" $((SOCKLAB_TIMEOUT * 1000)) >/dev/null || rc=$?
	[[ $rc == 3 ]] || fail "the client, continued, did not end within $SOCKLAB_TIMEOUT s: a reset connection must end it"
	status=0
	wait "$cl" || status=$?
	sl_slurp stderr "$err"
	printf 'SIGCONT: the client ended with exit status %s\nstderr:\n' "$status"
	sl_indent "$stderr"
	[[ $status != 141 ]] || fail "the client was killed by SIGPIPE: send() the socket's data with MSG_NOSIGNAL"
	sl_verdict "$SOCKLAB_TIMEOUT" "" "$status" "$stderr"
	[[ $status == 1 ]] || fail "expected exit status 1 (a failed send), got $status"
	[[ $stderr =~ ^echo_cl:\ send:\ EPIPE\ \( ]] ||
		fail "expected \"echo_cl: send: EPIPE (...)\" on stderr: the send() comes first in the loop, and in CLOSE_WAIT a reset is EPIPE"
}

@test "12-echo: the client reports a standard input it cannot read (a directory: read fails with EISDIR), exit 1" {
	start_bg peer "$PROBE" echo "$LO" 0
	run_prog "$LAB_BIN/echo_cl" "$LO" "$port" </
	assert_errno read EISDIR
}

@test "12-echo: the client reports a socket() that fails (EMFILE, injected by strace), exit 1" {
	need_strace
	start_bg peer "$PROBE" echo "$LO" 0
	# As if no descriptor were left: the client's socket() fails; connect() must not be tried.
	run_prog strace -qq -o /dev/null -e trace=socket -e inject=socket:error=EMFILE "$LAB_BIN/echo_cl" "$LO" "$port" </dev/null
	assert_errno socket EMFILE
}

@test "12-echo: the client reports a server that resets after its half-close: read fails with ECONNRESET, exit 1" {
	# probe reset reads up to a newline or EOF, then resets: with no newline, it waits for our FIN.
	start_bg peer "$PROBE" reset "$LO" 0
	local in=$BATS_TEST_TMPDIR/in
	printf 'no newline' >"$in"
	traced read "$LAB_BIN/echo_cl" "$LO" "$port" <"$in"
	assert_errno read ECONNRESET
	assert_traced read ECONNRESET
}

@test "12-echo: the client reports a standard output it cannot write (/dev/full: ENOSPC), exit 1" {
	start_bg peer "$PROBE" echo "$LO" 0
	local in=$BATS_TEST_TMPDIR/in
	echo "to /dev/full" >"$in"
	run_prog bash -c 'exec "$0" "$@" >/dev/full' "$LAB_BIN/echo_cl" "$LO" "$port" <"$in"
	assert_errno write ENOSPC
}

# all_sent PID PORT: PID waits in poll() and all it sent to PORT has arrived unread (its Send-Q 0,
# the peer's Recv-Q $3).
all_sent() {
	in_poll "$1" && [[ $(ss -Htn "( dport = :$2 )" | awk '{ print $3 }') == 0 &&
		$(ss -Htn "( sport = :$2 )" | awk '{ print $2 }') == "$3" ]]
}

@test "12-echo: the client reports a shutdown() that fails (ENOTCONN: the server reset before the end of input), exit 1" {
	# probe finrst takes the line without reading it. The client, stopped (SIGSTOP) once the line is
	# sent, gets the server's FIN and RST, and then the end of its input: continued, it reads EOF on
	# stdin first (the loop's order), and its shutdown() meets a connection that is gone: ENOTCONN.
	start_bg peer "$PROBE" finrst "$LO" 0
	local pport=$port err=$BATS_TEST_TMPDIR/cl.err fifo=$BATS_TEST_TMPDIR/stdin w
	mkfifo "$fifo"
	exec {w}<>"$fifo"
	(
		sl_close_fds # (the write end of a pipe whose EOF a client waits for too)
		exec setsid "$LAB_BIN/echo_cl" "$LO" "$pport" <"$fifo" >/dev/null 2>"$err"
	) &
	local cl=$!
	SL_GROUPS+=("$cl")
	echo "\$ echo_cl $LO $pport < pipe > /dev/null &   (pid $cl)"
	printf 'hello\n' >&"$w"
	wait_until all_sent "$cl" "$pport" 6 || {
		ss -Htn "( sport = :$pport or dport = :$pport )"
		fail "the client should send its line and wait in poll() within $SOCKLAB_TIMEOUT s"
	}
	kill -STOP "$cl"
	wait_until stopped "$cl" || fail "the client was not stopped $SOCKLAB_TIMEOUT s after SIGSTOP"
	kill -USR1 "$peer_pid"
	wait_exit peer
	assert_success
	wait_until no_conn "$pport" || fail "the client's connection was still there $SOCKLAB_TIMEOUT s after the RST"
	exec {w}>&- # the end of the client's input
	kill -CONT "$cl"
	local rc=0
	"$PROBE" await /dev/null "$cl" $((SOCKLAB_TIMEOUT * 1000)) >/dev/null || rc=$?
	[[ $rc == 3 ]] || fail "the client, continued, did not end within $SOCKLAB_TIMEOUT s"
	status=0
	wait "$cl" || status=$?
	sl_slurp stderr "$err"
	printf 'SIGCONT: the client ended with exit status %s\nstderr:\n' "$status"
	sl_indent "$stderr"
	sl_verdict "$SOCKLAB_TIMEOUT" "" "$status" "$stderr"
	[[ $status == 1 && $stderr =~ ^echo_cl:\ shutdown:\ ENOTCONN\ \( ]] ||
		fail "expected exit status 1 and \"echo_cl: shutdown: ENOTCONN (...)\": the input ended (read first in the loop), and the half-close failed"
}

@test "12-echo: the client reports ECONNREFUSED when nothing listens on the port" {
	start_bg r "$PROBE" reserve "$LO" 0
	traced connect "$LAB_BIN/echo_cl" "$LO" "$port" </dev/null
	assert_errno connect ECONNREFUSED
	assert_traced connect ECONNREFUSED
}

@test "12-echo: nc (netcat-openbsd, -N) gets its bytes back from the server" {
	command -v nc >/dev/null || skip "needs nc (Debian/Ubuntu: apt install netcat-openbsd)"
	nc -h 2>&1 | grep -qE '^[[:space:]]*-N' ||
		skip "needs the OpenBSD nc with -N (half-close at end of input): apt install netcat-openbsd"
	server
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out
	random "$in" 300000
	echo "\$ nc -N $LO $svport < in > out"
	timeout -k 1 "$SOCKLAB_TIMEOUT" nc -N "$LO" "$svport" <"$in" >"$out" || fail "nc failed or timed out (status $?)"
	same "$in" "$out" "nc did not get its 300000 bytes back"
	wait_output sv "client 1: echoed 300000 bytes, then EOF"
}

@test "12-echo: socat gets its bytes back from the server" {
	command -v socat >/dev/null || skip "needs socat (Debian/Ubuntu: apt install socat)"
	server
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out
	random "$in" 300000
	echo "\$ socat -t 5 - TCP:$LO:$svport < in > out"
	timeout -k 1 "$SOCKLAB_TIMEOUT" socat -t 5 - "TCP:$LO:$svport" <"$in" >"$out" || fail "socat failed or timed out (status $?)"
	same "$in" "$out" "socat did not get its 300000 bytes back"
	wait_output sv "client 1: echoed 300000 bytes, then EOF"
}

@test "12-echo: bash's /dev/tcp gets its line back from the server" {
	server
	# shellcheck disable=SC2016
	run_prog bash -c 'exec 5<>"/dev/tcp/$0/$1" || exit 3
		printf "%s\n" "$2" >&5
		IFS= read -r -t 5 reply <&5 && printf "%s\n" "$reply"' "$LO" "$svport" "hello from bash's /dev/tcp"
	if [[ $status == 3 && $stderr == *"No such file"* ]]; then
		skip "this bash was built without /dev/tcp (net redirections)"
	fi
	assert_success
	assert_output "hello from bash's /dev/tcp"
	wait_output sv "client 1: echoed 27 bytes, then EOF"
}

@test "12-echo: the client gets its bytes back from socat's echo server (a real peer)" {
	command -v socat >/dev/null || skip "needs socat (Debian/Ubuntu: apt install socat)"
	# socat reports where it listens only in its log: -d -d, sent to stdout.
	start_bg so socat -d -d -lf /dev/stdout "TCP-LISTEN:0,bind=$LO,reuseaddr" PIPE
	wait_output so "listening on"
	local sp
	sp=$(grep -om1 'listening on .*:[0-9]*' "$BATS_TEST_TMPDIR/so.out")
	sp=${sp##*:}
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out
	random "$in" 1000000
	client "$in" "$out" "$sp"
	assert_success
	same "$in" "$out" "the client did not print the 1000000 bytes socat echoed"
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "12-echo: echo_sv without arguments, with a bad address or a bad port is a usage error, exit 2" {
	local args
	for args in "" "$LO" "0" "$LO 0 extra" "localhost 0" "1.2.3 0" "$LO abc" "$LO -1" "$LO 65536"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/echo_sv" $args
		assert_usage
	done
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "12-echo: echo_cl without arguments, with a bad address or a bad port (0 too) is a usage error, exit 2" {
	local args
	for args in "" "$LO" "$LO 80 extra" "localhost 80" "::1 80" "$LO abc" "$LO 0" "$LO 65536"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/echo_cl" $args </dev/null
		assert_usage
	done
}

# answered_and_closed PID PORT FILE: the server on PORT has answered (FILE holds its line) and closed
# (the client's socket took its FIN: CLOSE-WAIT), and the client PID still waits in poll().
answered_and_closed() {
	grep -q '^echo: ping$' "$3" && [[ -n $(ss -Htan state close-wait "( dport = :$2 )") ]] && in_poll "$1"
}
# ended PID: PID has exited (a zombie not yet collected, or gone).
ended() {
	local st=
	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat"
	[[ -z $st || $st == Z ]]
}

@test "12-echo: a server that answers and closes before the client's input has ended: the client waits for its end of input, half-closes and exits 0" {
	# probe serve reads one line, answers "echo: LINE" and closes at once. The client's input is a
	# pipe that stays open after "ping": the server's EOF comes first, and all input sent so far
	# went out. Only when the test closes the pipe does the input end.
	start_bg peer "$PROBE" serve "$LO" 0
	local pport=$port fifo=$BATS_TEST_TMPDIR/fifo w
	mkfifo "$fifo"
	exec {w}<>"$fifo"
	bg cl "$fifo" "$LAB_BIN/echo_cl" "$LO" "$pport"
	echo ping >&"$w"
	wait_until eval 'ended "$cl_pid" || answered_and_closed "$cl_pid" "$pport" "$BATS_TEST_TMPDIR/cl.out"' || true
	if ! answered_and_closed "$cl_pid" "$pport" "$BATS_TEST_TMPDIR/cl.out"; then
		exec {w}>&-
		finish cl
		fail "the client did not wait in poll() for the end of its input after the server's answer and EOF (an EOF from the server ends only the answer: the input may still go on)"
	fi
	echo "the server answered and closed; the client waits for the rest of its input: closing the pipe"
	exec {w}>&-
	finish cl
	assert_success
	[[ $(<"$BATS_TEST_TMPDIR/cl.out") == "echo: ping" ]] || fail "expected the client to print the server's answer \"echo: ping\""
}

# Predictions (labs/12-echo/predictions.md): the kit's probe runs each experiment; the kernel's
# answer in this run is the truth.
@test "12-echo: prediction P1: how many bytes one read returns after three writes of 4 bytes" {
	run_prog "$PROBE" pieces 3
	assert_success
	[[ ${lines[0]:-} =~ returned\ ([0-9]+)\ bytes$ ]] || fail "the probe printed no \"... returned N bytes\" line"
	expect_prediction P1 number "${BASH_REMATCH[1]}" "${lines[0]}" \
		"docs/12-echo.md, \"A stream has no messages: short reads and short writes\" (中文: docs/zh/12-echo.md)"
}

# p_eintr ARGS...: the probe's interrupted call; $e its errno, or "none" if it returned.
p_eintr() {
	run_prog "$PROBE" eintr "$@"
	assert_success
	[[ ${lines[0]:-} =~ ^[a-z]+:\ -1\ (E[A-Z0-9]+)$ ]] && e=${BASH_REMATCH[1]} || e=none
}

@test "12-echo: prediction P2: the errno of a read that a signal interrupts, its handler without SA_RESTART" {
	local e
	p_eintr
	local kind=errno
	[[ $e == none ]] && kind=word
	expect_prediction P2 "$kind" "$e" "SIGALRM (handler without SA_RESTART) came during a blocking read(): ${lines[0]}" \
		"docs/12-echo.md, \"EINTR: a signal interrupts a blocking call\" (中文: docs/zh/12-echo.md)"
}

@test "12-echo: prediction P3: the errno of a poll that a signal interrupts, its handler with SA_RESTART" {
	local e
	p_eintr -r poll
	local kind=errno
	[[ $e == none ]] && kind=word
	expect_prediction P3 "$kind" "$e" "SIGALRM (handler with SA_RESTART) came during poll() with a 2 s timeout: ${lines[0]}" \
		"docs/12-echo.md, \"EINTR: a signal interrupts a blocking call\" (中文: docs/zh/12-echo.md)"
}

@test "12-echo: prediction P4: the signal that ends a client writing again after its server closed" {
	start_bg sv "$PROBE" close "$LO" 0
	run_prog --signal "$PROBE" afterclose -k "$LO" "$port"
	local sig=none
	((status > 128)) && sig=SIG$(kill -l $((status - 128)))
	expect_prediction P4 word "$sig|${sig#SIG}" \
		"the probe (SIGPIPE at its default action) read its server's EOF, wrote once, wrote again: exit status $status, ${sig/#none/no signal}" \
		"docs/12-echo.md, \"SIGPIPE: one vanished client must not kill the server\" (中文: docs/zh/12-echo.md)"
}
