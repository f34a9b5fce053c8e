#!/usr/bin/env bash
# trace.sh - `make trace LAB=NN`: run a lab's scenario and show what really happened: every system call
# of the lab's programs (strace -f -e trace=network) and every packet they exchanged (tcpdump), so that
# the SYN, SYN-ACK, ACK and the FIN exchange of the handout appear on the screen.
#
# Usage: LAB_BIN=build/labs/06-connect [TRACE_NAMESPACE=no] tools/student/trace.sh 06-connect
# LAB_BIN is the folder of the lab's built programs (the Makefile passes it). The scenario runs in a
# private network namespace where it can (packets captured there, none can leave), else on 127.0.0.1
# with only the system calls shown (TRACE_NAMESPACE=no: always so); whatever is missing is named,
# with what to install. Each program is bounded by TRACE_PROG_LIMIT (5 s), the scenario by
# TRACE_TIME_LIMIT (90 s). The results stay in build/trace/TREE/NN-name/: packets.pcap, and an
# N-prog.strace and N-prog.out per program run.
set -u
source "${BASH_SOURCE[0]%/*}/../lib.sh"
self=$top/tools/student/trace.sh
PROBE=$top/build/probe/probe
# The lab's programs run through the kit's launcher, as in the tests: no descriptor above 2 of ours.
LAUNCH=$top/build/tools/launch

# ---------------------------------------------------------------------------------------------
# The scenarios: one function per lab, the commands that show its lesson. This is the one list.
#   lab PROG ARGS...         run a lab program (under strace), show its output and its calls;
#                            its stdin is /dev/null, or the file LAB_STDIN names
#   lab_bg NAME PROG ARGS... start a lab program in the background; its first line is shown and
#                            the port it names lands in $port (and is remembered as a server port)
#   peer ARGS... / peer_bg NAME ARGS...   the same for the kit's probe (the other end; not traced)
#   stop NAME / wait_end NAME  SIGTERM it (or wait for it to end by itself) and show what it did
#   signal NAME SIG          send SIG to a background program
#   wait_text NAME TEXT      wait (at most 5 s) until it has printed TEXT
#   show_ss FILTER           what ss sees (ss -tan FILTER)
#   say TEXT                 a line of explanation
# In a namespace (INSIDE_NS=1) a scenario may use 198.51.100.0/24 and 203.0.113.0/24; outside it,
# only 127.0.0.1 and ::1.
# ---------------------------------------------------------------------------------------------
scenario_01-sockaddr() {
	say "Filling an address structure is pure memory work: htons and inet_pton are library functions."
	lab sockaddr in 127.0.0.1 8080
	lab sockaddr in6 ::1 8080
	say "No system call of the network class, no packet: the kernel sees these bytes only when they"
	say "are passed to bind() or connect() (lab 03 on)."
}

scenario_02-socket() {
	lab socket inet stream
	lab socket inet6 dgram udp
	lab socket unix stream
	lab socket 12345 stream
	lab socket inet stream udp
	say "A socket is only a descriptor so far: no address, no peer, and so no packet at all."
}

scenario_03-bind() {
	say "Port 0: the kernel chooses; only getsockname() tells the program which port it got."
	lab_bg b0 bind -a 127.0.0.1 0
	stop b0
	lab_bg srv bind -l -a 127.0.0.1 0
	lab bind -a 127.0.0.1 "$port"
	say "The forgotten htons: look at sin_port in the bind() call above and below."
	lab_bg h bind -H -a 127.0.0.1 8080
	stop h
	peer connect 127.0.0.1 "${ports[srv]}"
	say "The handshake completed although the program never calls accept(): the kernel does it for"
	say "a listening socket. The probe then closed its end (FIN); nobody ever accepts the server side."
	stop srv
}

scenario_04-listen() {
	lab_bg srv listen -n -a 127.0.0.1 1 0
	local p=$port
	peer_bg c1 nbconnect 127.0.0.1 "$p" 300
	peer_bg c2 nbconnect 127.0.0.1 "$p" 300
	peer_bg c3 nbconnect 127.0.0.1 "$p" 1300
	show_ss "( sport = :$p or dport = :$p )"
	say "backlog 1 and nobody calls accept(): B + 1 = 2 handshakes complete; the third SYN is dropped"
	say "(a full accept queue) and the client sits in SYN-SENT, resending its SYN."
	stop c3
	stop c2
	stop c1
	stop srv
}

scenario_05-accept() {
	lab_bg srv accept -a 127.0.0.1 -n 2 0
	peer connect 127.0.0.1 "$port" "first"
	peer connect 127.0.0.1 "${ports[srv]}" "second"
	wait_end srv
	say "One listening socket (fd 3) for the whole run, and a new connected socket from each accept()."
}

scenario_06-connect() {
	peer_bg srv serve 127.0.0.1 0
	lab connect 127.0.0.1 "$port" "hi there"
	wait_end srv
	say "No bind(): connect() chose the local address and an ephemeral port. The server is gone now:"
	lab connect 127.0.0.1 "${ports[srv]}"
	say "A SYN to a port where nobody listens is answered by an RST: ECONNREFUSED."
}

