# spawn.bash - the kit's one way to run a program in the background: start it in a session of its
# own, wait (bounded) for its first line, stop it by process group. No bats in it: sourced by
# tests/lib/socklab.bash (start_bg, stop_bg: with the tests' failure reports around it) and by
# tools/student/trace.sh (the programs of a `make trace` scenario). Needs $PROBE, the kit's probe.
#
#   spawn NAME IN OUT ERR CMD...  start CMD (setsid: its pid leads a process group) with stdin from
#                            IN, stdout to OUT, stderr to ERR, no descriptor above 2, and a file size
#                            limit of SPAWN_FILE_LIMIT blocks if set (ulimit -f); sets NAME_pid
#   spawn_first NAME OUT MS  wait at most MS ms for the first line of OUT: sets NAME_line, and
#                            NAME_port to the port it names ("... port N", or a probe's "listening
#                            ADDR N"; else empty); status 0, 3 if it exited first, 4 if time ran out
#   spawn_stop PID MS        SIGTERM to PID's group, at most MS ms to exit, then SIGKILL to the
#                            group; status 1 if there was nothing to signal
#   spawn_reap PID MS        the same without the SIGTERM: at most MS ms to exit by itself
#   spawn_close_fds          close every descriptor above 2 of this shell (in a subshell that then
#                            runs a program: nothing of ours, such as bats' fd 3, may reach it)

spawn_close_fds() {
	local f fd
	for f in /dev/fd/*; do
		fd=${f##*/}
		((fd > 2)) && { exec {fd}>&-; } 2>/dev/null
	done
	return 0
}

spawn() {
	local name=$1 in=$2 out=$3 err=$4
	shift 4
	# The file exists before the program starts: probe await watches a file that exists.
	[[ -p $out ]] || : >"$out"
	(
		[[ -z ${SPAWN_FILE_LIMIT:-} ]] || ulimit -f "$SPAWN_FILE_LIMIT"
		spawn_close_fds
		exec setsid "$@"
	) <"$in" >"$out" 2>"$err" &
	printf -v "${name}_pid" %s "$!"
}

spawn_first() {
	local name=$1 pidvar=${1}_pid l p= rc=0
	l=$("$PROBE" await "$2" "${!pidvar}" "$3") || rc=$?
	if [[ $rc == 0 && ($l =~ port\ ([0-9]+) || $l =~ \ ([0-9]+)$) ]]; then
		p=${BASH_REMATCH[1]}
	fi
	printf -v "${name}_line" %s "$l"
	printf -v "${name}_port" %s "$p"
	return $rc
}

spawn_reap() {
	"$PROBE" await /dev/null "$1" "$2" >/dev/null
	kill -KILL -- "-$1" 2>/dev/null
	return 0
}

spawn_stop() {
	kill -TERM -- "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null || return 1
	spawn_reap "$1" "$2"
}
