#!/usr/bin/env bash
# setup.sh - Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu 22.04
# or newer: the labs need glibc >= 2.32).
#
# Usage: [AUTOGRADER_ROOT=DIR] [APT_GET=CMD] setup.sh
# It installs what grading needs (apt-get: the compiler, make, iproute2, util-linux, strace, jq; npm
# only when the bundle lacks the pinned bats), gives the kit's scripts back their executable bit (zip
# files do not always keep it), builds the probe and the report writer and starts the test tools
# once, so that a broken image fails here and not per student. The bundle unpacks into ROOT/source
# (ROOT: /autograder); AUTOGRADER_ROOT and APT_GET let the kit's own tests run it without root.
set -euo pipefail
root=${AUTOGRADER_ROOT:-/autograder}
kit=$root/source/socklab
apt=${APT_GET:-apt-get}

# The compiler and make; ss (iproute2); setpriv and unshare (util-linux); timeout and setsid
# (coreutils, util-linux); strace for the tests that trace system calls; jq for run_autograder.
packages=(gcc libc6-dev make iproute2 util-linux coreutils strace jq)
# bats comes in the bundle (node_modules/, the kit's pinned versions); npm only if it does not.
[[ -x $kit/node_modules/bats/bin/bats ]] || packages+=(nodejs npm)
export DEBIAN_FRONTEND=noninteractive
"$apt" update -qq
"$apt" install -y -qq --no-install-recommends "${packages[@]}"

glibc=$(getconf GNU_LIBC_VERSION | awk '{ print $2 }')
if ! printf '%s\n%s\n' 2.32 "$glibc" | sort -V -C; then
	echo "setup.sh: glibc $glibc is too old (the labs need >= 2.32): choose Ubuntu 22.04 or newer as the base image" >&2
	exit 1
fi

# Zip files do not always keep the executable bit: give it back to every script of the kit.
while read -r f; do chmod +x "$kit/$f"; done <"$kit/gradescope.executables"
chmod +x "$root/source/run_autograder"
[[ -e $root/run_autograder ]] && chmod +x "$root/run_autograder"

cd "$kit"
if [[ -x node_modules/bats/bin/bats ]]; then
	# Newer than package.json, so that make never tries npm while grading.
	touch node_modules/.package-lock.json
else
	npm ci --no-audit --no-fund --no-update-notifier --loglevel=error
fi
# The kit's own peer program and the grading reports' writer, built once here; and proof that the
# test tools start.
source tools/lib.sh
quiet_make probe reporter
tools/bats --version
echo "setup.sh: socklab autograder ready in $kit"
