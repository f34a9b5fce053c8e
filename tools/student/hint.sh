#!/usr/bin/env bash
# hint.sh - `make hint`: the hints of a lab's handout ("## Hints"), one at a time, in English or Chinese.
#
# Usage: [HINT_LANG=zh|en] [ALL=1] tools/student/hint.sh [NN-name]
# Each call shows the next hint, numbered, and starts again after the last; ALL=1 shows them all. The
# last hint shown is remembered in build/hints/NN-name (HINT_STATE_DIR: elsewhere). The language is
# HINT_LANG, else the locale's (zh when LC_ALL, LC_MESSAGES or LANG, the first set, starts with zh).
# Without a lab, the first lab not passing in the last make check.
set -u
source "${BASH_SOURCE[0]%/*}/common.sh"

# hints_of DOC: one record per line of each hint, "N<TAB>line" (a hint is a "- " bullet under
# "## Hints" and its indented continuation lines).
hints_of() {
	awk '/^## / { if (inh) exit; inh = ($0 ~ /^## Hints/); next }
		inh && /^- / { n++; sub(/^- /, ""); print n "\t" $0; next }
		inh && n && /^[ \t]+[^ \t]/ { sub(/^[ \t]+/, ""); print n "\t" $0 }' "$1"
}

# show HINTS K N: hint K, numbered, its continuation lines indented under it.
show() {
	local num text first=1 label
	while IFS=$'\t' read -r num text; do
		[[ $num == "$2" ]] || continue
		if ((first)); then printf -v label '%*d.' ${#3} "$2"; first=0; else printf -v label '%*s' $((${#3} + 1)) ''; fi
		printf '  %s %s\n' "$label" "$text"
	done <<<"$1"
}

# The first lab not passing in the last results (no check is run).
last_next() {
	local lab passed total r
	r=$(results_dir "$tree")
	for lab in "${manifest_labs[@]}"; do
		[[ -f $r/$lab.result ]] || { echo "$lab"; return; }
		read -r passed total _ <"$r/$lab.result"
		((passed == total)) || { echo "$lab"; return; }
	done
	echo "${manifest_labs[0]}"
}

lab=${1:-}
if [[ -z $lab ]]; then
	lab=$(last_next)
	printf '%s(no LAB given: %s, the first lab not passing in your last make check)%s\n' "$dim" "$lab" "$off"
fi
lab=$(lab_name "$lab") || exit 2
lang=${HINT_LANG:-${LC_ALL:-${LC_MESSAGES:-${LANG:-}}}}
[[ ${lang,,} == zh* ]] && lang=zh || lang=en
doc=docs/$lab.md
[[ $lang == zh && -f $top/docs/zh/$lab.md ]] && doc=docs/zh/$lab.md
[[ -f $top/$doc ]] || die "no handout $doc"
hints=$(hints_of "$top/$doc")
n=$(tail -n 1 <<<"$hints" | cut -f1)
[[ -n $hints && -n $n ]] || { echo "$doc has no hints."; exit 0; }
states=${HINT_STATE_DIR:-$top/build/hints}
mkdir -p "$states"
state=$states/$lab
nn=${lab%%-*}
if [[ -n ${ALL:-} && ${ALL:-} != 0 ]]; then
	if [[ $lang == zh ]]; then
		printf '%s%s 的全部提示（%d 条，来自 %s）%s\n' "$bold" "$lab" "$n" "$doc" "$off"
	else
		printf '%sAll %d hints for %s (from %s)%s\n' "$bold" "$n" "$lab" "$doc" "$off"
	fi
	for ((k = 1; k <= n; k++)); do show "$hints" "$k" "$n"; done
	echo "$n" >"$state"
	exit 0
fi
k=0
[[ -f $state ]] && read -r k <"$state"
[[ $k =~ ^[0-9]+$ ]] || k=0
k=$((k >= n ? 1 : k + 1))
if [[ $lang == zh ]]; then
	printf '%s%s 的提示 %d/%d（来自 %s）%s\n' "$bold" "$lab" "$k" "$n" "$doc" "$off"
else
	printf '%sHint %d of %d for %s (from %s)%s\n' "$bold" "$k" "$n" "$lab" "$doc" "$off"
fi
show "$hints" "$k" "$n"
echo "$k" >"$state"
if ((k < n)); then
	if [[ $lang == zh ]]; then
		printf '%s下一条：make hint LAB=%s    全部：make hint LAB=%s ALL=1%s\n' "$dim" "$nn" "$nn" "$off"
	else
		printf '%sNext hint: make hint LAB=%s    all of them: make hint LAB=%s ALL=1%s\n' "$dim" "$nn" "$nn" "$off"
	fi
elif [[ $lang == zh ]]; then
	printf '%s这是最后一条提示；再运行 make hint LAB=%s 会从第一条重新开始。%s\n' "$dim" "$nn" "$off"
else
	printf '%sThat was the last hint; make hint LAB=%s starts again from the first.%s\n' "$dim" "$nn" "$off"
fi
