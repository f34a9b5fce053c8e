# Runs only in the network namespace tests/kit/transcripts.bats makes for it (unshare -rn; see lib.sh).
# A wrong address on the local link: nobody answers ARP for it, and connect() fails with EHOSTUNREACH
# after about 3 s (the neighbour entry is FAILED), not after two minutes.
# slow
ip link add v0 type veth peer name v1 2>/dev/null || cannot "a veth pair (this kernel has no veth driver)"
ip addr add 198.51.100.1/24 dev v0 && ip link set v0 up && ip link set v1 up
show "tx syncnt 0 198.51.100.2 9"
show "ip neigh show 198.51.100.2"
