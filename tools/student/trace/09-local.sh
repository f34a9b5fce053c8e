# make trace LAB=09: the lines tools/student/trace.sh runs for 09-local, in its verbs (listed there).
say "Local (AF_LOCAL) sockets never touch the network: no packet on lo, only system calls."
cd "$TRACE_OUT" || return 1 # the socket files are made here
lab_bg srv local_sv sv.sock
lab local_cl sv.sock "hello, neighbour"
say "The client never bound: the server sees it as unnamed (addrlen 2, the family alone)."
stop srv
lab local_cl sv.sock
say "The server removed its file on the way out: connect() finds no such file (ENOENT)."
say "A socket file left behind by a server that died: bind() says EADDRINUSE until it is unlinked."
peer unix bind stale.sock
lab local_sv stale.sock
lab_bg srv2 local_sv -u stale.sock
stop srv2
say "An abstract name (a leading NUL byte, written @): no file at all, gone with its socket."
lab_bg abs local_sv "@socklab-trace-$$"
lab local_cl "@socklab-trace-$$" "hello, abstract"
stop abs
