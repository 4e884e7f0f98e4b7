#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/check.sh    (make check)
#
# Static checks, all of which must be clean:
#  - checkpatch.pl --strict (from Debian's linux-source-6.1) on module/;
#  - the module built with sparse (C=2) and W=1, warnings as errors,
#    against the headers of every kernel vm/kver.sh --tested names
#    (Debian 13's in the trixie root, vm/buildroot.sh), or KDIR alone;
#  - userprobe/ and tests/ built with -Wall -Wextra -Werror (make all),
#    and cppcheck;
#  - the image the same built in two folders (tests/repro.sh);
#  - vm/config.sh's apt-get waits for a lock that another apt holds
#    (tests/apt-lock.sh).
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"
cd "$TOP"

# The module is checked against every supported kernel (KDIR: that one only).
if [ -n "${KDIR:-}" ]; then
	releases=(KDIR)
else
	mapfile -t releases < <("$TOP/vm/kver.sh" --tested)
	[ ${#releases[@]} -gt 0 ] || die "vm/kver.sh --tested found no kernels"
fi
tarball=/usr/src/linux-source-6.1.tar.xz

host_headers=()
for rel in "${releases[@]}"; do
	[ "$rel" = KDIR ] || "$TOP/vm/buildroot.sh" needed "$rel" || host_headers+=("linux-headers-$rel")
done
install_missing sparse cppcheck linux-source-6.1 "${host_headers[@]}"

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

for rel in "${releases[@]}"; do
	step "sparse (C=2) and W=1, warnings as errors: $rel"
	flags=(C=2 W=1 KCFLAGS=-Werror modules)
	if [ "$rel" = KDIR ]; then
		log=$(make -s -C "$KDIR" M="$TOP" "${flags[@]}" 2>&1) || fail "module build against $KDIR"
	elif "$TOP/vm/buildroot.sh" needed "$rel"; then
		"$TOP/vm/buildroot.sh" headers "$rel"
		log=$("$TOP/vm/buildroot.sh" run make -s -C "/usr/src/linux-headers-$rel" M=/src \
			"${flags[@]}" 2>&1) || fail "module build against $rel (trixie root)"
	else
		log=$(make -s -C "/usr/src/linux-headers-$rel" M="$TOP" "${flags[@]}" 2>&1) ||
			fail "module build against $rel"
	fi
	if grep -E 'warning:|error:' <<<"$log"; then
		fail "sparse or W=1 against $rel"
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

step "one version: VERSION, dkms.conf, debian/changelog"
v=$(cat "$TOP/VERSION")
dkms_v=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf")
deb_v=$(sed -n '1s/^cowstat (\([^)]*\)).*/\1/p' "$TOP/debian/changelog")
if [ "$dkms_v" = "$v" ] && [ "$deb_v" = "$v" ]; then
	echo "ok - version $v everywhere"
else
	echo "not ok - VERSION $v, dkms.conf $dkms_v, debian/changelog $deb_v"
	fail "versions"
fi

step "docs: README.md and docs/ show their generated files"
"$TOP/tests/docs.sh" || fail "tests/docs.sh (make lessons updates the excerpts)"

step "reproducible: the image built in two folders"
"$TOP/tests/repro.sh" || fail "tests/repro.sh"

step "apt waits for another apt's lock"
"$TOP/tests/apt-lock.sh" || fail "tests/apt-lock.sh"

if [ "$failed" -ne 0 ]; then
	echo "make check: FAILED"
	exit 1
fi
echo "make check: all clean"
