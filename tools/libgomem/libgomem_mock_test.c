// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libgomem without the kernel: this program defines ioctl() itself, so
 * that the library's calls reach a fake /dev/gomem (any file opened as
 * the device), and checks what the library sends and how it reacts:
 * the version check, bulk splitting and its rollback, the stats size,
 * argument passing of the other commands, the collector's commands, and
 * the world lock: GOMEM_ALLOC_NOGC, the cycle run on -EAGAIN, mutator
 * sections that a cycle waits for, and objects of a section kept as roots
 * while its thread is parked. Run by "make test"; a deadlock is caught by
 * alarm().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libgomem.h"

#define OLD_STATS_SIZE	offsetof(struct gomem_memstats, cap_bytes)

static int failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
		failures++;						\
	}								\
} while (0)

#define MAX_ROOTS	16
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* What the fake module answers and counts. */
static struct {
	__u32 abi;
	__u64 features;
	unsigned int bulk_calls;
	unsigned int bulk_fail_at;	/* fail the nth bulk call (1-based) */
	unsigned int bulk_due_at;	/* a cycle becomes due at the nth */
	unsigned int frees;
	__u64 next_addr;
	__u32 stats_size;
	__u32 module_stats_size;	/* 0: an old module's, OLD_STATS_SIZE */
	__u64 cap;
	/* the collector */
	bool gc_due;			/* the pacer says a cycle is due */
	unsigned int cycles;		/* cycles run */
	unsigned int inline_cycles;	/* of those, run by an allocation */
	unsigned int gc_calls, gc_if_due_calls;
	unsigned int allocs, nogc_allocs, eagain;
	__u32 last_alloc_flags;
	__u32 log[16];			/* commands and flags, in order */
	unsigned int nlog;
	struct gomem_root roots[MAX_ROOTS];
	unsigned int nroots;
	unsigned int root_adds, root_dels;
	__s32 gogc;
	__u64 limit;
	/* called while a cycle "runs" (GOMEM_IOC_GC or an allocation's) */
	void (*in_gc)(void);
} fake;

/* The kernel serialises a heap's commands; so does the fake. */
static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;

static void fake_log(__u32 what)
{
	if (fake.nlog < ARRAY_SIZE(fake.log))
		fake.log[fake.nlog++] = what;
}

#define LOG_ALLOC	0x100	/* | the allocation's flags */
#define LOG_GC		0x200	/* | the GC's flags */

static bool is_root(__u64 addr, __u32 flags)
{
	unsigned int i;

	for (i = 0; i < fake.nroots; i++)
		if (fake.roots[i].addr == addr && (fake.roots[i].flags & GOMEM_ROOT_OBJECT) ==
		    (flags & GOMEM_ROOT_OBJECT))
			return true;
	return false;
}

/* Is @obj's address a word of some registered root range? */
static bool in_root_range(__u64 obj)
{
	unsigned int i;
	__u64 j;

	for (i = 0; i < fake.nroots; i++) {
		const __u64 *w = (const __u64 *)(uintptr_t)fake.roots[i].addr;

		if (fake.roots[i].flags & GOMEM_ROOT_OBJECT)
			continue;
		for (j = 0; j < fake.roots[i].len / 8; j++)
			if (w[j] == obj)
				return true;
	}
	return false;
}

/* An allocation's pacing: -1 with EAGAIN, or 0 (maybe after a cycle). */
static int fake_pace(__u32 flags)
{
	fake.allocs++;
	fake.last_alloc_flags = flags;
	fake_log(LOG_ALLOC | flags);
	if (flags & GOMEM_ALLOC_NOGC)
		fake.nogc_allocs++;
	if (!fake.gc_due)
		return 0;
	if (flags & GOMEM_ALLOC_NOGC) {
		fake.eagain++;
		errno = EAGAIN;
		return -1;
	}
	if (fake.in_gc)
		fake.in_gc();
	fake.gc_due = false;
	fake.cycles++;
	fake.inline_cycles++;
	return 0;
}

