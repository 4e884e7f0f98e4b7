// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowprobe: fork, write, and watch shared pages turn private.
 *
 * Each lesson (lessons.c) drives puppets: processes started with exec and
 * told, one command at a time, to map, write, fork, exec or exit, so that
 * cowprobe's own reading and printing never moves their numbers.  After
 * each step it prints their /proc/cowstat and /proc/cowstat_maps rows,
 * the change since the step before, and a page map of the region.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cowstat_table.h"
#include "probe.h"

#define DEFAULT_PAGES	256
#define DEFAULT_WRITES	64
#define MAX_PAGES	(1L << 20)	/* 4 GiB of 4 KiB pages */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cowprobe [-n pages] [-k pages] [-p path] [--json | --csv | --html] [--no-map]\n"
		"                [--color=when] [lesson]\n"
		"       cowprobe watch [-i seconds] [-c count] [--sort column] [pid ...]\n"
		"       cowprobe --list | --version\n"
		"\n"
		"Run a lesson (default: split) on fork() and copy-on-write: each step's\n"
		"/proc/cowstat counts of the processes involved, the change since the step\n"
		"before, and a page map of their region.\n"
		"\n"
		"  -n pages    pages in the region (default %d; forkcost: up to this\n"
		"              many, default 256 MiB; faults: default 4096; redis: keys\n"
		"              of 4 KiB, default 25600; prefork: objects, default 100000)\n"
		"  -k pages    pages a process writes, 0 to n (default %d, or n if smaller;\n"
		"              snapshot: a tick, default 8)\n"
		"  -p path     the table to read (default %s; without the module the\n"
		"              counts come from /proc/PID/pagemap)\n"
		"  --json      one JSON object per step (or measurement)\n"
		"  --csv       comma-separated values, a header line first\n"
		"  --html      one self-contained HTML page (inline CSS, no script)\n"
		"  --no-map    no page maps\n"
		"  --color=when  colour the page maps: auto (on a terminal, unless NO_COLOR\n"
		"              is set; the default), always or never\n"
		"  --list      the lessons\n"
		"  --version   cowprobe's version (the module's: modinfo cowstat)\n"
		"  -h, --help  this text\n"
		"\n"
		"cowprobe watch: /proc/cowstat as a live table (cowprobe watch --help).\n"
		"\n"
		"Exit status: 0 on success, 1 if a lesson failed, 2 for bad usage.\n\n",
		DEFAULT_PAGES, DEFAULT_WRITES, COWSTAT_PATH);
	map_legend(out, true, true, "");
	fprintf(out, "Without the module (S: not as root):\n");
	map_legend(out, false, false, "");
}

static void bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "cowprobe: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'cowprobe --help'.\n");
	exit(2);
}

static long parse_count(const char *opt, const char *arg, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (end == arg || *end || errno == ERANGE || v < min || v > max) {
		char msg[96];

		snprintf(msg, sizeof(msg), "%s needs a number of pages from %ld to %ld, not '%%s'",
			 opt, min, max);
		bad_usage(msg, arg);
	}
	return v;
}

/* --color=WHEN: NO_COLOR (https://no-color.org) turns auto off. */
static bool parse_color(const char *when)
{
	const char *no_color = getenv("NO_COLOR");

	if (!when || !strcmp(when, "auto"))
		return isatty(STDOUT_FILENO) && !(no_color && *no_color);
	if (!strcmp(when, "always"))
		return true;
	if (strcmp(when, "never"))
		bad_usage("--color takes auto, always or never, not '%s'", when);
	return false;
}

static const struct lesson *find_lesson(const char *name)
{
	int i;

	for (i = 0; i < nr_lessons; i++)
		if (!strcmp(lessons[i].name, name))
			return &lessons[i];
	return NULL;
}