scenario_07-connect-errors() {
	say "(b) a port that is bound but not listening: the SYN gets an RST"
	peer_bg closed reserve 127.0.0.1 0
	lab connect_err 127.0.0.1 "$port"
	stop closed
	say "(a) nobody answers the SYN: a full accept queue (backlog 0 and one connection held)"
	peer_bg lsn listen -b 0 127.0.0.1 0
	peer_bg holder hold 127.0.0.1 "$port"
	lab connect_err -s 1 127.0.0.1 "${ports[lsn]}"
	stop holder
	stop lsn
	if [[ $INSIDE_NS == 1 ]]; then
		say "(c) destination unreachable, in this private namespace: no route at all, then an"
		say "'unreachable' route. The route lookup fails before any packet is sent."
		lab connect_err 198.51.100.9 80
		ip route add unreachable 203.0.113.0/24
		lab connect_err 203.0.113.5 80
	else
		say "(c) unreachable destinations are shown only inside a private network namespace."
	fi
}

scenario_08-close() {
	say "Half-close: the client sends its line, then shutdown(SHUT_WR) sends its FIN; the reply still"
	say "comes back, then the server's FIN."
	lab_bg srv close_sv upper 127.0.0.1 0
	lab close_cl half 127.0.0.1 "$port" "hello, world"
	wait_end srv
	show_ss "state time-wait ( dport = :${ports[srv]} )"
	say "The client closed first, so the TIME-WAIT is on the client's side."
	say "The passive side: the probe closes at once, close_sv hold reads the EOF and keeps its socket."
	lab_bg hold close_sv hold 127.0.0.1 0
	peer connect 127.0.0.1 "$port"
	show_ss "( sport = :${ports[hold]} or dport = :${ports[hold]} )"
	say "CLOSE-WAIT: the FIN has arrived, the program has not closed yet. SIGUSR1 makes it close:"
	wait_text hold "until SIGUSR1"
	signal hold USR1
	wait_end hold
	show_ss "( sport = :${ports[hold]} or dport = :${ports[hold]} )"
	say "Abortive close: SO_LINGER {1, 0}, then close() sends an RST instead of a FIN."
	peer_bg drain drain 127.0.0.1 0
	lab close_cl reset 127.0.0.1 "$port"
	wait_end drain
}

scenario_09-local() {
	say "Local (AF_LOCAL) sockets never touch the network: no packet on lo, only system calls."
	cd "$TRACE_OUT" || return 1 # the socket files are made here
	lab_bg srv local_sv sv.sock
	lab local_cl sv.sock "hello, neighbour"
	say "The client never bound: the server sees it as unnamed (addrlen 2, the family alone)."
	stop srv
	lab local_cl sv.sock
	say "The server removed its file on the way out: connect() finds no such file (ENOENT)."
	say "A socket file left behind by a server that died: bind() says EADDRINUSE until it is unlinked."
	peer unix bind stale.sock
	lab local_sv stale.sock
	lab_bg srv2 local_sv -u stale.sock
	stop srv2
	say "An abstract name (a leading NUL byte, written @): no file at all, gone with its socket."
	lab_bg abs local_sv "@socklab-trace-$$"
	lab local_cl "@socklab-trace-$$" "hello, abstract"
	stop abs
}

scenario_10-ipv6() {
	lab ipv6 convert 2001:DB8:0:0::1
	lab ipv6 convert ::FFFF:127.0.0.1
	if ! has_ipv6; then
		say "This machine has no IPv6 loopback (::1): the servers below need it."
		return 0
	fi
	say "A server on [::] with IPV6_V6ONLY 0: an IPv4 client, then an IPv6 one."
	lab_bg srv ipv6 serve -n 2 0
	peer connect 127.0.0.1 "$port"
	peer connect ::1 "${ports[srv]}"
	wait_end srv
	say "On the wire the first client spoke IPv4 (IP lines below); only the server's socket calls it"
	say "::ffff:127.0.0.1. With -6 (IPV6_V6ONLY 1) the IPv4 client's SYN gets an RST:"
	lab_bg v6 ipv6 serve -6 -n 1 0
	peer connect 127.0.0.1 "$port"
	peer connect ::1 "${ports[v6]}"
	wait_end v6
}

scenario_11-getaddrinfo() {
	say "Names from /etc/hosts only (localhost): nothing asks a DNS server."
	lab_bg srv gai_sv localhost 0
	lab gai_cl localhost "$port" "hello by name"
	lab gai_cl -n localhost "${ports[srv]}"
	say "-n (AI_NUMERICHOST): the name is not looked up at all; gai_strerror's error, not an errno."
	stop srv
}

scenario_12-echo() {
	lab_bg srv echo_sv 127.0.0.1 0
	printf 'first line\nsecond line\n' >"$TRACE_OUT/input"
	LAB_STDIN=$TRACE_OUT/input lab echo_cl 127.0.0.1 "$port"
	say "The client sent its input, half-closed (its FIN), and printed the echo up to the server's FIN."
	stop srv
}

# 13-udp (one block: its scenario and the one helper it needs).
show_udp() { # FILTER: what ss sees of the UDP sockets
	printf '\n%s$ ss -uan %s%s\n' "$bold" "$(quote "$1")" "$off"
	# shellcheck disable=SC2086 # the filter is ss's own expression, in words
	ss -uan $1 2>&1 | indent
}

