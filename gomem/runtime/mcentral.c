// SPDX-License-Identifier: GPL-2.0
/*
 * mcentral, as in Go's mcentral.go: the spans of one span class that no
 * mcache holds, in partial and full lists, each in a swept and an unswept
 * half chosen by sweepgen. gomem adds explicit frees: they are recorded
 * under the mcentral lock and take effect when the span is next swept.
 */
#include "malloc.h"

/*
 * Unswept spans an allocation sweeps in search of a free slot before it
 * takes a new span from the heap (Go's spanBudget in cacheSpan).
 */
#define GM_SPAN_BUDGET	100

/* Which half of a list pair holds swept spans flips every cycle (Go). */
static struct gm_span_list *partial_swept(struct gm_mcentral *c, u32 sg)
{
	return &c->partial[gm_swept_half(sg)];
}

static bool span_empty(const struct gm_mspan *s)
{
	return s->alloc_count == s->nfreed;
}

/* Bytes of a span's slots that its mcache may still hand out. */
static s64 unused_bytes(const struct gm_mspan *s)
{
	return (s64)(s->nelems - s->alloc_count) * s->elemsize;
}

/*
 * Bytes of emptied spans a class keeps for good (Go returns them to the
 * heap at once): enough that a class whose objects come and go at a span
 * boundary does not take and return a span over and over, as SLUB keeps
 * min_partial slabs, and that a refill which may not sleep finds one.
 */
#define GM_EMPTY_KEEP_BYTES	(256 * 1024)

static u32 empty_keep(u8 spanclass)
{
	return max_t(u32, 2, GM_EMPTY_KEEP_BYTES / (gm_class_npages(spanclass >> 1) * GM_PAGE_SIZE));
}

static void push_kept(struct gm_mcentral *c, struct gm_mspan *s)
{
	gm_spin_assert_held(&c->lock);
	gm_span_list_push(&c->empty, s);
	c->nempty++;
}

/*
 * A span its frees emptied stays with its class if it is swept (so no
 * cycle's marks are pending in it); otherwise it dies here and the
 * caller releases it (gm_mheap_release_span()). A class keeps every
 * such span while it is busy, so a burst of frees followed by a burst of
 * allocations (a batch) takes no span from the heap; what it has not
 * needed for a second goes back (gm_heap_trim_kept()), and everything at
 * a GC cycle or a flush of every cache. Return: true if @s
 * must be released; *@trim is set when the class keeps more than
 * empty_keep() and the heap must be kicked to trim it.
 */
static bool keep_empty(struct gm_heap *h, struct gm_mcentral *c, struct gm_mspan *s,
		       bool *trim)
{
	gm_spin_assert_held(&c->lock);
	if (READ_ONCE(s->sweepgen) == READ_ONCE(h->sweepgen)) {
		push_kept(c, s);
		*trim = c->nempty > empty_keep(s->spanclass);
		return false;
	}
	/* Dead under the lock: a racing free now sees a dead span. */
	WRITE_ONCE(s->state, GM_SPAN_DEAD);
	return true;
}

static struct gm_mspan *take_kept(struct gm_mcentral *c)
{
	struct gm_mspan *s = c->empty.first;

	gm_spin_assert_held(&c->lock);
	if (s) {
		gm_span_list_remove(s);
		c->nempty--;
		c->nempty_low = min(c->nempty_low, c->nempty);
	}
	return s;
}

/**
 * gm_mcentral_add_large() - publish a new large object's span
 * @h: the heap
 * @s: the span, just allocated and not yet in use (gm_mheap_alloc_span())
 *
 * The object's only slot is taken and the span listed for the sweeper,
 * then it is marked in use, all under the class's lock: a free of the
 * address, which checks the state under that lock, either finds nothing
 * or a span that is whole and on its list.
 */
