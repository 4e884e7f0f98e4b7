# SPDX-License-Identifier: GPL-2.0-only
#
# cowstat: see README.md.  `make run` boots the demo, `make test` the tests.
#
# KVER is the Debian kernel release the module is built for and the VM
# boots (default: what linux-headers-amd64 points to); KDIR the headers to
# build against.  Point KDIR at /lib/modules/$(uname -r)/build to build for
# the running kernel instead.

# A KVER or KDIR given on the command line reaches the vm/ scripts too.
KVER ?= $(shell vm/kver.sh 2>/dev/null)
KDIR ?= /usr/src/linux-headers-$(KVER)
# Debian 13's kernels (+deb13: 6.12, and 7.x from trixie-backports) need
# trixie's compiler: unless KDIR is given, they build in a trixie root that
# vm/buildroot.sh makes once and caches outside the repository.
IN_ROOT := $(if $(filter file,$(origin KDIR)),$(shell vm/buildroot.sh needed $(KVER) && echo y))

# make install: the module for the kernel of KDIR, cowprobe and its manual.
PREFIX ?= /usr/local
DESTDIR ?=
# The release the module was built for, from its vermagic (as modules_install uses it).
KRELEASE = $(shell tr '\0' '\n' <module/cowstat.ko 2>/dev/null | sed -n 's/^vermagic=\([^ ]*\).*/\1/p')

CC = gcc
# -ffile-prefix-map: the same binaries wherever the repository is checked out.
CFLAGS = -std=c11 -O2 -Wall -Wextra -Werror -ffile-prefix-map=$(CURDIR)=.
LDFLAGS = -static -pthread
# The same map for cowstat.mod.o, which the top-level Kbuild's flags do not
# reach (the module's other objects get it there, for any make -C KDIR M=).
module/cowstat.ko: export KCFLAGS += -ffile-prefix-map=$(CURDIR)/=

