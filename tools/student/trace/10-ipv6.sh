# make trace LAB=10: the lines tools/student/trace.sh runs for 10-ipv6, in its verbs (listed there).
lab ipv6 convert 2001:DB8:0:0::1
lab ipv6 convert ::FFFF:127.0.0.1
if ! has_ipv6; then
	say "This machine has no IPv6 loopback (::1): the servers below need it."
	return 0
fi
say "A server on [::] with IPV6_V6ONLY 0: an IPv4 client, then an IPv6 one."
lab_bg srv ipv6 serve -n 2 0
peer connect 127.0.0.1 "$srv_port"
peer connect ::1 "$srv_port"
wait_end srv
say "On the wire the first client spoke IPv4 (IP lines below); only the server's socket calls it"
say "::ffff:127.0.0.1. With -6 (IPV6_V6ONLY 1) the IPv4 client's SYN gets an RST:"
lab_bg v6 ipv6 serve -6 -n 1 0
peer connect 127.0.0.1 "$v6_port"
peer connect ::1 "$v6_port"
wait_end v6
