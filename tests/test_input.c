// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bad input: writes of every shape to /proc/cowstat are refused unless
 * they are the one command, and reads of every shape (tiny buffers,
 * lseek, pread) give the same text as a plain read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cowtest.h"

#define FUZZ_WRITES	400
#define MIB		(1 << 20)

/* The total number of forks since the last reset: a reset would lower it. */
static long long total_forks(void)
{
	char buf[64] = "";
	int fd = open("/sys/kernel/cowstat/forks", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	if (fd >= 0)
		close(fd);
	return atoll(buf);
}

static bool is_command(const char *buf, size_t len)
{
	return (len == 5 && !memcmp(buf, "reset", 5)) || (len == 6 && !memcmp(buf, "reset\n", 6));
}

/* One fuzzed write: a length, then bytes that are random or nearly the command. */
static size_t fuzz_one(char *buf, unsigned int *seed)
{
	static const size_t lengths[] = { 0, 1, 4, 5, 6, 7, 64, 4095, 4096, 4097, MIB };
	size_t len, i;

	switch (rand_r(seed) % 4) {
	case 0:
		len = lengths[rand_r(seed) % (sizeof(lengths) / sizeof(lengths[0]))];
		break;
	case 1:
		len = (size_t)rand_r(seed) % (MIB + 1);
		break;
	default:
		len = (size_t)rand_r(seed) % 12;
		break;
	}
	for (i = 0; i < len; i++)
		buf[i] = (char)rand_r(seed);
	/* Near misses: the command with one byte changed, or with more after it. */
	if (len >= 5 && rand_r(seed) % 2) {
		memcpy(buf, "reset", 5);
		if (len <= 6)
			buf[rand_r(seed) % len] ^= (char)(1 + rand_r(seed) % 255);
	}
	if (is_command(buf, len))
		buf[0] = 'R';
	return len;
}

/*
 * Root, with CAP_SYS_ADMIN: FUZZ_WRITES random writes (lengths 0 to 1 MiB,
 * random bytes and near misses) each get EINVAL; so does the command
 * split over several writes on one descriptor, and the command at an odd
 * offset (lseek, then write; pwrite is ESPIPE for any seq_file).  Nothing
 * resets the counters.  Without CAP_SYS_ADMIN
 * the same writes get EPERM; uid 1000 cannot open the file for writing.
 */
static enum ktap_result fuzzed_writes_refused(const char **skip)
{
	unsigned int seed = 42, i, refused = 0, tried = 0;
	long long forks = total_forks();
	char *buf = malloc(MIB);
	int fd, err, status;
	size_t len;
	pid_t pid;

	(void)skip;
	if (!buf) {
		check(false, "malloc");
		return KTAP_FAIL;
	}
	for (i = 0; i < FUZZ_WRITES; i++) {
		len = fuzz_one(buf, &seed);
		err = write_cmd(buf, len);
		tried++;
		refused += err == -EINVAL;
		check(err == -EINVAL, "write %u (%zu bytes, starting %02x): %s, expected EINVAL", i,
		      len, len ? (unsigned char)buf[0] : 0, strerror(-err));
	}

	fd = open(COWSTAT_PATH, O_WRONLY | O_CLOEXEC);
	if (check(fd >= 0, "open for writing: %s", strerror(errno))) {
		static const char *const pieces[] = { "re", "set", "r", "eset\n", "rese", "t" };

		for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++, tried++) {
			err = write(fd, pieces[i], strlen(pieces[i])) < 0 ? errno : 0;
			refused += err == EINVAL;
			check(err == EINVAL, "piece '%s' of a split command: %s", pieces[i],
			      strerror(err));
		}
		/* seq_file allows no pwrite (ESPIPE); lseek then write is EINVAL. */
		for (i = 1; i < 8; i += 2, tried += 2) {
			err = pwrite(fd, "reset", 5, i) < 0 ? errno : 0;
			check(err == ESPIPE, "pwrite of reset at offset %u: %s, expected ESPIPE",
			      i, strerror(err));
			err = lseek(fd, i, SEEK_SET) == (off_t)i && write(fd, "reset", 5) < 0 ?
			      errno : 0;
			refused += err == EINVAL;
			check(err == EINVAL, "reset at offset %u: %s, expected EINVAL", i,
			      strerror(err));
		}
		check(lseek(fd, 0, SEEK_SET) == 0, "lseek back to 0");
		close(fd);
	}
	check(total_forks() >= forks, "a refused write reset the counters (forks %lld -> %lld)",
	      forks, total_forks());

	/* Root without CAP_SYS_ADMIN, then uid 1000: the same writes. */
	for (i = 0; i < 2; i++) {
		pid = fork();
		if (pid == 0) {
			unsigned int s = 7, j, bad = 0;
			int want = i == 0 ? -EPERM : -EACCES;

			if (i == 0 ? !drop_sys_admin() : !become_student())
				_exit(255);
			for (j = 0; j < 100; j++) {
				len = fuzz_one(buf, &s);
				bad += write_cmd(buf, len) != want;
			}
			bad += write_cmd("reset\n", 6) != want;
			_exit(bad > 254 ? 254 : (int)bad);
		}
		status = -1;
		if (pid > 0)
			waitpid(pid, &status, 0);
		check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s: %d of 101 writes not refused with %s (status %#x)",
		      i == 0 ? "root without CAP_SYS_ADMIN" : "uid 1000",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -1, i == 0 ? "EPERM" : "EACCES",
		      status);
		tried += 101;
	}
	ktap_diag("%u bad writes tried: %u refused as root with EINVAL, the rest with ESPIPE, "
		  "EPERM or EACCES", tried, refused);
	free(buf);
	return KTAP_PASS;
}

