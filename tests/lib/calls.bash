# calls.bash - "the call was made" and "its failure is handled", checked with strace. A lab's bats
# file loads it after lib/socklab (`load lib/calls`).
#
#   traced CALLS [-t S] CMD...   run_prog [-t S] CMD... under `strace -f -qq -e trace=CALLS`; the trace goes to
#                                $trace (empty where strace is missing or may not trace: then only what
#                                the program printed can be checked, and assert_traced says so)
#   assert_traced CALL ENAME     the trace shows CALL(...) = -1 ENAME: the program really made the call
#                                and the kernel refused it (a program that prints the error without
#                                making the call fails)
#   need_strace                  skip the test, with the reason, where strace is missing or may not trace
#   injected CALL[:N] ENAME CMD...  run_prog CMD... with the first (or the N-th) CALL made to fail with
#                                ENAME by strace (-e inject): no kernel state is needed to see that the
#                                failure is handled; then assert_errno CALL ENAME
#   start_injected NAME CALL[:N] ENAME CMD...   the same for a background program (start_bg NAME)

# ASAN_OPTIONS with LeakSanitizer off: it cannot run under ptrace (the sanitizer builds, SAN=1).
sl_no_lsan() { echo "${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; }

# strace_ok: strace is installed and may trace a child here (ptrace allowed).
strace_ok() {
	command -v strace >/dev/null && strace -qq -o /dev/null true 2>/dev/null
}

need_strace() {
	command -v strace >/dev/null || skip "needs strace (Debian/Ubuntu: apt install strace) to see the system calls"
	strace_ok || skip "strace cannot trace here (ptrace not allowed)"
}

traced() {
	local calls=$1 t=()
	shift
	if [[ $1 == -t ]]; then
		t=(-t "$2")
		shift 2
	fi
	trace=$BATS_TEST_TMPDIR/strace.out
	: >"$trace"
	if strace_ok; then
		run_prog "${t[@]}" env ASAN_OPTIONS="$(sl_no_lsan)" strace -f -qq -o "$trace" -e trace="$calls" "$@"
		echo "strace -e trace=$calls:"
		sl_indent "$(cat "$trace")"
	else
		trace=
		run_prog "${t[@]}" "$@"
	fi
}

assert_traced() {
	if [[ -z ${trace:-} ]]; then
		echo "note: no strace here: only the printed error could be checked, not the call"
		return 0
	fi
	grep -qE "^([0-9]+ +)?$1\(.*\) += -1 $2 \(" "$trace" ||
		fail "strace shows no $1(...) = -1 $2: the program must make the call and report the kernel's answer"
}

injected() {
	local call=${1%%:*} when=${1#*:} name=$2
	[[ $1 == *:* ]] || when=1
	shift 2
	need_strace
	run_prog env ASAN_OPTIONS="$(sl_no_lsan)" strace -f -qq -o /dev/null -e trace="$call" \
		-e inject="$call:error=$name:when=$when" "$@"
	assert_errno "$call" "$name"
}

start_injected() {
	local bg=$1 call=${2%%:*} when=${2#*:} name=$3
	[[ $2 == *:* ]] || when=1
	shift 3
	need_strace
	start_bg "$bg" env ASAN_OPTIONS="$(sl_no_lsan)" strace -f -qq -o /dev/null -e trace="$call" \
		-e inject="$call:error=$name:when=$when" "$@"
}
