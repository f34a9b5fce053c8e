#!/usr/bin/env bash
# build.sh - make the Gradescope autograder bundle (`make gradescope [LAB=NN]`).
#
# Usage: tools/instructor/gradescope/build.sh [-o DIR] [--from TREE] [NN-name]
# Writes DIR/socklab-autograder.zip (socklab-NN-name-autograder.zip for one lab; DIR defaults to
# build/gradescope) and leaves its contents in DIR/bundle/: setup.sh (Gradescope runs it once, as
# root, to build the image), run_autograder (run per submission) and socklab/, the student tree of
# make dist (--from: one already made) with the pinned bats in node_modules/, gradescope.conf (the lab
# graded) and gradescope.executables (the scripts whose executable bit setup.sh restores).
set -euo pipefail
source "${BASH_SOURCE[0]%/*}/../../lib.sh"
here=$top/tools/instructor/gradescope
out=$top/build/gradescope from=
while [[ ${1:-} == -* ]]; do
	case $1 in
	-o) out=$2 ;;
	--from) from=$2 ;;
	*) echo "usage: tools/instructor/gradescope/build.sh [-o DIR] [--from TREE] [NN-name]" >&2; exit 2 ;;
	esac
	shift 2
done
lab=${1:-}
if [[ -n $lab ]]; then
	lab=$(lab_name "$lab") || exit 2
fi
command -v zip >/dev/null || { echo "make gradescope needs zip (Debian/Ubuntu: sudo apt install zip)" >&2; exit 2; }

stage=$out/bundle
rm -rf "$stage" && mkdir -p "$stage"
if [[ -n $from ]]; then
	mkdir -p "$stage/socklab" && cp -a "$from/." "$stage/socklab/"
else
	"$top/tools/instructor/dist.sh" --tree "$stage/socklab"
fi
# What grading does not use: the Classroom workflow, the pictures. What it does use and the student copy
# leaves out: run_autograder grades through make grade SUBMISSIONS= (the batch grader and its sandbox).
rm -rf "$stage/socklab/.github" "$stage/socklab/pic"
mkdir -p "$stage/socklab/tools/instructor"
cp -p "$top/tools/instructor/grade.sh" "$top/tools/instructor/sandbox.sh" "$stage/socklab/tools/instructor/"
cp "$here/setup.sh" "$here/run_autograder" "$stage/"
chmod +x "$stage/setup.sh" "$stage/run_autograder"
printf '# Written by make gradescope: the lab this bundle grades (empty: every lab of the manifest).\nlab=%s\n' \
	"$lab" >"$stage/socklab/gradescope.conf"

# The pinned test tools, so that the image needs neither npm nor the network for them.
if [[ -x $top/node_modules/bats/bin/bats ]]; then
	mkdir -p "$stage/socklab/node_modules"
	cp -a "$top/node_modules/bats" "$top/node_modules/bats-support" "$top/node_modules/bats-assert" \
		"$top/node_modules/.package-lock.json" "$stage/socklab/node_modules/"
fi
(cd "$stage/socklab" && find . -type f -perm -u+x | sed 's|^\./||' | LC_ALL=C sort) >"$stage/socklab/gradescope.executables"

name=socklab${lab:+-$lab}-autograder.zip
rm -f "$out/$name"
# The two scripts at the root of the archive, as Gradescope requires; -X: no extra attributes.
(cd "$stage" && zip -q -r -X "$out/$name" setup.sh run_autograder socklab)
echo "  ZIP   ${out#"$top"/}/$name ($(du -k "$out/$name" | cut -f1) KiB${lab:+, grades $lab only}; its contents: ${stage#"$top"/}/)"
echo "        upload it as the assignment's autograder (Ubuntu 22.04 or newer); see docs/instructors.md"