void gm_mcentral_add_large(struct gm_heap *h, struct gm_mspan *s)
{
	struct gm_mcentral *c = &h->central[s->spanclass];

	gm_spin_lock(&c->lock);
	s->freeindex = 1;
	s->alloc_count = 1;
	s->alloc_cache = 0;
	gm_mcentral_relist(c, s, READ_ONCE(h->sweepgen));
	/* Lockless readers (gm_span_of) check the state last. */
	WRITE_ONCE(s->state, GM_SPAN_IN_USE);
	gm_spin_unlock(&c->lock);
}

/* === tiny blocks ======================================================= */

/* A tiny block whose objects are all freed becomes a free slot. */
static void reclaim_tiny_block(struct gm_heap *h, struct gm_mcentral *c, struct gm_mspan *s,
			       u32 idx)
{
	gm_spin_assert_held(&c->lock);
	s->tiny_alloc[idx] = 0;
	s->tiny_freed[idx] = 0;
	s->tiny_end[idx] = 0;
	gm_bit_set(s->free_bits, idx);
	s->nfreed++;
	c->nfrees++;
	gm_pacer_live_add(h, -(s64)s->elemsize);
}

/*
 * Reclaim every fully freed tiny block of @s but @keep, the block an
 * mcache still packs objects into, and count the frees still pending.
 * Called by the caching CPU, or with no CPU caching @s: no local tiny
 * free runs meanwhile.
 */
static void reclaim_tiny(struct gm_heap *h, struct gm_mcentral *c, struct gm_mspan *s,
			 uintptr_t keep)
{
	u32 i, pending = 0;

	gm_spin_assert_held(&c->lock);
	if (!s->tiny_alloc || (!s->tiny_pending && !s->tiny_local))
		return;
	for (i = 0; i < s->nelems; i++) {
		if (s->tiny_alloc[i] && s->tiny_alloc[i] == s->tiny_freed[i] &&
		    s->start + (uintptr_t)i * s->elemsize != keep)
			reclaim_tiny_block(h, c, s, i);
		else
			pending += gm_popcount64(s->tiny_freed[i]);
	}
	s->tiny_pending = pending;
	s->tiny_local = 0;
}

/**
 * gm_mcentral_init() - an mcentral with empty lists
 * @c: the mcentral
 */
void gm_mcentral_init(struct gm_mcentral *c)
{
	memset(c, 0, sizeof(*c));
	gm_spin_init(&c->lock);
}

/* === between mcentral and mcache ======================================= */

/*
 * A span leaves the lists for an mcache: mark it cached (Go's sg + 3) and
 * make its free slots allocatable. Its unused slots count as live from
 * now on, as in Go: the pacer sees what mcaches may hand out without
 * telling anyone.
 */
static void take_for_cache(struct gm_heap *h, struct gm_mspan *s)
{
	gm_spin_assert_held(&h->central[s->spanclass].lock);
	s->cached = true;
	gm_atomic_store_u32(&s->sweepgen, READ_ONCE(h->sweepgen) + 3);
	/* Slots freed explicitly may be the only free ones: make them allocatable. */
	gm_span_sweep_free_bits(s);
	gm_pacer_live_add(h, unused_bytes(s));
}

/*
 * Go's cacheSpan sweeping: before the heap grows, unswept spans of the
 * class are swept, and the first with a free slot is taken. At most
 * @budget spans are swept, so an allocation does not pay for a whole
 * class of full spans.
 */
