#!/usr/bin/env bash
# grade.sh - grade a folder of submissions (`make grade SUBMISSIONS=dir`), each in a sandbox of its
# own, GRADE_JOBS (2) at a time.
#
# Usage: REPORT_DIR=DIR tests/lib/grade.sh SUBMISSIONS [NN-name]
# Each subfolder of SUBMISSIONS is one student: a copy of labs/ (NN-name folders), or a whole
# checkout with labs/ inside. Writes DIR/STUDENT/{summary.txt,junit.xml,results.json} (as make grade)
# and DIR/grades.csv: student, the points of each lab, total, note (why a submission lost points
# without failing tests: its time ran out). Exit status 0 when every submission was graded, whatever
# the points; 2 for a usage error or a broken kit.
#
# The sandbox of one submission:
#  - a temporary folder of its own, build/grade/jail/STUDENT.XXXXXX: a copy of the kit's grading
#    parts (Makefile, include/, tests/, the manifest, the probe and the report writer; node_modules
#    linked) and of the submission's lab folders of the manifest, nothing else (its own tests,
#    Makefile or build/ are never used). Deleted afterwards.
#  - namespaces of its own: network (only lo, brought up: nothing can leave and its ports, sockets
#    and `ss` are its own, so two submissions never see each other), PID (when its time is up the
#    whole tree dies at once, however much it forked or setsid'd), mount (a private /tmp), and user:
#      as root: a user namespace whose root and 65535 more uids are an unused range outside
#        (GRADE_UID_BASE, default 3000000000, + 65536 per submission). Inside, the tests run as root,
#        exactly as in a normal run as root (setpriv to nobody works, raw sockets, ports below 1024);
#        outside it is an ordinary user: RLIMIT_NPROC binds it (it does not bind real root), the
#        kit's files are read-only to it, it cannot signal anything outside.
#      as an ordinary user: `unshare -r` is root only to bring lo up and mount /tmp, then a second
#        user namespace maps the user's own uid back: the tests run as in a normal run as that user
#        (as nobody-tests and the bind-below-1024 test behave the same way).
#    Where user namespaces are not allowed (some Ubuntu setups), a plain user gets no namespace, and
#    root gets the network, PID and mount namespaces without a user namespace (RLIMIT_NPROC cannot
#    bind root there); the output says so. The limits below hold in every case.
#  - limits: GRADE_TIME_LIMIT s of wall clock for the whole submission (150 per lab graded),
#    GRADE_CPU_LIMIT s of CPU per process (60), GRADE_NPROC processes (256), GRADE_FSIZE bytes per
#    file (64 MiB: a flood of output ends there), GRADE_MEMORY bytes of address space per process (256 MiB: the
#    compiler needs far less, and a test capturing a flood of output dies in seconds instead of
#    spending minutes on it; none with SAN=1, sanitizers reserve terabytes), GRADE_OUTPUT_CAP
#    bytes kept of the run's own output (1 MiB; the whole output goes to DIR/STUDENT/log.txt).
# A submission that runs out of time keeps the points of the tests that finished; the others score
# 0, with the reason in its reports. A lab of the manifest that a submission lacks scores 0.
# GRADE_SANDBOX=none grades without namespaces (for machines where they misbehave).
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
subs=${1:?usage: REPORT_DIR=DIR tests/lib/grade.sh SUBMISSIONS [NN-name]}
only=${2:-}
report=${REPORT_DIR:-$top/build/report}
manifest_file=${SOCKLAB_MANIFEST:-$top/labs/manifest}
tests_dir=${SOCKLAB_TESTS:-$top/tests}
jobs=${GRADE_JOBS:-2}
time_limit=${GRADE_TIME_LIMIT:-}
cpu_limit=${GRADE_CPU_LIMIT:-60}
nproc_limit=${GRADE_NPROC:-256}
fsize_limit=${GRADE_FSIZE:-$((64 << 20))}
mem_limit=${GRADE_MEMORY:-$((256 << 20))}
output_cap=${GRADE_OUTPUT_CAP:-$((1 << 20))}
uid_base=${GRADE_UID_BASE:-3000000000}
jails=$top/build/grade/jail

[[ -d $subs ]] || { echo "grade.sh: no folder $subs" >&2; exit 2; }
mapfile -t labs < <(awk '!/^#/ && NF { print $1 }' "$manifest_file")
if [[ -n $only && " ${labs[*]} " != *" $only "* ]]; then
	echo "grade.sh: no lab $only in $manifest_file" >&2
	exit 2