static int fake_ioctl(unsigned long cmd, void *arg);

int ioctl(int fd, unsigned long cmd, ...)
{
	va_list ap;
	void *arg;
	int ret;

	(void)fd;
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	pthread_mutex_lock(&fake_lock);
	ret = fake_ioctl(cmd, arg);
	pthread_mutex_unlock(&fake_lock);
	return ret;
}

static int fake_ioctl(unsigned long cmd, void *arg)
{
	switch (cmd) {
	case GOMEM_IOC_VERSION: {
		struct gomem_version *v = arg;

		v->abi_version = fake.abi;
		v->features = fake.features;
		return 0;
	}
	case GOMEM_IOC_ALLOC: {
		struct gomem_alloc *a = arg;

		if (!a->size || a->flags & ~GOMEM_ALLOC_FLAGS)
			break;
		if (a->flags & (GOMEM_ALLOC_NOGC | GOMEM_ALLOC_ROOT) &&
		    !(fake.features & GOMEM_FEATURE_GC))
			break;
		if (fake_pace(a->flags))
			return -1;
		a->addr = fake.next_addr;
		a->usable = a->size;
		fake.next_addr += 4096;
		return 0;
	}
	case GOMEM_IOC_ALLOC_BULK: {
		struct gomem_alloc_bulk *b = arg;
		__u64 *addrs = (__u64 *)(uintptr_t)b->addrs;
		__u32 i;

		if (!b->count || b->count > GOMEM_BULK_MAX)
			break;
		if (b->flags & GOMEM_ALLOC_NOGC && !(fake.features & GOMEM_FEATURE_GC))
			break;
		if (++fake.bulk_calls == fake.bulk_fail_at) {
			errno = ENOMEM;
			return -1;
		}
		if (fake.bulk_calls == fake.bulk_due_at)
			fake.gc_due = true;
		if (fake_pace(b->flags))
			return -1;
		for (i = 0; i < b->count; i++) {
			addrs[i] = fake.next_addr;
			fake.next_addr += 16;
		}
		return 0;
	}
	case GOMEM_IOC_FREE:
		fake.frees++;
		return 0;
	case GOMEM_IOC_SIZE:
		((struct gomem_free *)arg)->size = 48;
		return 0;
	case GOMEM_IOC_STATS: {
		struct gomem_stats *s = arg;
		struct gomem_memstats *m = (void *)(uintptr_t)s->buf;

		__u32 size = fake.module_stats_size ? fake.module_stats_size : OLD_STATS_SIZE;

		fake.stats_size = s->size;
		if (s->flags || s->size < GOMEM_MEMSTATS_SIZE_VER0)
			break;
		/* A module with fewer fields leaves the caller's tail as it was. */
		memset(m, 0x11, size < s->size ? size : s->size);
		m->size = size;
		if (size >= GOMEM_MEMSTATS_SIZE_VER1) {
			m->num_gc = fake.cycles;
			m->gogc = fake.gogc;
			m->memory_limit = fake.limit;
		}
		if (size >= GOMEM_MEMSTATS_SIZE_VER2)
			m->scavenge_goal = 4 << 20;
		if (size >= GOMEM_MEMSTATS_SIZE_VER3) {
			/* An id past 32 bits: heap_id is 0, heap_id64 has it. */
			m->heap_id = 0;
			m->heap_id64 = 1ULL << 33;
			m->enable_gc = 1;
			m->debug_gc = 0;
			m->pause_ns[GOMEM_PAUSE_RING - 1] = 1234;
		}
		s->size = size;
		return 0;
	}
	case GOMEM_IOC_CLASS_STATS: {
		struct gomem_class_stats *s = arg;

		if (s->entry_size != sizeof(struct gomem_class_stat) ||
		    s->count < GOMEM_NUM_SIZE_CLASSES)
			break;
		s->count = GOMEM_NUM_SIZE_CLASSES;
		return 0;
	}
	case GOMEM_IOC_SCAVENGE:
		((struct gomem_scavenge *)arg)->released = 8192;
		return 0;
	case GOMEM_IOC_SET_CAP: {
		struct gomem_cap *c = arg;

		c->old_cap = fake.cap;
		if (!(c->flags & GOMEM_CAP_QUERY))
			fake.cap = c->cap_bytes;
		return 0;
	}
	case GOMEM_IOC_ROOT_ADD:
	case GOMEM_IOC_ROOT_DEL: {
		struct gomem_root *r = arg;
		unsigned int i;

		if (!(fake.features & GOMEM_FEATURE_GC))
			goto notty;
		if (r->flags & ~GOMEM_ROOT_OBJECT || r->reserved)
			break;
		if (cmd == GOMEM_IOC_ROOT_DEL) {
			for (i = 0; i < fake.nroots; i++) {
				if (fake.roots[i].addr == r->addr &&
				    (fake.roots[i].flags & GOMEM_ROOT_OBJECT) ==
				    (r->flags & GOMEM_ROOT_OBJECT)) {
					fake.roots[i] = fake.roots[--fake.nroots];
					fake.root_dels++;
					return 0;
				}
			}
			errno = ENOENT;
			return -1;
		}
		if ((r->flags & GOMEM_ROOT_OBJECT) ? r->len != 0 :
		    !r->len || r->len > GOMEM_ROOT_MAX_LEN)
			break;
		if (is_root(r->addr, r->flags)) {
			errno = EEXIST;
			return -1;
		}
		if (fake.nroots == MAX_ROOTS) {
			errno = ENOSPC;
			return -1;
		}
		fake.roots[fake.nroots++] = *r;
		fake.root_adds++;
		return 0;
	}
	case GOMEM_IOC_GC: {
		struct gomem_gc *g = arg;
		struct gomem_gc_stats st = { .size = sizeof(st) };

		if (!(fake.features & GOMEM_FEATURE_GC))
			goto notty;
		if (g->flags & ~GOMEM_GC_IF_DUE || (g->buf && g->size < 8) || (!g->buf && g->size))
			break;
		fake_log(LOG_GC | g->flags);
		if (g->flags & GOMEM_GC_IF_DUE)
			fake.gc_if_due_calls++;
		else
			fake.gc_calls++;
		if (!(g->flags & GOMEM_GC_IF_DUE) || fake.gc_due) {
			if (fake.in_gc)
				fake.in_gc();
			fake.gc_due = false;
			st.cycle = ++fake.cycles;
			st.forced = !(g->flags & GOMEM_GC_IF_DUE);
			st.heap_goal = 4 << 20;
			st.freed_objects = 7;
		}
		if (g->buf)
			memcpy((void *)(uintptr_t)g->buf, &st, g->size < sizeof(st) ? g->size : sizeof(st));
		g->size = sizeof(st);
		return 0;
	}
	case GOMEM_IOC_SET_GC: {
		struct gomem_gc_params *p = arg;

		if (!(fake.features & GOMEM_FEATURE_GC))
			goto notty;
		if (p->flags & ~(GOMEM_GC_SET_GOGC | GOMEM_GC_SET_LIMIT) || p->reserved)
			break;
		if (p->flags & GOMEM_GC_SET_GOGC && p->gogc < GOMEM_GOGC_OFF)
			break;
		p->old_gogc = fake.gogc;
		p->old_limit = fake.limit;
		if (p->flags & GOMEM_GC_SET_GOGC)
			fake.gogc = p->gogc;
		if (p->flags & GOMEM_GC_SET_LIMIT)
			fake.limit = p->memory_limit;
		return 0;
	}
	default:
		goto notty;
	}
	errno = EINVAL;
	return -1;
notty:
	errno = ENOTTY;
	return -1;
}

