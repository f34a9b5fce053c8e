# make trace LAB=16: the lines tools/student/trace.sh runs for 16-select, in its verbs (listed there).
# This lab's calls are select()/poll() and read(), outside strace's "network" class: add them.
[[ $TRACE_STRACE == 1 ]] && local STRACE=(strace -f -q -e trace=network,pselect6,select,poll,ppoll,read,close -o)
say "One process, many clients: client 1 connects and stays silent, client 2 sends a line in two"
say "pieces, client 3 a whole line; the select() server serves each as its bytes come (the calls"
say "shown include pselect6, read and close)."
lab_bg srv mux_sv 127.0.0.1 0
peer_bg idle hold 127.0.0.1 "$srv_port"
peer_bg split split 127.0.0.1 "$srv_port" "hel" $'lo\n'
peer connect 127.0.0.1 "$srv_port" "meanwhile"
say "Client 2's 'hel' waited in the server's buffer while client 3 was served; its second piece"
say "completes the line, and its half-close ends it:"
signal split USR1
wait_end split
show_ss "( sport = :$srv_port or dport = :$srv_port )"
stop idle
stop srv
say "The same with poll() (-p): one array of descriptors instead of two sets."
lab_bg psrv mux_sv -p 127.0.0.1 0
peer_bg idle2 hold 127.0.0.1 "$psrv_port"
peer connect 127.0.0.1 "$psrv_port" "hello, poll"
stop idle2
stop psrv