static void list_lessons(void)
{
	int i;

	/* The lessons with real programs only where the programs are (IMAGE=full). */
	for (i = 0; i < nr_lessons; i++)
		if (!lessons[i].needs || access(lessons[i].needs, X_OK) == 0)
			printf("%-11s %s\n", lessons[i].name, lessons[i].summary);
}

/* Pages the lesson needs at most: its region, and a copy of k pages. */
static void check_memory(const struct probe *pr)
{
	long avail = sysconf(_SC_AVPHYS_PAGES);

	if (pr->pages + pr->writes > avail) {
		char need[96];

		snprintf(need, sizeof(need), "%ld MiB, more than the %ld MiB of free memory",
			 (pr->pages + pr->writes) / 256, avail / 256);
		fprintf(stderr, "cowprobe: -n %ld -k %ld needs %s\n", pr->pages, pr->writes, need);
		exit(2);
	}
}

static void check_status(struct probe *pr, const char *who, long status)
{
	if (status >= 0 && WIFEXITED(status) && !WEXITSTATUS(status))
		return;
	if (status < 0)
		fprintf(stderr, "cowprobe: %s: %s\n", who, pr->err);
	else if (WIFSIGNALED(status))
		fprintf(stderr, "cowprobe: %s was killed by signal %d\n", who, (int)WTERMSIG(status));
	else
		fprintf(stderr, "cowprobe: %s exited with status %d\n", who, (int)WEXITSTATUS(status));
	pr->failed = 1;
}

/*
 * The end of a lesson: every child puppet still there exits and the
 * parent puppet reaps it, then the parent exits and cowprobe reaps it;
 * every exit status is checked.
 */
static void end_puppets(struct probe *pr)
{
	int i, status;

	if (!pr->npup)
		return;
	if (pr->vfork_child &&
	    puppet_vfork_finish(pr->pup, 0, pr->vfork_child, pr->err, sizeof(pr->err)))
		check_status(pr, pr->role[pr->vfork_child], -1);
	for (i = pr->npup - 1; i > 0; i--) {
		if (pr->pup[i].pid <= 0)
			continue;
		if (cmd(pr, i, "exit 0") < 0) {
			check_status(pr, pr->role[i], -1);
			continue;
		}
		check_status(pr, pr->role[i], cmd(pr, 0, "wait"));
	}
	cmd(pr, 0, "exit 0");
	puppet_release(pr->pup, pr->npup);
	if (waitpid(pr->pup[0].pid, &status, 0) == pr->pup[0].pid)
		check_status(pr, pr->role[0], status);
	pr->npup = 0;
}

