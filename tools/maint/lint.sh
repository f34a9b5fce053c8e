#!/usr/bin/env bash
# lint.sh - the kit's static checks (`make lint`; tests/kit/quality.bats runs `format` in `make test`, all in `make test-full`).
#
# Usage: tools/maint/lint.sh [format|cppcheck|tidy ...]   (default: all three)
#        tools/maint/lint.sh --fix                         reformat the files of `format` in place
# format: clang-format (.clang-format) on the solutions, include/, tests/lib/*.c, tools/*.c and pic/*.c;
# cppcheck (warning, portability, performance) on the solutions, the starters and the kit's C; clang-tidy
# (bugprone-*, clang-analyzer-*, less the checks docs/maintainers.md names, with why) on the solutions and
# the starters, LINT_JOBS files at once, a clean file remembered in build/lint/. A wrong finding is
# suppressed on the line above it, with the reason: /* cppcheck-suppress ID ; why */. Prints each
# finding as FILE:LINE: ... and ends with "lint: N problem(s)" or "lint: clean"; exit status 0 when
# clean, 1 when something was found, 2 when a tool is missing (it says which).
set -u
source "${BASH_SOURCE[0]%/*}/../lib.sh"
cd "$top" || exit 2
shopt -s nullglob

format_files=(solutions/*/*.c include/*.h tests/lib/*.c tools/*.c pic/*.c)
starters=(labs/*/*.c)
solutions=(solutions/*/*.c)
cppcheck_files=("${solutions[@]}" "${starters[@]}" tests/lib/*.c tools/*.c pic/*.c)

tidy_checks='-*,bugprone-*,clang-analyzer-*,-bugprone-reserved-identifier,-bugprone-easily-swappable-parameters'
tidy_checks+=',-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling'
tidy_checks+=',-clang-analyzer-core.UndefinedBinaryOperatorResult'
tidy_starter_checks=',-bugprone-branch-clone,-clang-analyzer-deadcode.DeadStores'
# Every return of these is checked at the call site, as the labs' accept.c does (a failed sigaction
# leaves a server that dies on the signal it meant to catch): bugprone-unused-return-value with them.
checked='::sigprocmask;::sigaction;::inet_ntop;::signal;::pthread_sigmask'
tidy_options='CheckOptions: [{key: "clang-analyzer-core.CallAndMessage:ArgInitializedness", value: "false"}, '
tidy_options+="{key: \"bugprone-unused-return-value.CheckedFunctions\", value: \"$checked\"}]"
# The kit's own C (the probe, the launcher, the report writer, the picture program): that one check.
kit_c=(tests/lib/*.c tools/*.c pic/*.c)
tidy_kit_checks='-*,bugprone-unused-return-value'
# The flags the Makefile compiles with, as far as the parser cares.
tidy_flags=(-std=c11 -I"$top/include")

# One clang-tidy run (the parallel part): FILE CHECKS; writes FILE's findings to stdout.
if [[ ${1:-} == --tidy-one ]]; then
	file=$2 checks=$3 cache=$top/build/lint/tidy
	key=$({ cat "$file" include/socklab.h; echo "$checks $tidy_options ${tidy_flags[*]} $LINT_TIDY_VERSION"; } |
		sha1sum | cut -c1-40)
	[[ -f $cache/$key ]] && exit 0
	out=$(clang-tidy --quiet --warnings-as-errors='*' -checks="$checks" -config="{$tidy_options}" "$file" \
		-- "${tidy_flags[@]}" 2>&1)
	rc=$?
	if [[ $rc == 0 ]]; then
		mkdir -p "$cache" && : >"$cache/$key"
	else
		# Only the findings and their notes; not the "N warnings generated" lines.
		grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error|note):|^ ' <<<"$out" | sed "s|^$top/||"
	fi
	exit "$rc"
fi

if [[ ${1:-} == --fix ]]; then
	command -v clang-format >/dev/null || { echo "lint: clang-format is not installed (apt install clang-format)" >&2; exit 2; }
	clang-format -i --style=file "${format_files[@]}"
	exit
fi

parts=("$@")
((${#parts[@]})) || parts=(format cppcheck tidy)
problems=0
missing=0
need() { # TOOL PACKAGE: is it installed?
	command -v "$1" >/dev/null && return 0
	echo "lint: $1 is not installed (Debian/Ubuntu: apt install $2): its checks did not run" >&2
	missing=1
	return 1
}

for part in "${parts[@]}"; do
	case $part in
	format)
		need clang-format clang-format || continue
		echo "== clang-format (.clang-format): ${#format_files[@]} files"
		out=$(clang-format --dry-run -Werror --style=file "${format_files[@]}" 2>&1)
		if [[ -n $out ]]; then
			# clang-format says "FILE:LINE:COL: error: code should be clang-formatted" for every
			# place: one line per file here, with the lines (clang-format FILE | diff FILE - shows how).
			summary=$(grep -E ': error: code should be clang-formatted' <<<"$out" | sed "s|^$top/||" |
				awk -F: '{ if (!($1 in n)) order[++k] = $1; n[$1]++; if (!seen[$1, $2]++) at[$1] = at[$1] " " $2 }
				END { for (i = 1; i <= k; i++) printf "%s:%s: not clang-formatted (lines%s)\n", order[i], substr(at[order[i]], 2) + 0, at[order[i]] }')
			echo "$summary"
			echo "   (clang-format FILE | diff FILE - shows the changes; tools/maint/lint.sh --fix makes them; then make starters)"
			problems=$((problems + $(grep -c . <<<"$summary")))
		fi
		;;
	cppcheck)
		need cppcheck cppcheck || continue
		echo "== cppcheck: ${#cppcheck_files[@]} files"
		out=$(cppcheck --quiet --std=c11 --language=c -I include --enable=warning,portability,performance \
			--inline-suppr --suppress=missingIncludeSystem \
			--template='{file}:{line}: {severity}: {message} [{id}]' "${cppcheck_files[@]}" 2>&1)
		if [[ -n $out ]]; then
			echo "$out"
			problems=$((problems + $(grep -cE '^[^ ]+:[0-9]+: ' <<<"$out")))
		fi
		;;
	tidy)
		need clang-tidy clang-tidy || continue
		echo "== clang-tidy (bugprone, clang-analyzer): ${#solutions[@]} solutions, ${#starters[@]} starters; unchecked returns: ${#kit_c[@]} kit files"
		LINT_TIDY_VERSION=$(clang-tidy --version | tr '\n' ' ')
		export LINT_TIDY_VERSION
		out=$({
			for f in "${solutions[@]}"; do printf '%s\0%s\0' "$f" "$tidy_checks"; done
			for f in "${starters[@]}"; do printf '%s\0%s\0' "$f" "$tidy_checks$tidy_starter_checks"; done
			for f in "${kit_c[@]}"; do printf '%s\0%s\0' "$f" "$tidy_kit_checks"; done
		} | xargs -0 -n 2 -P "${LINT_JOBS:-$(nproc)}" "$top/tools/maint/lint.sh" --tidy-one)
		if [[ -n $out ]]; then
			# Each finding with its source line and caret; for the analyzer's path (its notes), run
			# clang-tidy on the file by hand.
			awk '/^[^ ]+:[0-9]+:[0-9]+: (warning|error):/ { print; n = 2; next } /^[^ ]+:[0-9]+:[0-9]+: note:/ { n = 0; next } n > 0 { print; n-- }' <<<"$out"
			problems=$((problems + $(grep -cE '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' <<<"$out")))
		fi
		;;
	*)
		echo "usage: tools/maint/lint.sh [format|cppcheck|tidy ...] | --fix" >&2
		exit 2
		;;
	esac
done

if ((problems > 0)); then
	echo "lint: $problems problem(s)"
	exit 1
elif ((missing)); then
	echo "lint: a tool is missing (see above); what ran is clean"
	exit 2
fi
echo "lint: clean"
