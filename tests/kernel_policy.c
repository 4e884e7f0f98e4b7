// SPDX-License-Identifier: GPL-2.0-only
/*
 * How the kernels the suite runs on (Debian's 6.1, 6.12, 7.2 and 7.3)
 * differ in what a test must expect; see kernel_policy.h.
 */
#include <stdio.h>
#include <sys/utsname.h>

#include "kernel_policy.h"

bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int maj = 0, min = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &maj, &min) != 2)
		return false;
	return maj > major || (maj == major && min >= minor);
}

/*
 * A write to a page the huge zero PMD maps (memory read, never written,
 * with THP): up to 6.13 do_huge_pmd_wp_page() splits the PMD into 512
 * zero-page PTEs and the write copies the zero page into one new page, so
 * each of the 512 pages' first write is a copy of its own: 512 copies.
 * Since 6.14 ("mm: allocate THP on hugezeropage wp-fault") the first
 * write replaces the whole PMD with a fresh, zeroed THP
 * (do_huge_zero_wp_pmd()): one fault, one copy, all 512 pages new, and
 * the other 511 writes fault no more.  Either way all 512 frames change.
 */
long huge_zero_write_copies(void)
{
	return kernel_at_least(6, 14) ? 1 : 512;
}