scenario_13-udp() {
	say "A UDP server: socket() and bind(), then recvfrom() and sendto(). No listen, no accept, and"
	say "no handshake on the wire: the first packet is already the data."
	lab_bg srv udp_sv 127.0.0.1 0
	lab udp_cl 127.0.0.1 "$port" one two three
	say "Three sendto(), three datagrams, three recvfrom() on the server: one call, one datagram."
	show_udp "( sport = :${ports[srv]} )"
	say "UNCONN: a datagram socket has no connection state; it receives from anyone."
	lab udp_cl 127.0.0.1 "${ports[srv]}" @65508
	say "65508 bytes do not fit in one IPv4 datagram (65535 - 20 - 8 = 65507): EMSGSIZE, nothing sent."
	stop srv
	say "A 10-byte receive buffer: the server's recvfrom (MSG_TRUNC) returns 100, keeps 10, the rest is lost."
	lab_bg small udp_sv -s 10 127.0.0.1 0
	lab udp_cl 127.0.0.1 "$port" @100
	stop small
	say "A port where nobody receives: every datagram sent there draws an ICMP port unreachable."
	peer_bg closed udp reserve 127.0.0.1 0
	lab udp_cl -c 127.0.0.1 "$port" hello
	say "Connected (-c): the ICMP error comes back to the socket as ECONNREFUSED."
	lab udp_cl -w 300 127.0.0.1 "${ports[closed]}" hello
	say "Unconnected: the same ICMP arrives (see the packets), but the socket is never told: EAGAIN"
	say "when the 300 ms receive timeout ends the wait."
	stop closed
	if [[ $INSIDE_NS == 1 ]]; then
		say "A flood into a stopped server with a small receive buffer (16384 bytes): most are dropped."
		lab_bg fl udp_sv -r 8192 127.0.0.1 0
		signal fl STOP
		peer udp flood 127.0.0.1 "$port" 20 1000
		printf '\n%s$ grep Udp: /proc/net/snmp%s\n' "$bold" "$off"
		grep Udp: /proc/net/snmp | indent
		say "RcvbufErrors: the datagrams the full receive queue dropped (this namespace's own counter)."
		signal fl CONT
		stop fl
		say "The server printed the sequence numbers it got; the others are the ones dropped. Its echoes"
		say "went back to the probe's port, closed by then: each drew an ICMP port unreachable (below)."
	else
		say "(The flood is shown only inside a private network namespace: /proc/net/snmp counts for a"
		say "whole namespace, and on the machine's own it mixes with everyone else's datagrams.)"
	fi
}

scenario_14-framing() {
	say "The server's own calls (its recvfrom and sendto) are shown when it stops, after the probe's"
	say "runs. Three messages, one write() each:"
	lab_bg srv frame_sv 127.0.0.1 0
	peer framed send 127.0.0.1 "$port" hi "" framing
	say "The same three messages cut into one write() per byte: the probe sends each byte only once"
	say "the kernel says the server has read the one before (21 segments of 1 byte below, 21 recvfrom"
	say "returning 1 byte each in the server's calls)."
	peer framed send -x 1 127.0.0.1 "${ports[srv]}" hi "" framing
	say "Coalesced: all three in one write(): one recvfrom() takes them, three sendto() answer."
	peer framed send -x all 127.0.0.1 "${ports[srv]}" hi "" framing
	say "A length of 0xffffffff (4294967295 bytes): a protocol error; the server closes, reads nothing more."
	peer framed send -k 127.0.0.1 "${ports[srv]}" @ffffffff
	say "Half a message, then EOF (the probe half-closes after 2 bytes of the length):"
	peer framed send 127.0.0.1 "${ports[srv]}" @0000
	stop srv
	say "The client: each message one sendto() of the length (4 bytes, network order) and the payload;"
	say "the probe as the server shows the bytes as they came."
	peer_bg ps framed serve 127.0.0.1 0
	lab frame_cl 127.0.0.1 "$port" hello "$(printf 'x%.0s' {1..258})"
	wait_end ps
}

# 15-fork (one block).
scenario_15-fork() {
	# Lab 15 is about processes as much as sockets: the calls that make and end them too.
	if [[ $TRACE_STRACE == 1 ]]; then
		local STRACE=(strace -f -q -e trace=accept,clone,clone3,close,wait4,exit_group,exit -o)
		say "(system calls traced here: accept, clone, clone3, close, wait4, exit_group, exit)"
	fi
	say "A process per client: a silent client holds its child; the next client is answered at once."
	lab_bg srv fork_sv 127.0.0.1 0
	local p=$port
	peer_bg quiet hold 127.0.0.1 "$p"
	peer connect 127.0.0.1 "$p" "not delayed by the silent client"
	printf '\n%s$ ss -tanp %s%s\n' "$bold" "'( sport = :$p )'" "$off"
	ss -tanp "( sport = :$p )" 2>&1 | indent
	say "The listener is the parent's alone, each connection its child's alone (users: pid, fd)."
	stop quiet
	wait_text srv "client 1: echoed"
	say "Each child's exit interrupted the parent's accept() (ERESTARTSYS, SIGCHLD); the handler's"
	say "wait4(WNOHANG) loop collected it, and accept() was called again."
	stop srv
	say "A thread per client (-t): clone3 with CLONE_FILES, one descriptor table; the thread closes"
	say "the connection itself."
	lab_bg thr fork_sv -t 127.0.0.1 0
	peer connect 127.0.0.1 "$port" "a thread this time"
	stop thr
}

