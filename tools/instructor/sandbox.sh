#!/usr/bin/env bash
# sandbox.sh - run one submission's grading where it can see nothing but what grading needs
# (tools/instructor/grade.sh runs each submission through this).
#
# Usage: SB_KIT=DIR SB_SUB=DIR SB_OUT=DIR SB_N=N [SB_LIMITS="prlimit options"] tools/instructor/sandbox.sh CMD...
#        tools/instructor/sandbox.sh --mode     which sandbox this machine allows: "full", "partial: WHAT
#                                               IS MISSING" or "none: WHY"
# CMD runs in /kit (SB_KIT, the staged grading parts, read-only) as root of a user namespace, with the
# submission at /sub (SB_SUB) and the reports' folder at /out (SB_OUT), in a root, network, PID, IPC
# and mount namespaces of its own, under the limits of SB_LIMITS; the tests run every lab program as
# the user SOCKLAB_STUDENT_UID=1000 (tests/lib/launch.c), whose user ids come from SB_UID_BASE + 65536 * SB_N.
# As an ordinary user the programs run as the tests' user; without user namespaces (or with
# GRADE_SANDBOX=none) CMD runs without any of this. Each case is said by --mode.
set -u
me=$(readlink -f "${BASH_SOURCE[0]}")
: "${SB_UID_BASE:=3000000000}"
student=1000
paths=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)

# stage ROOT: the sandbox's world under ROOT (a fresh tmpfs), from the machine's and the kit's
# folders; OWNER is the user (as the machine sees it) that is root inside.
stage() {
	local r=$1 owner=$2 d
	mount -t tmpfs -o mode=755,size=64m socklab-root "$r" || return 1
	for d in usr etc bin sbin lib lib32 lib64 libx32; do
		if [[ -L /$d ]]; then
			ln -s "$(readlink "/$d")" "$r/$d"
		elif [[ -d /$d ]]; then
			mkdir "$r/$d" && mount --rbind "/$d" "$r/$d" && mount -o remount,bind,ro "$r/$d" || return 1
		fi
	done
	mkdir -p "$r"/{proc,sys,dev,tmp,var/tmp,home,kit,sub,out,run} &&
		mount -t proc proc "$r/proc" &&
		mount --rbind /sys "$r/sys" &&
		mount -t tmpfs -o mode=755,size=1m socklab-dev "$r/dev" || return 1
	for d in null zero full random urandom; do
		touch "$r/dev/$d" && mount --bind "/dev/$d" "$r/dev/$d" || return 1
	done
	ln -s /proc/self/fd "$r/dev/fd" && ln -s /proc/self/fd/0 "$r/dev/stdin" &&
		ln -s /proc/self/fd/1 "$r/dev/stdout" && ln -s /proc/self/fd/2 "$r/dev/stderr" && mkdir "$r/dev/shm" || return 1
	for d in tmp var/tmp dev/shm home; do
		mount -t tmpfs -o mode=1777,size=256m socklab-tmp "$r/$d" || return 1
	done
	# The kit, read-only; its build/ a tmpfs of the tests' own (the probe and tools copied in).
	mount --rbind "$SB_KIT" "$r/kit" && mount -o remount,bind,ro "$r/kit" &&
		mount --rbind "$SB_NODE" "$r/kit/node_modules" && mount -o remount,bind,ro "$r/kit/node_modules" &&
		mount -t tmpfs -o "mode=755,size=1g,uid=$owner,gid=$owner" socklab-build "$r/kit/build" &&
		cp -Rp "$SB_KIT/build/." "$r/kit/build/" && chown -R "$owner:$owner" "$r/kit/build" &&
		mount --bind "$SB_SUB" "$r/sub" && mount --bind "$SB_OUT" "$r/out" || return 1
	# The new root becomes the namespace's root (pivot_root, not chroot: a chrooted process may not
	# make user namespaces, and the tests make theirs), and the machine's is let go.
	mkdir "$r/.old" && cd "$r" && pivot_root . .old && cd / && umount -l /.old && rmdir /.old
}

