#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/cow-selftest.sh    (run by make test-stress)
#
# Build the kernel's own COW selftest, tools/testing/selftests/mm/cow.c
# (with vm_util.c and thp_settings.c) from Debian's linux-source-6.12,
# statically, against that tree's uapi headers (make headers_install), into
# $BUILD/selftests/cow for the guest.  What it needs of the tree is
# unpacked once into the cache directory vm/debug-kernel.sh uses, outside
# the repository.  Built without liburing: its io_uring cases skip.
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"

tarball=/usr/src/linux-source-6.12.tar.xz
install_missing linux-source-6.12
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
cache=${COWSTAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cowstat}/linux-source-$srcver
out=$BUILD/selftests/cow

if [ ! -f "$cache/done" ]; then
	echo "cow-selftest: unpacking what cow.c needs of linux-source-$srcver into $cache"
	rm -rf "$cache"
	mkdir -p "$cache"
	tar -xJf "$tarball" -C "$cache" --strip-components=1 \
		linux-source-6.12/Makefile linux-source-6.12/Kbuild linux-source-6.12/Kconfig \
		linux-source-6.12/arch/x86 linux-source-6.12/include linux-source-6.12/init \
		linux-source-6.12/scripts linux-source-6.12/usr linux-source-6.12/mm/gup_test.h \
		linux-source-6.12/tools/include linux-source-6.12/tools/testing/selftests/kselftest.h \
		linux-source-6.12/tools/testing/selftests/mm
	make -s -C "$cache" ARCH=x86 INSTALL_HDR_PATH="$cache/uapi" headers_install
	touch "$cache/done"
fi

mm=$cache/tools/testing/selftests/mm
[ -f "$out" ] && [ "$out" -nt "$cache/done" ] && exit 0
mkdir -p "$(dirname "$out")" "$BUILD/selftests/include"
# The selftests' Makefile writes local_config.h after probing for liburing.
echo '/* no liburing: the io_uring cases skip */' >"$BUILD/selftests/include/local_config.h"
gcc -O2 -static -pthread -isystem "$cache/uapi/include" -I"$BUILD/selftests/include" -I"$mm" \
	-o "$out" "$mm/cow.c" "$mm/vm_util.c" "$mm/thp_settings.c"
echo "cow-selftest: $out (from linux-source-$srcver)"
