#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/check.sh    (make check)
#
# Static checks, all of which must be clean:
#  - checkpatch.pl --strict (from Debian's linux-source-6.1) on module/;
#  - the module built with sparse (C=2) and W=1, warnings as errors,
#    against Debian 12's 6.1 and 6.12 headers (or KDIR alone);
#  - userprobe/ and tests/ built with -Wall -Wextra -Werror (make all),
#    and cppcheck;
#  - the image the same built in two folders (tests/repro.sh);
#  - vm/config.sh's apt-get waits for a lock that another apt holds
#    (tests/apt-lock.sh).
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"
cd "$TOP"

# The module is checked against both of Debian 12's kernels (KDIR: that one only).
if [ -n "${KDIR:-}" ]; then
	kdirs=("$KDIR")
else
	kdirs=("/usr/src/linux-headers-$(kver)" "/usr/src/linux-headers-$("$TOP/vm/kver.sh" 6.12)")
fi
tarball=/usr/src/linux-source-6.1.tar.xz

install_missing sparse cppcheck linux-source-6.1 "${kdirs[@]#/usr/src/}"

failed=0
step() { printf '== %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*"; failed=1; }

step "checkpatch.pl --strict"
cp_dir=$BUILD/checkpatch
if [ ! -f "$cp_dir/scripts/checkpatch.pl" ]; then
	mkdir -p "$cp_dir"
	tar -xJf "$tarball" -C "$cp_dir" --strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
fi
sources=$(git ls-files 'module/*.c' 'module/*.h')
# shellcheck disable=SC2086
perl "$cp_dir/scripts/checkpatch.pl" --strict --no-tree --quiet --show-types -f $sources ||
	fail "checkpatch"

for kdir in "${kdirs[@]}"; do
	step "sparse (C=2) and W=1, warnings as errors: ${kdir#/usr/src/linux-headers-}"
	log=$(make -s -C "$kdir" M="$TOP" C=2 W=1 KCFLAGS=-Werror modules 2>&1) ||
		fail "module build against $kdir"
	if grep -E 'warning:|error:' <<<"$log"; then
		fail "sparse or W=1 against $kdir"
	fi
done

step "userprobe/ and tests/: -Wall -Wextra -Werror"
make -s -B userprobe/cowprobe tests/cowstat_test || fail "userspace build"

step "cppcheck"
# variableScope wants declarations moved into inner blocks; kernel style
# (which tools/ follows in userspace) declares them at the top.
cppcheck --std=c11 --enable=warning,style,performance,portability \
	--suppress=variableScope --error-exitcode=1 --inline-suppr -q \
	-Iuserprobe userprobe tests || fail "cppcheck"

step "reproducible: the image built in two folders"
"$TOP/tests/repro.sh" || fail "tests/repro.sh"

step "apt waits for another apt's lock"
"$TOP/tests/apt-lock.sh" || fail "tests/apt-lock.sh"

if [ "$failed" -ne 0 ]; then
	echo "make check: FAILED"
	exit 1
fi
echo "make check: all clean"
