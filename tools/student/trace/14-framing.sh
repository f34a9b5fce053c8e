# make trace LAB=14: the lines tools/student/trace.sh runs for 14-framing, in its verbs (listed there).
say "The server's own calls (its recvfrom and sendto) are shown when it stops, after the probe's"
say "runs. Three messages, one write() each:"
lab_bg srv frame_sv 127.0.0.1 0
peer framed send 127.0.0.1 "$srv_port" hi "" framing
say "The same three messages cut into one write() per byte: the probe sends each byte only once"
say "the kernel says the server has read the one before (21 segments of 1 byte below, 21 recvfrom"
say "returning 1 byte each in the server's calls)."
peer framed send -x 1 127.0.0.1 "$srv_port" hi "" framing
say "Coalesced: all three in one write(): one recvfrom() takes them, three sendto() answer."
peer framed send -x all 127.0.0.1 "$srv_port" hi "" framing
say "A length of 0xffffffff (4294967295 bytes): a protocol error; the server closes, reads nothing more."
peer framed send -k 127.0.0.1 "$srv_port" @ffffffff
say "Half a message, then EOF (the probe half-closes after 2 bytes of the length):"
peer framed send 127.0.0.1 "$srv_port" @0000
stop srv
say "The client: each message one sendto() of the length (4 bytes, network order) and the payload;"
say "the probe as the server shows the bytes as they came."
peer_bg ps framed serve 127.0.0.1 0
lab frame_cl 127.0.0.1 "$ps_port" hello "$(printf 'x%.0s' {1..258})"
wait_end ps
