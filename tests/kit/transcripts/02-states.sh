# Which TCP sockets ss lists: neither an unbound nor a bound-but-not-listening one.
norm() { ports | tr -s ' '; }
show "tx states"
