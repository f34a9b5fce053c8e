# Runs only in the network namespace tests/kit/transcripts.bats makes for it (unshare -rn; see lib.sh).
# The SYN queue is bounded by min(backlog, somaxconn); overflow sends SYN cookies while tcp_syncookies
# is 1 (the default), and is dropped (ListenDrops) when it is 0. It holds B+1 requests since Linux 6.13
# (and its stable backports; B before). 10 SYNs from made-up sources whose
# SYN-ACKs go nowhere, to a listener that never accepts.
# kernel: >= 6.13
silent_link
norm() { ports; }
# synq SYNCOOKIES SOMAXCONN: one run, then what the kernel counted.
synq() {
	local port before_c before_d n c d i
	echo "$1" >/proc/sys/net/ipv4/tcp_syncookies
	echo "$2" >/proc/sys/net/core/somaxconn
	before_c=$(counter SyncookiesSent) before_d=$(counter ListenDrops)
	echo "# tcp_syncookies $1, somaxconn $2"
	out=$(tx synq 198.51.100.1 4 10)
	echo '$ tx synq 198.51.100.1 4 10'
	norm <<<"$out"
	port=${out##*port }
	port=${port%%;*}
	# The SYNs were handled when all 10 are accounted for (bounded: at most 1 s).
	for ((i = 0; i < 200; i++)); do
		n=$(ss -Htan state syn-recv "( sport = :$port )" | wc -l)
		c=$(($(counter SyncookiesSent) - before_c)) d=$(($(counter ListenDrops) - before_d))
		((n + c + d >= 10)) && break
		pause
	done
	echo "SYN-RECV $n, SyncookiesSent $c, ListenDrops $d"
}
synq 1 4096
synq 1 2
synq 0 4096
