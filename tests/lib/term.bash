# term.bash - run_term, for the labs whose programs report their socket and then wait for SIGTERM
# (03-bind's bind, 04-listen's listen). Loaded after lib/socklab: `load lib/term`.
#
#   run_term [-t S] CMD...   like run_prog, for a call that should fail: the program is sent SIGTERM
#                            as soon as it prints its first line (or at once if it exits first).
#
# These programs block SIGTERM until they wait for it: one that fails after its first line (bind -2:
# the second bind) still fails, exit status 1; one that should have failed but reported a socket
# instead ends at once with status 0, and the test fails on that, not after the whole time limit
# (the untouched starters did so, 3 to 5 s a test). $status, $output, $stderr as run_prog.
run_term() {
	local limit=$SOCKLAB_TIMEOUT out=$BATS_TEST_TMPDIR/.run_term.out err=$BATS_TEST_TMPDIR/.run_term.err pid rc=0 termed=
	if [[ $1 == -t ]]; then
		limit=$2
		shift 2
	fi
	spawn sl_term /dev/null "$out" "$err" "$@"
	pid=$sl_term_pid
	SL_GROUPS+=("$pid")
	# 0: a first line came (SIGTERM); 3: it exited; 4: the time limit passed.
	"$PROBE" await "$out" "$pid" $((limit * 1000)) >/dev/null || rc=$?
	if [[ $rc == 0 ]]; then
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		termed=" (sent SIGTERM once it printed its first line)"
		"$PROBE" await /dev/null "$pid" $((limit * 1000)) >/dev/null || rc=$?
	fi
	status=0
	if [[ $rc == 4 ]]; then
		spawn_stop "$pid" 1000 || true
		wait "$pid" 2>/dev/null
		status=124 # as timeout(1) says it
	else
		wait "$pid" || status=$?
	fi
	sl_slurp output "$out"
	sl_slurp stderr "$err"
	sl_shown "$@"
	printf '$ %s\nexit status %s%s\n' "$SL_SHOWN" "$status" "$termed"
	sl_show_result
	sl_verdict "$limit" "" "$status" "$stderr"
}
