#!/usr/bin/env bats
# 18-keepalive: dead peers. A peer that vanishes is made real: two network namespaces of the
# test's own joined by a veth pair, the program's side "here" (198.51.100.1) and the peer's side
# (198.51.100.2); nothing else exists in them and nothing leaves them. The peer "vanishes" when its
# address is taken away (its kernel then drops every segment for 198.51.100.2, silently: no RST,
# no ICMP, and the link stays up, so nothing here notices); it "reboots" when, in addition, its
# socket is destroyed (ss -K) before the address comes back, so the next segment gets an RST.
# What the kernel did is read from the namespace's own counters (/proc/net/netstat there:
# TcpExt TCPKeepAlive, TCPAbortOnTimeout), from strace, and from ss.
load lib/socklab
load lib/calls

setup_file() {
	lab_setup_file 18-keepalive
	# The scripts that build the namespaces, as files: a failing test shows their name, not their text.
	printf '%s' "$PAIR_SCRIPT" >"$BATS_FILE_TMPDIR/pair.sh"
	printf '%s' "$P_KEEPALIVE" >"$BATS_FILE_TMPDIR/p-keepalive.sh"
	p_keepalive_start
}
setup() { lab_setup; }
teardown() { lab_teardown; }
teardown_file() { p_keepalive_stop; }

# The two namespaces, made by one script run in a new network namespace ("here"): lo up, a veth
# pair whose other end goes into a second namespace (the peer's) made inside the first one and held
# open by a sleeping child, an address on each end. It prints the process id of the peer's holder,
# then waits: stopping its process group (the test's teardown) removes both namespaces and the veth.
# $1: a file for the holder's first line, $2: the probe (its `await`: no sleep for readiness).
# shellcheck disable=SC2016 # expanded by the script's own shell
PAIR_SCRIPT='
ip link set lo up || exit 1
unshare -n sh -c "echo held; exec sleep 60" >"$1" 2>&1 &
b=$!
"$2" await "$1" "$b" 3000 >/dev/null || { echo "the peer namespace did not start" >&2; exit 1; }
ip link add va type veth peer name vb netns "$b" || exit 1
ip addr add 198.51.100.1/24 dev va && ip link set va up || exit 1
nsenter -n -t "$b" sh -c "ip link set lo up && ip addr add 198.51.100.2/24 dev vb && ip link set vb up" || exit 1
echo "namespaces ready: the peer side is held by process $b"
wait "$b"
'

# nsenter into the network namespace of a process (for an ordinary user: with the user namespace
# that owns it, where the test is root; --preserve-credentials: unshare -r denied setgroups there).
NSENTER=(nsenter -n -t)
((EUID == 0)) || NSENTER=(nsenter --preserve-credentials -U -n -t)

need_pair() {
	need_userns
	command -v ip >/dev/null || skip "needs the ip command (iproute2) to build the test's namespaces"
	command -v nsenter >/dev/null || skip "needs nsenter (util-linux) to run programs in the test's namespaces"
	"${UNSHARE[@]}" -n ip link add va type veth peer name vb 2>/dev/null ||
		skip "needs veth links inside a network namespace (kernel option CONFIG_VETH)"
}

# pair_up: build the two namespaces; then "${HERE[@]}" CMD runs CMD on the program's side and
# "${PEER[@]}" CMD on the peer's side.
pair_up() {
	need_pair
	start_bg net "${UNSHARE[@]}" -n bash "$BATS_FILE_TMPDIR/pair.sh" "$BATS_TEST_TMPDIR/holder.out" "$PROBE"
	[[ $net_line =~ process\ ([0-9]+)$ ]] || fail "setup: the namespaces were not built (see above)"
	HERE=("${NSENTER[@]}" "$net_pid") PEER=("${NSENTER[@]}" "${BASH_REMATCH[1]}")
}

# vanish: the peer's kernel stops taking anything for 198.51.100.2 (and can send nothing there).
vanish() {
	echo "\$ (peer side) ip addr del 198.51.100.2/24 dev vb    # the peer vanishes: no FIN, no RST"
	VANISHED=${EPOCHREALTIME/./}
	"${PEER[@]}" ip addr del 198.51.100.2/24 dev vb || fail "setup: could not take the peer's address away"
}