fi
[[ -n $only ]] && labs=("$only")
# 150 s a lab: a full run of the solutions takes a few seconds to half a minute a lab, two
# submissions at a time on a busy machine several times that; a hanging one ends where its tests'
# own time limits end it, this is the backstop.
time_limit=${time_limit:-$((150 * ${#labs[@]}))}
# The kit's own tools, built once here, then copied into every sandbox.
env -u MAKEFLAGS -u MFLAGS make -s --no-print-directory -C "$top" probe reporter ||
	{ echo "grade.sh: cannot build the probe and the report writer" >&2; exit 2; }
ip=$(PATH=$PATH:/usr/sbin:/sbin command -v ip) || ip=
[[ -n ${SAN:-} ]] && mem_limit=
# A limit can only be lowered without privileges: where this process already has a lower hard
# limit (a caller's ulimit), keep that one. below HARD UNIT VALUE: the smaller, in VALUE's unit.
below() {
	[[ $1 == unlimited ]] || (($1 * $2 >= $3)) && echo "$3" || echo $(($1 * $2))
}
cpu_limit=$(below "$(ulimit -Ht)" 1 "$cpu_limit")
nproc_limit=$(below "$(ulimit -Hu)" 1 "$nproc_limit")
fsize_limit=$(below "$(ulimit -Hf)" 1024 "$fsize_limit")
[[ -z $mem_limit ]] || mem_limit=$(below "$(ulimit -Hv)" 1024 "$mem_limit")

# Which sandbox this machine allows.
sandbox=none
if [[ ${GRADE_SANDBOX:-auto} != none && -n $ip ]]; then
	if ((EUID == 0)); then
		if unshare --user true 2>/dev/null && command -v nsenter >/dev/null; then
			sandbox=userns-root
		elif unshare --net --pid --fork --mount-proc true 2>/dev/null; then
			sandbox=netns-root
		fi
	elif unshare -r --net --pid --fork --kill-child --mount-proc sh -c \
		'unshare --map-user="$0" --map-group="$1" true' "$(id -u)" "$(id -g)" 2>/dev/null; then
		sandbox=userns-user
	fi
fi

# kill_marked VAR=VALUE: SIGKILL every process with that in its environment (every process of a
# sandbox has SOCKLAB_JAIL=its folder and SOCKLAB_BATCH=this batch).
kill_marked() {
	local p
	for p in /proc/[0-9]*; do
		grep -qzx -- "$1" "$p/environ" 2>/dev/null && kill -KILL "${p#/proc/}" 2>/dev/null
	done
	return 0
}

# jail DIR N CMD...: run CMD (a command of the kit copy in DIR) in the sandbox of submission N,
# within the time limit; its output goes to DIR/log.
jail() {
	local dir=$1 n=$2 rc
	shift 2
	# What runs inside, after the namespaces exist: loopback up, a private /tmp, the limits.
	local inner=(prlimit --cpu="$cpu_limit" --fsize="$fsize_limit" --nproc="$nproc_limit"
		${mem_limit:+--as="$mem_limit"} --core=0 --
		env -i PATH="$PATH:/usr/sbin:/sbin" HOME="$dir/home" LANG="${LANG:-C.UTF-8}" TERM=dumb
		${CC:+CC="$CC"} ${SAN:+SAN="$SAN"} SOCKLAB_BATCH="$batch" SOCKLAB_JAIL="$dir" "$@")
	# (No private /tmp when the kit itself lies in /tmp: it would hide the sandbox's folder.)
	local setup='"$0" link set lo up && case $1 in /tmp/*) ;; *) mount -t tmpfs -o size=256m,mode=1777 socklab-tmp /tmp ;; esac &&
		cd "$1" && shift'
	case $sandbox in
	userns-root)
		# A process holds the user namespace while its uid and gid maps are written (as root,
		# outside), then the grading enters it as uid 0, which outside is the range's first uid.
		local uid=$((uid_base + 65536 * (n % 4096))) i me
		# -h: symbolic links themselves (node_modules), never what they point to.
		chown -R -h "$uid:$uid" "$dir"
		me=$(readlink /proc/self/ns/user)
		# The holder waits (bounded) to be killed once the grading is over.
		unshare --user sleep $((time_limit + 60)) &
		holder=$!
		for ((i = 0; i < 500; i++)); do
			[[ $(readlink "/proc/$holder/ns/user" 2>/dev/null) != "$me" ]] && break
			sleep 0.01
		done
		if printf '0 %d 65536\n' "$uid" >"/proc/$holder/uid_map" &&
			printf '0 %d 65536\n' "$uid" >"/proc/$holder/gid_map"; then
			{ timeout -s KILL "$time_limit" nsenter --target "$holder" --user --setuid 0 --setgid 0 -- \
				unshare --net --pid --fork --kill-child --mount-proc -- \
				sh -c "$setup"' && exec "$@"' "$ip" "$dir" "${inner[@]}" >"$dir/log" 2>&1 </dev/null; } 2>/dev/null
			rc=$?
		else
			echo "grade.sh: cannot map the uids of the sandbox" >"$dir/log"
			rc=2
		fi
		kill -KILL "$holder" 2>/dev/null
		wait "$holder" 2>/dev/null
		;;
	userns-user)
		{ timeout -s KILL "$time_limit" unshare -r --net --pid --fork --kill-child --mount-proc -- \
			sh -c "$setup"' && u=$1 g=$2 && shift 2 && exec unshare --map-user="$u" --map-group="$g" -- "$@"' "$ip" "$dir" \
			"$(id -u)" "$(id -g)" "${inner[@]}" >"$dir/log" 2>&1 </dev/null; } 2>/dev/null
		rc=$?
		;;
	netns-root)
		{ timeout -s KILL "$time_limit" unshare --net --pid --mount --fork --kill-child --mount-proc -- \
			sh -c "$setup"' && exec "$@"' "$ip" "$dir" "${inner[@]}" >"$dir/log" 2>&1 </dev/null; } 2>/dev/null
		rc=$?
		;;
	none)
		{ (cd "$dir" && exec timeout -s KILL "$time_limit" "${inner[@]}") >"$dir/log" 2>&1 </dev/null; } 2>/dev/null
		rc=$?
		;;
	esac
	# Whatever escaped a sandbox without a PID namespace: every process still carrying its mark.
	kill_marked "SOCKLAB_JAIL=$dir"
	# The run's own output, capped (a flood that reached it stops here).
	if [[ -f $dir/log && ! -L $dir/log ]] && (($(stat -c %s "$dir/log") > output_cap)); then
		head -c "$output_cap" "$dir/log" >"$dir/log.cut" && mv -f "$dir/log.cut" "$dir/log"
		printf '\n... (cut at %d bytes)\n' "$output_cap" >>"$dir/log"
	fi
	return "$rc"
}

