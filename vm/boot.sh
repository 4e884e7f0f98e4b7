#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: vm/boot.sh run|test|stress|bench|plots|lessons|shell
#
# Boot the Debian kernel fetched by vm/kernel.sh with the initramfs from
# vm/image.sh under QEMU: TCG unless ACCEL=kvm, serial console on ttyS0,
# the guest's result on ttyS1 (a file on the host), -no-reboot and
# panic=-1 so that a panic ends QEMU, and a host-side timeout.
#
#   run    console on this terminal; exit status is the guest's
#   test   console to $BUILD/vm-test/console.log; the KTAP output and the
#          guest's kernel log land in $BUILD/vm-test/result.log
#   stress like test, for the stress test (make test-stress) in $BUILD/vm-stress
#   bench  like test, but one vCPU under -icount shift=0: the guest's clock
#          then counts guest instructions (1 ns each), the same from run to
#          run, which is what the benchmarks measure
#   plots  like bench, for the CSV that make plots charts
#   lessons  like test, every cowprobe lesson as text (make lessons)
#   shell  interactive (Ctrl-a x quits QEMU), no timeout
#
# VM_ICOUNT=1 runs run and shell under -icount too (one vCPU), so that
# the timing lessons give the same figures every time, at a slower boot.
#
# VM_KERNEL boots another kernel image (make test-debug), VM_APPEND adds
# to the kernel command line, VM_TCG_OPTS to -accel tcg (the stress mode
# uses ",thread=single").
#
# Exits with the guest's status, or 125 if the guest never reported one
# (crash, hang, timeout).
set -euo pipefail
source "$(dirname "$0")/config.sh"

mode=${1:-}
case $mode in
run|test|stress|bench|plots|lessons|shell) ;;
-h|--help) sed -n '3,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
*) die "usage: vm/boot.sh run|test|stress|bench|plots|lessons|shell" ;;
esac

KVER=$(kver)
# VM_KERNEL: another kernel image (make test-debug's); VM_APPEND: more parameters.
kernel=${VM_KERNEL:-$BUILD/kernel/$KVER/vmlinuz}
image=$INITRAMFS
[ -f "$kernel" ] || die "no kernel at $kernel: run vm/kernel.sh"
[ -f "$image" ] || die "no initramfs at $image: run vm/image.sh"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run vm/deps.sh"

smp=$VM_SMP
mem=$VM_MEM
if [ "$mode" = stress ] && [ -z "${VM_TCG_OPTS+set}" ]; then
	# Multi-threaded TCG can leave a vCPU running a stale translation of
	# code the kernel just patched (ftrace, kprobes: text_poke_bp), and
	# both vCPUs hang: the kernel's own function tracer toggled on
	# wp_page_copy under the stress test's churn does it without cowstat
	# loaded.  The stress test patches that code on every load and unload,
	# so its guest keeps 2 vCPUs but runs them in one TCG thread.
	VM_TCG_OPTS=,thread=single
fi
case $ACCEL in
tcg) accel=(-accel "tcg${VM_TCG_OPTS:-}") ;;
kvm) accel=(-accel kvm -cpu host) ;;
*) die "ACCEL must be tcg or kvm, not '$ACCEL'" ;;
esac
# The clock cowprobe's timing lessons read (COWSTAT_CLOCK in the guest).
clock=$ACCEL
if [ "$mode" = bench ] || [ "$mode" = plots ]; then
	# -icount needs TCG, and crawls with more than one vCPU.
	accel=(-accel tcg -icount shift=0,align=off,sleep=off)
	clock=icount
	smp=1
	mem=${VM_BENCH_MEM:-2048}	# the scan benchmark maps 1 GiB
elif { [ "$mode" = run ] || [ "$mode" = shell ]; } && [ "$ACCEL" = tcg ] &&
     [ "${VM_ICOUNT:-0}" = 1 ]; then
	# The timing lessons in guest instructions, the same every run.  Not
	# the default: the boot takes 11.5 s instead of 3 (make run: 12.7 s
	# in all against 7.8 s), and the lessons say that TCG timings vary.
	accel=(-accel tcg -icount shift=0,align=off,sleep=off)
	clock=icount
	smp=1
fi

out=$BUILD/vm-$mode
mkdir -p "$out"
: >"$out/result.log"
: >"$out/console.log"

qemu=(qemu-system-x86_64 "${accel[@]}" -m "$mem" -smp "$smp"
      -kernel "$kernel" -initrd "$image"
      -append "console=ttyS0 quiet panic=-1 cowstat.mode=$mode cowstat.clock=$clock ${VM_APPEND:-}"
      -display none -no-reboot -monitor none)

if [ -n "${VM_KERNEL:-}" ]; then
	what="kernel $VM_KERNEL"
else
	what="Debian kernel $(cat "$BUILD/kernel/$KVER/version")"
fi
echo "boot: $what, ${accel[*]:1}, ${mem} MiB, $smp CPU(s)"
set +e
case $mode in
shell)
	"${qemu[@]}" -serial mon:stdio -serial "file:$out/result.log"
	;;
run)
	timeout -s KILL "$VM_TIMEOUT" "${qemu[@]}" \
		-serial stdio -serial "file:$out/result.log" </dev/null
	;;
test|stress|bench|plots|lessons)
	timeout -s KILL "$VM_TIMEOUT" "${qemu[@]}" \
		-serial "file:$out/console.log" -serial "file:$out/result.log" </dev/null
	;;
esac
qemu_status=$?
set -e

status=$(tr -d '\r' <"$out/result.log" | sed -n 's/^cowstat-vm: exit \([0-9]*\)$/\1/p' | tail -n 1)
if [ -z "$status" ]; then
	if [ "$qemu_status" -eq 137 ]; then
		echo "boot: the guest did not finish within ${VM_TIMEOUT}s (VM_TIMEOUT)" >&2
	else
		echo "boot: the guest never reported a result (QEMU exit $qemu_status)" >&2
	fi
	exit 125
fi
exit "$status"
