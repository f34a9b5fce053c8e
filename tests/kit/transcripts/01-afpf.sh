# glibc's <sys/socket.h> (bits/socket.h): AF_x is defined as PF_x, not the other way round.
show "cc -E -dM -include sys/socket.h -x c /dev/null | grep -E '^#define (AF|PF)_(INET|INET6|UNIX|LOCAL) ' | sort"