/* The whole file, read(2) @chunk bytes at a time, into @buf; its length or -1. */
static ssize_t read_all(const char *path, char *buf, size_t size, size_t chunk)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len < size && (n = read(fd, buf + len, chunk < size - len ? chunk : size - len)) > 0)
		len += (size_t)n;
	close(fd);
	return n < 0 ? -1 : (ssize_t)len;
}

/*
 * Read @path one way (@how: so many bytes at a time, or @len bytes
 * at @off with pread, lseek(SEEK_SET) or lseek(SEEK_CUR)), between two
 * plain reads of the whole file.  When the two plain reads agree (this
 * process's own row may change under it) the bytes read must be theirs.
 * Returns true when they were, false after 5 tries or on a mismatch.
 */
enum read_way { CHUNKS, PREAD, SEEK_SET_READ, SEEK_CUR_READ };

static bool same_one_way(const char *path, enum read_way way, size_t arg, unsigned int *seed,
			 char *ref, char *again, char *buf, size_t size)
{
	ssize_t len, n;
	unsigned int tries;
	size_t want;
	off_t off = 0;
	int fd;

	for (tries = 0; tries < 5; tries++) {
		len = read_all(path, ref, size, 1024);	/* less than seq_file holds: the reference */
		if (len <= 0)
			return false;
		if (way == CHUNKS) {
			n = read_all(path, buf, size, arg);
			want = (size_t)len;
		} else {
			off = (off_t)((unsigned int)rand_r(seed) % (unsigned int)len);
			want = 1 + (unsigned int)rand_r(seed) % 300;
			if (off + (off_t)want > len)
				want = (size_t)(len - off);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return false;
			if (way == PREAD)
				n = pread(fd, buf, want, off);
			else if (way == SEEK_SET_READ)
				n = lseek(fd, off, SEEK_SET) == off ? read(fd, buf, want) : -1;
			else	/* relative to where a first read left off */
				n = read(fd, buf, 1) == 1 && lseek(fd, off - 1, SEEK_CUR) == off ?
				    read(fd, buf, want) : -1;
			close(fd);
		}
		if (read_all(path, again, size, 1024) != len || memcmp(ref, again, len))
			continue;	/* the table changed meanwhile: try again */
		return n == (ssize_t)want && !memcmp(ref + off, buf, want);
	}
	return false;
}

/*
 * Read 1, 7, 4093 and 131072 bytes at a time, and with pread, lseek(SEEK_SET) and
 * lseek(SEEK_CUR) to random offsets, @path gives the bytes a plain read
 * does.  SEEK_END is refused (seq_file cannot know the end).
 */
static void same_any_way(const char *path, char *ref, char *again, char *buf, size_t size)
{
	/* 131072: what cat asks for, more than seq_file's first buffer holds. */
	static const size_t chunks[] = { 1, 7, 4093, 131072 };
	static const char *const names[] = { "chunks", "pread", "SEEK_SET", "SEEK_CUR" };
	unsigned int seed = 3, i, bad[4] = { 0 }, tried = 0;
	int fd;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++, tried++)
		bad[CHUNKS] += !same_one_way(path, CHUNKS, chunks[i], &seed, ref, again, buf, size);
	for (i = 0; i < 300; i++, tried++)
		bad[1 + i % 3] += !same_one_way(path, (enum read_way)(1 + i % 3), 0, &seed, ref,
						again, buf, size);
	for (i = 0; i < 4; i++)
		check(!bad[i], "%s: %u reads by %s differ from a plain read", path, bad[i], names[i]);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	check(fd >= 0 && lseek(fd, 0, SEEK_END) < 0 && errno == EINVAL, "%s: SEEK_END not refused",
	      path);
	if (fd >= 0)
		close(fd);
	ktap_diag("%s: %u reads of other shapes, each the same as a plain read", path, tried);
}

#define MANY_MAPPINGS	200	/* separate mappings of this process: 400 rows */

static enum ktap_result reads_any_way_same_text(const char **skip)
{
	const size_t size = 4 * MIB;
	char *ref = malloc(size), *again = malloc(size), *buf = malloc(size), *many;
	unsigned int i;

	(void)skip;
	if (!check(ref && again && buf, "malloc")) {
		free(ref);
		free(again);
		free(buf);
		return KTAP_FAIL;
	}
	/* Touched first, so that reading into them moves no count of this process. */
	memset(ref, 0, size);
	memset(again, 0, size);
	memset(buf, 0, size);
	/* Rows enough that one read cannot hold them all in seq_file's first buffer. */
	many = mmap(NULL, 2 * MANY_MAPPINGS * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (i = 0; many != MAP_FAILED && i < MANY_MAPPINGS; i++)
		mprotect(many + 2 * i * 4096, 4096, PROT_READ | PROT_WRITE);
	same_any_way(COWSTAT_PATH, ref, again, buf, size);
	same_any_way(MAPS_PATH, ref, again, buf, size);
	if (many != MAP_FAILED)
		munmap(many, 2 * MANY_MAPPINGS * 4096);
	free(ref);
	free(again);
	free(buf);
	return KTAP_PASS;
}

const struct test_case input_cases[] = {
	{ "fuzzed_writes_refused", fuzzed_writes_refused },
	{ "reads_any_way_same_text", reads_any_way_same_text },
};
const int nr_input_cases = sizeof(input_cases) / sizeof(input_cases[0]);
