/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The puppet's side, shared by the files of its commands: puppet_side.c
 * (the loop and the lessons' commands) and puppet_faults.c (the tests').
 */
#ifndef COWSTAT_PUPPET_INTERNAL_H
#define COWSTAT_PUPPET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/* Reply to the command being run: "ok VALUE" or "err MESSAGE". */
void puppet_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The region (NULL until "map"), its pages, and whether [first, first + count) is in it. */
char *puppet_region(size_t *pages);
bool puppet_range_ok(size_t first, size_t count);

/* Run @msg if it is one of puppet_faults.c's commands; false if it is not. */
bool puppet_fault_command(const char *msg);

#endif /* COWSTAT_PUPPET_INTERNAL_H */