static struct gm_mspan *sweep_for_cache(struct gm_heap *h, struct gm_mcentral *c, int budget)
{
	u32 sg = READ_ONCE(h->sweepgen);
	struct gm_span_list *lists[2] = {
		&c->partial[!gm_swept_half(sg)], &c->full[!gm_swept_half(sg)],
	};
	struct gm_mspan *s;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		for (; budget > 0; budget--) {
			gm_spin_lock(&c->lock);
			s = lists[i]->first;
			if (!s) {
				gm_spin_unlock(&c->lock);
				break;
			}
			gm_span_list_remove(s);
			if (GM_WARN_ON_ONCE(!gm_sweep_claim(h, s))) {
				gm_mcentral_relist(c, s, READ_ONCE(h->sweepgen));
				gm_spin_unlock(&c->lock);
				continue;
			}
			/* An empty span is kept for the cache (Go's preserve). */
			if (gm_sweep_span(h, s))
				WRITE_ONCE(s->state, GM_SPAN_IN_USE);
			gm_gc_count(&h->gc, GM_GC_SWEPT_LAZY_PAGES, s->npages);
			if (s->alloc_count < s->nelems) {
				take_for_cache(h, s);
				gm_spin_unlock(&c->lock);
				return s;
			}
			gm_mcentral_relist(c, s, READ_ONCE(h->sweepgen));
			gm_spin_unlock(&c->lock);
		}
	}
	return NULL;
}

/* A swept span with a free slot, or a kept empty one, if the class has one. */
static struct gm_mspan *take_swept(struct gm_heap *h, struct gm_mcentral *c)
{
	struct gm_mspan *s;

	gm_spin_lock(&c->lock);
	s = partial_swept(c, h->sweepgen)->first;
	if (s)
		gm_span_list_remove(s);
	else
		s = take_kept(c);
	if (s)
		take_for_cache(h, s);
	gm_spin_unlock(&c->lock);
	return s;
}

/**
 * gm_mcentral_cache_span() - a span with a free slot for an mcache
 * @h: the heap
 * @spanclass: the span class
 * @nosleep: the caller may not sleep (it may have the CPU pinned)
 *
 * Swept partial spans first, then kept empty ones, then unswept ones
 * swept here, then a new span from the heap (Go's cacheSpan). The heap
 * may sleep: without it, the class asks gm_heap_fill_spares() for a span
 * and NULL is returned. Call without the CPU pinned unless @nosleep.
 *
 * Return: the span, marked cached, or NULL if memory ran out.
 */
struct gm_mspan *gm_mcentral_cache_span(struct gm_heap *h, u8 spanclass, bool nosleep)
{
	struct gm_mcentral *c = &h->central[spanclass];
	u8 sizeclass = spanclass >> 1;
	struct gm_mspan *s;

	s = take_swept(h, c);
	if (s)
		return s;
	s = sweep_for_cache(h, c, GM_SPAN_BUDGET);
	if (s)
		return s;
	if (nosleep) {
		WRITE_ONCE(c->want_spare, true);
		gm_gc_count(&h->gc, GM_GC_NOSLEEP_MISSES, 1);
		gm_heap_kick(h, GM_KICK_NOW);
		return NULL;
	}

	/* Go's cacheSpan deducts the span's sweep credit (deductSweepCredit). */
	gm_sweep_deduct_credit(h, gm_class_npages(sizeclass));
	s = gm_mheap_alloc_span(h, gm_class_npages(sizeclass), spanclass);
	if (!s)
		return NULL;
	gm_spin_lock(&c->lock);
	take_for_cache(h, s);
	gm_spin_unlock(&c->lock);
	return s;
}

/* Up to @n kept spans of @c, dead now, onto @out. */
static void take_dead(struct gm_mcentral *c, u32 n, struct gm_span_list *out)
{
	struct gm_mspan *s;
	u32 i;

	gm_spin_assert_held(&c->lock);
	for (i = 0; i < n && (s = take_kept(c)); i++) {
		WRITE_ONCE(s->state, GM_SPAN_DEAD);
		gm_span_list_push(out, s);
	}
}

/* Kept spans taken by take_dead() go back to the heap. May sleep. */
static void free_dead(struct gm_heap *h, struct gm_span_list *dead)
{
	struct gm_mspan *s;

	while ((s = dead->first)) {
		gm_span_list_remove(s);
		gm_mheap_free_span(h, s);
		gm_gc_count(&h->gc, GM_GC_KEPT_RELEASED_SPANS, 1);
	}
}

