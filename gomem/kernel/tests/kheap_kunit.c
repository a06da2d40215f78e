// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel-only KUnit tests: a kthread per CPU allocating and freeing in
 * one heap at once (objects cross CPUs before they are freed), and CPU
 * hotplug taking a CPU offline with cached spans, and with frees it has
 * not handed over. The first uses this module's copy of the core; the
 * others go through gomem.ko's API, whose heaps its hotplug callback
 * knows; so does a kernel heap's profile.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/kallsyms.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/workqueue.h>
#include <linux/gomem.h>
#include <uapi/linux/gomem.h>

#include "../kheap.h"
#include "heap.h"

/* === concurrency ======================================================== */

#define SLOTS		256
#define OPS_PER_CPU	4000

struct shared {
	struct gm_heap *h;
	void *slot[SLOTS];		/* objects anyone may free; xchg'd */
	atomic_t errors;
	atomic_t running;
	struct completion start;
	struct completion done;
};

/* The object's first and last words hold its own address: overlap shows. */
static void stamp(void *p, size_t size)
{
	((uintptr_t *)p)[0] = (uintptr_t)p;
	((uintptr_t *)p)[size / sizeof(uintptr_t) - 1] = ~(uintptr_t)p;
}

static bool stamped(const void *p, size_t size)
{
	return ((const uintptr_t *)p)[0] == (uintptr_t)p &&
	       ((const uintptr_t *)p)[size / sizeof(uintptr_t) - 1] == ~(uintptr_t)p;
}

static int churn(void *arg)
{
	struct shared *sh = arg;
	u32 seed = 0x9e3779b9 * (raw_smp_processor_id() + 1);
	int op;

	wait_for_completion(&sh->start);
	for (op = 0; op < OPS_PER_CPU; op++) {
		size_t size = 16 + (seed % 4096) * 8;
		unsigned int i = (seed >> 16) % SLOTS;
		void *p = gm_heap_alloc(sh->h, size, GM_NOSCAN);

		seed = seed * 1664525 + 1013904223;
		if (!p) {
			atomic_inc(&sh->errors);
			break;
		}
		stamp(p, gm_heap_object_size(sh->h, p));
		/* Swap it into a shared slot; free whatever was there. */
		p = xchg(&sh->slot[i], p);
		if (!p)
			continue;
		if (!stamped(p, gm_heap_object_size(sh->h, p)) || gm_heap_free(sh->h, p))
			atomic_inc(&sh->errors);
	}
	if (atomic_dec_and_test(&sh->running))
		complete(&sh->done);
	return 0;
}

static void kthread_per_cpu(struct kunit *test)
{
	struct shared *sh = kunit_kzalloc(test, sizeof(*sh), GFP_KERNEL);
	struct gm_memstats *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	unsigned int cpu, i;

	KUNIT_ASSERT_NOT_NULL(test, sh);
	KUNIT_ASSERT_NOT_NULL(test, st);
	sh->h = gm_heap_create(&gm_os_pagesrc, NULL);
	KUNIT_ASSERT_NOT_NULL(test, sh->h);
	init_completion(&sh->start);
	init_completion(&sh->done);
	cpus_read_lock();
	atomic_set(&sh->running, num_online_cpus());
	for_each_online_cpu(cpu) {
		struct task_struct *t = kthread_create_on_cpu(churn, sh, cpu, "gomem_churn/%u");

		if (IS_ERR(t)) {
			atomic_dec(&sh->running);
			atomic_inc(&sh->errors);
			continue;
		}
		wake_up_process(t);
	}
	cpus_read_unlock();
	complete_all(&sh->start);
	wait_for_completion(&sh->done);

	KUNIT_EXPECT_EQ(test, atomic_read(&sh->errors), 0);
	for (i = 0; i < SLOTS; i++) {
		if (!sh->slot[i])
			continue;
		KUNIT_EXPECT_TRUE(test, stamped(sh->slot[i],
						gm_heap_object_size(sh->h, sh->slot[i])));
		KUNIT_EXPECT_EQ(test, gm_heap_free(sh->h, sh->slot[i]), 0);
	}
	gm_heap_read_stats(sh->h, st);
	KUNIT_EXPECT_EQ(test, st->mallocs, st->frees);
	KUNIT_EXPECT_EQ(test, st->heap_alloc, 0);
	KUNIT_EXPECT_GE(test, st->mallocs, (u64)OPS_PER_CPU);
	gm_heap_destroy(sh->h);
}

