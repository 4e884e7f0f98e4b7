// SPDX-License-Identifier: GPL-2.0-only
/* pmd_devmap(): DAX huge entries marked apart (6.12 and before; gone in 7.x). */
#include <linux/mm.h>

int cowstat_conftest(pmd_t pmd);

int cowstat_conftest(pmd_t pmd)
{
	return pmd_devmap(pmd);
}
