# Runs only in the network namespace tests/kit/transcripts.bats makes for it (unshare -rn; see lib.sh).
# TCP_SYNCNT 1 to an address whose SYNs are silently lost: the SYN goes out three times (0, 1, 2 s),
# and connect() fails with ETIMEDOUT after 3 s.
# kernel: >= 6.5
# slow
command -v nstat >/dev/null || cannot "nstat (iproute2)"
silent_link
show "tx syncnt 1 198.51.100.2 9"
show "nstat -asz TcpActiveOpens TcpExtTCPSynRetrans | awk '!/^#/ { print \$1, \$2 }'"