# Lab 18 needs a peer that can vanish: a second namespace (inside this private one) on a veth pair,
# the peer at 198.51.100.2, the programs here at 198.51.100.1. The peer vanishes when its address is
# taken away (no FIN, no RST: silence); it reboots when its socket is destroyed (ss -K) meanwhile.
# Its packets cross the veth, not lo: they are captured on va and shown at the end of the scenario.
scenario_18-keepalive() {
	if [[ $INSIDE_NS != 1 ]]; then
		say "A peer that vanishes needs network namespaces of our own (not available here); on 127.0.0.1"
		say "only the heartbeat against a peer whose kernel answers but whose program never reads:"
		peer_bg lsn listen 127.0.0.1 0
		lab keepalive beat 200 3 127.0.0.1 "$port"
		stop lsn
		return 0
	fi
	local b f=$TRACE_OUT/holder
	: >"$f"
	setsid unshare -n sh -c 'echo held; exec sleep 60' >"$f" 2>&1 </dev/null 3>&- &
	b=$!
	pids[holder]=$b kinds[holder]=peer:$TRACE_OUT/holder
	"$PROBE" await "$f" "$b" 3000 >/dev/null &&
		ip link add va type veth peer name vb netns "$b" && ip addr add 198.51.100.1/24 dev va && ip link set va up &&
		nsenter -n -t "$b" sh -c 'ip link set lo up && ip addr add 198.51.100.2/24 dev vb && ip link set vb up' || {
		say "Could not build the peer's namespace and its veth link here: nothing more to show."
		return 0
	}
	if [[ $TRACE_CAPTURE == tcpdump ]]; then
		setsid tcpdump -i va -n -U --immediate-mode -w "$TRACE_OUT/veth.pcap" 2>"$TRACE_OUT/veth.err" </dev/null 3>&- &
		pids[veth_capture]=$! kinds[veth_capture]=peer:$TRACE_OUT/veth
		"$PROBE" await "$TRACE_OUT/veth.err" "${pids[veth_capture]}" 5000 >/dev/null
	fi
	# peer_at NAME: the probe as an echo server in the peer's namespace ($port: its port).
	peer_at() {
		local g=$TRACE_OUT/$1
		: >"$g.out"
		printf '\n%s$ probe echo 198.51.100.2 0 &%s   %s(the kit'"'"'s probe, in the peer'"'"'s namespace)%s\n' "$bold" "$off" "$dim" "$off"
		setsid nsenter -n -t "$b" "$PROBE" echo 198.51.100.2 0 >"$g.out" 2>"$g.err" </dev/null 3>&- &
		pids[$1]=$! kinds[$1]=peer:$g
		"$PROBE" await "$g.out" "${pids[$1]}" 3000 >/dev/null
		port=$(awk '{ print $3; exit }' "$g.out")
		echo "    $(head -n 1 "$g.out")"
	}
	on_peer() {
		printf '\n%s$ (peer side) %s%s\n' "$bold" "$*" "$off"
		nsenter -n -t "$b" "$@"
	}
	say "1. The peer reboots: its socket is destroyed while it has no address (the RST that ss -K sends"
	say "   goes nowhere), then it is back with the same address. The next ping gets an RST."
	peer_at peer1
	lab_bg rb keepalive beat 200 10 198.51.100.2 "$port"
	wait_text rb "beat 2: answered"
	on_peer sh -c 'ip addr del 198.51.100.2/24 dev vb && ss -tK dst 198.51.100.1 && ip addr add 198.51.100.2/24 dev vb'
	wait_end rb
	say "2. Keepalive: idle 1 s, a probe every 1 s, 2 probes. The peer vanishes right after the connect."
	peer_at peer2
	lab_bg ka keepalive wait 1 1 2 198.51.100.2 "$port"
	on_peer ip addr del 198.51.100.2/24 dev vb
	wait_end ka
	say "read() failed with ETIMEDOUT about 3 s after the last segment (1 s idle + 2 probes, 1 s apart)."
	on_peer ip addr add 198.51.100.2/24 dev vb
	say "3. TCP_USER_TIMEOUT 300 ms: a line every 100 ms; sends succeed until the kernel gives up."
	peer_at peer3
	lab_bg ut keepalive send 300 198.51.100.2 "$port"
	wait_text ut "sent line 2"
	on_peer ip addr del 198.51.100.2/24 dev vb
	wait_end ut
	on_peer ip addr add 198.51.100.2/24 dev vb
	say "4. The program's own heartbeat, every 200 ms: 3 unanswered in a row and the peer is dead."
	peer_at peer4
	lab_bg hb keepalive beat 200 3 198.51.100.2 "$port"
	wait_text hb "beat 2: answered"
	on_peer ip addr del 198.51.100.2/24 dev vb
	wait_end hb
	if [[ -n ${pids[veth_capture]:-} ]]; then
		kill -INT "${pids[veth_capture]}" 2>/dev/null
		end veth_capture 3000 ""
		printf '\n%s== the packets on the veth link%s  (tcpdump -r %s)\n' "$bold" "$off" "${TRACE_OUT#"$top"/}/veth.pcap"
		say "1: the ping after the reboot is answered by [R]. 2: the keepalive probes are empty ACKs"
		say "(length 0), 1 s apart; unanswered, the kernel gives up and sends a last RST [R.] into the void."
		say "3 and 4: segments that are not acknowledged are sent again (retransmissions), with growing pauses."
		tcpdump -n -ttttt -r "$TRACE_OUT/veth.pcap" 2>/dev/null | grep -E ' IP ' | sed 's/^/  /'
		say "(The capture on lo that follows is empty: every packet of this lab crossed the veth, above.)"
	fi
}

