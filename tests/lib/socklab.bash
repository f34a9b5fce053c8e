# socklab.bash - the helpers every lab's bats file loads with `load lib/socklab`.
#
#   lab_setup_file NN-name   build the lab's programs for TREE_DIR (in setup_file); LAB_BIN is their folder
#   lab_setup / lab_teardown fail at once if the lab did not compile / stop every background program
#   run_prog [-t S] [--signal] CMD...
#                            like bats' `run --separate-stderr`, with a time limit; prints command, status, stdout
#                            and stderr (shown when the test fails); a hang becomes "timed out after S s",
#                            a crash "crashed with SIGSEGV", a sanitizer report a failure of its own;
#                            what it writes is capped (below)
#   start_bg NAME CMD...     start a server in its own session (setsid, fd 3 closed), wait (bounded, no
#                            sleep) for its first line: it lands in $line, the port it names in $port
#                            ("... port N", or a probe's "listening ADDR N")
#   stop_bg NAME             SIGTERM, bounded wait; $status, $output/$lines, $stderr as run_prog
#   wait_exit NAME           wait (bounded) for it to end by itself; fail if it had to be stopped
#   wait_output NAME TEXT    wait (bounded) until it has printed TEXT
#   wait_until [-t S] CMD... poll CMD (ss, a counter) until it succeeds, bounded, without spinning
#   assert_errno CALL ENAME  the last run_prog failed in CALL with ENAME: "prog: CALL: ENAME (text)", exit 1
#   assert_usage             the last run_prog was a usage error: message on stderr, exit 2
#   $PROBE ...               the kit's own independent peer (tests/lib/probe.c); see its header
bats_require_minimum_version 1.5.0