static struct gomem_heap *open_fake(__u32 abi, __u64 features)
{
	fake.abi = abi;
	fake.features = features;
	return gomem_open("/dev/null");
}

static void test_open(void)
{
	struct gomem_heap *h;

	errno = 0;
	CHECK(!gomem_open("/nonexistent/gomem") && errno == ENOENT);
	CHECK(!open_fake(GOMEM_ABI_VERSION + 1, GOMEM_FEATURES_ALL) && errno == EPROTO);
	CHECK(!open_fake(GOMEM_ABI_VERSION, GOMEM_FEATURE_DEBUGFS) && errno == ENOTSUP);
	h = open_fake(GOMEM_ABI_VERSION, GOMEM_FEATURES_ALL);
	CHECK(h && gomem_fd(h) >= 0);
	errno = 1234;
	gomem_close(h);
	CHECK(errno == 1234);
	gomem_close(NULL);
}

static void test_bulk(struct gomem_heap *h)
{
	size_t count = 2 * GOMEM_BULK_MAX + 5, i;
	void **out = calloc(count, sizeof(*out));

	fake.bulk_calls = 0;
	fake.bulk_fail_at = 0;
	CHECK(gomem_alloc_bulk(h, 16, 0, out, count) == 0);
	CHECK(fake.bulk_calls == 3);
	for (i = 1; i < count; i++)
		CHECK((char *)out[i] - (char *)out[i - 1] == 16);

	/* The third call fails: the first two batches are given back. */
	memset(out, 0, count * sizeof(*out));
	fake.bulk_calls = 0;
	fake.bulk_fail_at = 3;
	fake.frees = 0;
	CHECK(gomem_alloc_bulk(h, 16, 0, out, count) == -ENOMEM);
	CHECK(fake.frees == 2 * GOMEM_BULK_MAX);
	for (i = 0; i < count; i++)
		CHECK(!out[i]);

	CHECK(gomem_alloc_bulk(h, 16, 0, out, 0) == -EINVAL);
	free(out);
}

