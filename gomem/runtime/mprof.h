/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Heap profiling, as in Go's mprof.go and the sampling of malloc.go: one
 * allocation in MemProfileRate bytes on average is sampled, at intervals
 * drawn from an exponential distribution; a sampled object's call stack
 * names a bucket that counts its allocations and frees.
 */
#ifndef _GOMEM_MPROF_H
#define _GOMEM_MPROF_H

#include "runtime.h"

struct gm_heap;
struct gm_mspan;
struct gm_mprof_bucket;
struct gm_mprof_obj;

/*
 * A cache slot with the rate at 0 still takes the slow path once in this
 * many bytes, so that a rate set while its reset was lost (see
 * gm_heap_set_profile_rate()) is picked up in bounded time.
 */
#define GM_MPROF_OFF_RECHECK	(16LL << 20)

/*
 * Bounds of a heap's profile, which is metadata charged to its owner:
 * at most GM_MPROF_MAX_BUCKETS stacks (each up to GM_PROF_DEPTH frames,
 * about 300 bytes) and GM_MPROF_MAX_OBJS entries of the table of live
 * sampled objects (24 bytes each, three quarters usable). Samples beyond
 * are dropped and counted.
 */
#define GM_MPROF_MAX_BUCKETS	4096
#define GM_MPROF_MAX_OBJS	32768
#define GM_MPROF_HASH_BITS	10

/**
 * struct gm_mprof_cache - one cache slot's sampling state (Go's nextSample)
 * @next_sample: bytes left to allocate before the next sample; the fast
 *	path subtracts each allocation's size and samples when it goes below 0
 * @rand: the slot's random state for the next interval
 */
struct gm_mprof_cache {
	s64 next_sample;
	u64 rand;
};

/**
 * struct gm_mprof - a heap's profile
 * @lock: protects everything below but @rate; a leaf lock (taken with the
 *	CPU pinned or under an mcentral lock, by frees in any context)
 * @rate: bytes per sample on average (Go's MemProfileRate); 0: off,
 *	1: every allocation. Read without the lock.
 * @user_stacks: record the user stack of the allocating thread, not the
 *	kernel's (a /dev/gomem heap)
 * @rand: the state for intervals drawn by gm_heap_set_profile_rate()
 * @hash: buckets by stack hash, GM_MPROF_HASH_BITS of heads; NULL until
 *	the first bucket
 * @nbuckets: buckets in @hash
 * @objs: live sampled objects, open addressing on the address
 * @objs_cap: entries of @objs (a power of two, or 0)
 * @nobjs: entries in use
 * @dropped: samples not recorded: no memory, a bound reached, or a bucket
 *	needed where memory cannot be allocated
 * @meta_bytes: bytes of metadata the profile holds
 */
struct gm_mprof {
	struct gm_spinlock lock;
	u64 rate;
	bool user_stacks;
	u64 rand;
	struct gm_mprof_bucket **hash;
	u32 nbuckets;
	struct gm_mprof_obj *objs;
	u32 objs_cap;
	u32 nobjs;
	u64 dropped;
	u64 meta_bytes;
};

void gm_mprof_init(struct gm_heap *h);
void gm_mprof_destroy(struct gm_heap *h);
void gm_mprof_cache_init(struct gm_heap *h, struct gm_mprof_cache *pc, unsigned int slot);
bool gm_mprof_rearm(struct gm_heap *h, struct gm_mprof_cache *pc);
void gm_mprof_sample(struct gm_heap *h, struct gm_mspan *s, uintptr_t p, size_t size,
		     bool nosleep);
void gm_mprof_free(struct gm_heap *h, struct gm_mspan *s, uintptr_t p);
void gm_mprof_free_span(struct gm_heap *h, struct gm_mspan *s, const u64 *keep);

/**
 * gm_mprof_tick() - count an allocation against the slot's sampling interval
 * @h: the heap
 * @pc: the slot's state, CPU pinned
 * @size: the allocation's bytes
 *
 * The fast path's whole cost of profiling: one subtraction and a branch.
 *
 * Return: true if the allocation is to be sampled (gm_mprof_sample(),
 * after the CPU is let go).
 */
static __always_inline bool gm_mprof_tick(struct gm_heap *h, struct gm_mprof_cache *pc,
					  size_t size)
{
	pc->next_sample -= (s64)size;
	if (likely(pc->next_sample >= 0))
		return false;
	return gm_mprof_rearm(h, pc);
}

#endif /* _GOMEM_MPROF_H */
