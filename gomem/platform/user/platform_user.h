/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomem's platform layer in a userspace program (native tests and
 * benchmarks). See platform.h for the contract. "CPUs" are slots that
 * threads claim on first use (mem_user.c), so the per-CPU mcache becomes a
 * per-thread cache, as in TCMalloc.
 */
#ifndef _GOMEM_PLATFORM_USER_H
#define _GOMEM_PLATFORM_USER_H

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

/* __always_inline comes from glibc's <sys/cdefs.h>. */
#define GM_CACHE_LINE		64
#define ____cacheline_aligned	__attribute__((__aligned__(GM_CACHE_LINE)))
#define ALIGN(x, a)		(((x) + (a) - 1) / (a) * (a))
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define BUILD_BUG_ON(c)		_Static_assert(!(c), #c)
#define min(a, b)		((a) < (b) ? (a) : (b))
#define max(a, b)		((a) > (b) ? (a) : (b))
#define max_t(t, a, b)		max((t)(a), (t)(b))
#define min_t(t, a, b)		min((t)(a), (t)(b))

static __always_inline unsigned int gm_ctz64(u64 x)
{
	return __builtin_ctzll(x);
}

static __always_inline void gm_prefetch(const void *p)
{
	__builtin_prefetch(p);
}

static __always_inline unsigned int gm_fls64(u64 x)
{
	return 63 - __builtin_clzll(x);
}

static __always_inline unsigned int gm_popcount64(u64 x)
{
	return __builtin_popcountll(x);
}

/* As kmalloc(): an allocation of whole cache lines is line-aligned. */
static inline void *gm_zalloc(size_t size)
{
	void *p;

	if (size % GM_CACHE_LINE)
		return calloc(1, size);
	p = aligned_alloc(GM_CACHE_LINE, size);
	return p ? memset(p, 0, size) : NULL;
}

static inline void gm_free(void *p)
{
	free(p);
}

struct gm_mutex {
	pthread_mutex_t m;
	pthread_t owner;
	bool held;
};

void gm_mutex_init(struct gm_mutex *l);
void gm_mutex_lock(struct gm_mutex *l);
void gm_mutex_unlock(struct gm_mutex *l);
void gm_mutex_assert_held(struct gm_mutex *l);
#define gm_mutex_destroy(l)	pthread_mutex_destroy(&(l)->m)

/*
 * A spinlock, as in the kernel: its sections are short, and a waiter that
 * went to sleep in a futex (as a mutex's does) would measure the
 * scheduler, not the allocator. Userspace cannot turn preemption off, so
 * a waiter yields its CPU after a while in case the holder was preempted.
 */
struct gm_spinlock {
	int locked;
	pthread_t owner;
};

#define gm_spin_init(l)		((l)->locked = 0)
void gm_spin_lock_slow(struct gm_spinlock *l);
void gm_spin_assert_held(struct gm_spinlock *l);

static inline void gm_spin_lock(struct gm_spinlock *l)
{
	if (unlikely(__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)))
		gm_spin_lock_slow(l);
	l->owner = pthread_self();
}

