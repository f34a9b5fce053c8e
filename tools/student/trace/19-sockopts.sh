# make trace LAB=19: the lines tools/student/trace.sh runs for 19-sockopts, in its verbs (listed there).
# The lesson of the first part is in the writes and the read, and in the time between them.
local NET=("${STRACE[@]}")
if [[ $TRACE_STRACE == 1 ]]; then
	local STRACE=(strace -f -q -r -e trace=connect,setsockopt,write,read -o)
	say "(system calls traced for opts_cl nagle: connect, setsockopt, write, read; -r: the time since"
	say "the previous call)"
fi
say "Nagle and the delayed ACK: each request goes out in two writes (\"ping \", then \"K\\n\"); the"
say "client then reads the reply, which the probe sends only once it has the whole line."
peer_bg an opts answer 127.0.0.1 0
lab opts_cl nagle 127.0.0.1 "$an_port" 3
wait_end an
say "From round 2 on, the 2-byte piece left only after the server's ACK, about 40 ms after the first"
say "piece (see the packets): Nagle held it for that ACK, and the server's kernel delayed the ACK."
peer_bg an2 opts answer 127.0.0.1 0
lab opts_cl nagle -n 127.0.0.1 "$an2_port" 3
wait_end an2
say "TCP_NODELAY (-n): the second piece goes at once, ACK or not; a round takes microseconds."
STRACE=("${NET[@]}")
say "A reader with SO_RCVBUF 4096 that reads nothing: its window falls to zero. In the packets, after"
say "4096 bytes the writer sends only zero-window probes (lone ACKs), until the reader reads."
peer_bg sk opts sink -r 4096 127.0.0.1 0
lab opts_cl send -l 1 127.0.0.1 "$sk_port" 200000
show_ss "( dport = :$sk_port )"
say "close() waited the 1 s of SO_LINGER {1, 1}, returned 0, and the kernel still holds the bytes"
say "(FIN-WAIT-1, Send-Q). Now the reader reads: it gets all of them, then the FIN."
signal sk USR1
wait_end sk
say "SO_LINGER {1, 0}: close() sends an RST at once (below); the bytes not yet sent are lost."
peer_bg sk2 opts sink -r 4096 127.0.0.1 0
lab opts_cl send -l 0 127.0.0.1 "$sk2_port" 200000
signal sk2 USR1
wait_end sk2
say "SO_REUSEPORT: two servers listen on one port, and the kernel spreads the connections."
lab_bg a opts_sv share 127.0.0.1 0
lab_bg b opts_sv share 127.0.0.1 "$a_port"
show_ss "( sport = :$a_port )"
peer opts conns 8 127.0.0.1 "$a_port"
stop a
stop b