/* === CPU hotplug ======================================================== */

#define HOTPLUG_OBJS	64

struct on_cpu {
	struct gomem_heap *heap;
	void *objs[HOTPLUG_OBJS];
};

/* Several classes, so several span classes get cached. */
static size_t obj_size(int i)
{
	return 16 << (i % 10);
}

/* Object @i of a CPU's set, stamped; the tests' one gomem_alloc() call. */
static void *alloc_obj(struct gomem_heap *heap, int i)
{
	void *p = gomem_alloc(heap, obj_size(i), 0, GFP_KERNEL);

	if (p)
		stamp(p, obj_size(i));
	return p;
}

static long fill_cache(void *arg)
{
	struct on_cpu *oc = arg;
	int i;

	for (i = 0; i < HOTPLUG_OBJS; i++) {
		oc->objs[i] = alloc_obj(oc->heap, i);
		if (!oc->objs[i])
			return -ENOMEM;
	}
	return 0;
}

static void offline_cpu_with_cached_spans(struct kunit *test)
{
	struct on_cpu *oc = kunit_kzalloc(test, sizeof(*oc), GFP_KERNEL);
	unsigned int cpu = 1;
	int i, ret;

	KUNIT_ASSERT_NOT_NULL(test, oc);
	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU) || !cpu_online(cpu) || num_online_cpus() < 2)
		kunit_skip(test, "needs CPU hotplug and CPU %u online", cpu);
	oc->heap = gomem_heap_create("kunit-hotplug");
	KUNIT_ASSERT_NOT_NULL(test, oc->heap);

	KUNIT_ASSERT_EQ(test, work_on_cpu(cpu, fill_cache, oc), 0);
	KUNIT_EXPECT_GE(test, gomem_heap_cached_spans(oc->heap, cpu), 10);

	ret = remove_cpu(cpu);
	KUNIT_ASSERT_EQ(test, ret, 0);
	/* The dead CPU's cache went back to the mcentrals... */
	KUNIT_EXPECT_EQ(test, gomem_heap_cached_spans(oc->heap, cpu), 0);
	/* ...and nothing in it was lost: every object is intact and freeable. */
	for (i = 0; i < HOTPLUG_OBJS; i++) {
		KUNIT_EXPECT_TRUE(test, stamped(oc->objs[i], obj_size(i)));
		KUNIT_EXPECT_EQ(test, gomem_size(oc->heap, oc->objs[i]), obj_size(i));
		KUNIT_EXPECT_EQ(test, gomem_free(oc->heap, oc->objs[i]), 0);
	}
	KUNIT_EXPECT_EQ(test, add_cpu(cpu), 0);
	/* The CPU allocates again after it comes back. */
	KUNIT_EXPECT_EQ(test, work_on_cpu(cpu, fill_cache, oc), 0);
	for (i = 0; i < HOTPLUG_OBJS; i++)
		KUNIT_EXPECT_EQ(test, gomem_free(oc->heap, oc->objs[i]), 0);
	gomem_heap_destroy(oc->heap);
}

/* === CPU hotplug with frees pending on the CPU ========================== */

/* GOGC 100 with under 2 MiB marked: the goal is its minimum, 4 MiB. */
#define MIN_GOAL	(4ULL << 20)

/*
 * The pacer's live heap, which the API shows only through
 * gomem_heap_gc_due(): the smallest size it calls due is goal - live + 1.
 */
static u64 heap_live(struct gomem_heap *heap)
{
	u64 lo = 0, hi = MIN_GOAL + 1;

	while (lo < hi) {
		u64 mid = lo + (hi - lo) / 2;

		if (gomem_heap_gc_due(heap, mid))
			hi = mid;
		else
			lo = mid + 1;
	}
	return MIN_GOAL + 1 - lo;
}

/* Three of each class's six or seven objects: a span stays half used. */
static bool freed_on_cpu(int i)
{
	return i / 10 % 2;
}

/* On the CPU that allocated them: frees on its own spans stay there. */
static long free_some(void *arg)
{
	struct on_cpu *oc = arg;
	int i;

	for (i = 0; i < HOTPLUG_OBJS; i++)
		if (freed_on_cpu(i) && gomem_free(oc->heap, oc->objs[i]))
			return -EINVAL;
	return 0;
}

