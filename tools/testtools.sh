#!/usr/bin/env bash
# testtools.sh - which test tools the kit runs on: the pinned ones npm installs into node_modules/, or
# else a system bats (the Makefile's $(TOOLS) rule, before make check, make grade, make test).
#
# Usage: tools/testtools.sh --stamp FILE | --explain | --status
# --stamp chooses, installing the pinned tools with npm if it can (one short, bounded try, not
# repeated until the package files change), and writes the choice to FILE (build/tools/choice);
# exit 2, saying what was found and what is missing, when nothing is usable. --explain says that
# (stderr, exit 2); --status is one line for make doctor. A system bats is usable when it is >= 1.5
# with bats-support and bats-assert in one folder of BATS_LIB_PATH.
set -u
source "${BASH_SOURCE[0]%/*}/lib.sh"
npm_failed=$top/build/tools/npm-failed
lib_dirs=${BATS_LIB_PATH:-/usr/lib/bats:/usr/local/lib/bats:/usr/lib:/usr/local/lib}

# The pinned copy is complete.
npm_tools_ok() {
	[[ -x $top/node_modules/bats/bin/bats && -f $top/node_modules/bats-support/load.bash &&
		-f $top/node_modules/bats-assert/load.bash ]]
}

# system_bats: sets sys_bats (path or empty), sys_version, sys_libs (the folder with both libraries,
# or empty), has_support, has_assert (a folder that has it, or empty); status 0 when usable.
system_bats() {
	sys_bats=$(command -v bats 2>/dev/null) sys_version= sys_libs= has_support= has_assert=
	local d dirs
	IFS=: read -ra dirs <<<"$lib_dirs"
	for d in "${dirs[@]}"; do
		[[ -n $d ]] || continue
		[[ -z $has_support && -f $d/bats-support/load.bash ]] && has_support=$d
		[[ -z $has_assert && -f $d/bats-assert/load.bash ]] && has_assert=$d
		if [[ -z $sys_libs && -f $d/bats-support/load.bash && -f $d/bats-assert/load.bash ]]; then
			sys_libs=$d
		fi
	done
	[[ -n $sys_bats ]] || return 1
	sys_version=$(timeout 10 bats --version 2>/dev/null | awk '{ print $2 }')
	[[ -n $sys_version ]] && printf '%s\n%s\n' 1.5.0 "$sys_version" | sort -V -C && [[ -n $sys_libs ]]
}

# npm_state: what became of npm, for the messages.
npm_state() {
	if ! command -v npm >/dev/null; then
		echo "not found"
	elif [[ -f $npm_failed ]]; then
		echo "found, but it could not install the pinned tools: $(head -n 1 "$npm_failed")"
	else
		echo "found"
	fi
}

