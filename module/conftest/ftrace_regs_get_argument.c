// SPDX-License-Identifier: GPL-2.0-only
/* ftrace_regs_get_argument(): the way to an ftrace_regs' arguments since 6.7. */
#include <linux/ftrace.h>

unsigned long cowstat_conftest(struct ftrace_regs *fregs);

unsigned long cowstat_conftest(struct ftrace_regs *fregs)
{
	return ftrace_regs_get_argument(fregs, 0);
}
