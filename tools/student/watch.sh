#!/usr/bin/env bash
# watch.sh - `make watch`: run make check LAB=NN again each time a file of the lab changes, until Ctrl-C.
#
# Usage: [TREE_DIR=DIR] [FILTER=REGEX] tools/student/watch.sh NN-name
# A change is a new name, modification time or size of a file in the lab's folder (editors' backups,
# name~, do not count); inotifywait wakes it at once where it is installed, else it looks every
# WATCH_POLL seconds (default 1; WATCH_INOTIFY=no looks even where inotifywait is). It stops after
# WATCH_TIME seconds (default 3600), or at Ctrl-C, which stops the check that is running too.
set -u
source "${BASH_SOURCE[0]%/*}/common.sh"
lab=$(lab_arg watch "${1:-}") || exit 2
dir=$tree/$lab
limit=${WATCH_TIME:-3600} poll=${WATCH_POLL:-1}
[[ -d $dir ]] || die "no folder $dir"
[[ $limit =~ ^[0-9]+$ && $poll =~ ^[0-9.]+$ ]] || die "WATCH_TIME must be a number of seconds, WATCH_POLL too"
end=$((SECONDS + limit)) nn=${lab%%-*}

# The lab's files as the kernel sees them (name, modification time to the nanosecond, size).
signature() { find "$dir" -maxdepth 1 -type f ! -name '*~' ! -name '.*' -printf '%f %T@ %s\n' 2>/dev/null | sort; }

if [[ ${WATCH_INOTIFY:-yes} != no ]] && command -v inotifywait >/dev/null; then
	mode=inotifywait
else
	mode="a look every $poll s (install inotify-tools to react at once)"
fi
mkdir -p "$top/build/student"
events=$top/build/student/watch.$$.events
trap 'rm -f "$events"' EXIT
stop_on_ctrl_c $'\nwatch: stopped.'
printf '%sWatching %s/%s (%s); Ctrl-C to stop.%s\n' "$bold" "$show_tree" "$lab" "$mode" "$off"
run=0
while :; do
	run=$((run + 1))
	sig=$(signature)
	[[ -t 1 && $run -gt 1 ]] && printf '\e[H\e[2J'
	printf '%s== run %d, %s: make check LAB=%s%s%s%s\n' "$bold" "$run" "$(date +%H:%M:%S)" "$nn" "$tree_arg" \
		"${FILTER:+ FILTER=$FILTER}" "$off"
	run_child quiet_make check LAB="$lab" TREE="$tree" </dev/null
	printf '%s== waiting for a change in %s/%s (Ctrl-C to stop)%s\n' "$dim" "$show_tree" "$lab" "$off"
	# Wait for the signature to change: through inotifywait (its events only wake us up), or by
	# looking every WATCH_POLL seconds; either way at most until WATCH_TIME is up.
	while ((SECONDS < end)); do
		[[ $(signature) != "$sig" ]] && break
		if [[ $mode == inotifywait ]]; then
			: >"$events"
			inotifywait -t $((end - SECONDS > 1 ? end - SECONDS : 1)) \
				-e close_write,moved_to,create,delete,attrib "$dir" >"$events" 2>&1 </dev/null &
			job=$!
			# The watch is set up once inotifywait has said so; a change before that is caught by
			# the signature check right after.
			for ((i = 0; i < 50; i++)); do
				grep -q 'Watches established' "$events" 2>/dev/null && break
				kill -0 "$job" 2>/dev/null || break
				nap 0.05
			done
			if [[ $(signature) != "$sig" ]]; then
				kill "$job" 2>/dev/null
				wait "$job" 2>/dev/null
				break
			fi
			wait_child "$job"
			nap 0.2 # let the editor finish writing (several events for one save)
		else
			nap "$poll"
		fi
	done
	((SECONDS < end)) || { echo "watch: stopped after $limit s (WATCH_TIME); make watch LAB=$nn to go on"; break; }
done
printf '\nwatch: stopped.\n'
