# make trace LAB=02: the lines tools/student/trace.sh runs for 02-socket, in its verbs (listed there).
lab socket inet stream
lab socket inet6 dgram udp
lab socket unix stream
lab socket 12345 stream
lab socket inet stream udp
say "A socket is only a descriptor so far: no address, no peer, and so no packet at all."