scenario_16-select() {
	# This lab's calls are select()/poll() and read(), outside strace's "network" class: add them.
	[[ $TRACE_STRACE == 1 ]] && STRACE=(strace -f -q -e trace=network,pselect6,select,poll,ppoll,read,close -o)
	say "One process, many clients: client 1 connects and stays silent, client 2 sends a line in two"
	say "pieces, client 3 a whole line; the select() server serves each as its bytes come (the calls"
	say "shown include pselect6, read and close)."
	lab_bg srv mux_sv 127.0.0.1 0
	peer_bg idle hold 127.0.0.1 "$port"
	peer_bg split split 127.0.0.1 "${ports[srv]}" "hel" $'lo\n'
	peer connect 127.0.0.1 "${ports[srv]}" "meanwhile"
	say "Client 2's 'hel' waited in the server's buffer while client 3 was served; its second piece"
	say "completes the line, and its half-close ends it:"
	signal split USR1
	wait_end split
	show_ss "( sport = :${ports[srv]} or dport = :${ports[srv]} )"
	stop idle
	stop srv
	say "The same with poll() (-p): one array of descriptors instead of two sets."
	lab_bg psrv mux_sv -p 127.0.0.1 0
	peer_bg idle2 hold 127.0.0.1 "$port"
	peer connect 127.0.0.1 "${ports[psrv]}" "hello, poll"
	stop idle2
	stop psrv
}

# Labs without a scenario of their own: try each program as a server on 127.0.0.1 (port 0) with a
# probe as its client; failing that, run each program once with no arguments.
scenario_generic() {
	say "No scenario written for $LAB yet: trying each of its programs as a server on 127.0.0.1."
	local prog args
	for prog in "$LAB_BIN"/*; do
		[[ -x $prog && -f $prog ]] || continue
		prog=${prog##*/}
		for args in "-a 127.0.0.1 0" "127.0.0.1 0" "0"; do
			# shellcheck disable=SC2086 # the words of args are meant to split
			if lab_bg -q srv "$prog" $args && [[ -n $port ]]; then
				peer connect 127.0.0.1 "$port" "hello"
				stop srv
				return 0
			fi
			stop -q srv
		done
	done
	say "None of them served on a port; running each once without arguments:"
	for prog in "$LAB_BIN"/*; do
		[[ -x $prog && -f $prog ]] && lab "${prog##*/}"
	done
	return 0
}

# ---------------------------------------------------------------------------------------------
# The scenario's machinery (runs inside the namespace when there is one).
# ---------------------------------------------------------------------------------------------
declare -A pids=() kinds=() ports=() shown=()
step=0 port=

quote() { local a s=; for a in "$@"; do [[ $a =~ ^[-A-Za-z0-9_.:/=,]+$ ]] && s+=" $a" || s+=" '$a'"; done; echo "${s# }"; }
say() { printf '%s# %s%s\n' "$dim" "$*" "$off"; }
has_ipv6() { "$PROBE" bind ::1 0 >/dev/null 2>&1; }
indent() { sed 's/^/    /' "$@"; }

# "${STRACE[@]}" FILE PROG ARGS...: PROG under strace, its calls of the network class written into
# FILE; where strace is missing, the same words run PROG alone (sh takes FILE as its $0).
if [[ ${TRACE_STRACE:-0} == 1 ]]; then
	STRACE=(strace -f -q -e trace=network -o)
else
	STRACE=(sh -c 'exec "$@"')
fi

show_calls() { # FILE
	[[ $TRACE_STRACE == 1 && -f $1 ]] || return 0
	echo "  system calls (strace -f -e trace=network):"
	# strace -f names the process on each line; with a single process that is only noise.
	if [[ -s $1 ]]; then
		awk '{ pid[$1] = 1; l[NR] = $0 } END { n = 0; for (p in pid) n++
			for (i = 1; i <= NR; i++) { s = l[i]; if (n == 1) sub(/^[0-9]+ +/, "", s); print "    " s } }' "$1"
	else
		echo "    (none)"
	fi
}

# fg CMD...: run CMD as if in the foreground, but so that a signal to this script is handled at
# once (bash runs traps only between commands; `wait` returns early for them). timeout puts CMD in
# a process group of its own: cleanup() ends that group.
fg() {
	"$@" <&0 & # (an explicit stdin: bash gives a background command /dev/null otherwise)
	fg_pid=$!
	wait "$fg_pid"
	local rc=$?
	fg_pid=
	return $rc
}

lab() {
	local prog=$1
	shift
	step=$((step + 1))
	local f=$TRACE_OUT/$step-$prog
	printf '\n%s$ %s%s\n' "$bold" "$(quote "$prog" "$@")" "$off"
	fg timeout -k 1 "${TRACE_PROG_LIMIT:-5}" "${STRACE[@]}" "$f.strace" "$LAUNCH" "$LAB_BIN/$prog" "$@" >"$f.out" 2>&1 \
		<"${LAB_STDIN:-/dev/null}"
	local rc=$?
	indent "$f.out"
	case $rc in
	0) ;;
	124 | 137) echo "  (stopped: still running after ${TRACE_PROG_LIMIT:-5} s)" ;;
	*) echo "  exit status $rc" ;;
	esac
	show_calls "$f.strace"
}

peer() {
	printf '\n%s$ probe %s%s   %s(the kit'"'"'s probe: the other end)%s\n' "$bold" "$(quote "$@")" "$off" "$dim" "$off"
	fg timeout -k 1 "${TRACE_PROG_LIMIT:-5}" "$PROBE" "$@" >"$TRACE_OUT/peer.out" 2>&1 </dev/null
	indent "$TRACE_OUT/peer.out"
}

