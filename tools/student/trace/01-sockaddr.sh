# make trace LAB=01: the lines tools/student/trace.sh runs for 01-sockaddr, in its verbs (listed there).
say "Filling an address structure is pure memory work: htons and inet_pton are library functions."
lab sockaddr in 127.0.0.1 8080
lab sockaddr in6 ::1 8080
say "No system call of the network class, no packet: the kernel sees these bytes only when they"
say "are passed to bind() or connect() (lab 03 on)."