# reboot: the peer vanishes, its socket is destroyed (ss -K: the RST it sends has no route), and it
# comes back with the same address and no memory of the connection.
reboot() {
	echo "\$ (peer side) ip addr del ...; ss -K dst 198.51.100.1; ip addr add ...   # the peer reboots"
	"${PEER[@]}" sh -c 'ip addr del 198.51.100.2/24 dev vb && ss -HtK dst 198.51.100.1 >/dev/null &&
		[ -z "$(ss -Htn dst 198.51.100.1)" ] && ip addr add 198.51.100.2/24 dev vb' ||
		fail "setup: could not reboot the peer (ss -K needs CONFIG_INET_DIAG_DESTROY)"
}

# counter NAME: a TCP counter of the program's namespace, e.g. TcpExt:TCPKeepAlive.
counter() {
	"${HERE[@]}" cat /proc/net/snmp /proc/net/netstat | awk -v want="$1" '$1 ~ /:$/ {
		if ($1 == hdr) { for (i = 2; i <= NF; i++) if (n[i] == want) print $i }
		else { hdr = $1; for (i = 2; i <= NF; i++) n[i] = $1 $i }
	}'
}

# The milliseconds since vanish.
since_vanish() { echo $(((${EPOCHREALTIME/./} - VANISHED) / 1000)); }

# The program's first line: "connected from ADDR port P to ADDR port Q".
expect_connected() {
	[[ $1 =~ ^connected\ from\ [0-9.]+\ port\ [0-9]+\ to\ $2\ port\ $3$ ]] ||
		fail "expected a first line \"connected from ADDR port P to $2 port $3\""
}

# await_output NAME TEXT: like wait_output, but a program that ended without printing TEXT fails
# the test at once, with what it said (not after the whole wait).
await_output() {
	local pidvar=${1}_pid
	wait_until printed_or_ended "$1" "$2" "${!pidvar}" || true
	grep -qF -- "$2" "$BATS_TEST_TMPDIR/$1.out" && return 0
	printed_or_ended "$1" "$2" "${!pidvar}" || wait_output "$@" # still running: wait_output reports it
	stop_bg "$1"
	fail "$1 ended without printing \"$2\" (see what it said above)"
}
printed_or_ended() {
	local st=Z
	grep -qF -- "$2" "$BATS_TEST_TMPDIR/$1.out" && return 0
	read -r _ _ st _ 2>/dev/null <"/proc/$3/stat" || true
	[[ $st == Z ]]
}

# Where the program runs under strace (when it can): KA_TRACE is the file, STRACE the words.
strace_into() {
	KA_TRACE=
	STRACE=()
	if strace_ok; then
		KA_TRACE=$BATS_TEST_TMPDIR/trace
		STRACE=(env ASAN_OPTIONS="$(sl_no_lsan)" strace -f -qq -o "$KA_TRACE" -e trace="$1")
	fi
}

# in_trace RE WHAT: the trace has a line matching RE (nothing to check where strace cannot run).
in_trace() {
	[[ -n $KA_TRACE ]] || { echo "note: no strace here: the calls themselves are not checked"; return 0; }
	grep -qE -- "$1" "$KA_TRACE" && return 0
	echo "strace said:"
	sl_indent "$(head -n 40 "$KA_TRACE")"
	fail "strace shows no $2"
}

@test "18-keepalive: wait turns keepalive on with the given timers: SO_KEEPALIVE 1, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT" {
	start_bg peer "$PROBE" send 127.0.0.1 0 "hello"
	strace_into setsockopt
	run_prog "${STRACE[@]}" "$LAB_BIN/keepalive" wait 3 2 5 127.0.0.1 "$peer_port"
	assert_success
	expect_connected "${lines[0]}" 127.0.0.1 "$peer_port"
	# The line the given code prints from getsockopt(): what the kernel holds for the socket.
	assert_line --index 1 "keepalive: SO_KEEPALIVE 1, idle 3 s, interval 2 s, count 5"
	in_trace 'setsockopt\([0-9]+, SOL_SOCKET, SO_KEEPALIVE, \[1\], 4\) = 0' "setsockopt(SO_KEEPALIVE) turned on"
	in_trace 'setsockopt\([0-9]+, SOL_TCP, TCP_KEEPIDLE, \[3\], 4\) = 0' "setsockopt(TCP_KEEPIDLE) with 3"
	in_trace 'setsockopt\([0-9]+, SOL_TCP, TCP_KEEPINTVL, \[2\], 4\) = 0' "setsockopt(TCP_KEEPINTVL) with 2"
	in_trace 'setsockopt\([0-9]+, SOL_TCP, TCP_KEEPCNT, \[5\], 4\) = 0' "setsockopt(TCP_KEEPCNT) with 5"
}