static inline void gm_spin_unlock(struct gm_spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#define gm_atomic_load_u32(p)		__atomic_load_n(p, __ATOMIC_ACQUIRE)
#define gm_atomic_store_u32(p, v)	__atomic_store_n(p, v, __ATOMIC_RELEASE)
#define gm_atomic_load_u64(p)		__atomic_load_n(p, __ATOMIC_ACQUIRE)
#define gm_atomic_store_u64(p, v)	__atomic_store_n(p, v, __ATOMIC_RELEASE)
#define gm_atomic_load_ptr(p)		__atomic_load_n(p, __ATOMIC_ACQUIRE)
#define gm_atomic_store_ptr(p, v)	__atomic_store_n(p, v, __ATOMIC_RELEASE)

static inline bool gm_atomic_cas_u32(u32 *p, u32 old, u32 new)
{
	return __atomic_compare_exchange_n(p, &old, new, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static inline bool gm_atomic_cas_u64(u64 *p, u64 old, u64 new)
{
	return __atomic_compare_exchange_n(p, &old, new, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

struct gm_atomic64 {
	u64 counter;
};

#define gm_atomic64_read(a)	 __atomic_load_n(&(a)->counter, __ATOMIC_RELAXED)
#define gm_atomic64_add(a, d)	 __atomic_add_fetch(&(a)->counter, d, __ATOMIC_RELAXED)

/* Slots claimed by threads; a thread keeps its slot until it exits. */
#define GM_USER_MAX_CPUS	64
/* A thread is never interrupted by another user of its slot. */
#define GM_CPU_SLOTS		1
#define GM_PERCPU_MAX		(1 << 20)

void *gm_percpu_alloc(size_t size, size_t align);
void gm_percpu_free(void *p);

/* Before each per-CPU area: the distance between two CPUs' slots. */
struct gm_percpu_hdr {
	size_t stride;
	void *raw;
};

/*
 * Inline, as the kernel's per_cpu_ptr() and get_cpu() are, so that the
 * native build measures the allocator and not calls into mem_user.c.
 */
static inline void *gm_percpu_ptr_slot(void *p, unsigned int cpu)
{
	return (char *)p + ((struct gm_percpu_hdr *)p)[-1].stride * cpu;
}

#define gm_percpu_ptr(p, cpu)	((__typeof__(p))gm_percpu_ptr_slot(p, cpu))

/* The calling thread's CPU slot (-1 until it claims one), and its pins. */
extern __thread int gm_this_slot;
extern __thread int gm_pin_depth;
int gm_slot_claim(void);

static inline unsigned int gm_cpu_get(void)
{
	if (__builtin_expect(gm_this_slot < 0, 0))
		gm_this_slot = gm_slot_claim();
	gm_pin_depth++;
	return gm_this_slot;
}

static inline void gm_cpu_put(void)
{
	gm_pin_depth--;
}

void gm_cpu_assert_pinned(void);
/* A thread owns its CPU slot: it never leaves it. */
static inline void gm_cpu_stay(void)
{
}

static inline void gm_cpu_leave(void)
{
}


static inline unsigned int gm_nr_cpu_ids(void)
{
	return GM_USER_MAX_CPUS;
}

static inline unsigned int gm_num_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? n : 1;
}

static inline u64 gm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Real time (Unix epoch) in nanoseconds, for MemStats' LastGC and PauseEnd. */
static inline u64 gm_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* No leak tracker to tell about objects: ASan sees the mappings only. */
#define GM_TRACK_OBJECTS	0

static inline void gm_track_alloc(const void *p, size_t size, bool nosleep)
{
}

static inline void gm_track_free(const void *p)
{
}

static inline void gm_track_ignore(const void *meta)
{
}

unsigned int gm_stack_save(uintptr_t *pcs, unsigned int max, unsigned int skip, bool user);

/*
 * might_sleep() for userspace: with the CPU slot pinned, or in a test's
 * section that must not sleep (gm_nosleep_begin(), standing in for a
 * spinlock held or an interrupt), a sleeping lock or a path that may
 * sleep aborts, as DEBUG_ATOMIC_SLEEP complains in the kernel.
 */
extern __thread int gm_nosleep_depth;
void gm_nosleep_violated(void);

#define gm_can_sleep()		(!gm_nosleep_depth && !gm_pin_depth)

static inline void gm_might_sleep(void)
{
	if (unlikely(!gm_can_sleep()))
		gm_nosleep_violated();
}

#define gm_nosleep_begin()	(gm_nosleep_depth++)
#define gm_nosleep_end()	(gm_nosleep_depth--)
#define gm_cond_resched()	do { } while (0)
#define gm_fatal_signal_pending()	false
#define gm_pr_warn(fmt, ...)	fprintf(stderr, "gomem: " fmt, ##__VA_ARGS__)
#define gm_pr_info(fmt, ...)	fprintf(stderr, "gomem: " fmt, ##__VA_ARGS__)
#define GM_WARN_ON_ONCE(c) ({						\
	static bool __warned;						\
	bool __c = !!(c);						\
	if (__c && !__warned) {						\
		__warned = true;					\
		fprintf(stderr, "gomem: WARNING: %s at %s:%d\n",	\
			#c, __FILE__, __LINE__);			\
	}								\
	__c;								\
})

#endif /* _GOMEM_PLATFORM_USER_H */
