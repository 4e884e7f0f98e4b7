#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/html.sh    (make test-html, after make html)
#
# The lesson pages as a user sees them: headless Chromium (Debian's
# chromium, installed here when missing) renders build/html/split.html and
# thp.html; the rendered page must have every step and every page-map cell
# that the lesson's JSON has (build/lessons/LESSON.json, from the same
# VM run), and a screenshot of each is saved next to it (LESSON.png).
# Prints "ok" / "not ok" lines, then "N passed, N failed".
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"

install_missing chromium
html=$BUILD/html

# Chromium as root needs --no-sandbox; no GPU, no first-run UI.
chrome() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--no-first-run "$@" 2>/dev/null
}

for lesson in split thp; do
	page=$html/$lesson.html json=$BUILD/lessons/$lesson.json
	if [ ! -s "$page" ] || [ ! -s "$json" ]; then
		result 0 "$lesson: page and JSON" "no $page or $json: run make html"
		continue
	fi
	dom=$(chrome --dump-dom "file://$page" || true)
	# What the lesson's JSON has: its steps, and a map character a page.
	want_steps=$(grep -c '"step":' "$json")
	want_cells=$(grep -o '"map":"[^"]*"' "$json" | sed 's/^"map":"//; s/"$//' | tr -d '\n' | wc -c)
	# What the browser built: its step sections, and the cells of their maps
	# (the legend's sample cells come before the first step).
	steps=$(grep -o '<section class="step"' <<<"$dom" | wc -l)
	cells=$(sed -n '/<section class="step"/,$p' <<<"$dom" | grep -o 'class="pg s' | wc -l)
	result "$([ "$steps" -eq "$want_steps" ] && [ "$steps" -gt 0 ] && echo 1 || echo 0)" \
		"$lesson: the page shows the $want_steps steps of the JSON" "the page has $steps"
	result "$([ "$cells" -eq "$want_cells" ] && [ "$cells" -gt 0 ] && echo 1 || echo 0)" \
		"$lesson: the page draws the $want_cells page-map cells of the JSON" "the page has $cells"
	chrome --window-size=1280,2400 --screenshot="$html/$lesson.png" "file://$page" >/dev/null || true
	result "$([ -s "$html/$lesson.png" ] && echo 1 || echo 0)" "$lesson: screenshot $html/$lesson.png"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
