/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mcentral, as in Go's mcentral.go: the spans of one span class that
 * no mcache holds, and the explicit frees gomem adds to it.
 */
#ifndef _GOMEM_MCENTRAL_H
#define _GOMEM_MCENTRAL_H

#include "mheap.h"

/**
 * struct gm_mcentral - the spans of one span class (Go's mcentral)
 * @lock: protects the lists, and every span's free bits and nfreed
 * @partial: spans with free slots, [sweepgen/2 % 2] swept, the other not
 * @full: spans without free slots, indexed the same way
 * @empty: swept spans whose objects were all freed, kept for the next
 *	refill (see keep_empty() in mcentral.c)
 * @nempty: spans on @empty
 * @nempty_low: the fewest spans @empty held since the last trim
 * @want_spare: a refill that could not sleep found no span; the next
 *	gm_heap_fill_spares() puts one on @empty
 * @nfrees: explicit frees of objects of this class
 * @tiny_frees: tiny objects freed (tiny span class only)
 *
 * Each on its own cache line: CPUs allocating different classes must not
 * share one.
 */
struct gm_mcentral {
	struct gm_spinlock lock;
	struct gm_span_list partial[2];
	struct gm_span_list full[2];
	struct gm_span_list empty;
	u32 nempty;
	u32 nempty_low;
	bool want_spare;
	u64 nfrees;
	u64 tiny_frees;
} ____cacheline_aligned;

/* The half of an mcentral's list pairs that holds swept spans at @sg. */
static inline unsigned int gm_swept_half(u32 sg)
{
	return sg / 2 % 2;
}

/*
 * Whether an mcache could allocate from @s: by its count, not by
 * freeindex, which a sweep resets to 0 while leaving the slots above it
 * allocated.
 */
static inline bool gm_span_has_free_slot(const struct gm_mspan *s)
{
	return s->alloc_count < s->nelems || s->nfreed;
}

/**
 * gm_mcentral_relist() - put a swept span on its class's swept lists
 * @c: the span's mcentral, whose lock the caller holds
 * @s: a swept span on no list
 * @sg: the heap's sweepgen
 *
 * Large objects' spans stay on the full list, where the sweeper finds
 * them (Go keeps them in fullSwept for the same reason). Inline, as Go's
 * partialSwept/fullSwept are methods of the mcentral: the sweeper
 * (mgcsweep.c) relists what it swept without calling back into
 * mcentral.c, which calls the sweeper.
 */
static inline void gm_mcentral_relist(struct gm_mcentral *c, struct gm_mspan *s, u32 sg)
{
	gm_spin_assert_held(&c->lock);
	if ((s->spanclass >> 1) && gm_span_has_free_slot(s))
		gm_span_list_push(&c->partial[gm_swept_half(sg)], s);
	else
		gm_span_list_push(&c->full[gm_swept_half(sg)], s);
}

void gm_mcentral_init(struct gm_mcentral *c);
void gm_mcentral_add_large(struct gm_heap *h, struct gm_mspan *s);
struct gm_mspan *gm_mcentral_cache_span(struct gm_heap *h, u8 spanclass, bool nosleep);
void gm_mcentral_release_kept(struct gm_heap *h);
void gm_mcentral_uncache_span(struct gm_heap *h, struct gm_mspan *s);
bool gm_mcentral_sweep_frees(struct gm_heap *h, struct gm_mspan *s, uintptr_t tiny);
int gm_mcentral_free_object(struct gm_heap *h, struct gm_mspan *s, uintptr_t p);
struct gm_mcache;
void gm_mcentral_apply_batch(struct gm_heap *h, struct gm_mcache *c,
			     struct gm_span_list *dead);
void gm_mcentral_release_dead(struct gm_heap *h, struct gm_span_list *dead);
int gm_mcentral_free_large(struct gm_heap *h, struct gm_mspan *s, uintptr_t p);
int gm_mcentral_set_root(struct gm_heap *h, struct gm_mspan *s, uintptr_t p, bool root);
size_t gm_mcentral_usable_size(struct gm_heap *h, struct gm_mspan *s, uintptr_t p);

#endif /* _GOMEM_MCENTRAL_H */
