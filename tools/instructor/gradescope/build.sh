#!/usr/bin/env bash
# build.sh - make the Gradescope autograder bundle (`make gradescope [LAB=NN]`).
#
# Usage: tools/instructor/gradescope/build.sh [-o DIR] [--from TREE] [NN-name]
#        (--from: a student tree already made by tools/instructor/dist.sh, instead of making one)
# Writes DIR/socklab-autograder.zip (or socklab-NN-name-autograder.zip for one lab; DIR defaults to
# build/gradescope) and leaves its contents unpacked beside it, in DIR/bundle/, for inspection:
#   setup.sh         Gradescope runs it once, as root, to build the image: installs gcc, make, ...
#   run_autograder   Gradescope runs it per submission: grades /autograder/submission into
#                    /autograder/results/results.json
#   socklab/         the student tree of `make dist` (no solutions), the pinned bats in
#                    node_modules/, gradescope.conf (the lab graded) and gradescope.executables
#                    (the scripts whose executable bit setup.sh restores)
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
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
if [[ -n $lab ]] && ! awk -v l="$lab" '!/^#/ && $1 == l { found = 1 } END { exit !found }' "$top/labs/manifest"; then
	echo "gradescope: $lab is not a lab of labs/manifest" >&2
	exit 2
fi
command -v zip >/dev/null || { echo "make gradescope needs zip (Debian/Ubuntu: sudo apt install zip)" >&2; exit 2; }

stage=$out/bundle
rm -rf "$stage" && mkdir -p "$stage"
if [[ -n $from ]]; then
	mkdir -p "$stage/socklab" && cp -a "$from/." "$stage/socklab/"
else
	"$top/tools/instructor/dist.sh" --tree "$stage/socklab"
fi
# What grading does not use: the Classroom workflow and its helper, the pictures.
rm -rf "$stage/socklab/.github" "$stage/socklab/tools/instructor/classroom" "$stage/socklab/pic"
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
