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
# Each lab's scenario: tools/student/trace/NN-name.sh, the body of an old inline scenario_NN-name()
# as plain lines (verbs: see the machinery below); a background NAME's port is $NAME_port, not $port.
set -u
source "${BASH_SOURCE[0]%/*}/../lib.sh"
self=$top/tools/student/trace.sh
PROBE=$top/build/probe/probe
# The lab's programs run through the kit's launcher, as in the tests: no descriptor above 2 of ours.
LAUNCH=$top/build/tools/launch

# ---------------------------------------------------------------------------------------------
# The scenario's machinery (runs inside the namespace when there is one). A scenario is a file
# tools/student/trace/NN-name.sh: lines of shell, run in order, in these verbs:
#   lab PROG ARGS...         run a lab program (under strace), show its output and its calls;
#                            its stdin is /dev/null, or the file LAB_STDIN names
#   lab_bg NAME PROG ARGS... start a lab program in the background (tests/lib/spawn.bash); its first
#                            line is shown, and the port it names is $NAME_port (a server's port)
#   peer ARGS... / peer_bg NAME ARGS...   the same for the kit's probe (the other end; not traced)
#   stop NAME / wait_end NAME  SIGTERM it (or wait for it to end by itself) and show what it did
#   signal NAME SIG          send SIG to a background program
#   wait_text NAME TEXT      wait (at most 5 s) until it has printed TEXT
#   show_ss FILTER           what ss sees (ss -tan FILTER)
#   say TEXT                 a line of explanation
# In a namespace (INSIDE_NS=1) a scenario may use 198.51.100.0/24 and 203.0.113.0/24; outside it,
# only 127.0.0.1 and ::1. A lab without a file gets scenario_generic.
# ---------------------------------------------------------------------------------------------
source "$top/tests/lib/spawn.bash"
scenarios=$top/tools/student/trace

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
			if lab_bg -q srv "$prog" $args && [[ -n $srv_port ]]; then
				peer connect 127.0.0.1 "$srv_port" "hello"
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

declare -A pids=() kinds=() shown=()
step=0

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

# foreground CMD...: run CMD as if in the foreground, but so that a signal to this script is handled
# at once (bash runs traps only between commands; `wait` returns early for them). timeout puts CMD
# in a process group of its own: cleanup() ends that group.
foreground() {
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
	foreground timeout -k 1 "${TRACE_PROG_LIMIT:-5}" "${STRACE[@]}" "$f.strace" "$LAUNCH" "$LAB_BIN/$prog" "$@" >"$f.out" 2>&1 \
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
	foreground timeout -k 1 "${TRACE_PROG_LIMIT:-5}" "$PROBE" "$@" >"$TRACE_OUT/peer.out" 2>&1 </dev/null
	indent "$TRACE_OUT/peer.out"
}

# start_prog KIND [-q] NAME CMD...: start CMD (lib/spawn.bash: a session of its own, its pid
# leading the group), wait (bounded) for its first line; NAME_pid, NAME_line, NAME_port as spawn
# sets them. Status 1 if it printed none.
start_prog() {
	local kind=$1 quiet=
	shift
	[[ $1 == -q ]] && quiet=1 && shift
	local name=$1
	shift
	step=$((step + 1))
	local f=$TRACE_OUT/$step-$name heading cmd
	kinds[$name]=$kind:$f
	shown[$name]=
	if [[ $kind == lab ]]; then
		heading=$(printf '\n%s$ %s &%s' "$bold" "$(quote "$@")" "$off")
		cmd=("${STRACE[@]}" "$f.strace" "$LAUNCH" "$LAB_BIN/$1" "${@:2}")
	else
		heading=$(printf '\n%s$ probe %s &%s   %s(the kit'"'"'s probe)%s' "$bold" "$(quote "$@")" "$off" "$dim" "$off")
		cmd=("$PROBE" "$@")
	fi
	[[ -n $quiet ]] || echo "$heading"
	spawn "$name" /dev/null "$f.out" "$f.err" "${cmd[@]}"
	local pidvar=${name}_pid linevar=${name}_line portvar=${name}_port rc=0
	pids[$name]=${!pidvar}
	spawn_first "$name" "$f.out" 5000 || rc=$?
	if ((rc != 0)); then
		if [[ -z $quiet ]]; then
			((rc == 3)) && echo "  (it ended without printing a line; its stderr:)" ||
				echo "  (it printed no line within 5 s; its stderr so far:)"
			indent "$f.err"
		fi
		return 1
	fi
	[[ -z $quiet ]] || echo "$heading"
	echo "    ${!linevar}"
	if [[ -n ${!portvar} && ${!linevar} == *listening* ]]; then
		echo "${!portvar} server" >>"$TRACE_OUT/ports"
	fi
	return 0
}
lab_bg() { start_prog lab "$@"; }
peer_bg() { start_prog peer "$@"; }

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
	foreground spawn_reap "$pid" "$2"
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
	if [[ -f $scenarios/$LAB.sh ]]; then
		source "$scenarios/$LAB.sh"
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
