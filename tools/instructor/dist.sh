#!/usr/bin/env bash
# dist.sh - make the student handout (`make dist`): the kit without solutions/ and without the
# maintainers' and instructors' tools, with the GitHub Classroom workflow and the pristine starters.
#
# Usage: tools/instructor/dist.sh [-o DIR] | --tree DEST
# Writes DIR/socklab/ and DIR/socklab.tar.gz (default DIR: build/dist), or with --tree only the student
# tree into DEST (the Gradescope bundle uses it). Whole folders stay behind: solutions/, tools/maint/,
# tools/instructor/ (its workflow template goes to .github/workflows/), tests/kit/, docs/student/ (it
# becomes the README.md and README.zh-CN.md), .git, .ci/, build/, node_modules/; the starters are
# copied to tests/starters/ too (for make reset). Before anything is written it proves the copy leaks
# no solution: every starter is what its solution generates, no C file holds a solution marker, no
# file is a copy of a solution file.
set -euo pipefail
source "${BASH_SOURCE[0]%/*}/../lib.sh"
cd "$top"

out=$top/build/dist tree_only=
while (($#)); do
	case $1 in
	-o) out=$2; shift 2 ;;
	--tree) tree_only=$2; shift 2 ;;
	*) echo "usage: tools/instructor/dist.sh [-o DIR] | --tree DEST" >&2; exit 2 ;;
	esac
done

die() { echo "dist: $*" >&2; exit 1; }
[[ -d solutions ]] || die "no solutions/ here: make dist runs in the instructor's kit, not in a student copy"

# The file list, relative to the top: everything but the folders that stay behind.
files() {
	find . \( -path ./.git -o -path ./build -o -path ./node_modules -o -path ./solutions -o -path ./.ci \
		-o -path ./tests/kit -o -path ./tools/maint -o -path ./tools/instructor -o -path ./docs/student \) -prune \
		-o -type f ! -name '*~' ! -name '*.swp' ! -name '*.orig' ! -name '*.rej' -print |
		sed 's|^\./||' | LC_ALL=C sort | grep -vxE 'README(\.zh-CN)?\.md|docs/(zh/)?maintainers\.md'
}

# Proof that nothing of a solution goes out.
stage=$top/build/dist.work.$$
trap 'rm -rf "$stage"' EXIT
rm -rf "$stage" && mkdir -p "$stage"
bad=0
for s in solutions/*/*.c; do
	[[ -f $s ]] || continue
	starter=labs/${s#solutions/}
	awk -f tools/maint/mkstarter "$s" >"$stage/starter.c" || die "tools/maint/mkstarter rejects $s"
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
	cp docs/student/README.md "$dest/README.md"
	cp docs/student/README.zh-CN.md "$dest/README.zh-CN.md"
	mkdir -p "$dest/.github/workflows"
	cp tools/instructor/classroom/socklab.yml "$dest/.github/workflows/socklab.yml"
	# The pristine starters, where `make reset` finds them once solutions/ is gone (tools/student/reset.sh).
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
