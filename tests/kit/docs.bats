#!/usr/bin/env bats
# docs: the kit's documents and pictures. Handouts in both languages with the same sections and every
# test name; an errno.md entry for every errno a lab expects or names; the index; links and pictures
# that exist; every picture up to date with its source. Everything is read from labs/manifest and
# the files themselves, so a new lab is checked as soon as its files exist.
load ../lib/socklab

setup() {
	sl_begin
	cd "$SOCKLAB_TOP" || return 1
	mapfile -t LABS < <(awk '!/^#/ && NF { print $1 }' labs/manifest)
	problems=()
}
teardown() { lab_teardown; }

# problem TEXT: remember one thing that is wrong; done: fail listing them all, if any.
problem() { problems+=("$1"); }
done_checking() {
	((${#problems[@]} == 0)) || fail "$(printf '%s\n' "${#problems[@]} problem(s):" "${problems[@]/#/  - }")"
}

# headings FILE...: "FILE<TAB>HEADING" for every heading of level 2 to 6, outside fenced code blocks.
# (One awk for many files: on a loaded machine every process started costs more than the check.)
headings() {
	awk 'FNR == 1 { code = 0 } /^(```|~~~)/ { code = !code; next } !code && /^##+ / { print FILENAME "\t" $0 }' "$@"
}

# slurp VAR FILE: VAR = the contents of FILE, without starting a process.
slurp() {
	local -n into=$1
	into=
	if [[ -f $2 ]]; then IFS= read -rd '' into <"$2" || true; fi
}

# The pairs of documents that must match: each lab's handouts (for the labs that have one), the
# errno explainer, the index, the instructors' and the maintainers' guides.
doc_pairs() {
	local f
	for f in "${LABS[@]/%/.md}" instructors.md maintainers.md; do
		[[ -e docs/$f || -e docs/zh/$f ]] && echo "$f"
	done
	echo errno.md
	echo README.md
}

# Every errno name the C library defines, as the compiler sees them.
errno_names() {
	cc -E -dM -include errno.h - </dev/null | sed -n 's/^#define \(E[A-Z0-9]*\) .*/\1/p' | sort -u
}

# The errno names with an entry ("## ENAME", or "## EAGAIN / EWOULDBLOCK") in an explainer, one a line.
errno_entries() {
	headings "$1" | cut -f2 | grep -oE '^## E[A-Z0-9_]+( / E[A-Z0-9_]+)*' | sed 's/^## //' | tr -s ' /' '\n'
}

@test "docs: every handout has its Chinese counterpart, with the same sequence of ## and ### sections" {
	local f line en zh i pairs=() files=()
	local -A all=()
	mapfile -t pairs < <(doc_pairs)
	for f in "${pairs[@]}"; do
		if [[ -f docs/$f && -f docs/zh/$f ]]; then
			files+=("docs/$f" "docs/zh/$f")
		else
			problem "docs/$f and docs/zh/$f must both exist"
		fi
	done
	while IFS=$'\t' read -r f line; do
		all[$f]+=${all[$f]:+$'\n'}$line
	done < <(headings "${files[@]}")
	for f in "${pairs[@]}"; do
		[[ -f docs/$f && -f docs/zh/$f ]] || continue
		mapfile -t en <<<"${all[docs/$f]:-}"
		mapfile -t zh <<<"${all[docs/zh/$f]:-}"
		if [[ "${en[*]%% *}" != "${zh[*]%% *}" ]]; then
			problem "docs/$f and docs/zh/$f: different section levels or counts (${#en[@]} and ${#zh[@]} headings):
$(diff <(printf '%s\n' "${en[@]}") <(printf '%s\n' "${zh[@]}") | head -n 20 | sed 's/^/      /')"
			continue
		fi
		# A "##" heading in Chinese starts with the English one (a gloss may follow): "## Goal（目标）".
		for i in "${!en[@]}"; do
			[[ ${en[i]} != '## '* || ${zh[i]} == "${en[i]}"* ]] ||
				problem "docs/zh/$f: heading $((i + 1)) \"${zh[i]}\" must start with the English \"${en[i]}\""
		done
	done
	done_checking
}

@test "docs: every test name of every lab is quoted word for word in both handouts" {
	local lab f t d text bats=() n=0
	local -A names=()
	for lab in "${LABS[@]}"; do
		[[ -f tests/$lab.bats ]] && bats+=("tests/$lab.bats")
	done
	((${#bats[@]} > 0)) || fail "no lab tests found: is labs/manifest empty?"
	# "tests/NN-name.bats<TAB>test name" for every test, from one awk.
	while IFS=$'\t' read -r f t; do
		names[$f]+=$t$'\n'
	done < <(awk '/^@test ".*" \{$/ { t = $0; sub(/^@test "/, "", t); sub(/" \{$/, "", t); print FILENAME "\t" t }' "${bats[@]}")
	for f in "${bats[@]}"; do
		lab=${f#tests/}
		lab=${lab%.bats}
		for d in "docs/$lab.md" "docs/zh/$lab.md"; do
			[[ -f $d ]] || { problem "$d is missing ($f exists)"; continue; }
			slurp text "$d"
			while IFS= read -r t; do
				[[ -n $t ]] || continue
				n=$((n + 1))
				[[ $text == *"$t"* ]] || problem "$d does not quote the test \"$t\""
			done <<<"${names[$f]:-}"
		done
	done
	((n > 0)) || problem "no test names found in ${bats[*]}"
	done_checking
}

@test "docs: every errno a lab's tests expect or its program names has an entry in both errno explainers" {
	local lab f name files=()
	local -A known=() en=() zh=() wanted=()
	# Every errno name of the C library, as the compiler sees them.
	while read -r name; do known[$name]=1; done < <(cc -E -dM -include errno.h - </dev/null |
		sed -n 's/^#define \(E[A-Z0-9]*\) .*/\1/p')
	((${#known[@]} > 50)) || fail "could not list the errno names with cc -E -dM -include errno.h"
	while read -r name; do en[$name]=1; done < <(errno_entries docs/errno.md)
	while read -r name; do zh[$name]=1; done < <(errno_entries docs/zh/errno.md)
	for lab in "${LABS[@]}"; do
		for f in "tests/$lab.bats" solutions/"$lab"/*.c; do
			[[ -f $f ]] && files+=("$f")
		done
	done
	((${#files[@]} > 0)) || fail "no lab files found: is labs/manifest empty?"
	# assert_errno CALL ENAME (whatever the name: getaddrinfo's EAI_ codes too), and every other errno
	# name that a test matches or a program names.
	while IFS=: read -r f name; do
		if [[ $name == assert_errno* ]]; then
			name=${name##* }
		elif [[ -z ${known[$name]:-} ]]; then
			continue
		fi
		[[ -n ${wanted[$name]:-} ]] || wanted[$name]=$f
	done < <(grep -oHE 'assert_errno +[a-z_0-9]+ +[A-Z][A-Z0-9_]+|\bE[A-Z][A-Z0-9_]+\b' "${files[@]}")
	((${#wanted[@]} > 0)) || problem "no errno names found in the labs' tests and programs"
	for name in "${!wanted[@]}"; do
		[[ -n ${en[$name]:-} ]] || problem "docs/errno.md has no \"## $name\" entry ($name is in ${wanted[$name]})"
		[[ -n ${zh[$name]:-} ]] || problem "docs/zh/errno.md has no \"## $name\" entry ($name is in ${wanted[$name]})"
	done
	done_checking
}

@test "docs: assert_errno's failure message points to the errno.md entries" {
	# A program that failed with ETIMEDOUT where the test expected ECONNREFUSED.
	local rc=0
	output=$(
		status=1 stderr="prog: connect: ETIMEDOUT (Connection timed out)"
		assert_errno connect ECONNREFUSED 2>&1
	) || rc=$?
	echo "$output"
	((rc != 0)) || fail "assert_errno accepted ETIMEDOUT for ECONNREFUSED"
	assert_output --partial '"## ECONNREFUSED"'
	assert_output --partial '"## ETIMEDOUT"'
	assert_output --partial "docs/errno.md"
	assert_output --partial "docs/zh/errno.md"
}

@test "docs: the index lists every lab of the manifest in order and links its handouts, in both languages" {
	local d f lab prev i found text lines
	for d in docs/README.md docs/zh/README.md; do
		[[ -f $d ]] || { problem "$d is missing"; continue; }
		mapfile -t lines <"$d"
		prev=-1
		for lab in "${LABS[@]}"; do
			found=
			for i in "${!lines[@]}"; do
				[[ ${lines[i]} == *"($lab.md)"* ]] && { found=$i; break; }
			done
			if [[ -z $found ]]; then
				problem "$d has no link to the handout of $lab ($lab.md)"
			elif ((found < prev)); then
				problem "$d lists $lab out of the manifest's order"
			else
				prev=$found
			fi
		done
		slurp text "$d"
		for f in errno.md instructors.md; do
			[[ $text == *"$f)"* ]] || problem "$d does not link $f"
		done
	done
	done_checking
}

@test "docs: every relative link and picture in docs/ and the READMEs leads to a file that exists" {
	local f target n=0
	while IFS=$'\t' read -r f target; do
		n=$((n + 1))
		target=${target%%#*}
		[[ -z $target || -e ${f%/*}/$target ]] || problem "$f links \"$target\", which does not exist"
	done < <(awk 'FNR == 1 { code = 0 } /^(```|~~~)/ { code = !code; next } code { next }
		{ s = $0; while (match(s, /\]\([^)[:space:]]+\)/)) {
			t = substr(s, RSTART + 2, RLENGTH - 3); s = substr(s, RSTART + RLENGTH)
			if (t !~ /^[a-z]+:/) print FILENAME "\t" t } }' docs/*.md docs/zh/*.md ./README*.md)
	((n > 0)) || problem "no links found at all"
	done_checking
}

@test "docs: every picture of pic/ is shown by a handout in English and in Chinese" {
	local p re
	for p in pic/*.png; do
		re=${p//./\\.}
		grep -qE -- "!\[[^]]*\]\(\.\./$re\)" docs/[0-9]*.md || problem "no docs/NN-name.md shows $p (![...](../$p))"
		grep -qE -- "!\[[^]]*\]\(\.\./\.\./$re\)" docs/zh/[0-9]*.md ||
			problem "no docs/zh/NN-name.md shows $p (![...](../../$p))"
	done
	done_checking
}

@test "docs: pic/layout.dot is what pic/layout.c prints, built with this compiler (make pics)" {
	local tmp=$BATS_TEST_TMPDIR
	run_prog cc -std=c11 -O1 -Wall -Wextra -Wpedantic -Werror -o "$tmp/layout" pic/layout.c
	assert_success
	"$tmp/layout" >"$tmp/layout.dot" || fail "pic/layout.c's program failed"
	if ! cmp -s "$tmp/layout.dot" pic/layout.dot; then
		# The committed picture names the machine it was drawn for; another one may lay structures out differently.
		[[ $(head -n 1 "$tmp/layout.dot") == "$(head -n 1 pic/layout.dot)" ]] ||
			skip "pic/layout.dot was drawn for another machine: $(head -n 1 pic/layout.dot)"
		diff -u pic/layout.dot "$tmp/layout.dot" | head -n 30
		fail "pic/layout.dot is not what pic/layout.c prints: run make pics"
	fi
}

@test "docs: every source and rendering in pic/ has the sha256 that make pics recorded in pic/stamp" {
	local f name listed=" "
	[[ -f pic/stamp ]] || fail "pic/stamp is missing: run make pics"
	while read -r _ _ name; do listed+="$name "; done < <(grep '^sha256 ' pic/stamp)
	# sha256sum -c names each file that does not match ("NAME: FAILED") or cannot be read.
	while IFS= read -r f; do
		problem "pic/${f%%: FAILED*} changed since the last make pics (run make pics and commit what it writes)"
	done < <(cd pic && sed -n 's/^sha256 //p' stamp | sha256sum -c 2>/dev/null | grep ': FAILED')
	for f in pic/*; do
		f=${f#pic/}
		case $f in stamp | render | README.md) continue ;; esac
		[[ $listed == *" $f "* ]] || problem "pic/$f is not in pic/stamp: run make pics"
	done
	for f in pic/*.msc pic/*.dot; do
		[[ -f $f ]] || continue
		[[ -s ${f%.*}.svg && -s ${f%.*}.png ]] || problem "$f has no ${f%.*}.svg and ${f%.*}.png: run make pics"
	done
	done_checking
}

# render_check TOOL EXT CMD...: render every pic/*.EXT again with CMD (output file, source appended)
# and compare the SVG with the committed one; skip where TOOL's version differs from pic/stamp's.
render_check() {
	local tool=$1 ext=$2 want have f
	shift 2
	command -v "$tool" >/dev/null || skip "$tool is not installed (Debian/Ubuntu: apt install ${tool/dot/graphviz})"
	want=$(grep "^tool $tool " pic/stamp) || fail "pic/stamp names no $tool version: run make pics"
	have=$(pic/render --versions | grep "^tool $tool ")
	[[ $have == "$want" ]] || skip "pic/ was rendered with \"${want#tool }\", this machine has \"${have#tool }\""
	for f in pic/*."$ext"; do
		"$@" "$BATS_TEST_TMPDIR/out.svg" "$f" >/dev/null 2>&1 || { problem "$tool fails on $f"; continue; }
		cmp -s "$BATS_TEST_TMPDIR/out.svg" "${f%.*}.svg" ||
			problem "${f%.*}.svg is not what $tool makes of $f: run make pics"
	done
	done_checking
}

@test "docs: mscgen renders each pic/*.msc to its committed SVG (where pic/stamp's mscgen version is installed)" {
	render_check mscgen msc mscgen -T svg -o
}

@test "docs: dot renders each pic/*.dot to its committed SVG (where pic/stamp's Graphviz and font are installed)" {
	render_check dot dot dot -Tsvg -o
}

@test "docs: each handout links the other language's version, and the Chinese lab handouts gloss every ## heading the same way" {
	local f n en zh line name gloss
	local -A seen=()
	while IFS= read -r f; do
		[[ -f docs/$f && -f docs/zh/$f ]] || continue
		grep -qF "](zh/$f)" "docs/$f" || problem "docs/$f does not link its Chinese version (zh/$f)"
		grep -qF "](../$f)" "docs/zh/$f" || problem "docs/zh/$f does not link its English version (../$f)"
	done < <(doc_pairs)
	# "## Goal（目标）": the English heading and a Chinese gloss; one gloss per heading in every lab.
	while IFS=$'\t' read -r f line; do
		[[ $line == '## '* ]] || continue
		if [[ ! $line =~ ^##\ ([^（]+)（([^）]+)）$ ]]; then
			problem "$f: \"$line\" has no Chinese gloss: write it as \"## English（中文）\""
			continue
		fi
		name=${BASH_REMATCH[1]} gloss=${BASH_REMATCH[2]}
		if [[ -n ${seen[$name]:-} && ${seen[$name]%%$'\t'*} != "$gloss" ]]; then
			problem "$f: \"## $name\" is glossed \"$gloss\" here but \"${seen[$name]%%$'\t'*}\" in ${seen[$name]#*$'\t'}"
		else
			seen[$name]=$gloss$'\t'$f
		fi
	done < <(headings docs/zh/[0-9][0-9]-*.md)
	done_checking
}

@test "docs: the Chinese documents use one style: “quotes”, the —— dash, and one term per idea" {
	local f line
	# Outside code (fenced blocks, indented blocks, `spans`; a line with an odd number of backticks
	# continues a span and is left alone): ASCII double quotes and a lone em dash are the other style.
	while IFS= read -r line; do
		problem "$line"
	done < <(awk 'FNR == 1 { code = 0 } /^ *(```|~~~)/ { code = !code; next } code || /^    / { next }
		{ s = $0; n = gsub(/`/, "`", s); if (n % 2) next; gsub(/`[^`]*`/, "", s)
		  if (s ~ /"/) print FILENAME ":" FNR ": ASCII quotes \"...\" in prose: write “...”"
		  t = s; gsub(/——/, "", t); if (t ~ /—/) print FILENAME ":" FNR ": a single — : write ——" }' \
		docs/zh/*.md README.zh-CN.md docs/student/README.zh-CN.md)
	# One term per idea: the course notes are 课程笔记, sin6_scope_id is the 作用域编号.
	while IFS= read -r line; do
		problem "$line"
	done < <(grep -nE '课程讲义|接口编号' docs/zh/*.md README.zh-CN.md docs/student/README.zh-CN.md | sed 's/$/ (use 课程笔记 for the course notes, 作用域编号 for the scope id)/')
	done_checking
}

# todo_texts: "FILE:LINE<TAB>text" for every line of every TODO text of the solutions (the starter
# comment of a marked region, which make starters turns into the student's TODO).
todo_texts() {
	awk 'FNR == 1 { t = 0 } /BEGIN SOLUTION TODO\(/ { t = 1 }
		t { print FILENAME ":" FNR "\t" $0 } t && /\*\// { t = 0 }' solutions/*/*.c
}

@test "docs: no TODO text spells a call with its arguments: it names the man page, connect(2), and the hints give the how" {
	local where line rest n=0
	# An identifier right before "(" is a call (bind(fd, ...), die("bind"), sizeof(addr), even
	# getsockname()), unless what the parentheses hold is a man page section (connect(2), tcp(7))
	# or it is the TODO's own id.
	while IFS=$'\t' read -r where line; do
		n=$((n + 1))
		rest=$(sed -E 's/TODO\([0-9]{2}\.[0-9]+\)//g; s/\b[A-Za-z_][A-Za-z0-9_]*\([0-9][a-z]*\)//g' <<<"$line")
		if [[ $rest =~ [A-Za-z_][A-Za-z0-9_]*\( ]]; then
			problem "$where: \"${BASH_REMATCH[0]}...\" spells a call: say what to achieve and why, name the man page; the call goes to the handout's Hints"
		fi
	done < <(todo_texts)
	((n > 0)) || problem "no TODO text found in solutions/"
	done_checking
}

# hints FILE: the "- " bullets of the "## Hints" section, one a line (continuation lines joined).
hint_bullets() {
	awk '/^## / { if (inh) exit; inh = ($0 ~ /^## Hints/); next }
		inh && /^- / { if (h != "") print h; h = $0; next }
		inh && h != "" && /^[ \t]+[^ \t]/ { sub(/^[ \t]+/, " "); h = h $0; next }
		END { if (h != "") print h }' "$1"
}

@test "docs: every TODO has hints in both languages (make hint), and both handouts give the same number of hints" {
	local lab nn id d en zh
	for lab in "${LABS[@]}"; do
		[[ -d solutions/$lab && -f docs/$lab.md && -f docs/zh/$lab.md ]] || continue
		nn=${lab%%-*}
		en=$(hint_bullets "docs/$lab.md")
		zh=$(hint_bullets "docs/zh/$lab.md")
		[[ -n $en ]] || problem "docs/$lab.md has no hints under \"## Hints\""
		(($(grep -c . <<<"$en") == $(grep -c . <<<"$zh"))) ||
			problem "docs/$lab.md has $(grep -c . <<<"$en") hints, docs/zh/$lab.md $(grep -c . <<<"$zh"): make hint must show the same ones in both languages"
		for id in $(cat solutions/"$lab"/*.c | grep -o "TODO($nn\.[0-9]*)" | sort -u); do
			grep -qF -- "$id" <<<"$en" || problem "docs/$lab.md: no hint names $id"
			grep -qF -- "$id" <<<"$zh" || problem "docs/zh/$lab.md: no hint names $id"
		done
		# The hints of one TODO in the same order in both languages.
		[[ $(grep -o "TODO($nn\.[0-9]*)" <<<"$en" | tr '\n' ' ') == $(grep -o "TODO($nn\.[0-9]*)" <<<"$zh" | tr '\n' ' ') ]] ||
			problem "docs/$lab.md and docs/zh/$lab.md name the TODOs in their hints in a different order"
	done
	done_checking
}
