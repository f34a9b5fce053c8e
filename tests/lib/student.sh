#!/usr/bin/env bash
# student.sh - the student's helpers around `make check`.
#
# Usage: tests/lib/student.sh next           the first lab not yet passing: its first failing test,
#                                            expected vs actual, and where to read
#        tests/lib/student.sh hint [NN-name] the lab's hints (docs/NN-name.md, "## Hints"), one at a
#                                            time; ALL=1 for all of them
#        tests/lib/student.sh watch NN-name  re-run `make check LAB=NN` whenever a file of the lab
#                                            changes, until Ctrl-C
#        tests/lib/student.sh reset NN-name  restore the lab's starter, after asking; the student's
#                                            version is kept beside it as FILE.bak-YYYYMMDD-HHMMSS
# Environment: TREE_DIR  the folder of the labs (default labs/; the Makefile's TREE)
#   next   uses the results `make check` keeps in build/check/TREE/ while they are newer than the
#          lab's files and tests; a lab whose results are missing or stale is checked again
#   hint   HINT_LANG=zh|en (default: zh when LC_ALL, LC_MESSAGES or LANG starts with zh); ALL=1;
#          the last hint shown is remembered in build/hints/NN-name (HINT_STATE_DIR: elsewhere)
#   watch  FILTER (passed to make check); WATCH_TIME (stop after this many seconds, default 3600);
#          WATCH_POLL (seconds between two looks where inotifywait is missing, default 1);
#          WATCH_INOTIFY=no (look every WATCH_POLL seconds even where inotifywait is installed)
#   reset  YES=1 restores without asking; otherwise a "y" answer is read from the terminal (or from
#          stdin, which lets a script answer)
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tree=${TREE_DIR:-$top/labs}
tree=${tree%/}
# How the student calls things, for the messages.
show_tree=${tree#"$top"/}
tree_arg=
[[ $tree == "$top/labs" ]] || tree_arg=" TREE=$show_tree"

if [[ -t 1 ]]; then
	red=$'\e[31m' green=$'\e[32m' bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'
else
	red= green= bold= dim= off=
fi

die() { echo "$*" >&2; exit 2; }

# The manifest: lab, points, title. SOCKLAB_MANIFEST and SOCKLAB_TESTS point at another manifest
# and tests folder, as for check.sh (the kit's own tests use them).
manifest_file=${SOCKLAB_MANIFEST:-$top/labs/manifest}
tests_dir=${SOCKLAB_TESTS:-$top/tests}
mapfile -t manifest < <(awk '!/^#/ && NF' "$manifest_file")

# lab_name NN|NN-name -> the manifest's NN-name
lab_name() {
	local row
	for row in "${manifest[@]}"; do
		row=${row%% *}
		[[ $1 == "$row" || $1 == "${row%%-*}" || 0$1 == "${row%%-*}" ]] && { echo "$row"; return 0; }
	done
	die "no lab $1; the labs are: $(printf '%s ' "${manifest[@]%% *}")"
}
lab_title() { local row; for row in "${manifest[@]}"; do [[ ${row%% *} == "$1" ]] && { read -r _ _ row <<<"$row"; echo "$row"; }; done; }

# Where `make check` keeps the results of this tree (tests/lib/check.sh: build/check/TAG, TAG the
# tree's path under the kit with / turned into _).
results_dir() {
	local tag=${tree#"$top"/}
	echo "$top/build/check/${tag//\//_}"
}

# ------------------------------------------------------------------------------------------------
# next
# ------------------------------------------------------------------------------------------------

# fresh LAB: its last results exist and nothing they depend on changed since: the lab's files, its
# tests, the kit's helpers, the shared header.
fresh() {
	local tap=$res/$1.tap newer
	[[ -f $tap && -f $res/$1.result ]] || return 1
	newer=$(find "$tree/$1" "$tests_dir/$1.bats" "$top/tests/lib" "$top/include" -newer "$tap" -type f \
		! -name '*.bak-*' -print -quit 2>/dev/null)
	[[ -z $newer ]]
}

# The report of one failing test in a TAP file: the lines bats printed under "not ok N NAME",
# without bats' own stack lines.
failure_report() { # TAP NAME
	awk -v t="$2" '
		found && /^(not )?ok / { exit }
		found && !/^# *(\(?from function|in test file)/ { sub(/^# ?/, ""); print }
		!found && /^not ok / && substr($0, index($0, " " t) + 1) == t { found = 1 }' "$1"
}

cmd_next() {
	res=$(results_dir)
	local row lab points title passed total earned labs_ok=0 pts= pts_max=0
	for row in "${manifest[@]}"; do
		read -r lab points title <<<"$row"
		pts_max=$((pts_max + points))
	done
	for row in "${manifest[@]}"; do
		read -r lab points title <<<"$row"
		if [[ ! -d $tree/$lab ]]; then
			printf '%sNext: %s%s - %s\n' "$bold" "$lab" "$off" "$title"
			printf '  %s/%s does not exist: this copy of the labs has no such lab yet.\n' "$show_tree" "$lab"
			return 0
		fi
		if ! fresh "$lab"; then
			printf '%schecking %s (make check LAB=%s%s) ...%s\n' "$dim" "$lab" "${lab%%-*}" "$tree_arg" "$off"
			mkdir -p "$top/build/student"
			# A make of its own: not part of the outer make's jobserver; all tests, whatever FILTER says.
			env -u MAKEFLAGS -u MFLAGS -u FILTER make -s --no-print-directory -C "$top" check LAB="$lab" \
				TREE="$tree" >"$top/build/student/next.log" 2>&1 </dev/null
			if [[ ! -f $res/$lab.result || ! -f $res/$lab.tap ]]; then
				echo "could not check $lab; make check said:"
				tail -n 20 "$top/build/student/next.log" | sed 's/^/  /'
				return 1
			fi
		fi
		read -r passed total earned _ <"$res/$lab.result"
		if ((passed == total)); then
			labs_ok=$((labs_ok + 1)) pts+=" $earned"
			continue
		fi
		report_next "$lab" "$title" "$passed" "$total"
		return 0
	done
	# (the points as make check wrote them, 17.14 or 15: their sum, in the same form)
	pts=$(awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }' <<<"$pts")
	printf '%sAll %d labs pass: %s/%d points.%s\n' "$green$bold" "$labs_ok" "$pts" "$pts_max" "$off"
	echo "  Watch the packets of a connection you wrote: make trace LAB=08$tree_arg"
}

report_next() { # LAB TITLE PASSED TOTAL
	local lab=$1 nn=${1%%-*} tap=$res/$1.tap first report line where doc
	printf '%sNext: %s%s - %s\n' "$bold" "$lab" "$off" "$2"
	printf '  %d of %d tests pass (results of %s).\n' "$3" "$4" "$(date -r "$tap" '+%H:%M:%S, %Y-%m-%d')"
	first=$(grep -m1 -E '^not ok [0-9]+ ' "$tap" | sed -E 's/^not ok [0-9]+ //; s/ # (skip|TODO).*//')
	if [[ -z $first ]]; then
		echo "  The tests did not run; bats said:"
		head -n 20 "$res/$lab.err" 2>/dev/null | sed 's/^/    /'
	else
		printf '  first failing test: %s%s%s\n' "$red" "$first" "$off"
		report=$(failure_report "$tap" "$first")
		# The whole report up to 40 lines; where it is longer, the lines that say what was expected
		# and what came are added, so that expected vs actual is always on the screen.
		echo "  what the test did, what it expected, what came:"
		head -n 40 <<<"$report" | sed 's/^/    /'
		if (($(wc -l <<<"$report") > 40)); then
			echo "    ..."
			tail -n +41 <<<"$report" | grep -E '^(expected|actual|got|substring|output|--)|expected|timed out|crashed' |
				head -n 10 | sed 's/^/    /'
		fi
	fi
	# Where to read: the handout's line that names this test, the errno explainer for the errno
	# names the report mentions.
	printf '  read:  '
	for doc in "docs/$lab.md" "docs/zh/$lab.md"; do
		where=$doc
		if [[ -n $first && -f $top/$doc ]]; then
			line=$(grep -nF -- "$first" "$top/$doc" | tail -n 1 | cut -d: -f1)
			[[ -n $line ]] && where=$doc:$line
		fi
		[[ $doc == docs/zh/* ]] && printf '  中文: '
		printf '%s' "$where"
	done
	printf '   ("What the tests check", then the Task section)\n'
	local names=() n
	if [[ -n ${report:-} ]]; then
		for n in $(grep -oE '\bE[A-Z0-9]{3,}\b' <<<"$report" | sort -u); do
			grep -q "^## $n\$" "$top/docs/errno.md" 2>/dev/null && names+=("$n")
		done
		((${#names[@]})) && printf '         docs/errno.md: %s\n' "${names[*]}"
	fi
	printf '  stuck? make hint LAB=%s    again: make check LAB=%s%s    or, while you edit: make watch LAB=%s%s\n' \
		"$nn" "$nn" "$tree_arg" "$nn" "$tree_arg"
}

# ------------------------------------------------------------------------------------------------
# hint
# ------------------------------------------------------------------------------------------------

# The language of the hints: HINT_LANG, else the locale (the first of LC_ALL, LC_MESSAGES, LANG
# that is set, as in POSIX).
hint_lang() {
	local l=${HINT_LANG:-${LC_ALL:-${LC_MESSAGES:-${LANG:-}}}}
	[[ ${l,,} == zh* ]] && echo zh || echo en
}

# The hints of a handout, one record each: "N<TAB>line" for every line of hint N (a hint is a
# "- " bullet under "## Hints" and its indented continuation lines).
hints_of() {
	awk '/^## / { if (inh) exit; inh = ($0 ~ /^## Hints/); next }
		inh && /^- / { n++; sub(/^- /, ""); print n "\t" $0; next }
		inh && n && /^[ \t]+[^ \t]/ { sub(/^[ \t]+/, ""); print n "\t" $0 }' "$1"
}

# The first lab not passing in the last results (no checks run), for `make hint` without LAB.
last_next() {
	local row lab passed total r=$(results_dir)
	for row in "${manifest[@]}"; do
		lab=${row%% *}
		[[ -f $r/$lab.result ]] || { echo "$lab"; return; }
		read -r passed total _ <"$r/$lab.result"
		((passed == total)) || { echo "$lab"; return; }
	done
	echo "${manifest[0]%% *}"
}

cmd_hint() {
	local lab=${1:-} lang doc n k state
	if [[ -z $lab ]]; then
		lab=$(last_next)
		printf '%s(no LAB given: %s, the first lab not passing in your last make check)%s\n' "$dim" "$lab" "$off"
	fi
	lab=$(lab_name "$lab") || exit 2
	lang=$(hint_lang)
	doc=docs/$lab.md
	[[ $lang == zh && -f $top/docs/zh/$lab.md ]] && doc=docs/zh/$lab.md
	[[ -f $top/$doc ]] || die "no handout $doc"
	local hints
	hints=$(hints_of "$top/$doc")
	n=$(tail -n 1 <<<"$hints" | cut -f1)
	[[ -n $hints && -n $n ]] || { echo "$doc has no hints."; return 0; }
	local states=${HINT_STATE_DIR:-$top/build/hints}
	mkdir -p "$states"
	state=$states/$lab
	local nn=${lab%%-*}
	if [[ -n ${ALL:-} && ${ALL:-} != 0 ]]; then
		if [[ $lang == zh ]]; then
			printf '%s%s 的全部提示（%d 条，来自 %s）%s\n' "$bold" "$lab" "$n" "$doc" "$off"
		else
			printf '%sAll %d hints for %s (from %s)%s\n' "$bold" "$n" "$lab" "$doc" "$off"
		fi
		for ((k = 1; k <= n; k++)); do show_hint "$hints" "$k" "$n"; done
		echo "$n" >"$state"
		return 0
	fi
	k=0
	[[ -f $state ]] && read -r k <"$state"
	[[ $k =~ ^[0-9]+$ ]] || k=0
	k=$((k >= n ? 1 : k + 1))
	if [[ $lang == zh ]]; then
		printf '%s%s 的提示 %d/%d（来自 %s）%s\n' "$bold" "$lab" "$k" "$n" "$doc" "$off"
	else
		printf '%sHint %d of %d for %s (from %s)%s\n' "$bold" "$k" "$n" "$lab" "$doc" "$off"
	fi
	show_hint "$hints" "$k" "$n"
	echo "$k" >"$state"
	if ((k < n)); then
		if [[ $lang == zh ]]; then
			printf '%s下一条：make hint LAB=%s    全部：make hint LAB=%s ALL=1%s\n' "$dim" "$nn" "$nn" "$off"
		else
			printf '%sNext hint: make hint LAB=%s    all of them: make hint LAB=%s ALL=1%s\n' "$dim" "$nn" "$nn" "$off"
		fi
	elif [[ $lang == zh ]]; then
		printf '%s这是最后一条提示；再运行 make hint LAB=%s 会从第一条重新开始。%s\n' "$dim" "$nn" "$off"
	else
		printf '%sThat was the last hint; make hint LAB=%s starts again from the first.%s\n' "$dim" "$nn" "$off"
	fi
}

show_hint() { # HINTS K N: hint K, numbered, its continuation lines indented under it
	local num text first=1 label
	while IFS=$'\t' read -r num text; do
		[[ $num == "$2" ]] || continue
		if ((first)); then printf -v label '%*d.' ${#3} "$2"; first=0; else printf -v label '%*s' $((${#3} + 1)) ''; fi
		printf '  %s %s\n' "$label" "$text"
	done <<<"$1"
}

# ------------------------------------------------------------------------------------------------
# watch
# ------------------------------------------------------------------------------------------------

# The lab's files as the kernel sees them (name, modification time to the nanosecond, size):
# a change of any of them starts a new check. Editors' backups (name~) do not count.
signature() { find "$dir" -maxdepth 1 -type f ! -name '*~' ! -name '.*' -printf '%f %T@ %s\n' 2>/dev/null | sort; }

# run_job CMD...: run CMD in a process group of its own (set -m) and wait for it, in a way that
# lets the INT/TERM trap run at once: then the whole group is stopped (bounded), and status 130.
run_job() {
	set -m
	"$@" </dev/null &
	job=$!
	set +m
	while :; do
		wait "$job"
		local rc=$?
		[[ -n $stop ]] && { end_job; return 130; }
		kill -0 "$job" 2>/dev/null || { job=; return $rc; }
	done
}

# job_groups PID: the process groups of PID and of all its descendants, read from /proc. A job's
# processes do not all stay in its group: timeout(1), which check.sh puts around bats, makes a
# group of its own.
job_groups() {
	local f line pid rest ppid pgid i
	local -A kids=() group=()
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		pid=${line%% *} rest=${line##*) }
		read -r _ ppid pgid _ <<<"$rest"
		kids[$ppid]+=" $pid" group[$pid]=$pgid
	done
	local queue=("$1") seen=" "
	for ((i = 0; i < ${#queue[@]}; i++)); do
		pid=${queue[i]}
		[[ -n ${group[$pid]:-} && $seen != *" ${group[$pid]} "* ]] && seen+="${group[$pid]} "
		# shellcheck disable=SC2206 # the children, as words
		queue+=(${kids[$pid]:-})
	done
	echo "$seen"
}

# Stop the running job and everything it started: SIGINT first (what Ctrl-C would have sent: bats
# then ends the test and runs its teardown, which stops the test's servers), then SIGTERM, then
# SIGKILL, each given up to 5 s. Never this script's own group.
end_job() {
	[[ -n ${job:-} ]] || return 0
	local sig i g groups=" $job " alive mine
	read -r mine </proc/$$/stat
	mine=${mine##*) }
	read -r _ _ mine _ <<<"$mine"
	for sig in INT TERM KILL; do
		for g in $(job_groups "$job"); do [[ $groups == *" $g "* ]] || groups+="$g "; done
		for g in $groups; do [[ $g != "$mine" ]] && kill -"$sig" -- "-$g" 2>/dev/null; done
		for ((i = 0; i < 50; i++)); do
			alive=
			for g in $groups; do [[ $g != "$mine" ]] && kill -0 -- "-$g" 2>/dev/null && alive=1 && break; done
			[[ -n $alive ]] || break 2
			sleep 0.1
		done
	done
	wait "$job" 2>/dev/null
	job=
}

cmd_watch() {
	local lab=$1 limit=${WATCH_TIME:-3600} poll=${WATCH_POLL:-1} run=0 sig mode rc events
	dir=$tree/$lab
	[[ -d $dir ]] || die "no folder $dir"
	[[ $limit =~ ^[0-9]+$ && $poll =~ ^[0-9.]+$ ]] || die "WATCH_TIME must be a number of seconds, WATCH_POLL too"
	local end=$((SECONDS + limit)) nn=${lab%%-*}
	stop= job=
	trap 'stop=1' INT TERM HUP
	if [[ ${WATCH_INOTIFY:-yes} != no ]] && command -v inotifywait >/dev/null; then mode=inotifywait; else mode="a look every $poll s (install inotify-tools to react at once)"; fi
	mkdir -p "$top/build/student"
	events=$top/build/student/watch.$$.events
	printf '%sWatching %s/%s (%s); Ctrl-C to stop.%s\n' "$bold" "$show_tree" "$lab" "$mode" "$off"
	while [[ -z $stop ]]; do
		run=$((run + 1))
		sig=$(signature)
		[[ -t 1 && $run -gt 1 ]] && printf '\e[H\e[2J'
		printf '%s== run %d, %s: make check LAB=%s%s%s%s\n' "$bold" "$run" "$(date +%H:%M:%S)" "$nn" "$tree_arg" \
			"${FILTER:+ FILTER=$FILTER}" "$off"
		run_job env -u MAKEFLAGS -u MFLAGS make -s --no-print-directory -C "$top" check LAB="$lab" TREE="$tree"
		[[ -n $stop ]] && break
		printf '%s== waiting for a change in %s/%s (Ctrl-C to stop)%s\n' "$dim" "$show_tree" "$lab" "$off"
		# Wait for the signature to change: through inotifywait (its events only wake us up), or by
		# looking every WATCH_POLL seconds; either way at most until WATCH_TIME is up.
		while [[ -z $stop ]] && ((SECONDS < end)); do
			[[ $(signature) != "$sig" ]] && break
			if [[ $mode == inotifywait ]]; then
				: >"$events"
				set -m
				inotifywait -t $((end - SECONDS > 1 ? end - SECONDS : 1)) \
					-e close_write,moved_to,create,delete,attrib "$dir" >"$events" 2>&1 </dev/null &
				job=$!
				set +m
				# The watch is set up once inotifywait has said so; a change before that is caught by
				# the signature check right after.
				for ((rc = 0; rc < 50; rc++)); do
					grep -q 'Watches established' "$events" 2>/dev/null && break
					kill -0 "$job" 2>/dev/null || break
					sleep 0.05
				done
				if [[ $(signature) != "$sig" ]]; then end_job; break; fi
				while kill -0 "$job" 2>/dev/null && [[ -z $stop ]]; do wait "$job"; done
				[[ -n $stop ]] && { end_job; break; }
				wait "$job" 2>/dev/null
				job=
				sleep 0.2 # let the editor finish writing (several events for one save)
			else
				run_job sleep "$poll"
			fi
		done
		((SECONDS < end)) || { echo "watch: stopped after $limit s (WATCH_TIME); make watch LAB=$nn to go on"; break; }
	done
	end_job
	rm -f "$events"
	trap - INT TERM HUP
	printf '\nwatch: stopped.\n'
	exit 0
}

# ------------------------------------------------------------------------------------------------
# reset
# ------------------------------------------------------------------------------------------------

# The pristine starter of a lab, written into folder $2. The starter is what tests/lib/mkstarter
# makes of the solution, so: (1) generated from solutions/ where the kit has it (an instructor's
# or maintainer's checkout: always exactly what `make starters` writes); (2) otherwise the copy a
# student's kit carries in tests/starters/NN-name/ (`make dist` leaves solutions/ out and ships the
# generated starters there instead). Status 1 if neither is there.
pristine() {
	local lab=$1 to=$2 f
	mkdir -p "$to"
	if compgen -G "$top/solutions/$lab/*.c" >/dev/null; then
		for f in "$top/solutions/$lab"/*.c; do
			awk -f "$top/tests/lib/mkstarter" "$f" >"$to/${f##*/}" || return 1
		done
		from="generated from solutions/$lab by tests/lib/mkstarter"
	elif compgen -G "$top/tests/starters/$lab/*.c" >/dev/null; then
		cp "$top/tests/starters/$lab"/*.c "$to"/
		from="the kit's pristine copy, tests/starters/$lab"
	else
		return 1
	fi
}

cmd_reset() {
	local lab=$1 f name target stamp backup todo=() answer from
	dir=$tree/$lab
	[[ $tree != "$top/solutions" ]] || die "make reset restores starters; TREE=solutions holds the reference solutions"
	local tmp=$top/build/student/reset.$$
	rm -rf "$tmp"
	if ! pristine "$lab" "$tmp"; then
		rm -rf "$tmp"
		die "no pristine starter of $lab here: neither solutions/$lab nor tests/starters/$lab exists"
	fi
	for f in "$tmp"/*.c; do
		name=${f##*/}
		cmp -s "$f" "$dir/$name" || todo+=("$name")
	done
	if ((${#todo[@]} == 0)); then
		echo "$show_tree/$lab is the untouched starter already: nothing to do."
		rm -rf "$tmp"
		return 0
	fi
	stamp=$(date +%Y%m%d-%H%M%S)
	echo "make reset LAB=${lab%%-*} restores the starter of $lab ($from):"
	for name in "${todo[@]}"; do
		if [[ -f $dir/$name ]]; then
			printf '  %s/%s/%s  (yours is kept as %s.bak-%s)\n' "$show_tree" "$lab" "$name" "$name" "$stamp"
		else
			printf '  %s/%s/%s  (missing: written anew)\n' "$show_tree" "$lab" "$name"
		fi
	done
	if [[ ${YES:-} != 1 && ${YES:-} != y && ${YES:-} != yes ]]; then
		answer=
		if [[ -t 0 ]]; then
			read -r -p "Restore? [y/N] " answer || answer=
		else
			# No terminal: an answer on stdin counts (echo y | ...), nothing means no.
			read -r answer || answer=
			echo "Restore? [y/N] ${answer:-(no answer on stdin)}"
		fi
		if [[ ${answer,,} != y && ${answer,,} != yes ]]; then
			echo "Nothing changed. (make reset LAB=${lab%%-*} YES=1 restores without asking.)"
			rm -rf "$tmp"
			return 1
		fi
	fi
	mkdir -p "$dir"
	for name in "${todo[@]}"; do
		target=$dir/$name
		if [[ -f $target ]]; then
			backup=$target.bak-$stamp
			[[ -e $backup ]] && backup=$target.bak-$stamp-$$
			cp -p "$target" "$backup" || die "could not keep your version as $backup: nothing restored"
		fi
		cp "$tmp/$name" "$target" || die "could not write $target"
	done
	rm -rf "$tmp"
	echo "Done: $show_tree/$lab is the starter again. Your version: $show_tree/$lab/*.bak-$stamp"
}

case ${1:-} in
next) cmd_next ;;
hint) cmd_hint "${2:-}" ;;
watch | reset)
	[[ -n ${2:-} ]] || die "make $1 needs LAB=NN, e.g. make $1 LAB=03"
	lab=$(lab_name "$2") || exit 2
	"cmd_$1" "$lab" ;;
*) die "usage: tests/lib/student.sh next | hint [LAB] | watch LAB | reset LAB" ;;
esac