/**
 * gm_mcentral_release_kept() - give every class's kept empty spans back
 * @h: the heap
 *
 * Before a GC cycle marks (a kept span must not carry a cycle's stale
 * sweepgen) and at a flush of every cache: memory the classes hold goes
 * back to the heap, and from there to the system at the scavenger's
 * pace. May sleep.
 */
void gm_mcentral_release_kept(struct gm_heap *h)
{
	struct gm_span_list dead = { 0 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(h->central); i++) {
		struct gm_mcentral *c = &h->central[i];

		if (!READ_ONCE(c->nempty))
			continue;
		gm_spin_lock(&c->lock);
		take_dead(c, c->nempty, &dead);
		gm_spin_unlock(&c->lock);
	}
	free_dead(h, &dead);
}

/**
 * gm_heap_trim_kept() - give back the kept spans no one needed lately
 * @h: the heap
 *
 * Each class keeps the fewest spans it held since the last call, above
 * empty_keep(), for nothing: those go back to the heap (a decay of one
 * period, as jemalloc decays dirty pages and TCMalloc reclaims idle
 * per-CPU caches). A class in use keeps what it cycles through. The
 * kernel runs it about once a second while a class keeps more than
 * empty_keep() spans. May sleep.
 *
 * Return: true if a class still keeps more than empty_keep() spans.
 */
bool gm_heap_trim_kept(struct gm_heap *h)
{
	struct gm_span_list dead = { 0 };
	bool more = false;
	size_t i;

	/* Span classes 0 and 1 are large objects': they keep nothing. */
	for (i = 2; i < ARRAY_SIZE(h->central); i++) {
		struct gm_mcentral *c = &h->central[i];
		u32 keep, idle;

		if (!READ_ONCE(c->nempty))
			continue;
		keep = empty_keep(i);
		gm_spin_lock(&c->lock);
		idle = min(c->nempty_low, c->nempty);
		if (idle > keep)
			take_dead(c, idle - keep, &dead);
		c->nempty_low = c->nempty;
		more |= c->nempty > keep;
		gm_spin_unlock(&c->lock);
	}
	free_dead(h, &dead);
	return more;
}

/**
 * gm_heap_fill_spares() - a kept span for each class a refill found empty
 * @h: the heap
 *
 * The non-sleeping refill (gm_mcentral_cache_span() with @nosleep) takes
 * only what a class holds; when it found nothing, this puts a new span
 * on the class's kept list, so that the next caller that may not sleep
 * is served. Also frees the spans left for the heap lock. May sleep: the
 * kernel runs it from a work item when the heap kicks it.
 */
void gm_heap_fill_spares(struct gm_heap *h)
{
	size_t i;

	gm_heap_drain_deferred(h);
	for (i = 0; i < ARRAY_SIZE(h->central); i++) {
		struct gm_mcentral *c = &h->central[i];
		struct gm_mspan *s;

		if (!READ_ONCE(c->want_spare))
			continue;
		WRITE_ONCE(c->want_spare, false);
		s = gm_mheap_alloc_span(h, gm_class_npages(i >> 1), i);
		if (!s)
			continue;
		gm_spin_lock(&c->lock);
		gm_atomic_store_u32(&s->sweepgen, READ_ONCE(h->sweepgen));
		push_kept(c, s);
		gm_spin_unlock(&c->lock);
		gm_gc_count(&h->gc, GM_GC_SPARE_SPANS, 1);
	}
}

/**
 * gm_mcentral_uncache_span() - take a span back from an mcache
 * @h: the heap
 * @s: a span the caller's mcache no longer points to
 *
 * A span whose objects are all freed stays with its class (keep_empty())
 * or goes back to the heap, deferred if the caller may not sleep.
 */
