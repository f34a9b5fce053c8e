#!/usr/bin/env bats
# 15-fork: a concurrent echo server, a process (or with -t a thread) per client. Concurrency is
# proved from the kernel's view and the clients', never from what the server prints: which process
# holds which socket (ss -p, /proc/PID/fd), the server's children and their states (/proc: Z is a
# zombie), its threads (/proc/PID/status), and clients that get their echo while others stall.
# Children stay in the server's process group, so the helpers' group kill ends them with it.
load lib/socklab
load lib/calls

setup_file() { lab_setup_file 15-fork; }
setup() { lab_setup; }
teardown() { lab_teardown; }

LO=127.0.0.1
READ_PROC='docs/15-fork.md, "Who holds which socket after fork()" (中文: docs/zh/15-fork.md)'
READ_REAP='docs/15-fork.md, "SIGCHLD, zombies and the waitpid loop" (中文: docs/zh/15-fork.md)'
READ_EINTR='docs/15-fork.md, "EINTR in accept(): why this server does without SA_RESTART" (中文: docs/zh/15-fork.md)'
READ_THREAD='docs/15-fork.md, "A thread per client" (中文: docs/zh/15-fork.md)'

# server [-t]: fork_sv [-t] on $LO, port 0; svport is the port it reports.
server() {
	start_bg sv "$LAB_BIN/fork_sv" "$@" "$LO" 0
	svport=$sv_port
}

# Is process $1 alive (not gone, not a zombie)?
alive() {
	local st
	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" && [[ $st != Z ]]
}

# state PID: the state letter of PID (S, R, T, Z...), or "gone".
state() {
	local st=gone
	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" || st=gone
	echo "$st"
}

# kids: kids=(the pids of the server's children, zombies included), from /proc.
kids() {
	local f k
	kids=()
	for f in /proc/"$sv_pid"/task/*/children; do
		read -ra k 2>/dev/null <"$f" || true
		kids+=("${k[@]}")
	done
}

# zombies: zombies=(the server's children in state Z).
zombies() {
	local k
	kids
	zombies=()
	for k in "${kids[@]}"; do
		[[ $(state "$k") == Z ]] && zombies+=("$k")
	done
	return 0
}

# nsockets PID / nfds PID: how many of PID's descriptors are sockets / how many it has (/proc/PID/fd).
nsockets() { find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l; }
nfds() {
	local f=(/proc/"$1"/fd/*)
	[[ -e ${f[0]} ]] && echo "${#f[@]}" || echo 0
}

# threads PID: the number of threads of PID (/proc/PID/status).
threads() { awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# holders FILTER...: the pids ss -p names for the TCP sockets ss selects with FILTER, sorted, one line.
holders() { ss -Htanp "$@" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -un | tr '\n' ' ' | sed 's/ $//'; }

# sv_died: fail, showing what the server said, if it has died.
sv_died() {
	alive "$sv_pid" && return 0
	local out err
	sl_slurp out "$BATS_TEST_TMPDIR/sv.out"
	sl_slurp err "$BATS_TEST_TMPDIR/sv.err"
	echo "the server's stdout:"
	sl_indent "$out"
	echo "the server's stderr:"
	sl_indent "$err"
	fail "the server (pid $sv_pid) died (see what it said above): it must serve client after client"
}

# sv_wait CMD...: wait_until CMD succeeds or the server dies (then fail at once). Status 1 if CMD
# never succeeded within the time limit.
sv_wait() {
	wait_until sv_or_dead "$@" || true
	sv_died
	"$@"
}

sv_or_dead() { "$@" || ! alive "$sv_pid"; }

# echo_ok NAME [LIMIT]: probe connect sends "NAME" and must get it back within LIMIT s (default 2).
echo_ok() {
	local limit=${2:-2} out rc=0
	echo "\$ probe connect $LO $svport \"$1\"   (at most $limit s)"
	out=$(timeout -k 1 "$limit" "$PROBE" connect "$LO" "$svport" "$1" 2>&1 3>&-) || rc=$?
	sl_indent "$out"
	if ((rc == 124 || rc == 137)); then
		sv_died
		fail "no echo for \"$1\" within $limit s: the server is not serving this client (does one client hold up the others?)"
	fi
	((rc == 0)) || { sv_died; fail "the client \"$1\" failed (status $rc): see what it said above"; }
	[[ $out == *$'\n'"$1" ]] || fail "the client \"$1\" did not get its line back (it got what is shown above)"
}

# sv_quiet: the server has reported nothing on stderr: clients served normally are no failure.
sv_quiet() {
	local err
	sl_slurp err "$BATS_TEST_TMPDIR/sv.err"
	[[ -z $err ]] && return 0
	echo "the server's stderr:"
	sl_indent "$err"
	fail "the server reported an error although every client was served normally (see its stderr above): a call that succeeded taken for a failure?"
}

# sv_err_only LINE_REGEX: the server's stderr (after stop_bg) is that one line and nothing else.
sv_err_only() {
	[[ $stderr =~ ^$1$ ]] ||
		fail "expected exactly one line on the server's stderr, matching \"$1\": it reported something else too (see above)"
}

# socks_of PID: "PID (state S): N socket(s): ..." for a failure message.
socks_of() {
	local f l s=()
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		[[ $l == socket:* ]] && s+=("fd ${f##*/} $l")
	done
	echo "pid $1 (state $(state "$1")): ${#s[@]} socket(s)${s[*]:+: ${s[*]}}"
}

