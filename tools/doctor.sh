#!/usr/bin/env bash
# doctor.sh - what this machine has and lacks for the kit (`make doctor`): the tools, the kernel's
# permissions, which tests will skip here because of what is missing, and the points grading loses.
#
# Usage: tools/doctor.sh [--summary | --needs]
# --summary: one line, only when a test will skip here (make check and make grade print it first);
# --needs: the scan of the bats files, LAB<TAB>TEST<TAB>NEEDS... Which test needs what is read from the
# bats files (a test, a helper it calls or the file's setup that says need_userns, need_ipv6,
# command -v nc...), not kept in a list. A skipped test scores 0, in make check as in make grade.
set -u
source "${BASH_SOURCE[0]%/*}/lib.sh"
mode=${1:-}

# The capabilities: key, what, the bats text that shows a test needs it (an extended regex).
# (ptrace, setpriv, root: only where they matter: see has().)
caps=(userns ipv6 strace ptrace ss ip nc socat setpriv root)
declare -A what=(
	[userns]="user namespaces (unshare -rn)"
	[ipv6]="the IPv6 loopback ::1"
	[strace]="strace, allowed to trace"
	[ptrace]="ptrace rights over your own programs (kernel.yama.ptrace_scope)"
	[ss]="ss (iproute2)"
	[ip]="ip (iproute2)"
	[nc]="nc, OpenBSD's (with -N)"
	[socat]="socat"
	[setpriv]="setpriv, to run as user nobody (util-linux)"
	[root]="root (some tests show what only root may do)"
)
declare -A pattern=(
	[userns]='need_userns|unshare -rn'
	[ipv6]='need_ipv6|bind ::1 0'
	[strace]='command -v strace'
	[ptrace]='ptrace_scope'
	[ss]='command -v ss[^a-z]'
	[ip]='command -v ip[^a-z]'
	[nc]='command -v nc[^a-z]'
	[socat]='command -v socat'
	[setpriv]='need_nobody'
	[root]='EUID == 0 \]\] \|\| skip'
)
declare -A fix=(
	[userns]="sudo sysctl -w kernel.unprivileged_userns_clone=1 (Debian) or kernel.apparmor_restrict_unprivileged_userns=0 (Ubuntu); in a container: run it with user namespaces allowed"
	[ipv6]="IPv6 is disabled: sudo sysctl -w net.ipv6.conf.lo.disable_ipv6=0"
	[strace]="sudo apt install strace (in a container: allow ptrace, e.g. docker run --cap-add=SYS_PTRACE)"
	[ptrace]="sudo sysctl -w kernel.yama.ptrace_scope=0, or run the tests as root"
	[ss]="sudo apt install iproute2"
	[ip]="sudo apt install iproute2"
	[nc]="sudo apt install netcat-openbsd"
	[socat]="sudo apt install socat"
	[setpriv]="sudo apt install util-linux"
	[root]="run make check as root (sudo) to see those tests"
)

# has KEY: the machine has it (or it does not matter here).
has() {
	case $1 in
	userns) unshare -rn true 2>/dev/null ;;
	ipv6) grep -qE '^0{31}1 .* lo$' /proc/net/if_inet6 2>/dev/null ;;
	strace) command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null ;;
	ptrace) ((EUID == 0)) || [[ $(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0) == 0 ]] ;;
	ss) command -v ss >/dev/null ;;
	ip) command -v ip >/dev/null ;;
	nc) command -v nc >/dev/null && nc -h 2>&1 | grep -qE '^[[:space:]]*-N' ;;
	socat) command -v socat >/dev/null ;;
	setpriv) ((EUID != 0)) || { command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups -- true 2>/dev/null; } ;;
	root) ((EUID == 0)) ;;
	esac
}

