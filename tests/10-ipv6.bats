#!/usr/bin/env bats
# 10-ipv6: IPv6 and the dual stack. The conversions are checked against addresses the test makes
# up at random (and whose bytes and canonical text it works out itself); the server is checked
# against the kernel: the kit's probe connects over IPv4 and IPv6 and reports its own end, binds
# and listens on the same port over IPv4, and ss shows the listener and its v6only flag.
# IPV6_V6ONLY's default (net.ipv6.bindv6only) is never assumed: one test sets it to 1 inside a
# network namespace of its own, where nobody else can see the change.
load lib/socklab
load lib/calls

setup_file() { lab_setup_file 10-ipv6; }
setup() { lab_setup; }
teardown() { lab_teardown; }

# rand_ipv4: a random dotted quad in $ipv4, its four bytes in $ipv4_bytes (hex), without subshells.
rand_ipv4() {
	local o=($((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)))
	printf -v ipv4 '%d.%d.%d.%d' "${o[@]}"
	printf -v ipv4_bytes '%02x %02x %02x %02x' "${o[@]}"
	printf -v ipv4_hex '%X:%X' $((o[0] << 8 | o[1])) $((o[2] << 8 | o[3]))
}

# canon6 G0 .. G7: in $canon, the text inet_ntop() writes for the eight 16-bit groups (RFC 5952):
# lower-case hex without leading zeros, the first longest run of two or more zero groups as "::".
# (inet_ntop has dotted forms of its own for addresses that start with zeros: keep G0 nonzero.)
canon6() {
	local g=("$@") i best=-1 blen=0 cur=-1 clen=0 hex
	for ((i = 0; i < 8; i++)); do
		if ((g[i] == 0)); then
			((cur >= 0)) || { cur=$i clen=0; }
			clen=$((clen + 1))
			((clen > blen)) && { best=$cur blen=$clen; }
		else
			cur=-1
		fi
	done
	((blen >= 2)) || best=-1
	canon=
	for ((i = 0; i < 8; i++)); do
		if ((i == best)); then
			canon+=::
			i=$((best + blen - 1))
			continue
		fi
		[[ -z $canon || $canon == *:: ]] || canon+=:
		printf -v hex %x "${g[i]}"
		canon+=$hex
	done
}

