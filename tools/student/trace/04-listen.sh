# make trace LAB=04: the lines tools/student/trace.sh runs for 04-listen, in its verbs (listed there).
lab_bg srv listen -n -a 127.0.0.1 1 0
peer_bg c1 nbconnect 127.0.0.1 "$srv_port" 300
peer_bg c2 nbconnect 127.0.0.1 "$srv_port" 300
peer_bg c3 nbconnect 127.0.0.1 "$srv_port" 1300
show_ss "( sport = :$srv_port or dport = :$srv_port )"
say "backlog 1 and nobody calls accept(): B + 1 = 2 handshakes complete; the third SYN is dropped"
say "(a full accept queue) and the client sits in SYN-SENT, resending its SYN."
stop c3
stop c2
stop c1
stop srv
