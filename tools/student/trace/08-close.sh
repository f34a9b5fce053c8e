# make trace LAB=08: the lines tools/student/trace.sh runs for 08-close, in its verbs (listed there).
say "Half-close: the client sends its line, then shutdown(SHUT_WR) sends its FIN; the reply still"
say "comes back, then the server's FIN."
lab_bg srv close_sv upper 127.0.0.1 0
lab close_cl half 127.0.0.1 "$srv_port" "hello, world"
wait_end srv
show_ss "state time-wait ( dport = :$srv_port )"
say "The client closed first, so the TIME-WAIT is on the client's side."
say "The passive side: the probe closes at once, close_sv hold reads the EOF and keeps its socket."
lab_bg hold close_sv hold 127.0.0.1 0
peer connect 127.0.0.1 "$hold_port"
show_ss "( sport = :$hold_port or dport = :$hold_port )"
say "CLOSE-WAIT: the FIN has arrived, the program has not closed yet. SIGUSR1 makes it close:"
wait_text hold "until SIGUSR1"
signal hold USR1
wait_end hold
show_ss "( sport = :$hold_port or dport = :$hold_port )"
say "Abortive close: SO_LINGER {1, 0}, then close() sends an RST instead of a FIN."
peer_bg drain drain 127.0.0.1 0
lab close_cl reset 127.0.0.1 "$drain_port"
wait_end drain