# expect_convert TEXT FAMILY BYTES CANON: `ipv6 convert TEXT` prints exactly these three lines.
expect_convert() {
	local n=$((${#3} / 3 + 1))
	run_prog "$LAB_BIN/ipv6" convert "$1"
	assert_success
	assert_line --index 0 "family $2, $n bytes"
	assert_line --index 1 "bytes $3"
	assert_line --index 2 "text $4"
}

# A probe client: connect to HOST at the port of the server srv, print the probe's own view. Sets cl_addr and cl_port,
# the client's local address and port from its getsockname().
client() {
	run_prog "$PROBE" connect "$1" "$srv_port"
	assert_success
	[[ ${lines[0]:-} =~ ^local\ ([^ ]+)\ ([0-9]+)$ ]] || fail "the probe printed no \"local ADDR PORT\" line"
	cl_addr=${BASH_REMATCH[1]} cl_port=${BASH_REMATCH[2]}
	assert_line --index 1 "peer $1 $srv_port"
}

# The server's line about client K in TEXT, split into c_peer c_pport c_local c_lport c_kind.
client_line() {
	local l re='^client [0-9]+: peer ([^ ]+) port ([0-9]+), local ([^ ]+) port ([0-9]+), an (.*)$'
	l=$(grep -E "^client $2: " <<<"$1" | head -n 1)
	[[ $l =~ $re ]] ||
		fail "expected a line \"client $2: peer ADDR port P, local ADDR port Q, an IPv4 client (A.B.C.D)\" (or \"an IPv6 client\"), got \"$l\""
	c_peer=${BASH_REMATCH[1]} c_pport=${BASH_REMATCH[2]} c_local=${BASH_REMATCH[3]} c_lport=${BASH_REMATCH[4]}
	c_kind=${BASH_REMATCH[5]}
}

# The first line of `ipv6 serve` (the server srv): "listening on ADDR port N (IPV6_V6ONLY V)".
expect_listening() {
	[[ $srv_line =~ ^listening\ on\ ([^ ]+)\ port\ ([0-9]+)\ \(IPV6_V6ONLY\ ([01])\)$ ]] ||
		fail "expected a first line \"listening on ADDR port N (IPV6_V6ONLY V)\", got \"$srv_line\""
	[[ ${BASH_REMATCH[1]} == "$1" ]] || fail "the server should listen on $1, it says ${BASH_REMATCH[1]}"
	# shellcheck disable=SC2053 # $2 is a pattern
	[[ ${BASH_REMATCH[3]} == $2 ]] || fail "the kernel should report IPV6_V6ONLY $2, the server says ${BASH_REMATCH[3]}"
}

# expect_listener ADDR V6ONLY: ss shows a TCP listener on ADDR:$srv_port; where this ss shows the flag
# (ss -e: "v6only:N", from the kernel), it is V6ONLY. ADDR is a regular expression: recent ss
# writes an IPv6 address in brackets ([::1]:P), and the IPv6 wildcard that also takes IPv4 as "*";
# older ones write [::] or ::: for both.
expect_listener() {
	local l
	echo "$ ss -Hltne 'sport = :$srv_port'"
	l=$(ss -Hltne "sport = :$srv_port")
	echo "$l"
	l=$(grep -E "[[:space:]]${1}:${srv_port}[[:space:]]" <<<"$l") ||
		fail "ss should show a listener on $1:$srv_port (a pattern)"
	[[ $l != *v6only:* || $l == *v6only:$2* ]] || fail "ss should show the listener on port $srv_port with v6only:$2"
}

@test "10-ipv6: convert prints the 16 bytes and the canonical text of random IPv6 addresses given in long form" {
	local i j g text bytes canon
	for i in 1 2 3; do
		# Eight random 16-bit groups, the first nonzero, some small, with a run of 1 to 3 zero groups.
		g=($((RANDOM % 0xfffe + 1)))
		for ((j = 1; j < 8; j++)); do
			g+=($((RANDOM % 3 ? (RANDOM << 1 | RANDOM & 1) & 0xffff : RANDOM % 256)))
		done
		local s=$((RANDOM % 6 + 1))
		for ((j = s; j < s + i && j < 8; j++)); do g[j]=0; done
		# The long form: every group with 4 upper-case digits, leading zeros, no "::".
		printf -v text '%04X:' "${g[@]}"
		bytes=
		for j in "${g[@]}"; do printf -v bytes '%s %02x %02x' "$bytes" $((j >> 8)) $((j & 255)); done
		canon6 "${g[@]}"
		expect_convert "${text%:}" AF_INET6 "${bytes# }" "$canon"
	done
}

@test "10-ipv6: convert of random IPv4 addresses prints their 4 bytes in network order and the same text back" {
	local i
	for i in 1 2; do
		rand_ipv4
		expect_convert "$ipv4" AF_INET "$ipv4_bytes" "$ipv4"
	done
}

@test "10-ipv6: convert writes ::FFFF:127.0.0.1 as ::ffff:127.0.0.1 and 2001:db8:0:0::1 as 2001:db8::1" {
	local mapped="00 00 00 00 00 00 00 00 00 00 ff ff"
	expect_convert ::FFFF:127.0.0.1 AF_INET6 "$mapped 7f 00 00 01" ::ffff:127.0.0.1
	expect_convert 2001:db8:0:0::1 AF_INET6 "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01" 2001:db8::1
	expect_convert 2001:DB8:0:0:1:0:0:1 AF_INET6 "20 01 0d b8 00 00 00 00 00 01 00 00 00 00 00 01" 2001:db8::1:0:0:1
	# A random IPv4-mapped address, in its dotted form and in its all-hex form.
	rand_ipv4
	expect_convert "::FFFF:$ipv4" AF_INET6 "$mapped $ipv4_bytes" "::ffff:$ipv4"
	expect_convert "0:0:0:0:0:FFFF:$ipv4_hex" AF_INET6 "$mapped $ipv4_bytes" "::ffff:$ipv4"
}

@test "10-ipv6: convert rejects text that is not an IPv4 or IPv6 address (usage error, exit 2)" {
	local t
	for t in 256.1.1.1 127.1 1.2.3.4x ::g 1:2:3:4:5:6:7:8:9 2001:db8::1::2 fe80::1%lo localhost; do
		run_prog "$LAB_BIN/ipv6" convert "$t"
		assert_usage
	done
}

@test "10-ipv6: a server on [::] accepts an IPv4 client and sees it as ::ffff:127.0.0.1 with the client's own port" {
	need_ipv6
	start_bg srv "$LAB_BIN/ipv6" serve -n 1 0
	expect_listening :: 0
	client 127.0.0.1
	wait_exit srv
	assert_success
	client_line "$output" 1
	[[ $c_peer == "::ffff:127.0.0.1" ]] ||
		fail "an IPv6 socket sees the IPv4 client 127.0.0.1 as the IPv4-mapped address ::ffff:127.0.0.1, not $c_peer"
	[[ $c_pport == "$cl_port" ]] ||
		fail "the client's getsockname() says its port is $cl_port, the server printed peer port $c_pport (ntohs?)"
}

@test "10-ipv6: with -6 (IPV6_V6ONLY 1) an IPv4 client is refused with ECONNREFUSED, a ::1 client is served" {
	need_ipv6
	start_bg srv "$LAB_BIN/ipv6" serve -6 -n 1 0
	expect_listening :: 1
	expect_listener '(\[::\]|::)' 1
	run_prog "$PROBE" connect 127.0.0.1 "$srv_port"
	assert_errno connect ECONNREFUSED
	client ::1
	wait_exit srv
	assert_success
	client_line "$output" 1
	[[ $c_peer == "::1" && $c_pport == "$cl_port" ]] || fail "the one client served should be ::1 port $cl_port"
}

@test "10-ipv6: the server names an IPv4 client by the IPv4 address inside the mapped one" {
	need_ipv6
	start_bg srv "$LAB_BIN/ipv6" serve -n 1 0
	# Any 127.x.y.z reaches the host; the client's source address stays 127.0.0.1.
	local dest="127.$((RANDOM % 256)).$((RANDOM % 256)).$((RANDOM % 254 + 1))"
	client "$dest"
	wait_exit srv
	assert_success
	client_line "$output" 1
	[[ $c_kind == "IPv4 client ($cl_addr)" ]] ||
		fail "the peer ::ffff:$cl_addr is an IPv4 client: expected \"an IPv4 client ($cl_addr)\", got \"an $c_kind\""
	[[ $c_local == "::ffff:$dest" && $c_lport == "$srv_port" ]] ||
		fail "the connection's local end is the address the client reached, mapped: ::ffff:$dest port $srv_port; got $c_local port $c_lport"
}

@test "10-ipv6: a ::1 client is seen as ::1, an IPv6 client, with its own port" {
	need_ipv6
	start_bg srv "$LAB_BIN/ipv6" serve -n 1 0
	client ::1
	wait_exit srv
	assert_success
	client_line "$output" 1
	[[ $c_peer == "::1" && $c_pport == "$cl_port" ]] ||
		fail "the client is ::1 port $cl_port (its own getsockname), the server printed $c_peer port $c_pport"
	[[ $c_kind == "IPv6 client" ]] || fail "::1 is not IPv4-mapped: expected \"an IPv6 client\", got \"an $c_kind\""
	[[ $c_local == "::1" && $c_lport == "$srv_port" ]] || fail "the local end should be ::1 port $srv_port, got $c_local port $c_lport"
}

@test "10-ipv6: without -6 the [::] listener holds the port for IPv4 too: an IPv4 bind gets EADDRINUSE" {
	need_ipv6
	start_bg srv "$LAB_BIN/ipv6" serve 0
	expect_listening :: 0
	expect_listener '(\*|\[::\]|::)' 0
	local a
	for a in 0.0.0.0 127.0.0.1; do
		run_prog "$PROBE" bind "$a" "$srv_port"
		assert_errno bind EADDRINUSE
	done
	stop_bg srv
	assert_success
}

@test "10-ipv6: with -6 an IPv4 server can listen on the same port beside the IPv6 one" {
	need_ipv6
	# The IPv4 listener first, on a port the kernel knows is free for IPv4: the other way round, the
	# port the kernel picked for the IPv6-only server may already be some IPv4 client's (another test's).
	start_bg v4 "$PROBE" listen 0.0.0.0 0
	local sport=$v4_port
	start_bg srv "$LAB_BIN/ipv6" serve -6 -n 1 "$sport"
	[[ $srv_port == "$sport" ]] || fail "the server should listen on [::] port $sport, beside the probe on 0.0.0.0"
	echo "$ ss -Hltn 'sport = :$srv_port'"
	ss -Hltn "sport = :$srv_port"
	[[ $(ss -Hltn "sport = :$srv_port" | wc -l) == 2 ]] || fail "ss should show two listeners on port $srv_port: [::] and 0.0.0.0"
	# IPv4 goes to the probe's listener (the kernel completes the handshake), IPv6 to the server.
	client 127.0.0.1
	client ::1
	local v6port=$cl_port
	wait_exit srv
	assert_success
	client_line "$output" 1
	[[ $c_peer == "::1" && $c_pport == "$v6port" ]] || fail "the server's one client should be ::1 port $v6port"
	refute_output --partial "::ffff:"
}

# In a network namespace of its own ("${UNSHARE[@]}" -n), whose net.ipv6.bindv6only belongs to this
# test alone: set it to 1 and show its effect (a probe on [::], which leaves IPV6_V6ONLY alone, now
# refuses IPv4); then run the server without -6 and connect to it over IPv4. The inner time limits
# stay in run_prog's process group (--foreground): when run_prog's own limit ends the test, they and
# what they run end with it, instead of outliving it in a group of their own.
ns_bindv6only() {
	local srv=$1 probe=$2 d=$3 line pid
	if ! ip link set lo up || ! echo 1 >/proc/sys/net/ipv6/bindv6only; then
		echo "cannot set up the namespace"
		return 3
	fi
	echo "net.ipv6.bindv6only $(cat /proc/sys/net/ipv6/bindv6only)"
	timeout --foreground -k 1 8 "$probe" listen :: 0 >"$d/p.out" &
	pid=$!
	line=$("$probe" await "$d/p.out" "$pid" 5000) || return 3
	echo "probe $line; a connect to it from 127.0.0.1:"
	"$probe" connect 127.0.0.1 "${line##* }" 2>&1
	kill "$pid"
	wait "$pid"
	timeout --foreground -k 1 8 "$srv" serve -n 1 0 >"$d/s.out" &
	pid=$!
	line=$("$probe" await "$d/s.out" "$pid" 5000) || { wait "$pid"; return 4; }
	echo "server said: $line"
	[[ $line =~ port\ ([0-9]+) ]] || return 4
	echo "a connect to it from 127.0.0.1:"
	"$probe" connect 127.0.0.1 "${BASH_REMATCH[1]}" 2>&1
	"$probe" await /dev/null "$pid" 2000 >/dev/null
	kill "$pid" 2>/dev/null
	wait "$pid"
	echo "server exit status $?; it printed:"
	cat "$d/s.out"
}

@test "10-ipv6: the server sets IPV6_V6ONLY 0 itself: it takes IPv4 clients even where net.ipv6.bindv6only is 1" {
	need_ipv6
	need_userns
	command -v ip >/dev/null || skip "needs the ip command (iproute2) to set up the test's namespace"
	run_prog -t 10 "${UNSHARE[@]}" -n bash -c "$(declare -f ns_bindv6only); ns_bindv6only \"\$@\"" _ \
		"$LAB_BIN/ipv6" "$PROBE" "$BATS_TEST_TMPDIR"
	assert_success
	assert_line "net.ipv6.bindv6only 1"
	# The namespace really has the other default: a socket that does not set the option refuses IPv4.
	assert_line --regexp '^probe: connect: ECONNREFUSED \('
	assert_line --regexp '^server said: listening on :: port [0-9]+ \(IPV6_V6ONLY 0\)$'
	assert_line "server exit status 0; it printed:"
	assert_line --regexp '^client 1: peer ::ffff:127\.0\.0\.1 port [0-9]+, '
}

@test "10-ipv6: with -6 an IPv4-mapped address cannot be bound (bind: EINVAL); without it, it binds the IPv4 port" {
	need_ipv6
	traced bind "$LAB_BIN/ipv6" serve -6 -a ::ffff:127.0.0.1 0
	assert_errno bind EINVAL
	assert_traced bind EINVAL
	start_bg srv "$LAB_BIN/ipv6" serve -a ::FFFF:127.0.0.1 -n 1 0
	expect_listening ::ffff:127.0.0.1 0
	expect_listener '(\[::ffff:127\.0\.0\.1\]|::ffff:127\.0\.0\.1)' 0
	run_prog "$PROBE" connect ::1 "$srv_port"
	assert_errno connect ECONNREFUSED
	client 127.0.0.1
	wait_exit srv
	assert_success
	client_line "$output" 1
	[[ $c_peer == "::ffff:127.0.0.1" && $c_pport == "$cl_port" ]] ||
		fail "the client is 127.0.0.1 port $cl_port, seen as ::ffff:127.0.0.1; the server printed $c_peer port $c_pport"
}

@test "10-ipv6: -a ::1 listens on the IPv6 loopback only: ss shows [::1]:PORT and an IPv4 client is refused" {
	need_ipv6
	start_bg srv "$LAB_BIN/ipv6" serve -a 0:0:0:0:0:0:0:1 -n 1 0
	expect_listening ::1 '[01]'
	expect_listener '(\[::1\]|::1)' '[01]'
	run_prog "$PROBE" connect 127.0.0.1 "$srv_port"
	assert_errno connect ECONNREFUSED
	client ::1
	wait_exit srv
	assert_success
}

@test "10-ipv6: a port given on the command line is the port the server listens on" {
	need_ipv6
	run "$PROBE" bind :: 0
	local want=${output##* }
	start_bg srv "$LAB_BIN/ipv6" serve -n 1 "$want"
	[[ $srv_port == "$want" ]] || fail "the server should listen on port $want as asked, it says $srv_port"
	client ::1
	wait_exit srv
	assert_success
}

@test "10-ipv6: no arguments, an unknown command, a bad port, address or count is a usage error, exit 2" {
	local args
	for args in "" "bogus" "convert" "convert 1.2.3.4 ::1" "serve" "serve 65536" "serve abc" \
		"serve -a 127.0.0.1 0" "serve -a ::g 0" "serve -n 0 0" "serve -x 0"; do
		# shellcheck disable=SC2086 # the words of $args are the arguments
		run_prog "$LAB_BIN/ipv6" $args
		assert_usage
	done
}

# Predictions (labs/10-ipv6/predictions.md): the kit's probe runs each experiment; the kernel's
# answer in this run is the truth. sl_errno CALL: the errno name in "probe: CALL: ENAME (...)", or
# "none" if the probe succeeded.
sl_errno() {
	if [[ $stderr =~ :\ $1:\ (E[A-Z0-9]+)\ \( ]]; then echo "${BASH_REMATCH[1]}"; elif [[ $status == 0 ]]; then
		echo none; else echo "exit status $status"; fi
}

# predict_errno PK TRUTH OBSERVED READ: an errno, or the word "none" where the call succeeded.
predict_errno() {
	if [[ $2 == none ]]; then expect_prediction "$1" word none "$3" "$4"; else expect_prediction "$1" errno "$2" "$3" "$4"; fi
}

@test "10-ipv6: prediction P1: the family accept reports for an IPv4 client of a server on [::]" {
	need_ipv6
	start_bg srv "$PROBE" serve :: 0
	run_prog "$PROBE" connect 127.0.0.1 "$srv_port" hello
	local truth=refused seen=refused
	if [[ $status == 0 ]]; then
		wait_exit srv
		[[ $output =~ (^|$'\n')peer\ ([^ ]+)\ [0-9]+ ]] || fail "the probe server printed no \"peer ADDR PORT\" line"
		seen=${BASH_REMATCH[2]}
		[[ $seen == *:* ]] && truth="AF_INET6|inet6|ipv6" || truth="AF_INET|inet|ipv4"
	fi
	expect_prediction P1 word "$truth" \
		"the probe's server on [::] port $srv_port (IPV6_V6ONLY at its default, net.ipv6.bindv6only $(cat /proc/sys/net/ipv6/bindv6only 2>/dev/null)) saw the IPv4 client 127.0.0.1 as: $seen" \
		"docs/10-ipv6.md, \"One socket for both: IPv4-mapped addresses\" (中文: docs/zh/10-ipv6.md)"
}

@test "10-ipv6: prediction P2: the errno of an IPv4 bind to the port of a server on [::]" {
	need_ipv6
	start_bg srv "$PROBE" listen :: 0
	run_prog "$PROBE" bind 127.0.0.1 "$srv_port"
	local e
	e=$(sl_errno bind)
	predict_errno P2 "$e" "while the probe listened on [::] port $srv_port, its bind() of 127.0.0.1 port $srv_port got: $e" \
		"docs/10-ipv6.md, \"One socket for both: IPv4-mapped addresses\" (中文: docs/zh/10-ipv6.md)"
}

@test "10-ipv6: prediction P3: the errno of a connect to ::1 where only 127.0.0.1 listens" {
	need_ipv6
	start_bg srv "$PROBE" listen 127.0.0.1 0
	run_prog "$PROBE" connect ::1 "$srv_port"
	local e
	e=$(sl_errno connect)
	predict_errno P3 "$e" "with the probe listening on 127.0.0.1 port $srv_port only, a connect() to ::1 port $srv_port got: $e" \
		"docs/10-ipv6.md, the paragraph \"The mapping goes one way only\" (中文: docs/zh/10-ipv6.md)"
}

# In a namespace of its own (UNSHARE -n) with net.ipv6.bindv6only 1, so that the probe's [::]
# listener has IPV6_V6ONLY 1: an IPv4 connect to its port.
ns_v6only() {
	local probe=$1 d=$2 line pid
	ip link set lo up && echo 1 >/proc/sys/net/ipv6/bindv6only || return 3
	timeout --foreground -k 1 8 "$probe" listen :: 0 >"$d/v6.out" &
	pid=$!
	line=$("$probe" await "$d/v6.out" "$pid" 5000) || return 3
	echo "probe $line (IPV6_V6ONLY $(cat /proc/sys/net/ipv6/bindv6only), the namespace's default)"
	"$probe" connect 127.0.0.1 "${line##* }"
	local rc=$?
	kill "$pid"
	wait "$pid"
	return $rc
}

@test "10-ipv6: prediction P4: the errno of an IPv4 connect to a server on [::] with IPV6_V6ONLY 1" {
	need_ipv6
	need_userns
	command -v ip >/dev/null || skip "needs the ip command (iproute2) to set up the test's namespace"
	run_prog -t 10 "${UNSHARE[@]}" -n bash -c "$(declare -f ns_v6only); ns_v6only \"\$@\"" _ "$PROBE" "$BATS_TEST_TMPDIR"
	[[ $status == 0 || $status == 1 ]] || fail "the experiment in the namespace failed (see above)"
	local e
	e=$(sl_errno connect)
	predict_errno P4 "$e" "a connect() from 127.0.0.1 to the probe on [::] with IPV6_V6ONLY 1 (and nothing else on the port) got: $e" \
		"docs/10-ipv6.md, \"IPV6_V6ONLY and net.ipv6.bindv6only\" (中文: docs/zh/10-ipv6.md)"
}
