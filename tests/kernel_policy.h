/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where the kernels the suite runs on decide copy-on-write differently,
 * in one place: each function says what differs, on which kernel, and why
 * (see tests/kernel_policy.c).  What cowstat predicts itself (the cow and
 * reusable columns) needs no entry: the tests compare it with what the
 * kernel then does.  Only what a test must expect beyond that is here.
 */
#ifndef COWSTAT_KERNEL_POLICY_H
#define COWSTAT_KERNEL_POLICY_H

#include <stdbool.h>

/* The running kernel is at least MAJOR.MINOR (uname's release). */
bool kernel_at_least(int major, int minor);

/* Copy events one write to a page of the huge zero PMD makes, for 512 new frames. */
long huge_zero_write_copies(void);

#endif /* COWSTAT_KERNEL_POLICY_H */
