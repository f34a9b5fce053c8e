# common.sh - what the student's commands share (next.sh, hint.sh, watch.sh, reset.sh source it), on top
# of tools/lib.sh: the tree (TREE_DIR, default labs/), how the student names it, die, the LAB argument.
#
# Usage: source "${BASH_SOURCE[0]%/*}/common.sh"
source "${BASH_SOURCE[0]%/*}/../lib.sh"
tree=${TREE_DIR:-$top/labs}
tree=${tree%/}
# How the student calls things, for the messages: the tree under the kit, and " TREE=..." when it is
# not labs/.
show_tree=${tree#"$top"/}
tree_arg=
[[ $tree == "$top/labs" ]] || tree_arg=" TREE=$show_tree"

die() { echo "$*" >&2; exit 2; }

# lab_arg COMMAND ARG: the lab ARG names (3, 03, 03-bind), which COMMAND (make watch...) needs.
lab_arg() {
	[[ -n $2 ]] || die "make $1 needs LAB=NN, e.g. make $1 LAB=03"
	lab_name "$2" || exit 2
}
