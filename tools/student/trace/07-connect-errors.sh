# make trace LAB=07: the lines tools/student/trace.sh runs for 07-connect-errors, in its verbs (listed there).
say "(b) a port that is bound but not listening: the SYN gets an RST"
peer_bg closed reserve 127.0.0.1 0
lab connect_err 127.0.0.1 "$closed_port"
stop closed
say "(a) nobody answers the SYN: a full accept queue (backlog 0 and one connection held)"
peer_bg lsn listen -b 0 127.0.0.1 0
peer_bg holder hold 127.0.0.1 "$lsn_port"
lab connect_err -s 1 127.0.0.1 "$lsn_port"
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
