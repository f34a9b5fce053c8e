#!/usr/bin/env bats
# transcripts: the handouts' measured output stays true. A fenced block right after a line
# `<!-- transcript: NAME -->` in docs/NN-name.md, docs/zh/NN-name.md or an errno explainer is what
# tests/kit/transcripts/NAME.sh prints when it runs, here and now, in a network namespace of its own
# (unshare -rn: nothing it sends can leave the machine). Values that change from run to run are
# placeholders in the handout: <port>, <inode>. A scenario that holds for some kernels only says so
# (`# kernel: >= X.Y`) and is skipped elsewhere, with the reason; the handout's prose names the same
# versions. Slow scenarios (SYN timeouts) are tagged slow: they run in make test-full.
#
# To add one: write tests/kit/transcripts/NAME.sh (see tests/kit/transcripts/lib.sh), put its output under a
# marker in both languages' handouts, and add a test below.
load ../lib/socklab

setup_file() {
	RUN=$BATS_FILE_TMPDIR/run
	export RUN
	mkdir -p "$RUN/build/labs" "$RUN/build/probe" "$RUN/bin"
	[[ -d $SOCKLAB_TOP/solutions ]] || return 0
	# The kit's experiment program, the probe (the kit's own build when it is up to date), and the lab
	# programs the scenarios run, from solutions/: compiled side by side.
	local cc=(cc -std=c11 -O1 -Wall -Wextra -Wpedantic -Werror -I"$SOCKLAB_TOP/include") p pids=() pid
	"${cc[@]}" -o "$RUN/bin/tx" "$SOCKLAB_TOP/tests/kit/transcripts/tx.c" &
	pids+=($!)
	if [[ -x $PROBE && $PROBE -nt $SOCKLAB_TOP/tests/lib/probe.c ]]; then
		ln -s "$PROBE" "$RUN/build/probe/probe"
	else
		"${cc[@]}" -o "$RUN/build/probe/probe" "$SOCKLAB_TOP/tests/lib/probe.c" &
		pids+=($!)
	fi
	for p in $(sed -n 's/^# needs: //p' "$SOCKLAB_TOP"/tests/kit/transcripts/*.sh | tr ' ' '\n' | sort -u); do
		mkdir -p "$RUN/build/labs/${p%/*}"
		"${cc[@]}" -o "$RUN/build/labs/$p" "$SOCKLAB_TOP/solutions/$p.c" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || return 1
	done
}

setup() {
	sl_begin
	cd "$SOCKLAB_TOP" || return 1
}
teardown() { lab_teardown; }

# blocks NAME: "FILE" lines, one per document that marks a transcript NAME, each followed by the
# block's lines and a line "@@end".
blocks() {
	awk -v want="$1" '
		FNR == 1 { state = 0 }
		state == 2 && /^```/ { print "@@end"; state = 0; next }
		state == 2 { print; next }
		state == 1 { if (/^```/) { print FILENAME; state = 2 } else state = 0; next }
		$0 == "<!-- transcript: " want " -->" { state = 1 }
	' docs/*.md docs/zh/*.md
}

# kernel_at_least X.Y: this kernel's version is X.Y or newer.
kernel_at_least() {
	local want=$1 have
	have=$(uname -r)
	have=${have%%[!0-9.]*}
	[[ $(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n 1) == "$want" ]]
}

# transcript NAME: run tests/kit/transcripts/NAME.sh in a namespace of its own and compare what it prints
# with every block marked NAME, in English and in Chinese.
transcript() {
	local name=$1 file=tests/kit/transcripts/$1.sh want got docs=() f line rc=0
	[[ -f $file ]] || fail "$file is missing"
	[[ -d solutions ]] || skip "the transcripts run the reference programs: this copy has no solutions/"
	want=$(sed -n 's/^# kernel: >= //p' "$file")
	[[ -z $want ]] || kernel_at_least "$want" ||
		skip "the handouts' $name transcript holds for Linux >= $want; this is Linux $(uname -r)"
	unshare -rn true 2>/dev/null ||
		skip "needs unprivileged user namespaces (unshare -rn), which this machine does not allow"
	local err=$BATS_TEST_TMPDIR/scenario.err
	# shellcheck disable=SC2016 # the script is for the inner bash, which expands it
	got=$(cd "$RUN" && PATH=$RUN/bin:$PATH timeout -k 1 25 unshare -rn bash -c \
		'for f in /proc/$$/fd/*; do f=${f##*/}; ((f > 2)) && eval "exec $f>&-"; done 2>/dev/null
		TRANSCRIPT_NETNS=1 && ip link set lo up && . "$1/lib.sh" && . "$1/$2.sh"' _ "$SOCKLAB_TOP/tests/kit/transcripts" "$name" 2>"$err") || rc=$?
	((rc != 77)) || skip "the $name scenario $(<"$err") here"
	echo "tests/kit/transcripts/$name.sh printed (exit status $rc):"
	sl_indent "$got"
	echo "stderr:"
	sl_indent "$(<"$err")"
	((rc == 0)) || fail "the scenario failed (exit status $rc)"
	local -A text=()
	f=
	while IFS= read -r line; do
		if [[ -z $f ]]; then
			f=$line
			docs+=("$f")
		elif [[ $line == @@end ]]; then
			f=
		else
			text[$f]+=$line$'\n'
		fi
	done < <(blocks "$name")
	local en=0 zh=0
	for f in "${docs[@]}"; do
		[[ $f == docs/zh/* ]] && zh=1 || en=1
		if [[ ${text[$f]%$'\n'} != "$got" ]]; then
			echo "$f shows:"
			sl_indent "${text[$f]%$'\n'}"
			diff <(echo "${text[$f]%$'\n'}") <(echo "$got") | head -n 20 | sed 's/^/    /'
			fail "$f's transcript $name is not what the kernel says now (above: the handout, then the diff to this run)"
		fi
	done
	((en && zh)) || fail "the transcript $name must be marked (<!-- transcript: $name -->) in an English and a Chinese handout"
}

@test "transcripts: every marker names a scenario, every scenario has a test and is marked in both languages" {
	local f name problems=()
	while IFS= read -r name; do
		[[ -f tests/kit/transcripts/$name.sh ]] || problems+=("a handout marks \"$name\", but tests/kit/transcripts/$name.sh is missing")
	done < <(sed -n 's/^<!-- transcript: \(.*\) -->$/\1/p' docs/*.md docs/zh/*.md | sort -u)
	for f in tests/kit/transcripts/*.sh; do
		name=${f##*/}
		name=${name%.sh}
		[[ $name == lib ]] && continue
		grep -qx "<!-- transcript: $name -->" docs/*.md || problems+=("no English handout shows the transcript $name")
		grep -qx "<!-- transcript: $name -->" docs/zh/*.md || problems+=("no Chinese handout shows the transcript $name")
		grep -q "^	transcript $name\$" tests/kit/transcripts.bats || problems+=("tests/kit/transcripts.bats does not run $name")
	done
	((${#problems[@]} == 0)) || fail "$(printf '%s\n' "${problems[@]}")"
}

@test "transcripts: 01-afpf: glibc defines AF_x as PF_x" {
	transcript 01-afpf
}

@test "transcripts: 01-bindcheck: bind() checks the length, then the family, and ignores sin_zero" {
	transcript 01-bindcheck
}

@test "transcripts: 02-protocols: protocols 255, 256, 261 EPROTONOSUPPORT, 262 MPTCP, 263 EINVAL" {
	transcript 02-protocols
}

@test "transcripts: 02-states: ss lists neither an unbound nor a bound, not listening TCP socket" {
	transcript 02-states
}

@test "transcripts: 03-reuse: SO_REUSEADDR lets two sockets bind one port but only one listen; SO_REUSEPORT lets both listen" {
	transcript 03-reuse
}

@test "transcripts: 04-synq: the SYN queue holds min(backlog, somaxconn) + 1 requests, then cookies or drops" {
	transcript 04-synq
}

@test "transcripts: 06-ephemeral: one ephemeral port serves connections to different destinations" {
	transcript 06-ephemeral
}

@test "transcripts: 07-synsettings: tcp_syn_retries 6 and tcp_syn_linear_timeouts 4 by default" {
	transcript 07-synsettings
}

# bats test_tags=slow
@test "transcripts: 07-syncnt: TCP_SYNCNT 1 sends the SYN three times and gives up after 3 s" {
	transcript 07-syncnt
}

# bats test_tags=slow
@test "transcripts: 07-arp: a wrong address on the local link fails with EHOSTUNREACH after about 3 s" {
	transcript 07-arp
}

@test "transcripts: 11-gai: glibc's order of the wildcard and loopback addresses" {
	transcript 11-gai
}
