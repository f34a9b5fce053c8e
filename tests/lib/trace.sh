#!/usr/bin/env bash
# trace.sh - `make trace LAB=NN`: run a lab's scenario and show what really happened: every system
# call of the lab's programs (strace -f -e trace=network) and every packet they exchanged (tcpdump),
# so that the SYN, SYN-ACK, ACK and the FIN exchange of the handout appear on the screen.
#
# Usage: LAB_BIN=build/labs/06-connect tests/lib/trace.sh 06-connect
#          LAB_BIN        the folder holding the lab's built programs (the Makefile passes it)
#          TRACE_NAMESPACE=no   run on the machine's loopback without a private namespace (no packets)
#
# Where it can, the scenario runs inside a private network namespace (unshare -n in a user
# namespace): a loopback of its own and nothing else, so no packet can leave, and tcpdump may capture
# on that loopback without root. Outside such a namespace it never captures anything: the scenario
# then runs on 127.0.0.1 alone and only the system calls are shown. Whatever is missing (strace,
# tcpdump, user namespaces) is named, with what to install.
# Everything is bounded: each program by TRACE_PROG_LIMIT (5 s), the whole scenario by
# TRACE_TIME_LIMIT (90 s); background programs run in their own session and are stopped by process
# group.
# Results stay in build/trace/TREE/NN-name/: packets.pcap (open it with wireshark or tcpdump -r),
# one N-prog.strace and N-prog.out per program run.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
self=$top/tests/lib/trace.sh
PROBE=$top/build/probe/probe
# The lab's programs run through the kit's launcher, as in the tests: no descriptor above 2 of ours.
LAUNCH=$top/build/tools/launch

if [[ -t 1 ]]; then
	bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'
else
	bold= dim= off=
fi

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
LAB=${1:?usage: LAB_BIN=DIR tests/lib/trace.sh NN-name}
[[ $LAB =~ ^[0-9][0-9]-[a-z0-9-]+$ ]] || { echo "trace: $LAB is not a lab name (NN-name)" >&2; exit 2; }
: "${LAB_BIN:?LAB_BIN: the folder of the built programs of the lab}"
tree=${TREE_DIR:-$top/labs}
tag=${tree#"$top"/}
tag=${tag//\//_}
out=$top/build/trace/$tag/$LAB
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
# The scenario in a process group of its own (set -m), so that it can be stopped as a whole; Ctrl-C
# and the time limit both end it through its own cleanup (every program it started is stopped).
set -m
timeout -k 10 "${TRACE_TIME_LIMIT:-90}" "${ns[@]+"${ns[@]}"}" "$self" --inside "$LAB" </dev/null &
job=$!
set +m
interrupted=
trap 'interrupted=1; kill -TERM -- "-$job" 2>/dev/null' INT TERM HUP
wait "$job"
rc=$?
while kill -0 "$job" 2>/dev/null; do wait "$job"; rc=$?; done
trap - INT TERM HUP
[[ -n $interrupted ]] && { echo "trace: interrupted; every program of the scenario was stopped" >&2; exit 130; }
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
	if (n == 0) { print "  (no packets: nothing was sent)"; exit }
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
