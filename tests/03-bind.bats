#!/usr/bin/env bats
# 03-bind: naming a socket. Every claim the program makes is checked against the kernel: the probe
# binds, listens on or connects to the port the program says it holds, and ss shows the sockets.
# Ports come from the kernel (port 0), never from this file.
load lib/socklab
load lib/term
load lib/calls

setup_file() { lab_setup_file 03-bind; }
setup() { lab_setup; }
teardown() { lab_teardown; }

# A port that was free a moment ago: the kernel picks it for the probe, which then lets it go.
free_port() {
	local out
	out=$("$PROBE" bind 0.0.0.0 0) || fail "the probe could not bind port 0: $out"
	echo "${out##* }"
}

# The local address:port of the LISTEN sockets on port $1, one per line, as ss shows them.
ss_listen() {
	echo "\$ ss -Hltn 'sport = :$1'" >&2
	ss -Hltn "sport = :$1" | tee /dev/stderr | awk '{ print $4 }'
}

# Wait (bounded: wait_until) until ss shows a TIME_WAIT socket on local port $1.
wait_timewait() {
	if wait_until timewait_on "$1"; then
		printf '$ ss -Htan state time-wait "sport = :%s"\n%s\n' "$1" "$(ss -Htan state time-wait "sport = :$1")"
		return 0
	fi
	fail "the probe left no TIME_WAIT on port $1 (ss shows none)"
}
timewait_on() { [[ -n $(ss -Htan state time-wait "sport = :$1") ]]; }

# The lowest port an unprivileged user may bind, or skip where every port is open to everyone.
unprivileged_start() {
	read -r UNPRIV_START </proc/sys/net/ipv4/ip_unprivileged_port_start
	((UNPRIV_START > 1)) ||
		skip "net.ipv4.ip_unprivileged_port_start is $UNPRIV_START here: no port is privileged"
}

@test "03-bind: make_socket binds the wildcard address 0.0.0.0 on the port it is given" {
	local p
	p=$(free_port)
	start_bg srv "$LAB_BIN/bind" -l "$p"
	[[ $line == *"0.0.0.0 port $p"* ]] || fail "expected the first line to say \"0.0.0.0 port $p\""
	[[ $(ss_listen "$p") == "0.0.0.0:$p" ]] || fail "ss should show one LISTEN socket on 0.0.0.0:$p"
	# The wildcard takes connections on every local address: 127.0.0.2 is as local as 127.0.0.1.
	local a
	for a in 127.0.0.1 127.0.0.2; do
		run_prog "$PROBE" connect "$a" "$p"
		assert_success
		assert_line "peer $a $p"
	done
	stop_bg srv
	[[ $status == 0 ]] || fail "the program should exit 0 on SIGTERM, got $status"
}

@test "03-bind: -a 127.0.0.1 binds that address only: 127.0.0.2 on the same port is refused" {
	local p
	p=$(free_port)
	start_bg srv "$LAB_BIN/bind" -l -a 127.0.0.1 "$p"
	[[ $line == *"127.0.0.1 port $p"* ]] || fail "expected the first line to say \"127.0.0.1 port $p\""
	[[ $(ss_listen "$p") == "127.0.0.1:$p" ]] || fail "ss should show one LISTEN socket on 127.0.0.1:$p"
	run_prog "$PROBE" connect 127.0.0.1 "$p"
	assert_success
	assert_line "peer 127.0.0.1 $p"
	run_prog "$PROBE" connect 127.0.0.2 "$p"
	assert_errno connect ECONNREFUSED
}

@test "03-bind: port 0 gets an ephemeral port from ip_local_port_range, held until the program stops" {
	local low high p
	read -r low high </proc/sys/net/ipv4/ip_local_port_range
	start_bg srv "$LAB_BIN/bind" 0
	p=$port
	[[ $p =~ ^[0-9]+$ ]] || fail "expected the first line to name the port: \"... port N\""
	((p >= low && p <= high)) || fail "port $p is outside ip_local_port_range ($low-$high)"
	[[ $line == *"0.0.0.0 port $p"* ]] || fail "expected the first line to say \"0.0.0.0 port $p\""
	# The kernel, not the printout: nobody else may bind that port while the program holds it.
	run_prog "$PROBE" bind 0.0.0.0 "$p"
	assert_errno bind EADDRINUSE
	run_prog "$PROBE" bind 127.0.0.1 "$p"
	assert_errno bind EADDRINUSE
	stop_bg srv
	[[ $status == 0 ]] || fail "the program should exit 0 on SIGTERM, got $status"
	run_prog "$PROBE" bind 0.0.0.0 "$p"
	assert_success
}

