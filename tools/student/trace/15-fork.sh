# make trace LAB=15: the lines tools/student/trace.sh runs for 15-fork, in its verbs (listed there).
# Lab 15 is about processes as much as sockets: the calls that make and end them too.
if [[ $TRACE_STRACE == 1 ]]; then
	local STRACE=(strace -f -q -e trace=accept,clone,clone3,close,wait4,exit_group,exit -o)
	say "(system calls traced here: accept, clone, clone3, close, wait4, exit_group, exit)"
fi
say "A process per client: a silent client holds its child; the next client is answered at once."
lab_bg srv fork_sv 127.0.0.1 0
local p=$srv_port
peer_bg quiet hold 127.0.0.1 "$p"
peer connect 127.0.0.1 "$p" "not delayed by the silent client"
printf '\n%s$ ss -tanp %s%s\n' "$bold" "'( sport = :$p )'" "$off"
ss -tanp "( sport = :$p )" 2>&1 | indent
say "The listener is the parent's alone, each connection its child's alone (users: pid, fd)."
stop quiet
wait_text srv "client 1: echoed"
say "Each child's exit interrupted the parent's accept() (ERESTARTSYS, SIGCHLD); the handler's"
say "wait4(WNOHANG) loop collected it, and accept() was called again."
stop srv
say "A thread per client (-t): clone3 with CLONE_FILES, one descriptor table; the thread closes"
say "the connection itself."
lab_bg thr fork_sv -t 127.0.0.1 0
peer connect 127.0.0.1 "$thr_port" "a thread this time"
stop thr
