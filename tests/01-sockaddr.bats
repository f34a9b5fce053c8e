#!/usr/bin/env bats
# 01-sockaddr: the socket address structures, checked against the kit's probe, which the test
# suite compiles with the same compiler and headers (no size or offset is written in this file).
load lib/socklab

setup_file() { lab_setup_file 01-sockaddr; }
setup() { lab_setup; }
teardown() { lab_teardown; }

# The lines of `sockaddr layout` (or of the probe) about one structure: "NAME SIZE", "NAME.field OFF SIZE".
layout_of() { grep -E "^$2[ .]" <<<"$1" || true; }

expect_layout() {
	local want
	want=$("$PROBE" layout)
	run_prog "$LAB_BIN/sockaddr" layout
	assert_success
	local s
	for s in "$@"; do
		# In words: each line the compiler gives (via the probe) that the program did not print,
		# and each line it printed that the compiler does not give.
		diff --unchanged-line-format= --old-line-format="  missing (the compiler says): %L" \
			--new-line-format="  wrong (your program printed): %L" \
			<(layout_of "$want" "$s") <(layout_of "$output" "$s") ||
			fail "the layout of struct $s differs from what the compiler says (the lines above: \"NAME SIZE\" and \"NAME.field OFFSET SIZE\")"
	done
}

@test "01-sockaddr: sizes and field offsets of sockaddr, sockaddr_in and sockaddr_in6 match the compiler" {
	expect_layout sockaddr sockaddr_in sockaddr_in6
}

@test "01-sockaddr: sizes and field offsets of sockaddr_un and sockaddr_storage match the compiler" {
	expect_layout sockaddr_un sockaddr_storage
}

@test "01-sockaddr: AF_UNIX, AF_LOCAL, AF_INET, AF_INET6 and their PF_ twins have the headers' values" {
	local want
	want=$("$PROBE" families)
	run_prog "$LAB_BIN/sockaddr" families
	assert_success
	assert_output "$want"
	local f
	for f in UNIX LOCAL INET INET6; do
		[[ $(grep "^AF_$f " <<<"$output" | cut -d' ' -f2) == $(grep "^PF_$f " <<<"$output" | cut -d' ' -f2) ]] ||
			fail "AF_$f and PF_$f should be equal"
	done
}

# Check that a printed sockaddr_in/_in6 has the probe's bytes; $1 = in|in6.
expect_bytes() {
	local want
	want=$("$PROBE" "$1" "$2" "$3")
	echo "expected (from the probe): $want"
	run_prog "$LAB_BIN/sockaddr" "$1" "$2" "$3"
	assert_success
	assert_line --index 1 "$want"
	bytes=(${lines[1]})
}

@test "01-sockaddr: sockaddr_in for 127.0.0.1:8080 has the port and the address in network byte order" {
	expect_bytes in 127.0.0.1 8080
	# Whatever the CPU's byte order, the port and the address are stored big-endian.
	[[ "${bytes[*]:2:2}" == "1f 90" ]] || fail "sin_port should be 1f 90 (8080 through htons)"
	[[ "${bytes[*]:4:4}" == "7f 00 00 01" ]] || fail "sin_addr should be 7f 00 00 01 (127.0.0.1)"
	[[ "${bytes[*]:8:8}" == "00 00 00 00 00 00 00 00" ]] || fail "sin_zero should be all zero"
}

@test "01-sockaddr: sockaddr_in follows the address and port it is given, not a fixed example" {
	local i
	for i in 1 2 3; do
		local addr="$((RANDOM % 223 + 1)).$((RANDOM % 256)).$((RANDOM % 256)).$((RANDOM % 255 + 1))"
		expect_bytes in "$addr" "$((RANDOM + RANDOM))"
	done
	expect_bytes in 0.0.0.0 0
	expect_bytes in 255.255.255.255 65535
}

@test "01-sockaddr: sockaddr_in6 for ::1 and other addresses has port and address in network byte order" {
	expect_bytes in6 ::1 8080
	[[ "${bytes[*]:2:2}" == "1f 90" ]] || fail "sin6_port should be 1f 90 (8080 through htons)"
	[[ "${bytes[*]:8:16}" == "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01" ]] || fail "sin6_addr should be ::1"
	expect_bytes in6 "$(printf '2001:db8::%x:1' $((RANDOM + RANDOM)))" "$((RANDOM + RANDOM))"
	expect_bytes in6 ::ffff:127.0.0.1 443
}