void gm_mcentral_uncache_span(struct gm_heap *h, struct gm_mspan *s)
{
	struct gm_mcentral *c = &h->central[s->spanclass];
	bool release = false, trim = false;

	gm_spin_lock(&c->lock);
	/* The mcache that held it frees locally no more: its frees are ours. */
	gm_span_fold_local_frees(s);
	s->cached = false;
	gm_atomic_store_u32(&s->sweepgen, READ_ONCE(h->sweepgen));
	/* The mcache retired its tiny block before letting the span go. */
	reclaim_tiny(h, c, s, 0);
	gm_pacer_live_add(h, -unused_bytes(s));
	if (span_empty(s))
		release = keep_empty(h, c, s, &trim);
	else
		gm_mcentral_relist(c, s, READ_ONCE(h->sweepgen));
	gm_spin_unlock(&c->lock);
	if (trim)
		gm_heap_kick(h, GM_KICK_TRIM);
	if (release)
		gm_mheap_release_span(h, s);
}

/**
 * gm_mcentral_sweep_frees() - let an mcache reuse the freed slots of its span
 * @h: the heap
 * @s: a span the caller's mcache holds, with freeindex at nelems; the
 *	slots the CPU freed locally are swept too (the caller empties its
 *	local list of them)
 * @tiny: the caller's current tiny block, which stays allocated
 *
 * Return: true if slots were freed and the span has room again.
 */
bool gm_mcentral_sweep_frees(struct gm_heap *h, struct gm_mspan *s, uintptr_t tiny)
{
	struct gm_mcentral *c = &h->central[s->spanclass];
	u32 n;

	if (!READ_ONCE(s->nfreed) && !READ_ONCE(s->tiny_pending) && !s->nlocal &&
	    !s->tiny_local)
		return false;
	gm_spin_lock(&c->lock);
	gm_span_fold_local_frees(s);
	reclaim_tiny(h, c, s, tiny);
	n = gm_span_sweep_free_bits(s);
	/* The slots are the cache's to hand out again (see take_for_cache()). */
	gm_pacer_live_add(h, (s64)n * s->elemsize);
	gm_spin_unlock(&c->lock);
	return n;
}

/* === explicit free ===================================================== */

/*
 * After a free in a span no mcache holds: an empty span is kept by its
 * class or leaves for the heap (see keep_empty()); a full span with its
 * first free slot becomes partial.
 */
static bool relist_after_free(struct gm_heap *h, struct gm_mcentral *c,
			      struct gm_mspan *s, bool *trim)
{
	struct gm_span_list *l = s->list;

	gm_spin_assert_held(&c->lock);
	if (span_empty(s)) {
		gm_span_list_remove(s);
		return keep_empty(h, c, s, trim);
	}
	if (l == &c->full[0] || l == &c->full[1]) {
		gm_span_list_remove(s);
		gm_span_list_push(&c->partial[l - c->full], s);
	}
	return false;
}

/*
 * Whether the pacer counts a live slot in heap_live: not if the last mark
 * found it dead and its span is not swept yet (the cycle already left it
 * out).
 */
static bool counted_live(struct gm_heap *h, struct gm_mspan *s, u32 idx)
{
	return READ_ONCE(s->sweepgen) != READ_ONCE(h->sweepgen) - 2 ||
	       gm_bit_test(s->gcmark_bits, idx);
}

/*
 * A tiny object: @off must be where one starts in block @idx and it must
 * not be freed already. The block becomes a free slot once all its objects
 * are freed, here if no mcache holds the span (so none packs into it),
 * otherwise when its mcache sweeps or lets go of the span.
 */