# start_bg KIND [-q] NAME CMD...: in a session of its own (setsid execs it: its pid leads the group);
# wait (bounded) for the first line. Status 1 if it printed none.
start_bg() {
	local kind=$1 quiet=
	shift
	[[ $1 == -q ]] && quiet=1 && shift
	local name=$1
	shift
	step=$((step + 1))
	local f=$TRACE_OUT/$step-$name
	kinds[$name]=$kind:$f
	shown[$name]=
	ports[$name]=
	: >"$f.out" # before the program starts: probe await watches a file that exists
	if [[ $kind == lab ]]; then
		[[ -n $quiet ]] || printf '\n%s$ %s &%s\n' "$bold" "$(quote "$@")" "$off"
		local prog=$1
		shift
		setsid "${STRACE[@]}" "$f.strace" "$LAUNCH" "$LAB_BIN/$prog" "$@" >"$f.out" 2>"$f.err" </dev/null 3>&- &
	else
		printf '\n%s$ probe %s &%s   %s(the kit'"'"'s probe)%s\n' "$bold" "$(quote "$@")" "$off" "$dim" "$off"
		setsid "$PROBE" "$@" >"$f.out" 2>"$f.err" </dev/null 3>&- &
	fi
	pids[$name]=$!
	port=
	local line rc=0
	line=$("$PROBE" await "$f.out" "${pids[$name]}" 5000) || rc=$?
	if ((rc != 0)); then
		if [[ -z $quiet ]]; then
			((rc == 3)) && echo "  (it ended without printing a line; its stderr:)" ||
				echo "  (it printed no line within 5 s; its stderr so far:)"
			indent "$f.err"
		fi
		return 1
	fi
	[[ -n $quiet ]] && printf '\n%s$ %s &%s\n' "$bold" "$(quote "$prog" "$@")" "$off"
	echo "    $line"
	if [[ $line =~ port\ ([0-9]+) || $line =~ \ ([0-9]+)$ ]]; then
		port=${BASH_REMATCH[1]}
		ports[$name]=$port
		[[ $line == *listening* ]] && echo "$port server" >>"$TRACE_OUT/ports"
	fi
	return 0
}
lab_bg() { start_bg lab "$@"; }
peer_bg() { start_bg peer "$@"; }

# The process a signal is meant for: the program itself, not the strace in front of it.
target_pid() {
	local pid=${pids[$1]} kids=
	if [[ ${kinds[$1]} == lab:* && $TRACE_STRACE == 1 && -r /proc/$pid/task/$pid/children ]]; then
		read -r kids _ <"/proc/$pid/task/$pid/children"
	fi
	echo "${kids:-$pid}"
}

signal() { kill -"$2" "$(target_pid "$1")" 2>/dev/null; }

# end NAME MS SHOW: wait up to MS ms for it to exit (it has been signalled, or ends by itself), then
# SIGKILL whatever is left of its group, and show its output.
end() {
	local name=$1 pid=${pids[$1]:-} f=${kinds[$1]#*:} rc
	[[ -n $pid ]] || return 0
	fg "$PROBE" await /dev/null "$pid" "$2" >/dev/null
	kill -KILL -- "-$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	unset "pids[$name]"
	[[ $3 == show && -z ${shown[$name]} ]] || return 0
	shown[$name]=1
	printf '  %s%s ended (exit status %s)%s\n' "$dim" "$name" "$rc" "$off"
	tail -n +2 "$f.out" | indent # the first line is already on the screen
	[[ -s $f.err ]] && indent "$f.err"
	[[ ${kinds[$name]} == lab:* ]] && show_calls "$f.strace"
	return 0
}

stop() {
	local show=show
	[[ $1 == -q ]] && show= && shift
	[[ -n ${pids[$1]:-} ]] || return 0
	signal "$1" TERM
	end "$1" 3000 "$show"
}

wait_end() { end "$1" 5000 show; }

# wait_text NAME TEXT: wait (at most 5 s) until background NAME has printed TEXT.
wait_text() {
	local f=${kinds[$1]#*:} i
	for ((i = 0; i < 100; i++)); do
		grep -qF -- "$2" "$f.out" && return 0
		sleep 0.05
	done
	return 1
}

show_ss() {
	printf '\n%s$ ss -tan %s%s\n' "$bold" "$(quote "$1")" "$off"
	# shellcheck disable=SC2086 # the filter is ss's own expression, in words
	ss -tan $1 2>&1 | indent
}

capture_start() {
	local err=$TRACE_OUT/capture.err
	: >"$err"
	case $TRACE_CAPTURE in
	tcpdump) setsid tcpdump -i lo -n -U --immediate-mode -w "$TRACE_OUT/packets.pcap" 2>"$err" </dev/null 3>&- & ;;
	tshark) setsid tshark -q -i lo -w "$TRACE_OUT/packets.pcap" 2>"$err" </dev/null 3>&- & ;;
	*) return 0 ;;
	esac
	cap_pid=$!
	# Both say on stderr that they are capturing before the first packet is taken.
	if ! "$PROBE" await "$err" "$cap_pid" 5000 >/dev/null; then
		echo "note: $TRACE_CAPTURE did not start capturing:" >&2
		indent "$err" >&2
		kill -KILL -- "-$cap_pid" 2>/dev/null
		cap_pid=
	fi
}

# Let the last packets reach the file (its size stops changing: at most 1 s), then stop cleanly.
capture_stop() {
	[[ -n ${cap_pid:-} ]] || return 0
	local f=$TRACE_OUT/packets.pcap a=-1 b i
	for ((i = 0; i < 20; i++)); do
		b=$(stat -c %s "$f" 2>/dev/null || echo 0)
		[[ $a == "$b" ]] && break
		a=$b
		sleep 0.05
	done
	kill -INT "$cap_pid" 2>/dev/null
	"$PROBE" await /dev/null "$cap_pid" 3000 >/dev/null
	kill -KILL -- "-$cap_pid" 2>/dev/null
	wait "$cap_pid" 2>/dev/null
	cap_pid=
}