@test "01-sockaddr: the family read back through struct sockaddr is AF_INET or AF_INET6" {
	local inet inet6
	inet=$("$PROBE" families | awk '$1 == "AF_INET" { print $2 }')
	inet6=$("$PROBE" families | awk '$1 == "AF_INET6" { print $2 }')
	run_prog "$LAB_BIN/sockaddr" in 10.1.2.3 99
	assert_success
	assert_line --index 0 --partial "sa_family $inet,"
	run_prog "$LAB_BIN/sockaddr" in6 fe80::1 99
	assert_success
	assert_line --index 0 --partial "sa_family $inet6,"
}

@test "01-sockaddr: an address that is not IPv4 (or not IPv6) is a usage error, exit 2" {
	local a
	for a in 256.1.1.1 1.2.3 localhost ::1 "" 1.2.3.4x; do
		run_prog "$LAB_BIN/sockaddr" in "$a" 80
		assert_usage
	done
	for a in 1.2.3.4 ::g 1:2:3:4:5:6:7:8:9 localhost; do
		run_prog "$LAB_BIN/sockaddr" in6 "$a" 80
		assert_usage
	done
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "01-sockaddr: a port that is not 0..65535 (abc, -1, 65536, empty) is a usage error, exit 2" {
	local p
	for p in abc -1 65536 "" 80x 99999999999999999999; do
		run_prog "$LAB_BIN/sockaddr" in 127.0.0.1 "$p"
		assert_usage
		run_prog "$LAB_BIN/sockaddr" in6 ::1 "$p"
		assert_usage
	done
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "01-sockaddr: no arguments, or an unknown command, is a usage error, exit 2" {
	run_prog "$LAB_BIN/sockaddr"
	assert_usage
	run_prog "$LAB_BIN/sockaddr" bogus
	assert_usage
	run_prog "$LAB_BIN/sockaddr" in 127.0.0.1
	assert_usage
}

# Predictions (labs/01-sockaddr/predictions.md): the kit's probe, compiled here with this machine's
# compiler and headers, gives the truth of this run; nothing in this file says what it is.
READ01="docs/01-sockaddr.md, the section"
ZH01="(中文: docs/zh/01-sockaddr.md)"

@test "01-sockaddr: prediction P1: the size of struct sockaddr_in6" {
	local size
	size=$("$PROBE" layout | awk '$1 == "sockaddr_in6" { print $2 }')
	expect_prediction P1 number "$size" "the compiler says sizeof(struct sockaddr_in6) is $size bytes" \
		"$READ01 \"IPv6: struct sockaddr_in6\" $ZH01"
}

@test "01-sockaddr: prediction P2: the offset of sin6_addr in struct sockaddr_in6" {
	local off
	off=$("$PROBE" layout | awk '$1 == "sockaddr_in6.sin6_addr" { print $2 }')
	expect_prediction P2 number "$off" "the compiler says sin6_addr begins at offset $off of struct sockaddr_in6" \
		"$READ01 \"IPv6: struct sockaddr_in6\" $ZH01"
}

@test "01-sockaddr: prediction P3: the port the kernel reads from sin_port = 8080 without htons" {
	# The probe's bytes of 127.0.0.1:8080: the family in this CPU's byte order, the port in network
	# order. Without htons, sin_port holds 8080 in the CPU's order, and the kernel reads it big-endian.
	local b inet mem truth order
	read -ra b <<<"$("$PROBE" in 127.0.0.1 8080)"
	inet=$("$PROBE" families | awk '$1 == "AF_INET" { print $2 }')
	if [[ $((16#${b[0]})) == "$inet" && ${b[1]} == 00 ]]; then
		order="low byte first (AF_INET = $inet is stored as ${b[0]} ${b[1]})"
		mem="${b[3]} ${b[2]}"
	else
		order="high byte first (AF_INET = $inet is stored as ${b[0]} ${b[1]})"
		mem="${b[2]} ${b[3]}"
	fi
	truth=$((16#${mem/ /}))
	expect_prediction P3 number "$truth" \
		"in network order 8080 is ${b[2]} ${b[3]}; this CPU stores numbers $order, so without htons sin_port holds $mem, which the kernel reads as 0x${mem/ /} = $truth" \
		"$READ01 \"Network byte order, htons, htonl, inet_pton\" $ZH01"
}

@test "01-sockaddr: prediction P4: what inet_pton returns for localhost, a name" {
	local out
	out=$("$PROBE" try pton inet localhost)
	expect_prediction P4 number "${out##* }" "inet_pton(AF_INET, \"localhost\", ...) returned ${out##* }" \
		"$READ01 \"Network byte order, htons, htonl, inet_pton\" $ZH01"
}
