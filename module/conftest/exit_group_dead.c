// SPDX-License-Identifier: GPL-2.0-only
/* sched_process_exit(p, group_dead): the tracepoint's second argument (7.x, not 6.12). */
#include <trace/events/sched.h>

#pragma GCC diagnostic error "-Wincompatible-pointer-types"

int cowstat_conftest(void);

static void cowstat_probe(void *data, struct task_struct *p, bool group_dead)
{
}

int cowstat_conftest(void)
{
	return register_trace_sched_process_exit(cowstat_probe, NULL);
}
