#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: vm/debug-kernel.sh [--print-dir]
#
# Build, once, the debug kernel of `make test-debug`: Debian's
# linux-source-6.1 (the same 6.1 as the VM's kernel) configured with
# x86_64_defconfig + kernel/configs/kvm_guest.config + vm/debug.config
# (KASAN, lockdep, kmemleak, DEBUG_VM, PAGE_TABLE_CHECK, fault injection,
# ...), not Debian's full config, whose thousands of drivers the VM does not
# need.  About 20-30 minutes on 2 cores.
#
# The result is cached outside the repository, in
#   ${COWSTAT_CACHE:-$XDG_CACHE_HOME/cowstat or ~/.cache/cowstat}/debug-kernel-KEY
# where KEY hashes vm/debug.config and the source package's version: the
# same inputs are never built twice, and `make clean` leaves it alone.
# It holds the source (src/), the build tree to build modules against
# (build/) and the kernel (build/arch/x86/boot/bzImage).  --print-dir
# prints that directory without building.
set -euo pipefail
source "$(dirname "$0")/config.sh"

tarball=/usr/src/linux-source-6.1.tar.xz
fragment=$TOP/vm/debug.config

# The source, and what a kernel build needs beyond the module's build-essential.
install_missing linux-source-6.1 bc bison flex libelf-dev libssl-dev
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( { echo "$srcver"; cat "$fragment"; } | sha256sum | cut -c1-12)
cache=${COWSTAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cowstat}
dir=$cache/debug-kernel-$key

if [ "${1:-}" = --print-dir ]; then
	printf '%s\n' "$dir"
	exit 0
fi
if [ -f "$dir/done" ]; then
	echo "debug kernel: $dir (cached)"
	exit 0
fi

echo "debug kernel: building Linux $srcver with vm/debug.config into $dir (20-30 minutes)"
rm -rf "$dir"
mkdir -p "$dir/src" "$dir/build"
tar -xJf "$tarball" -C "$dir/src" --strip-components=1
src=$dir/src
out=$dir/build
make -s -C "$src" O="$out" x86_64_defconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
	"$src/kernel/configs/kvm_guest.config" "$fragment" >"$dir/merge.log"
make -s -C "$src" O="$out" olddefconfig >/dev/null

# Every option of the fragment must have survived olddefconfig.
bad=0
while IFS= read -r line; do
	case $line in CONFIG_*) ;; *) continue ;; esac
	opt=${line%%=*} want=${line#*=}
	if [ "$want" = n ]; then
		grep -qx "$opt=y" "$out/.config" && { echo "debug-kernel: $opt is y, wanted n"; bad=1; }
	else
		grep -qx "$line" "$out/.config" || { echo "debug-kernel: $line did not take"; bad=1; }
	fi
done <"$fragment"
[ "$bad" -eq 0 ] || die "vm/debug.config does not apply (see $out/.config)"

log=$dir/build.log
if ! nice make -C "$src" O="$out" -j"$(nproc)" bzImage modules_prepare >"$log" 2>&1; then
	tail -n 30 "$log"
	die "kernel build failed; log: $log"
fi
# External modules resolve against vmlinux's exports only.
cp "$out/vmlinux.symvers" "$out/Module.symvers"
touch "$dir/done"
echo "debug kernel: $dir"
