// SPDX-License-Identifier: GPL-2.0
/*
 * Sweeping, after Go's mgcsweep.go. A mark leaves each span's gcmark bits
 * saying which of its objects are reachable; sweeping a span makes those
 * bits its alloc bits, so every other slot is free, and gives an empty
 * span (or a dead large object) back to the page heap.
 *
 * A span's sweepgen, against the heap's sg, says where it stands, as in
 * Go:
 *   sg - 2  needs sweeping (every span when a cycle ends: sg += 2)
 *   sg - 1  being swept by whoever claimed it (compare-and-swap)
 *   sg      swept, in an mcentral list (large objects too)
 *   sg + 3  swept and held by an mcache
 * Go's sg + 1 (cached before being swept) does not occur: a cycle flushes
 * every mcache, and an mcache takes only swept spans.
 *
 * Three sweepers take spans from the mcentrals' unswept lists: an
 * allocation that needs a span of its class (mcentral.c, Go's cacheSpan),
 * an allocation paying sweep credit for the pages it takes (Go's
 * deductSweepCredit, which mcentral.c and malloc.c call before they take
 * a span from the heap), and the background sweeper (Go's bgsweep), which
 * the environment runs. A cycle first finishes what they left (sweep
 * termination), so the mark always sees swept spans.
 *
 * Explicit frees (a gomem addition) meet the sweeper under the mcentral
 * lock: a span is popped, swept and relisted within one hold of it, so a
 * free sees it either unswept, with the free recorded in free_bits for
 * the sweep to honour, or swept.
 */
#include "malloc.h"

/**
 * gm_sweep_claim() - claim a span for sweeping (sg - 2 -> sg - 1)
 * @h: the heap
 * @s: the span
 *
 * Return: true if the caller now owns the sweep of @s.
 */
bool gm_sweep_claim(struct gm_heap *h, struct gm_mspan *s)
{
	u32 sg = READ_ONCE(h->sweepgen);

	return READ_ONCE(s->sweepgen) == sg - 2 &&
	       gm_atomic_cas_u32(&s->sweepgen, sg - 2, sg - 1);
}

/*
 * Tiny blocks: one that is unmarked, or whose objects were all freed
 * explicitly, becomes a free slot; its live tiny objects count as freed.
 * A marked block keeps all its objects, reachable or not, as in Go.
 */
static void sweep_tiny(struct gm_mcentral *c, struct gm_mspan *s)
{
	u32 i;

	for (i = 0; i < s->nelems; i++) {
		u32 alloc = s->tiny_alloc[i], freed = s->tiny_freed[i];

		if (!alloc)
			continue;
		if (gm_bit_test(s->gcmark_bits, i) && alloc != freed)
			continue;
		c->tiny_frees += gm_popcount64(alloc & ~freed);
		s->tiny_pending -= gm_popcount64(freed);
		s->tiny_alloc[i] = 0;
		s->tiny_freed[i] = 0;
		s->tiny_end[i] = 0;
		gm_bit_clear(s->gcmark_bits, i);
	}
}

/*
 * Go's mspan.sweep for a small span: allocBits <- gcmarkBits, fresh mark
 * bits, freeindex 0 and allocCache reloaded. An explicitly freed slot is
 * free even if the mark found it (it was freed after the mark). Returns
 * the objects freed.
 */
static u32 sweep_small(struct gm_heap *h, struct gm_mcentral *c, struct gm_mspan *s)
{
	u32 before = s->alloc_count - s->nfreed, live = 0, freed, w;

	/* The objects the mark did not find die here. */
	gm_free_hook_span(h, s, s->gcmark_bits);
	if (s->tiny_alloc)
		sweep_tiny(c, s);
	for (w = 0; w < s->bitmap_words; w++) {
		s->alloc_bits[w] = s->gcmark_bits[w] & ~s->free_bits[w];
		s->root_bits[w] &= s->alloc_bits[w];
		/* Every batch was applied before the mark: pend bits are frees. */
		gm_span_clear_pend(s, w, ~0ULL);
		s->free_bits[w] = 0;
		s->gcmark_bits[w] = 0;
		live += gm_popcount64(s->alloc_bits[w]);
	}
	freed = before - live;
	/* Freed slots hold old data: objects asked for zeroed need clearing. */
	if (freed || s->nfreed)
		s->needzero = true;
	s->alloc_count = live;
	s->nfreed = 0;
	s->freeindex = 0;
	gm_span_refill_alloc_cache(s, 0);
	c->nfrees += freed;
	gm_gc_count(&h->gc, GM_GC_FREED_OBJECTS, freed);
	gm_gc_count(&h->gc, GM_GC_FREED_BYTES, (u64)freed * s->elemsize);
	return freed;
}

