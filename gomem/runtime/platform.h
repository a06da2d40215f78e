/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The platform layer under gomem's allocator core, like Go's mem_*.go and
 * the OS-specific parts of its runtime: types, bit operations, locks,
 * atomics, per-CPU data, metadata memory and logging. The core includes
 * only this header; this is the one place that tells the kernel from a
 * userspace test program.
 *
 * What every environment provides:
 *  - types u8..u64, s32, s64, uintptr_t, size_t, bool; likely(),
 *    unlikely(), READ_ONCE(), WRITE_ONCE(), ARRAY_SIZE(), min(), max(),
 *    BUILD_BUG_ON(), static_assert(), __always_inline,
 *    ____cacheline_aligned;
 *  - gm_ctz64(), gm_fls64() (the lowest and the highest set bit's
 *    index), gm_popcount64(): x must be non-zero for ctz and fls;
 *    gm_prefetch(): a hint to load a cache line;
 *  - gm_zalloc(), gm_free(): zeroed metadata memory (not heap pages),
 *    aligned to GM_CACHE_LINE when the size is a multiple of it; ALIGN();
 *  - struct gm_mutex (may sleep) and struct gm_spinlock (may not), with
 *    _init, _lock, _unlock, _assert_held;
 *  - gm_atomic_*: u32, u64 and pointer load-acquire and store-release,
 *    u32 and u64 compare-and-swap, struct gm_atomic64 counters;
 *  - per-CPU: gm_percpu_alloc(), gm_percpu_free(), gm_percpu_ptr(),
 *    gm_cpu_get()/gm_cpu_put() (pin the caller to its CPU, preemption
 *    off in the kernel), gm_cpu_assert_pinned() (the caller is pinned:
 *    lockdep in the kernel, the thread's slot check in userspace),
 *    gm_cpu_stay()/gm_cpu_leave() (for tests: stay on this CPU's cache
 *    across calls that may sleep), gm_nr_cpu_ids();
 *  - GM_CPU_SLOTS: caches per CPU, one per context that can interrupt
 *    another (task, softirq, hardirq in the kernel; 1 in userspace);
 *    gm_cpu_get() returns the slot of the calling context, and
 *    gm_percpu_alloc()/gm_percpu_ptr() hold and index GM_CPU_SLOTS per
 *    CPU, at most GM_PERCPU_MAX bytes in all;
 *  - gm_num_cpus(), online CPUs; gm_now_ns(), a monotonic clock;
 *    gm_real_ns(), real time in ns since the Unix epoch;
 *  - gm_might_sleep(), gm_cond_resched() (yield in long loops),
 *    gm_can_sleep() (the caller may take the heap lock: frees from any
 *    context defer what needs it otherwise), gm_nosleep_begin()/_end()
 *    (for tests: a section that must not sleep, checked by
 *    DEBUG_ATOMIC_SLEEP in the kernel and by an abort in userspace),
 *    gm_fatal_signal_pending() (the task the work is for is being killed);
 *  - gm_pr_warn(), gm_pr_info(), GM_WARN_ON_ONCE();
 *  - gm_stack_save(pcs, max, skip, user): the call stack of the caller,
 *    innermost first, without its @skip innermost frames; with @user,
 *    the user-space stack of the calling thread instead (in the kernel:
 *    the task's frame pointer chain; none outside a task). Returns the
 *    frames stored, at most @max. Any context;
 *  - GM_TRACK_OBJECTS, gm_track_alloc(), gm_track_free(): tell a leak
 *    detector (kmemleak) about objects of heaps that hold kernel memory;
 *    gm_track_ignore(): metadata it must neither scan nor report.
 */
#ifndef _GOMEM_PLATFORM_H
#define _GOMEM_PLATFORM_H

#ifdef __KERNEL__
#include "platform_kernel.h"
#else
#include "platform_user.h"
#endif

/* Every CPU's cache slots, for loops over all of them. */
static inline unsigned int gm_nr_slots(void)
{
	return gm_nr_cpu_ids() * GM_CPU_SLOTS;
}

#endif /* _GOMEM_PLATFORM_H */
