#!/usr/bin/env bats
# 09-local: AF_LOCAL stream sockets. What the programs print is checked against the kernel: the
# socket file itself (test -S), the listening sockets ss -x shows (the name exactly as the kernel
# holds it: a path, or @NAME for an abstract name), the probe as the other end (`probe unix ...`:
# the address length getpeername returns, the line it got), and ss -xp for the socketpair.
#
# Every test runs in its own temporary directory with short relative paths (sun_path holds only
# 108 bytes and the temporary directory may have a long name), and leaves no socket file behind:
# teardown checks that folder, and /tmp, for any socket file of this test.
load lib/socklab
load lib/calls

setup_file() {
	lab_setup_file 09-local
	# offsetof(struct sockaddr_un, sun_path) and sizeof(sun_path), from the kit's probe.
	local row
	row=$("$PROBE" layout | grep '^sockaddr_un\.sun_path ')
	read -r _ SUN_OFF SUN_SIZE <<<"$row"
	export SUN_OFF SUN_SIZE
}

setup() {
	tok=
	lab_setup
	command -v ss >/dev/null || skip "needs ss (iproute2) to see the kernel's AF_LOCAL sockets"
	SL_WORK=$(sl_workdir) && cd "$SL_WORK" || fail "cannot enter the test's temporary directory"
	# Abstract names are shared by the whole machine (network namespace), and other runs of these
	# tests may be going on at the same time: every name a test uses contains this token.
	tok=sl09-$BASHPID-$RANDOM
	[[ -n ${SUN_OFF:-} && -n ${SUN_SIZE:-} ]] || fail "the probe did not report the layout of struct sockaddr_un"
}