@test "03-bind: a port another socket holds on 0.0.0.0 gives EADDRINUSE, to 0.0.0.0 and to 127.0.0.1" {
	local held
	start_bg holder "$PROBE" listen 0.0.0.0 0
	held=${line##* }
	traced bind --term -t 3 "$LAB_BIN/bind" "$held"
	assert_errno bind EADDRINUSE
	assert_traced bind EADDRINUSE
	traced bind --term -t 3 "$LAB_BIN/bind" -a 127.0.0.1 "$held"
	assert_errno bind EADDRINUSE
	assert_traced bind EADDRINUSE
}

@test "03-bind: a port another socket holds on 127.0.0.1 gives EADDRINUSE to the wildcard, not to 127.0.0.2" {
	local held
	start_bg holder "$PROBE" listen 127.0.0.1 0
	held=${line##* }
	traced bind --term -t 3 "$LAB_BIN/bind" "$held"
	assert_errno bind EADDRINUSE
	assert_traced bind EADDRINUSE
	# Two different specific addresses do not overlap: both may use the port.
	start_bg srv "$LAB_BIN/bind" -a 127.0.0.2 "$held"
	[[ $line == *"127.0.0.2 port $held"* ]] || fail "expected the first line to say \"127.0.0.2 port $held\""
	run_prog "$PROBE" bind 127.0.0.2 "$held"
	assert_errno bind EADDRINUSE
}

@test "03-bind: binding the same socket a second time gives EINVAL" {
	local low high
	read -r low high </proc/sys/net/ipv4/ip_local_port_range
	traced bind --term -t 3 "$LAB_BIN/bind" -2 0
	assert_errno bind EINVAL
	assert_traced bind EINVAL
	[[ ${lines[0]:-} =~ port\ ([0-9]+) ]] || fail "expected the first bind to be reported: \"... port N\""
	local p=${BASH_REMATCH[1]}
	((p >= low && p <= high)) || fail "the first bind should have got an ephemeral port, not $p"
}

@test "03-bind: a TIME_WAIT on the port gives EADDRINUSE, even with SO_REUSEADDR on the new socket only" {
	local tw
	tw=$("$PROBE" timewait)
	wait_timewait "$tw"
	traced bind --term -t 3 "$LAB_BIN/bind" "$tw"
	assert_errno bind EADDRINUSE
	assert_traced bind EADDRINUSE
	# The TIME_WAIT socket remembers that its listener had no SO_REUSEADDR: one side is not enough.
	traced bind --term -t 3 "$LAB_BIN/bind" -r "$tw"
	assert_errno bind EADDRINUSE
	assert_traced bind EADDRINUSE
}

@test "03-bind: SO_REUSEADDR on the old listener and on the new socket lets bind reuse a TIME_WAIT port" {
	local tw
	tw=$("$PROBE" timewait -r)
	wait_timewait "$tw"
	traced bind --term -t 3 "$LAB_BIN/bind" "$tw"
	assert_errno bind EADDRINUSE
	assert_traced bind EADDRINUSE
	start_bg srv "$LAB_BIN/bind" -r "$tw"
	[[ $port == "$tw" ]] || fail "with -r the program should hold port $tw, it says \"$line\""
	run_prog "$PROBE" bind 0.0.0.0 "$tw"
	assert_errno bind EADDRINUSE
}

@test "03-bind: SO_REUSEADDR does not let a second socket bind a port someone listens on" {
	local held
	start_bg holder "$PROBE" listen -r 0.0.0.0 0
	held=${line##* }
	traced bind --term -t 3 "$LAB_BIN/bind" -r "$held"
	assert_errno bind EADDRINUSE
	assert_traced bind EADDRINUSE
}

@test "03-bind: an address that is not local (198.51.100.1, or 127.0.0.1 without htonl) gives EADDRNOTAVAIL" {
	[[ $(cat /proc/sys/net/ipv4/ip_nonlocal_bind) == 0 ]] ||
		skip "net.ipv4.ip_nonlocal_bind is on here: the kernel lets any address be bound"
	# bind only names the socket: no packet is sent to these addresses.
	local a
	for a in 198.51.100.1 1.0.0.127; do
		! ip -4 -o addr show 2>/dev/null | grep -qF " $a/" || skip "$a is a local address on this machine"
		traced bind --term -t 3 "$LAB_BIN/bind" -a "$a" 0
		assert_errno bind EADDRNOTAVAIL
		assert_traced bind EADDRNOTAVAIL
	done
}

@test "03-bind: a port below ip_unprivileged_port_start gives EACCES to an unprivileged user" {
	unprivileged_start
	need_nobody
	# Any port below the limit: the permission check comes before the in-use check.
	local p=$((1 + RANDOM % (UNPRIV_START - 1)))
	traced bind --term -t 3 "${AS_NOBODY[@]}" "$NOBODY_BIN/bind" "$p"
	assert_errno bind EACCES
	assert_traced bind EACCES
}

@test "03-bind: root, or any user inside its own user namespace, may bind below ip_unprivileged_port_start" {
	unprivileged_start
	local p= i
	if ((EUID == 0)); then
		for ((i = 0; i < 20; i++)); do
			p=$((1 + RANDOM % (UNPRIV_START - 1)))
			"$PROBE" bind 0.0.0.0 "$p" >/dev/null 2>&1 && break
			p=
		done
		[[ -n $p ]] || fail "found no free port below $UNPRIV_START in 20 tries"
		start_bg srv "$LAB_BIN/bind" "$p"
		[[ $port == "$p" ]] || fail "the program should hold port $p, it says \"$line\""
		run_prog "$PROBE" bind 127.0.0.1 "$p"
		assert_errno bind EADDRINUSE
	else
		need_userns
		p=$((1 + RANDOM % (UNPRIV_START - 1)))
		# In a new user and network namespace we are root there, and every port is free.
		run_prog "${UNSHARE[@]}" -n bash -c '"$1" "$3" >"$4" & pid=$!
			"$2" await "$4" "$pid" 4000 || { kill "$pid"; echo "bind printed nothing"; exit 1; }
			"$2" bind 127.0.0.1 "$3" 2>&1; kill "$pid"; wait "$pid"' \
			_ "$LAB_BIN/bind" "$PROBE" "$p" "$BATS_TEST_TMPDIR/ns.out"
		assert_success
		assert_line --partial "0.0.0.0 port $p"
		assert_line --partial "bind: EADDRINUSE"
	fi
}

@test "03-bind: forgetting htons (-H) makes the kernel bind the port with its two bytes swapped" {
	[[ $(printf '\001\000' | od -An -tu2 | tr -d ' ') == 1 ]] ||
		skip "a big-endian CPU: htons changes nothing there, so the bug cannot show"
	local s p= i
	for ((i = 0; i < 10; i++)); do
		s=$(free_port)
		p=$((((s & 0xff) << 8) | (s >> 8))) # s with its two bytes swapped, so s is p swapped too
		# p must differ from s and be free, to show that it is not the port held.
		((p != s)) && "$PROBE" bind 0.0.0.0 "$p" >/dev/null 2>&1 && break
		p=
	done
	[[ -n $p ]] || fail "found no port whose byte-swapped value is free in 10 tries"
	echo "asking for port $p = $(printf '0x%04x' "$p"); with the bytes swapped: $s = $(printf '0x%04x' "$s")"
	start_bg srv "$LAB_BIN/bind" -H "$p"
	[[ $port == "$s" ]] || fail "with -H the kernel should bind port $s ($p byte-swapped); the program says \"$line\""
	run_prog "$PROBE" bind 0.0.0.0 "$s"
	assert_errno bind EADDRINUSE
	run_prog "$PROBE" bind 0.0.0.0 "$p"
	assert_success
}

@test "03-bind: a failing setsockopt or getsockname (made to fail by strace) ends the program with its errno" {
	injected setsockopt EINVAL "$LAB_BIN/bind" -r 0
	injected getsockname EBADF "$LAB_BIN/bind" 0
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "03-bind: no arguments, a bad port (abc, -1, 65536) or a bad address is a usage error, exit 2" {
	run_prog "$LAB_BIN/bind"
	assert_usage
	local a
	for a in abc -1 65536 ""; do
		run_prog "$LAB_BIN/bind" "$a"
		assert_usage
	done
	for a in 1.2.3 localhost ::1; do
		run_prog "$LAB_BIN/bind" -a "$a" 0
		assert_usage
	done
	run_prog "$LAB_BIN/bind" 1 2
	assert_usage
	run_prog "$LAB_BIN/bind" -a
	assert_usage
}

# Predictions (labs/03-bind/predictions.md): the kit's probe makes each bind, so the truth is what the
# kernel answered in this run; nothing in this file says what it is.
READ03="docs/03-bind.md, the paragraph"
ZH03="(中文: docs/zh/03-bind.md)"


@test "03-bind: prediction P1: the errno of a bind to 127.0.0.1:P while another socket listens on 0.0.0.0:P" {
	start_bg holder "$PROBE" listen 0.0.0.0 0
	local held=${line##* }
	run_prog "$PROBE" bind 127.0.0.1 "$held"
	probe_errno
	expect_prediction P1 errno "$errno" \
		"with a socket listening on 0.0.0.0:$held, a bind to 127.0.0.1:$held $happened" \
		"$READ03 \"Who may hold a port\" $ZH03"
}

@test "03-bind: prediction P2: whether 127.0.0.2:P can be bound while another socket listens on 127.0.0.1:P" {
	start_bg holder "$PROBE" listen 127.0.0.1 0
	local held=${line##* } truth=no
	run_prog "$PROBE" bind 127.0.0.2 "$held"
	probe_errno
	[[ $errno != none ]] || truth=yes
	expect_prediction P2 word "$truth" \
		"with a socket listening on 127.0.0.1:$held, a bind to 127.0.0.2:$held $happened" \
		"$READ03 \"Who may hold a port\" $ZH03"
}

@test "03-bind: prediction P3: the errno of a second bind on the same socket" {
	run_prog "$PROBE" try bind2 127.0.0.1
	probe_errno
	expect_prediction P3 errno "$errno" "a socket bound to 127.0.0.1 (port 0), bound again: the second bind $happened" \
		"$READ03 \"Who may hold a port\" $ZH03"
}

@test "03-bind: prediction P4: what bind with SO_REUSEADDR does on a port left in TIME_WAIT by a listener without it" {
	local tw
	tw=$("$PROBE" timewait)
	wait_timewait "$tw"
	run_prog "$PROBE" bind -r 0.0.0.0 "$tw"
	probe_errno
	[[ $errno != none ]] || errno="OK|success|yes"
	expect_prediction P4 word "$errno" \
		"port $tw carries a TIME_WAIT socket of a listener without SO_REUSEADDR; a new socket with SO_REUSEADDR binding it $happened" \
		"$READ03 \"TIME_WAIT and SO_REUSEADDR\" $ZH03"
}

@test "03-bind: prediction P5: the errno of a bind to 198.51.100.1, an address of no local interface" {
	[[ $(cat /proc/sys/net/ipv4/ip_nonlocal_bind) == 0 ]] ||
		skip "net.ipv4.ip_nonlocal_bind is on here: the kernel lets any address be bound"
	! ip -4 -o addr show 2>/dev/null | grep -qF " 198.51.100.1/" || skip "198.51.100.1 is a local address on this machine"
	run_prog "$PROBE" bind 198.51.100.1 0
	probe_errno
	expect_prediction P5 errno "$errno" "a bind to 198.51.100.1 (port 0) $happened" \
		"$READ03 \"Who may hold a port\" $ZH03"
}

@test "03-bind: prediction P6: the errno of an unprivileged bind below ip_unprivileged_port_start" {
	unprivileged_start
	need_nobody
	local probe=$PROBE uid=$EUID p=$((1 + RANDOM % (UNPRIV_START - 1)))
	((${#AS_NOBODY[@]} == 0)) || probe=$NOBODY_BIN/probe uid=65534
	run_prog "${AS_NOBODY[@]}" "$probe" bind 0.0.0.0 "$p"
	probe_errno
	expect_prediction P6 errno "$errno" \
		"as an unprivileged user (uid $uid), a bind to port $p (below ip_unprivileged_port_start = $UNPRIV_START) $happened" \
		"$READ03 \"Privileged ports\" $ZH03"
}
