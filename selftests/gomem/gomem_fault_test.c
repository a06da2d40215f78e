// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection kselftests for /dev/gomem heaps: every heap command is
 * run with /proc/thread-self/fail-nth = 1, 2, 3, ... so that its first,
 * second, third, ... slab or page allocation fails, until the command
 * runs through without reaching the N-th allocation. For each N:
 *  - the command returns 0 or a clean -errno (-ENOMEM, -EINTR; -EAGAIN
 *    for GOMEM_ALLOC_NOGC), never anything else;
 *  - a command that failed changed nothing that it promises to keep
 *    (nothing allocated, a bulk allocation all or none, settings and
 *    roots as they were), as GOMEM_IOC_STATS, GOMEM_IOC_CLASS_STATS and
 *    the commands themselves tell; one that succeeded did its job;
 *  - the heap still works (an allocation, a free and a GC cycle);
 *  - once the heap is closed, no /dev/gomem mapping is left in the
 *    process and the module's user page count is back where it was.
 * Leaks are left to kmemleak, which the guest scans after the run.
 *
 * Needs CONFIG_FAULT_INJECTION_DEBUG_FS, CONFIG_FAILSLAB and
 * CONFIG_FAIL_PAGE_ALLOC (the debug guest has them) and debugfs: the
 * tests skip without them. GOMEM_FAULT_SKIP=name,name,... skips the
 * named commands (see fi_cases[]); GOMEM_FAULT_MAX_N bounds N. Every
 * failure fails the test.
 */
#include <sys/mman.h>
#include <time.h>

#include "gomem_test_util.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define FI_DEBUGFS	"/sys/kernel/debug"
#define FI_MAX_N	2000

/* === the fault injection settings ======================================= */

/*
 * Only fail-nth injects: probability 0 keeps random failures off, the
 * task filter keeps them to tasks that asked (none does). Sleeping and
 * highmem (user page) allocations of any order may fail. fail-nth
 * ignores interval, times and space.
 */
struct fi_knob {
	const char *attr, *name, *value;
	char saved[64];
	int have;
};

#define KNOB(a, n, v)	{ .attr = (a), .name = (n), .value = (v) }

static struct fi_knob fi_knobs[] = {
	KNOB("failslab", "probability", "0"),
	KNOB("failslab", "task-filter", "Y"),
	KNOB("failslab", "ignore-gfp-wait", "N"),
	KNOB("failslab", "verbose", "0"),
	KNOB("fail_page_alloc", "probability", "0"),
	KNOB("fail_page_alloc", "task-filter", "Y"),
	KNOB("fail_page_alloc", "ignore-gfp-wait", "N"),
	KNOB("fail_page_alloc", "ignore-gfp-highmem", "N"),
	KNOB("fail_page_alloc", "min-order", "0"),
	KNOB("fail_page_alloc", "verbose", "0"),
};

static int knob_path(char *buf, size_t len, const struct fi_knob *k)
{
	return snprintf(buf, len, FI_DEBUGFS "/%s/%s", k->attr, k->name);
}

static int knob_read(const struct fi_knob *k, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	knob_path(path, sizeof(path), k);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int knob_write(const struct fi_knob *k, const char *value)
{
	char path[128];

	knob_path(path, sizeof(path), k);
	return gm_write_str(path, value);
}

/* Saves every setting, then sets ours. Return: 0 or a negative errno. */
static int fi_setup(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(fi_knobs); i++) {
		err = knob_read(&fi_knobs[i], fi_knobs[i].saved, sizeof(fi_knobs[i].saved));
		if (err)
			return err;
		fi_knobs[i].have = 1;
	}
	for (i = 0; i < ARRAY_SIZE(fi_knobs); i++) {
		if (!strcmp(fi_knobs[i].saved, fi_knobs[i].value))
			continue;
		err = knob_write(&fi_knobs[i], fi_knobs[i].value);
		if (err)
			return err;
	}
	return 0;
}

/* Puts the saved settings back, last first (probability last of all). */
static void fi_restore(void)
{
	unsigned int i;

	for (i = ARRAY_SIZE(fi_knobs); i--; ) {
		if (fi_knobs[i].have && strcmp(fi_knobs[i].saved, fi_knobs[i].value))
			knob_write(&fi_knobs[i], fi_knobs[i].saved);
		fi_knobs[i].have = 0;
	}
}

/* Arms fail-nth: the @n-th allocation of this thread from now fails. */
static int fi_arm(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return write(fd, buf, len) == len ? 0 : -errno;
}

/*
 * Disarms fail-nth. Return: 1 if the failure was injected (the count
 * reached 0), 0 if not, a negative errno if fail-nth cannot be read.
 */
static int fi_disarm(int fd)
{
	char buf[16];
	ssize_t n;
	long left;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = 0;
	left = strtol(buf, NULL, 10);
	if (left && write(fd, "0", 1) != 1)
		return -errno;
	return !left;
}

/* === raw heap commands ================================================== */