# On the way out, whatever the reason (end of the scenario, Ctrl-C, the time limit): stop every
# program still running, all at once, then the capture.
cleanup() {
	local name
	trap '' INT TERM HUP
	if [[ -n ${fg_pid:-} ]]; then
		kill -TERM -- "-$fg_pid" 2>/dev/null || kill -TERM "$fg_pid" 2>/dev/null
		pids[.fg]=$fg_pid
	fi
	for name in "${!pids[@]}"; do
		kill -TERM -- "-${pids[$name]}" 2>/dev/null
	done
	for name in "${!pids[@]}"; do
		end "$name" 1000 ""
	done
	capture_stop
}

inside() {
	LAB=$1
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	if [[ $INSIDE_NS == 1 ]]; then
		ip link set lo up || exit 1
	fi
	capture_start
	if declare -F "scenario_$LAB" >/dev/null; then
		"scenario_$LAB"
	else
		scenario_generic
	fi
	exit 0
}

if [[ ${1:-} == --inside ]]; then
	inside "$2"
fi

# The programs get stdin, stdout and stderr only: no descriptor of whoever called make (the lab
# programs print the descriptor numbers they get).
for fd in /proc/$$/fd/*; do
	fd=${fd##*/}
	((fd > 2 && fd < 255)) && eval "exec $fd>&-" 2>/dev/null
done

# ---------------------------------------------------------------------------------------------
# Outside: choose the namespace and the tools, run the scenario, decode the packets.
# ---------------------------------------------------------------------------------------------
LAB=${1:?usage: LAB_BIN=DIR tools/student/trace.sh NN-name}
[[ $LAB =~ ^[0-9][0-9]-[a-z0-9-]+$ ]] || { echo "trace: $LAB is not a lab name (NN-name)" >&2; exit 2; }
: "${LAB_BIN:?LAB_BIN: the folder of the built programs of the lab}"
tree=${TREE_DIR:-$top/labs}
out=$top/build/trace/$(tree_tag "$tree")/$LAB
rm -rf "$out" && mkdir -p "$out"
[[ -x $PROBE ]] || { echo "trace: the kit's probe is not built (make probe)" >&2; exit 2; }
compgen -G "$LAB_BIN/*" >/dev/null || { echo "trace: no programs in $LAB_BIN (make trace builds them)" >&2; exit 2; }

missing=()
strace_ok=0
if command -v strace >/dev/null; then
	strace_ok=1
else
	missing+=("the system calls: strace is not installed (Debian/Ubuntu: sudo apt install strace)")
fi

# A private network namespace in a user namespace. tcpdump gives up root rights when it runs as
# uid 0 (and cannot, inside a user namespace), so it runs as an ordinary uid that keeps its
# capabilities in the namespace (unshare --keep-caps, util-linux >= 2.38). Failing that, a
# namespace with the caller mapped to root (unshare -rn), where only tshark can capture.
uid=$(id -u) gid=$(id -g)
((uid == 0)) && uid=65534 gid=65534
ns=() ns_root=0 why_no_ns=
if [[ ${TRACE_NAMESPACE:-yes} == no ]]; then
	why_no_ns="TRACE_NAMESPACE=no"
elif ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
	why_no_ns="unshare (util-linux) or ip (iproute2) is not installed"
elif unshare -n --map-user="$uid" --map-group="$gid" --keep-caps ip link set lo up 2>/dev/null; then
	ns=(unshare -n --map-user="$uid" --map-group="$gid" --keep-caps)
elif unshare -rn ip link set lo up 2>/dev/null; then
	ns=(unshare -rn)
	ns_root=1
else
	why_no_ns="this machine does not allow unprivileged user namespaces (unshare -rn fails)"
fi