explain() {
	system_bats
	local missing=()
	{
		echo "socklab: no usable test tools: the tests need bats-core >= 1.5 with bats-support and bats-assert."
		echo "  found on this machine:"
		printf '    npm           %s\n' "$(npm_state)"
		if [[ -z $sys_bats ]]; then
			printf '    bats          not found\n'
			missing+=(bats)
		elif [[ -z $sys_version ]] || ! printf '%s\n%s\n' 1.5.0 "$sys_version" | sort -V -C; then
			printf '    bats          %s, version %s: too old (1.5 or later needed)\n' "$sys_bats" "${sys_version:-unknown}"
			missing+=(bats)
		else
			printf '    bats          %s, version %s: usable\n' "$sys_bats" "$sys_version"
		fi
		if [[ -n $has_support ]]; then
			printf '    bats-support  in %s\n' "$has_support"
		else
			printf '    bats-support  missing (looked in %s)\n' "$lib_dirs"
			missing+=(bats-support)
		fi
		if [[ -n $has_assert ]]; then
			printf '    bats-assert   in %s\n' "$has_assert"
		else
			printf '    bats-assert   missing (looked in %s)\n' "$lib_dirs"
			missing+=(bats-assert)
		fi
		if [[ -n $has_support && -n $has_assert && -z $sys_libs ]]; then
			echo "    (bats-support and bats-assert must be in one folder: set BATS_LIB_PATH to it)"
		fi
		if ((${#missing[@]} > 0)); then
			echo "  install what is missing: sudo apt install ${missing[*]}"
		fi
		if ! command -v npm >/dev/null; then
			echo "  or install npm (sudo apt install npm) and run make check again, with a connection to the npm"
			echo "  registry: it installs the pinned bats 1.13.0, bats-support 0.3.0, bats-assert 2.2.4 into node_modules/"
		elif [[ -f $npm_failed ]]; then
			echo "  or, once the npm registry can be reached: rm build/tools/npm-failed; make check (npm is not"
			echo "  tried again before that, nor before package.json changes)"
		fi
	} >&2
	return 2
}

# try_npm: one bounded try at `npm ci`; on failure the reason goes to build/tools/npm-failed.
try_npm() {
	local log=$top/build/tools/npm.log reason
	mkdir -p "$top/build/tools"
	echo '  NPM   installing the pinned test tools (bats, bats-support, bats-assert) into node_modules/'
	if ! (cd "$top" && timeout -k 2 "${SOCKLAB_NPM_PING_TIMEOUT:-15}" npm ping --fetch-retries=0 \
		--fetch-timeout=10000 --no-update-notifier --loglevel=error) >"$log" 2>&1; then
		reason="the registry did not answer npm ping"
	elif ! (cd "$top" && timeout -k 2 "${SOCKLAB_NPM_TIMEOUT:-180}" npm ci --no-audit --no-fund \
		--no-update-notifier --loglevel=error --fetch-retries=0 --fetch-timeout=30000) >"$log" 2>&1; then
		reason="npm ci failed"
	else
		rm -f "$npm_failed"
		return 0
	fi
	# npm's own words: its error code line (EAI_AGAIN, ECONNREFUSED...), or its last line.
	local said
	said=$(grep -m1 -E 'code E|errno|ERR!' "$log" | sed -E 's/^npm (ERR!|error) *//')
	[[ -n $said ]] || said=$(tail -n 1 "$log")
	[[ -n $said ]] || said="no answer within the time limit"
	echo "$reason (${said:0:160})" >"$npm_failed"
	return 1
}

case ${1:-} in
--explain)
	explain
	exit 2 ;;
--status)
	if npm_tools_ok; then
		echo "the pinned bats, bats-support and bats-assert in node_modules/ (npm)"
	elif system_bats; then
		echo "the system's bats $sys_version ($sys_bats) with bats-support and bats-assert from $sys_libs"
	else
		echo "none usable: $( (explain 2>&1) | sed -n 's/^  install what is missing: //p')"
		exit 1
	fi
	exit 0 ;;
--stamp)
	stamp=${2:?--stamp needs a file}
	;;
*)
	echo "usage: tools/testtools.sh --stamp FILE | --explain | --status" >&2
	exit 2 ;;
esac

mkdir -p "$(dirname "$stamp")"
# A failure is remembered until the package files change.
if [[ -f $npm_failed && ($top/package.json -nt $npm_failed || $top/package-lock.json -nt $npm_failed) ]]; then
	rm -f "$npm_failed"
fi
if ! npm_tools_ok && command -v npm >/dev/null && [[ ! -f $npm_failed ]]; then
	try_npm
fi
if npm_tools_ok; then
	# npm writes node_modules/.package-lock.json: make it newer than the package files.
	lock=$top/node_modules/.package-lock.json
	[[ $lock -nt $top/package.json && $lock -nt $top/package-lock.json ]] || touch "$lock" 2>/dev/null
	echo "npm node_modules" >"$stamp"
	exit 0
fi
if system_bats; then
	if ! command -v npm >/dev/null; then
		why="npm not found"
	else
		why="npm could not install the pinned ones: $(head -n 1 "$npm_failed" 2>/dev/null)"
	fi
	echo "  note: using the system's bats $sys_version ($sys_bats) with bats-support and bats-assert from $sys_libs ($why)"
	echo "system $sys_bats $sys_version $sys_libs" >"$stamp"
	exit 0
fi
rm -f "$stamp"
explain
