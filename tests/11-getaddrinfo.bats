#!/usr/bin/env bats
# 11-getaddrinfo: a client and a server written once for any address family. The kit's probe is
# the other end (its own getsockname/getpeername tell what the kernel did), ss shows what really
# listens, and `probe gai` says what getaddrinfo returns on this machine, in its order.
#
# No name ever reaches DNS: hosts are numeric or "localhost" from a hosts file. The tests about
# localhost's two addresses run in a private network and mount namespace (unshare -rnm) whose
# /etc/hosts the test writes itself: localhost is ::1 and 127.0.0.1 there on every machine, and
# nothing can leave the namespace. Where namespaces are refused, they use the machine's own
# /etc/hosts if localhost has both addresses in it, and skip otherwise.
load lib/socklab
load lib/calls

setup_file() { lab_setup_file 11-getaddrinfo; }
setup() {
	lab_setup
	IN=() # the prefix that runs a command inside the test's namespace (see localhost_ns)
}
teardown() { lab_teardown; }

random_line() { echo "line-$RANDOM-$RANDOM-$$"; }

# An address as a literal part of a bash regex (the dots of 127.0.0.1).
re() { echo "${1//./\\.}"; }

# Does /etc/hosts name localhost? Without that a lookup of "localhost" could go on to DNS.
hosts_has_localhost() {
	awk '/^[ \t]*#/ { next } { for (i = 2; i <= NF && $i !~ /^#/; i++) if ($i == "localhost") f = 1 } END { exit !f }' /etc/hosts
}

