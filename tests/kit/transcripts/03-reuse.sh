# SO_REUSEADDR: two sockets may bind one address and port, but only one may listen there;
# SO_REUSEPORT: both may listen.
show "tx reuseaddr"
show "tx reuseport"