teardown() {
	lab_teardown # SIGTERM first: a server removes its own socket file then
	[[ -n $tok ]] || return 0
	# Socket files left in the test's folder (any name), or in /tmp (with this test's token).
	sockets_in "$SL_WORK"
	local left=("${socks[@]}") f
	for f in /tmp/*"$tok"*; do
		[[ -S $f ]] && left+=("$f")
	done
	((${#left[@]} == 0)) && return 0
	rm -f -- "${left[@]}"
	fail "socket files were left behind (now removed): ${left[*]}"
}

# sockets_in DIR: the socket files directly in DIR, into the array socks (globbing: no process).
sockets_in() {
	local f
	socks=()
	for f in "$1"/* "$1"/.[!.]*; do
		[[ -S $f ]] && socks+=("$f")
	done
	return 0
}

# no_socket_file WHY: fail if a socket file is in the current folder.
no_socket_file() {
	sockets_in .
	((${#socks[@]} == 0)) || fail "$1: ${socks[*]}"
}

# ss_listening NAME PID: ss -x shows a listening AF_LOCAL stream socket named exactly NAME (a path
# as it was given to bind, or @NAME), held by process PID.
ss_listening() {
	local l
	l=$(ss -Hxlp | awk -v n="$1" '$1 == "u_str" && $5 == n')
	echo "\$ ss -Hxlp    (the socket named $1)"
	sl_indent "$l"
	if [[ -z $l ]]; then
		echo "every listening AF_LOCAL stream socket of this test:"
		sl_indent "$(ss -Hxl | grep -F -- "$tok")"
		fail "ss -x shows no listening socket named exactly $1"
	fi
	[[ $l == *"pid=$2,"* ]] || fail "the socket listening on $1 should belong to the program (pid $2)"
}

no_listener() { [[ -z $(ss -Hxl | awk -v n="$1" '$5 == n') ]]; }

# A relative path of exactly N bytes: the token, x's, ".sock".
name_of_length() {
	local x
	printf -v x '%*s' $(($1 - ${#tok} - 5)) ''
	echo "$tok${x// /x}.sock"
}

# The address length for a path: the family field, the path, its NUL.
path_len() { echo $((SUN_OFF + ${#1} + 1)); }
# ... and for an abstract name: the family field, the leading NUL, the name (no NUL at the end).
abstract_len() { echo $((SUN_OFF + 1 + ${#1})); }

@test "09-local: local_sv binds a path: a socket file appears (test -S), ss -x shows it listening, the probe connects and gets the echo" {
	start_bg sv "$LAB_BIN/local_sv" "$tok.sock"
	echo "\$ ls -l $tok.sock"
	ls -l "$tok.sock" || true
	[[ -S $tok.sock ]] || fail "bind() of an AF_LOCAL socket creates a socket file at the path: there is none at $tok.sock"
	ss_listening "$tok.sock" "$sv_pid"
	run_prog "$PROBE" unix connect "$tok.sock" "ping $tok"
	assert_success
	assert_line "echo: ping $tok"
	wait_output sv "client 1: got ping $tok"
	# The probe did not bind: accept() returns no name, only the family field.
	wait_output sv "client 1: peer unnamed (addrlen $SUN_OFF)"
}

@test "09-local: local_sv binds an abstract name @NAME: ss -x shows exactly @NAME, no file appears, the probe connects with the exact length" {
	local want
	want=$(abstract_len "$tok")
	start_bg sv "$LAB_BIN/local_sv" "@$tok"
	[[ $line == "listening on @$tok (addrlen $want)" ]] ||
		fail "expected \"listening on @$tok (addrlen $want)\": offsetof(sun_path) $SUN_OFF + 1 (the leading NUL) + ${#tok} bytes of name, no NUL at the end"
	# With sizeof(addr) instead, the name would be padded with NULs: ss shows them as @@@@...
	ss_listening "@$tok" "$sv_pid"
	no_socket_file "an abstract name creates no file, but a socket file appeared"
	run_prog "$PROBE" unix connect "@$tok" "ping $tok"
	assert_success
	assert_line "peer @$tok addrlen $want"
	assert_line "echo: ping $tok"
	stop_bg sv
	[[ $status == 0 ]] || fail "local_sv should exit 0 on SIGTERM, got $status"
	assert_line "client 1: got ping $tok"
}

@test "09-local: local_cl connects to a path, sends its line and prints the reply; the probe server got the line" {
	start_bg srv "$PROBE" unix serve "$tok.sock"
	run_prog "$LAB_BIN/local_cl" "$tok.sock" "hi $tok"
	assert_success
	assert_line --index 0 "connected to $tok.sock (addrlen $(path_len "$tok.sock"))"
	assert_line "echo: hi $tok"
	wait_exit srv
	assert_success
	assert_line "got hi $tok"
}

@test "09-local: local_cl prints the whole reply when the server sends it in pieces with pauses between them" {
	# The probe answers "echo: LINE" 4 bytes at a time, 40 ms apart: one read() gets one piece.
	start_bg srv env PROBE_PIECES=4/40 "$PROBE" unix serve "$tok.sock"
	run_prog "$LAB_BIN/local_cl" "$tok.sock" "in pieces $tok"
	assert_success
	assert_line "echo: in pieces $tok"
	wait_exit srv
	assert_line "got in pieces $tok"
}

@test "09-local: local_cl connects to an abstract name with its exact length (no NUL counted)" {
	start_bg srv "$PROBE" unix serve "@$tok"
	# A client that passes sizeof(addr) asks for a name padded with NULs: ECONNREFUSED.
	run_prog "$LAB_BIN/local_cl" "@$tok" "hi $tok"
	assert_success
	assert_line --index 0 "connected to @$tok (addrlen $(abstract_len "$tok"))"
	assert_line "echo: hi $tok"
	wait_exit srv
	assert_line "got hi $tok"
}

@test "09-local: local_cl to a path where nothing exists fails in connect with ENOENT" {
	traced connect "$LAB_BIN/local_cl" "$tok.sock"
	assert_errno connect ENOENT
	assert_traced connect ENOENT
}

@test "09-local: local_cl to a socket file nobody listens on fails with ECONNREFUSED, and so does an abstract name nobody holds" {
	# The probe binds and exits without listening: the socket file stays, with nothing behind it.
	run_prog "$PROBE" unix bind "$tok.sock"
	assert_success
	[[ -S $tok.sock ]] || fail "the probe should have left a socket file $tok.sock"
	traced connect "$LAB_BIN/local_cl" "$tok.sock"
	assert_errno connect ECONNREFUSED
	assert_traced connect ECONNREFUSED
	rm -f "$tok.sock"
	traced connect "$LAB_BIN/local_cl" "@$tok-nobody"
	assert_errno connect ECONNREFUSED
	assert_traced connect ECONNREFUSED
}

# The socketpair: the parent's pid, the child's pid, and both descriptors, from local_pair's lines.
pair_lines() {
	local re='^socketpair: fd ([0-9]+) and fd ([0-9]+)$'
	[[ ${lines[0]:-} =~ $re ]] || fail "expected a first line \"socketpair: fd A and fd B\""
	fd_a=${BASH_REMATCH[1]} fd_b=${BASH_REMATCH[2]}
	[[ $fd_a != "$fd_b" ]] || fail "the two ends of a pair are two descriptors"
	re='^child ([0-9]+): got "(.*)" on fd ([0-9]+)$'
	local l
	l=$(grep -E '^child [0-9]+: got ' <<<"$output" | head -n 1)
	[[ $l =~ $re ]] || fail "expected a line \"child C: got \"MSG\" on fd B\""
	child=${BASH_REMATCH[1]}
	[[ ${BASH_REMATCH[2]} == "$1" ]] || fail "the child should have got \"$1\""
	[[ ${BASH_REMATCH[3]} == "$fd_b" ]] || fail "the child uses fd $fd_b, the second end of the pair"
	l=$(grep -E '^parent [0-9]+: sending ' <<<"$output" | head -n 1)
	re='^parent ([0-9]+): sending "(.*)" on fd ([0-9]+)$'
	[[ $l =~ $re ]] ||
		fail "expected a line \"parent P: sending \"MSG\" on fd A\""
	parent=${BASH_REMATCH[1]}
	[[ ${BASH_REMATCH[3]} == "$fd_a" ]] || fail "the parent uses fd $fd_a, the first end of the pair"
	[[ $child != "$parent" ]] || fail "parent and child are two processes"
	assert_line "parent $parent: got \"${1^^} from child $child\" on fd $fd_a"
}

@test "09-local: local_pair: the parent sends a line over the socketpair, the child answers it in upper case, both print what they got" {
	local msg=pair-$RANDOM-abcdef
	run_prog "$LAB_BIN/local_pair" "$msg"
	assert_success
	pair_lines "$msg"
	assert_line "child $child: read returned 0 (EOF), exiting"
	assert_line "parent $parent: child $child exited with status 0"
	no_socket_file "a socketpair has no name: no file should appear"
	# A message of two bytes: the answer is built whole for a short line too.
	run_prog "$LAB_BIN/local_pair" hi
	assert_success
	pair_lines hi
}

@test "09-local: local_pair -w: ss -x shows the pair as two connected unnamed sockets, one end held by the parent, the other by the child" {
	local msg=hold-$RANDOM-abcdef
	start_bg pair "$LAB_BIN/local_pair" -w "$msg"
	wait_output pair "holding fd"
	sl_slurp output "$BATS_TEST_TMPDIR/pair.out"
	sl_show_result
	pair_lines "$msg"
	[[ $parent == "$pair_pid" ]] || fail "the parent's pid is $pair_pid, it printed $parent"
	# ss -xp: "u_str ESTAB 0 0 * INODE * PEER-INODE users:(("local_pair",pid=P,fd=N))"
	local mine theirs
	mine=$(ss -Hxp | grep -F "pid=$parent,")
	theirs=$(ss -Hxp | grep -F "pid=$child,")
	echo "\$ ss -Hxp    (the parent's and the child's AF_LOCAL sockets)"
	sl_indent "$mine"$'\n'"$theirs"
	[[ $(wc -l <<<"$mine") == 1 && $mine == *"pid=$parent,fd=$fd_a)"* ]] ||
		fail "the parent should hold exactly one end of the pair, as fd $fd_a (close the other one)"
	[[ $(wc -l <<<"$theirs") == 1 && $theirs == *"pid=$child,fd=$fd_b)"* ]] ||
		fail "the child should hold exactly one end of the pair, as fd $fd_b (close the other one)"
	[[ $mine != *"pid=$child,"* && $theirs != *"pid=$parent,"* ]] ||
		fail "each end must be open in one process only: the other process must close its copy"
	local a b
	read -r -a a <<<"$mine"
	read -r -a b <<<"$theirs"
	[[ ${a[0]} == u_str && ${a[1]} == ESTAB && ${b[0]} == u_str && ${b[1]} == ESTAB ]] ||
		fail "both ends should be connected AF_LOCAL stream sockets (u_str ESTAB)"
	[[ ${a[4]} == '*' && ${b[4]} == '*' ]] || fail "the sockets of a pair have no name (ss shows *)"
	[[ ${a[5]} == "${b[7]}" && ${b[5]} == "${a[7]}" ]] ||
		fail "the parent's socket and the child's should be each other's peer (inode ${a[5]} <-> ${b[5]})"
	stop_bg pair
	[[ $status == 0 ]] || fail "on SIGTERM the parent closes its end, the child reads EOF, both exit 0; got status $status"
	assert_line "child $child: read returned 0 (EOF), exiting"
	assert_line "parent $parent: child $child exited with status 0"
}

@test "09-local: SIGTERM ends local_sv with status 0 and removes its socket file" {
	start_bg sv "$LAB_BIN/local_sv" "$tok.sock"
	[[ -S $tok.sock ]] || fail "no socket file $tok.sock while the server runs"
	stop_bg sv
	[[ $status == 0 ]] || fail "local_sv should exit 0 on SIGTERM, got $status"
	[[ ! -e $tok.sock ]] || fail "a server that ends cleanly removes its socket file: $tok.sock is still there"
	run_prog "$PROBE" unix connect "$tok.sock"
	assert_errno connect ENOENT
}

@test "09-local: a server killed by SIGKILL leaves its socket file behind, and binding that path again fails with EADDRINUSE" {
	start_bg sv "$LAB_BIN/local_sv" "$tok.sock"
	kill -KILL "$sv_pid"
	wait_exit sv
	[[ $status == 137 ]] || fail "local_sv should have died of SIGKILL (status 137), got $status"
	[[ -S $tok.sock ]] || fail "SIGKILL leaves no chance to clean up: the socket file $tok.sock should still be there"
	wait_until no_listener "$tok.sock" || fail "ss -x still shows a socket listening on $tok.sock"
	traced bind "$LAB_BIN/local_sv" "$tok.sock"
	assert_errno bind EADDRINUSE
	assert_traced bind EADDRINUSE
	[[ -S $tok.sock ]] || fail "a server whose bind failed must not remove the file"
	rm -f "$tok.sock"
}

@test "09-local: local_sv -u unlinks a stale socket file before bind and serves on that path again" {
	run_prog "$PROBE" unix bind "$tok.sock" # a stale socket file: nobody listens on it
	assert_success
	start_bg sv "$LAB_BIN/local_sv" -u "$tok.sock"
	[[ -S $tok.sock ]] || fail "no socket file $tok.sock while the server runs"
	ss_listening "$tok.sock" "$sv_pid"
	run_prog "$PROBE" unix connect "$tok.sock" "after -u"
	assert_line "echo: after -u"
	stop_bg sv
	[[ $status == 0 && ! -e $tok.sock ]] || fail "local_sv should exit 0 on SIGTERM and remove $tok.sock"
	# -u on a path where nothing exists: unlink() fails with ENOENT, which is fine.
	start_bg sv2 "$LAB_BIN/local_sv" -u "$tok.sock"
	ss_listening "$tok.sock" "$sv2_pid"
	stop_bg sv2
	[[ $status == 0 ]] || fail "local_sv -u on a fresh path should work and exit 0 on SIGTERM, got $status"
}

@test "09-local: local_sv -u on a path that is a directory fails in unlink (EISDIR), before any bind" {
	mkdir "$tok.dir"
	traced unlink,bind "$LAB_BIN/local_sv" -u "$tok.dir"
	rmdir "$tok.dir"
	assert_errno unlink EISDIR
	assert_traced unlink EISDIR
	if [[ -n ${trace:-} ]] && grep -q '^\([0-9]* *\)\?bind(' "$trace"; then
		fail "a failed unlink() other than ENOENT ends the server: bind() should not have been tried"
	fi
}

@test "09-local: binding a path where a live server listens fails with EADDRINUSE and leaves that server's file alone" {
	start_bg sv "$LAB_BIN/local_sv" "$tok.sock"
	traced bind "$LAB_BIN/local_sv" "$tok.sock"
	assert_errno bind EADDRINUSE
	assert_traced bind EADDRINUSE
	[[ -S $tok.sock ]] || fail "the second server removed the first one's socket file"
	run_prog "$PROBE" unix connect "$tok.sock" "still there"
	assert_line "echo: still there"
	ss_listening "$tok.sock" "$sv_pid"
}

@test "09-local: the addrlen local_sv passes to bind is offsetof(struct sockaddr_un, sun_path) + strlen + 1, as the kernel reports it" {
	local want
	want=$(path_len "$tok.sock")
	start_bg sv "$LAB_BIN/local_sv" "$tok.sock"
	run_prog "$PROBE" unix connect "$tok.sock"
	assert_success
	# The kernel's view: getpeername() on the probe's end returns the server's address.
	assert_line "peer $tok.sock addrlen $want"
	[[ $line == "listening on $tok.sock (addrlen $want)" ]] ||
		fail "expected \"listening on $tok.sock (addrlen $want)\": offsetof(sun_path) $SUN_OFF + ${#tok} + 5 bytes of path + 1 for the NUL"
}

@test "09-local: a path of 107 bytes fits in sun_path; 108 bytes or more is a usage error (exit 2) and creates no file" {
	local fit too
	fit=$(name_of_length $((SUN_SIZE - 1)))
	too=$(name_of_length "$SUN_SIZE")
	start_bg sv "$LAB_BIN/local_sv" "$fit"
	[[ $line == "listening on $fit (addrlen $((SUN_OFF + SUN_SIZE)))" ]] ||
		fail "a path of $((SUN_SIZE - 1)) bytes and its NUL fill sun_path exactly: addrlen $((SUN_OFF + SUN_SIZE))"
	[[ -S $fit ]] || fail "no socket file for the $((SUN_SIZE - 1))-byte path"
	run_prog "$LAB_BIN/local_cl" "$fit" "long"
	assert_success
	assert_line "echo: long"
	stop_bg sv
	run_prog "$LAB_BIN/local_sv" "$too"
	assert_usage
	run_prog "$LAB_BIN/local_cl" "$too"
	assert_usage
	# Far too long: a program that copies it into sun_path anyway writes past the end of addr.
	run_prog "$LAB_BIN/local_sv" "$too$too"
	assert_usage
	run_prog "$LAB_BIN/local_sv" "@$too"
	assert_usage
	run_prog "$LAB_BIN/local_cl" "@$too"
	assert_usage
	no_socket_file "a refused name must create no file"
}

@test "09-local: an abstract name of 107 bytes after the @ fits: local_sv and local_cl each meet the probe on it" {
	local fit
	fit=$(name_of_length $((SUN_SIZE - 1)))
	start_bg sv "$LAB_BIN/local_sv" "@$fit"
	[[ $line == "listening on @$fit (addrlen $((SUN_OFF + SUN_SIZE)))" ]] ||
		fail "a NUL and $((SUN_SIZE - 1)) bytes of name fill sun_path exactly: addrlen $((SUN_OFF + SUN_SIZE))"
	run_prog "$PROBE" unix connect "@$fit" "long $tok"
	assert_success
	assert_line "echo: long $tok"
	stop_bg sv
	start_bg srv "$PROBE" unix serve "@$fit"
	run_prog "$LAB_BIN/local_cl" "@$fit" "long $tok"
	assert_success
	assert_line --index 0 "connected to @$fit (addrlen $((SUN_OFF + SUN_SIZE)))"
	assert_line "echo: long $tok"
	no_socket_file "an abstract name has no file"
}

@test "09-local: local_pair reports a failed socketpair (no descriptor left under ulimit -n 4) with EMFILE, exit 1" {
	# Descriptors 0-2 and nothing else open, at most 4: socketpair() needs two, only 3 is free.
	# shellcheck disable=SC2016
	run_prog bash -c 'for f in /proc/$$/fd/*; do f=${f##*/}; ((f > 2)) && eval "exec $f>&-"; done
		ulimit -n 4 && exec "$0" hi' "$LAB_BIN/local_pair"
	assert_errno socketpair EMFILE
	[[ -z $output ]] || fail "nothing was created: nothing should be printed on stdout (no fork either)"
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "09-local: local_sv or local_cl without a name, with an empty name or a bare @, an unknown option or extra arguments is a usage error, exit 2" {
	run_prog "$LAB_BIN/local_sv"
	assert_usage
	run_prog "$LAB_BIN/local_sv" ""
	assert_usage
	run_prog "$LAB_BIN/local_sv" @
	assert_usage
	run_prog "$LAB_BIN/local_sv" -x "$tok.sock"
	assert_usage
	run_prog "$LAB_BIN/local_sv" "$tok.sock" extra
	assert_usage
	run_prog "$LAB_BIN/local_cl"
	assert_usage
	run_prog "$LAB_BIN/local_cl" @
	assert_usage
	run_prog "$LAB_BIN/local_cl" -x "$tok.sock"
	assert_usage
	run_prog "$LAB_BIN/local_cl" "$tok.sock" hi extra
	assert_usage
	no_socket_file "a usage error must create no file"
}

