# make trace LAB=06: the lines tools/student/trace.sh runs for 06-connect, in its verbs (listed there).
peer_bg srv serve 127.0.0.1 0
lab connect 127.0.0.1 "$srv_port" "hi there"
wait_end srv
say "No bind(): connect() chose the local address and an ephemeral port. The server is gone now:"
lab connect 127.0.0.1 "$srv_port"
say "A SYN to a port where nobody listens is answered by an RST: ECONNREFUSED."