int main(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_CSV, OPT_HTML, OPT_NO_MAP, OPT_LIST, OPT_COLOR, OPT_VERSION };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "html", no_argument, NULL, OPT_HTML },
		{ "no-map", no_argument, NULL, OPT_NO_MAP },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ NULL, 0, NULL, 0 },
	};
	static struct probe pr = {
		.table = COWSTAT_PATH, .maps = "/proc/cowstat_maps",
		.pages = -1, .writes = -1, .show_map = true,
	};
	const struct lesson *lesson;
	const char *color = NULL;
	bool table_given = false;
	int formats = 0;
	int opt, ret;

	if (argc > 1 && !strcmp(argv[1], PUPPET_FLAG))
		puppet_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "watch"))
		return watch_main(argc - 1, argv + 1);

	while ((opt = getopt_long(argc, argv, "n:k:p:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			pr.pages = parse_count("-n", optarg, 1, MAX_PAGES);
			pr.sizes_given = pr.pages_given = true;
			break;
		case 'k':
			pr.writes = parse_count("-k", optarg, 0, MAX_PAGES);
			pr.sizes_given = true;
			break;
		case 'p':
			pr.table = optarg;
			table_given = true;
			break;
		case OPT_JSON:
			pr.format = FMT_JSON;
			formats++;
			break;
		case OPT_CSV:
			pr.format = FMT_CSV;
			formats++;
			break;
		case OPT_HTML:
			pr.format = FMT_HTML;
			formats++;
			break;
		case OPT_COLOR:
			color = optarg;
			break;
		case OPT_NO_MAP:
			pr.show_map = false;
			break;
		case OPT_LIST:
			list_lessons();
			return 0;
		case OPT_VERSION:
			printf("cowprobe %s\n", COWSTAT_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1)
		bad_usage("unexpected argument '%s'", argv[optind + 1]);
	if (formats > 1)
		bad_usage("%s: choose one output format", "--json, --csv and --html");
	pr.color = pr.format == FMT_TEXT && parse_color(color);
	pr.lesson = optind < argc ? argv[optind] : "split";
	lesson = find_lesson(pr.lesson);
	if (!lesson)
		bad_usage("no lesson '%s' (cowprobe --list names them)", pr.lesson);
	if (lesson->needs && access(lesson->needs, X_OK)) {
		fprintf(stderr, "cowprobe: %s needs %s, which is not here (in the cowstat VM: "
			"make run IMAGE=full)\n", lesson->name, lesson->needs);
		return 2;
	}

	if (pr.pages < 0)
		pr.pages = !strcmp(pr.lesson, "forkcost") ? 256 * 256 :
			   !strcmp(pr.lesson, "faults") ? 4096 : DEFAULT_PAGES;
	if (!strcmp(pr.lesson, "forkcost") && pr.pages < 256) {
		char n[24];

		snprintf(n, sizeof(n), "%ld", pr.pages);
		bad_usage("forkcost needs -n of at least 256 pages (1 MiB), not %s", n);
	}
	if (pr.writes < 0)
		pr.writes = !strcmp(pr.lesson, "snapshot") ? (pr.pages < 8 ? pr.pages : 8) :
			    pr.pages < DEFAULT_WRITES ? pr.pages : DEFAULT_WRITES;
	if (pr.writes > pr.pages) {
		char n[24];

		snprintf(n, sizeof(n), "%ld", pr.pages);
		bad_usage("-k cannot exceed the %s pages of the region (-n)", n);
	}
	check_memory(&pr);

	/* A table named on the command line must be there: a usage error. */
	if (table_given && access(pr.table, R_OK)) {
		fprintf(stderr, "cowprobe: -p %s: %s\n", pr.table, strerror(errno));
		return 2;
	}
	report_init(&pr);
	if (!pr.have_module)
		fprintf(stderr, "cowprobe: no %s (is the cowstat module loaded?): the page counts "
			"come from /proc/PID/pagemap; copies, reuses, forks, cow and reusable are missing\n",
			pr.table);

	report_text(&pr, "cowprobe %s: %s.\n", lesson->name, lesson->summary);
	if (strcmp(lesson->name, "forkcost") && strcmp(lesson->name, "faults") &&
	    strcmp(lesson->name, "segments") && !lesson->needs) {
		if (pr.have_module)
			report_text(&pr, "copies, reuses: the write faults inside the region; those "
				    "elsewhere in a process\nare on a line of their own.  frames: the "
				    "physical pages that hold the region.\n");
		if (pr.show_map && pr.format == FMT_TEXT)
			map_legend(stdout, pr.pagemap_fd >= 0, pr.zero_pfn != 0, "");
	}
	report_text(&pr, "\n");
	if (pr.format == FMT_HTML)
		html_begin(&pr, lesson->summary);
	ret = lesson->run(&pr);
	if (ret)
		fprintf(stderr, "cowprobe: %s: %s\n", lesson->name, pr.err);
	end_puppets(&pr);
	report_free(&pr);
	if (pr.format == FMT_HTML)
		html_end(&pr);
	if (fflush(stdout) || ferror(stdout)) {
		perror("cowprobe: stdout");
		return 1;
	}
	if (!ret && pr.failed)
		fprintf(stderr, "cowprobe: %s: some numbers were not what the kernel should give\n",
			lesson->name);
	return ret || pr.failed ? 1 : 0;
}
