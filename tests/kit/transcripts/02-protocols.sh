# needs: 02-socket/socket
# The protocol argument: 255, 256 and 261 are no protocol (EPROTONOSUPPORT), 262 is MPTCP, and 263
# (IPPROTO_MAX since Linux 5.6) and above are out of range (EINVAL).
# kernel: >= 5.6
for p in 255 256 261 262 263; do
	show "build/labs/02-socket/socket inet stream $p"
done