static long refill_freed(void *arg)
{
	struct on_cpu *oc = arg;
	int i;

	for (i = 0; i < HOTPLUG_OBJS; i++) {
		if (!freed_on_cpu(i))
			continue;
		oc->objs[i] = alloc_obj(oc->heap, i);
		if (!oc->objs[i])
			return -ENOMEM;
	}
	return 0;
}

/* The objects not freed: intact, sized, and what the pacer counts. */
static u64 expect_live_intact(struct kunit *test, struct on_cpu *oc)
{
	u64 live = 0;
	int i;

	for (i = 0; i < HOTPLUG_OBJS; i++) {
		if (freed_on_cpu(i))
			continue;
		KUNIT_EXPECT_TRUE(test, stamped(oc->objs[i], obj_size(i)));
		KUNIT_EXPECT_EQ(test, gomem_size(oc->heap, oc->objs[i]), obj_size(i));
		live += obj_size(i);
	}
	return live;
}

/* Freed on the dead CPU: freed for good, and not counted again. */
static void expect_freed(struct kunit *test, struct on_cpu *oc)
{
	int i;

	for (i = 0; i < HOTPLUG_OBJS; i++) {
		if (!freed_on_cpu(i))
			continue;
		KUNIT_EXPECT_EQ(test, gomem_size(oc->heap, oc->objs[i]), 0);
		KUNIT_EXPECT_EQ(test, gomem_free(oc->heap, oc->objs[i]), -EINVAL);
	}
}

/*
 * A CPU goes offline with frees it has not handed over: on its lists, in
 * its spans' local bits, in its live-heap batch. The hotplug callback
 * hands them back: the pacer's live heap is the live objects exactly,
 * freed objects stay freed (a cycle does not bring them back through the
 * stale pointers a root holds), and the CPU allocates again once back.
 */
static void offline_cpu_with_local_frees(struct kunit *test)
{
	struct on_cpu *oc = kunit_kzalloc(test, sizeof(*oc), GFP_KERNEL);
	unsigned int cpu = 1;
	u64 live;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, oc);
	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU) || !cpu_online(cpu) || num_online_cpus() < 2)
		kunit_skip(test, "needs CPU hotplug and CPU %u online", cpu);
	oc->heap = gomem_heap_create("kunit-hotplug-frees");
	KUNIT_ASSERT_NOT_NULL(test, oc->heap);
	gomem_heap_set_gogc(oc->heap, 100);

	KUNIT_ASSERT_EQ(test, work_on_cpu(cpu, fill_cache, oc), 0);
	KUNIT_ASSERT_EQ(test, work_on_cpu(cpu, free_some, oc), 0);
	KUNIT_ASSERT_EQ(test, remove_cpu(cpu), 0);
	KUNIT_EXPECT_EQ(test, gomem_heap_cached_spans(oc->heap, cpu), 0);
	live = expect_live_intact(test, oc);
	KUNIT_EXPECT_EQ(test, heap_live(oc->heap), live);
	expect_freed(test, oc);
	KUNIT_EXPECT_EQ(test, heap_live(oc->heap), live);

	/* The mark finds the live objects only: the freed ones stay freed. */
	KUNIT_EXPECT_EQ(test, gomem_heap_add_root(oc->heap, oc->objs, sizeof(oc->objs)), 0);
	KUNIT_EXPECT_EQ(test, gomem_heap_gc(oc->heap), 0);
	KUNIT_EXPECT_EQ(test, heap_live(oc->heap), live);
	KUNIT_EXPECT_EQ(test, expect_live_intact(test, oc), live);
	expect_freed(test, oc);
	KUNIT_EXPECT_EQ(test, gomem_heap_del_root(oc->heap, oc->objs), 0);

	KUNIT_EXPECT_EQ(test, add_cpu(cpu), 0);
	KUNIT_EXPECT_EQ(test, work_on_cpu(cpu, refill_freed, oc), 0);
	for (i = 0; i < HOTPLUG_OBJS; i++) {
		KUNIT_EXPECT_TRUE(test, stamped(oc->objs[i], obj_size(i)));
		KUNIT_EXPECT_EQ(test, gomem_free(oc->heap, oc->objs[i]), 0);
	}
	/* Every object freed once: a cycle finds the live heap empty. */
	KUNIT_EXPECT_EQ(test, gomem_heap_gc(oc->heap), 0);
	KUNIT_EXPECT_EQ(test, heap_live(oc->heap), 0);
	gomem_heap_destroy(oc->heap);
}

