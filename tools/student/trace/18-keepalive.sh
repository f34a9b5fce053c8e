# make trace LAB=18: the lines tools/student/trace.sh runs for 18-keepalive, in its verbs (listed there).
# Lab 18 needs a peer that can vanish: a second namespace (inside this private one) on a veth pair,
# the peer at 198.51.100.2, the programs here at 198.51.100.1. The peer vanishes when its address is
# taken away (no FIN, no RST: silence); it reboots when its socket is destroyed (ss -K) meanwhile.
# Its packets cross the veth, not lo: they are captured on va and shown at the end of the scenario.
if [[ $INSIDE_NS != 1 ]]; then
	say "A peer that vanishes needs network namespaces of our own (not available here); on 127.0.0.1"
	say "only the heartbeat against a peer whose kernel answers but whose program never reads:"
	peer_bg lsn listen 127.0.0.1 0
	lab keepalive beat 200 3 127.0.0.1 "$lsn_port"
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
# peer_at NAME: the probe as an echo server in the peer's namespace ($peer_port: its port).
peer_at() {
	local g=$TRACE_OUT/$1
	: >"$g.out"
	printf '\n%s$ probe echo 198.51.100.2 0 &%s   %s(the kit'"'"'s probe, in the peer'"'"'s namespace)%s\n' "$bold" "$off" "$dim" "$off"
	setsid nsenter -n -t "$b" "$PROBE" echo 198.51.100.2 0 >"$g.out" 2>"$g.err" </dev/null 3>&- &
	pids[$1]=$! kinds[$1]=peer:$g
	"$PROBE" await "$g.out" "${pids[$1]}" 3000 >/dev/null
	peer_port=$(awk '{ print $3; exit }' "$g.out")
	echo "    $(head -n 1 "$g.out")"
}
on_peer() {
	printf '\n%s$ (peer side) %s%s\n' "$bold" "$*" "$off"
	nsenter -n -t "$b" "$@"
}
say "1. The peer reboots: its socket is destroyed while it has no address (the RST that ss -K sends"
say "   goes nowhere), then it is back with the same address. The next ping gets an RST."
peer_at peer1
lab_bg rb keepalive beat 200 10 198.51.100.2 "$peer_port"
wait_text rb "beat 2: answered"
on_peer sh -c 'ip addr del 198.51.100.2/24 dev vb && ss -tK dst 198.51.100.1 && ip addr add 198.51.100.2/24 dev vb'
wait_end rb
say "2. Keepalive: idle 1 s, a probe every 1 s, 2 probes. The peer vanishes right after the connect."
peer_at peer2
lab_bg ka keepalive wait 1 1 2 198.51.100.2 "$peer_port"
on_peer ip addr del 198.51.100.2/24 dev vb
wait_end ka
say "read() failed with ETIMEDOUT about 3 s after the last segment (1 s idle + 2 probes, 1 s apart)."
on_peer ip addr add 198.51.100.2/24 dev vb
say "3. TCP_USER_TIMEOUT 300 ms: a line every 100 ms; sends succeed until the kernel gives up."
peer_at peer3
lab_bg ut keepalive send 300 198.51.100.2 "$peer_port"
wait_text ut "sent line 2"
on_peer ip addr del 198.51.100.2/24 dev vb
wait_end ut
on_peer ip addr add 198.51.100.2/24 dev vb
say "4. The program's own heartbeat, every 200 ms: 3 unanswered in a row and the peer is dead."
peer_at peer4
lab_bg hb keepalive beat 200 3 198.51.100.2 "$peer_port"
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