# serve_on ADDR: the probe as a one-client server on ADDR, port chosen by the kernel (in the
# namespace if IN is set). It prints "peer ADDR PORT" for its client and answers "echo: LINE".
serve_on() {
	start_bg srv "${IN[@]}" "$PROBE" serve "$1" 0
	srv_port=${line##* }
	[[ $srv_port =~ ^[0-9]+$ ]] || fail "the probe server did not report its port: $line"
}

# The client's line "connected to ADDR port P from ADDR port C": check that it names ADDR ($1)
# and port $2; set client to "LOCALADDR C" (as the probe server prints its peer).
expect_connected() {
	local l
	l=$(grep -E '^connected to ' <<<"$output" | head -n 1)
	[[ $l =~ ^connected\ to\ ([^ ]+)\ port\ ([0-9]+)\ from\ ([^ ]+)\ port\ ([0-9]+)$ ]] ||
		fail "expected a line \"connected to ADDR port N from ADDR port M\""
	[[ ${BASH_REMATCH[1]} == "$1" && ${BASH_REMATCH[2]} == "$2" ]] ||
		fail "expected \"connected to $1 port $2 ...\": the address that accepted, and the server's port"
	client="${BASH_REMATCH[3]} ${BASH_REMATCH[4]}"
}

# The probe server saw a client at "ADDR PORT" ($1): the port the client printed is the kernel's.
expect_server_saw() {
	echo "the server (probe) said:"
	sl_indent "$(<"$BATS_TEST_TMPDIR/srv.out")"
	grep -qxF "peer $1" "$BATS_TEST_TMPDIR/srv.out" ||
		fail "the server saw no client at $1: the local address and port printed are not the connection's"
}

# The text gai_strerror() gives for EAI_NONAME here (the probe's getaddrinfo with AI_NUMERICHOST).
eai_noname_text() {
	local out
	out=$("$PROBE" gai -n localhost 0 2>&1) && fail "the probe's getaddrinfo with AI_NUMERICHOST accepted localhost"
	noname_text=${out#probe: getaddrinfo: }
}

# The listening sockets on port $1, as "ADDR:PORT" (ss -Hltn; [::1]:P, 0.0.0.0:P, *:P...),
# inside the namespace if IN is set.
listeners() { "${IN[@]}" ss -Hltn "( sport = :$1 )" | awk '{ print $4 }'; }
expect_listener() {
	local got
	got=$(listeners "$2")
	echo "ss -Hltn, port $2: $(tr '\n' ' ' <<<"$got")"
	grep -qxF "$1" <<<"$got" || fail "the kernel has no socket listening on $1 (ss -ltn)"
}

# The server's line "listening on ADDR port N (FAMILY)": check ADDR and FAMILY, set sv_port.
expect_listening() {
	local l=$1 addr=$2 family=$3
	[[ $l =~ ^listening\ on\ ([^ ]+)\ port\ ([0-9]+)\ \((AF_INET6?)\)$ ]] ||
		fail "expected a line \"listening on ADDR port N (AF_INET or AF_INET6)\", got \"$l\""
	[[ ${BASH_REMATCH[1]} == "$addr" && ${BASH_REMATCH[3]} == "$family" ]] ||
		fail "expected \"listening on $addr port N ($family)\", got \"$l\""
	sv_port=${BASH_REMATCH[2]}
	((sv_port > 0)) || fail "port 0 is not a port: print what getsockname() says after bind"
}

# probe_client ADDR PORT MSG: the probe connects to the server under test (in the namespace if IN
# is set) and sends MSG; check the echo, set cl to the probe's local "ADDR PORT".
probe_client() {
	run_prog "${IN[@]}" "$PROBE" connect "$1" "$2" "$3"
	assert_success
	assert_line "echo: $3"
	[[ ${lines[0]} =~ ^local\ (.+)$ ]] || fail "the probe printed no \"local ADDR PORT\" line"
	cl=${BASH_REMATCH[1]}
}

# localhost_ns: make "localhost" mean ::1 AND 127.0.0.1 for this test. Prefer a namespace of its own
# (unshare -rnm: network and mounts; a hosts file bound over /etc/hosts, lo brought up), held by a
# probe in the background; IN becomes the nsenter prefix that runs a command in it. Sets first
# and second: localhost's two addresses in getaddrinfo's order (rule by rule as RFC 6724 and
# /etc/gai.conf say: usually ::1 first), read with `probe gai`, the flags the lab uses.
localhost_ns() {
	local why='' order hosts=$BATS_TEST_TMPDIR/hosts
	# The namespace's own set-up ($1: the hosts file), for the inner shell to expand.
	# shellcheck disable=SC2016
	local setup='mount --bind "$1" /etc/hosts && ip link set lo up'
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$hosts"
	if ! command -v nsenter >/dev/null || ! command -v ip >/dev/null; then
		why="nsenter (util-linux) or ip (iproute2) is missing"
	elif ! "${UNSHARE[@]}" -nm sh -c "$setup" sh "$hosts" 2>/dev/null; then
		why="user namespaces with a mount of their own (unshare -rnm, mount --bind) are not allowed here"
	fi
	if [[ -z $why ]]; then
		# shellcheck disable=SC2016
		start_bg ns "${UNSHARE[@]}" -nm sh -c "$setup"' && exec "$2" reserve 127.0.0.1 0' sh "$hosts" "$PROBE"
		IN=(nsenter -t "$ns_pid" -m -n)
		((EUID == 0)) || IN+=(-U --preserve-credentials)
	else
		hosts_has_localhost || skip "$why, and /etc/hosts has no localhost (the test never asks DNS)"
	fi
	order=$("${IN[@]}" "$PROBE" gai localhost 0) || fail "the probe's getaddrinfo(\"localhost\") failed"
	echo "getaddrinfo(\"localhost\", AF_UNSPEC, SOCK_STREAM) gives, in this order:"
	sl_indent "$order"
	local addrs=()
	mapfile -t addrs <<<"$order"
	first=${addrs[0]%% *} second=${addrs[1]:-}
	second=${second%% *}
	if [[ ${#addrs[@]} != 2 || " $first $second " != *" ::1 "* || " $first $second " != *" 127.0.0.1 "* ]]; then
		skip "localhost resolves to ${addrs[*]%% *} here, not to ::1 and 127.0.0.1 (/etc/hosts)${why:+, and $why}"
	fi
	"${IN[@]}" "$PROBE" bind ::1 0 >/dev/null 2>&1 ||
		skip "needs the IPv6 loopback address ::1, which this machine does not have (IPv6 disabled?)"
}

@test "11-getaddrinfo: the client connects to a numeric IPv4 address and prints the local port the server sees as its peer" {
	local msg
	msg=$(random_line)
	serve_on 127.0.0.1
	run_prog "$LAB_BIN/gai_cl" 127.0.0.1 "$srv_port" "$msg"
	assert_success
	expect_connected 127.0.0.1 "$srv_port"
	expect_server_saw "$client"
	assert_line "echo: $msg"
	refute_output --partial "trying"
}

@test "11-getaddrinfo: the client prints the whole reply when the server sends it in pieces with pauses between them" {
	local msg
	msg=$(random_line)
	# The probe answers "echo: LINE" 4 bytes at a time, 40 ms apart: one read() gets one piece.
	start_bg srv env PROBE_PIECES=4/40 "$PROBE" serve 127.0.0.1 0
	srv_port=${line##* }
	run_prog "$LAB_BIN/gai_cl" 127.0.0.1 "$srv_port" "$msg"
	assert_success
	expect_connected 127.0.0.1 "$srv_port"
	assert_line "echo: $msg"
}

@test "11-getaddrinfo: the server binds a numeric IPv4 address, reports AF_INET, and the kernel listens there" {
	start_bg sv "$LAB_BIN/gai_sv" 127.0.0.1 0
	expect_listening "$line" 127.0.0.1 AF_INET
	expect_listener "127.0.0.1:$sv_port" "$sv_port"
	local msg
	msg=$(random_line)
	probe_client 127.0.0.1 "$sv_port" "$msg"
	wait_output sv "peer ${cl% *} port ${cl#* }"
}

@test "11-getaddrinfo: with -n a name is not looked up: the client reports EAI_NONAME and gai_strerror's text, not an errno" {
	eai_noname_text
	run_prog "$LAB_BIN/gai_cl" -n localhost 9
	assert_errno getaddrinfo EAI_NONAME
	[[ $stderr == "gai_cl: getaddrinfo: EAI_NONAME ($noname_text)" ]] ||
		fail "expected exactly \"gai_cl: getaddrinfo: EAI_NONAME ($noname_text)\": the text of gai_strerror(rc), not strerror(errno)"
	[[ -z $output ]] || fail "nothing was tried, so nothing should be printed on stdout"
}

@test "11-getaddrinfo: with -n the server reports EAI_NONAME the same way and exits 1" {
	eai_noname_text
	run_prog "$LAB_BIN/gai_sv" -n localhost 0
	assert_errno getaddrinfo EAI_NONAME
	[[ $stderr == "gai_sv: getaddrinfo: EAI_NONAME ($noname_text)" ]] ||
		fail "expected exactly \"gai_sv: getaddrinfo: EAI_NONAME ($noname_text)\": the text of gai_strerror(rc), not strerror(errno)"
	[[ -z $output ]] || fail "nothing was tried, so nothing should be printed on stdout"
}

@test "11-getaddrinfo: -n still accepts numeric hosts: the client connects to 127.0.0.1" {
	serve_on 127.0.0.1
	run_prog "$LAB_BIN/gai_cl" -n 127.0.0.1 "$srv_port"
	assert_success
	expect_connected 127.0.0.1 "$srv_port"
	expect_server_saw "$client"
}

@test "11-getaddrinfo: the client connects to ::1 with the same code, a socket of the IPv6 family" {
	need_ipv6
	local msg
	msg=$(random_line)
	serve_on ::1
	run_prog "$LAB_BIN/gai_cl" ::1 "$srv_port" "$msg"
	assert_success
	expect_connected ::1 "$srv_port"
	[[ $client == "::1 "* ]] || fail "the local address of a connection to ::1 is ::1"
	expect_server_saw "$client"
	assert_line "echo: $msg"
}

@test "11-getaddrinfo: the server binds ::1, reports AF_INET6, and the kernel listens there" {
	need_ipv6
	start_bg sv "$LAB_BIN/gai_sv" ::1 0
	expect_listening "$line" ::1 AF_INET6
	expect_listener "[::1]:$sv_port" "$sv_port"
	local msg
	msg=$(random_line)
	probe_client ::1 "$sv_port" "$msg"
	wait_output sv "peer ${cl% *} port ${cl#* }"
}

@test "11-getaddrinfo: without HOST the server binds the wildcard address of the first AI_PASSIVE result" {
	local order want family
	order=$("$PROBE" gai -p - 0) || fail "the probe's getaddrinfo(NULL, AI_PASSIVE) failed"
	echo "getaddrinfo(NULL, \"0\", AI_PASSIVE) gives, in this order:"
	sl_indent "$order"
	want=$(awk 'NR == 1 { print $1 }' <<<"$order")
	family=AF_INET
	[[ $want == *:* ]] && family=AF_INET6
	start_bg sv "$LAB_BIN/gai_sv" 0
	expect_listening "$line" "$want" "$family"
	if [[ $want == 0.0.0.0 ]]; then
		expect_listener "0.0.0.0:$sv_port" "$sv_port"
	else # ss shows a dual-stack :: listener as *:P, an IPv6-only one as [::]:P
		listeners "$sv_port" | grep -qxE "(\*|\[::\]):$sv_port" || fail "the kernel has no socket listening on [::]:$sv_port"
	fi
	# Any IPv4 client reaches a wildcard listener (on ::, as a v4-mapped peer ::ffff:127.0.0.1).
	local msg
	msg=$(random_line)
	probe_client 127.0.0.1 "$sv_port" "$msg"
	wait_output sv "port ${cl#* }"
	grep -qE "^peer (::ffff:)?127\.0\.0\.1 port ${cl#* }$" "$BATS_TEST_TMPDIR/sv.out" ||
		fail "expected the server to print \"peer 127.0.0.1 port ${cl#* }\" (or ::ffff:127.0.0.1 on a :: listener)"
}

@test "11-getaddrinfo: when no address accepts, the client reports each attempt and fails with the last error, ECONNREFUSED" {
	# A port bound by a probe that never listens: the kernel answers SYNs with an RST.
	start_bg rsv "$PROBE" reserve 127.0.0.1 0
	local free=${line##* }
	traced connect "$LAB_BIN/gai_cl" 127.0.0.1 "$free"
	assert_errno connect ECONNREFUSED
	assert_traced connect ECONNREFUSED
	assert_line --index 0 --regexp "^trying 127\.0\.0\.1 port $free: connect: ECONNREFUSED \("
	[[ ${#lines[@]} == 1 ]] || fail "one address, one attempt: expected one \"trying\" line and nothing else on stdout"
}

@test "11-getaddrinfo: when its only address is taken, the server reports the failed bind and exits 1 with EADDRINUSE" {
	start_bg blk "$PROBE" listen 127.0.0.1 0
	local taken=${line##* }
	traced bind "$LAB_BIN/gai_sv" 127.0.0.1 "$taken"
	assert_errno bind EADDRINUSE
	assert_traced bind EADDRINUSE
	assert_line --index 0 --regexp "^trying 127\.0\.0\.1 port $taken: bind: EADDRINUSE \("
	[[ ${#lines[@]} == 1 ]] || fail "one address, one attempt: expected one \"trying\" line and nothing else on stdout"
}

@test "11-getaddrinfo: the server listens with the backlog SOMAXCONN: ss shows a Send-Q of at least 128" {
	start_bg sv "$LAB_BIN/gai_sv" 127.0.0.1 0
	expect_listening "$line" 127.0.0.1 AF_INET
	local q
	q=$(ss -Hltn "( sport = :$sv_port )" | awk '{ print $3 }')
	echo "ss -Hltn, port $sv_port: Send-Q (the backlog) ${q:-none}"
	[[ $q =~ ^[0-9]+$ ]] && ((q >= 128)) ||
		fail "expected listen(lfd, SOMAXCONN): a backlog of at least 128 (SOMAXCONN, capped by net.core.somaxconn)"
}

@test "11-getaddrinfo: ports are printed as numbers, also a port /etc/services names: 80, not http (NI_NUMERICSERV)" {
	need_userns
	command -v ip >/dev/null && command -v nsenter >/dev/null ||
		skip "needs ip (iproute2) and nsenter (util-linux) for the test's own network namespace"
	# Port 80 belongs to nobody in a network namespace of the test's own (where we may bind it).
	start_bg ns "${UNSHARE[@]}" -n sh -c 'ip link set lo up && exec "$0" reserve 127.0.0.1 0' "$PROBE"
	IN=(nsenter -t "$ns_pid" -n)
	((EUID == 0)) || IN+=(-U --preserve-credentials)
	start_bg sv "${IN[@]}" "$LAB_BIN/gai_sv" 127.0.0.1 80
	expect_listening "$line" 127.0.0.1 AF_INET
	local msg
	msg=$(random_line)
	run_prog "${IN[@]}" "$LAB_BIN/gai_cl" 127.0.0.1 80 "$msg"
	assert_success
	expect_connected 127.0.0.1 80
	assert_line "echo: $msg"
	wait_output sv "peer ${client% *} port ${client#* }"
}

# Is there a TCP socket in TIME-WAIT from local port $1 to peer port $2?
time_wait() { [[ -n $(ss -Htn state time-wait "( sport = :$1 and dport = :$2 )") ]]; }

@test "11-getaddrinfo: killed with SIGKILL, the server starts again at once on its port while its connection is in TIME_WAIT (SO_REUSEADDR)" {
	local p cport try
	# The dead server's connection is closed by the kernel first (its FIN); once the client
	# closes too, the server's end waits in TIME_WAIT on the listening port. (Rarely, on a busy
	# machine, the connection ends without a TIME_WAIT; then the set-up is made again, at most 3 times.)
	for try in 1 2 3; do
		start_bg sv "$LAB_BIN/gai_sv" 127.0.0.1 0
		expect_listening "$line" 127.0.0.1 AF_INET
		p=$sv_port
		start_bg held "$PROBE" hold 127.0.0.1 "$p"
		cport=${line##* }
		wait_output sv "peer 127.0.0.1 port $cport"
		kill -KILL "$sv_pid"
		wait "$sv_pid" 2>/dev/null || true
		stop_bg held
		wait_until time_wait "$p" "$cport" && break
		echo "no TIME_WAIT on port $p this time (ss: $(ss -Htan "( sport = :$p or dport = :$p )"))"
		((try < 3)) || fail "expected the killed server's connection in TIME_WAIT on port $p (3 tries)"
	done
	run_prog "$PROBE" bind 127.0.0.1 "$p"
	assert_errno bind EADDRINUSE # without SO_REUSEADDR, the port is taken for a minute
	start_bg sv2 "$LAB_BIN/gai_sv" 127.0.0.1 "$p"
	expect_listening "$line" 127.0.0.1 AF_INET
	[[ $sv_port == "$p" ]] || fail "the restarted server should listen on port $p"
	probe_client 127.0.0.1 "$p" "back again"
}

@test "11-getaddrinfo: the client for localhost falls back to the second address when the first refuses (a server of one family only)" {
	localhost_ns
	local msg
	msg=$(random_line)
	serve_on "$second"
	# Nobody listens on the first address at that port: its SYN gets an RST. (On the host, where
	# other programs run, a probe makes sure: it binds the port there and never listens.)
	((${#IN[@]})) || start_bg rsv "$PROBE" reserve "$first" "$srv_port"
	run_prog "${IN[@]}" "$LAB_BIN/gai_cl" localhost "$srv_port" "$msg"
	assert_success
	assert_line --index 0 --regexp "^trying $(re "$first") port $srv_port: connect: ECONNREFUSED \("
	[[ ${lines[1]:-} == "connected to $second port $srv_port from "* ]] ||
		fail "after the refused $first, the next line should be \"connected to $second port $srv_port from ...\""
	expect_connected "$second" "$srv_port"
	expect_server_saw "$client"
	assert_line "echo: $msg"
}

@test "11-getaddrinfo: the client for localhost tries the addresses in getaddrinfo's order: a server on the first is reached at once" {
	localhost_ns
	serve_on "$first"
	run_prog "${IN[@]}" "$LAB_BIN/gai_cl" localhost "$srv_port"
	assert_success
	refute_output --partial "trying"
	expect_connected "$first" "$srv_port"
	expect_server_saw "$client"
}

@test "11-getaddrinfo: strace shows a new socket of each address's family per attempt, the refused one closed before the next" {
	need_strace
	localhost_ns
	serve_on "$second"
	((${#IN[@]})) || start_bg rsv "$PROBE" reserve "$first" "$srv_port"
	local trace=$BATS_TEST_TMPDIR/trace fam1=AF_INET fam2=AF_INET
	[[ $first == *:* ]] && fam1=AF_INET6
	[[ $second == *:* ]] && fam2=AF_INET6
	run_prog "${IN[@]}" strace -qq -e trace=socket,connect,close -o "$trace" "$LAB_BIN/gai_cl" localhost "$srv_port"
	assert_success
	echo "strace -e trace=socket,connect,close:"
	sl_indent "$(cat "$trace")"
	# The stream sockets of the attempts (getaddrinfo's own sockets are datagram or AF_UNIX),
	# each followed by what happened to its descriptor before the next one was made.
	local story
	story=$(awk '
		/^socket\(AF_INET6?, SOCK_STREAM/ { split($0, a, "= "); fd = a[2] + 0; fam = $0; sub(/^socket\(/, "", fam); sub(/,.*/, "", fam)
			printf "%ssocket %s", (n++ ? "\n" : ""), fam; next }
		fd != "" && $0 ~ "^connect\\(" fd "," { printf " connect%s", ($0 ~ /= 0$/ ? "=0" : $0 ~ /ECONNREFUSED/ ? "=ECONNREFUSED" : "=?") }
		fd != "" && $0 ~ "^close\\(" fd "\\)" { printf " close"; fd = "" }
		END { print "" }' "$trace")
	echo "the attempts: $(tr '\n' ';' <<<"$story")"
	[[ $(sed -n 1p <<<"$story") == "socket $fam1 connect=ECONNREFUSED close" ]] ||
		fail "expected the first attempt as: socket($fam1, SOCK_STREAM...), connect() refused, close() of that socket"
	[[ $(sed -n 2p <<<"$story") == "socket $fam2 connect=0"* ]] ||
		fail "expected the second attempt on a NEW socket($fam2, SOCK_STREAM...) whose connect() succeeds"
	[[ $(wc -l <<<"$story") == 2 ]] || fail "expected exactly two stream sockets: one per address tried"
}

# first_stream_socket PROG ARGS...: which socket() call of PROG (1, 2...) makes its first stream socket
# of the inet families (getaddrinfo may make sockets of its own before: nscd's), in $nth; run under
# strace in the test's namespace (IN), every bind() failing so that a server ends at once too.
first_stream_socket() {
	local trace=$BATS_TEST_TMPDIR/sockets
	"${IN[@]}" timeout -k 1 "$SOCKLAB_TIMEOUT" strace -qq -o "$trace" -e trace=socket,bind \
		-e inject=bind:error=EADDRINUSE "$@" >/dev/null 2>&1 </dev/null || true
	nth=$(awk '/^socket\(/ { n++ } /^socket\(AF_INET6?, SOCK_STREAM/ { print n; exit }' "$trace")
	[[ -n $nth ]] || fail "strace saw no stream socket of AF_INET or AF_INET6 made by ${1##*/}"
}

@test "11-getaddrinfo: a socket() that fails (EAFNOSUPPORT, injected by strace) is a failed attempt of its own: the client goes on, and names the call that failed" {
	need_strace
	localhost_ns
	# Nobody listens on this port, on either address.
	start_bg rsv "${IN[@]}" "$PROBE" reserve 127.0.0.1 0
	local free=${line##* } nth
	first_stream_socket "$LAB_BIN/gai_cl" localhost "$free"
	local inject=(strace -qq -o /dev/null -e trace=socket -e "inject=socket:error=EAFNOSUPPORT:when=$nth")
	# The first address's socket() fails (as on a kernel without that family), the second's connect()
	# is refused: two attempts, each with its own call, and the last error is the one reported.
	run_prog "${IN[@]}" "${inject[@]}" "$LAB_BIN/gai_cl" localhost "$free"
	assert_errno connect ECONNREFUSED
	assert_line --index 0 --regexp "^trying $(re "$first") port $free: socket: EAFNOSUPPORT \("
	assert_line --index 1 --regexp "^trying $(re "$second") port $free: connect: ECONNREFUSED \("
	# With a server on the second address, the client gets there after the failed socket().
	serve_on "$second"
	run_prog "${IN[@]}" "${inject[@]}" "$LAB_BIN/gai_cl" localhost "$srv_port" "after a failed socket"
	assert_success
	assert_line --index 0 --regexp "^trying $(re "$first") port $srv_port: socket: EAFNOSUPPORT \("
	expect_connected "$second" "$srv_port"
	assert_line "echo: after a failed socket"
}

@test "11-getaddrinfo: a socket(), setsockopt() or listen() that fails (injected by strace) is a failed attempt of its own: the server goes on to the next address, and names the call that failed" {
	need_strace
	localhost_ns
	local nth call err
	first_stream_socket "$LAB_BIN/gai_sv" localhost 0
	for call in socket setsockopt listen; do
		err=EAFNOSUPPORT
		[[ $call == setsockopt ]] && err=ENOPROTOOPT nth=1
		[[ $call == listen ]] && err=EADDRINUSE nth=1
		start_bg sv "${IN[@]}" strace -qq -o /dev/null -e trace="$call" -e "inject=$call:error=$err:when=$nth" \
			"$LAB_BIN/gai_sv" localhost 0
		[[ $line =~ ^trying\ $(re "$first")\ port\ 0:\ $call:\ $err\ \( ]] ||
			fail "expected the first line \"trying $first port 0: $call: $err (...)\": the first address's $call() failed"
		wait_output sv "listening on"
		grep -qE "^listening on $(re "$second") port [0-9]+ \(AF_INET6?\)$" "$BATS_TEST_TMPDIR/sv.out" ||
			fail "after the failed $call() on $first the server should go on and listen on $second"
		stop_bg sv
	done
	# The first address's socket() fails, the second's port is taken: the bind's error is the last.
	first_stream_socket "$LAB_BIN/gai_sv" localhost 0
	start_bg blk "${IN[@]}" "$PROBE" listen "$second" 0
	local taken=${line##* }
	run_prog "${IN[@]}" strace -qq -o /dev/null -e trace=socket -e "inject=socket:error=EAFNOSUPPORT:when=$nth" \
		"$LAB_BIN/gai_sv" localhost "$taken"
	assert_errno bind EADDRINUSE
	assert_line --index 0 --regexp "^trying $(re "$first") port $taken: socket: EAFNOSUPPORT \("
	assert_line --index 1 --regexp "^trying $(re "$second") port $taken: bind: EADDRINUSE \("
}

@test "11-getaddrinfo: the server closes the socket of a failed attempt: once it listens on the second address it holds one socket" {
	localhost_ns
	start_bg blk "${IN[@]}" "$PROBE" listen "$first" 0
	local taken=${line##* } n
	start_bg sv "${IN[@]}" "$LAB_BIN/gai_sv" localhost "$taken"
	[[ $line =~ ^trying\ $(re "$first")\ port\ $taken:\ bind:\ EADDRINUSE\ \( ]] ||
		fail "expected the first line \"trying $first port $taken: bind: EADDRINUSE (...)\""
	wait_output sv "listening on"
	echo "ls -l /proc/$sv_pid/fd:"
	sl_indent "$(ls -l "/proc/$sv_pid/fd" 2>&1)"
	n=$(find "/proc/$sv_pid/fd" -mindepth 1 -lname 'socket:*' 2>/dev/null | wc -l)
	[[ $n == 1 ]] || fail "the server holds $n sockets: the one whose bind failed must be closed before the next attempt"
}

@test "11-getaddrinfo: the server for localhost falls back to the second address when the first is taken" {
	localhost_ns
	start_bg blk "${IN[@]}" "$PROBE" listen "$first" 0
	local p=${line##* } fam=AF_INET msg
	[[ $second == *:* ]] && fam=AF_INET6
	start_bg sv "${IN[@]}" "$LAB_BIN/gai_sv" localhost "$p"
	[[ $line =~ ^trying\ $(re "$first")\ port\ $p:\ bind:\ EADDRINUSE\ \( ]] ||
		fail "expected the first line \"trying $first port $p: bind: EADDRINUSE (...)\": $first:$p is taken"
	wait_output sv "listening on"
	expect_listening "$(sed -n 2p "$BATS_TEST_TMPDIR/sv.out")" "$second" "$fam"
	[[ $sv_port == "$p" ]] || fail "the server must listen on the port it was given, $p"
	local want=$second:$p
	[[ $second == *:* ]] && want="[$second]:$p"
	expect_listener "$want" "$p"
	msg=$(random_line)
	probe_client "$second" "$p" "$msg"
	wait_output sv "peer ${cl% *} port ${cl#* }"
}

@test "11-getaddrinfo: the client and the server find each other by name: gai_sv PORT, then gai_cl localhost PORT MSG" {
	hosts_has_localhost || skip "/etc/hosts has no localhost (the test never asks DNS)"
	start_bg sv "$LAB_BIN/gai_sv" 0
	[[ $port =~ ^[0-9]+$ && $port != 0 ]] || fail "the server's first line should be \"listening on ADDR port N (...)\""
	local p=$port msg
	msg=$(random_line)
	run_prog "$LAB_BIN/gai_cl" localhost "$p" "$msg"
	assert_success
	assert_line "echo: $msg"
	local l
	l=$(grep -E '^connected to ' <<<"$output" | head -n 1)
	[[ $l =~ ^connected\ to\ [^\ ]+\ port\ $p\ from\ ([^\ ]+)\ port\ ([0-9]+)$ ]] ||
		fail "expected a line \"connected to ADDR port $p from ADDR port M\""
	local addr=${BASH_REMATCH[1]} cport=${BASH_REMATCH[2]}
	wait_output sv "port $cport"
	grep -qE "^peer (::ffff:)?$(re "$addr") port $cport$" "$BATS_TEST_TMPDIR/sv.out" ||
		fail "the server saw no client at $addr port $cport: the client's printed port is not the connection's"
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "11-getaddrinfo: a bad port, a missing or extra argument, or an unknown option is a usage error, exit 2" {
	local args
	for args in "" "localhost 65536" "localhost 80 one two" "-x localhost 80"; do
		# shellcheck disable=SC2086 # split on purpose
		run_prog "$LAB_BIN/gai_cl" $args
		assert_usage
	done
	for args in "" "abc" "localhost 80 extra"; do
		# shellcheck disable=SC2086
		run_prog "$LAB_BIN/gai_sv" $args
		assert_usage
	done
}

# Predictions (labs/11-getaddrinfo/predictions.md): `probe gai` says what getaddrinfo returns in
# this run. fam_words ADDR: the words an answer may use for the family of ADDR (IPv6, AF_INET6, or
# the address as written: "::1" reads as 1, "0.0.0.0" as 0).
fam_words() {
	if [[ $1 == *:* ]]; then echo "IPv6|AF_INET6|inet6|${1//[!0-9a-f]/}"; else echo "IPv4|AF_INET|inet|${1%%.*}"; fi
}

# The probe's lines, joined by commas.
joined() { printf '%s' "${lines[0]:-}" && printf ', %s' "${lines[@]:1}"; }

# gai_ns: getaddrinfo("localhost") by the probe in a network and mount namespace of its own whose
# /etc/hosts has the two lines of the questions; its lines in $output.
gai_ns() {
	local hosts=$BATS_TEST_TMPDIR/hosts
	need_userns
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$hosts"
	"${UNSHARE[@]}" -nm sh -c 'mount --bind "$1" /etc/hosts' sh "$hosts" 2>/dev/null ||
		skip "user namespaces with a mount of their own (unshare -rnm, mount --bind) are not allowed here"
	echo "/etc/hosts in the test's namespace:"
	sl_indent "$(<"$hosts")"
	run_prog "${UNSHARE[@]}" -nm sh -c 'mount --bind "$1" /etc/hosts && ip link set lo up && exec "$2" gai localhost 80' \
		sh "$hosts" "$PROBE"
	assert_success
	# Where a name service daemon (nscd) answers instead of the namespace's files, the list is
	# the machine's: not the experiment of the questions.
	[[ $(LC_ALL=C sort <<<"$output" | tr '\n' ' ') == "127.0.0.1 80 ::1 80 " ]] ||
		skip "getaddrinfo did not read the namespace's /etc/hosts (a name service daemon answered?)"
}

@test "11-getaddrinfo: prediction P1: how many results getaddrinfo gives for localhost with two lines in /etc/hosts" {
	gai_ns
	expect_prediction P1 number "${#lines[@]}" \
		"getaddrinfo(\"localhost\") gave ${#lines[@]} results: $(joined)" \
		"docs/11-getaddrinfo.md, \"One name, several addresses\" (中文: docs/zh/11-getaddrinfo.md)"
}

@test "11-getaddrinfo: prediction P2: which family getaddrinfo lists first for localhost" {
	gai_ns
	local first=${lines[0]%% *}
	expect_prediction P2 word "$(fam_words "$first")" \
		"getaddrinfo(\"localhost\") listed $(joined): $first first" \
		"docs/11-getaddrinfo.md, \"The order of the list\" (中文: docs/zh/11-getaddrinfo.md)"
}

@test "11-getaddrinfo: prediction P3: which family comes first with AI_PASSIVE and no host" {
	run_prog "$PROBE" gai -p - 80
	assert_success
	local first=${lines[0]%% *}
	expect_prediction P3 word "$(fam_words "$first")" \
		"getaddrinfo(NULL, \"80\") with AI_PASSIVE listed $(joined): $first first" \
		"docs/11-getaddrinfo.md, \"The server: AI_PASSIVE and the wildcard\" (中文: docs/zh/11-getaddrinfo.md)"
}

@test "11-getaddrinfo: prediction P4: wildcard or loopback addresses for no host without AI_PASSIVE" {
	run_prog "$PROBE" gai - 80
	assert_success
	local a kind= k
	for a in "${lines[@]%% *}"; do
		case $a in
		0.0.0.0 | ::) k=wildcard ;;
		127.* | ::1) k=loopback ;;
		*) k=other ;;
		esac
		[[ -z $kind || $kind == "$k" ]] && kind=$k || kind=mixed
	done
	expect_prediction P4 word "${kind:-none}" \
		"getaddrinfo(NULL, \"80\") without AI_PASSIVE listed $(joined): ${kind:-no} addresses" \
		"docs/11-getaddrinfo.md, \"The server: AI_PASSIVE and the wildcard\" (中文: docs/zh/11-getaddrinfo.md)"
}