# One version for module, probe and packages (debian/changelog, dkms.conf: make check).
VERSION := $(shell cat VERSION)
PROBE_SRCS := $(wildcard userprobe/*.c)
# One-file programs for the guest: the benchmarks, the stress test and the
# setuid-root helper of the visibility tests.
GUEST_TOOL_SRCS := tests/cow_bench.c tests/scan_bench.c tests/stall_bench.c tests/stress.c \
	tests/suid_wait.c
TEST_SRCS := $(filter-out $(GUEST_TOOL_SRCS),$(wildcard tests/*.c)) \
	userprobe/cowstat_table.c userprobe/puppet.c userprobe/puppet_side.c \
	userprobe/puppet_faults.c
MODULE_SRCS := $(wildcard module/*.c module/*.h module/conftest/*.c) Kbuild module/Kbuild VERSION

.PHONY: FORCE all module deps kernel image run shell test test-kernels test-stress test-debug bench bench-kernels plots lessons html test-html deb test-deb check dkms-check install uninstall clean distclean
all: module userprobe/cowprobe tests/cowstat_test $(GUEST_TOOL_SRCS:.c=)

# Kbuild decides what to rebuild; it also notices a different KDIR.
module/cowstat.ko: $(MODULE_SRCS) FORCE
ifeq ($(IN_ROOT),y)
	vm/buildroot.sh headers $(KVER)
	vm/buildroot.sh run make -C $(KDIR) M=/src KCFLAGS=-ffile-prefix-map=/src/= modules
else
	@test -d "$(KDIR)" || { echo "no kernel headers at KDIR=$(KDIR): run 'make deps' or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
endif
	@echo "built module/cowstat.ko for Linux $$(tr '\0' '\n' <module/cowstat.ko | sed -n 's/^vermagic=\([^ ]*\).*/\1/p')"
module: module/cowstat.ko

userprobe/cowprobe: $(PROBE_SRCS) $(wildcard userprobe/*.h) module/cowstat_uapi.h VERSION
	$(CC) $(CFLAGS) -DCOWSTAT_VERSION='"$(VERSION)"' -o $@ $(PROBE_SRCS) $(LDFLAGS)

tests/cowstat_test: $(TEST_SRCS) $(wildcard tests/*.h userprobe/*.h)
	$(CC) $(CFLAGS) -Iuserprobe -o $@ $(TEST_SRCS) $(LDFLAGS)

$(GUEST_TOOL_SRCS:.c=): %: %.c
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

deps:
	vm/deps.sh

kernel:
	vm/kernel.sh

# The image needs what `all` builds; deps first so that a fresh machine works.
image: deps
	$(MAKE) all
	vm/kernel.sh
	vm/image.sh

run: image
	vm/boot.sh run

shell: image
	vm/boot.sh shell

test: image
	tests/run.sh

# The suite on every supported kernel (vm/kver.sh --tested), one line each.
test-kernels: deps
	tests/kernels.sh

# The stress test (see README, "Reliability"); with the kernel's cow selftest.
STRESS_SECONDS ?= 60
test-stress: deps
	$(MAKE) all
	tests/cow-selftest.sh
	vm/kernel.sh
	vm/image.sh
	VM_TIMEOUT=$${VM_TIMEOUT:-1200} VM_APPEND="cowstat.seconds=$(STRESS_SECONDS) $$VM_APPEND" \
		tests/run.sh stress

# The suite and the stress test on a debug kernel, built once and cached
# outside the repository (see README, "Reliability"); not part of CI.
test-debug: deps
	tests/debug.sh

bench: image
	tests/bench.sh

# make bench on every supported kernel, and the README's table of them.
bench-kernels: deps
	tests/bench-kernels.sh

plots: image
	tests/plots.sh

# dkms add/build/remove in a private DKMS tree, for every supported kernel.
dkms-check:
	tests/dkms.sh $$(vm/kver.sh --tested)

# Every lesson: the transcripts in docs/lessons/ (and the docs' excerpts
# of them), the HTML pages and their index in build/html/ (tests/lessons.sh);
# make html writes the pages alone.
# Both on the full image, which has the programs of the redis and prefork lessons.
lessons html: export IMAGE := full
lessons: image
	tests/lessons.sh

html: image
	tests/lessons.sh --html

# The HTML pages in headless Chromium: steps and map cells as the JSON has them.
test-html: html
	tests/html.sh

check: deps
	$(MAKE) all
	tests/check.sh

# The Debian packages cowstat-dkms and cowprobe in build/deb/, and lintian on
# them (tests/deb.sh); make test-deb installs and removes them in fresh roots.
deb:
	tests/deb.sh

test-deb: deb
	tests/deb-install.sh

# INSTALL_MOD_DIR keeps the module apart from the kernel's own: extra/cowstat.ko.
install: module userprobe/cowprobe
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=extra \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install
	$(if $(DESTDIR),,depmod -a $$(tr '\0' '\n' <module/cowstat.ko | sed -n 's/^vermagic=\([^ ]*\).*/\1/p'))
	install -D -m 0755 userprobe/cowprobe $(DESTDIR)$(PREFIX)/bin/cowprobe
	install -D -m 0644 userprobe/cowprobe.1 $(DESTDIR)$(PREFIX)/share/man/man1/cowprobe.1
	install -D -m 0644 userprobe/cowstat.5 $(DESTDIR)$(PREFIX)/share/man/man5/cowstat.5
	@echo "installed module/cowstat.ko for Linux $$(tr '\0' '\n' <module/cowstat.ko | sed -n 's/^vermagic=\([^ ]*\).*/\1/p'), cowprobe in $(DESTDIR)$(PREFIX)/bin"

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KRELEASE)/extra/module/cowstat.ko
	$(if $(DESTDIR),,depmod -a $(KRELEASE))
	rm -f $(DESTDIR)$(PREFIX)/bin/cowprobe $(DESTDIR)$(PREFIX)/share/man/man1/cowprobe.1 \
		$(DESTDIR)$(PREFIX)/share/man/man5/cowstat.5

# clean keeps the downloaded kernel (build/kernel); distclean drops it too.
clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -f userprobe/cowprobe tests/cowstat_test $(GUEST_TOOL_SRCS:.c=)
	rm -rf build/initramfs-* build/initramfs*.cpio.gz build/full build/vm-* build/checkpatch

distclean: clean
	rm -rf build