# The scan: for each test, the capabilities its text, the helpers it calls (defined in the same
# file) and the file's setup and setup_file name.
needs() {
	local lab f pats=() k hosts_ok=
	# /etc/hosts gives localhost both ::1 and 127.0.0.1
	awk '!/^[ \t]*#/ { for (i = 2; i <= NF && $i !~ /^#/; i++) if ($i == "localhost") a[$1] = 1 } END { exit !("::1" in a && "127.0.0.1" in a) }' \
		/etc/hosts 2>/dev/null && hosts_ok=1
	for k in "${caps[@]}"; do pats+=("$k=${pattern[$k]}"); done
	for lab in "${manifest_labs[@]}"; do
		f=$tests_dir/$lab.bats
		[[ -f $f ]] || continue
		LC_ALL=C awk -v lab="$lab" -v hosts_ok="$hosts_ok" -v pats="$(printf '%s\n' "${pats[@]}")" '
		BEGIN { np = split(pats, pl, "\n"); for (i = 1; i <= np; i++) { k[i] = substr(pl[i], 1, index(pl[i], "=") - 1); re[i] = substr(pl[i], index(pl[i], "=") + 1) } }
		# (comments left out: a helper named there is not called)
		{ sub(/^[ \t]*#.*/, ""); sub(/[ \t]+#[^"]*$/, "") }
		/^[A-Za-z_][A-Za-z0-9_]*\(\) *\{/ {
			cur = "f:" substr($0, 1, index($0, "(") - 1); body[cur] = ""
			if ($0 ~ /\}$/) { body[cur] = substr($0, index($0, "{") + 1); cur = "" }
			next
		}
		/^@test ".*" \{$/ { cur = "t:" substr($0, 8, length($0) - 10); order[++nt] = cur; body[cur] = ""; next }
		/^\}/ { cur = ""; next }
		cur != "" { body[cur] = body[cur] "\n" $0 }
		function own(b, out, i) { out = ""; for (i = 1; i <= np; i++) if (b ~ re[i]) out = out " " k[i]; return out }
		END {
			# what each helper needs, through the helpers it calls (three levels deep)
			for (b in body) if (b ~ /^f:/) need[b] = own(body[b])
			# 11-getaddrinfo: without a namespace of its own, localhost_ns uses /etc/hosts where it
			# names localhost with both addresses.
			if (hosts_ok) need["f:localhost_ns"] = " ipv6"
			for (pass = 0; pass < 3; pass++)
				for (b in body) if (b ~ /^f:/)
					for (g in body) if (g ~ /^f:/ && g != b && body[b] ~ ("(^|[^A-Za-z0-9_])" substr(g, 3) "([^A-Za-z0-9_]|$)"))
						need[b] = need[b] need[g]
			common = need["f:setup"] need["f:setup_file"]
			for (i = 1; i <= nt; i++) {
				t = order[i]; n = own(body[t]) common
				for (g in body) if (g ~ /^f:/ && body[t] ~ ("(^|[^A-Za-z0-9_])" substr(g, 3) "([^A-Za-z0-9_]|$)")) n = n need[g]
				# each capability once
				split(n, w, " "); delete seen; out = ""
				for (j in w) if (w[j] != "" && !(w[j] in seen)) { seen[w[j]] = 1; out = out " " w[j] }
				name = substr(t, 3); gsub(/\\"/, "\"", name)
				printf "%s\t%s\t%s\n", lab, name, substr(out, 2)
			}
		}' "$f"
	done
}

if [[ $mode == --needs ]]; then
	needs
	exit 0
fi

missing=()
for k in "${caps[@]}"; do has "$k" || missing+=("$k"); done

# The tests that will skip, and their points (hundredths), from the grading plan.
declare -A pts=()
skipping=() skip_pts=0
if ((${#missing[@]} > 0)); then
	while IFS=$'\t' read -r kind a b _; do
		[[ $kind == test ]] && pts[$b]=$a
	done < <("$top/tools/check.sh" --plan 2>/dev/null)
	while IFS=$'\t' read -r lab name ks; do
		why=()
		for k in "${missing[@]}"; do [[ " $ks " == *" $k "* ]] && why+=("$k"); done
		((${#why[@]} > 0)) || continue
		skipping+=("$name"$'\t'"${why[*]}")
		skip_pts=$((skip_pts + ${pts[$name]:-0}))
	done < <(needs)
fi
fmt() { local h=$1 s=$(($1 / 100)); ((h % 100)) && s+=$(printf '.%02d' $((h % 100))) && s=${s%0}; echo "$s"; }

if [[ $mode == --summary ]]; then
	((${#skipping[@]} > 0)) || exit 0
	printf '  this machine lacks %s: %d test(s) will skip, %s points missing in make check and make grade alike (make doctor)\n' \
		"$(IFS=,; echo "${missing[*]}" | sed 's/,/, /g')" "${#skipping[@]}" "$(fmt "$skip_pts")"
	exit 0
fi

# The whole report.
line() { printf '  %-8s %-26s %s\n' "$1" "$2" "$3"; }
echo "socklab doctor: what this machine has and lacks for the kit"
echo "Tools:"
if t=$("$top/tools/testtools.sh" --status); then line ok "test tools" "$t"; else line MISSING "test tools" "$t"; fi
cc=${CC:-cc}
if command -v "$cc" >/dev/null; then line ok "C compiler" "$("$cc" --version 2>/dev/null | head -n 1)"; else line MISSING "C compiler" "no $cc: sudo apt install gcc"; fi
for t in make timeout setsid; do
	if command -v "$t" >/dev/null; then line ok "$t" "$(command -v "$t")"; else line MISSING "$t" "needed by every test (coreutils, util-linux, make)"; fi
done
echo "What the tests use (a test that needs what is missing is skipped, and scores 0):"
for k in "${caps[@]}"; do
	if has "$k"; then
		line ok "$k" "${what[$k]}"
	else
		line MISSING "$k" "${what[$k]}: ${fix[$k]}"
	fi
done
echo "Other commands (no test needs them):"
for t in tcpdump inotifywait bear; do
	case $t in
	tcpdump) u="make trace shows the packets (sudo apt install tcpdump)" ;;
	inotifywait) u="make watch reacts at once instead of looking every second (sudo apt install inotify-tools)" ;;
	bear) u="make compile_commands.json (sudo apt install bear)" ;;
	esac
	if command -v "$t" >/dev/null; then line ok "$t" "$u"; else line missing "$t" "$u"; fi
done
if ((${#skipping[@]} == 0)); then
	echo "Every test can run here: nothing will be skipped, grading can give every point."
else
	printf 'Tests that will skip here: %d, worth %s points that neither make check nor make grade can give:\n' \
		"${#skipping[@]}" "$(fmt "$skip_pts")"
	for s in "${skipping[@]}"; do
		printf '    %s  (needs %s)\n' "${s%%$'\t'*}" "${s#*$'\t'}"
	done
fi
