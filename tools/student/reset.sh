#!/usr/bin/env bash
# reset.sh - `make reset`: restore a lab's starter, after asking; the student's version is kept beside
# it as FILE.bak-YYYYMMDD-HHMMSS.
#
# Usage: [TREE_DIR=DIR] [YES=1] tools/student/reset.sh NN-name
# The starter is what tools/maint/mkstarter makes of the solution where the kit has solutions/, else the
# pristine copy a student's kit carries in tests/starters/ (make dist puts it there). YES=1 restores
# without asking; otherwise a "y" is read from the terminal, or from stdin (a script may answer).
set -u
source "${BASH_SOURCE[0]%/*}/common.sh"
lab=$(lab_arg reset "${1:-}") || exit 2
dir=$tree/$lab

# pristine TO: the lab's pristine starter, written into folder TO; from says where it came from.
# Status 1 if there is none.
pristine() {
	local f
	mkdir -p "$1"
	if compgen -G "$top/solutions/$lab/*.c" >/dev/null; then
		for f in "$top/solutions/$lab"/*.c; do
			awk -f "$top/tools/maint/mkstarter" "$f" >"$1/${f##*/}" || return 1
		done
		from="generated from solutions/$lab by tools/maint/mkstarter"
	elif compgen -G "$top/tests/starters/$lab/*.c" >/dev/null; then
		cp "$top/tests/starters/$lab"/*.c "$1"/
		from="the kit's pristine copy, tests/starters/$lab"
	else
		return 1
	fi
}

[[ $tree != "$top/solutions" ]] || die "make reset restores starters; TREE=solutions holds the reference solutions"
tmp=$top/build/student/reset.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
pristine "$tmp" || die "no pristine starter of $lab here: neither solutions/$lab nor tests/starters/$lab exists"
todo=()
for f in "$tmp"/*.c; do
	name=${f##*/}
	cmp -s "$f" "$dir/$name" || todo+=("$name")
done
if ((${#todo[@]} == 0)); then
	echo "$show_tree/$lab is the untouched starter already: nothing to do."
	exit 0
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
		exit 1
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
echo "Done: $show_tree/$lab is the starter again. Your version: $show_tree/$lab/*.bak-$stamp"
