# make trace LAB=17: the lines tools/student/trace.sh runs for 17-epoll, in its verbs (listed there).
# The loop's own calls, not every read and send: the registrations are the lesson.
if [[ $TRACE_STRACE == 1 ]]; then
	local STRACE=(strace -f -q -e trace=socket,bind,listen,accept4,epoll_create1,epoll_ctl -o)
fi
say "One thread, non-blocking sockets, one epoll loop: three idle clients, a client that stops"
say "reading, then an active one. Watch accept4 (SOCK_NONBLOCK) until EAGAIN, and epoll_ctl:"
say "EPOLLOUT is asked for only while output waits, EPOLLIN dropped while the buffer is full."
lab_bg srv epoll_sv 127.0.0.1 0
local p=$srv_port
peer_bg idle evloop idle 127.0.0.1 "$p" 3
peer_bg slow evloop slow 127.0.0.1 "$p" 100000000
sleep 0.5 # (a scenario, not a test: time for the slow client to fill every buffer)
show_ss "( sport = :$p )"
say "The slow client's connection: bytes the server has not read (Recv-Q) and echo it could not"
say "send (Send-Q) wait in the kernel; the server holds at most its 16 KiB buffer. Now it reads:"
signal slow USR1
wait_end slow
peer stream 127.0.0.1 "$p" 100000
stop idle
stop srv
say "Edge-triggered (-e): every registration carries EPOLLET."
lab_bg srv2 epoll_sv -e 127.0.0.1 0
peer connect 127.0.0.1 "$srv2_port" "hello, edge"
stop srv2