/**
 * gm_sweep_span() - sweep a claimed span
 * @h: the heap
 * @s: a span the caller claimed (gm_sweep_claim()) and took off its list,
 *	under its mcentral's lock, which the caller holds
 *
 * A large object's span keeps its object if the mark found it.
 *
 * Return: true if nothing in @s survived: it is dead now and the caller
 * must pass it to gm_sweep_release() after dropping the lock (or reuse
 * it, if small); false if it is swept (sweepgen == sg) and must be
 * relisted or cached.
 */
bool gm_sweep_span(struct gm_heap *h, struct gm_mspan *s)
{
	bool empty;

	gm_spin_assert_held(&h->central[s->spanclass].lock);
	if (s->spanclass >> 1) {
		sweep_small(h, &h->central[s->spanclass], s);
		empty = !s->alloc_count;
	} else {
		empty = !gm_bit_test(s->gcmark_bits, 0);
		s->gcmark_bits[0] = 0;
		if (empty)
			gm_free_hook(h, s, s->start);
	}
	gm_gc_count(&h->gc, GM_GC_SWEPT_PAGES, s->npages);
	if (empty) {
		/* Dead under the class lock: racing frees now refuse the span. */
		WRITE_ONCE(s->state, GM_SPAN_DEAD);
		return true;
	}
	gm_atomic_store_u32(&s->sweepgen, READ_ONCE(h->sweepgen));
	return false;
}

/**
 * gm_sweep_release() - give a span the sweep found empty back to the heap
 * @h: the heap
 * @s: the span gm_sweep_span() declared dead; no lock held
 */
void gm_sweep_release(struct gm_heap *h, struct gm_mspan *s)
{
	if (!(s->spanclass >> 1)) {
		gm_gc_count(&h->gc, GM_GC_FREED_OBJECTS, 1);
		gm_gc_count(&h->gc, GM_GC_FREED_BYTES, s->npages * GM_PAGE_SIZE);
	}
	gm_gc_count(&h->gc, GM_GC_FREED_SPANS, 1);
	gm_mheap_free_span(h, s);
}

/* The unswept half of a list pair (see gm_mcentral). */
static struct gm_mspan *pop_unswept(struct gm_mcentral *c, u32 sg)
{
	struct gm_mspan *s = c->partial[!gm_swept_half(sg)].first;

	gm_spin_assert_held(&c->lock);
	if (!s)
		s = c->full[!gm_swept_half(sg)].first;
	if (s)
		gm_span_list_remove(s);
	return s;
}

/*
 * Go's sweepone: sweep one span of any class. Classes are visited from
 * where the last call found work, so a sweep does not rescan empty
 * classes. Returns the pages swept, 0 when nothing is left.
 */
static size_t sweep_one(struct gm_heap *h, struct gm_atomic64 *who)
{
	u32 sg = READ_ONCE(h->sweepgen), first = READ_ONCE(h->gc.sweep_cursor), i;

	for (i = 0; i < GM_NUM_SPAN_CLASSES; i++) {
		u32 spc = (first + i) % GM_NUM_SPAN_CLASSES;
		struct gm_mcentral *c = &h->central[spc];
		struct gm_mspan *s;
		bool dead = false;
		size_t npages;

		if (!READ_ONCE(c->partial[!gm_swept_half(sg)].first) &&
		    !READ_ONCE(c->full[!gm_swept_half(sg)].first))
			continue;
		gm_spin_lock(&c->lock);
		s = pop_unswept(c, sg);
		if (s && !GM_WARN_ON_ONCE(!gm_sweep_claim(h, s)))
			dead = gm_sweep_span(h, s);
		if (s && !dead)
			gm_mcentral_relist(c, s, sg);
		gm_spin_unlock(&c->lock);
		if (!s)
			continue;
		npages = s->npages;
		WRITE_ONCE(h->gc.sweep_cursor, spc);
		if (dead)
			gm_sweep_release(h, s);
		if (who)
			gm_atomic64_add(who, npages);
		return npages;
	}
	return 0;
}