# bats test_tags=points:0
# (the untouched starter already passes this test)
@test "09-local: local_pair without a message, with an empty one, an unknown option or extra arguments is a usage error, exit 2" {
	run_prog "$LAB_BIN/local_pair"
	assert_usage
	run_prog "$LAB_BIN/local_pair" ""
	assert_usage
	run_prog "$LAB_BIN/local_pair" -x hi
	assert_usage
	run_prog "$LAB_BIN/local_pair" hi there
	assert_usage
}

# Predictions (labs/09-local/predictions.md): the kit's probe runs each experiment; the kernel's
# answer in this run is the truth. sl_errno CALL: the errno name in "probe: CALL: ENAME (...)".
sl_errno() {
	[[ $stderr =~ :\ $1:\ (E[A-Z0-9]+)\ \( ]] && echo "${BASH_REMATCH[1]}" || echo "no error (exit status $status)"
}

@test "09-local: prediction P1: the errno of a connect to a stale socket file" {
	run_prog "$PROBE" unix bind "$tok.sock"
	[[ -S $tok.sock ]] || fail "the probe should have left a socket file $tok.sock"
	run_prog "$PROBE" unix connect "$tok.sock"
	rm -f "$tok.sock"
	local e
	e=$(sl_errno connect)
	expect_prediction P1 errno "$e" "the probe's connect() to a stale socket file (bound, the program gone) got: $e" \
		"docs/09-local.md, \"The socket file outlives the server\" (中文: docs/zh/09-local.md)"
}

@test "09-local: prediction P2: the errno of a bind to the path of a stale socket file" {
	run_prog "$PROBE" unix bind "$tok.sock"
	[[ -S $tok.sock ]] || fail "the probe should have left a socket file $tok.sock"
	run_prog "$PROBE" unix bind "$tok.sock"
	rm -f "$tok.sock"
	local e
	e=$(sl_errno bind)
	expect_prediction P2 errno "$e" "the probe's bind() to the path of a stale socket file got: $e" \
		"docs/09-local.md, \"The socket file outlives the server\" (中文: docs/zh/09-local.md)"
}

@test "09-local: prediction P3: the errno of a connect to a path where nothing exists" {
	run_prog "$PROBE" unix connect "$tok-none.sock"
	local e
	e=$(sl_errno connect)
	expect_prediction P3 errno "$e" "the probe's connect() to a path where no file exists got: $e" \
		"docs/09-local.md, \"Two ways connect fails: ENOENT and ECONNREFUSED\" (中文: docs/zh/09-local.md)"
}

@test "09-local: prediction P4: the address length getsockname reports for an abstract name of 20 characters" {
	local name
	printf -v name '%s%*s' "$tok" $((20 - ${#tok})) ''
	name=${name// /x}
	run_prog "$PROBE" unix bind "@$name"
	[[ ${lines[0]:-} =~ ^bound\ @$name\ addrlen\ ([0-9]+)$ ]] ||
		fail "the probe should have printed \"bound @$name addrlen N\""
	expect_prediction P4 number "${BASH_REMATCH[1]}" \
		"getsockname() of a socket bound to @$name (20 characters) reported addrlen ${BASH_REMATCH[1]}" \
		"docs/09-local.md, \"Abstract names: no file at all\" (中文: docs/zh/09-local.md)"
}
