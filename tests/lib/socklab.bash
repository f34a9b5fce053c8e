# socklab.bash - the helpers every lab's bats file loads with `load lib/socklab`.
#
#   lab_setup_file NN-name   build the lab's programs for TREE_DIR (in setup_file); LAB_BIN is their folder
#   lab_setup / lab_teardown fail at once if the lab did not compile / stop every background program
#   run_prog [-t S] [--signal] CMD...
#                            bats' `run --separate-stderr` with a time limit; prints command, status, stdout
#                            and stderr (shown when the test fails); a hang becomes "timed out after S s",
#                            a crash "crashed with SIGSEGV", a sanitizer report a failure of its own
#   start_bg NAME CMD...     start a server in its own session (setsid, fd 3 closed), wait (bounded, no
#                            sleep) for its first line: it lands in $line, the port it names in $port
#                            ("... port N", or a probe's "listening ADDR N")
#   stop_bg NAME             SIGTERM, bounded wait; its exit status lands in $status
#   assert_errno CALL ENAME  the last run_prog failed in CALL with ENAME: "prog: CALL: ENAME (text)", exit 1
#   assert_usage             the last run_prog was a usage error: message on stderr, exit 2
#   $PROBE ...               the kit's own independent peer (tests/lib/probe.c); see its header
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

: "${SOCKLAB_TOP:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${TREE_DIR:=$SOCKLAB_TOP/labs}"
: "${SOCKLAB_TIMEOUT:=5}"
export SOCKLAB_TOP TREE_DIR
# bats >= 1.13 kills a test that runs longer than this; older bats only reports it.
: "${BATS_TEST_TIMEOUT:=30}"
PROBE=$SOCKLAB_TOP/build/probe/probe
# Sanitizer builds (SAN=1) stop at the first error and say so on stderr.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}

lab_setup_file() {
	export LAB=$1
	export LAB_BUILD_LOG=$BATS_FILE_TMPDIR/build.log
	local mk=(make -s --no-print-directory -C "$SOCKLAB_TOP" TREE="$TREE_DIR" LAB="$LAB")
	if "${mk[@]}" bins >"$LAB_BUILD_LOG" 2>&1; then
		export LAB_BUILD_OK=1
	else
		export LAB_BUILD_OK=0
	fi
	LAB_BIN=$("${mk[@]}" print-out)/$LAB
	export LAB_BIN
}

# Start of every test: no background programs yet. Remember bats' timeout watchdog: bats 1.13 loses
# track of it when a test fails, and it would then linger (holding bats' output open) until the
# timeout; lab_teardown ends it.
sl_begin() {
	SL_GROUPS=()
	SL_WATCHDOG=${BATS_killer_pid:-}
}

lab_setup() {
	sl_begin
	if [[ $LAB_BUILD_OK != 1 ]]; then
		fail "$LAB does not compile (with -Werror); the compiler said:
$(grep -v '^make' "$LAB_BUILD_LOG" | head -n 30)"
	fi
}

# Print a multi-line value indented, for the failure report.
sl_indent() { [[ -z $1 ]] && echo "  (nothing)" || echo "  | ${1//$'\n'/$'\n'  | }"; }

run_prog() {
	local limit=$SOCKLAB_TIMEOUT signal_ok=
	while [[ $# -gt 0 ]]; do
		case $1 in
		-t) limit=$2; shift 2 ;;
		--signal) signal_ok=1; shift ;;
		*) break ;;
		esac
	done
	run --separate-stderr timeout -k 1 "$limit" "$@"
	printf '$ %s\n' "${*#"$LAB_BIN"/}"
	printf 'exit status %s\nstdout:\n%s\nstderr:\n%s\n' "$status" "$(sl_indent "$output")" "$(sl_indent "$stderr")"
	sl_verdict "$limit" "$signal_ok" "$status" "$stderr"
}

# Turn what a run left into a plain reason to fail: timeout, crash, sanitizer report.
sl_verdict() {
	local limit=$1 signal_ok=$2 st=$3 err=$4
	if [[ $st == 124 || $st == 137 ]]; then
		fail "timed out after $limit s (the program hung: a blocking call that never returns?)"
	elif [[ $err == *AddressSanitizer* || $err == *LeakSanitizer* || $err == *"runtime error:"* ]]; then
		fail "the sanitizer found a memory or undefined-behaviour error (see stderr above)"
	elif [[ $st -gt 128 && -z $signal_ok ]]; then
		fail "crashed with SIG$(kill -l $((st - 128)) 2>/dev/null || echo $((st - 128)))"
	fi
	return 0
}