static void test_commands(struct gomem_heap *h)
{
	struct gomem_class_stat tab[GOMEM_NUM_SIZE_CLASSES];
	struct gomem_memstats st;
	uint64_t v = 0;

	CHECK(gomem_malloc(h, 100) != NULL);
	CHECK(gomem_calloc(h, 3, 7) != NULL);
	errno = 0;
	CHECK(!gomem_calloc(h, SIZE_MAX / 2, 3) && errno == ENOMEM);
	errno = 0;
	CHECK(!gomem_alloc(h, 0, 0) && errno == EINVAL);
	CHECK(gomem_free(h, (void *)0xc000000000) == 0);
	CHECK(gomem_usable_size(h, (void *)0xc000000000) == 48);

	memset(&st, 0xff, sizeof(st));
	CHECK(gomem_stats(h, &st) == 0);
	CHECK(fake.stats_size == sizeof(st));
	CHECK(st.size == OLD_STATS_SIZE);
	CHECK(!st.cap_bytes && !st.lost_bytes && !st.scavenged_bytes);
	CHECK(st.heap_alloc == 0x1111111111111111ULL);

	CHECK(gomem_class_stats(h, tab) == GOMEM_NUM_SIZE_CLASSES);
	CHECK(gomem_scavenge(h, 0, &v) == 0 && v == 8192);
	CHECK(gomem_scavenge(h, 0, NULL) == 0);
	fake.cap = 0;
	CHECK(gomem_set_cap(h, 1 << 20, &v) == 0 && v == 0);
	CHECK(gomem_get_cap(h) == 1 << 20);
	CHECK(gomem_set_cap(h, 0, NULL) == 0);
	CHECK(gomem_get_cap(h) == 0);
}

static void reset_log(void)
{
	fake.nlog = 0;
}

static bool log_is(const __u32 *want, unsigned int n)
{
	return fake.nlog == n && !memcmp(fake.log, want, n * sizeof(*want));
}

