/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by gomem's kselftests: raw heap ioctls that return 0 or
 * a negative errno, /proc and debugfs readers, fill patterns, and a way
 * to touch memory that may fault.
 *
 * Code that runs in a process the test forks must not use the harness's
 * ASSERT and EXPECT (they would unwind into the harness from the wrong
 * process): only the helpers that take _metadata use them.
 */
#ifndef _GOMEM_TEST_UTIL_H
#define _GOMEM_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/gomem.h>

#include "kselftest_harness.h"
#include "gomem_skip.h"
#include "libgomem.h"

#define GOMEM_DEV		"/dev/gomem"
#define GOMEM_DEBUGFS		"/sys/kernel/debug/gomem"
#define GOMEM_INFO		GOMEM_DEBUGFS "/info"
#define GOMEM_HEAPS		GOMEM_DEBUGFS "/heaps"

/* Where and in what units a heap reserves address space. */
#define GOMEM_ARENA_HINT	0xc000000000ULL
#define GOMEM_ARENA_SIZE	(64ULL << 20)
/* Go's page; large objects are whole pages. */
#define GOMEM_PAGE_SIZE		8192ULL
#define GOMEM_MAX_SMALL		32768ULL

#define MiB			(1ULL << 20)

/* === heaps ============================================================= */

/* Marks the kernel log with the test's name, so that a splat can be placed. */
static inline void gm_kmsg(const char *test)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC), n;
	char msg[128];

	if (fd < 0)
		return;
	n = snprintf(msg, sizeof(msg), "gomem selftest: %s\n", test);
	if (write(fd, msg, n) != n)
		n = -1;
	close(fd);
}

/* gm_open_heap_gogc(): keep the GOGC the module gives new heaps. */
#define GM_GOGC_MODULE		(-2)

/**
 * gm_open_nogc() - gomem_open() with automatic collection off
 *
 * The tests written before the collector hold objects whose addresses
 * only their locals have: an automatic cycle would free them. Their heaps
 * run with GOGC off (explicit free only, as before).
 *
 * Return: the heap, or NULL with errno set.
 */
static inline struct gomem_heap *gm_open_nogc(void)
{
	struct gomem_gc_params p = { .gogc = GOMEM_GOGC_OFF, .flags = GOMEM_GC_SET_GOGC };
	struct gomem_heap *h = gomem_open(NULL);

	if (h && ioctl(gomem_fd(h), GOMEM_IOC_SET_GC, &p)) {
		gomem_close(h);
		return NULL;
	}
	return h;
}

/**
 * gm_open_heap_gogc() - open a heap for a fixture, or skip without the module
 * @gogc: its GOGC, or GM_GOGC_MODULE for the module's default
 *
 * 6.1's harness runs the test body even after a SKIP() in the setup, so
 * the test's child ends here; exit code 255 is its "skipped". A module
 * without GOMEM_FEATURE_HEAP fails the test.
 */
static inline struct gomem_heap *gm_open_heap_gogc(struct __test_metadata *_metadata, int gogc)
{
	struct gomem_gc_params p = { .gogc = gogc, .flags = GOMEM_GC_SET_GOGC };
	struct gomem_heap *h;

	if (access(GOMEM_DEV, F_OK))
		SKIP(_exit(255), "%s: %s (is gomem.ko loaded?)", GOMEM_DEV, strerror(errno));
	gm_kmsg(_metadata->name);
	h = gomem_open(NULL);
	ASSERT_NE(NULL, h) TH_LOG("gomem_open: %s", strerror(errno));
	if (gogc != GM_GOGC_MODULE)
		ASSERT_EQ(0, ioctl(gomem_fd(h), GOMEM_IOC_SET_GC, &p));
	return h;
}

/* A heap for the tests that predate the collector: GOGC off. */
static inline struct gomem_heap *gm_open_heap(struct __test_metadata *_metadata)
{
	return gm_open_heap_gogc(_metadata, GOMEM_GOGC_OFF);
}

/* A heap's statistics; fails the test if they cannot be read. */
static inline void gm_stats(struct __test_metadata *_metadata, struct gomem_heap *h,
			    struct gomem_memstats *st)
{
	ASSERT_EQ(0, gomem_stats(h, st));
}

/* === /proc and debugfs ================================================== */

/**
 * gm_file_value() - the number after @key in a file of "key value" lines
 * Return: the value, or -1 if the file or the key is missing.
 */
static inline long long gm_file_value(const char *path, const char *key)
{
	char line[256], name[64];
	long long value, found = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lli", name, &value) == 2 && !strcmp(name, key))
			found = value;
	fclose(f);
	return found;
}

