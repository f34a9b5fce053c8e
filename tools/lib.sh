# lib.sh - what the kit's shell tools share; every tool sources it (`. "${BASH_SOURCE[0]%/*}/lib.sh"`).
#
# Usage: source tools/lib.sh   (from any folder: it finds the kit from its own place)
# It sets top (the kit's folder), manifest_file and tests_dir (SOCKLAB_MANIFEST and SOCKLAB_TESTS, for
# the kit's own tests, else labs/manifest and tests/), the manifest (manifest_labs in order,
# manifest_points[LAB], manifest_title[LAB]) and the colours of a terminal (red green bold dim off);
# and gives lab_name (3, 03 or 03-bind -> 03-bind), tree_tag and results_dir (where make check keeps a
# tree's results), quiet_make, since, exact_filter, first_failure and failure_report (a failing test's
# report in a TAP file), marked (the processes of a run), and the one way to stop a run on Ctrl-C:
# stop_on_ctrl_c, run_child, wait_child, stop_tree, nap.
# It defines nothing else and runs nothing but the manifest's reading; sourcing it twice is harmless,
# and it works under set -e.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
manifest_file=${SOCKLAB_MANIFEST:-$top/labs/manifest}
tests_dir=${SOCKLAB_TESTS:-$top/tests}

# The manifest: one lab a line, "NN-name POINTS TITLE"; # starts a comment line. (The Makefile reads
# the names for itself: make cannot source this.)
manifest_labs=()
declare -gA manifest_points=() manifest_title=()
if [[ -r $manifest_file ]]; then
	while read -r _lab _points _title; do
		[[ -n $_lab && $_lab != \#* ]] || continue
		manifest_labs+=("$_lab")
		manifest_points[$_lab]=$_points
		manifest_title[$_lab]=$_title
	done <"$manifest_file"
	unset _lab _points _title
fi

if [[ -t 1 ]]; then
	red=$'\e[31m' green=$'\e[32m' bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'
else
	red='' green='' bold='' dim='' off=''
fi

# lab_name NN|N|NN-name: the manifest's full name of the lab; else, on stderr, the same message as the
# Makefile's LAB= check, and status 2.
lab_name() {
	local l
	for l in "${manifest_labs[@]}"; do
		if [[ $1 == "$l" || $1 == "${l%%-*}" || 0$1 == "${l%%-*}" ]]; then
			echo "$l"
			return 0
		fi
	done
	echo "LAB=$1: no such lab; the labs are: ${manifest_labs[*]}" >&2
	return 2
}

# tree_tag TREE: the tree's name in build/ (its path under the kit, or its absolute path, with every /
# turned into _): make check keeps its results in build/check/TAG, make grade in build/grade/TAG.
tree_tag() {
	local t=${1%/}
	t=${t#"$top"/}
	echo "${t//\//_}"
}
results_dir() { echo "$top/build/check/$(tree_tag "$1")"; }

# quiet_make ARGS...: make in the kit, silent, and a make of its own: not a part of an outer make's
# jobserver (MAKEFLAGS), which a tool run from a recipe would otherwise join.
quiet_make() { env -u MAKEFLAGS -u MFLAGS make -s --no-print-directory -C "$top" "$@"; }

# since T0 [DIGITS]: the seconds since T0 (an $EPOCHREALTIME), with DIGITS decimals (default 1).
since() {
	local us=$((${EPOCHREALTIME//[!0-9]/} - ${1//[!0-9]/})) d=${2:-1}
	local scale=$((10 ** (6 - d)))
	us=$(((us + scale / 2) / scale))
	printf '%d.%0*d\n' $((us / 10 ** d)) "$d" $((us % 10 ** d))
}

# exact_filter NAME: the bats --filter that runs the test named NAME and no other.
exact_filter() { printf '^%s$\n' "$(sed 's/[][\.^$|?*+(){}]/\\&/g' <<<"$1")"; }

# first_failure TAP: the name of the first test that failed in a TAP file (nothing if none did).
first_failure() {
	sed -nE '/^not ok [0-9]+ /{ s/^not ok [0-9]+ //; s/ # (skip|TODO).*//; p; q; }' "$1" 2>/dev/null
}

# failure_report TAP NAME: what bats printed under the failed test NAME (the commands, what was
# expected, what came), without bats' own stack lines and without the "# " of TAP.
failure_report() {
	awk -v t="$2" '
		found && /^(not )?ok / { exit }
		found && !/^# *(\(?from function|in test file|`.*'"'"' failed$)/ { sub(/^# ?/, ""); print }
		!found && /^not ok [0-9]+ / { s = $0; sub(/^not ok [0-9]+ /, "", s); sub(/ # (skip|TODO).*/, "", s); found = (s == t) }' "$1"
}

# marked VAR=VALUE: the pids of the processes (but this shell) with VAR=VALUE in their environment,
# one a line: a run marks every process it starts so (make test, a batch without a sandbox). Builtins
# only: a grep per process took seconds on a busy machine.
marked() {
	local p env IFS=$'\n'
	for p in /proc/[0-9]*; do
		[[ ${p#/proc/} != "$$" ]] || continue
		mapfile -td '' env 2>/dev/null <"$p/environ" || continue
		[[ $'\n'"${env[*]}"$'\n' != *$'\n'"$1"$'\n'* ]] || echo "${p#/proc/}"
	done
}

# ------------------------------------------------------------------------------------------------
# Ctrl-C. A tool that runs children says `stop_on_ctrl_c MESSAGE` once; from then on Ctrl-C (SIGINT;
# SIGTERM and SIGHUP alike) prints MESSAGE on stderr, stops every process the tool started and every
# process those started (stop_tree), and exits 130; an EXIT trap does the tool's tidying. bash runs
# a trap only between two commands, so a tool waits for a long child with run_child (or `wait`),
# which Ctrl-C interrupts at once.

# nap SECS: a pause without a process and without spinning (a read that times out).
nap() {
	[[ -n ${lib_nap_fd:-} ]] || exec {lib_nap_fd}<> <(:)
	read -rt "$1" -u "$lib_nap_fd" _ || true
}

# run_child CMD...: CMD as a command in the foreground (this shell's stdin), but waited for so that
# Ctrl-C is handled at once; its exit status. It runs in a process group of its own (set -m): a
# background command of a script would ignore SIGINT for good, and stop_tree could not stop it gently.
run_child() {
	set -m
	(
		# (none of this library's descriptors: a lab program prints the ones it gets)
		[[ -z ${lib_stderr:-} ]] || exec {lib_stderr}>&-
		[[ -z ${lib_nap_fd:-} ]] || exec {lib_nap_fd}<&-
		"$@"
	) <&0 &
	set +m
	wait_child $!
}
# wait_child PID: wait for a child started in the background; its exit status.
wait_child() {
	local rc
	while :; do
		rc=0
		wait "$1" || rc=$?
		kill -0 "$1" 2>/dev/null || return "$rc"
	done
}

# lib_tree: every process below this shell that lib_targets lacks, added to it and put in lib_new:
# "-PGID" for one in a process group of its own (timeout, setsid and set -m make such groups: all of
# the group is stopped, whatever it started since), the pid for one in this shell's group; and every
# process seen, in lib_seen. Builtins only, and only this shell's descendants are read
# (/proc/PID/task/*/children): a process per entry, or a look at every process of a busy machine,
# would cost seconds.
lib_tree() {
	local queue=("$$") i pid line pgid mine kids f t
	lib_new=" "
	read -r line </proc/$$/stat
	line=${line##*) }
	read -r _ _ mine _ <<<"$line"
	for ((i = 0; i < ${#queue[@]}; i++)); do
		pid=${queue[i]}
		if ((i > 0)); then
			read -r line 2>/dev/null </proc/"$pid"/stat || continue
			line=${line##*) }
			read -r _ _ pgid _ <<<"$line"
			if [[ $pgid == "$mine" ]]; then t=$pid; else t=-$pgid; fi
			[[ $lib_targets == *" $t "* ]] || lib_targets+="$t " lib_new+="$t "
			[[ $lib_seen == *" $pid "* ]] || lib_seen+="$pid "
		fi
		for f in /proc/"$pid"/task/*/children; do
			kids=
			read -r kids 2>/dev/null <"$f" || true
			# shellcheck disable=SC2206 # the children, as words
			queue+=($kids)
		done
	done
}

# lib_signal ROUND TARGETS: the signal of that round to each target: first SIGINT to a group of its
# own (what Ctrl-C would have sent it) and SIGTERM to a process of this shell's group (a subshell or
# xargs of the tool: it may ignore SIGINT), then SIGTERM, then SIGKILL.
lib_signal() {
	local t sig
	for t in $2; do
		case $1 in
		1) [[ $t == -* ]] && sig=INT || sig=TERM ;;
		2) sig=TERM ;;
		*) sig=KILL ;;
		esac
		kill -"$sig" -- "$t" 2>/dev/null || true
	done
}

# lib_alive [INT]: a process seen is still running (not a zombie: a trap does not reap its shell's
# children); with INT, only one that does not ignore SIGINT counts (a server a script started in the
# background ignores it: no use waiting for it to act on it).
lib_alive() {
	local pid line f
	for pid in $lib_seen; do
		read -r line 2>/dev/null </proc/"$pid"/stat || continue
		line=${line##*) }
		[[ $line != Z* ]] || continue
		[[ -n ${1:-} ]] || return 0
		# field 33 of stat, the ignored signals; SIGINT is bit 1
		read -ra f <<<"$line"
		((${f[30]:-0} & 2)) || return 0
	done
	return 1
}

# stop_tree: stop every process below this shell, in three rounds (lib_signal), each given up to 10,
# 5 and 5 s; on SIGINT bats ends its test and runs its teardown, which stops the test's servers. What
# starts meanwhile is found each second and gets the round's signal. Never this shell's own group,
# nor anything above this shell.
stop_tree() {
	local round i
	lib_targets=" " lib_seen=" "
	for round in 1 2 3; do
		lib_tree
		lib_signal "$round" "$lib_targets"
		for ((i = 1; i <= (round == 1 ? 100 : 50); i++)); do
			if ((round == 1)); then lib_alive INT || break; else lib_alive || return 0; fi
			nap 0.1
			if ((i % 10 == 0)); then
				lib_tree
				lib_signal "$round" "$lib_new"
			fi
		done
	done
}

# stop_on_ctrl_c MESSAGE: from now on, Ctrl-C stops the run (above).
# (The message goes to the stderr of that moment: the trap may run inside a command whose output is
# redirected to a log.)
stop_on_ctrl_c() {
	lib_ctrl_c_message=$1
	[[ -n ${lib_stderr:-} ]] || exec {lib_stderr}>&2
	trap lib_ctrl_c INT TERM HUP
}
lib_ctrl_c() {
	trap '' INT TERM HUP
	[[ -z $lib_ctrl_c_message ]] || echo "$lib_ctrl_c_message" >&"$lib_stderr"
	stop_tree
	exit 130
}
