# The order of glibc's getaddrinfo() results for a NULL host: passive (the wildcards) and not (loopback).
# (A namespace with only lo up: ::1 and 127.0.0.1.)
show "build/probe/probe gai -p - 8080"
show "build/probe/probe gai - 8080"