/* A /proc/meminfo field ("MemFree:") in bytes, or -1. */
static inline long long gm_meminfo(const char *field)
{
	long long kb = gm_file_value("/proc/meminfo", field);

	return kb < 0 ? -1 : kb * 1024;
}

/*
 * Bytes in the page allocator's per-CPU free lists (the "count:" of every
 * pageset in /proc/zoneinfo), or -1. MemFree leaves them out. Since 6.7
 * the kernel grows a CPU's list while it frees many pages ("mm: tune PCP
 * high automatically"), up to an eighth of the zone shared among the
 * CPUs, and shrinks it back only by an eighth a second: right after a big
 * free, tens of MiB can sit there on 6.12, where 6.1 held a few.
 */
static inline long long gm_pcp_bytes(void)
{
	long long pages = 0, n;
	char line[256];
	FILE *f;

	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %lli", &n) == 1)
			pages += n;
	fclose(f);
	return pages * sysconf(_SC_PAGESIZE);
}

/* Free memory as the page allocator has it: MemFree and its per-CPU lists, or -1. */
static inline long long gm_free_bytes(void)
{
	long long memfree = gm_meminfo("MemFree:"), pcp = gm_pcp_bytes();

	return memfree < 0 || pcp < 0 ? -1 : memfree + pcp;
}

/* Pages held by all /dev/gomem heaps (debugfs info), or -1. */
static inline long long gm_user_pages(void)
{
	return gm_file_value(GOMEM_INFO, "user_pages");
}

/**
 * struct gm_vmas - the /dev/gomem mappings of this process
 * @count: how many
 * @size: their total size in bytes (smaps "Size")
 * @rss: their resident bytes (smaps "Rss")
 * @start: the lowest start address
 */
struct gm_vmas {
	unsigned long count;
	unsigned long long size, rss;
	unsigned long start;
};

static inline int gm_is_gomem_map(const char *line)
{
	size_t n = strcspn(line, "\n");

	return n >= strlen(GOMEM_DEV) &&
		!strncmp(line + n - strlen(GOMEM_DEV), GOMEM_DEV, strlen(GOMEM_DEV));
}

/* Sums up this process's /dev/gomem mappings from /proc/self/smaps. */
static inline int gm_smaps(struct gm_vmas *v)
{
	unsigned long start, end;
	unsigned long long kb;
	char line[512];
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	memset(v, 0, sizeof(*v));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* Only a mapping's first line starts with "start-end". */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in = gm_is_gomem_map(line);
			if (in && (!v->count || start < v->start))
				v->start = start;
			v->count += in;
		} else if (in && sscanf(line, "Size: %llu kB", &kb) == 1) {
			v->size += kb * 1024;
		} else if (in && sscanf(line, "Rss: %llu kB", &kb) == 1) {
			v->rss += kb * 1024;
		}
	}
	fclose(f);
	return 0;
}

/**
 * gm_find_map() - the /proc/self/maps line of the mapping holding @addr
 * @start, @end: receive its bounds
 * Return: 1 if it is a /dev/gomem mapping, 0 if another, -1 if none.
 */
static inline int gm_find_map(unsigned long addr, unsigned long *start, unsigned long *end)
{
	char line[512];
	int ret = -1;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (ret < 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", start, end) != 2 || addr < *start || addr >= *end)
			continue;
		ret = gm_is_gomem_map(line);
	}
	fclose(f);
	return ret;
}

/**
 * gm_read_number() - the first number in a file (memory.current, a
 *	module parameter)
 * @path: the file
 * @missing: what to return when the file or the number is missing
 */
static inline long long gm_read_number(const char *path, long long missing)
{
	long long v = missing;
	FILE *f = fopen(path, "r");

	if (!f)
		return missing;
	if (fscanf(f, "%lld", &v) != 1)
		v = missing;
	fclose(f);
	return v;
}

/* Writes @val to a sysfs, debugfs or cgroup file. Return: 0 or -errno. */
static inline int gm_write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;
	ssize_t len = strlen(val), n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n != len)
		ret = n < 0 ? -errno : -EIO;
	close(fd);
	return ret;
}

/* === memory cgroups ===================================================== */

#define GM_CG_ROOT		"/sys/fs/cgroup"

/**
 * gm_memcg_create() - a child of the cgroup2 root with the memory controller
 * @dir: set to the new cgroup's path
 * @len: the size of @dir
 * @name: its name; the pid is appended
 *
 * Mounts cgroup2 if nothing is mounted there yet (the test guest mounts
 * nothing) and enables the memory controller for the root's children.
 *
 * Return: NULL, or why there can be no such cgroup (a reason to skip).
 */