/* A module without the collector: nothing of it is sent. */
static void test_no_gc(void)
{
	struct gomem_heap *h = open_fake(GOMEM_ABI_VERSION, GOMEM_FEATURE_HEAP);
	void *p;

	CHECK(h && !(gomem_features(h) & GOMEM_FEATURE_GC));
	if (!h)
		return;
	fake.gc_due = false;
	CHECK(gomem_alloc(h, 10, GOMEM_ALLOC_NOSCAN) != NULL);
	CHECK(fake.last_alloc_flags == GOMEM_ALLOC_NOSCAN);
	CHECK(gomem_mutator_enter(h) == 0);
	p = gomem_alloc(h, 10, 0);
	CHECK(p && fake.last_alloc_flags == 0);
	CHECK(gomem_mutator_exit(h) == 0);
	CHECK(gomem_gc(h, NULL) == -ENOTTY);
	CHECK(gomem_root_add(h, &p, sizeof(p)) == -ENOTTY);
	errno = 0;
	CHECK(gomem_set_gcpercent(h, 100) == GOMEM_GCPERCENT_ERROR && errno == ENOTTY);
	CHECK(gomem_set_memory_limit(h, 1 << 20) == -ENOTTY);
	gomem_close(h);
}

static void test_gc_commands(struct gomem_heap *h)
{
	struct gomem_memstats st;
	struct gomem_gc_stats gs;
	char buf[64];
	uint64_t limit;
	void *p;
	int gogc;

	CHECK(gomem_features(h) == GOMEM_FEATURES_ALL);

	/* roots: ranges and objects, EEXIST and ENOENT as the kernel says */
	fake.nroots = 0;
	CHECK(gomem_root_add(h, buf, sizeof(buf)) == 0);
	CHECK(fake.nroots == 1 && fake.roots[0].addr == (uintptr_t)buf &&
	      fake.roots[0].len == sizeof(buf) && fake.roots[0].flags == 0);
	CHECK(gomem_root_add(h, buf, sizeof(buf)) == -EEXIST);
	CHECK(gomem_root_del(h, buf) == 0 && fake.nroots == 0);
	CHECK(gomem_root_del(h, buf) == -ENOENT);
	CHECK(gomem_root_add(h, buf, 0) == -EINVAL);
	p = gomem_alloc(h, 100, GOMEM_ALLOC_ROOT);
	CHECK(p && fake.last_alloc_flags == (GOMEM_ALLOC_ROOT | GOMEM_ALLOC_NOGC));
	CHECK(gomem_root_add_object(h, p) == 0);
	CHECK(fake.nroots == 1 && fake.roots[0].flags == GOMEM_ROOT_OBJECT &&
	      fake.roots[0].len == 0 && fake.roots[0].addr == (uintptr_t)p);
	CHECK(gomem_root_del(h, p) == -ENOENT);	/* not a range */
	CHECK(gomem_root_del_object(h, p) == 0 && fake.nroots == 0);

	/* runtime.GC() and the statistics it returns */
	fake.gc_due = false;
	memset(&gs, 0xff, sizeof(gs));
	reset_log();
	CHECK(gomem_gc(h, &gs) == 0);
	CHECK(gs.size == sizeof(gs) && gs.cycle == fake.cycles && gs.forced == 1);
	CHECK(gs.heap_goal == 4 << 20 && gs.freed_objects == 7 && gs.pause_ns == 0);
	CHECK(fake.nlog == 1 && fake.log[0] == LOG_GC);
	CHECK(gomem_gc(h, NULL) == 0);
	memset(&gs, 0xff, sizeof(gs));
	CHECK(gomem_gc_if_due(h, &gs) == 0 && gs.cycle == 0 && gs.size == sizeof(gs));
	fake.gc_due = true;
	CHECK(gomem_gc_if_due(h, &gs) == 0 && gs.cycle == fake.cycles && !gs.forced);
	CHECK(!fake.gc_due);

	/* GOGC and the memory limit, as debug.SetGCPercent/SetMemoryLimit */
	fake.gogc = 100;
	fake.limit = GOMEM_NO_LIMIT;
	CHECK(gomem_set_gcpercent(h, 50) == 100 && fake.gogc == 50);
	CHECK(gomem_set_gcpercent(h, -5) == 50 && fake.gogc == GOMEM_GOGC_OFF);
	CHECK(gomem_set_gcpercent(h, 100) == GOMEM_GOGC_OFF && fake.gogc == 100);
	CHECK(gomem_set_memory_limit(h, 1 << 30) == INT64_MAX && fake.limit == 1 << 30);
	CHECK(gomem_set_memory_limit(h, -1) == 1 << 30 && fake.limit == 1 << 30);
	CHECK(gomem_set_memory_limit(h, INT64_MAX) == 1 << 30 && fake.limit == GOMEM_NO_LIMIT);
	CHECK(gomem_gc_params(h, &gogc, &limit) == 0 && gogc == 100 && limit == GOMEM_NO_LIMIT);
	CHECK(gomem_gc_params(h, NULL, NULL) == 0);

	/* MemStats: a module with the collector's fields, and one without */
	fake.module_stats_size = sizeof(st);
	CHECK(gomem_stats(h, &st) == 0);
	CHECK(st.size == GOMEM_MEMSTATS_SIZE_VER3 && st.num_gc == fake.cycles && st.gogc == 100);
	CHECK(st.memory_limit == GOMEM_NO_LIMIT && st.scavenge_goal == 4 << 20);
	CHECK(!st.heap_id && st.heap_id64 == 1ULL << 33 && st.enable_gc == 1 && !st.debug_gc);
	CHECK(st.pause_ns[GOMEM_PAUSE_RING - 1] == 1234);
	/* One from before Go's remaining fields: they read as 0. */
	fake.module_stats_size = GOMEM_MEMSTATS_SIZE_VER2;
	CHECK(gomem_stats(h, &st) == 0);
	CHECK(st.size == GOMEM_MEMSTATS_SIZE_VER2 && st.scavenge_goal == 4 << 20);
	CHECK(!st.heap_id64 && !st.enable_gc && !st.pause_ns[GOMEM_PAUSE_RING - 1]);
	/* One from before the scavenger's goal: it reads as 0. */
	fake.module_stats_size = GOMEM_MEMSTATS_SIZE_VER1;
	CHECK(gomem_stats(h, &st) == 0);
	CHECK(st.size == GOMEM_MEMSTATS_SIZE_VER1 && st.num_gc == fake.cycles && !st.scavenge_goal);
	fake.module_stats_size = GOMEM_MEMSTATS_SIZE_VER0;
	memset(&st, 0xff, sizeof(st));
	CHECK(gomem_stats(h, &st) == 0 && fake.stats_size == sizeof(st));
	CHECK(st.size == GOMEM_MEMSTATS_SIZE_VER0 && st.scavenged_bytes == 0x1111111111111111ULL);
	CHECK(!st.num_gc && !st.next_gc && !st.gogc && !st.memory_limit && !st.bg_scavenged_bytes);
	fake.module_stats_size = 0;
}

