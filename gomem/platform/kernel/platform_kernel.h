/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomem's platform layer in the kernel. See platform.h for the contract.
 */
#ifndef _GOMEM_PLATFORM_KERNEL_H
#define _GOMEM_PLATFORM_KERNEL_H

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/ktime.h>
#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/cache.h>
#include <linux/compiler.h>
#include <linux/kernel.h>
#include <linux/kmemleak.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/prefetch.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/types.h>

static __always_inline unsigned int gm_ctz64(u64 x)
{
	return __ffs64(x);
}

/* Start loading a line the mark will read soon. */
static __always_inline void gm_prefetch(const void *p)
{
	prefetch(p);
}

static __always_inline unsigned int gm_fls64(u64 x)
{
	return fls64(x) - 1;
}

static __always_inline unsigned int gm_popcount64(u64 x)
{
	return hweight64(x);
}

/*
 * Metadata can be large (arena maps): kvzalloc falls back to vmalloc.
 * A heap that cannot get its metadata fails the allocation; it never
 * wakes the OOM killer on behalf of whoever asked. It is charged to the
 * memory cgroup of the task that causes it: for a /dev/gomem heap that
 * is its owner, who could otherwise make the kernel allocate metadata
 * for 64 GiB objects (address space is free, its metadata is not)
 * without limit. Kernel heaps used from kernel threads charge the root.
 */
#define GM_META_GFP	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

/* kmalloc's caches of whole cache lines hand out line-aligned objects. */
#define GM_CACHE_LINE	L1_CACHE_BYTES

static inline void *gm_zalloc(size_t size)
{
	return kvzalloc(size, GM_META_GFP);
}

static inline void gm_free(void *p)
{
	kvfree(p);
}

struct gm_mutex {
	struct mutex m;
};

#define gm_mutex_init(l)	mutex_init(&(l)->m)
#define gm_mutex_lock(l)	mutex_lock(&(l)->m)
#define gm_mutex_unlock(l)	mutex_unlock(&(l)->m)
#define gm_mutex_assert_held(l)	lockdep_assert_held(&(l)->m)
#define gm_mutex_destroy(l)	mutex_destroy(&(l)->m)

/*
 * Interrupts off while held: a timer or an interrupt handler may allocate
 * or free on the CPU that holds it. The flags live in the lock, written
 * and read only by its holder.
 */
struct gm_spinlock {
	spinlock_t s;
	unsigned long flags;
};

#define gm_spin_init(l)		spin_lock_init(&(l)->s)
#define gm_spin_lock(l)		spin_lock_irqsave(&(l)->s, (l)->flags)
#define gm_spin_unlock(l)	spin_unlock_irqrestore(&(l)->s, (l)->flags)
#define gm_spin_assert_held(l)	lockdep_assert_held(&(l)->s)

/*
 * A load-acquire sees everything written before the store-release of the
 * value it reads (Go's atomic.Load and atomic.Store order the same way).
 */
#define gm_atomic_load_u32(p)		smp_load_acquire(p) /* pairs with store */
#define gm_atomic_store_u32(p, v)	smp_store_release(p, v) /* pairs with load */
#define gm_atomic_load_u64(p)		smp_load_acquire(p) /* pairs with store */
#define gm_atomic_store_u64(p, v)	smp_store_release(p, v) /* pairs with load */
#define gm_atomic_load_ptr(p)		smp_load_acquire(p) /* pairs with store */
#define gm_atomic_store_ptr(p, v)	smp_store_release(p, v) /* pairs with load */

/* Full barrier on success, as Go's atomic.Cas. */
static inline bool gm_atomic_cas_u32(u32 *p, u32 old, u32 new)
{
	return try_cmpxchg(p, &old, new);
}

static inline bool gm_atomic_cas_u64(u64 *p, u64 old, u64 new)
{
	return try_cmpxchg64(p, &old, new);
}

/* Statistics counters, updated without a lock. */
struct gm_atomic64 {
	atomic64_t v;
};

#define gm_atomic64_read(a)		((u64)atomic64_read(&(a)->v))
#define gm_atomic64_add(a, delta)	atomic64_add(delta, &(a)->v)

/*
 * Cache slots per CPU: one for each context that can interrupt another
 * there (task, softirq, hardirq), so an interrupt never finds the cache
 * it interrupted half-changed, and the fast path needs no irq-off
 * section. The API refuses NMIs.
 */