static inline const char *gm_memcg_create(char *dir, size_t len, const char *name)
{
	char controllers[256] = "";
	FILE *f;

	if (access(GM_CG_ROOT "/cgroup.controllers", F_OK)) {
		mkdir(GM_CG_ROOT, 0755);
		if (mount("cgroup2", GM_CG_ROOT, "cgroup2", 0, NULL))
			return "cannot mount cgroup2";
	}
	f = fopen(GM_CG_ROOT "/cgroup.controllers", "r");
	if (f) {
		if (!fgets(controllers, sizeof(controllers), f))
			controllers[0] = '\0';
		fclose(f);
	}
	if (!strstr(controllers, "memory"))
		return "no memory controller in cgroup2";
	if (gm_write_str(GM_CG_ROOT "/cgroup.subtree_control", "+memory"))
		return "cannot enable the memory controller";
	snprintf(dir, len, GM_CG_ROOT "/%s.%d", name, getpid());
	if (mkdir(dir, 0755))
		return "cannot create a cgroup";
	return NULL;
}

/* === processes ========================================================== */

/*
 * Waits until *@word, shared with another process, reaches @value.
 * Return: 0, or -1 after about @ms milliseconds.
 */
static inline int gm_wait_for(int *word, int value, int ms)
{
	int i;

	for (i = 0; i < ms; i++) {
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) >= value)
			return 0;
		usleep(1000);
	}
	return -1;
}

/* xorshift64*: the tests' seeded generator (deterministic by seed). */
static inline uint64_t gm_rnd(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* === patterns =========================================================== */

static inline uint64_t gm_pattern(uint64_t seed, uint64_t off)
{
	uint64_t x = (seed + off) * 0x9e3779b97f4a7c15ULL;

	return x ^ (x >> 29) ^ (off << 48);
}

/* Where the pattern's words stop: the last 8 bytes get a word of their own. */
static inline size_t gm_fill_end(size_t len)
{
	return len >= 8 ? len - 8 : len;
}

/*
 * Writes the pattern of @seed at offsets 0, @stride, 2 * @stride, ... and
 * in the last 8 bytes of [p, p + len); @stride 8 covers every byte.
 */
static inline void gm_fill(void *p, size_t len, uint64_t seed, size_t stride)
{
	size_t off, end = gm_fill_end(len), n;
	uint64_t v;

	for (off = 0; off < end; off += stride) {
		v = gm_pattern(seed, off);
		n = end - off < 8 ? end - off : 8;
		memcpy((char *)p + off, &v, n);
	}
	if (len >= 8) {
		v = gm_pattern(seed, len - 8);
		memcpy((char *)p + len - 8, &v, 8);
	}
}

/* Checks what gm_fill() wrote. Return: the first bad offset, or -1. */
static inline long gm_check(const void *p, size_t len, uint64_t seed, size_t stride)
{
	size_t off, end = gm_fill_end(len), n;
	uint64_t v;

	for (off = 0; off < end; off += stride) {
		v = gm_pattern(seed, off);
		n = end - off < 8 ? end - off : 8;
		if (memcmp((const char *)p + off, &v, n))
			return off;
	}
	if (len >= 8) {
		v = gm_pattern(seed, len - 8);
		if (memcmp((const char *)p + len - 8, &v, 8))
			return len - 8;
	}
	return -1;
}

/* The first byte of [p, p + len) that is not @byte, or -1. */
static inline long gm_first_not(const void *p, size_t len, unsigned char byte)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i] != byte)
			return i;
	return -1;
}

/* Whether [p, p + len) reads as zeros. */
static inline int gm_is_zero(const void *p, size_t len)
{
	return gm_first_not(p, len, 0) < 0;
}

/* === faults ============================================================= */

static sigjmp_buf gm_fault_env;

static inline void gm_fault_handler(int sig)
{
	siglongjmp(gm_fault_env, sig);
}

/**
 * gm_touch() - read (or write) one byte at @p, surviving a fault
 * Return: 0, or the signal the access raised (SIGSEGV, SIGBUS).
 */
static inline int gm_touch(void *p, int write)
{
	struct sigaction sa = { .sa_handler = gm_fault_handler }, old_segv, old_bus;
	int sig;

	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	sig = sigsetjmp(gm_fault_env, 1);
	if (!sig) {
		if (write)
			__atomic_store_n((char *)p, 1, __ATOMIC_RELAXED);
		else
			__atomic_load_n((char *)p, __ATOMIC_RELAXED);
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return sig;
}

/* === processes ========================================================== */

/*
 * Runs @fn in a child process. Return: its wait status, or -1. The child
 * reports failures on stderr and exits with a non-zero code.
 */
static inline int gm_run_child(int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* For code in child processes: report and fail. */
#define gm_child_fail(fmt, ...) \
	(fprintf(stderr, "# %s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__), __LINE__)

#endif /* _GOMEM_TEST_UTIL_H */
