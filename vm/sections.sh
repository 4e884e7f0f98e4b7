#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: vm/sections.sh RESULT_LOG PREFIX
#
# Split what a guest wrote to its result port into files: each part after
# a line "== NAME" goes to PREFIXNAME.csv, or to PREFIXNAME when NAME has
# an extension or is in capitals; "#" comment lines of CSV are printed.
set -euo pipefail
tr -d '\r' <"$1" | grep -v '^cowstat-vm: exit' |
	awk -v prefix="$2" '/^== / { csv = $2 !~ /[.]/ && $2 !~ /^[A-Z]+$/
				     file = prefix $2 (csv ? ".csv" : ""); printf "" > file; next }
			    csv && /^#/ { print; next }
			    file { print >> file }'