/* A due cycle outside any section: NOGC, -EAGAIN, allocate with a cycle. */
static void test_nogc_retry(struct gomem_heap *h)
{
	const __u32 want[] = {
		LOG_ALLOC | GOMEM_ALLOC_NOSCAN | GOMEM_ALLOC_NOGC,
		LOG_ALLOC | GOMEM_ALLOC_NOSCAN,
	};
	unsigned int cycles = fake.cycles, inl = fake.inline_cycles;
	unsigned int ifdue = fake.gc_if_due_calls;
	size_t count = GOMEM_BULK_MAX + 1;
	void **out = calloc(count, sizeof(*out));

	fake.gc_due = false;
	reset_log();
	CHECK(gomem_alloc(h, 32, GOMEM_ALLOC_NOSCAN) != NULL);
	CHECK(fake.nlog == 1 && fake.log[0] == (LOG_ALLOC | GOMEM_ALLOC_NOSCAN | GOMEM_ALLOC_NOGC));

	fake.gc_due = true;
	reset_log();
	CHECK(gomem_alloc(h, 32, GOMEM_ALLOC_NOSCAN) != NULL);
	CHECK(log_is(want, 2));
	CHECK(fake.cycles == cycles + 1 && fake.inline_cycles == inl + 1 && !fake.gc_due);

	/* The caller's own NOGC: EAGAIN comes back, no cycle runs. */
	fake.gc_due = true;
	cycles = fake.cycles;
	errno = 0;
	CHECK(!gomem_alloc(h, 32, GOMEM_ALLOC_NOGC) && errno == EAGAIN);
	CHECK(fake.cycles == cycles && fake.gc_due);

	/* Bulk: the second batch finds the cycle due. */
	fake.gc_due = false;
	fake.bulk_calls = 0;
	fake.bulk_fail_at = 0;
	reset_log();
	cycles = fake.cycles;
	fake.bulk_due_at = 2;
	CHECK(gomem_alloc_bulk(h, 16, 0, out, count) == 0);
	CHECK(fake.bulk_calls == 3);	/* batch 2 was made twice */
	CHECK(fake.cycles == cycles + 1 && !fake.gc_due);
	CHECK(fake.nlog == 3 && fake.log[0] == (LOG_ALLOC | GOMEM_ALLOC_NOGC) &&
	      fake.log[1] == fake.log[0] && fake.log[2] == LOG_ALLOC);
	CHECK(out[count - 1] && out[0]);
	fake.bulk_due_at = 0;

	/* No GOMEM_IOC_GC from the allocations: the kernel ran each cycle. */
	CHECK(fake.gc_if_due_calls == ifdue);
	fake.gc_due = false;
	free(out);
}

