# tests/kit/transcripts/lib.sh - what every scenario may use (sourced by tests/kit/transcripts.bats, inside the
# scenario's own network namespace, in a folder that holds build/labs/NN-name/PROG and build/probe/probe
# built from the kit, with tx on the PATH).
#
# A scenario (tests/kit/transcripts/NAME.sh) prints exactly the text of the fenced block that follows
# `<!-- transcript: NAME -->` in a handout, in both languages. Its first lines may say:
#   # kernel: >= X.Y      the output holds for these kernels only (elsewhere the test is skipped, with
#                         the reason); the handout's prose names the same versions
#   # slow                it takes seconds (SYN timeouts): it runs only in make test-full
#   # needs: NN-name/PROG the lab programs it runs (built from solutions/)
#
# Network safety: scenarios run only inside the network namespace tests/kit/transcripts.bats makes for
# each of them (unshare -rn), which sets TRANSCRIPT_NETNS; anywhere else this file refuses to load,
# so the documentation addresses below (198.51.100.0/24, 203.0.113.0/24) never reach a real network.
if [[ -z ${TRANSCRIPT_NETNS:-} ]]; then
	echo "tests/kit/transcripts/lib.sh: scenarios run only under tests/kit/transcripts.bats (unshare -rn)" >&2
	return 1
fi

# show CMD: print "$ CMD", then run CMD as written (stderr joins stdout), its output through norm,
# without trailing blanks (a handout keeps none).
show() {
	printf '$ %s\n' "$1"
	eval "$1" 2>&1 | norm | sed 's/[[:space:]]*$//'
}

# norm: the parts of an output that change from run to run, as placeholders: socket inode numbers
# (socket:[<inode>]). A scenario may replace it with its own (ports as <port>, times as <ms>).
norm() { sed -E 's/socket:\[[0-9]+\]/socket:[<inode>]/g'; }

# ports: also "port N", "ADDR:N" and "port N;" as <port> (the numbers the kernel chose).
ports() { sed -E 's/socket:\[[0-9]+\]/socket:[<inode>]/g; s/port [0-9]+/port <port>/g; s/([]0-9*]):[0-9]+\b/\1:<port>/g'; }

# counter NAME: the namespace's TcpExt counter NAME, from /proc/net/netstat (no nstat history file).
counter() {
	awk -v want="$1" '$1 == "TcpExt:" { if (!n++) { for (i = 2; i <= NF; i++) h[i] = $i } else
		{ for (i = 2; i <= NF; i++) if (h[i] == want) print $i } }' /proc/net/netstat
}

# silent_link: a NOARP link (ifb) with 198.51.100.1/24, whose packets go nowhere: a SYN sent to
# 198.51.100.2, or a SYN-ACK routed to 203.0.113.0/24 through it, is silently lost.
silent_link() {
	ip link add sl0 type ifb 2>/dev/null || cannot "an ifb link (this kernel has no ifb driver)"
	ip link set sl0 up && ip addr add 198.51.100.1/24 dev sl0 && ip route add 203.0.113.0/24 dev sl0
}

# cannot WHAT: this machine lacks WHAT, which the scenario needs: exit 77, and the test is skipped
# with that reason (a missing tool or driver says nothing about the handout).
cannot() {
	echo "needs $1" >&2
	exit 77
}

# pause: wait 5 ms without a sleep process (a read with a timeout on a FIFO nobody writes).
pause() {
	[[ -p .pause ]] || mkfifo .pause
	read -rt 0.005 <>.pause || true
}