@test "15-fork: the server echoes a line back to the kit's probe, and serves the next client after the child has ended" {
	server
	echo_ok "hello, fork"
	# The child ends once its client has gone; its SIGCHLD comes while the parent waits in accept().
	sv_wait eval 'kids; ((${#kids[@]} == 0))' || fail "the child of client 1 was still there (${kids[*]}) $SOCKLAB_TIMEOUT s after its client left: $(for k in "${kids[@]}"; do echo "pid $k state $(state "$k")"; done)"
	echo_ok "after the child's exit"
	sv_died
	wait_output sv "client 2: echoed 23 bytes, then EOF"
	sv_quiet
}

@test "15-fork: while a client is connected, its child holds exactly the connection and the parent only the listener (ss -p, /proc/PID/fd)" {
	server
	start_bg cl "$PROBE" hold "$LO" "$svport"
	local cport=${cl_line##* } conn lsn=(state listening "( sport = :$svport )")
	conn=(state established "( sport = :$svport and dport = :$cport )")
	# Each side may still be closing what it does not use just after fork(): wait (bounded) for a
	# child and for the connection to be held by that child alone.
	settled() {
		kids
		((${#kids[@]} == 1)) && [[ $(holders "${conn[@]}") == "${kids[0]}" && $(holders "${lsn[@]}") == "$sv_pid" ]]
	}
	sv_wait settled || true
	kids
	echo "the server: $(socks_of "$sv_pid")"
	for k in "${kids[@]}"; do echo "its child: $(socks_of "$k")"; done
	echo "ss -tanp (the connection, then the listener):"
	sl_indent "$(ss -Htanp "${conn[@]}"; ss -Htanp "${lsn[@]}")"
	((${#kids[@]} == 1)) || fail "with one client connected the server should have exactly one child process, it has ${#kids[@]} (${kids[*]}); read $READ_PROC"
	local kid=${kids[0]}
	[[ $(holders "${conn[@]}") != *"$sv_pid"* ]] ||
		fail "the parent (pid $sv_pid) still holds the client's connection: after fork() the parent must close the connected socket; read $READ_PROC"
	[[ $(holders "${lsn[@]}") != *"$kid"* ]] ||
		fail "the child (pid $kid) holds the listening socket too: after fork() the child must close it (only the parent accepts); read $READ_PROC"
	[[ $(holders "${conn[@]}") == "$kid" ]] || fail "ss should show the connection held by the child (pid $kid) alone; read $READ_PROC"
	(($(nsockets "$kid") == 1)) || fail "the child should hold exactly one socket (the connection), /proc/$kid/fd shows $(nsockets "$kid")"
	(($(nsockets "$sv_pid") == 1)) || fail "the parent should hold exactly one socket (the listener), /proc/$sv_pid/fd shows $(nsockets "$sv_pid")"
	# The child must stay in the server's process group: ending that group ends every child too.
	local pgid
	pgid=$(awk '{ sub(/^.*\) /, ""); print $3 }' "/proc/$kid/stat")
	[[ $pgid == "$sv_pid" ]] ||
		fail "the child (pid $kid) left the server's process group ($sv_pid, its own is $pgid): do not call setsid() or setpgid() in it"
}

# sender_stuck PORT: the connection from PORT to the server has echo it does not read (Recv-Q > 0)
# and the server's end has bytes it cannot send (Send-Q > 0): the child serving it waits in write().
sender_stuck() {
	[[ -n $(ss -Htn "( sport = :$1 and dport = :$svport )" | awk '$2 > 0') &&
		-n $(ss -Htn "( sport = :$svport and dport = :$1 )" | awk '$3 > 0') ]]
}

# stall_then_echo [-t]: a silent client (connects, sends nothing) and a client that sends 4 MB but
# reads none of its echo; a third client must get its echo at once all the same.
stall_then_echo() {
	server "$@"
	start_bg quiet "$PROBE" hold "$LO" "$svport"
	start_bg slow "$PROBE" stream -p "$LO" "$svport" 4000000
	local sport=${slow_line##* }
	sv_wait sender_stuck "$sport" || {
		ss -Htn "( sport = :$svport or dport = :$svport )"
		fail "the client that does not read should have its server end stuck in write() (Send-Q > 0) within $SOCKLAB_TIMEOUT s: is it served at all?"
	}
	echo "ss: the silent client and the stalled one (both still connected):"
	sl_indent "$(ss -Htn "( dport = :$svport )")"
	echo_ok "not delayed" 2
	# Its worker has ended by now or soon, while the other two still run: the server must not wait
	# for those in its handler (WNOHANG).
	echo_ok "nor after one of three workers ended" 2
}

@test "15-fork: a silent client and one that does not read its echo delay nobody: a third client gets its echo at once (processes)" {
	stall_then_echo
}

@test "15-fork: -t: a silent client and one that does not read its echo delay nobody: a third client gets its echo at once (threads)" {
	stall_then_echo -t
	[[ -z $(ls /proc/"$sv_pid"/task/*/children 2>/dev/null | xargs cat 2>/dev/null) ]] ||
		fail "with -t the server must start threads, not child processes; read $READ_THREAD"
}

# describe_kids: the server's children and their states, for a failure message.
describe_kids() {
	local k s=
	kids
	for k in "${kids[@]}"; do s+=" $k:$(state "$k")"; done
	echo "${#kids[@]} (pid:state${s:- none})"
}

@test "15-fork: after 50 clients no child is left a zombie and the parent holds the descriptors it held before (processes)" {
	server
	local fds0 socks0
	fds0=$(nfds "$sv_pid") socks0=$(nsockets "$sv_pid")
	echo "before any client the server holds $fds0 descriptors, $socks0 of them sockets"
	run_prog "$PROBE" stream -n 50 "$LO" "$svport" 100
	assert_success
	sv_wait eval 'kids; ((${#kids[@]} == 0))' || true
	zombies
	echo "the server's children now: $(describe_kids)"
	((${#zombies[@]} == 0)) ||
		fail "${#zombies[@]} children of the server are zombies (state Z in /proc/PID/stat): they ended and nobody collected them with waitpid(); read $READ_REAP"
	((${#kids[@]} == 0)) || fail "the children should all have ended once their clients left, ${#kids[@]} are still there"
	local fds socks
	fds=$(nfds "$sv_pid") socks=$(nsockets "$sv_pid")
	echo "after 50 clients the server holds $fds descriptors, $socks of them sockets: $(socks_of "$sv_pid")"
	((socks == socks0 && fds == fds0)) ||
		fail "the server leaks descriptors: $fds0 before, $fds after 50 clients (sockets: $socks0, then $socks): the parent must close each connected socket after fork(); read $READ_PROC"
}

@test "15-fork: ten children that end at once while the parent is stopped (one SIGCHLD for all) are all collected: a waitpid loop" {
	server
	local i hold=()
	for i in {1..10}; do
		start_bg "h$i" "$PROBE" hold "$LO" "$svport" >/dev/null
		local v=h${i}_pid
		hold+=("${!v}")
	done
	sv_wait eval 'kids; ((${#kids[@]} == 10))' || fail "with ten clients connected the server should have ten children, it has $(describe_kids)"
	# Stopped, the parent cannot take any SIGCHLD: the ten exits leave one signal pending, no more.
	kill -STOP "$sv_pid"
	wait_until eval '[[ $(state "$sv_pid") == T ]]' || fail "the server did not stop after SIGSTOP"
	kill -TERM "${hold[@]}"
	all_zombies() {
		zombies
		((${#zombies[@]} == 10))
	}
	wait_until all_zombies || { kill -CONT "$sv_pid"; fail "the ten children did not end within $SOCKLAB_TIMEOUT s after their clients left: $(describe_kids)"; }
	echo "the parent is stopped; its children: $(describe_kids)"
	kill -CONT "$sv_pid"
	echo "SIGCONT: one SIGCHLD is delivered now"
	sv_wait eval 'kids; ((${#kids[@]} == 0))' || true
	zombies
	echo "the server's children now: $(describe_kids)"
	((${#zombies[@]} == 0)) ||
		fail "${#zombies[@]} of the ten children are still zombies after the server got its one SIGCHLD: signals are not counted, so one SIGCHLD may stand for many exits: the handler must call waitpid(WNOHANG) until no ended child is left; read $READ_REAP"
	echo_ok "still serving"
}

@test "15-fork: an accept() that fails with EINTR (injected by strace) is made again: the next client is served" {
	# The second accept() fails with EINTR as if a signal had interrupted it (whatever SA_RESTART).
	start_injected sv accept:2 EINTR "$LAB_BIN/fork_sv" "$LO" 0
	svport=$sv_port
	echo_ok "first"
	echo_ok "second, after EINTR" 3
	sv_died
	stop_bg sv
	[[ $stderr != *"accept: EINTR"* ]] ||
		fail "the server reported the EINTR of accept() as a failure: a signal interrupted the wait, nothing is wrong: call accept() again; read $READ_EINTR"
}

@test "15-fork: a fork() that fails (EAGAIN, injected by strace) costs that client only: reported, and the next client is served" {
	need_strace
	start_bg sv env ASAN_OPTIONS="$(sl_no_lsan)" strace -f -qq -o /dev/null -e trace=clone,clone3,fork,vfork \
		-e inject=clone,clone3,fork,vfork:error=EAGAIN:when=1 "$LAB_BIN/fork_sv" "$LO" 0
	svport=$sv_port
	local out rc=0
	echo "\$ probe connect $LO $svport \"lost\""
	out=$(timeout -k 1 2 "$PROBE" connect "$LO" "$svport" "lost" 2>&1 3>&-) || rc=$?
	sl_indent "$out"
	((rc != 124 && rc != 137)) ||
		fail "the first client was left hanging: when fork() fails, close its connection (nobody will serve it)"
	echo_ok "served"
	sv_died
	stop_bg sv
	[[ $stderr =~ fork_sv:\ (fork|clone):\ EAGAIN\ \( ]] ||
		fail "expected the server to report \"fork_sv: fork: EAGAIN (...)\" on stderr for the client it could not serve"
	sv_err_only 'fork_sv: (fork|clone): EAGAIN \([^)]*\)'
}

@test "15-fork: -t: a thread that cannot be made (pthread_create: EAGAIN, injected by strace) costs that client only: reported, and the next client is served" {
	need_strace
	start_bg sv env ASAN_OPTIONS="$(sl_no_lsan)" strace -f -qq -o /dev/null -e trace=clone,clone3 \
		-e inject=clone,clone3:error=EAGAIN:when=1 "$LAB_BIN/fork_sv" -t "$LO" 0
	svport=$sv_port
	local out rc=0
	echo "\$ probe connect $LO $svport \"lost\""
	out=$(timeout -k 1 2 "$PROBE" connect "$LO" "$svport" "lost" 2>&1 3>&-) || rc=$?
	sl_indent "$out"
	((rc != 124 && rc != 137)) ||
		fail "the first client was left hanging: when no thread can be made, close its connection (nobody will serve it)"
	echo_ok "served"
	sv_died
	stop_bg sv
	[[ $stderr =~ fork_sv:\ pthread_create:\ EAGAIN\ \( ]] ||
		fail "expected the server to report \"fork_sv: pthread_create: EAGAIN (...)\" on stderr: pthread_create returns the error number (errno is not set); read $READ_THREAD"
	sv_err_only 'fork_sv: pthread_create: EAGAIN \([^)]*\)'
}

@test "15-fork: -t: while a client is connected the server has one more thread and one more socket, the connection; both go when it leaves" {
	server -t
	local t0 s0 fd0
	t0=$(threads "$sv_pid") s0=$(nsockets "$sv_pid") fd0=$(nfds "$sv_pid")
	echo "before any client: $t0 thread(s), $s0 socket(s), $fd0 descriptors"
	start_bg cl "$PROBE" hold "$LO" "$svport"
	local cport=${cl_line##* } conn
	conn=(state established "( sport = :$svport and dport = :$cport )")
	sv_wait eval '(($(threads "$sv_pid") == t0 + 1)) && [[ $(holders "${conn[@]}") == "$sv_pid" ]]' || true
	echo "with a client: $(threads "$sv_pid") thread(s); $(socks_of "$sv_pid")"
	sl_indent "$(ss -Htanp "${conn[@]}")"
	(($(threads "$sv_pid") == t0 + 1)) || fail "with one client connected the server should run $((t0 + 1)) threads (one for the client), /proc/$sv_pid/status says $(threads "$sv_pid"); read $READ_THREAD"
	[[ $(holders "${conn[@]}") == "$sv_pid" ]] || fail "ss should show the connection held by the server (pid $sv_pid)"
	(($(nsockets "$sv_pid") == s0 + 1)) || fail "the server should hold one socket more than before (the connection)"
	stop_bg cl
	sv_wait eval '(($(threads "$sv_pid") == t0 && $(nfds "$sv_pid") == fd0))' || true
	echo "after the client left: $(threads "$sv_pid") thread(s), $(nfds "$sv_pid") descriptors; $(socks_of "$sv_pid")"
	(($(threads "$sv_pid") == t0)) || fail "the client's thread should have ended once the client left; read $READ_THREAD"
	(($(nfds "$sv_pid") == fd0)) ||
		fail "the client has gone but its descriptor is still open in the server: the thread must close its connection (threads share one descriptor table); read $READ_THREAD"
	sv_quiet
}

# nmaps PID: how many memory mappings PID has (/proc/PID/maps): a thread's stack is one, its guard page another.
nmaps() { wc -l <"/proc/$1/maps"; }

@test "15-fork: -t: after 50 clients the server is one thread again, with the descriptors it had and no stack kept per client (detached threads)" {
	server -t
	local fds0 maps0
	fds0=$(nfds "$sv_pid")
	echo_ok "warm-up" # the first thread's stack and what the C library sets up once
	sv_wait eval '(($(threads "$sv_pid") == 1))' || true
	maps0=$(nmaps "$sv_pid")
	echo "after one client: $maps0 memory mappings, $fds0 descriptors"
	run_prog "$PROBE" stream -n 50 "$LO" "$svport" 100
	assert_success
	sv_wait eval '(($(threads "$sv_pid") == 1 && $(nfds "$sv_pid") == fds0))' || true
	local maps
	maps=$(nmaps "$sv_pid")
	echo "after 50 more clients: $(threads "$sv_pid") thread(s), $(nfds "$sv_pid") descriptors, $maps memory mappings"
	(($(threads "$sv_pid") == 1)) || fail "every client has gone: only the main thread should be left, /proc/$sv_pid/status says $(threads "$sv_pid")"
	(($(nfds "$sv_pid") == fds0)) ||
		fail "the server leaks descriptors: $fds0 before, $(nfds "$sv_pid") after 50 clients: each thread must close its connection; read $READ_THREAD"
	((maps < maps0 + 20)) ||
		fail "the server's memory mappings grew from $maps0 to $maps over 50 clients: the stack of each ended thread is kept until someone joins it: detach the threads (pthread_detach); read $READ_THREAD"
	sv_quiet
}

@test "15-fork: a failed accept() other than EINTR (EMFILE: no descriptor left under ulimit -n 4) ends the server, reported" {
	# Descriptors 0-2 and the listening socket: with at most 4, accept() has none left for a client
	# (the kernel takes the descriptor before it waits: it fails at once, with no client at all).
	# shellcheck disable=SC2016
	start_bg sv bash -c 'for f in /proc/$$/fd/*; do f=${f##*/}; ((f > 2)) && eval "exec $f>&-"; done
		ulimit -n 4 && exec "$0" "$@"' "$LAB_BIN/fork_sv" "$LO" 0
	wait_exit sv
	assert_errno accept EMFILE
}

# bats test_tags=points:0
@test "15-fork: fork_sv without arguments, with a bad option, a bad address or a bad port is a usage error, exit 2" {
	local args
	for args in "" "$LO" "-t" "-t $LO" "-x $LO 0" "$LO 0 extra" "localhost 0" "1.2.3 0" "$LO abc" "$LO 65536"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/fork_sv" $args
		assert_usage
	done
}

# Predictions (labs/15-fork/predictions.md): the kit's probe runs each experiment; the kernel's
# answer in this run is the truth.
@test "15-fork: prediction P1: how many descriptors refer to an accepted connection just after fork()" {
	run_prog "$PROBE" fork share
	assert_success
	[[ ${lines[0]:-} =~ ^after\ fork,\ ([0-9]+)\ descriptors ]] || fail "the probe printed no \"after fork, N descriptors ...\" line"
	expect_prediction P1 number "${BASH_REMATCH[1]}" "${lines[0]}" "$READ_PROC"
}

@test "15-fork: prediction P2: how many sockets a parent that never closes the connection holds after 10 clients" {
	run_prog "$PROBE" fork leak 10
	assert_success
	[[ ${lines[0]:-} =~ holds\ ([0-9]+)\ sockets$ ]] || fail "the probe printed no \"... holds N sockets\" line"
	expect_prediction P2 number "${BASH_REMATCH[1]}" "${lines[0]}" "$READ_PROC"
}

@test "15-fork: prediction P3: the state of a child that has ended and was not waited for" {
	run_prog "$PROBE" fork zombie
	assert_success
	[[ ${lines[0]:-} =~ state\ ([A-Za-z])$ ]] || fail "the probe printed no \"... state X\" line"
	local s=${BASH_REMATCH[1]} also=
	[[ $s == Z ]] && also='|zombie'
	expect_prediction P3 word "$s$also" "${lines[0]}" "$READ_REAP"
}

@test "15-fork: prediction P4: how many times the SIGCHLD handler runs for five children that ended while it was blocked" {
	run_prog "$PROBE" fork burst 5
	assert_success
	[[ ${lines[0]:-} =~ ran\ ([0-9]+)\ time ]] || fail "the probe printed no \"... ran N time(s)\" line"
	expect_prediction P4 number "${BASH_REMATCH[1]}" "${lines[0]}" "$READ_REAP"
}

# p_accept [-r]: the probe's accept() during which a child exits; $e its errno, or "none".
p_accept() {
	run_prog "$PROBE" fork accept "$@"
	assert_success
	[[ ${lines[0]:-} =~ ^accept:\ -1\ (E[A-Z0-9]+) ]] && e=${BASH_REMATCH[1]} || e=none
}

@test "15-fork: prediction P5: what accept() returns when a child exits, the SIGCHLD handler installed without SA_RESTART" {
	local e kind=errno
	p_accept
	[[ $e == none ]] && kind=word
	expect_prediction P5 "$kind" "$e" "${lines[0]}" "$READ_EINTR"
}

@test "15-fork: prediction P6: what accept() returns when a child exits, the SIGCHLD handler installed with SA_RESTART" {
	local e kind=errno
	p_accept -r
	[[ $e == none ]] && kind=word
	expect_prediction P6 "$kind" "$e" "${lines[0]}" "$READ_EINTR"
}