/**
 * gm_heap_sweep_some() - the background sweeper's step (Go's bgsweep)
 * @h: the heap; not while a cycle runs
 * @max_pages: stop after sweeping at least this many pages
 *
 * Return: true if spans may remain unswept.
 */
bool gm_heap_sweep_some(struct gm_heap *h, size_t max_pages)
{
	u64 t0 = gm_now_ns();
	size_t done = 0, n = 0;

	gm_might_sleep();
	while (done < max_pages) {
		n = sweep_one(h, &h->gc.counters[GM_GC_SWEPT_BG_PAGES]);
		if (!n)
			break;
		done += n;
		gm_cond_resched();
	}
	gm_atomic64_add(&h->gc.cpu_ns, gm_now_ns() - t0);
	return n;
}

/**
 * gm_sweep_finish() - sweep every span left (Go's finishsweep_m)
 * @h: the heap, whose world is stopped
 */
void gm_sweep_finish(struct gm_heap *h)
{
	u64 n = 0;

	while (sweep_one(h, NULL))
		if (!(++n % 256))
			gm_cond_resched();
}

/**
 * gm_sweep_deduct_credit() - sweep in proportion to allocation
 * @h: the heap
 * @npages: pages an allocation is about to take
 *
 * Go's deductSweepCredit: the pages left unswept by the last cycle must
 * all be swept by the time heap_live reaches the next goal, so each
 * allocation sweeps its share of them first. Called without locks.
 */
void gm_sweep_deduct_credit(struct gm_heap *h, size_t npages)
{
	u64 pages = READ_ONCE(h->gc.credit_pages), basis = READ_ONCE(h->gc.credit_basis);
	u64 goal = READ_ONCE(h->gc.heap_goal), live, runway, target;

	if (!pages)
		return;
	live = gm_pacer_live(h) + npages * GM_PAGE_SIZE;
	/* With no goal (GOGC off, no limit) the runway is the live heap again. */
	runway = goal != GM_NO_LIMIT && goal > basis ? goal - basis : max(basis, GM_HEAP_MIN_GOAL);
	target = live > basis ? (live - basis) / max_t(u64, runway / pages, 1) : 0;
	while (gm_gc_counter_read(&h->gc, GM_GC_SWEPT_PAGES) - READ_ONCE(h->gc.credit_swept) < target) {
		if (!sweep_one(h, &h->gc.counters[GM_GC_SWEPT_LAZY_PAGES])) {
			WRITE_ONCE(h->gc.credit_pages, 0);
			break;
		}
	}
}

/**
 * gm_sweep_take_census() - count a heap's in-use spans by sweep state
 * @h: the heap
 * @c: filled in
 *
 * Takes the heap lock; states may change meanwhile unless the world is
 * stopped.
 */
void gm_sweep_take_census(struct gm_heap *h, struct gm_sweep_census *c)
{
	struct gm_mspan *s;
	u32 sg;

	memset(c, 0, sizeof(*c));
	gm_mutex_lock(&h->lock);
	sg = READ_ONCE(h->sweepgen);
	for (s = h->spans_all; s; s = s->allnext) {
		u32 ssg = READ_ONCE(s->sweepgen);

		if (READ_ONCE(s->state) != GM_SPAN_IN_USE)
			continue;
		if (ssg == sg - 2)
			c->unswept++;
		else if (ssg == sg - 1)
			c->sweeping++;
		else if (ssg == sg)
			c->swept++;
		else if (ssg == sg + 3)
			c->cached++;
		else
			c->bad++;
	}
	gm_mutex_unlock(&h->lock);
}
