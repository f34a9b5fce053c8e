#!/usr/bin/env bash
# dist.sh - make the student handout (`make dist`): the kit without solutions/ and without the
# maintainers' tools, with the starters, the lab tests, the handouts and the pictures, and the
# GitHub Classroom workflow in .github/workflows/, and a pristine copy of the starters in
# tests/starters/ (for `make reset`).
#
# Usage: tests/lib/dist.sh [-o DIR]        DIR/socklab/ and DIR/socklab.tar.gz (default DIR: build/dist)
#        tests/lib/dist.sh --tree DEST     only the student tree, into DEST (the Gradescope bundle uses it)
#
# What stays behind: solutions/, .git, .ci/ (the kit's own CI), build/, node_modules/ (fetched again
# on first use), the kit's self-tests (every tests/*.bats that is not a lab's, tests/fixtures/,
# tests/lib/selftest.sh and its tests/lib/killers.txt, the line mutants' tests/lib/linemut,
# line-killers.txt and equivalent-mutants.txt (which quotes solution lines), tests/lib/lint.sh,
# tests/lib/mkstarter) and the instructor's builders (this script, tests/lib/gradescope/, the
# workflow template). Before
# anything is written it proves the copy leaks no solution: every starter is exactly what its
# solution generates (tests/lib/mkstarter), no C file holds a solution marker, and no file is a
# copy of a solution file.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"

out=$top/build/dist tree_only=
while (($#)); do
	case $1 in
	-o) out=$2; shift 2 ;;
	--tree) tree_only=$2; shift 2 ;;
	*) echo "usage: tests/lib/dist.sh [-o DIR] | --tree DEST" >&2; exit 2 ;;
	esac
done

die() { echo "dist: $*" >&2; exit 1; }
[[ -d solutions ]] || die "no solutions/ here: make dist runs in the instructor's kit, not in a student copy"

mapfile -t labs < <(awk '!/^#/ && NF { print $1 }' labs/manifest)
is_lab() { [[ " ${labs[*]} " == *" $1 "* ]]; }

# The file list, relative to the top: everything but what stays behind.
files() {
	find . \( -path ./.git -o -path ./build -o -path ./node_modules -o -path ./solutions -o -path ./.ci \
		-o -path ./tests/fixtures -o -path ./tests/lib/gradescope \) -prune -o -type f -print |
		sed 's|^\./||' | LC_ALL=C sort | while read -r f; do
		case $f in
		tests/lib/selftest.sh | tests/lib/killers.txt | tests/lib/lint.sh | tests/lib/mkstarter | tests/lib/dist.sh) continue ;;
		tests/lib/linemut | tests/lib/line-killers.txt | tests/lib/equivalent-mutants.txt) continue ;;
		tests/lib/classroom/*.yml) continue ;;
		tests/*.bats) b=${f#tests/}; is_lab "${b%.bats}" || continue ;;
		*~ | *.swp | *.orig | *.rej) continue ;;
		esac
		printf '%s\n' "$f"
	done
}

# Proof that nothing of a solution goes out.
stage=$top/build/dist.work.$$
trap 'rm -rf "$stage"' EXIT
rm -rf "$stage" && mkdir -p "$stage"
bad=0
for s in solutions/*/*.c; do
	[[ -f $s ]] || continue
	starter=labs/${s#solutions/}
	awk -f tests/lib/mkstarter "$s" >"$stage/starter.c" || die "tests/lib/mkstarter rejects $s"
	if ! cmp -s "$stage/starter.c" "$starter"; then
		echo "dist: $starter is not what $s generates: run make starters" >&2
		bad=1
	fi
done
((bad == 0)) || exit 1
mapfile -t list < <(files)
# One process for each check, not one per file: on a loaded machine processes are what costs.
markers=$(printf '%s\n' "${list[@]}" | grep -E '\.[ch]$' | tr '\n' '\0' |
	xargs -0 -r grep -lE 'BEGIN SOLUTION|END SOLUTION|/\* STUB' || true)
[[ -z $markers ]] || die "these files hold a solution marker: $markers"
copies=$(awk 'NR == FNR { sol[$1] = 1; next } $1 in sol { print $2 }' \
	<(find solutions -type f -exec sha256sum {} +) <(printf '%s\0' "${list[@]}" | xargs -0 sha256sum))
[[ -z $copies ]] || die "these files are copies of solution files: $copies"

# Copy the list, keeping modes (scripts stay executable).
copy_tree() {
	local dest=$1
	rm -rf "$dest" && mkdir -p "$dest"
	printf '%s\n' "${list[@]}" | tar -cf - --no-recursion -T - | tar -xf - -C "$dest"
	mkdir -p "$dest/.github/workflows"
	cp tests/lib/classroom/socklab.yml "$dest/.github/workflows/socklab.yml"
	# The pristine starters, where `make reset` finds them once solutions/ is gone (tests/lib/student.sh).
	mkdir -p "$dest/tests/starters"
	(cd labs && tar -cf - ./*/*.c) | tar -xf - -C "$dest/tests/starters"
}

if [[ -n $tree_only ]]; then
	copy_tree "$tree_only"
	exit 0
fi

mkdir -p "$out"
copy_tree "$stage/socklab"
rm -rf "$out/socklab" "$out/socklab.tar.gz"
# One tarball whatever the machine: sorted names, no owner, no user's umask.
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner -czf "$out/socklab.tar.gz" socklab
mv "$stage/socklab" "$out/socklab"
n=$(find "$out/socklab" -type f | wc -l)
echo "  DIST  ${out#"$top"/}/socklab/ and ${out#"$top"/}/socklab.tar.gz: $n files, no solutions"
echo "        the student repository: its .github/workflows/socklab.yml grades every push (docs/instructors.md)"
