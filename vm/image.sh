#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: vm/image.sh
#
# Pack the guest's initramfs: static BusyBox, /init, cowstat.ko, cowprobe
# and the tests (with the kernel's cow selftest if $BUILD/selftests/cow
# exists); IMAGE=full adds Debian's redis and python3 (vm/full.sh) and
# lists their packages in /etc/cowstat-packages.  The archive is
# byte-reproducible: entries sorted, owner 0:0, every mtime 0, no inode or
# device numbers (cpio --reproducible), gzip -n.  Prints the image's path
# and sha256 last.
set -euo pipefail
source "$(dirname "$0")/config.sh"

image=$INITRAMFS
root=$BUILD/initramfs-$IMAGE
busybox=/bin/busybox

# COWSTAT_KO: a module built elsewhere (make test-debug's, for its kernel).
module=${COWSTAT_KO:-$TOP/module/cowstat.ko}
[ -f "$module" ] || die "$module is missing: run make first"
for f in userprobe/cowprobe tests/cowstat_test tests/cow_bench \
	tests/scan_bench tests/stall_bench tests/stress tests/suid_wait; do
	[ -f "$TOP/$f" ] || die "$f is missing: run make first"
done
if ! dpkg-query -W -f='${Status}\n' busybox-static 2>/dev/null |
	grep -q '^install ok installed'; then
	die "needs a static BusyBox: run vm/deps.sh"
fi

rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,lib/modules,tests}
if [ "$IMAGE" = full ]; then
	"$TOP/vm/full.sh"
	cp -a "$BUILD/full/root/." "$root/"
	install -m 0644 "$BUILD/full/packages" "$root/etc/cowstat-packages"
fi
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
install -m 0755 "$TOP/vm/init" "$root/init"
install -m 0644 "$TOP/vm/banner" "$root/etc/banner"
if [ "$IMAGE" = full ]; then
	# The full image's lessons, before the line on how to leave.
	sed -i '/Leave with/i\    cowprobe redis                 Redis'"'"'s BGSAVE, beside Redis'"'"'s own CoW report\n    cowprobe prefork               Python workers, with and without gc.freeze()' \
		"$root/etc/banner"
fi
install -m 0644 "$module" "$root/lib/modules/cowstat.ko"
install -m 0755 "$TOP/userprobe/cowprobe" "$root/bin/cowprobe"
install -m 0755 "$TOP/tests/cowstat_test" "$root/tests/cowstat_test"
install -m 0755 "$TOP/tests/run-in-vm.sh" "$root/tests/run-in-vm.sh"
install -m 0755 "$TOP/tests/cow_bench" "$root/tests/cow_bench"
install -m 0755 "$TOP/tests/scan_bench" "$root/tests/scan_bench"
install -m 0755 "$TOP/tests/stall_bench" "$root/tests/stall_bench"
install -m 0755 "$TOP/tests/bench-in-vm.sh" "$root/tests/bench-in-vm.sh"
install -m 0755 "$TOP/tests/stress" "$root/tests/stress"
install -m 0755 "$TOP/tests/stress-in-vm.sh" "$root/tests/stress-in-vm.sh"
# The committed transcripts and teaching guide, which tests/test_docs.c checks.
install -d "$root/docs/lessons"
install -m 0644 "$TOP"/docs/lessons/* "$root/docs/lessons/"
[ -f "$TOP/docs/teaching.md" ] && install -m 0644 "$TOP/docs/teaching.md" "$root/docs/teaching.md"
# Setuid root (owner 0 in the archive): the visibility tests exec it as uid 1000.
install -m 4755 "$TOP/tests/suid_wait" "$root/tests/suid_wait"
# The kernel's cow selftest, when tests/cow-selftest.sh built it (make test-stress).
if [ -f "$BUILD/selftests/cow" ]; then
	install -m 0755 "$BUILD/selftests/cow" "$root/tests/cow"
fi
printf 'root:x:0:0:root:/root:/bin/sh\nstudent:x:1000:1000:student:/tmp:/bin/sh\n' \
	>"$root/etc/passwd"
printf 'root:x:0:\nstudent:x:1000:\n' >"$root/etc/group"

find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n -9 >"$image.tmp"
mv "$image.tmp" "$image"
echo "image: $image"
echo "sha256: $(sha256sum "$image" | cut -d' ' -f1)"
