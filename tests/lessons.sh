#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/lessons.sh [--html]    (make lessons; make html)
#
# Boot the VM in lessons mode and keep what every lesson printed: the text
# transcripts in docs/lessons/ (committed; make test checks that they
# still match what the lessons print: tests/test_docs.c), the HTML pages
# in $BUILD/html/ with an index page, and the JSON in $BUILD/lessons/.
# With --html, only the pages and the JSON: no committed file changes.
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"

only_html=0
[ "${1:-}" = --html ] && only_html=1
parts=$BUILD/lessons
html=$BUILD/html
docs=$TOP/docs/lessons
status=0
"$TOP/vm/boot.sh" lessons || status=$?
rm -rf "$parts" "$html"
mkdir -p "$parts" "$html" "$docs"
"$TOP/vm/sections.sh" "$BUILD/vm-lessons/result.log" "$parts/"
[ -s "$parts/KERNEL" ] || die "the lessons VM printed no lesson (see $BUILD/vm-lessons/)"

# The transcripts, and the kernel they were made on (the check skips
# others); then the README's and docs' excerpts of them (tests/docs.sh).
if [ "$only_html" -eq 0 ]; then
	cp "$parts"/*.txt "$parts/KERNEL" "$docs/"
	"$TOP/tests/docs.sh" --update
fi

# The HTML pages, and an index of them.
cp "$parts"/*.html "$html/"
{
	echo '<!DOCTYPE html>'
	echo '<html lang="en"><head><meta charset="utf-8"><title>cowprobe lessons</title>'
	echo '<style>body{font-family:sans-serif;font-size:20px;max-width:50em;margin:2em auto}'
	echo 'li{margin:.4em 0}</style></head><body>'
	echo "<h1>cowprobe lessons</h1><p>Run on Linux $(cat "$parts/KERNEL") in the cowstat VM.</p><ul>"
	for page in "$parts"/*.html; do
		name=$(basename "$page" .html)
		title=$(sed -n 's:.*<h1>\(.*\)</h1>.*:\1:p' "$page" | head -n 1)
		echo "<li><a href=\"$name.html\">$title</a></li>"
	done
	echo '</ul></body></html>'
} >"$html/index.html"
[ "$only_html" -eq 1 ] || echo "lessons: $docs/*.txt"
echo "html: $html/index.html"
exit "$status"