static void kernel_heap_api(struct kunit *test)
{
	struct gomem_heap *heap = gomem_kernel_heap();
	void *p;

	KUNIT_ASSERT_NOT_NULL(test, heap);
	p = gomem_alloc(heap, 200, GOMEM_ZERO, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, gomem_size(heap, p + 100), 208);
	KUNIT_EXPECT_EQ(test, gomem_free(heap, p + 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, gomem_free(heap, p), 0);
	KUNIT_EXPECT_EQ(test, gomem_free(heap, p), -EINVAL);
	KUNIT_EXPECT_NULL(test, gomem_alloc(heap, 0, 0, GFP_KERNEL));
	/* Beyond what physically contiguous blocks give: NULL, not a crash. */
	KUNIT_EXPECT_NULL(test, gomem_alloc(heap, 64 << 20, 0, GFP_KERNEL));
}

/* The collector through the kernel API: roots keep, the rest goes. */
static void kernel_heap_gc(struct kunit *test)
{
	struct gomem_heap *heap = gomem_heap_create("kunit-gc");
	void **globals = kunit_kcalloc(test, 2, sizeof(void *), GFP_KERNEL);
	void **held, *kept, *child, *garbage;

	KUNIT_ASSERT_NOT_NULL(test, heap);
	KUNIT_ASSERT_NOT_NULL(test, globals);
	held = gomem_alloc(heap, 64, GOMEM_ZERO, GFP_KERNEL);
	kept = gomem_alloc(heap, 300, GOMEM_ZERO, GFP_KERNEL);
	child = gomem_alloc(heap, 32, GOMEM_ZERO, GFP_KERNEL);
	garbage = gomem_alloc(heap, 1000, GOMEM_ZERO, GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, held && kept && child && garbage);
	globals[1] = kept + 10;		/* an interior pointer */
	held[3] = child;
	KUNIT_EXPECT_EQ(test, gomem_heap_add_root(heap, globals, 2 * sizeof(void *)), 0);
	KUNIT_EXPECT_EQ(test, gomem_heap_add_root(heap, globals, 8), -EEXIST);
	KUNIT_EXPECT_EQ(test, gomem_heap_set_root(heap, held, true), 0);
	KUNIT_EXPECT_EQ(test, gomem_heap_set_root(heap, held, true), -EEXIST);
	KUNIT_EXPECT_EQ(test, gomem_heap_set_gogc(heap, -2), -EINVAL);
	KUNIT_EXPECT_EQ(test, gomem_heap_set_gogc(heap, GOMEM_GOGC_OFF), 100);
	KUNIT_EXPECT_FALSE(test, gomem_heap_gc_due(heap, 1ULL << 40));
	KUNIT_EXPECT_EQ(test, gomem_heap_gc(heap), 0);
	KUNIT_EXPECT_EQ(test, gomem_size(heap, held), 64);
	KUNIT_EXPECT_EQ(test, gomem_size(heap, kept), 320);
	KUNIT_EXPECT_EQ(test, gomem_size(heap, child), 32);
	KUNIT_EXPECT_EQ(test, gomem_size(heap, garbage), 0);
	KUNIT_EXPECT_EQ(test, gomem_heap_del_root(heap, globals), 0);
	KUNIT_EXPECT_EQ(test, gomem_heap_del_root(heap, globals), -ENOENT);
	KUNIT_EXPECT_EQ(test, gomem_heap_set_root(heap, held, false), 0);
	KUNIT_EXPECT_EQ(test, gomem_heap_gc(heap), 0);
	KUNIT_EXPECT_EQ(test, gomem_size(heap, held), 0);
	KUNIT_EXPECT_EQ(test, gomem_size(heap, kept), 0);
	KUNIT_EXPECT_EQ(test, gomem_size(heap, child), 0);
	gomem_heap_destroy(heap);
}

/* === heap profiles ====================================================== */

#define PROFILED	16

static noinline void *profiled_alloc(struct gomem_heap *heap)
{
	void *p = gomem_alloc(heap, 96, 0, GFP_KERNEL);

	/* Not a tail call: this function's frame stays on the stack. */
	barrier();
	return p;
}

/* The records whose stack passes through profiled_alloc(). */
static void count_profiled(struct kunit *test, const struct gomem_prof_header *hdr,
			   size_t size, u64 *allocs, u64 *frees)
{
	const void *pos = hdr + 1, *end = (const void *)hdr + size;
	char sym[KSYM_SYMBOL_LEN];
	u64 i;
	u32 d;

	*allocs = *frees = 0;
	for (i = 0; i < hdr->nrecords; i++) {
		const struct gomem_prof_record *r = pos;
		const __u64 *pcs = (const __u64 *)(r + 1);

		KUNIT_ASSERT_TRUE(test, (const void *)(pcs + r->depth) <= end);
		for (d = 0; d < r->depth; d++) {
			snprintf(sym, sizeof(sym), "%ps", (void *)(unsigned long)pcs[d]);
			/* "%ps" of a module's address ends with " [module]". */
			if (!strncmp(sym, "profiled_alloc", 14) && (!sym[14] || sym[14] == ' ')) {
				*allocs += r->allocs;
				*frees += r->frees;
				break;
			}
		}
		pos = pcs + r->depth;
	}
	KUNIT_EXPECT_PTR_EQ(test, pos, end);
}

/*
 * A kernel heap samples nothing until its rate is set; at rate 1 every
 * allocation is recorded with the kernel stack that made it, and every
 * free is counted against it.
 */
static void kernel_heap_profile(struct kunit *test)
{
	struct gomem_heap *heap = gomem_heap_create("kunit-prof");
	void *objs[PROFILED];
	struct gomem_prof_header *hdr;
	u64 allocs, frees;
	size_t size;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, heap);
	KUNIT_EXPECT_EQ(test, gomem_heap_set_profile_rate(heap, 1), 0);
	for (i = 0; i < PROFILED; i++) {
		objs[i] = profiled_alloc(heap);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
	}
	hdr = gomem_heap_profile_dump(heap, &size);
	KUNIT_ASSERT_NOT_NULL(test, hdr);
	KUNIT_EXPECT_EQ(test, hdr->magic, GOMEM_PROF_MAGIC);
	KUNIT_EXPECT_EQ(test, hdr->flags, GOMEM_PROF_KERNEL_STACKS);
	KUNIT_EXPECT_EQ(test, hdr->rate, 1);
	KUNIT_EXPECT_EQ(test, hdr->dropped, 0);
	count_profiled(test, hdr, size, &allocs, &frees);
	KUNIT_EXPECT_EQ(test, allocs, PROFILED);
	KUNIT_EXPECT_EQ(test, frees, 0);
	kvfree(hdr);

	/* Sampling off: frees of sampled objects are still counted. */
	KUNIT_EXPECT_EQ(test, gomem_heap_set_profile_rate(heap, 0), 1);
	for (i = 0; i < PROFILED; i++)
		KUNIT_EXPECT_EQ(test, gomem_free(heap, objs[i]), 0);
	KUNIT_EXPECT_NOT_NULL(test, profiled_alloc(heap));
	hdr = gomem_heap_profile_dump(heap, &size);
	KUNIT_ASSERT_NOT_NULL(test, hdr);
	KUNIT_EXPECT_EQ(test, hdr->rate, 0);
	count_profiled(test, hdr, size, &allocs, &frees);
	KUNIT_EXPECT_EQ(test, allocs, PROFILED);
	KUNIT_EXPECT_EQ(test, frees, PROFILED);
	kvfree(hdr);
	/* Clamped as Go's profiler is not, but as the ioctl is. */
	gomem_heap_set_profile_rate(heap, ULONG_MAX);
	KUNIT_EXPECT_EQ(test, gomem_heap_set_profile_rate(heap, 0), GOMEM_PROF_MAX_RATE);
	gomem_heap_destroy(heap);
}

static struct kunit_case gomem_kheap_cases[] = {
	KUNIT_CASE(kernel_heap_api),
	KUNIT_CASE(kernel_heap_gc),
	KUNIT_CASE(kernel_heap_profile),
	KUNIT_CASE(kthread_per_cpu),
	KUNIT_CASE(offline_cpu_with_cached_spans),
	KUNIT_CASE(offline_cpu_with_local_frees),
	{}
};

static struct kunit_suite gomem_kheap_suite = {
	.name = "gomem_kheap",
	.test_cases = gomem_kheap_cases,
};
kunit_test_suite(gomem_kheap_suite);
