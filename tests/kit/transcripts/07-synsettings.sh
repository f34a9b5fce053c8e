# The settings behind the SYN retransmission schedule (a fresh namespace has the defaults).
# kernel: >= 6.5
show "cat /proc/sys/net/ipv4/tcp_syn_retries /proc/sys/net/ipv4/tcp_syn_linear_timeouts"