@test "18-keepalive: wait reads what a live peer sends, in pieces, up to its EOF" {
	start_bg peer env PROBE_PIECES=2/30 "$PROBE" send 127.0.0.1 0 "still here"
	run_prog "$LAB_BIN/keepalive" wait 1 1 1 127.0.0.1 "$peer_port"
	assert_success
	local n=0 l
	for l in "${lines[@]}"; do
		[[ $l =~ ^read\ ([0-9]+)\ bytes$ ]] && n=$((n + BASH_REMATCH[1]))
	done
	((n == 10)) || fail "expected \"read N bytes\" lines adding up to the peer's 10 bytes, got $n"
	assert_line --index -1 "peer closed (EOF)"
}

@test "18-keepalive: wait finds a peer that vanished: its keepalive probes go unanswered and read fails with ETIMEDOUT" {
	pair_up
	start_bg peer "${PEER[@]}" "$PROBE" echo 198.51.100.2 0
	strace_into read
	start_bg cl "${HERE[@]}" "${STRACE[@]}" "$LAB_BIN/keepalive" wait 1 1 1 198.51.100.2 "$peer_port"
	expect_connected "$cl_line" 198.51.100.2 "$peer_port"
	vanish
	wait_exit cl
	local ms probes
	ms=$(since_vanish) probes=$(counter TcpExt:TCPKeepAlive)
	echo "read ended $ms ms after the peer vanished; keepalive probes sent here: $probes"
	assert_errno read ETIMEDOUT
	assert_line --index 1 "keepalive: SO_KEEPALIVE 1, idle 1 s, interval 1 s, count 1"
	in_trace 'read\(.*\) += -1 ETIMEDOUT' "read() = -1 ETIMEDOUT: the error must be the kernel's answer to read()"
	((probes >= 1)) || fail "the kernel sent no keepalive probe (TcpExt:TCPKeepAlive is 0): is keepalive on?"
	# idle 1 s, then 1 probe, 1 s apart: the kernel gives up about 2 s after the last segment.
	((ms >= 1200)) || fail "read failed $ms ms after the peer vanished: too soon for idle 1 s + 1 probe of 1 s"
}