static int free_tiny(struct gm_heap *h, struct gm_mcentral *c, struct gm_mspan *s,
		     u32 idx, uintptr_t off, bool *release, bool *trim)
{
	gm_spin_assert_held(&c->lock);
	if (!gm_span_tiny_set_freed(s, idx, 1U << off))
		return -EINVAL;
	gm_free_hook(h, s, s->start + (uintptr_t)idx * s->elemsize + off);
	s->tiny_pending++;
	c->tiny_frees++;
	if (!s->cached && s->tiny_freed[idx] == s->tiny_alloc[idx]) {
		s->tiny_pending -= gm_popcount64(s->tiny_freed[idx]);
		reclaim_tiny_block(h, c, s, idx);
		*release = relist_after_free(h, c, s, trim);
	}
	return 0;
}

/*
 * The allocated slot of @s that holds @p, checked under the class's lock:
 * spans of a class die under it, so a span still in use, of this class and
 * holding @p is the one gm_span_of() would find now (two in-use spans
 * never share a page).
 */
static bool live_slot(const struct gm_mspan *s, u8 spanclass, uintptr_t p, u32 *idx)
{
	if (READ_ONCE(s->state) != GM_SPAN_IN_USE || s->spanclass != spanclass ||
	    p - s->start >= s->npages * GM_PAGE_SIZE)
		return false;
	*idx = gm_span_obj_index(s, p);
	return *idx < s->nelems && gm_span_slot_allocated(s, *idx);
}

/**
 * gm_mcentral_free_object() - free one small object explicitly
 * @h: the heap
 * @s: the span gm_span_of() found for @p, without a lock
 * @p: the address to free
 *
 * Everything is checked again under the class's lock, because the span
 * may have been freed, or its structure reused for other pages, since the
 * lockless lookup. The freed slot becomes allocatable at the span's next sweep
 * (when its mcache exhausts it, or when an mcache takes it again).
 *
 * Return: 0, or -EINVAL if @p is not the base of a live object of @s
 * (for a tiny block: the start of one of its live tiny objects).
 */
int gm_mcentral_free_object(struct gm_heap *h, struct gm_mspan *s, uintptr_t p)
{
	u8 spanclass = READ_ONCE(s->spanclass);
	struct gm_mcentral *c = &h->central[spanclass];
	bool release = false, trim = false;
	int ret = -EINVAL;
	s64 live = 0;
	u32 idx;

	gm_spin_lock(&c->lock);
	if (!live_slot(s, spanclass, p, &idx))
		goto out;
	if (s->tiny_alloc && READ_ONCE(s->tiny_alloc[idx])) {
		ret = free_tiny(h, c, s, idx, p - s->start - (uintptr_t)idx * s->elemsize,
				&release, &trim);
		goto out;
	}
	if (s->start + (uintptr_t)idx * s->elemsize != p)
		goto out;
	/* Before the slot can be swept and reused by another CPU. */
	gm_free_hook(h, s, p);
	if (counted_live(h, s, idx))
		live = -(s64)s->elemsize;
	gm_bit_set(s->free_bits, idx);
	gm_bit_clear(s->root_bits, idx);
	s->nfreed++;
	c->nfrees++;
	if (!s->cached)
		release = relist_after_free(h, c, s, &trim);
	ret = 0;
out:
	gm_spin_unlock(&c->lock);
	/* Into this CPU's batch, not the heap-wide counter (nothing shared per object). */
	if (live) {
		struct gm_mcache *mc = gm_percpu_ptr(h->caches, gm_cpu_get());

		gm_mcache_live_add(h, mc, live);
		gm_cpu_put();
	}
	if (trim)
		gm_heap_kick(h, GM_KICK_TRIM);
	if (release)
		gm_mheap_release_span(h, s);
	return ret;
}

/*
 * One batched free, under its class's lock: the slot becomes an ordinary
 * explicit free, as in gm_mcentral_free_object(), whose accounting the
 * freeing CPU did already. Its pend bit stays until the free bits are
 * swept (gm_span_sweep_free_bits() clears both). A span that died or
 * changed class since (only a free racing with another free of the same
 * object can do that) takes nothing. Return: true if @s must be released.
 */
