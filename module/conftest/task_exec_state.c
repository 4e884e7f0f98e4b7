// SPDX-License-Identifier: GPL-2.0-only
/* task->exec_state: dumpability and its user namespace per task, not per mm (7.2 has it). */
#include <linux/sched.h>
#include <linux/sched/exec_state.h>

bool cowstat_conftest(struct task_struct *t);

bool cowstat_conftest(struct task_struct *t)
{
	return rcu_dereference(t->exec_state)->dumpable == TASK_DUMPABLE_OWNER;
}
