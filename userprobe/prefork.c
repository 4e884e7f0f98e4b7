// SPDX-License-Identifier: GPL-2.0-only
/*
 * The prefork lesson: a Python server builds its data, then forks workers
 * that only read it, as pre-fork servers (gunicorn, uWSGI) do.  Reading a
 * Python object writes to it: its reference count, and the collector's
 * header when a collection walks it.  So the workers copy pages they only
 * read, unless gc.freeze() before fork() moves the objects out of the
 * collector's reach (Python's gc documentation; Instagram's reason for
 * adding it).  The lesson runs the server twice, without and with
 * gc.freeze(), and sets the copies and the frames side by side.
 */

#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "programs.h"

#define PYTHON		"/usr/bin/python3"
#define WORKERS		2

/*
 * The server, run as python3 -c SCRIPT ITEMS WORKERS freeze|nofreeze.  It
 * talks to cowprobe a line at a time: "built PID" (then waits for "fork"),
 * "ready W1 W2..." once every worker has started and said so, then for
 * each of "collect" and "read" its workers do it
 * (a worker reads the first quarter of the objects) and it says "done";
 * "exit" ends all.
 */
static const char script[] =
	"import gc, os, sys\n"
	"items, workers, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]\n"
	"def worker(data, cmds, done):\n"
	"    gc.enable()\n"
	"    os.write(done, b'r')\n"
	"    while True:\n"
	"        c = os.read(cmds, 1)\n"
	"        if c == b'c':\n"
	"            gc.collect()\n"
	"        elif c == b'r':\n"
	"            total = 0\n"
	"            for i in range(len(data) // 4):\n"
	"                total += data[i][0]\n"
	"        else:\n"
	"            os._exit(0)\n"
	"        os.write(done, b'd')\n"
	"gc.disable()\n"
	"data = [[i, 'item %d' % i] for i in range(items)]\n"
	"print('built', os.getpid(), flush=True)\n"
	"sys.stdin.readline()\n"
	"if mode == 'freeze':\n"
	"    gc.freeze()\n"
	"kids = []\n"
	"for _ in range(workers):\n"
	"    cr, cw = os.pipe()\n"
	"    dr, dw = os.pipe()\n"
	"    pid = os.fork()\n"
	"    if pid == 0:\n"
	"        worker(data, cr, dw)\n"
	"    kids.append((pid, cw, dr))\n"
	"for k in kids:\n"
	"    os.read(k[2], 1)\n"
	"print('ready', *[k[0] for k in kids], flush=True)\n"
	"for line in sys.stdin:\n"
	"    for k in kids:\n"
	"        os.write(k[1], line[:1].encode())\n"
	"    if line.startswith('exit'):\n"
	"        for k in kids:\n"
	"            os.waitpid(k[0], 0)\n"
	"        break\n"
	"    for k in kids:\n"
	"        os.read(k[2], 1)\n"
	"    print('done', flush=True)\n";

enum { AT_FORK, AT_COLLECT, AT_READ, NR_AT };
static const char *const at_name[NR_AT] = { "fork", "gc.collect", "read 1/4" };

/* What one run gave at each point: a worker's copies and private pages (mean), frames. */
struct prefork_run {
	double copies[NR_AT], private[NR_AT];
	long long frames_kib[NR_AT];
};

struct server {
	pid_t pid[1 + WORKERS];
	FILE *to, *from;
};

static const char *const roles[1 + WORKERS] = { "parent", "worker 1", "worker 2" };

static int expect_line(struct probe *pr, struct server *s, const char *word, char *line,
		       size_t len)
{
	if (!fgets(line, len, s->from) || strncmp(line, word, strlen(word))) {
		snprintf(pr->err, sizeof(pr->err), "the Python server did not say '%s'", word);
		return -1;
	}
	return 0;
}

static int tell(struct probe *pr, struct server *s, const char *what)
{
	char line[64];

	fprintf(s->to, "%s\n", what);
	fflush(s->to);
	return expect_line(pr, s, "done", line, sizeof(line));
}

/* The rows of the parent and the workers, and what the lesson keeps of them. */
static int take(struct probe *pr, struct server *s, int at, struct prefork_run *run,
		const char *title)
{
	struct prow rows[1 + WORKERS];
	int i;

	if (program_rows(pr, s->pid, 1 + WORKERS, rows))
		return -1;
	run->copies[at] = run->private[at] = 0;
	run->frames_kib[at] = 0;
	for (i = 0; i < 1 + WORKERS; i++) {
		long long kib = pss_anon_kib(s->pid[i]);

		run->frames_kib[at] = kib == NA || run->frames_kib[at] == NA ? NA :
				      run->frames_kib[at] + kib;
		if (i) {
			run->copies[at] += (double)rows[i].v[ROW_COPIES] / WORKERS;
			run->private[at] += (double)rows[i].v[ROW_PRIVATE] / WORKERS;
		}
	}
	/* Whole pages: the table and the prose say the same figure. */
	run->copies[at] = (long long)(run->copies[at] + 0.5);
	run->private[at] = (long long)(run->private[at] + 0.5);
	report_text(pr, "%s\n", title);
	program_show(pr, roles, rows, 1 + WORKERS);
	report_note(pr, "Anonymous memory of the three: %lld KiB (the sum of their Pss_Anon, a "
		    "page shared by k of them counted 1/k in each).", run->frames_kib[at]);
	return 0;
}