@test "18-keepalive: send sets TCP_USER_TIMEOUT and sends with MSG_NOSIGNAL: a peer that closed gives EPIPE or ECONNRESET, not SIGPIPE" {
	start_bg peer "$PROBE" close 127.0.0.1 0
	strace_into setsockopt,sendto,sendmsg,write
	run_prog "${STRACE[@]}" "$LAB_BIN/keepalive" send 700 127.0.0.1 "$peer_port"
	[[ $status != 141 ]] || fail "killed by SIGPIPE: send with MSG_NOSIGNAL (TODO 18.4)"
	[[ $status == 1 && $stderr =~ (^|$'\n')keepalive:\ send:\ (EPIPE|ECONNRESET)\ \( ]] ||
		fail "expected \"keepalive: send: EPIPE (...)\" (or ECONNRESET) and exit 1 once the peer's RST has come"
	assert_line --index 1 "user timeout: 700 ms"
	assert_line --index 2 "sent line 1"
	in_trace 'setsockopt\([0-9]+, SOL_TCP, TCP_USER_TIMEOUT, \[700\], 4\) = 0' "setsockopt(TCP_USER_TIMEOUT) with 700"
	in_trace 'sendto\([0-9]+, "line 1\\n", 7, MSG_NOSIGNAL' "send(\"line 1\\n\") with MSG_NOSIGNAL"
	in_trace 'sendto\(.*MSG_NOSIGNAL.* = -1 (EPIPE|ECONNRESET)' "a send() with MSG_NOSIGNAL that failed with EPIPE or ECONNRESET"
}

@test "18-keepalive: send with TCP_USER_TIMEOUT finds a peer that vanished: sends succeed until the kernel gives up, then send fails with ETIMEDOUT" {
	pair_up
	start_bg peer "${PEER[@]}" "$PROBE" drain 198.51.100.2 0
	strace_into sendto,sendmsg,write
	start_bg cl "${HERE[@]}" "${STRACE[@]}" "$LAB_BIN/keepalive" send 200 198.51.100.2 "$peer_port"
	expect_connected "$cl_line" 198.51.100.2 "$peer_port"
	await_output cl "sent line 1"
	vanish
	local before
	before=$(grep -c '^sent line' "$BATS_TEST_TMPDIR/cl.out")
	wait_exit cl
	local ms aborts after
	ms=$(since_vanish) aborts=$(counter TcpExt:TCPAbortOnTimeout)
	after=$(grep -c '^sent line' <<<"$output")
	echo "send failed $ms ms after the peer vanished; lines sent: $before before, $after in all; TcpExt:TCPAbortOnTimeout here: $aborts"
	assert_errno send ETIMEDOUT
	assert_line --index 1 "user timeout: 200 ms"
	in_trace 'sendto\(.*MSG_NOSIGNAL.* += -1 ETIMEDOUT' "send() = -1 ETIMEDOUT: the error must be the kernel's answer to send()"
	((after > before)) || fail "expected sends to go on succeeding for a while after the peer vanished (they only fill the send buffer)"
	[[ $aborts == 1 ]] || fail "the kernel did not abort the connection on a timeout (TcpExt:TCPAbortOnTimeout $aborts): is TCP_USER_TIMEOUT set?"
	((ms >= 200)) || fail "send failed $ms ms after the peer vanished: sooner than the user timeout of 200 ms"
}

@test "18-keepalive: beat gets every heartbeat answered by a live peer" {
	start_bg peer "$PROBE" echo 127.0.0.1 0
	start_bg cl "$LAB_BIN/keepalive" beat 80 3 127.0.0.1 "$peer_port"
	expect_connected "$cl_line" 127.0.0.1 "$peer_port"
	await_output cl "beat 4: answered"
	stop_bg cl
	refute_output --partial "no answer"
	local k
	for k in 1 2 3 4; do
		assert_line --index "$k" "beat $k: answered"
	done
	stop_bg peer
	# The echo server got the pings, one per beat: a heartbeat is real data sent by the program.
	[[ $output =~ echoed\ ([0-9]+)\ bytes ]] && ((BASH_REMATCH[1] >= 4 * 7)) ||
		fail "the peer should have received at least four \"ping K\\n\" (7 bytes each)"
}

@test "18-keepalive: beat declares a vanished peer dead after N unanswered heartbeats, while the kernel still thinks the connection fine" {
	pair_up
	start_bg peer "${PEER[@]}" "$PROBE" echo 198.51.100.2 0
	start_bg cl "${HERE[@]}" "$LAB_BIN/keepalive" beat 50 3 198.51.100.2 "$peer_port"
	await_output cl ": answered"
	vanish
	wait_exit cl
	local ms
	ms=$(since_vanish)
	echo "beat ended $ms ms after the peer vanished"
	[[ $status == 1 ]] || fail "expected exit status 1 for a dead peer, got $status"
	assert_line --index -1 "peer dead: 3 heartbeats in a row unanswered"
	assert_line --regexp '^beat [0-9]+: no answer \(1 in a row\)$'
	assert_line --regexp '^beat [0-9]+: no answer \(2 in a row\)$'
	assert_line --regexp '^beat [0-9]+: no answer \(3 in a row\)$'
	((ms >= 100)) || fail "declared dead $ms ms after the peer vanished: too soon for 3 beats of 50 ms"
	[[ $(counter TcpExt:TCPAbortOnTimeout) == 0 ]] || fail "the kernel had already given up on the connection: the heartbeat should be faster"
}

@test "18-keepalive: beat declares dead a peer whose kernel takes the pings but whose program never answers" {
	# A listener that never accepts: its kernel completes the handshake and acknowledges every
	# byte (keepalive would be satisfied), but no program ever reads or answers.
	start_bg peer "$PROBE" listen 127.0.0.1 0
	start_bg cl "$LAB_BIN/keepalive" beat 50 2 127.0.0.1 "$peer_port"
	wait_exit cl
	[[ $status == 1 ]] || fail "expected exit status 1 for a dead peer, got $status"
	assert_line --index 1 "beat 1: no answer (1 in a row)"
	assert_line --index 2 "beat 2: no answer (2 in a row)"
	assert_line --index 3 "peer dead: 2 heartbeats in a row unanswered"
	# The pings reached the peer's kernel: they wait, unread, in its receive queue.
	local q
	q=$(ss -Htn "( sport = :$peer_port )" | awk '{ s += $2 } END { print s + 0 }')
	echo "ss: bytes waiting unread on the peer's side: $q"
	((q >= 14)) || fail "the peer's kernel should hold the two pings unread (ss Recv-Q >= 14 bytes), it holds $q"
}

@test "18-keepalive: a peer that rebooted answers the next heartbeat with an RST: ECONNRESET" {
	pair_up
	start_bg peer "${PEER[@]}" "$PROBE" echo 198.51.100.2 0
	start_bg cl "${HERE[@]}" "$LAB_BIN/keepalive" beat 50 20 198.51.100.2 "$peer_port"
	await_output cl ": answered"
	reboot
	wait_exit cl
	refute_line --partial "peer dead"
	[[ $status == 1 && $stderr =~ (^|$'\n')keepalive:\ (read|send):\ ECONNRESET\ \( ]] ||
		fail "expected \"keepalive: read: ECONNRESET (...)\" (or send), exit 1: the peer's kernel answered with an RST; read \"## ECONNRESET\" in docs/errno.md"
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "18-keepalive: no arguments, an unknown mode, a bad number, port or address is a usage error, exit 2" {
	local args
	for args in "" "bogus 127.0.0.1 80" "wait 1 1 127.0.0.1 80" "wait 0 1 128 127.0.0.1 80" "send 0 127.0.0.1 80" \
		"send 300 127.0.0.1" "beat 5 0 127.0.0.1 80" "beat 100 3 localhost 80" "beat 100 3 127.0.0.1 65536"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/keepalive" $args
		assert_usage
	done
}

# Predictions (labs/18-keepalive/predictions.md). Their experiments take about 5 s, nearly all of it
# waiting for the kernel's keepalive timers: they start with the file (p_keepalive_start), in the
# background, in two namespaces of their own, and the four tests read what they found.
#   reboot     the probe (idle) holds an idle connection; the peer reboots; the probe sends "ping\n"
#              and reads (P4)
#   keepalive  the probe (idle -k 1,1,3), keepalive idle 1 s, interval 1 s, 3 probes, waits on an idle
#              connection whose peer then vanishes; the namespace's TcpExt:TCPKeepAlive counts the
#              probes (P1-P3)
# shellcheck disable=SC2016 # expanded by the script's own shell
P_KEEPALIVE='
d=$1 probe=$2
ip link set lo up || exit 1
unshare -n sh -c "echo held; exec sleep 30" >"$d/holder" 2>&1 &
b=$!
"$probe" await "$d/holder" "$b" 3000 >/dev/null || exit 1
ip link add va type veth peer name vb netns "$b" && ip addr add 198.51.100.1/24 dev va && ip link set va up || exit 1
peer() { nsenter -n -t "$b" "$@"; }
peer sh -c "ip link set lo up && ip addr add 198.51.100.2/24 dev vb && ip link set vb up" || exit 1
# started NAME CMD...: CMD in the background, its output in $d/NAME; wait for its first line.
started() {
	local f=$d/$1
	shift
	: >"$f"
	"$@" >"$f" 2>&1 &
	pid=$!
	"$probe" await "$f" "$pid" 3000 >/dev/null || exit 1
}
started peer1 peer "$probe" echo 198.51.100.2 0
read -r _ _ port <"$d/peer1"
started reboot "$probe" idle 198.51.100.2 "$port"
c=$pid
peer sh -c "ip addr del 198.51.100.2/24 dev vb && ss -HtK dst 198.51.100.1 >/dev/null && ip addr add 198.51.100.2/24 dev vb" || exit 1
kill -USR1 "$c"
wait "$c"
started peer2 peer "$probe" echo 198.51.100.2 0
read -r _ _ port <"$d/peer2"
started keepalive "$probe" idle -k 1,1,3 198.51.100.2 "$port"
c=$pid
peer ip addr del 198.51.100.2/24 dev vb || exit 1
wait "$c"
cat /proc/net/snmp /proc/net/netstat >"$d/stat"
echo done >"$d/done"
kill "$b"
'

p_keepalive_start() {
	P_DIR=$BATS_FILE_TMPDIR/p-keepalive
	mkdir -p "$P_DIR"
	export P_DIR
	if ! unshare -rn true 2>/dev/null || ! command -v nsenter >/dev/null || ! command -v ip >/dev/null; then
		echo "needs user namespaces, nsenter and ip" >"$P_DIR/skip"
		return 0
	fi
	(
		sl_close_fds
		exec setsid "${UNSHARE[@]}" -n bash "$BATS_FILE_TMPDIR/p-keepalive.sh" "$P_DIR" "$PROBE" >"$P_DIR/log" 2>&1 </dev/null
	) &
	echo $! >"$P_DIR/pid"
}

p_keepalive_stop() {
	[[ -f ${P_DIR:-}/pid ]] || return 0
	sl_end_group "$(cat "$P_DIR/pid")" 1000 || true
	return 0
}

# p_answered ID: the prediction has an answer (checked before waiting for the experiment).
p_answered() {
	local a
	a=$(awk -v id="$1" '$1 == "##" && $2 == id { q = 1; next } $1 == "##" { q = 0 }
		q && tolower($0) ~ /^answer:/ { sub(/^[^:]*:[ \t]*/, ""); print; exit }' "$TREE_DIR/$LAB/predictions.md" 2>/dev/null)
	[[ -n ${a//[[:space:]]/} ]] ||
		fail "$1 in $LAB/predictions.md has no answer yet: write it after \"answer:\" (predict first, then run the code)"
}

# p_result NAME: wait (bounded) for the experiments; $p_line is the probe's last line in experiment
# NAME ("read: ETIMEDOUT after T ms"), $p_ms the T, $p_errno the errno (or "0 (EOF)"), $p_probes
# the keepalive probes the kernel sent.
p_result() {
	[[ ! -f $P_DIR/skip ]] || skip "$(cat "$P_DIR/skip")"
	wait_until -t 10 test -f "$P_DIR/done" || {
		echo "the experiment said:"
		sl_indent "$(cat "$P_DIR/log" "$P_DIR/reboot" "$P_DIR/keepalive" 2>/dev/null)"
		fail "the experiments (the probe against a peer that rebooted, then vanished) did not end within 10 s"
	}
	p_line=$(tail -n 1 "$P_DIR/$1")
	echo "the probe said: $(tr '\n' ';' <"$P_DIR/$1")"
	[[ $p_line =~ ^(read|send):\ ([A-Z0-9]+|0\ \(EOF\))\ after\ ([0-9]+)\ ms$ ]] || fail "the probe's experiment failed: $p_line"
	p_errno=${BASH_REMATCH[2]} p_ms=${BASH_REMATCH[3]}
	p_probes=$(awk -v want=TcpExt:TCPKeepAlive '$1 ~ /:$/ {
		if ($1 == hdr) { for (i = 2; i <= NF; i++) if (n[i] == want) print $i }
		else { hdr = $1; for (i = 2; i <= NF; i++) n[i] = $1 $i } }' "$P_DIR/stat")
}

P_READ="docs/18-keepalive.md, \"Keepalive: probes on an idle connection\" (中文: docs/zh/18-keepalive.md)"

@test "18-keepalive: prediction P1: how many seconds after the last segment read fails with keepalive idle 1 s, interval 1 s, 3 probes" {
	p_answered P1
	p_result keepalive
	local s=$(((p_ms + 500) / 1000))
	expect_prediction P1 number "$s" "the probe's read() returned ($p_errno) $p_ms ms after the connection's last segment: about $s s" "$P_READ"
}

@test "18-keepalive: prediction P2: how many keepalive probes the kernel sends before it gives up" {
	p_answered P2
	p_result keepalive
	expect_prediction P2 number "$p_probes" "the kernel sent $p_probes keepalive probes (TcpExt:TCPKeepAlive), then read() returned $p_errno" "$P_READ"
}

@test "18-keepalive: prediction P3: the errno of that read" {
	p_answered P3
	p_result keepalive
	expect_prediction P3 errno "$p_errno" "after $p_probes unanswered probes the probe's read() returned $p_errno" "$P_READ"
}

@test "18-keepalive: prediction P4: the errno when the first segment after a reboot reaches the peer" {
	p_answered P4
	p_result reboot
	expect_prediction P4 errno "$p_errno" "the peer rebooted; the probe sent 5 bytes, and its read() got: $p_errno" \
		"docs/18-keepalive.md, \"A peer that rebooted: RST\" (中文: docs/zh/18-keepalive.md)"
}