static __u64 tracked[8];
static unsigned int ntracked;
static bool roots_seen;
static unsigned int nroots_seen;

/* GOMEM_IOC_GC, inside: every object of the parked section is a root. */
static void check_tracked_roots(void)
{
	unsigned int i;

	roots_seen = true;
	nroots_seen = fake.nroots;
	for (i = 0; i < ntracked; i++)
		if (!in_root_range(tracked[i]))
			roots_seen = false;
}

/* One thread, in a section: the cycle it causes keeps its objects. */
static void test_section_roots(struct gomem_heap *h)
{
	void *objs[3], *p;
	unsigned int i;

	fake.nroots = 0;
	fake.gc_due = false;
	ntracked = 0;
	CHECK(gomem_mutator_depth(h) == 0);
	CHECK(gomem_mutator_exit(h) == -EPERM);
	CHECK(gomem_mutator_enter(h) == 0);
	CHECK(gomem_mutator_enter(h) == 0 && gomem_mutator_depth(h) == 2);
	CHECK(gomem_mutator_exit(h) == 0 && gomem_mutator_depth(h) == 1);
	p = gomem_alloc(h, 64, 0);
	tracked[ntracked++] = (uintptr_t)p;
	p = gomem_alloc(h, 64, 0);
	tracked[ntracked++] = (uintptr_t)p;
	CHECK(gomem_alloc_bulk(h, 16, 0, objs, 3) == 0);
	for (i = 0; i < 3; i++)
		tracked[ntracked++] = (uintptr_t)objs[i];

	fake.gc_due = true;
	fake.in_gc = check_tracked_roots;
	roots_seen = false;
	p = gomem_alloc(h, 64, 0);	/* must not deadlock on its own section */
	CHECK(p != NULL && roots_seen && nroots_seen == 1);
	CHECK(fake.nroots == 0);	/* unregistered after the cycle */
	tracked[ntracked++] = (uintptr_t)p;

	roots_seen = false;
	CHECK(gomem_gc(h, NULL) == 0 && roots_seen);
	CHECK(fake.nroots == 0);
	CHECK(gomem_mutator_exit(h) == 0 && gomem_mutator_depth(h) == 0);

	/* Out of the section nothing is kept. */
	nroots_seen = 99;
	CHECK(gomem_gc(h, NULL) == 0 && nroots_seen == 0);
	fake.in_gc = NULL;
}

