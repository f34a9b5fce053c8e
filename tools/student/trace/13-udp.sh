# make trace LAB=13: the lines tools/student/trace.sh runs for 13-udp, in its verbs (listed there).
# show_udp FILTER: what ss sees of the UDP sockets (this lab only).
show_udp() { # FILTER: what ss sees of the UDP sockets
	printf '\n%s$ ss -uan %s%s\n' "$bold" "$(quote "$1")" "$off"
	# shellcheck disable=SC2086 # the filter is ss's own expression, in words
	ss -uan $1 2>&1 | indent
}
say "A UDP server: socket() and bind(), then recvfrom() and sendto(). No listen, no accept, and"
say "no handshake on the wire: the first packet is already the data."
lab_bg srv udp_sv 127.0.0.1 0
lab udp_cl 127.0.0.1 "$srv_port" one two three
say "Three sendto(), three datagrams, three recvfrom() on the server: one call, one datagram."
show_udp "( sport = :$srv_port )"
say "UNCONN: a datagram socket has no connection state; it receives from anyone."
lab udp_cl 127.0.0.1 "$srv_port" @65508
say "65508 bytes do not fit in one IPv4 datagram (65535 - 20 - 8 = 65507): EMSGSIZE, nothing sent."
stop srv
say "A 10-byte receive buffer: the server's recvfrom (MSG_TRUNC) returns 100, keeps 10, the rest is lost."
lab_bg small udp_sv -s 10 127.0.0.1 0
lab udp_cl 127.0.0.1 "$small_port" @100
stop small
say "A port where nobody receives: every datagram sent there draws an ICMP port unreachable."
peer_bg closed udp reserve 127.0.0.1 0
lab udp_cl -c 127.0.0.1 "$closed_port" hello
say "Connected (-c): the ICMP error comes back to the socket as ECONNREFUSED."
lab udp_cl -w 300 127.0.0.1 "$closed_port" hello
say "Unconnected: the same ICMP arrives (see the packets), but the socket is never told: EAGAIN"
say "when the 300 ms receive timeout ends the wait."
stop closed
if [[ $INSIDE_NS == 1 ]]; then
	say "A flood into a stopped server with a small receive buffer (16384 bytes): most are dropped."
	lab_bg fl udp_sv -r 8192 127.0.0.1 0
	signal fl STOP
	peer udp flood 127.0.0.1 "$fl_port" 20 1000
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