# grade_one N STUDENT: grade one submission into $report/STUDENT; print one line for the batch.
grade_one() {
	local n=$1 name=$2 src=$subs/$2 dir tree lab note= rc t0=$SECONDS f
	[[ -d $src/labs ]] && src=$src/labs
	mkdir -p "$jails"
	dir=$(mktemp -d "$jails/${name//[^A-Za-z0-9._-]/_}.XXXXXX") || return 1
	tree=$dir/tree
	trap 'kill -KILL ${holder:-} 2>/dev/null; rm -rf "$dir"; exit 130' INT TERM
	# The kit's grading parts; the probe and the report writer keep their times (so nothing rebuilds).
	mkdir -p "$dir/kit/labs" "$dir/kit/build/probe" "$dir/kit/build/tools" "$tree" "$dir/report" "$dir/home"
	cp -Rp "$top/Makefile" "$top/include" "$dir/kit/"
	mkdir -p "$dir/kit/tests"
	cp -Rp "$top/tests/lib" "$dir/kit/tests/"
	cp -p "$tests_dir"/*.bats "$dir/kit/tests/" 2>/dev/null
	cp -p "$manifest_file" "$dir/kit/labs/manifest"
	for f in package.json package-lock.json; do [[ -f $top/$f ]] && cp -p "$top/$f" "$dir/kit/"; done
	[[ -d $top/node_modules ]] && ln -s "$top/node_modules" "$dir/kit/node_modules"
	cp -p "$top/build/probe/probe" "$dir/kit/build/probe/"
	cp -p "$top/build/tools/report" "$dir/kit/build/tools/"
	# The submission's lab folders: their regular files only (no links to follow as the grader, no
	# device files), each below 10 MiB.
	for lab in "${labs[@]}"; do
		[[ -d $src/$lab && ! -L $src/$lab ]] || continue
		(cd "$src" && find "$lab" -type f -size -10M -print0 | xargs -0r cp --parents -t "$tree")
	done
	local cmd=(kit/tests/lib/check.sh --report "$dir/report" ${only:+"$only"})
	jail "$dir" "$n" env TREE_DIR="$tree" "${cmd[@]}"
	rc=$?
	mv -f "$dir/log" "$dir/run.log"
	if [[ $rc == 137 || $rc == 124 ]]; then
		note="the time limit of $time_limit s ran out; the tests that had not finished score 0"
	fi
	if [[ ! -f $dir/report/results.json || -n $note ]]; then
		# No reports (time ran out, or the run was killed): make them from what the run left.
		[[ -n $note ]] || note="the grading stopped (exit status $rc) before it wrote its reports"
		rm -f "$dir/report/results.json"
		local save=$time_limit
		time_limit=60
		jail "$dir" "$n" env TREE_DIR="$tree" SOCKLAB_GRADE_NOTE="$note" "${cmd[@]:0:3}" --no-run \
			${only:+"$only"} >/dev/null 2>&1
		time_limit=$save
	fi
	mkdir -p "$report/$name"
	for f in summary.txt junit.xml results.json; do
		if [[ -f $dir/report/$f && ! -L $dir/report/$f ]]; then
			cp "$dir/report/$f" "$report/$name/$f"
		else
			rm -f "$report/$name/$f"
		fi
	done
	cp "$dir/run.log" "$report/$name/log.txt" 2>/dev/null
	# The points: from results.json's own summary line in summary.txt, per lab and the total.
	{
		printf '%s' "$name"
		for lab in "${labs[@]}"; do
			printf '\x1f%s' "$(awk -v l="$lab" '$1 == l { split($2, p, "/"); print p[1]; exit }' \
				"$report/$name/summary.txt" 2>/dev/null)"
		done
		printf '\x1f%s\x1f%s\n' "$(awk '$1 == "total" { split($2, p, "/"); print p[1] }' \
			"$report/$name/summary.txt" 2>/dev/null)" "$note"
	} >"$report/.rows/$n"
	rm -rf "$dir"
	printf '  %-24s %s  (%d s)%s\n' "$name" "$(grep -m1 '^total' "$report/$name/summary.txt" 2>/dev/null ||
		echo 'no report')" $((SECONDS - t0)) "${note:+  - $note}"
}

mapfile -t students < <(cd "$subs" && for d in *; do [[ -d $d && ! -L $d ]] && echo "$d"; done | LC_ALL=C sort)
((${#students[@]})) || { echo "grade.sh: no submission folders in $subs" >&2; exit 2; }
mkdir -p "$report" "$jails"
rm -rf "$report/.rows" && mkdir -p "$report/.rows"
# Sandbox folders a killed batch left behind, a day old or more (a running batch's are younger).
find "$jails" -mindepth 1 -maxdepth 1 -mmin +1440 -exec rm -rf {} + 2>/dev/null
# Interrupted (Ctrl-C, a kill): every process of the batch's sandboxes dies (a PID namespace goes
# with its first process), then the submissions' own shells remove their folders.
batch=$$.$EPOCHSECONDS holder= shells=()
trap 'trap - INT TERM; kill -TERM "${shells[@]}" 2>/dev/null; kill_marked "SOCKLAB_BATCH=$batch"; wait; exit 130' INT TERM
case $sandbox in
userns-root) box="user, network, PID and mount namespaces; root inside, uids $uid_base+ outside" ;;
userns-user) box="user, network, PID and mount namespaces; your own uid inside" ;;
netns-root) box="network, PID and mount namespaces (no user namespace here: process count not bounded)" ;;
none) box="NO namespaces (not allowed here, or GRADE_SANDBOX=none): network and processes not isolated" ;;
esac
printf 'Grading %d submission(s) in %s, %d at a time\n  sandbox: %s\n' "${#students[@]}" "${subs/#"$top"\//}" \
	"$jobs" "$box"
printf '  limits: %d s per submission, %d s CPU per process, %d processes, files up to %d bytes%s\n' \
	"$time_limit" "$cpu_limit" "$nproc_limit" "$fsize_limit" "${mem_limit:+, $mem_limit bytes of memory per process}"

running=0
for ((i = 0; i < ${#students[@]}; i++)); do
	if ((running >= jobs)); then
		wait -n
		running=$((running - 1))
	fi
	grade_one "$i" "${students[i]}" &
	shells+=($!)
	running=$((running + 1))
done
wait

# grades.csv: one row per student, in name order (RFC 4180 quoting, newline-ended lines).
csv() {
	local f out= sep=
	for f in "$@"; do
		[[ $f == *[\",$'\n\r']* ]] && f="\"${f//\"/\"\"}\""
		out+=$sep$f sep=,
	done
	printf '%s\n' "$out"
}
{
	csv student "${labs[@]}" total note
	for ((i = 0; i < ${#students[@]}; i++)); do
		IFS=$'\x1f' read -r -a row <"$report/.rows/$i" 2>/dev/null || row=("${students[i]}")
		while ((${#row[@]} < ${#labs[@]} + 3)); do row+=(""); done # read drops empty fields at the end
		csv "${row[@]}"
	done
} >"$report/grades.csv"
rm -rf "$report/.rows"
printf 'Grades: %s (reports per student in %s/STUDENT/)\n' "${report/#"$top"\//}/grades.csv" "${report/#"$top"\//}"