# bats-support and bats-assert, from BATS_LIB_PATH. bats sources this file again for every test,
# and their load.bash files run a `dirname` subshell per file under bats' debug trap: ~0.2 s a
# test. Sourcing their src/*.bash directly does the same in ~5 ms.
sl_load_libs() {
	local d f dirs
	IFS=: read -ra dirs <<<"${BATS_LIB_PATH:-}"
	for d in "${dirs[@]}"; do
		if [[ -f $d/bats-support/load.bash && -f $d/bats-assert/load.bash ]]; then
			for f in "$d"/bats-support/src/*.bash "$d"/bats-assert/src/*.bash; do
				source "$f"
			done
			return 0
		fi
	done
	bats_load_library bats-support
	bats_load_library bats-assert
}
sl_load_libs

: "${SOCKLAB_TOP:=$(cd "${BASH_SOURCE[0]%/*}/../.." && pwd)}"
: "${TREE_DIR:=$SOCKLAB_TOP/labs}"
: "${SOCKLAB_TIMEOUT:=5}"
# Output cap: of what a program run by run_prog or start_bg prints, $output and $stderr keep the
# first SOCKLAB_OUTPUT_CAP bytes, then "[output capped at N bytes]": a program that prints megabytes
# leaves no huge TAP report. And no full disk: what it writes to any one file, its stdout and stderr
# included, stops at 64 MiB (ulimit -f; the kernel then ends it with SIGXFSZ, and the test fails).
: "${SOCKLAB_OUTPUT_CAP:=65536}"
SL_FILE_LIMIT=65536 # ulimit -f, in 1024-byte blocks: 64 MiB (a compiler run by run_prog needs some)
export SOCKLAB_TOP TREE_DIR
# bats >= 1.13 kills a test that runs longer than this; older bats only reports it.
: "${BATS_TEST_TIMEOUT:=30}"
PROBE=$SOCKLAB_TOP/build/probe/probe
# Sanitizer builds (SAN=1) stop at the first memory error or undefined behaviour and say so on
# stderr. LeakSanitizer stays off here: its exit-time scan costs ~40 ms a process (a third of the
# self-test), and the lab programs exit holding little but descriptors, which it does not track.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}

# sl_make TARGET...: the kit's make for the lab (tools/lib.sh's quiet_make, in a subshell: the tests
# see nothing of the library): not a part of an outer `make -j2`, whose jobserver bats does not pass
# on. CC, CFLAGS and SAN given to the outer make still arrive through the environment.
sl_make() { (source "$SOCKLAB_TOP/tools/lib.sh" && quiet_make TREE="$TREE_DIR" LAB="$LAB" "$@"); }

lab_setup_file() {
	export LAB=$1
	export LAB_BUILD_LOG=$BATS_FILE_TMPDIR/build.log
	if sl_make bins >"$LAB_BUILD_LOG" 2>&1; then
		export LAB_BUILD_OK=1
	else
		export LAB_BUILD_OK=0
	fi
	LAB_REAL=$(sl_make print-out)/$LAB
	LAB_BIN=$LAB_REAL/.run${SOCKLAB_STUDENT_UID:+-u$SOCKLAB_STUDENT_UID}
	sl_launchers "$LAB_REAL" "$LAB_BIN"
	export LAB_REAL LAB_BIN
	return 0
}

# sl_launchers REAL DIR: for each program in REAL, DIR/NAME: a symbolic link to the kit's launcher
# (tests/lib/launch.c), which runs REAL/NAME with its descriptors above 2 closed, and in the batch
# sandbox (DIR = REAL/.run-uUID) as the student's own user. Every test runs "$LAB_BIN/NAME", so none
# can run a program without it. (Made once: the same links serve every run of that build.)
sl_launchers() {
	local f launch=$SOCKLAB_TOP/build/tools/launch
	mkdir -p "$2"
	for f in "$1"/*; do
		[[ -f $f && -x $f && ! -L $2/${f##*/} ]] || continue
		ln -s "$launch" "$2/${f##*/}" 2>/dev/null || [[ -L $2/${f##*/} ]] || return 1
	done
	return 0
}

# sl_close_fds: close every descriptor above 2 of this shell (in the subshell that then runs a
# program: bats' result stream is fd 3, and nothing a program writes may reach it).
sl_close_fds() {
	local f fd
	for f in /dev/fd/*; do
		fd=${f##*/}
		((fd > 2)) && { exec {fd}>&-; } 2>/dev/null
	done
	return 0
}

# Start of every test: no background programs yet. Remember bats' timeout watchdog: bats 1.13 loses
# track of it when a test fails, and it would then linger (holding bats' output open) until the
# timeout; lab_teardown ends it.
#
# And bats' DEBUG trap goes: it records a stack trace at every command a test runs, for the line
# numbers of a failure report, and that is about half of the CPU of every lab's tests (measured:
# lab 12 4.1 s -> 2.6 s, lab 05 2.3 s -> 1.4 s). A failure then says the test and its message, as
# before, with the test's first line for its place. SOCKLAB_TRACE=1 keeps the trap (a maintainer
# hunting a line).
sl_begin() {
	[[ -n ${SOCKLAB_TRACE:-} ]] || trap - DEBUG
	SL_GROUPS=()
	SL_WATCHDOG=${BATS_killer_pid:-}
}

lab_setup() {
	sl_begin
	# In the batch sandbox the programs run as another user (SOCKLAB_STUDENT_UID): the way to the
	# test's folder is open to them (to reach sl_workdir), the folder itself is the tests' alone.
	[[ -z ${SOCKLAB_STUDENT_UID:-} ]] || chmod o+x "$BATS_RUN_TMPDIR" "${BATS_TEST_TMPDIR%/*}" "$BATS_TEST_TMPDIR"
	if [[ $LAB_BUILD_OK != 1 ]]; then
		fail "$LAB does not compile (with -Werror); the compiler said:
$(grep -v '^make' "$LAB_BUILD_LOG" | head -n 30)"
	fi
}

# sl_workdir: print the path of a folder where the test's programs may create files (sockets of
# lab 09): BATS_TEST_TMPDIR/work, which in the batch sandbox the student's user may write too. The
# tests' own files (what programs print, the probe's reports) stay outside it, out of its reach.
sl_workdir() {
	local w=$BATS_TEST_TMPDIR/work
	mkdir -p "$w" && chmod 777 "$w" && echo "$w"
}

# sl_shown CMD...: SL_SHOWN = the command as a student reads it: the lab's programs and the probe by
# their names.
sl_shown() {
	SL_SHOWN=$*
	SL_SHOWN=${SL_SHOWN//"$LAB_BIN"\//} SL_SHOWN=${SL_SHOWN//"$PROBE"/probe}
}

# Print a multi-line value indented, for the failure report.
sl_indent() { [[ -z $1 ]] && echo "  (nothing)" || echo "  | ${1//$'\n'/$'\n'  | }"; }

# sl_slurp VAR FILE: VAR = the contents of FILE without trailing newlines, like "$(cat FILE)" but
# with no subshell (NUL bytes are dropped, as "$(...)" drops them), and capped (SOCKLAB_OUTPUT_CAP).
sl_slurp() {
	local -n sl_into=$1
	local LC_ALL=C # bytes, not characters
	sl_into=
	read -r -N $((SOCKLAB_OUTPUT_CAP + 1)) sl_into <"$2" || true
	if ((${#sl_into} > SOCKLAB_OUTPUT_CAP)); then
		sl_into=${sl_into:0:SOCKLAB_OUTPUT_CAP}$'\n'"[output capped at $SOCKLAB_OUTPUT_CAP bytes]"
	fi
	while [[ $sl_into == *$'\n' ]]; do sl_into=${sl_into%$'\n'}; done
}

# Split $output and $stderr into $lines and $stderr_lines (blank lines dropped, as bats' run does),
# and print both for the failure report.
sl_show_result() {
	lines=() stderr_lines=()
	IFS=$'\n' read -rd '' -a lines <<<"$output" || true
	IFS=$'\n' read -rd '' -a stderr_lines <<<"$stderr" || true
	echo "stdout:"
	sl_indent "$output"
	echo "stderr:"
	sl_indent "$stderr"
}

# sl_end_group PID MS: SIGTERM to the process group PID leads (or to PID), at most MS ms for it to
# exit, then SIGKILL to the group. Status 1 if there was nothing left to signal.
sl_end_group() {
	kill -TERM -- "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null || return 1
	"$PROBE" await /dev/null "$1" "$2" >/dev/null || true
	kill -KILL -- "-$1" 2>/dev/null || true
}

run_prog() {
	local limit=$SOCKLAB_TIMEOUT signal_ok= out=$BATS_TEST_TMPDIR/.run_prog.out err=$BATS_TEST_TMPDIR/.run_prog.err
	while [[ $# -gt 0 ]]; do
		case $1 in
		-t) limit=$2; shift 2 ;;
		--signal) signal_ok=1; shift ;;
		*) break ;;
		esac
	done
	# What bats' `run --separate-stderr` does, without its cost (it is called hundreds of times):
	# $output/$lines from stdout, $stderr/$stderr_lines from stderr, $status.
	status=0
	# (The braces' 2>/dev/null only silences bash's own "Segmentation fault" line about the subshell.)
	{ (
		ulimit -f "$SL_FILE_LIMIT"
		sl_close_fds
		exec timeout -k 1 "$limit" "$@" >"$out" 2>"$err"
	); } 2>/dev/null || status=$?
	sl_slurp output "$out"
	sl_slurp stderr "$err"
	sl_shown "$@"
	printf '$ %s\nexit status %s\n' "$SL_SHOWN" "$status"
	sl_show_result
	sl_verdict "$limit" "$signal_ok" "$status" "$stderr"
}

# Turn what a run left into a plain reason to fail: timeout, crash, sanitizer report.
sl_verdict() {
	local limit=$1 signal_ok=$2 st=$3 err=$4
	if [[ $st == 124 || $st == 137 ]]; then
		fail "timed out after $limit s (the program hung: a blocking call that never returns?)"
	elif [[ $err == *AddressSanitizer* || $err == *LeakSanitizer* || $err == *"runtime error:"* ]]; then
		fail "the sanitizer found a memory or undefined-behaviour error (see stderr above)"
	elif [[ $st -gt 128 && $(kill -l $((st - 128)) 2>/dev/null) == XFSZ ]]; then
		fail "output capped: the program wrote more than $((SL_FILE_LIMIT / 1024)) MiB (to stdout, stderr or a file) and was stopped (SIGXFSZ)"
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
	(
		ulimit -f "$SL_FILE_LIMIT"
		sl_close_fds
		exec setsid "$@" >"$out" 2>"$err" </dev/null
	) &
	local pid=$!
	SL_GROUPS+=("$pid")
	printf -v "${name}_pid" %s "$pid"
	sl_shown "$@"
	printf '$ %s &   (background "%s", pid %s)\n' "$SL_SHOWN" "$name" "$pid"
	local rc=0
	line=$("$PROBE" await "$out" "$pid" $((SOCKLAB_TIMEOUT * 1000))) || rc=$?
	if [[ $rc == 3 ]]; then
		wait "$pid" && rc=0 || rc=$?
		echo "stderr:"
		sl_slurp stderr "$err"
		sl_indent "$stderr"
		sl_verdict "$SOCKLAB_TIMEOUT" "" "$rc" "$stderr"
		fail "$name exited (status $rc) before printing its first line"
	elif [[ $rc != 0 ]]; then
		fail "$name printed nothing within $SOCKLAB_TIMEOUT s (forgot fflush, or blocked before reporting?)"
	fi
	printf '%s said: %s\n' "$name" "$line"
	port=
	if [[ $line =~ port\ ([0-9]+) || $line =~ \ ([0-9]+)$ ]]; then
		port=${BASH_REMATCH[1]} # "... port N", or a probe's "listening ADDR N"
	fi
	printf -v "${name}_line" %s "$line"
	printf -v "${name}_port" %s "$port"
	return 0
}

stop_bg() {
	local name=$1 pidvar=${1}_pid
	local pid=${!pidvar}
	sl_end_group "$pid" $((SOCKLAB_TIMEOUT * 1000)) || true
	status=0
	wait "$pid" || status=$?
	sl_slurp output "$BATS_TEST_TMPDIR/$name.out"
	sl_slurp stderr "$BATS_TEST_TMPDIR/$name.err"
	printf '%s stopped, exit status %s\n' "$name" "$status"
	sl_show_result
	if ((status > 128)) && [[ $(kill -l $((status - 128)) 2>/dev/null) == XFSZ ]]; then
		fail "output capped: $name wrote more than $((SL_FILE_LIMIT / 1024)) MiB (to stdout, stderr or a file) and was stopped (SIGXFSZ)"
	fi
	return 0
}

# wait_until [-t SECS] CMD...: run CMD until it succeeds: at most SECS seconds (default
# SOCKLAB_TIMEOUT) and 200 tries a second of it, 5 ms apart (so that the time, not the count, ends a
# slow CMD's wait on a busy machine). For kernel states with no event to wait on (what ss
# shows, a counter): the pause is a blocking read on a private FIFO, so nothing spins and no
# sleep runs. Status 1 if CMD never succeeded.
wait_until() {
	local limit=$SOCKLAB_TIMEOUT i end fifo=$BATS_TEST_TMPDIR/.wait_until fd rc=1
	if [[ $1 == -t ]]; then
		limit=$2
		shift 2
	fi
	end=$((${EPOCHREALTIME//[!0-9]/} + limit * 1000000))
	[[ -p $fifo ]] || mkfifo "$fifo"
	exec {fd}<>"$fifo"
	for ((i = 0; i < limit * 200; i++)); do
		if "$@"; then
			rc=0
			break
		fi
		((${EPOCHREALTIME//[!0-9]/} < end)) || break
		read -rt 0.005 -u "$fd" _ || true
	done
	exec {fd}<&-
	return $rc
}

# wait_output NAME TEXT: wait (bounded) until background NAME has printed a line containing TEXT.
wait_output() {
	local f=$BATS_TEST_TMPDIR/$1.out pidvar=${1}_pid out err
	wait_until grep -qF -- "$2" "$f" && return 0
	# What the program said, on both streams: its own words often explain it (EINTR, a reset...).
	sl_slurp out "$f"
	sl_slurp err "$BATS_TEST_TMPDIR/$1.err"
	echo "$1's stdout so far:"
	sl_indent "$out"
	echo "$1's stderr so far:"
	sl_indent "$err"
	if [[ -n ${!pidvar:-} ]] && ! kill -0 "${!pidvar}" 2>/dev/null; then
		fail "$1 ended without printing \"$2\" (see what it said above)"
	fi
	fail "$1 did not print \"$2\" within $SOCKLAB_TIMEOUT s"
}

# wait_exit NAME: wait (bounded) for background NAME to end by itself, then collect it like stop_bg
# ($status, $output, $lines, $stderr). Fails if it had to be stopped.
wait_exit() {
	local pidvar=${1}_pid rc=0
	"$PROBE" await /dev/null "${!pidvar}" $((SOCKLAB_TIMEOUT * 1000)) >/dev/null || rc=$?
	stop_bg "$1"
	[[ $rc == 3 ]] || fail "$1 did not exit by itself within $SOCKLAB_TIMEOUT s"
}

lab_teardown() {
	local pid
	for pid in "${SL_GROUPS[@]}"; do
		sl_end_group "$pid" 2000 || true
	done
	[[ -z ${SL_TMP:-} ]] || rm -rf "$SL_TMP"
	# Only after a failure: on success bats stops its watchdog itself (stopping it twice is noisy).
	[[ -n ${BATS_TEST_COMPLETED:-} || -z ${SL_WATCHDOG:-} ]] || kill "$SL_WATCHDOG" 2>/dev/null
	return 0
}

assert_errno() {
	local call=$1 name=$2 see="\"## $2\""
	# Where to read: the entry of the expected errno, and of the one the program reported instead.
	if [[ $stderr =~ :\ $call:\ (E[A-Z0-9_]+)\ \( && ${BASH_REMATCH[1]} != "$name" ]]; then
		see+=" and \"## ${BASH_REMATCH[1]}\""
	fi
	see="; read $see in docs/errno.md (中文: docs/zh/errno.md)"
	[[ $status == 1 ]] || fail "expected exit status 1 (a failed $call), got $status$see"
	[[ $stderr =~ (^|$'\n')[^:$'\n']+:\ $call:\ $name\ \( ]] ||
		fail "expected stderr to report \"PROG: $call: $name (...)\" — the kernel's errno for $call, by its name$see"
}

assert_usage() {
	[[ $status == 2 ]] || fail "expected a usage error: exit status 2, got $status"
	[[ -n $stderr ]] || fail "expected a usage message on stderr, got nothing"
	[[ ${stderr,,} == *usage* ]] || fail "expected the usage message on stderr to contain \"usage\""
	[[ -z $output ]] || fail "expected nothing on stdout for a usage error"
}

# Predictions (labs/NN-name/predictions.md): before running a lab, the student answers its questions,
# each under a heading "## PK ..." on a line "answer: ...". A prediction test runs the experiment with
# the kit's probe, so the truth is what the kernel did in that run (no answer key in the kit), and
# compares:  expect_prediction PK KIND TRUTH OBSERVED READ
#   KIND     number (the first whole number of the answer, compared as a number), errno (the first
#            E... name, any case), or word (the answer's first word, any case, - and _ alike:
#            SYN-SENT, syn_sent, synsent)
#   TRUTH    what the kernel did (for errno and word: the accepted answers, separated by |, e.g.
#            EAGAIN|EWOULDBLOCK, two names of one number)
#   OBSERVED the experiment in words, shown with the student's answer when they differ
#   READ     where the handout explains it
expect_prediction() {
	local id=$1 kind=$2 truth=$3 observed=$4 read=$5 file=$TREE_DIR/$LAB/predictions.md answer= got= w
	[[ -f $file ]] || fail "no $LAB/predictions.md in your tree: it holds the questions to answer before you run the lab"
	answer=$(awk -v id="$id" '
		$1 == "##" && $2 == id { inq = 1; next }
		$1 == "##" { inq = 0 }
		inq && tolower($0) ~ /^answer:/ { sub(/^[^:]*:[ \t]*/, ""); print; exit }' "$file")
	echo "your prediction $id: ${answer:-(none)}"
	echo "what this run showed: $observed"
	[[ -n ${answer//[[:space:]]/} ]] ||
		fail "$id in $LAB/predictions.md has no answer yet: write it after \"answer:\" (predict first, then run the code)"
	case $kind in
	number) [[ $answer =~ (^|[^0-9])([0-9]+) ]] && got=${BASH_REMATCH[2]} ;;
	errno) [[ ${answer^^} =~ (^|[^A-Z0-9])(E[A-Z0-9]+) ]] && got=${BASH_REMATCH[2]} ;;
	word)
		# the first word that is not an article or "it is": "the server", "it is SYN-SENT" say one word
		got=${answer,,} got=${got//[-_]/}
		while [[ $got =~ ^[^a-z0-9]*(the|a|an|it|its|is|in)([^a-z0-9]+)(.*)$ ]]; do got=${BASH_REMATCH[3]}; done
		[[ $got =~ ^[^a-z0-9]*([a-z0-9]+) ]] && got=${BASH_REMATCH[1]}
		;;
	esac
	if [[ $kind == number ]]; then
		[[ -n $got && $truth =~ ^[0-9]+$ ]] && ((10#$got == 10#$truth)) && return 0
	else
		for w in ${truth//|/ }; do
			if [[ $kind == word ]]; then
				w=${w,,} w=${w//[-_]/}
			fi
			[[ -n $got && $got == "$w" ]] && return 0
		done
	fi
	fail "your prediction $id was \"$answer\", but this run showed otherwise: $observed. Read $read"
}

# probe_errno: for a prediction, what the last run_prog of the probe did: $errno, the errno name it
# failed with ("none" if it succeeded), and $happened, that in words.
probe_errno() {
	if [[ $status == 1 && $stderr =~ :\ [a-z_]+:\ (E[A-Z0-9]+)\ \( ]]; then
		errno=${BASH_REMATCH[1]} happened="failed with ${BASH_REMATCH[1]}"
	else
		errno=none happened="succeeded: $output"
	fi
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
	cp "$LAB_REAL"/* "$PROBE" "$SL_TMP"/
	AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
	NOBODY_BIN=$SL_TMP
	"${AS_NOBODY[@]}" true 2>/dev/null || skip "cannot switch to user nobody with setpriv here"
}

# For the kit's own tests (grading, the student commands): run_cmd [-t S] CMD... is like run_prog,
# but without its cap on what a command writes (ulimit -f): the grader writes the kit's build and
# reports, and sets the limits of its sandboxes itself. Not for lab programs (no launcher).
run_cmd() {
	local limit=60
	if [[ $1 == -t ]]; then
		limit=$2
		shift 2
	fi
	status=0
	output=$(timeout -k 5 "$limit" "$@" 2>"$BATS_TEST_TMPDIR/.run_cmd.err" 3>&-) || status=$?
	sl_slurp stderr "$BATS_TEST_TMPDIR/.run_cmd.err"
	printf '$ %s\nexit status %s\n' "$*" "$status"
	sl_show_result
	[[ $status != 124 && $status != 137 ]] || fail "timed out after $limit s"
}

# sandbox_processes BASE: the processes of make grade SUBMISSIONS='s sandboxes still alive, by
# their user ids (tools/instructor/sandbox.sh maps 4096 ranges of 65536 from GRADE_UID_BASE on, default
# 3000000000); nothing when none is. A kit test gives its batches a base of its own.
sandbox_processes() {
	local p uid low=${1:-3000000000}
	for p in /proc/[0-9]*; do
		uid=$(awk '/^Uid:/ { print $2; exit }' "$p/status" 2>/dev/null) || continue
		[[ -n $uid ]] && ((uid >= low && uid < low + 65536 * 4096)) && echo "${p#/proc/} uid $uid"
	done
	return 0
}

need_jq() { command -v jq >/dev/null || skip "needs jq to read the reports (Debian/Ubuntu: apt install jq)"; }

# UNSHARE -n ... (or -nm): a network (and mount) namespace of the test's own. An ordinary user needs a
# user namespace to get one (unshare -r: root there); root makes it without one, so that a program
# run through the launcher can still become the student's user in the batch sandbox (a user
# namespace of the test's would map no user but root).
if ((EUID == 0)); then UNSHARE=(unshare); else UNSHARE=(unshare -r); fi

# Tests that build their own network namespace: skip where user namespaces are not allowed.
need_userns() {
	unshare -rn true 2>/dev/null ||
		skip "needs unprivileged user namespaces (unshare -rn), which this machine does not allow"
}

# The low and high end of the ephemeral port range, from the kernel.
read -r EPHEMERAL_LOW EPHEMERAL_HIGH </proc/sys/net/ipv4/ip_local_port_range

# Tests that use the IPv6 loopback ::1: skip where the machine has none (IPv6 disabled, a container
# without it). The probe binding [::1]:0 is the proof that it works.
need_ipv6() {
	"$PROBE" bind ::1 0 >/dev/null 2>&1 ||
		skip "needs the IPv6 loopback address ::1, which this machine does not have (IPv6 disabled?)"
}
