#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/docs.sh [--update]    (make check; make lessons updates)
#
# The output the README and docs/ show is copied from generated files,
# never pasted: a code block right after a line
#	<!-- from FILE "FIRST" "STOP" -->
# must hold the lines of FILE from the first one that starts with FIRST up
# to the one before the first after it that starts with STOP (trailing
# blank lines dropped; an empty STOP: to the end).  This checks every such
# block; --update rewrites them from their files instead.
set -euo pipefail
cd "$(dirname "$0")/.."
update=0
[ "${1:-}" = --update ] && update=1
status=0

# The lines a marker names, from its file.
excerpt() {	# excerpt FILE FIRST STOP
	awk -v first="$2" -v stop="$3" '
		!on && index($0, first) == 1 { on = 1 }
		on && seen && stop != "" && index($0, stop) == 1 { exit }
		on { seen = 1; lines[++n] = $0 }
		END { while (n > 0 && lines[n] == "") n--; for (i = 1; i <= n; i++) print lines[i] }' "$1"
}

for doc in README.md docs/*.md; do
	tmp=$(mktemp)
	out=$(mktemp)
	: >"$out"
	changed=0
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s\n' "$line" >>"$out"
		if [[ $line =~ ^\<\!--\ from\ ([^ ]+)\ \"([^\"]*)\"\ \"([^\"]*)\"\ --\>$ ]]; then
			src=${BASH_REMATCH[1]} first=${BASH_REMATCH[2]} stop=${BASH_REMATCH[3]}
			[ -f "$src" ] || { echo "$doc: no $src"; status=1; continue; }
			excerpt "$src" "$first" "$stop" >"$tmp"
			IFS= read -r fence
			[ "$fence" = '```' ] || { echo "$doc: no code block after the marker of $src"; status=1; printf '%s\n' "$fence" >>"$out"; continue; }
			block=$(mktemp)
			while IFS= read -r l && [ "$l" != '```' ]; do printf '%s\n' "$l"; done >"$block"
			if ! cmp -s "$tmp" "$block"; then
				changed=1
				if [ "$update" -eq 0 ]; then
					echo "$doc: the block from $src (\"$first\") differs from the file:"
					diff "$block" "$tmp" | head -n 6 || true
					status=1
				fi
			fi
			{ echo '```'; cat "$tmp"; echo '```'; } >>"$out"
			rm -f "$block"
		fi
	done <"$doc"
	if [ "$update" -eq 1 ] && [ "$changed" -eq 1 ]; then
		cp "$out" "$doc"
		echo "docs: updated $doc"
	fi
	rm -f "$tmp" "$out"
done
[ "$update" -eq 1 ] || [ "$status" -ne 0 ] || echo "ok - every generated block of README.md and docs/ matches its file"
exit "$status"