static int run_server(struct probe *pr, bool freeze, long items, struct prefork_run *run)
{
	char n[24], line[128], *argv[] = {
		PYTHON, "-c", (char *)script, n, "2", freeze ? "freeze" : "nofreeze", NULL,
	};
	struct server s = { .to = NULL };
	int in, out, status, ret = -1;

	snprintf(n, sizeof(n), "%ld", items);
	s.pid[0] = program_start(argv, &in, &out);
	if (s.pid[0] < 0) {
		snprintf(pr->err, sizeof(pr->err), "cannot start %s", PYTHON);
		return -1;
	}
	s.to = fdopen(in, "w");
	s.from = fdopen(out, "r");
	if (!s.to || !s.from) {
		snprintf(pr->err, sizeof(pr->err), "fdopen failed");
		if (s.to)
			fclose(s.to);
		else
			close(in);
		if (s.from)
			fclose(s.from);
		else
			close(out);
		kill(s.pid[0], SIGTERM);
		waitpid(s.pid[0], &status, 0);
		return -1;
	}
	if (expect_line(pr, &s, "built", line, sizeof(line)))
		goto out;
	fprintf(s.to, "fork\n");
	fflush(s.to);
	if (expect_line(pr, &s, "ready", line, sizeof(line)) ||
	    sscanf(line, "ready %d %d", &s.pid[1], &s.pid[2]) != WORKERS)
		goto out;
	if (take(pr, &s, AT_FORK, run, freeze ? "gc.freeze(), then fork() twice" :
		 "fork() twice, without gc.freeze()"))
		goto out;
	report_note(pr, "Right after fork() the workers share nearly all their pages with the "
		    "parent: each has %.0f of its own ('private'), the pages the Python runtime "
		    "wrote as fork() returned and the worker began.", run->private[AT_FORK]);
	report_summary(pr);
	if (tell(pr, &s, "collect") ||
	    take(pr, &s, AT_COLLECT, run, "each worker runs the collector once: gc.collect()"))
		goto out;
	report_note(pr, "%s", freeze ?
		    "gc.freeze() put the parent's objects in the collector's permanent "
		    "generation: the collection walks none of them, and copies next to nothing." :
		    "The collection walks every object the collector tracks (the lists) and "
		    "writes to each one's header: each page holding one is copied.");
	report_note(pr, "A worker's copies so far: %.0f.  The parent's 'private' grows too: a page "
		    "both workers copied is the parent's alone again.", run->copies[AT_COLLECT]);
	report_summary(pr);
	if (tell(pr, &s, "read") ||
	    take(pr, &s, AT_READ, run, "each worker reads a quarter of the objects"))
		goto out;
	report_note(pr, "Reading data[i][0] takes a reference to the list and the number and "
		    "drops it: two writes to reference counts, so pages not yet copied are "
		    "copied now, gc.freeze() or not.  A worker's copies: %.0f.",
		    run->copies[AT_READ]);
	report_summary(pr);
	fprintf(s.to, "exit\n");
	fflush(s.to);
	ret = 0;
out:
	fclose(s.to);
	fclose(s.from);
	if (waitpid(s.pid[0], &status, 0) != s.pid[0] || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		if (!ret)
			snprintf(pr->err, sizeof(pr->err), "the Python server failed");
		ret = -1;
	}
	return ret;
}

int lesson_prefork(struct probe *pr)
{
	static const char *const keys[] = {
		"copies_without", "copies_with", "frames_kib_without", "frames_kib_with",
	};
	struct prefork_run run[2];
	long items = pr->pages_given ? pr->pages : 100000;
	double v[4];
	int at;

	if (program_counts(pr))
		return -1;
	report_note(pr, "A Python 3 server builds %ld objects (a list of [number, string] lists) with "
		    "its collector off (gc.disable()), forks %d workers that only read them, and "
		    "does it all again with gc.freeze() before fork(), as Python's gc documentation "
		    "advises.  Rows: whole processes, in pages; copies and reuses since each began.",
		    items, WORKERS);
	report_summary(pr);
	report_text(pr, "Without gc.freeze()\n\n");
	if (run_server(pr, false, items, &run[0]))
		return -1;
	report_text(pr, "With gc.freeze() before fork()\n\n");
	if (run_server(pr, true, items, &run[1]))
		return -1;

	report_text(pr, "Side by side, without and with gc.freeze(): a worker's copies (pages), and "
		    "the\nanonymous memory of the parent and both workers (KiB), after each step.\n");
	report_header(pr, "after", 4, keys);
	for (at = 0; at < NR_AT; at++) {
		v[0] = run[0].copies[at];
		v[1] = run[1].copies[at];
		v[2] = run[0].frames_kib[at] == NA ? NAN : run[0].frames_kib[at];
		v[3] = run[1].frames_kib[at] == NA ? NAN : run[1].frames_kib[at];
		report_record(pr, at_name[at], 4, keys, v);
	}
	report_note(pr, "The collection alone made each worker copy %.0f pages without gc.freeze() "
		    "and %.0f with it (the gc.collect row less the fork row); after reading a "
		    "quarter of the objects a worker had copied %.0f pages against %.0f, and the "
		    "three processes used %lld KiB against %lld KiB.",
		    run[0].copies[AT_COLLECT] - run[0].copies[AT_FORK],
		    run[1].copies[AT_COLLECT] - run[1].copies[AT_FORK], run[0].copies[AT_READ],
		    run[1].copies[AT_READ], run[0].frames_kib[AT_READ], run[1].frames_kib[AT_READ]);
	report_note(pr, "gc.freeze() saves the copies the collector makes; it cannot save those "
		    "that reading makes: reference counts are written on every use.  (Python "
		    "3.12 makes some built-in objects immortal, their counts never written; a "
		    "program's own objects stay mortal.)");
	report_summary(pr);
	return 0;
}
