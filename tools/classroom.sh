#!/usr/bin/env bash
# classroom.sh - hand the points of `make grade` to GitHub Classroom (the workflow in
# .github/workflows/socklab.yml runs it after make grade).
#
# Usage: tools/classroom.sh [REPORT_DIR]     (default build/report)
# From REPORT_DIR/results.json it writes one Classroom "runner" result (result=BASE64 in
# $GITHUB_OUTPUT: a test per grading test, whose scores Classroom adds up to "Points X/Y"), and the
# points, make grade's table and the failed tests as Markdown to $GITHUB_STEP_SUMMARY and stdout.
# Without those variables it writes stdout and REPORT_DIR/classroom.json. Without a readable
# results.json: an "error" result with 0 points, and still exit status 0.
set -euo pipefail
source "${BASH_SOURCE[0]%/*}/lib.sh"
report=${1:-$top/build/report}
json=$report/results.json
command -v jq >/dev/null || { echo "classroom.sh needs jq (Debian/Ubuntu: sudo apt install jq)" >&2; exit 2; }
mkdir -p "$report"

if [[ -f $json ]] && jq -e '.tests | type == "array"' "$json" >/dev/null 2>&1; then
	# One Classroom test per grading test; its score is the points it earned. The reporter gets
	# the result through an environment variable (at most 128 KiB): keep the messages short.
	for cut in 800 150 0; do
		jq -c --argjson cut "$cut" '{
			version: 1,
			status: (if [.tests[] | select((.score // 0) < (.max_score // 0))] | length == 0 then "pass" else "fail" end),
			max_score: (.max_score // ([.tests[].max_score // 0] | add) // 0),
			tests: [.tests[] | {
				name: .name,
				status: (if (.score // 0) >= (.max_score // 0) then "pass" else "fail" end),
				score: (.score // 0),
				message: (if (.score // 0) >= (.max_score // 0) then "" else (.output // "") | .[0:$cut] end)
			}]
		}' "$json" >"$report/classroom.json"
		(($(wc -c <"$report/classroom.json") < 80000)) && break
	done
	# The total of the tests must be make grade's total (Classroom adds the tests up).
	jq -ne --slurpfile g "$json" --slurpfile c "$report/classroom.json" \
		'($g[0].score // 0) - ([$c[0].tests[].score] | add // 0) | fabs < 0.001' >/dev/null ||
		echo "::warning::the tests' points do not add up to make grade's score"
else
	echo "::error::make grade wrote no readable $json: the grading itself failed (see the log above)"
	jq -cn --arg msg "make grade wrote no results.json; see the workflow log" \
		'{version: 1, status: "error", max_score: 0, tests: [{name: "socklab grading", status: "error", score: 0, message: $msg}]}' \
		>"$report/classroom.json"
fi

read -r score max < <(jq -r '[([.tests[].score] | add // 0), .max_score] | map(. * 100 | round / 100) | "\(.[0]) \(.[1])"' \
	"$report/classroom.json")
summary() {
	printf '## socklab: %s / %s points\n\n' "$score" "$max"
	if [[ -f $report/summary.txt ]]; then
		# The labs' lines first; every test's in a block that opens on a click.
		printf '```\n'
		sed 's/\x1b\[[0-9;]*m//g' "$report/summary.txt" | grep -v '^  '
		printf '```\n\n<details><summary>Every test</summary>\n\n```\n'
		sed 's/\x1b\[[0-9;]*m//g' "$report/summary.txt"
		printf '```\n\n</details>\n'
	fi
	local failed
	failed=$(jq -r '.tests[] | select(.status != "pass") | "- " + .name' "$report/classroom.json")
	if [[ -n $failed ]]; then
		printf '\n### Tests that did not pass (%s)\n%s\n' "$(wc -l <<<"$failed")" "$(head -n 20 <<<"$failed")"
		(($(wc -l <<<"$failed") <= 20)) || printf -- '- ...\n'
		printf '\nEvery test is explained in its handout (docs/NN-name.md, "What the tests check"). The whole\n'
		printf 'report (summary.txt, junit.xml, results.json) is the run'"'"'s artifact socklab-report.\n'
		printf 'The same grading on your machine: make grade (or make check LAB=NN).\n'
	fi
}
summary
[[ -n ${GITHUB_STEP_SUMMARY:-} ]] && summary >>"$GITHUB_STEP_SUMMARY"
[[ -n ${GITHUB_OUTPUT:-} ]] && echo "result=$(base64 -w0 <"$report/classroom.json")" >>"$GITHUB_OUTPUT"
exit 0