static int ioc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int h_open(void)
{
	int fd = open(GOMEM_DEV, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int h_alloc(int fd, uint64_t size, uint32_t flags, uint64_t *addr)
{
	struct gomem_alloc a = { .size = size, .flags = flags };
	int ret = ioc(fd, GOMEM_IOC_ALLOC, &a);

	if (!ret)
		*addr = a.addr;
	return ret;
}

static int h_free(int fd, uint64_t addr)
{
	struct gomem_free f = { .addr = addr };

	return ioc(fd, GOMEM_IOC_FREE, &f);
}

/* The object's slot size, or a negative errno (-EINVAL: not an object). */
static long long h_size(int fd, uint64_t addr)
{
	struct gomem_free f = { .addr = addr };
	int ret = ioc(fd, GOMEM_IOC_SIZE, &f);

	return ret ? ret : (long long)f.size;
}

static int h_stats(int fd, struct gomem_memstats *st)
{
	struct gomem_stats s = { .buf = (uintptr_t)st, .size = sizeof(*st) };

	memset(st, 0, sizeof(*st));
	return ioc(fd, GOMEM_IOC_STATS, &s);
}

static int h_classes(int fd, struct gomem_class_stat *tab)
{
	struct gomem_class_stats c = {
		.buf = (uintptr_t)tab,
		.count = GOMEM_NUM_SIZE_CLASSES,
		.entry_size = sizeof(*tab),
	};

	return ioc(fd, GOMEM_IOC_CLASS_STATS, &c);
}

static int h_gc(int fd, uint32_t flags, struct gomem_gc_stats *st)
{
	struct gomem_gc g = { .buf = (uintptr_t)st, .size = st ? sizeof(*st) : 0,
			      .flags = flags };

	return ioc(fd, GOMEM_IOC_GC, &g);
}

static int h_set_gc(int fd, uint32_t flags, int gogc, uint64_t limit,
		    struct gomem_gc_params *out)
{
	struct gomem_gc_params p = { .gogc = gogc, .flags = flags, .memory_limit = limit };
	int ret = ioc(fd, GOMEM_IOC_SET_GC, &p);

	if (!ret && out)
		*out = p;
	return ret;
}

static int h_root(int fd, unsigned long cmd, uint64_t addr, uint64_t len, uint32_t flags)
{
	struct gomem_root r = { .addr = addr, .len = len, .flags = flags };

	return ioc(fd, cmd, &r);
}

static int h_cap(int fd, uint32_t flags, uint64_t cap, uint64_t *old)
{
	struct gomem_cap c = { .cap_bytes = cap, .flags = flags };
	int ret = ioc(fd, GOMEM_IOC_SET_CAP, &c);

	if (!ret && old)
		*old = c.old_cap;
	return ret;
}

/* === what a failed command must leave alone ============================= */

/* The live objects of a heap: bytes, objects, and objects per class. */
struct snap {
	uint64_t heap_alloc, heap_objects, num_gc;
	uint64_t inuse[GOMEM_NUM_SIZE_CLASSES];
};

static int take_snap(int fd, struct snap *s)
{
	struct gomem_class_stat tab[GOMEM_NUM_SIZE_CLASSES];
	struct gomem_memstats st;
	int ret, i;

	ret = h_stats(fd, &st);
	if (!ret)
		ret = h_classes(fd, tab);
	if (ret)
		return ret;
	s->heap_alloc = st.heap_alloc;
	s->heap_objects = st.heap_objects;
	s->num_gc = st.num_gc;
	for (i = 0; i < GOMEM_NUM_SIZE_CLASSES; i++)
		s->inuse[i] = tab[i].inuse;
	return 0;
}

static char fi_why[256];

/* NULL if the heap's live objects are as in @before, else a reason. */
static const char *same_objects(int fd, const struct snap *before)
{
	struct snap now;
	int i;

	if (take_snap(fd, &now))
		return "statistics cannot be read";
	if (now.heap_objects != before->heap_objects || now.heap_alloc != before->heap_alloc) {
		snprintf(fi_why, sizeof(fi_why),
			 "live objects changed: HeapObjects %llu -> %llu, HeapAlloc %llu -> %llu",
			 (unsigned long long)before->heap_objects,
			 (unsigned long long)now.heap_objects,
			 (unsigned long long)before->heap_alloc,
			 (unsigned long long)now.heap_alloc);
		return fi_why;
	}
	for (i = 0; i < GOMEM_NUM_SIZE_CLASSES; i++) {
		if (now.inuse[i] != before->inuse[i]) {
			snprintf(fi_why, sizeof(fi_why), "class %d: %llu -> %llu objects in use", i,
				 (unsigned long long)before->inuse[i],
				 (unsigned long long)now.inuse[i]);
			return fi_why;
		}
	}
	return NULL;
}

/* The heap still works: an allocation, its memory, a free, a GC cycle. */
static const char *heap_works(int fd)
{
	struct gomem_gc_stats gs;
	uint64_t a, r;
	int ret;

	ret = h_alloc(fd, 200, 0, &a);
	if (ret) {
		snprintf(fi_why, sizeof(fi_why), "heap broken: allocation: %s", strerror(-ret));
		return fi_why;
	}
	gm_fill((void *)(uintptr_t)a, 200, a, 8);
	if (gm_check((void *)(uintptr_t)a, 200, a, 8) >= 0)
		return "heap broken: object does not keep its contents";
	if (h_free(fd, a))
		return "heap broken: free refused";
	if (h_alloc(fd, 4096, GOMEM_ALLOC_ROOT, &r))
		return "heap broken: root allocation";
	gm_fill((void *)(uintptr_t)r, 4096, r, 8);
	ret = h_gc(fd, 0, &gs);
	if (ret) {
		snprintf(fi_why, sizeof(fi_why), "heap broken: GC: %s", strerror(-ret));
		return fi_why;
	}
	if (h_size(fd, r) != 4096 || gm_check((void *)(uintptr_t)r, 4096, r, 8) >= 0)
		return "heap broken: a root object did not survive GC intact";
	if (h_free(fd, r))
		return "heap broken: free of the root refused";
	return NULL;
}

/* === the commands ======================================================= */

/**
 * struct fi_env - one run of one command with one N
 * @fd: the heap (a fresh one unless the case opens it), -1 when closed
 * @obj, @obj2: objects the case set up
 * @addrs: an array for bulk allocations
 * @arg: the case's argument
 * @before: the heap's objects before the command
 * @value: anything else the case recorded before the command
 * @start, @len: a mapping
 */
struct fi_env {
	int fd;
	uint64_t obj, obj2;
	uint64_t *addrs;
	const struct fi_case *c;
	struct snap before;
	long long value;
	struct gomem_memstats st;
	struct gomem_class_stat tab[GOMEM_NUM_SIZE_CLASSES];
	struct gomem_gc_params params;
	unsigned long start, len;
	uint64_t out;
};

/**
 * struct fi_case - a heap command under fault injection
 * @name: for GOMEM_FAULT_SKIP and the totals
 * @size, @flags, @count: allocation arguments, for the cases that take them
 * @fresh: open a heap (GOGC off) before each run
 * @prep: set up before fail-nth is armed; 0 or a negative errno
 * @run: the command, with fail-nth armed; 0 or a negative errno
 * @check: after the command (@ret its result): NULL or what is wrong
 * @eagain: -EAGAIN is a clean answer too
 */
struct fi_case {
	const char *name;
	uint64_t size;
	uint32_t flags, count;
	int fresh;
	int (*prep)(struct fi_env *e);
	int (*run)(struct fi_env *e);
	const char *(*check)(struct fi_env *e, int ret);
	int eagain;
};

/* -- open and close -- */

static int run_open(struct fi_env *e)
{
	e->fd = h_open();
	return e->fd < 0 ? e->fd : 0;
}

static int prep_open(struct fi_env *e)
{
	e->value = gm_file_value(GOMEM_INFO, "open_files");
	return 0;
}

static const char *check_open(struct fi_env *e, int ret)
{
	struct gm_vmas v;

	if (ret) {
		e->fd = -1;
		if (gm_file_value(GOMEM_INFO, "open_files") != e->value)
			return "a failed open left an open file counted";
		if (gm_smaps(&v) || v.count)
			return "a failed open left a /dev/gomem mapping";
	}
	return NULL;
}

/* A heap with objects in two classes and a large one, all touched. */
static int prep_populated(struct fi_env *e)
{
	int ret = h_alloc(e->fd, 100, 0, &e->obj);

	if (!ret)
		ret = h_alloc(e->fd, 200 * 1024, GOMEM_ALLOC_NOSCAN, &e->obj2);
	if (ret)
		return ret;
	memset((void *)(uintptr_t)e->obj, 1, 100);
	memset((void *)(uintptr_t)e->obj2, 2, 200 * 1024);
	return 0;
}

static int run_close(struct fi_env *e)
{
	int ret = close(e->fd) ? -errno : 0;

	/* close() releases the descriptor even when it reports an error. */
	e->fd = -1;
	return ret;
}

static const char *check_close(struct fi_env *e, int ret)
{
	struct gm_vmas v;

	if (gm_smaps(&v))
		return "smaps cannot be read";
	if (!v.count)
		return NULL;
	/* Say what happened, and recover so that the next N starts clean. */
	snprintf(fi_why, sizeof(fi_why),
		 "close left %lu /dev/gomem mappings (%llu bytes) in the process",
		 v.count, v.size);
	while (!gm_smaps(&v) && v.count) {
		unsigned long s, end;

		if (gm_find_map(v.start, &s, &end) != 1 || munmap((void *)s, end - s))
			break;
	}
	return fi_why;
}

/* -- allocation -- */

static int prep_snap(struct fi_env *e)
{
	return take_snap(e->fd, &e->before);
}

/*
 * A warm heap: an arena and a large object (of a size no case allocates)
 * are there, so that the command takes the paths after the first.
 */
static int prep_warm(struct fi_env *e)
{
	int ret = h_alloc(e->fd, 72 * 1024, GOMEM_ALLOC_NOSCAN, &e->obj2);

	return ret ? ret : take_snap(e->fd, &e->before);
}

static int run_alloc(struct fi_env *e)
{
	return h_alloc(e->fd, e->c->size, e->c->flags, &e->obj);
}

static const char *check_alloc(struct fi_env *e, int ret)
{
	uint64_t size = e->c->size, n;
	long long usable;
	void *p;

	if (ret)
		return same_objects(e->fd, &e->before);
	p = (void *)(uintptr_t)e->obj;
	usable = h_size(e->fd, e->obj);
	if (usable < (long long)size && !(size < 16 && (e->c->flags & GOMEM_ALLOC_NOSCAN)))
		return "GOMEM_IOC_SIZE disagrees with a successful allocation";
	/* Touch a bounded part of big objects. */
	n = size > 256 * 1024 ? 256 * 1024 : size;
	if ((e->c->flags & GOMEM_ALLOC_ZERO) && !gm_is_zero(p, n))
		return "GOMEM_ALLOC_ZERO object not zeroed";
	gm_fill(p, n, e->obj, 64);
	if (gm_check(p, n, e->obj, 64) >= 0)
		return "allocated object does not keep its contents";
	if (h_free(e->fd, e->obj))
		return "allocated object cannot be freed";
	return NULL;
}

#define BULK_SENTINEL	0x5a5a5a5a5a5a5a5aULL

static int prep_bulk(struct fi_env *e)
{
	uint32_t i;

	e->addrs = calloc(e->c->count, sizeof(*e->addrs));
	if (!e->addrs)
		return -ENOMEM;
	for (i = 0; i < e->c->count; i++)
		e->addrs[i] = BULK_SENTINEL;
	return take_snap(e->fd, &e->before);
}

static int prep_bulk_warm(struct fi_env *e)
{
	int ret = h_alloc(e->fd, 72 * 1024, GOMEM_ALLOC_NOSCAN, &e->obj2);

	return ret ? ret : prep_bulk(e);
}

static int run_bulk(struct fi_env *e)
{
	struct gomem_alloc_bulk b = {
		.size = e->c->size,
		.flags = e->c->flags,
		.count = e->c->count,
		.addrs = (uintptr_t)e->addrs,
	};

	return ioc(e->fd, GOMEM_IOC_ALLOC_BULK, &b);
}

static const char *check_bulk(struct fi_env *e, int ret)
{
	const char *why = NULL;
	uint32_t i;

	if (ret) {
		for (i = 0; i < e->c->count; i++)
			if (e->addrs[i] != BULK_SENTINEL)
				why = "a failed bulk allocation wrote the array";
		if (!why)
			why = same_objects(e->fd, &e->before);
	} else {
		for (i = 0; i < e->c->count && !why; i++) {
			if (h_size(e->fd, e->addrs[i]) < (long long)e->c->size)
				why = "a bulk-allocated object is not live";
			else if (h_free(e->fd, e->addrs[i]))
				why = "a bulk-allocated object cannot be freed";
		}
	}
	free(e->addrs);
	e->addrs = NULL;
	return why;
}

/* -- free and size -- */

static int prep_obj(struct fi_env *e)
{
	int ret = h_alloc(e->fd, e->c->size, e->c->flags, &e->obj);

	if (ret)
		return ret;
	memset((void *)(uintptr_t)e->obj, 0x77, e->c->size);
	return take_snap(e->fd, &e->before);
}

static int run_free(struct fi_env *e)
{
	return h_free(e->fd, e->obj);
}

static const char *check_free(struct fi_env *e, int ret)
{
	if (ret) {
		if (h_size(e->fd, e->obj) <= 0)
			return "a failed free freed the object";
		return same_objects(e->fd, &e->before);
	}
	if (h_size(e->fd, e->obj) != -EINVAL)
		return "a freed object is still live";
	return NULL;
}

static int run_size(struct fi_env *e)
{
	long long n = h_size(e->fd, e->obj);

	e->value = n;
	return n < 0 ? (int)n : 0;
}

static const char *check_size(struct fi_env *e, int ret)
{
	if (!ret && e->value < (long long)e->c->size)
		return "GOMEM_IOC_SIZE answered a wrong size";
	return same_objects(e->fd, &e->before);
}

/* -- statistics -- */

static int prep_stats(struct fi_env *e)
{
	int ret = prep_populated(e);

	if (!ret)
		ret = take_snap(e->fd, &e->before);
	return ret;
}

static int run_stats(struct fi_env *e)
{
	return h_stats(e->fd, &e->st);
}

static const char *check_stats(struct fi_env *e, int ret)
{
	if (ret)
		return NULL;
	if (e->st.size != sizeof(e->st) || e->st.heap_objects != e->before.heap_objects ||
	    e->st.heap_alloc != e->before.heap_alloc) {
		snprintf(fi_why, sizeof(fi_why),
			 "GOMEM_IOC_STATS succeeded with wrong numbers: HeapObjects %llu (is %llu), HeapAlloc %llu (is %llu)",
			 (unsigned long long)e->st.heap_objects,
			 (unsigned long long)e->before.heap_objects,
			 (unsigned long long)e->st.heap_alloc,
			 (unsigned long long)e->before.heap_alloc);
		return fi_why;
	}
	return NULL;
}

static int run_classes(struct fi_env *e)
{
	return h_classes(e->fd, e->tab);
}

static const char *check_classes(struct fi_env *e, int ret)
{
	int i;

	if (ret)
		return NULL;
	for (i = 0; i < GOMEM_NUM_SIZE_CLASSES; i++) {
		if (e->tab[i].inuse != e->before.inuse[i]) {
			snprintf(fi_why, sizeof(fi_why),
				 "GOMEM_IOC_CLASS_STATS succeeded with wrong numbers: class %d inuse %llu (is %llu)",
				 i, (unsigned long long)e->tab[i].inuse,
				 (unsigned long long)e->before.inuse[i]);
			return fi_why;
		}
	}
	return NULL;
}

/* -- scavenge -- */

static int prep_scavenge(struct fi_env *e)
{
	int ret = prep_populated(e);

	/* A freed large object leaves touched free pages to give back. */
	if (!ret)
		ret = h_alloc(e->fd, 1 * MiB, GOMEM_ALLOC_NOSCAN, &e->out);
	if (ret)
		return ret;
	memset((void *)(uintptr_t)e->out, 3, 1 * MiB);
	ret = h_free(e->fd, e->out);
	if (!ret)
		ret = take_snap(e->fd, &e->before);
	return ret;
}

static int run_scavenge(struct fi_env *e)
{
	struct gomem_scavenge s = { 0 };
	int ret = ioc(e->fd, GOMEM_IOC_SCAVENGE, &s);

	e->out = s.released;
	return ret;
}

static const char *check_scavenge(struct fi_env *e, int ret)
{
	const char *why = same_objects(e->fd, &e->before);
	char *p = (char *)(uintptr_t)e->obj2;

	if (why)
		return why;
	/* The live objects' memory stays as it was. */
	if (gm_first_not(p, 200 * 1024, 2) >= 0 ||
	    gm_first_not((void *)(uintptr_t)e->obj, 100, 1) >= 0)
		return "scavenging changed a live object";
	return NULL;
}

/* -- settings -- */

#define NEW_CAP		(256 * MiB)
#define NEW_GOGC	50
#define NEW_LIMIT	(512 * MiB)

static int run_set_cap(struct fi_env *e)
{
	return h_cap(e->fd, 0, NEW_CAP, &e->out);
}

static const char *check_set_cap(struct fi_env *e, int ret)
{
	uint64_t cap;

	if (h_cap(e->fd, GOMEM_CAP_QUERY, 0, &cap))
		return "GOMEM_CAP_QUERY failed";
	if (ret ? cap != 0 : (cap != NEW_CAP || e->out != 0))
		return ret ? "a failed GOMEM_IOC_SET_CAP changed the cap" :
			"GOMEM_IOC_SET_CAP did not set the cap";
	return h_cap(e->fd, 0, 0, NULL) ? "the cap cannot be removed" : NULL;
}

static int prep_params(struct fi_env *e)
{
	return h_set_gc(e->fd, 0, 0, 0, &e->params);
}

static int run_set_gc(struct fi_env *e)
{
	struct gomem_gc_params out;

	return h_set_gc(e->fd, GOMEM_GC_SET_GOGC | GOMEM_GC_SET_LIMIT, NEW_GOGC, NEW_LIMIT, &out);
}

static const char *check_set_gc(struct fi_env *e, int ret)
{
	struct gomem_gc_params now;

	if (h_set_gc(e->fd, 0, 0, 0, &now))
		return "the GC settings cannot be read";
	if (ret && (now.old_gogc != e->params.old_gogc || now.old_limit != e->params.old_limit))
		return "a failed GOMEM_IOC_SET_GC changed the settings";
	if (!ret && (now.old_gogc != NEW_GOGC || now.old_limit != NEW_LIMIT))
		return "GOMEM_IOC_SET_GC did not set GOGC and the limit";
	if (h_set_gc(e->fd, GOMEM_GC_SET_GOGC | GOMEM_GC_SET_LIMIT, GOMEM_GOGC_OFF,
		     GOMEM_NO_LIMIT, NULL))
		return "the GC settings cannot be put back";
	return NULL;
}

/* -- roots -- */

/* A root range in the program's memory: it points at e->obj while used. */
static uint64_t fi_root_area[64];

static int prep_root_range(struct fi_env *e)
{
	memset(fi_root_area, 0, sizeof(fi_root_area));
	return take_snap(e->fd, &e->before);
}

static int run_root_add(struct fi_env *e)
{
	return h_root(e->fd, GOMEM_IOC_ROOT_ADD, (uintptr_t)fi_root_area,
		      sizeof(fi_root_area), 0);
}

/* After an add, the range is there exactly when the add succeeded. */
static const char *check_root_add(struct fi_env *e, int ret)
{
	int del = h_root(e->fd, GOMEM_IOC_ROOT_DEL, (uintptr_t)fi_root_area, 0, 0);

	if (ret && del != -ENOENT)
		return "a failed GOMEM_IOC_ROOT_ADD left a root range";
	if (!ret && del)
		return "GOMEM_IOC_ROOT_ADD did not register the range";
	return same_objects(e->fd, &e->before);
}

static int prep_root_del(struct fi_env *e)
{
	int ret = prep_root_range(e);

	return ret ? ret : run_root_add(e);
}

static int run_root_del(struct fi_env *e)
{
	return h_root(e->fd, GOMEM_IOC_ROOT_DEL, (uintptr_t)fi_root_area, 0, 0);
}

static const char *check_root_del(struct fi_env *e, int ret)
{
	int del = run_root_del(e);

	if (ret && del)
		return "a failed GOMEM_IOC_ROOT_DEL removed the range";
	if (!ret && del != -ENOENT)
		return "GOMEM_IOC_ROOT_DEL left the range";
	return NULL;
}

/*
 * Whether the object survives a forced cycle: only a root keeps it (no
 * registered range points at it). Return: 1, 0, or a negative errno.
 */
static int survives_gc(int fd, uint64_t obj)
{
	int ret = h_gc(fd, 0, NULL);

	if (ret)
		return ret;
	return h_size(fd, obj) > 0;
}

static int run_root_add_obj(struct fi_env *e)
{
	return h_root(e->fd, GOMEM_IOC_ROOT_ADD, e->obj, 0, GOMEM_ROOT_OBJECT);
}

static const char *check_root_obj(struct fi_env *e, int ret, int want_root)
{
	int live = survives_gc(e->fd, e->obj);

	if (live < 0)
		return "GC failed";
	if (live != want_root)
		return want_root ? "a root object did not survive GC" :
			"an object that is no root survived GC";
	if (live && h_free(e->fd, e->obj))
		return "the root object cannot be freed";
	return NULL;
}

static const char *check_root_add_obj(struct fi_env *e, int ret)
{
	return check_root_obj(e, ret, !ret);
}

static int run_root_del_obj(struct fi_env *e)
{
	return h_root(e->fd, GOMEM_IOC_ROOT_DEL, e->obj, 0, GOMEM_ROOT_OBJECT);
}

static const char *check_root_del_obj(struct fi_env *e, int ret)
{
	return check_root_obj(e, ret, !!ret);
}

/* -- the collector -- */

/* A root object with contents and a garbage one. */
static int prep_gc(struct fi_env *e)
{
	int ret = h_alloc(e->fd, 4096, GOMEM_ALLOC_ROOT, &e->obj);

	if (!ret)
		ret = h_alloc(e->fd, 1024, 0, &e->obj2);
	if (ret)
		return ret;
	gm_fill((void *)(uintptr_t)e->obj, 4096, e->obj, 8);
	return take_snap(e->fd, &e->before);
}

static int run_gc(struct fi_env *e)
{
	struct gomem_gc_stats gs;
	int ret = h_gc(e->fd, e->c->flags, &gs);

	e->out = gs.cycle;
	return ret;
}

static const char *check_gc(struct fi_env *e, int ret)
{
	struct snap now;

	if (h_size(e->fd, e->obj) != 4096 ||
	    gm_check((void *)(uintptr_t)e->obj, 4096, e->obj, 8) >= 0)
		return "the root object did not come through intact";
	if (take_snap(e->fd, &now))
		return "statistics cannot be read";
	if (ret) {
		if (now.num_gc != e->before.num_gc)
			return "a failed GC counted a cycle";
		return same_objects(e->fd, &e->before);
	}
	if (now.num_gc != e->before.num_gc + 1 || e->out != now.num_gc)
		return "GC succeeded but did not run one cycle";
	if (h_size(e->fd, e->obj2) > 0 && !(e->c->flags & GOMEM_GC_IF_DUE))
		return "garbage survived a forced cycle";
	return NULL;
}

/* GOGC back on, and allocations until the pacer wants a cycle. */
static int prep_gc_due(struct fi_env *e)
{
	uint64_t a;
	int ret, i;

	ret = h_set_gc(e->fd, GOMEM_GC_SET_GOGC, 100, 0, NULL);
	if (!ret)
		ret = prep_gc(e);
	for (i = 0; !ret && i < 64; i++)
		ret = h_alloc(e->fd, 1 * MiB, GOMEM_ALLOC_NOSCAN | GOMEM_ALLOC_NOGC, &a);
	if (ret != -EAGAIN)
		return ret ? ret : -ERANGE;
	return take_snap(e->fd, &e->before);
}

/* -- memory -- */

static int run_touch(struct fi_env *e)
{
	return -gm_touch((void *)(uintptr_t)e->obj, 1);
}

static const char *check_touch(struct fi_env *e, int ret)
{
	char *p = (char *)(uintptr_t)e->obj;

	if (ret)
		return NULL;
	if (p[0] != 1 || !gm_is_zero(p + 1, 4095))
		return "the first touch did not give a zeroed page";
	gm_fill(p, e->c->size, e->obj, 8);
	if (gm_check(p, e->c->size, e->obj, 8) >= 0)
		return "the faulted-in object does not keep its contents";
	return NULL;
}

/* first_touch: the object must not be touched before the command. */
static int prep_untouched(struct fi_env *e)
{
	int ret = h_alloc(e->fd, e->c->size, e->c->flags, &e->obj);

	return ret ? ret : take_snap(e->fd, &e->before);
}

/* An object, and the /dev/gomem mapping holding it. */
static int prep_mapping(struct fi_env *e)
{
	unsigned long end;
	int ret = h_alloc(e->fd, e->c->size, GOMEM_ALLOC_NOSCAN, &e->obj);

	if (ret)
		return ret;
	memset((void *)(uintptr_t)e->obj, 9, 8192);
	if (gm_find_map(e->obj, &e->start, &end) != 1)
		return -ENOENT;
	e->len = end - e->start;
	return take_snap(e->fd, &e->before);
}

static int run_munmap(struct fi_env *e)
{
	return munmap((void *)e->start, e->len) ? -errno : 0;
}

static const char *check_munmap(struct fi_env *e, int ret)
{
	unsigned long s, end;
	int m = gm_find_map(e->start, &s, &end);

	if (ret && (m != 1 || s != e->start || end != e->start + e->len))
		return "a failed munmap changed the mapping";
	if (!ret && m == 1)
		return "munmap left the mapping";
	return NULL;
}

/* A 4 MiB hole in the middle of an arena: the VMA splits. */
static int prep_hole(struct fi_env *e)
{
	int ret = prep_mapping(e);

	if (ret)
		return ret;
	if (e->len < GOMEM_ARENA_SIZE)
		return -ERANGE;
	/* The object sits at the arena's start; the hole is away from it. */
	e->start += GOMEM_ARENA_SIZE / 2;
	e->len = 4 * MiB;
	return 0;
}

static const char *check_hole(struct fi_env *e, int ret)
{
	unsigned long s, end;
	int m = gm_find_map(e->start, &s, &end);

	if (ret && m != 1)
		return "a failed munmap made a hole";
	if (!ret && m == 1)
		return "munmap left the hole mapped";
	if (gm_first_not((void *)(uintptr_t)e->obj, 8192, 9) >= 0)
		return "munmap of a hole changed a live object";
	return NULL;
}

#define SMALL		1000
#define LARGE		(100 * 1024)
#define BIG		(GOMEM_ARENA_SIZE + 4096)

static const struct fi_case fi_cases[] = {
	{ "open", .prep = prep_open, .run = run_open, .check = check_open },
	{ "alloc_tiny", 8, GOMEM_ALLOC_NOSCAN, .fresh = 1, .prep = prep_snap, .run = run_alloc,
	  .check = check_alloc },
	{ "alloc_small", SMALL, 0, .fresh = 1, .prep = prep_snap, .run = run_alloc,
	  .check = check_alloc },
	{ "alloc_large", LARGE, 0, .fresh = 1, .prep = prep_snap, .run = run_alloc,
	  .check = check_alloc },
	{ "alloc_big", BIG, GOMEM_ALLOC_NOSCAN, .fresh = 1, .prep = prep_warm, .run = run_alloc,
	  .check = check_alloc },
	{ "alloc_noscan", SMALL, GOMEM_ALLOC_NOSCAN, .fresh = 1, .prep = prep_warm,
	  .run = run_alloc, .check = check_alloc },
	{ "alloc_zero", LARGE, GOMEM_ALLOC_ZERO, .fresh = 1, .prep = prep_warm, .run = run_alloc,
	  .check = check_alloc },
	{ "alloc_root", SMALL, GOMEM_ALLOC_ROOT, .fresh = 1, .prep = prep_warm, .run = run_alloc,
	  .check = check_alloc },
	{ "alloc_nogc", SMALL, GOMEM_ALLOC_NOGC, .fresh = 1, .prep = prep_warm, .run = run_alloc,
	  .check = check_alloc, .eagain = 1 },
	{ "alloc_bulk", 3000, 0, 64, .fresh = 1, .prep = prep_bulk, .run = run_bulk,
	  .check = check_bulk },
	{ "alloc_bulk_root", 256, GOMEM_ALLOC_ROOT, 16, .fresh = 1, .prep = prep_bulk_warm,
	  .run = run_bulk, .check = check_bulk },
	{ "alloc_bulk_large", LARGE, GOMEM_ALLOC_NOSCAN, 4, .fresh = 1, .prep = prep_bulk_warm,
	  .run = run_bulk, .check = check_bulk },
	{ "free_small", SMALL, 0, .fresh = 1, .prep = prep_obj, .run = run_free,
	  .check = check_free },
	{ "free_large", LARGE, 0, .fresh = 1, .prep = prep_obj, .run = run_free,
	  .check = check_free },
	{ "size", SMALL, 0, .fresh = 1, .prep = prep_obj, .run = run_size, .check = check_size },
	{ "stats", .fresh = 1, .prep = prep_stats, .run = run_stats, .check = check_stats },
	{ "class_stats", .fresh = 1, .prep = prep_stats, .run = run_classes,
	  .check = check_classes },
	{ "scavenge", .fresh = 1, .prep = prep_scavenge, .run = run_scavenge,
	  .check = check_scavenge },
	{ "set_cap", .fresh = 1, .run = run_set_cap, .check = check_set_cap },
	{ "root_add", .fresh = 1, .prep = prep_root_range, .run = run_root_add,
	  .check = check_root_add },
	{ "root_del", .fresh = 1, .prep = prep_root_del, .run = run_root_del,
	  .check = check_root_del },
	{ "root_add_object", SMALL, 0, .fresh = 1, .prep = prep_obj, .run = run_root_add_obj,
	  .check = check_root_add_obj },
	{ "root_del_object", SMALL, GOMEM_ALLOC_ROOT, .fresh = 1, .prep = prep_obj,
	  .run = run_root_del_obj, .check = check_root_del_obj },
	{ "gc_forced", 0, 0, .fresh = 1, .prep = prep_gc, .run = run_gc, .check = check_gc },
	{ "gc_if_due", 0, GOMEM_GC_IF_DUE, .fresh = 1, .prep = prep_gc_due, .run = run_gc,
	  .check = check_gc },
	{ "set_gc", .fresh = 1, .prep = prep_params, .run = run_set_gc, .check = check_set_gc },
	{ "first_touch", LARGE, GOMEM_ALLOC_NOSCAN, .fresh = 1, .prep = prep_untouched,
	  .run = run_touch, .check = check_touch },
	{ "munmap_arena", BIG, 0, .fresh = 1, .prep = prep_mapping, .run = run_munmap,
	  .check = check_munmap },
	{ "munmap_hole", SMALL, 0, .fresh = 1, .prep = prep_hole, .run = run_munmap,
	  .check = check_hole },
	{ "close", .fresh = 1, .prep = prep_populated, .run = run_close, .check = check_close },
};

/* === totals, shared by the test processes ================================ */

#define FI_ERRNOS	4

/**
 * struct fi_total - what one command went through
 * @runs: values of N tried
 * @injected: of those, runs in which the failure was injected
 * @failed: injected runs in which the command failed cleanly
 * @errs: how often each errno of fi_errnos[] was the answer
 * @bad: runs with a broken result (the test failed for those)
 * @first_bad: the first N of those
 * @seconds: time taken
 */
struct fi_total {
	long runs, injected, failed, errs[FI_ERRNOS], bad, first_bad;
	double seconds;
	int done, skipped;
};

static const int fi_errnos[FI_ERRNOS] = { ENOMEM, EINTR, EAGAIN, 0 };
static struct fi_total *fi_totals;

static void __attribute__((constructor)) fi_totals_init(void)
{
	void *p = mmap(NULL, sizeof(struct fi_total) * ARRAY_SIZE(fi_cases),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	fi_totals = p == MAP_FAILED ? NULL : p;
}

/* The parent prints the totals when the harness is done. */
static void __attribute__((destructor)) fi_totals_print(void)
{
	long runs = 0, injected = 0, failed = 0, bad = 0;
	double seconds = 0;
	unsigned int i;

	if (!fi_totals)
		return;
	printf("# %-17s %6s %8s %7s %7s %6s %5s %7s\n", "command", "N", "injected",
	       "ENOMEM", "ok", "broken", "at N", "seconds");
	for (i = 0; i < ARRAY_SIZE(fi_cases); i++) {
		const struct fi_total *t = &fi_totals[i];

		if (!t->done && !t->skipped)
			continue;
		if (t->skipped) {
			printf("# %-17s skipped\n", fi_cases[i].name);
			continue;
		}
		printf("# %-17s %6ld %8ld %7ld %7ld %6ld %5ld %7.1f\n", fi_cases[i].name,
		       t->runs, t->injected, t->errs[0], t->injected - t->failed, t->bad,
		       t->first_bad, t->seconds);
		runs += t->runs;
		injected += t->injected;
		failed += t->failed;
		bad += t->bad;
		seconds += t->seconds;
	}
	printf("# fault injection totals: %ld runs, %ld injected failures, %ld clean errors, %ld absorbed, %ld broken, %.1f s\n",
	       runs, injected, failed, injected - failed, bad, seconds);
	fflush(stdout);
}

/* === the driver ========================================================= */

FIXTURE(fault) {
	int nth;
	long long pages0;
};

static int fi_skipped(const char *name)
{
	const char *list = getenv("GOMEM_FAULT_SKIP");
	size_t n = strlen(name);

	while (list && *list) {
		if (!strncmp(list, name, n) && (list[n] == ',' || !list[n]))
			return 1;
		list = strchr(list, ',');
		if (list)
			list++;
	}
	return 0;
}

FIXTURE_SETUP(fault)
{
	int err;

	self->nth = -1;
	if (access(GOMEM_DEV, F_OK))
		SKIP(_exit(255), "%s: %s (is gomem.ko loaded?)", GOMEM_DEV, strerror(errno));
	if (access(FAIL_NTH, W_OK))
		SKIP(_exit(255), "%s: %s (the kernel has no CONFIG_FAULT_INJECTION)", FAIL_NTH,
		     strerror(errno));
	if (access(FI_DEBUGFS "/failslab", F_OK) || access(FI_DEBUGFS "/fail_page_alloc", F_OK))
		SKIP(_exit(255),
		     "no %s/failslab or fail_page_alloc (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS, debugfs)",
		     FI_DEBUGFS);
	self->pages0 = gm_user_pages();
	if (self->pages0 < 0)
		SKIP(_exit(255), "%s unreadable: gomem's debugfs is needed", GOMEM_INFO);
	ASSERT_NE(NULL, fi_totals);
	gm_kmsg(_metadata->name);
	err = fi_setup();
	if (err)
		fi_restore();
	ASSERT_EQ(0, err) TH_LOG("fault injection settings: %s", strerror(-err));
	self->nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth) TH_LOG("%s: %s", FAIL_NTH, strerror(errno));
}

FIXTURE_TEARDOWN(fault)
{
	if (self->nth >= 0) {
		fi_disarm(self->nth);
		close(self->nth);
	}
	fi_restore();
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits for the user page count to come back to @want. Return: the last count. */
static long long pages_settle(long long want)
{
	long long n = gm_user_pages();
	int i;

	for (i = 0; i < 200 && n != want; i++) {
		usleep(10000);
		n = gm_user_pages();
	}
	return n;
}

static int errno_index(int err)
{
	int i;

	for (i = 0; i < FI_ERRNOS - 1; i++)
		if (err == -fi_errnos[i])
			return i;
	return FI_ERRNOS - 1;
}

static void fi_drive(struct __test_metadata *_metadata, struct _test_data_fault *self,
		     const char *name)
{
	const struct fi_case *c = fi_cases;
	struct fi_total *t;
	long max_n = strtol(getenv("GOMEM_FAULT_MAX_N") ?: "0", NULL, 0) ?: FI_MAX_N;
	double t0 = now_s();
	struct fi_env e;
	unsigned int n;
	const char *why;
	int ret, fired;
	long long pages;

	while (c < fi_cases + ARRAY_SIZE(fi_cases) && strcmp(c->name, name))
		c++;
	ASSERT_LT(c, fi_cases + ARRAY_SIZE(fi_cases)) TH_LOG("no case %s", name);
	t = &fi_totals[c - fi_cases];
	if (fi_skipped(c->name)) {
		t->skipped = 1;
		SKIP(return, "%s skipped by GOMEM_FAULT_SKIP", c->name);
	}
	for (n = 1; ; n++) {
		ASSERT_LE(n, max_n) TH_LOG("%s: still reaching allocations at N=%u", c->name, n);
		memset(&e, 0, sizeof(e));
		e.c = c;
		e.fd = -1;
		if (c->fresh) {
			e.fd = h_open();
			ASSERT_LE(0, e.fd) TH_LOG("open: %s", strerror(-e.fd));
			ASSERT_EQ(0, h_set_gc(e.fd, GOMEM_GC_SET_GOGC, GOMEM_GOGC_OFF, 0, NULL));
		}
		if (c->prep) {
			ret = c->prep(&e);
			ASSERT_EQ(0, ret) TH_LOG("%s N=%u: setup: %s", c->name, n, strerror(-ret));
		}
		ASSERT_EQ(0, fi_arm(self->nth, n));
		ret = c->run(&e);
		fired = fi_disarm(self->nth);
		ASSERT_LE(0, fired) TH_LOG("%s: %s", FAIL_NTH, strerror(-fired));
		t->runs++;
		t->injected += fired;
		why = NULL;
		if (ret) {
			t->failed++;
			t->errs[errno_index(ret)]++;
			if (!fired)
				why = "failed with no fault injected";
			else if (ret != -ENOMEM && ret != -EINTR && !(c->eagain && ret == -EAGAIN))
				why = "unexpected error";
		}
		if (!why)
			why = c->check(&e, ret);
		if (!why && e.fd >= 0)
			why = heap_works(e.fd);
		if (e.fd >= 0)
			close(e.fd);
		free(e.addrs);
		if (!why) {
			pages = pages_settle(self->pages0);
			if (pages != self->pages0) {
				snprintf(fi_why, sizeof(fi_why),
					 "user_pages %lld after the heap was closed, %lld before",
					 pages, self->pages0);
				why = fi_why;
				/* Do not report the same pages for every later N. */
				self->pages0 = pages;
			}
		}
		if (why) {
			if (!t->bad)
				t->first_bad = n;
			t->bad++;
			EXPECT_EQ(NULL, why) TH_LOG("%s N=%u%s: returned %d (%s): %s", c->name, n,
						    fired ? "" : " (not injected)", ret,
						    ret ? strerror(-ret) : "ok", why);
		}
		if (!fired)
			break;
	}
	t->seconds = now_s() - t0;
	t->done = 1;
	TH_LOG("%s: %ld runs, %ld injected failures: %ld -ENOMEM, %ld other errors, %ld absorbed, %ld broken, %.1f s",
	       c->name, t->runs, t->injected, t->errs[0], t->failed - t->errs[0],
	       t->injected - t->failed, t->bad, t->seconds);
}

TEST_F_TIMEOUT(fault, open, 120)
{
	fi_drive(_metadata, self, "open");
}

TEST_F_TIMEOUT(fault, alloc_tiny, 120)
{
	fi_drive(_metadata, self, "alloc_tiny");
}

TEST_F_TIMEOUT(fault, alloc_small, 120)
{
	fi_drive(_metadata, self, "alloc_small");
}

TEST_F_TIMEOUT(fault, alloc_large, 120)
{
	fi_drive(_metadata, self, "alloc_large");
}

TEST_F_TIMEOUT(fault, alloc_big, 120)
{
	fi_drive(_metadata, self, "alloc_big");
}

TEST_F_TIMEOUT(fault, alloc_noscan, 120)
{
	fi_drive(_metadata, self, "alloc_noscan");
}

TEST_F_TIMEOUT(fault, alloc_zero, 120)
{
	fi_drive(_metadata, self, "alloc_zero");
}

TEST_F_TIMEOUT(fault, alloc_root, 120)
{
	fi_drive(_metadata, self, "alloc_root");
}

TEST_F_TIMEOUT(fault, alloc_nogc, 120)
{
	fi_drive(_metadata, self, "alloc_nogc");
}

TEST_F_TIMEOUT(fault, alloc_bulk, 120)
{
	fi_drive(_metadata, self, "alloc_bulk");
}

TEST_F_TIMEOUT(fault, alloc_bulk_root, 120)
{
	fi_drive(_metadata, self, "alloc_bulk_root");
}

TEST_F_TIMEOUT(fault, alloc_bulk_large, 120)
{
	fi_drive(_metadata, self, "alloc_bulk_large");
}

TEST_F_TIMEOUT(fault, free_small, 120)
{
	fi_drive(_metadata, self, "free_small");
}

TEST_F_TIMEOUT(fault, free_large, 120)
{
	fi_drive(_metadata, self, "free_large");
}

TEST_F_TIMEOUT(fault, size, 120)
{
	fi_drive(_metadata, self, "size");
}

TEST_F_TIMEOUT(fault, stats, 120)
{
	fi_drive(_metadata, self, "stats");
}

TEST_F_TIMEOUT(fault, class_stats, 120)
{
	fi_drive(_metadata, self, "class_stats");
}

TEST_F_TIMEOUT(fault, scavenge, 120)
{
	fi_drive(_metadata, self, "scavenge");
}

TEST_F_TIMEOUT(fault, set_cap, 120)
{
	fi_drive(_metadata, self, "set_cap");
}

TEST_F_TIMEOUT(fault, root_add, 120)
{
	fi_drive(_metadata, self, "root_add");
}

TEST_F_TIMEOUT(fault, root_del, 120)
{
	fi_drive(_metadata, self, "root_del");
}

TEST_F_TIMEOUT(fault, root_add_object, 120)
{
	fi_drive(_metadata, self, "root_add_object");
}

TEST_F_TIMEOUT(fault, root_del_object, 120)
{
	fi_drive(_metadata, self, "root_del_object");
}

TEST_F_TIMEOUT(fault, gc_forced, 120)
{
	fi_drive(_metadata, self, "gc_forced");
}

TEST_F_TIMEOUT(fault, gc_if_due, 120)
{
	fi_drive(_metadata, self, "gc_if_due");
}

TEST_F_TIMEOUT(fault, set_gc, 120)
{
	fi_drive(_metadata, self, "set_gc");
}

TEST_F_TIMEOUT(fault, first_touch, 120)
{
	fi_drive(_metadata, self, "first_touch");
}

TEST_F_TIMEOUT(fault, munmap_arena, 120)
{
	fi_drive(_metadata, self, "munmap_arena");
}

TEST_F_TIMEOUT(fault, munmap_hole, 120)
{
	fi_drive(_metadata, self, "munmap_hole");
}

TEST_F_TIMEOUT(fault, close, 120)
{
	fi_drive(_metadata, self, "close");
}

TEST_HARNESS_MAIN
