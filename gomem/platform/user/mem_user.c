// SPDX-License-Identifier: GPL-2.0
/*
 * gomem's platform layer for userspace builds (platform_user.h): mutexes
 * that know their owner, per-thread "CPU" slots, and a page source of
 * anonymous mappings.
 *
 * A thread claims a free slot the first time it needs one and gives it
 * back when it exits, so two threads never use one slot at once and a
 * slot's mcache needs no lock, as a CPU's does in the kernel.
 */
#include <execinfo.h>
#include <sched.h>
#include <sys/mman.h>

#include "heap.h"

void gm_mutex_init(struct gm_mutex *l)
{
	pthread_mutex_init(&l->m, NULL);
	l->held = false;
}

__thread int gm_nosleep_depth;

void gm_nosleep_violated(void)
{
	fprintf(stderr, "gomem: may sleep in a section that must not\n");
	abort();
}

void gm_mutex_lock(struct gm_mutex *l)
{
	gm_might_sleep();
	pthread_mutex_lock(&l->m);
	l->owner = pthread_self();
	l->held = true;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Test and test-and-set; after a while, yield to a holder that was preempted. */
void gm_spin_lock_slow(struct gm_spinlock *l)
{
	unsigned int spins = 0;

	do {
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
			if (++spins % 1024)
				cpu_relax();
			else
				sched_yield();
		}
	} while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE));
}

/* lockdep_assert_held() for a spinlock: held, by this thread. */
void gm_spin_assert_held(struct gm_spinlock *l)
{
	if (!__atomic_load_n(&l->locked, __ATOMIC_RELAXED) ||
	    !pthread_equal(l->owner, pthread_self())) {
		fprintf(stderr, "gomem: spinlock %p not held by this thread\n", (void *)l);
		abort();
	}
}

void gm_mutex_unlock(struct gm_mutex *l)
{
	l->held = false;
	pthread_mutex_unlock(&l->m);
}

/* lockdep_assert_held() for userspace: abort, so tests cannot miss it. */
void gm_mutex_assert_held(struct gm_mutex *l)
{
	if (!l->held || !pthread_equal(l->owner, pthread_self())) {
		fprintf(stderr, "gomem: lock %p not held by this thread\n", (void *)l);
		abort();
	}
}

/* === per-CPU data ======================================================= */

void *gm_percpu_alloc(size_t size, size_t align)
{
	size_t stride, hdr;
	void *raw;
	char *p;

	if (align < 64)
		align = 64;	/* a slot per cache line: no false sharing */
	stride = (size + align - 1) / align * align;
	hdr = (sizeof(struct gm_percpu_hdr) + align - 1) / align * align;
	if (posix_memalign(&raw, align, hdr + stride * GM_USER_MAX_CPUS))
		return NULL;
	memset(raw, 0, hdr + stride * GM_USER_MAX_CPUS);
	p = (char *)raw + hdr;
	((struct gm_percpu_hdr *)p)[-1] = (struct gm_percpu_hdr){ stride, raw };
	return p;
}

void gm_percpu_free(void *p)
{
	if (p)
		free(((struct gm_percpu_hdr *)p)[-1].raw);
}

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static bool slot_used[GM_USER_MAX_CPUS];
static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;
__thread int gm_this_slot = -1;
/* gm_cpu_get() calls not yet matched by gm_cpu_put(), for the assertion. */
__thread int gm_pin_depth;

static void slot_release(void *arg)
{
	int slot = (int)(intptr_t)arg - 1;

	pthread_mutex_lock(&slots_lock);
	slot_used[slot] = false;
	pthread_mutex_unlock(&slots_lock);
}

static void slot_key_init(void)
{
	pthread_key_create(&slot_key, slot_release);
}

/* A thread's first gm_cpu_get(): a free slot, kept until the thread exits. */
int gm_slot_claim(void)
{
	int i;

	pthread_once(&slot_once, slot_key_init);
	for (;;) {
		pthread_mutex_lock(&slots_lock);
		for (i = 0; i < GM_USER_MAX_CPUS; i++) {
			if (!slot_used[i]) {
				slot_used[i] = true;
				pthread_mutex_unlock(&slots_lock);
				/* Stored +1: the destructor does not run for NULL. */
				pthread_setspecific(slot_key, (void *)(intptr_t)(i + 1));
				return i;
			}
		}
		pthread_mutex_unlock(&slots_lock);
		sched_yield();	/* more live threads than slots: wait for one */
	}
}

/*
 * lockdep_assert_preemption_disabled() for userspace: the calling thread
 * holds its slot and is between gm_cpu_get() and gm_cpu_put(). Aborts,
 * as gm_mutex_assert_held() does.
 */
void gm_cpu_assert_pinned(void)
{
	if (gm_this_slot < 0 || gm_pin_depth <= 0) {
		fprintf(stderr, "gomem: CPU slot not pinned by this thread\n");
		abort();
	}
}

/* === the page source: anonymous mappings ================================ */

/*
 * mmap gives page alignment only: map @bytes plus the alignment, trim
 * both ends. Only the bytes the heap uses are mapped.
 */
static uintptr_t user_alloc_block(void *ctx, unsigned int order, size_t bytes)
{
	size_t align = 1UL << (order < GM_ARENA_SHIFT ? order : GM_ARENA_SHIFT);
	size_t len = bytes + align;
	uintptr_t raw, addr;
	char *p;

	if (order >= 47)
		return 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	raw = (uintptr_t)p;
	addr = (raw + align - 1) & ~(align - 1);
	if (addr > raw)
		munmap(p, addr - raw);
	if (addr + bytes < raw + len)
		munmap((void *)(addr + bytes), raw + len - (addr + bytes));
	return addr;
}

static void user_free_block(void *ctx, uintptr_t addr, unsigned int order, size_t bytes)
{
	munmap((void *)addr, bytes);
}

/* Go's sysUnused on Linux. */
static void user_unused(void *ctx, uintptr_t addr, size_t len)
{
	madvise((void *)addr, len, MADV_DONTNEED);
}

const struct gm_pagesrc_ops gm_os_pagesrc = {
	.alloc_block = user_alloc_block,
	.free_block = user_free_block,
	.unused = user_unused,
	.zeroed = true,
	.lazy = true,
};

/**
 * gm_stack_save() - the call stack of a sampled allocation
 * @pcs: where to store it, innermost frame first
 * @max: room in @pcs
 * @skip: innermost frames to leave out (the caller's own)
 * @user: ignored: a program's stack is its user stack
 *
 * glibc's backtrace() unwinds by the binary's unwind tables, so it needs
 * no frame pointers.
 *
 * Return: frames stored.
 */
unsigned int gm_stack_save(uintptr_t *pcs, unsigned int max, unsigned int skip, bool user)
{
	void *buf[GM_PROF_DEPTH + 8];
	int n, i;

	/* This function is a frame too. */
	skip++;
	n = backtrace(buf, (int)min_t(unsigned int, max + skip, ARRAY_SIZE(buf)));
	for (i = skip; i < n; i++)
		pcs[i - skip] = (uintptr_t)buf[i];
	return n > (int)skip ? n - skip : 0;
}