start_bg() {
	local name=$1
	shift
	local out=$BATS_TEST_TMPDIR/$name.out err=$BATS_TEST_TMPDIR/$name.err
	: >"$out"
	setsid "$@" >"$out" 2>"$err" </dev/null 3>&- &
	local pid=$!
	SL_GROUPS+=("$pid")
	printf -v "${name}_pid" %s "$pid"
	printf '$ %s &   (background "%s", pid %s)\n' "${*#"$LAB_BIN"/}" "$name" "$pid"
	local rc=0
	line=$("$PROBE" await "$out" "$pid" $((SOCKLAB_TIMEOUT * 1000))) || rc=$?
	if [[ $rc == 3 ]]; then
		wait "$pid" && rc=0 || rc=$?
		printf 'stderr:\n%s\n' "$(sl_indent "$(cat "$err")")"
		sl_verdict "$SOCKLAB_TIMEOUT" "" "$rc" "$(cat "$err")"
		fail "$name exited (status $rc) before printing its first line"
	elif [[ $rc != 0 ]]; then
		fail "$name printed nothing within $SOCKLAB_TIMEOUT s (forgot fflush, or blocked before reporting?)"
	fi
	printf '%s said: %s\n' "$name" "$line"
	port=
	if [[ $line =~ port\ ([0-9]+) || $line =~ \ ([0-9]+)$ ]]; then
		port=${BASH_REMATCH[1]} # "... port N", or a probe's "listening ADDR N"
	fi
	return 0
}

stop_bg() {
	local name=$1 pidvar=${1}_pid
	local pid=${!pidvar}
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	"$PROBE" await /dev/null "$pid" $((SOCKLAB_TIMEOUT * 1000)) >/dev/null || true
	kill -KILL -- "-$pid" 2>/dev/null || true
	status=0
	wait "$pid" || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/$name.out")
	stderr=$(cat "$BATS_TEST_TMPDIR/$name.err")
	printf '%s stopped, exit status %s\nstdout:\n%s\nstderr:\n%s\n' "$name" "$status" "$(sl_indent "$output")" "$(sl_indent "$stderr")"
}

lab_teardown() {
	local pid
	for pid in "${SL_GROUPS[@]}"; do
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || continue
		"$PROBE" await /dev/null "$pid" 2000 >/dev/null || true
		kill -KILL -- "-$pid" 2>/dev/null || true
	done
	[[ -z ${SL_TMP:-} ]] || rm -rf "$SL_TMP"
	[[ -z ${SL_WATCHDOG:-} ]] || kill "$SL_WATCHDOG" 2>/dev/null
	return 0
}

assert_errno() {
	local call=$1 name=$2
	[[ $status == 1 ]] || fail "expected exit status 1 (a failed $call), got $status"
	[[ $stderr =~ (^|$'\n')[^:$'\n']+:\ $call:\ $name\ \( ]] ||
		fail "expected stderr to report \"PROG: $call: $name (...)\" — the kernel's errno for $call, by its name"
}

assert_usage() {
	[[ $status == 2 ]] || fail "expected a usage error: exit status 2, got $status"
	[[ -n $stderr ]] || fail "expected a usage message on stderr, got nothing"
	[[ ${stderr,,} == *usage* ]] || fail "expected the usage message on stderr to contain \"usage\""
	[[ -z $output ]] || fail "expected nothing on stdout for a usage error"
}

# Where a program is run as the unprivileged user nobody: copy it to a folder nobody can reach
# (the checkout may sit in a home directory nobody cannot enter) and set AS_NOBODY to the prefix.
need_nobody() {
	if [[ $EUID != 0 ]]; then
		AS_NOBODY=()
		NOBODY_BIN=$LAB_BIN
		return 0
	fi
	command -v setpriv >/dev/null || skip "needs setpriv (util-linux) to run as an unprivileged user"
	SL_TMP=$(mktemp -d /tmp/socklab.XXXXXX)
	chmod 755 "$SL_TMP"
	cp "$LAB_BIN"/* "$PROBE" "$SL_TMP"/
	AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
	NOBODY_BIN=$SL_TMP
	"${AS_NOBODY[@]}" true 2>/dev/null || skip "cannot switch to user nobody with setpriv here"
}

# Tests that build their own network namespace: skip where user namespaces are not allowed.
need_userns() {
	unshare -rn true 2>/dev/null ||
		skip "needs unprivileged user namespaces (unshare -rn), which this machine does not allow"
}

# The low and high end of the ephemeral port range, from the kernel.
read -r EPHEMERAL_LOW EPHEMERAL_HIGH </proc/sys/net/ipv4/ip_local_port_range