static bool apply_one(struct gm_heap *h, struct gm_mcentral *c,
		      const struct gm_batched_free *e, bool *trim)
{
	struct gm_mspan *s = e->s;
	u32 idx = e->idx;

	gm_spin_assert_held(&c->lock);
	if (READ_ONCE(s->state) != GM_SPAN_IN_USE || s->spanclass != e->spanclass ||
	    idx >= s->nelems || !gm_span_slot_pending(s, idx))
		return false;
	gm_bit_set(s->free_bits, idx);
	gm_bit_clear(s->root_bits, idx);
	s->nfreed++;
	return !s->cached && relist_after_free(h, c, s, trim);
}

/**
 * gm_mcentral_apply_batch() - apply a CPU's batch of frees
 * @h: the heap
 * @c: the CPU's mcache: CPU pinned (lock order: CPU, then mcentral), or
 *	its CPU quiescent; its batch is empty afterwards
 * @dead: emptied spans that must go back to the heap are added here, for
 *	gm_mcentral_release_dead() once the CPU is let go
 *
 * Each class's lock is taken once per run of frees of that class. Works
 * on the mcache's own array: the free path's stack holds no copy (a
 * kernel built with INIT_STACK_ALL_ZERO would clear it on every free).
 */
void gm_mcentral_apply_batch(struct gm_heap *h, struct gm_mcache *c,
			     struct gm_span_list *dead)
{
	struct gm_mcentral *mc = NULL;
	bool trim = false;
	u32 i;

	for (i = 0; i < c->nbatch; i++) {
		const struct gm_batched_free *e = &c->batch[i];

		if (mc != &h->central[e->spanclass]) {
			if (mc)
				gm_spin_unlock(&mc->lock);
			mc = &h->central[e->spanclass];
			gm_spin_lock(&mc->lock);
		}
		if (apply_one(h, mc, e, &trim))
			gm_span_list_push(dead, e->s);
	}
	if (mc)
		gm_spin_unlock(&mc->lock);
	if (c->nbatch)
		gm_gc_count(&h->gc, GM_GC_FREE_BATCHES, 1);
	c->nbatch = 0;
	if (trim)
		gm_heap_kick(h, GM_KICK_TRIM);
}

/**
 * gm_mcentral_release_dead() - give back the spans a batch emptied
 * @h: the heap
 * @dead: spans gm_mcentral_apply_batch() declared dead
 *
 * Call with the CPU let go: a caller that may sleep frees them now.
 */
void gm_mcentral_release_dead(struct gm_heap *h, struct gm_span_list *dead)
{
	struct gm_mspan *s;

	while ((s = dead->first)) {
		gm_span_list_remove(s);
		gm_mheap_release_span(h, s);
	}
}

/*
 * Bytes from @off to the next tiny object of block @idx; for the last one
 * so far, to its own end: a later object may still be packed after it.
 */
static size_t tiny_usable(const struct gm_mspan *s, u32 idx, u32 off)
{
	u32 end = READ_ONCE(s->tiny_end[idx]) >> off;

	/* Objects do not overlap: the first end at or after @off is its own. */
	return end ? (size_t)gm_ctz64(end) + 1 : 0;
}

/**
 * gm_mcentral_usable_size() - the size of a live small object, by its base
 * @h: the heap
 * @s: the span gm_span_of() found for @p, without a lock
 * @p: the address
 *
 * Checked under the class's lock, as gm_mcentral_free_object() checks.
 * A tiny object's size is its own bytes: later ones are packed right
 * after it, so the size must not grow with the padding before them.
 *
 * Return: the bytes at @p that belong to its object, or 0 if @p is not
 * the base of a live object of @s.
 */