# The last step, as root of the user namespace: a network of its own, the limits, the new root.
inside() {
	exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh \
		prlimit ${SB_LIMITS:-} -- /usr/bin/env -i "${paths[@]}" HOME=/home LANG="${LANG:-C.UTF-8}" \
		TERM=dumb ${CC:+CC="$CC"} ${SAN:+SAN="$SAN"} ${SB_STUDENT:+SOCKLAB_STUDENT_UID=$SB_STUDENT} \
		${SOCKLAB_TREE_NAME:+SOCKLAB_TREE_NAME="$SOCKLAB_TREE_NAME"} \
		${SOCKLAB_GRADE_NOTE:+SOCKLAB_GRADE_NOTE="$SOCKLAB_GRADE_NOTE"} ${SOCKLAB_SANDBOX:+SOCKLAB_SANDBOX="$SOCKLAB_SANDBOX"} \
		SOCKLAB_MANIFEST=/kit/labs/manifest SOCKLAB_TESTS=/kit/tests TREE_DIR=/sub \
		/bin/sh -c 'cd /kit && exec "$@"' sh "$@"
}

case ${1:-} in
--as-root) # inside the new mount and PID namespaces, still the machine's root
	shift
	chown -R "$((SB_UID + student)):$((SB_UID + student))" "$SB_SUB"
	chown "$SB_UID:$SB_UID" "$SB_OUT" && chmod 700 "$SB_OUT"
	stage "$SB_ROOT" "$SB_UID" || { echo "sandbox: cannot build the sandbox's root" >&2; exit 125; }
	# Into the user namespace the holder keeps (by its descriptor: /proc is this PID namespace's now).
	exec nsenter --user="/proc/self/fd/$SB_USERNS" --setuid 0 --setgid 0 -- /kit/tools/instructor/sandbox.sh --inside "$@"
	;;
--as-user) # inside new user, mount and PID namespaces, root of them
	shift
	stage "$SB_ROOT" 0 || { echo "sandbox: cannot build the sandbox's root" >&2; exit 125; }
	inside "$@"
	;;
--inside)
	shift
	exec {SB_USERNS}<&-
	inside "$@"
	;;
esac

: "${SB_N:=0}"
# Which sandbox this machine allows.
ip=$(PATH=$PATH:/usr/sbin:/sbin command -v ip) || ip=
common=(--mount --propagation private --pid --ipc --uts --fork --kill-child)
if [[ ${GRADE_SANDBOX:-auto} == none ]]; then
	mode="none: GRADE_SANDBOX=none: the programs run as you, and see the kit's files and the network"
elif [[ -z $ip ]]; then
	mode="none: no ip command (iproute2): the programs run as you, and see the kit's files and the network"
elif ((EUID == 0)) && unshare --user true 2>/dev/null; then
	mode=full
elif ((EUID != 0)) && unshare -r "${common[@]}" true 2>/dev/null; then
	mode="partial: the programs run as the same user as the tests (a second user id needs root)"
else
	mode="none: user namespaces are not allowed here: the programs run as you, and see the kit's files and the network"
fi
if [[ ${1:-} == --mode ]]; then
	echo "$mode"
	exit 0
fi

: "${SB_KIT:?}" "${SB_SUB:?}" "${SB_OUT:?}" "${SB_NODE:=$SB_KIT/node_modules}"
export SB_KIT SB_SUB SB_OUT SB_LIMITS SB_NODE
case $mode in
none*)
	cd "$SB_KIT" && exec env SOCKLAB_MANIFEST="$SB_KIT/labs/manifest" SOCKLAB_TESTS="$SB_KIT/tests" TREE_DIR="$SB_SUB" "$@"
	;;
esac
SB_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/socklab-sandbox.XXXXXX") || exit 125
chmod 755 "$SB_ROOT"
export SB_ROOT
trap 'rmdir "$SB_ROOT" 2>/dev/null' EXIT
if [[ $mode == full ]]; then
	# A process holds a user namespace while its maps are written, then the sandbox enters it.
	export SB_UID=$((SB_UID_BASE + 65536 * (SB_N % 4096))) SB_STUDENT=$student
	unshare --user sleep 86400 &
	holder=$!
	disown
	trap 'kill -KILL $holder 2>/dev/null; rmdir "$SB_ROOT" 2>/dev/null' EXIT
	mine=$(readlink /proc/self/ns/user)
	for ((i = 0; i < 1000; i++)); do
		[[ $(readlink "/proc/$holder/ns/user" 2>/dev/null) != "$mine" ]] && break
		sleep 0.005
	done
	printf '0 %d 65536\n' "$SB_UID" >"/proc/$holder/uid_map" && printf '0 %d 65536\n' "$SB_UID" >"/proc/$holder/gid_map" ||
		{ echo "sandbox: cannot map the user ids of the sandbox" >&2; exit 125; }
	exec {SB_USERNS}<"/proc/$holder/ns/user"
	export SB_USERNS
	unshare "${common[@]}" -- "$me" --as-root "$@"
else
	unshare -r "${common[@]}" -- "$me" --as-user "$@"
fi