static struct gomem_heap *thr_heap;
static atomic_int in_section, ready, entered;
static int seen_in_section = -1, entered_during_gc = -1;

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void *section_thread(void *arg)
{
	(void)arg;
	gomem_mutator_enter(thr_heap);
	in_section = 1;
	ready = 1;
	sleep_ms(200);
	in_section = 0;
	gomem_mutator_exit(thr_heap);
	return NULL;
}

static void record_in_section(void)
{
	seen_in_section = in_section;
}

static void *enter_thread(void *arg)
{
	(void)arg;
	gomem_mutator_enter(thr_heap);
	entered = 1;
	gomem_mutator_exit(thr_heap);
	return NULL;
}

static pthread_t t2;

/* While the cycle runs, a thread tries to enter a section. */
static void start_entering(void)
{
	pthread_create(&t2, NULL, enter_thread, NULL);
	sleep_ms(100);
	entered_during_gc = entered;
}

static pthread_barrier_t barrier;
static void *pre[2], *post[2];

/* Two threads in sections both find a cycle due: both park, one runs it. */
static void *twin_thread(void *arg)
{
	long i = (long)arg;

	gomem_mutator_enter(thr_heap);
	pre[i] = gomem_alloc(thr_heap, 64, 0);
	pthread_barrier_wait(&barrier);		/* main makes the cycle due */
	pthread_barrier_wait(&barrier);
	post[i] = gomem_alloc(thr_heap, 64, 0);
	gomem_mutator_exit(thr_heap);
	return NULL;
}

static void check_twins_roots(void)
{
	roots_seen = in_root_range((uintptr_t)pre[0]) && in_root_range((uintptr_t)pre[1]);
	nroots_seen = fake.nroots;
}

static void test_threads(struct gomem_heap *h)
{
	unsigned int cycles, inl;
	pthread_t t, tw[2];
	long i;

	thr_heap = h;
	fake.gc_due = false;
	fake.nroots = 0;

	/* A cycle waits for another thread's section to end. */
	ready = 0;
	pthread_create(&t, NULL, section_thread, NULL);
	while (!ready)
		sleep_ms(1);
	fake.in_gc = record_in_section;
	CHECK(gomem_gc(h, NULL) == 0);
	CHECK(seen_in_section == 0);
	pthread_join(t, NULL);

	/* A section does not start while a cycle runs. */
	entered = 0;
	fake.in_gc = start_entering;
	CHECK(gomem_gc(h, NULL) == 0);
	pthread_join(t2, NULL);
	CHECK(entered_during_gc == 0 && entered == 1);

	/* Two sections allocate into a due cycle: one cycle, no deadlock. */
	pthread_barrier_init(&barrier, NULL, 3);
	fake.in_gc = check_twins_roots;
	roots_seen = false;
	cycles = fake.cycles;
	inl = fake.inline_cycles;
	for (i = 0; i < 2; i++)
		pthread_create(&tw[i], NULL, twin_thread, (void *)i);
	pthread_barrier_wait(&barrier);
	fake.gc_due = true;
	pthread_barrier_wait(&barrier);
	for (i = 0; i < 2; i++)
		pthread_join(tw[i], NULL);
	CHECK(pre[0] && pre[1] && post[0] && post[1]);
	CHECK(fake.cycles == cycles + 1 && fake.inline_cycles == inl + 1);
	CHECK(roots_seen && nroots_seen == 2 && fake.nroots == 0);
	pthread_barrier_destroy(&barrier);
	fake.in_gc = NULL;
}

int main(void)
{
	struct gomem_heap *h;

	alarm(30);	/* a deadlock fails the test instead of hanging it */
	test_open();
	h = open_fake(GOMEM_ABI_VERSION, GOMEM_FEATURES_ALL);
	if (!h) {
		perror("fake open");
		return 1;
	}
	fake.next_addr = 0xc000000000ULL;
	test_bulk(h);
	test_commands(h);
	test_gc_commands(h);
	test_nogc_retry(h);
	test_section_roots(h);
	test_threads(h);
	gomem_close(h);
	test_no_gc();
	printf("libgomem mock test: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