size_t gm_mcentral_usable_size(struct gm_heap *h, struct gm_mspan *s, uintptr_t p)
{
	u8 spanclass = READ_ONCE(s->spanclass);
	struct gm_mcentral *c = &h->central[spanclass];
	size_t ret = 0;
	u32 idx, off;

	gm_spin_lock(&c->lock);
	if (!live_slot(s, spanclass, p, &idx))
		goto out;
	off = p - s->start - (uintptr_t)idx * s->elemsize;
	if (s->tiny_alloc && READ_ONCE(s->tiny_alloc[idx])) {
		if ((s->tiny_alloc[idx] & ~s->tiny_freed[idx]) >> off & 1)
			ret = tiny_usable(s, idx, off);
	} else if (!off) {
		ret = s->elemsize;
	}
out:
	gm_spin_unlock(&c->lock);
	return ret;
}

/*
 * The span of a large object at @p, checked under its class's lock (which
 * the caller holds): spans die under it, and a live large span of this
 * class starting at @p is the one gm_span_of() finds now.
 */
static bool large_at(struct gm_mspan *s, u8 spanclass, uintptr_t p)
{
	return READ_ONCE(s->state) == GM_SPAN_IN_USE && s->spanclass == spanclass &&
	       !(spanclass >> 1) && s->start == p;
}

/**
 * gm_mcentral_free_large() - free a large object explicitly
 * @h: the heap
 * @s: the span gm_span_of() found for @p, without a lock
 * @p: the address to free
 *
 * Return: 0, or -EINVAL if @p is not the base of a live large object.
 */
int gm_mcentral_free_large(struct gm_heap *h, struct gm_mspan *s, uintptr_t p)
{
	u8 spanclass = READ_ONCE(s->spanclass);
	struct gm_mcentral *c = &h->central[spanclass];
	bool live;

	if (spanclass >> 1)
		return -EINVAL;
	gm_spin_lock(&c->lock);
	if (!large_at(s, spanclass, p)) {
		gm_spin_unlock(&c->lock);
		return -EINVAL;
	}
	live = counted_live(h, s, 0);
	/* Off the sweeper's lists and dead before anyone else can see it. */
	gm_span_list_remove(s);
	WRITE_ONCE(s->state, GM_SPAN_DEAD);
	gm_spin_unlock(&c->lock);
	gm_free_hook(h, s, p);
	if (live)
		gm_pacer_live_add(h, -(s64)(s->npages * GM_PAGE_SIZE));
	gm_mheap_release_span(h, s);
	return 0;
}

/**
 * gm_mcentral_set_root() - make an object a root of the collector, or not
 * @h: the heap
 * @s: the span gm_span_of() found for @p, without a lock
 * @p: the object's base address
 * @root: set or clear its root bit
 *
 * Tiny objects cannot be roots: their block is shared.
 *
 * Return: 0, -EINVAL if @p is not the base of a live object that is not
 * tiny, -EEXIST if it is a root already, -ENOENT if it is not one.
 */
int gm_mcentral_set_root(struct gm_heap *h, struct gm_mspan *s, uintptr_t p, bool root)
{
	u8 spanclass = READ_ONCE(s->spanclass);
	struct gm_mcentral *c = &h->central[spanclass];
	int ret = -EINVAL;
	u32 idx = 0;

	gm_spin_lock(&c->lock);
	if (!(spanclass >> 1)) {
		if (!large_at(s, spanclass, p))
			goto out;
	} else {
		if (!live_slot(s, spanclass, p, &idx) ||
		    s->start + (uintptr_t)idx * s->elemsize != p ||
		    (s->tiny_alloc && READ_ONCE(s->tiny_alloc[idx])))
			goto out;
	}
	if (gm_bit_test(s->root_bits, idx) == root) {
		ret = root ? -EEXIST : -ENOENT;
		goto out;
	}
	if (root)
		gm_bit_set(s->root_bits, idx);
	else
		gm_bit_clear(s->root_bits, idx);
	ret = 0;
out:
	gm_spin_unlock(&c->lock);
	return ret;
}
