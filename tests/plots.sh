#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/plots.sh    (make plots)
#
# Boot the benchmark VM (guest clock = guest instructions) in plots mode,
# split the CSV it prints into $BUILD/plots/LESSON.csv, and chart them
# with userprobe/plot.sh.
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"

out=$BUILD/plots
"$TOP/vm/boot.sh" plots
mkdir -p "$out"
"$TOP/vm/sections.sh" "$BUILD/vm-plots/result.log" "$out/"
"$TOP/userprobe/plot.sh" "$out"