#define GM_CPU_SLOTS	3
/* The largest per-CPU area __alloc_percpu() gives. */
#define GM_PERCPU_MAX	PCPU_MIN_UNIT_SIZE

#define gm_percpu_alloc(size, align)	\
	__alloc_percpu_gfp((size) * GM_CPU_SLOTS, align, GM_META_GFP)
#define gm_percpu_free(p)		free_percpu(p)
/* @slot once: it is often gm_cpu_get(), which pins the CPU. */
#define gm_percpu_ptr(p, slot) ({					\
	unsigned int __slot = (slot);					\
									\
	per_cpu_ptr(p, __slot / GM_CPU_SLOTS) + __slot % GM_CPU_SLOTS;	\
})

/* 0 in a task (or with BHs off), 1 serving a softirq, 2 in a hardirq. */
static __always_inline unsigned int gm_cpu_ctx(void)
{
	unsigned long pc = preempt_count();

	if (likely(!(pc & (HARDIRQ_MASK | SOFTIRQ_OFFSET))))
		return 0;
	return pc & HARDIRQ_MASK ? 2 : 1;
}

/* The fast path's only protection: no preemption, a slot per context. */
static __always_inline unsigned int gm_cpu_get(void)
{
	preempt_disable();
	return smp_processor_id() * GM_CPU_SLOTS + gm_cpu_ctx();
}

static __always_inline void gm_cpu_put(void)
{
	preempt_enable();
}

/*
 * For tests that must see one CPU's cache across calls that may sleep:
 * the task stays on its CPU (other tasks may still run there).
 */
#define gm_cpu_stay()	migrate_disable()
#define gm_cpu_leave()	migrate_enable()

/* Where the core says "called with the CPU pinned": lockdep checks it. */
#define gm_cpu_assert_pinned()	lockdep_assert_preemption_disabled()

static inline unsigned int gm_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

/* CPUs that can run the program now (Go's GOMAXPROCS default). */
static inline unsigned int gm_num_cpus(void)
{
	return num_online_cpus();
}

/* A monotonic clock in nanoseconds, for the collector's timings. */
static inline u64 gm_now_ns(void)
{
	return ktime_get_ns();
}

/* Real time (Unix epoch) in nanoseconds, for MemStats' LastGC and PauseEnd. */
static inline u64 gm_real_ns(void)
{
	return ktime_get_real_ns();
}

/*
 * Objects of heaps that hold kernel memory are reported to kmemleak, as
 * SLUB's are; the calls vanish without CONFIG_DEBUG_KMEMLEAK.
 */
#define GM_TRACK_OBJECTS	IS_ENABLED(CONFIG_DEBUG_KMEMLEAK)

static inline void gm_track_alloc(const void *p, size_t size, bool nosleep)
{
	kmemleak_alloc(p, size, 1, nosleep ? GFP_ATOMIC : GFP_KERNEL);
}

static inline void gm_track_free(const void *p)
{
	kmemleak_free(p);
}

/*
 * gomem's own metadata that holds object addresses (a span's start, a
 * block's address) must not count as references to them.
 */
static inline void gm_track_ignore(const void *meta)
{
	kmemleak_ignore(meta);
}

unsigned int gm_stack_save(uintptr_t *pcs, unsigned int max, unsigned int skip, bool user);

#define gm_might_sleep()	might_sleep()
/*
 * Whether the caller may take a sleeping lock: frees are called from any
 * context and defer what needs the heap lock when it may not. Without
 * CONFIG_PREEMPT_COUNT this is always false and they always defer.
 */
#define gm_can_sleep()		(preemptible() && !rcu_preempt_depth())
/* For tests of the paths that must not sleep: a section that may not. */
#define gm_nosleep_begin()	preempt_disable()
#define gm_nosleep_end()	preempt_enable()
/* Long loops of the collector yield the CPU now and then. */
#define gm_cond_resched()	cond_resched()
/* The caller is being killed: long work on its behalf may stop. */
#define gm_fatal_signal_pending()	fatal_signal_pending(current)
#define gm_pr_warn(fmt, ...)	pr_warn("gomem: " fmt, ##__VA_ARGS__)
#define gm_pr_info(fmt, ...)	pr_info("gomem: " fmt, ##__VA_ARGS__)
#define GM_WARN_ON_ONCE(c)	WARN_ON_ONCE(c)

#endif /* _GOMEM_PLATFORM_KERNEL_H */
