#!/usr/bin/env bats
# 07-connect-errors: every failure is produced for real by the kernel, never simulated:
#   RST            a loopback port the kernel just handed out and nobody listens on
#   no answer      a listener whose accept queue is full (listen(0) + one held connection) drops
#                  further SYNs; or, inside a test-made namespace, a NOARP link with nobody behind it
#   unreachable    routes inside a network namespace this file creates (unshare -rn); nothing that
#                  is not loopback is ever sent outside it
# Only three tests wait for the kernel's SYN timeout (TCP_SYNCNT 1: about 3 s each).
load lib/socklab
load lib/calls

setup_file() { lab_setup_file 07-connect-errors; }
setup() { lab_setup; }
teardown() { lab_teardown; }

# A loopback port nobody listens on: the kernel hands one out to the probe, which keeps it bound
# but never listens, so no other program can take it while the test runs. Sets $cport.
# -r: with SO_REUSEADDR, so that a listener (with SO_REUSEADDR too) can bind it later.
closed_port() {
	start_bg closed "$PROBE" reserve "$@" 127.0.0.1 0
	cport=${line##* }
	[[ -z $(ss -Hltn "sport = :$cport") ]] || fail "setup: port $cport should have no listener"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# A listener with backlog 0 and one connection it never accepts: its accept queue is full, so the
# kernel drops every further SYN to it. Sets $qport. Waits (bounded, no sleep) until ss shows the
# held connection in the queue, so that our SYN cannot slip in before it.
full_queue() {
	start_bg lsn "$PROBE" listen -b 0 127.0.0.1 0
	qport=${line##* }
	start_bg holder "$PROBE" hold 127.0.0.1 "$qport"
	local q
	wait_until -t 3 queue_full "$qport" || true
	q=$(ss -Hltn "sport = :$qport" | awk '{ print $2 }')
	echo "ss -Hltn sport = :$qport: $(ss -Hltn "sport = :$qport")"
	[[ $q == 1 ]] || fail "setup: the listener's accept queue should hold 1 connection (Recv-Q 1), ss says ${q:-nothing}"
}

queue_full() { [[ $(ss -Hltn "sport = :$1" | awk '{ print $2 }') == 1 ]]; }

# One counter from /proc/net/snmp + /proc/net/netstat (given as FILE, or the live ones), e.g.
# TcpExt:ListenOverflows, Tcp:ActiveOpens.
counter() {
	local name=$1
	shift
	[[ $# -gt 0 ]] || set -- /proc/net/snmp /proc/net/netstat
	awk -v want="$name" '$1 ~ /:$/ {
		if ($1 == hdr) { for (i = 2; i <= NF; i++) if (n[i] == want) print $i }
		else { hdr = $1; for (i = 2; i <= NF; i++) n[i] = $1 $i }
	}' "$@"
}

# ns_prog [-t S] SETUP CMD...: in a new network namespace (UNSHARE -n) run the shell commands
# SETUP, then CMD, through run_prog; the namespace's TCP counters are left in $NS_STAT.
ns_prog() {
	local limit=$SOCKLAB_TIMEOUT
	if [[ $1 == -t ]]; then
		limit=$2
		shift 2
	fi
	local setup=$1
	shift
	NS_STAT=$BATS_TEST_TMPDIR/ns.stat
	run_prog -t "$limit" "${UNSHARE[@]}" -n sh -c "$setup"' && { "$0" "$@"; rc=$?; cat /proc/net/snmp /proc/net/netstat >'"'$NS_STAT'"'; exit $rc; }' "$@"
}

need_ip() {
	need_userns
	command -v ip >/dev/null || skip "needs the ip command (iproute2) to set up the test's namespace"
}

# A random host in 203.0.113.0/24 (TEST-NET-3), used only inside the test's own namespace.
rand_host() { echo "203.0.113.$((RANDOM % 250 + 2))"; }

# Wait until background program NAME has exited (bounded), then collect its output with stop_bg.
finish_bg() {
	local pidvar=${1}_pid
	"$PROBE" await /dev/null "${!pidvar}" $((SOCKLAB_TIMEOUT * 1000)) >/dev/null || true
	stop_bg "$1"
}

# explained N: stdout has exactly N lines (the EINPROGRESS line with -t, and the one line explaining
# the errno): one case of the explanation, not several run together.
explained() {
	((${#lines[@]} == $1)) ||
		fail "expected exactly $1 line(s) on stdout: one line explains the errno (does a case of the switch fall through into the next?)"
}

# After a successful connect: the client port the program printed is the one the server saw.
expect_same_client_port() {
	[[ ${lines[-1]} =~ ^connected\ to\ 127\.0\.0\.1\ port\ $port\ from\ 127\.0\.0\.1\ port\ ([0-9]+)$ ]] ||
		fail "expected the last line \"connected to 127.0.0.1 port $port from 127.0.0.1 port N\""
	local mine=${BASH_REMATCH[1]}
	finish_bg srv
	grep -qx "peer 127.0.0.1 $mine" <<<"$output" ||
		fail "the server saw another client port than the program's \"from ... port $mine\" (see its stdout above)"
}

@test "07-connect-errors: a port where nobody listens answers the SYN with an RST: ECONNREFUSED" {
	closed_port
	run_prog "$LAB_BIN/connect_err" 127.0.0.1 "$cport"
	assert_errno connect ECONNREFUSED
	assert_line --index 0 --regexp '^RST received'
	explained 1
	# The kernel's own answer for that port, asked by the probe: the same.
	run_prog "$PROBE" connect 127.0.0.1 "$cport"
	assert_errno connect ECONNREFUSED
}

@test "07-connect-errors: connecting to a listening port succeeds and the server sees the same client port" {
	start_bg srv "$PROBE" serve 127.0.0.1 0
	port=${line##* } # the probe says "listening ADDR PORT"
	run_prog "$LAB_BIN/connect_err" 127.0.0.1 "$port"
	assert_success
	expect_same_client_port
}

@test "07-connect-errors: the outcome follows the kernel: refused on a closed port, connected once it listens" {
	closed_port -r
	run_prog "$LAB_BIN/connect_err" 127.0.0.1 "$cport"
	assert_errno connect ECONNREFUSED
	# Both sockets have SO_REUSEADDR and the first never listens: the port can get a listener.
	start_bg lsn "$PROBE" listen -r 127.0.0.1 "$cport"
	run_prog "$LAB_BIN/connect_err" 127.0.0.1 "$cport"
	assert_success
	assert_output --regexp "connected to 127\.0\.0\.1 port $cport from 127\.0\.0\.1 port [0-9]+"
	stop_bg lsn
	run_prog "$LAB_BIN/connect_err" 127.0.0.1 "$cport"
	assert_errno connect ECONNREFUSED
}

@test "07-connect-errors: -t stops waiting by its own limit: EINPROGRESS, then poll times out" {
	full_queue
	local ms t0 limit
	for limit in 250 700; do
		t0=$(now_ms)
		run_prog -t 10 "$LAB_BIN/connect_err" -t "$limit" 127.0.0.1 "$qport"
		ms=$(($(now_ms) - t0))
		echo "took $ms ms"
		assert_failure 1
		assert_line --index 0 --regexp '^connect: EINPROGRESS'
		assert_line --index 1 --partial "no answer within $limit ms"
		[[ $stderr != *ETIMEDOUT* ]] || fail "our own limit is not the kernel's ETIMEDOUT: do not report that errno"
		# Only a lower bound: on a busy machine starting the program alone can take seconds. A
		# program that waits for the kernel instead would hang for minutes and hit run_prog's limit.
		((ms >= limit)) || fail "gave up after $ms ms, before the $limit ms it was given"
	done
}

@test "07-connect-errors: -t to a closed port: EINPROGRESS, then SO_ERROR reports ECONNREFUSED" {
	closed_port
	# A limit of a minute: the RST is there at once, and poll() returns then. A program that sleeps
	# its whole limit instead of waiting in poll() runs out of the test's 3 s.
	run_prog -t 3 "$LAB_BIN/connect_err" -t 60000 127.0.0.1 "$cport"
	assert_errno connect ECONNREFUSED
	assert_line --index 0 --regexp '^connect: EINPROGRESS'
	assert_line --index 1 --regexp '^RST received'
	explained 2
}

@test "07-connect-errors: -t to a listening port: EINPROGRESS, then connected with the client port the server saw" {
	start_bg srv "$PROBE" serve 127.0.0.1 0
	port=${line##* } # the probe says "listening ADDR PORT"
	# poll() returns as soon as the handshake is done: a minute's limit must cost nothing.
	run_prog -t 3 "$LAB_BIN/connect_err" -t 60000 127.0.0.1 "$port"
	assert_success
	assert_line --index 0 --regexp '^connect: EINPROGRESS'
	expect_same_client_port
}

# in_trace RE WHAT: the strace output in $trace has a line matching the extended regex RE, or fail.
in_trace() {
	grep -qE -- "$1" "$trace" && return 0
	echo "strace said:"
	sl_indent "$(grep -vE '^(\+\+\+|---)' "$trace" | head -n 30)"
	fail "strace shows no $2"
}

@test "07-connect-errors: strace shows the calls were made: connect refused by the kernel; with -s and -t, TCP_SYNCNT set, poll with the limit, ECONNREFUSED read from SO_ERROR" {
	need_strace
	closed_port
	local trace=$BATS_TEST_TMPDIR/trace sa
	sa="\\{sa_family=AF_INET, sin_port=htons\\($cport\\), sin_addr=inet_addr\\(\"127\\.0\\.0\\.1\"\\)\\}, 16\\)"
	# Blocking: the errno printed is the one connect() itself returned.
	run_prog strace -qq -o "$trace" -e trace=%network "$LAB_BIN/connect_err" 127.0.0.1 "$cport"
	assert_errno connect ECONNREFUSED
	in_trace "^connect\\([0-9]+, $sa = -1 ECONNREFUSED" "connect() to 127.0.0.1 port $cport that the kernel refused (ECONNREFUSED)"
	# Non-blocking, bounded: the option as given, EINPROGRESS, poll() with the limit, then SO_ERROR.
	run_prog -t 3 strace -qq -o "$trace" -e trace=%network,%desc "$LAB_BIN/connect_err" -s 3 -t 60000 127.0.0.1 "$cport"
	assert_errno connect ECONNREFUSED
	in_trace "^setsockopt\\([0-9]+, (SOL_TCP|IPPROTO_TCP), TCP_SYNCNT, \\[3\\]" "setsockopt(TCP_SYNCNT) with the value of -s 3"
	in_trace "^connect\\([0-9]+, $sa = -1 EINPROGRESS" "non-blocking connect() that returned EINPROGRESS"
	in_trace "^(poll\\(.*, 60000\\)|ppoll\\(.*\\{tv_sec=60, tv_nsec=0\\}.*\\)) += [1-9]" "poll() that waited with the limit of -t 60000 ms and returned the event"
	in_trace "^getsockopt\\([0-9]+, SOL_SOCKET, SO_ERROR, \\[(ECONNREFUSED|111)\\]" "getsockopt(SO_ERROR) that read ECONNREFUSED"
}

@test "07-connect-errors: EPERM (a firewall's answer, injected by strace) is explained as destination unreachable; an errno of no other kind as another failure" {
	need_strace
	closed_port
	# No firewall here to reject the SYN: strace makes connect() return the errno one would give
	# (the call itself never reaches the kernel).
	run_prog strace -qq -o /dev/null -e trace=connect -e inject=connect:error=EPERM "$LAB_BIN/connect_err" 127.0.0.1 "$cport"
	assert_errno connect EPERM
	assert_line --index 0 --regexp '^destination unreachable'
	explained 1
	run_prog strace -qq -o /dev/null -e trace=connect -e inject=connect:error=EADDRNOTAVAIL "$LAB_BIN/connect_err" -t 100 127.0.0.1 "$cport"
	assert_errno connect EADDRNOTAVAIL
	assert_line --index 0 --regexp '^connect failed'
	explained 1
}

@test "07-connect-errors: a full accept queue drops the SYN: with -s 1 the kernel gives up with ETIMEDOUT" {
	full_queue
	local before t0 ms
	before=$(counter TcpExt:ListenOverflows)
	t0=$(now_ms)
	run_prog -t 8 "$LAB_BIN/connect_err" -s 1 127.0.0.1 "$qport"
	ms=$(($(now_ms) - t0))
	echo "took $ms ms; TcpExt:ListenOverflows $before -> $(counter TcpExt:ListenOverflows)"
	assert_errno connect ETIMEDOUT
	assert_line --index 0 --regexp '^no answer to the SYN'
	explained 1
	# The kernel waited for at least one retransmission of the SYN (the first comes after 1 s);
	# how long exactly depends on the kernel, so only a bound is checked.
	((ms >= 1000)) || fail "ETIMEDOUT after $ms ms: too soon for a SYN that was resent"
	(($(counter TcpExt:ListenOverflows) > before)) ||
		fail "the listener never dropped a SYN (TcpExt:ListenOverflows did not rise): was a SYN sent?"
}

@test "07-connect-errors: -s above the kernel's limit of 127 is refused by setsockopt with EINVAL" {
	closed_port
	run_prog "$LAB_BIN/connect_err" -s 200 127.0.0.1 "$cport"
	assert_errno setsockopt EINVAL
	[[ -z $output ]] || fail "setsockopt failed before any connect: nothing to explain on stdout"
	# 127 is the largest value the kernel takes: the connect is made, and refused.
	run_prog "$LAB_BIN/connect_err" -s 127 127.0.0.1 "$cport"
	assert_errno connect ECONNREFUSED
}

@test "07-connect-errors: in a namespace with only lo up, a non-loopback address gives ENETUNREACH" {
	need_ip
	ns_prog 'ip link set lo up' "$LAB_BIN/connect_err" "198.51.100.$((RANDOM % 250 + 2))" 80
	assert_errno connect ENETUNREACH
	assert_line --index 0 --regexp '^destination unreachable'
	explained 1
	# The same namespace reaches its own loopback: nothing but the missing route is wrong.
	ns_prog 'ip link set lo up' "$LAB_BIN/connect_err" 127.0.0.1 80
	assert_errno connect ECONNREFUSED
}

@test "07-connect-errors: an unreachable route gives EHOSTUNREACH at once, also with -t" {
	need_ip
	local h
	h=$(rand_host)
	ns_prog 'ip link set lo up && ip route add unreachable 203.0.113.0/24' "$LAB_BIN/connect_err" "$h" 80
	assert_errno connect EHOSTUNREACH
	assert_line --index 0 --regexp '^destination unreachable'
	explained 1
	# Non-blocking: the route lookup fails before any SYN is sent, so connect fails at once
	# instead of returning EINPROGRESS.
	ns_prog 'ip link set lo up && ip route add unreachable 203.0.113.0/24' "$LAB_BIN/connect_err" -t 2000 "$h" 80
	assert_errno connect EHOSTUNREACH
	refute_line --partial EINPROGRESS
}

@test "07-connect-errors: a prohibit route gives EACCES at once" {
	need_ip
	ns_prog 'ip link set lo up && ip route add prohibit 203.0.113.0/24' "$LAB_BIN/connect_err" "$(rand_host)" 443
	assert_errno connect EACCES
	assert_line --index 0 --regexp '^destination unreachable'
	explained 1
}

@test "07-connect-errors: a silent host on a NOARP link never answers: -s 1 -t 8000 ends in ETIMEDOUT from SO_ERROR" {
	need_ip
	"${UNSHARE[@]}" -n ip link add ifb0 type ifb 2>/dev/null ||
		skip "needs the ifb link type (kernel module ifb) inside a user namespace"
	local t0 ms
	t0=$(now_ms)
	ns_prog -t 10 'ip link set lo up && ip link add ifb0 type ifb && ip addr add 198.51.100.1/24 dev ifb0 &&
		ip link set ifb0 up' "$LAB_BIN/connect_err" -s 1 -t 8000 198.51.100.2 80
	ms=$(($(now_ms) - t0))
	echo "took $ms ms; in the namespace: Tcp:ActiveOpens $(counter Tcp:ActiveOpens "$NS_STAT")," \
		"TcpExt:TCPSynRetrans $(counter TcpExt:TCPSynRetrans "$NS_STAT")," \
		"TcpExt:TCPAbortOnTimeout $(counter TcpExt:TCPAbortOnTimeout "$NS_STAT")"
	assert_errno connect ETIMEDOUT
	assert_line --index 0 --regexp '^connect: EINPROGRESS'
	assert_line --index 1 --regexp '^no answer to the SYN'
	explained 2
	((ms >= 1000)) || fail "ETIMEDOUT after $ms ms: too soon for a SYN that was resent"
	# What the namespace's kernel counted: one connection attempt, its SYN resent, aborted on timeout.
	[[ $(counter Tcp:ActiveOpens "$NS_STAT") == 1 ]] || fail "expected exactly one connect attempt in the namespace"
	(($(counter TcpExt:TCPSynRetrans "$NS_STAT") >= 1)) || fail "the kernel never resent the SYN"
	[[ $(counter TcpExt:TCPAbortOnTimeout "$NS_STAT") == 1 ]] || fail "the kernel did not abort the attempt on a timeout"
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "07-connect-errors: no arguments, a bad port or a bad address is a usage error, exit 2" {
	run_prog "$LAB_BIN/connect_err"
	assert_usage
	run_prog "$LAB_BIN/connect_err" 127.0.0.1
	assert_usage
	local p
	for p in abc -1 65536; do
		run_prog "$LAB_BIN/connect_err" 127.0.0.1 "$p"
		assert_usage
	done
	local a
	for a in 256.1.1.1 localhost ::1; do
		run_prog "$LAB_BIN/connect_err" "$a" 80
		assert_usage
	done
	run_prog "$LAB_BIN/connect_err" 127.0.0.1 80 extra
	assert_usage
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "07-connect-errors: a bad -s or -t value, or an unknown option, is a usage error, exit 2" {
	local v
	for v in 0 abc 256; do
		run_prog "$LAB_BIN/connect_err" -s "$v" 127.0.0.1 80
		assert_usage
	done
	for v in 0 1.5 600001; do
		run_prog "$LAB_BIN/connect_err" -t "$v" 127.0.0.1 80
		assert_usage
	done
	run_prog "$LAB_BIN/connect_err" -x 127.0.0.1 80
	assert_usage
}

# Predictions (labs/07-connect-errors/predictions.md): the kit's probe runs each experiment; the
# kernel's answer in this run is the truth. sl_errno CALL: the errno name in "probe: CALL: ENAME (...)".
sl_errno() {
	[[ $stderr =~ :\ $1:\ (E[A-Z0-9]+)\ \( ]] && echo "${BASH_REMATCH[1]}" || echo "no error"
}

# strace_connect FILE: the result of the first connect() that strace wrote to FILE ("EINPROGRESS", "0").
strace_connect() {
	local l
	l=$(grep -m1 'connect(' "$1")
	echo "strace: $l" >&2
	if [[ $l =~ \)\ =\ -1\ (E[A-Z0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; elif [[ $l =~ \)\ =\ ([0-9]+) ]]; then
		echo "${BASH_REMATCH[1]}"; else echo "no connect() seen"; fi
}

@test "07-connect-errors: prediction P1: the errno of a blocking connect to a port that is bound but not listening" {
	closed_port
	run_prog "$PROBE" connect 127.0.0.1 "$cport"
	local e
	e=$(sl_errno connect)
	expect_prediction P1 errno "$e" "the probe's blocking connect() to 127.0.0.1 port $cport (bound, not listening) got: $e" \
		"docs/07-connect-errors.md, \"(b) An RST → ECONNREFUSED\" (中文: docs/zh/07-connect-errors.md)"
}

@test "07-connect-errors: prediction P2: what a non-blocking connect to that port returns at once" {
	need_strace
	closed_port
	local trace=$BATS_TEST_TMPDIR/p2.trace e
	run_prog strace -qq -o "$trace" -e trace=connect "$PROBE" nbconnect 127.0.0.1 "$cport" 300
	e=$(strace_connect "$trace")
	expect_prediction P2 errno "$e" "the probe's non-blocking connect() to 127.0.0.1 port $cport (bound, not listening) returned: $e" \
		"docs/07-connect-errors.md, \"Bounding the wait yourself: non-blocking connect\" (中文: docs/zh/07-connect-errors.md)"
}

@test "07-connect-errors: prediction P3: what a non-blocking connect returns at once where the route is unreachable" {
	need_ip
	need_strace
	local trace=$BATS_TEST_TMPDIR/p3.trace e
	ns_prog 'ip link set lo up && ip route add unreachable 203.0.113.0/24' \
		strace -qq -o "$trace" -e trace=connect "$PROBE" nbconnect 203.0.113.7 80 300
	e=$(strace_connect "$trace")
	expect_prediction P3 errno "$e" "in a namespace with an unreachable route for 203.0.113.0/24, the probe's non-blocking connect() to 203.0.113.7 port 80 returned: $e" \
		"docs/07-connect-errors.md, \"(c) Destination unreachable → ENETUNREACH, EHOSTUNREACH, EACCES\" and \"Bounding the wait yourself: non-blocking connect\" (中文: docs/zh/07-connect-errors.md)"
}

@test "07-connect-errors: prediction P4: how many SYNs the kernel sends with TCP_SYNCNT 1 before ETIMEDOUT" {
	need_ip
	"${UNSHARE[@]}" -n ip link add ifb0 type ifb 2>/dev/null ||
		skip "needs the ifb link type (kernel module ifb) inside a user namespace"
	# A silent neighbour on a NOARP link; tcp_syn_retries 1 in the namespace is TCP_SYNCNT 1 for
	# every socket there (the option overrides this default for one socket).
	ns_prog -t 10 'ip link set lo up && ip link add ifb0 type ifb && ip addr add 198.51.100.1/24 dev ifb0 &&
		ip link set ifb0 up && echo 1 >/proc/sys/net/ipv4/tcp_syn_retries' "$PROBE" connect 198.51.100.2 80
	local e opens retrans
	e=$(sl_errno connect)
	opens=$(counter Tcp:ActiveOpens "$NS_STAT") retrans=$(counter TcpExt:TCPSynRetrans "$NS_STAT")
	[[ $opens == 1 && $e == ETIMEDOUT ]] ||
		fail "the probe's connect should be one attempt that times out: Tcp:ActiveOpens $opens, connect: $e"
	expect_prediction P4 number $((1 + retrans)) \
		"with TCP_SYNCNT 1, the kernel sent the SYN $((1 + retrans)) times (1 + TcpExt:TCPSynRetrans $retrans) before connect() failed with $e" \
		"docs/07-connect-errors.md, the paragraph \"How many SYNs?\" (中文: docs/zh/07-connect-errors.md)"
}