capture=
if ((${#ns[@]} == 0)); then
	missing+=("the packets: no private network namespace ($why_no_ns), and outside one nothing is captured")
elif command -v tcpdump >/dev/null && ((ns_root == 0)); then
	capture=tcpdump
elif command -v tshark >/dev/null; then
	capture=tshark
elif command -v tcpdump >/dev/null; then
	missing+=("the packets: tcpdump cannot keep its rights in a user namespace here (needs unshare --keep-caps, util-linux >= 2.38); tshark could")
else
	missing+=("the packets: tcpdump is not installed (Debian/Ubuntu: sudo apt install tcpdump)")
fi

printf '%sTracing %s%s  (programs from %s)\n' "$bold" "$LAB" "$off" "${LAB_BIN#"$top"/}"
if ((strace_ok)); then echo "  system calls: strace -f -e trace=network on each of the lab's programs"; fi
if ((${#ns[@]})); then
	echo "  network:      a private network namespace of its own (unshare -n): its own loopback, nothing leaves it"
else
	echo "  network:      this machine's loopback, 127.0.0.1 only"
fi
[[ -n $capture ]] && echo "  packets:      $capture on that namespace's lo"
for m in "${missing[@]+"${missing[@]}"}"; do echo "  not shown:    $m"; done

LAB_BIN=$(cd "$LAB_BIN" && pwd)
export LAUNCH TRACE_OUT=$out TRACE_CAPTURE=$capture TRACE_STRACE=$strace_ok LAB_BIN TREE_DIR=$tree
export INSIDE_NS=$((${#ns[@]} > 0 ? 1 : 0))
printf '\n%s== the scenario%s\n' "$bold" "$off"
# Ctrl-C and the time limit both end the scenario through its own cleanup (every program it started
# is stopped).
stop_on_ctrl_c "trace: interrupted; stopping every program of the scenario"
rc=0
run_child timeout -k 10 "${TRACE_TIME_LIMIT:-90}" "${ns[@]+"${ns[@]}"}" "$self" --inside "$LAB" </dev/null || rc=$?
trap - INT TERM HUP
((rc == 124 || rc == 137)) && echo "trace: the scenario was stopped after ${TRACE_TIME_LIMIT:-90} s" >&2

[[ -n $capture ]] || { echo; echo "(packets not shown: ${missing[-1]#the packets: })"; exit 0; }
pcap=$out/packets.pcap
printf '\n%s== the packets%s  (%s -r %s)\n' "$bold" "$off" "$capture" "${pcap#"$top"/}"
if [[ ! -s $pcap ]]; then
	echo "  (no capture file: $capture said:)"
	indent "$out/capture.err"
	exit 0
fi

if [[ $capture == tshark ]]; then
	tshark -r "$pcap" -t r 2>/dev/null | sed 's/^ */  /'
	exit 0
fi

# tcpdump's lines, e.g. "00:00:00.000018 IP 127.0.0.1.36230 > 127.0.0.1.42397: Flags [S.], seq
# ..., length 0", named: SYN, SYN-ACK, ACK, data, FIN, RST; the ends called client and server where
# the scenario knows the server's port. Then, per connection, the story in one line.
tcpdump -n -ttttt -r "$pcap" 2>/dev/null | awk -v portsfile="$out/ports" '
function ep(s,   i) { sub(/:$/, "", s); i = match(s, /\.[0-9]+$/); return i ? substr(s, 1, i - 1) ":" substr(s, i + 1) : s }
function portof(s) { sub(/.*:/, "", s); return s }
function who(s) { return (portof(s) in server) ? "server " : ((s in client) ? "client " : "") }
BEGIN { while ((getline l < portsfile) > 0) { split(l, f, " "); server[f[1]] = 1 } }
($2 == "IP" || $2 == "IP6") && / (UDP, |ICMP6? )/ {
	split($1, t, ":"); udp++
	src = $3; dst = $5; sub(/:$/, "", dst)
	if ($0 ~ / UDP, /) { src = ep(src); dst = ep(dst); match($0, /length [0-9]+/); name = "datagram, " substr($0, RSTART + 7, RLENGTH - 7) " bytes" }
	else { name = $0; sub(/.*: ICMP6? /, "ICMP ", name); sub(/, length [0-9]+$/, "", name) }
	printf "  %9.6f  %s%-21s -> %s%-21s %s\n", t[1] * 3600 + t[2] * 60 + t[3], who(src), src, who(dst), dst, name
	next
}
$2 == "IP" || $2 == "IP6" {
	src = ep($3); dst = ep($5)
	flags = ""; len = 0
	if (match($0, /Flags \[[^]]*\]/)) flags = substr($0, RSTART + 7, RLENGTH - 8)
	if (match($0, /length [0-9]+/)) len = substr($0, RSTART + 7, RLENGTH - 7) + 0
	syn = index(flags, "S"); ack = index(flags, "."); fin = index(flags, "F"); rst = index(flags, "R")
	if (syn && !ack) { name = "SYN"; if ((src SUBSEP dst) in synseen) name = "SYN (sent again: no answer yet)"; synseen[src, dst] = 1; client[src] = 1 }
	else if (syn) name = "SYN-ACK"
	else if (rst) name = "RST"
	else if (fin) name = "FIN" (len ? " with " len " bytes of data" : "")
	else if (len) name = "data, " len (len == 1 ? " byte" : " bytes")
	else name = "ACK"
	split($1, t, ":")
	printf "  %9.6f  %s%-21s -> %s%-21s %-6s %s\n", t[1] * 3600 + t[2] * 60 + t[3], who(src), src, who(dst), dst, "[" flags "]", name
	# the connection, named by its client end (the side that sent the SYN) when known
	key = (src in client) ? src ">" dst : ((dst in client) ? dst ">" src : src ">" dst)
	side = (src in client) ? "client" : "server"
	short = name; sub(/ \(.*/, "", short); sub(/, .*/, "", short); sub(/ with .*/, "", short)
	if (!(key in story)) { order[++n] = key }
	story[key] = story[key] (story[key] == "" ? "" : ", ") side " " short
	next
}
{ print "  " $0 }
END {
	if (n == 0) { if (!udp) print "  (no packets: nothing was sent)"; exit }
	print ""
	print "What happened, connection by connection (client = the side that sent the SYN):"
	for (i = 1; i <= n; i++) {
		k = order[i]; s = story[k]; split(k, e, ">")
		printf "  %s -> %s:\n    %s\n", e[1], e[2], s
		seen = ""
		if (s ~ /^client SYN, server SYN-ACK, client ACK/) seen = seen "the three-way handshake (SYN, SYN-ACK, ACK); "
		if (s ~ /client FIN/ && s ~ /server FIN/) seen = seen "the FIN exchange (each side sends a FIN, the other ACKs it); "
		else if (s ~ /FIN/) seen = seen "one FIN only (a half-closed connection); "
		if (s ~ /RST/) seen = seen "an RST (refused, or aborted); "
		if (s ~ /SYN, client SYN/ || s ~ /^client SYN$/) seen = seen "a SYN that nobody answered; "
		if (seen != "") { sub(/; $/, "", seen); printf "    -> %s\n", seen }
	}
}'
exit 0
