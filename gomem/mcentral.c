// SPDX-License-Identifier: GPL-2.0
/*
 * mcentral, as in Go's mcentral.go: the spans of one span class that no
 * mcache holds, in partial and full lists, each in a swept and an unswept
 * half chosen by sweepgen. gomem adds explicit frees: they are recorded
 * under the mcentral lock and take effect when the span is next swept.
 */
#include "malloc.h"

/* === span lists ========================================================= */

static void list_push(struct gm_span_list *l, struct gm_mspan *s)
{
	s->prev = NULL;
	s->next = l->first;
	if (l->first)
		l->first->prev = s;
	l->first = s;
	s->list = l;
	l->len++;
}

static void list_remove(struct gm_mspan *s)
{
	struct gm_span_list *l = s->list;

	if (s->prev)
		s->prev->next = s->next;
	else
		l->first = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
	s->list = NULL;
	l->len--;
}

/* Which half of a list pair holds swept spans flips every cycle (Go). */
static struct gm_span_list *partial_swept(struct gm_mcentral *c, u32 sg)
{
	return &c->partial[sg / 2 % 2];
}

static struct gm_span_list *full_swept(struct gm_mcentral *c, u32 sg)
{
	return &c->full[sg / 2 % 2];
}

static bool has_free_slot(const struct gm_mspan *s)
{
	return s->freeindex < s->nelems || s->nfreed;
}

static bool span_empty(const struct gm_mspan *s)
{
	return s->alloc_count == s->nfreed;
}

/* === tiny blocks ======================================================= */

/* A tiny block whose objects are all freed becomes a free slot. */
static void reclaim_tiny_block(struct gm_mcentral *c, struct gm_mspan *s, u32 idx)
{
	s->tiny_pending -= gm_popcount64(s->tiny_freed[idx]);
	s->tiny_alloc[idx] = 0;
	s->tiny_freed[idx] = 0;
	s->tiny_end[idx] = 0;
	gm_bit_set(s->free_bits, idx);
	s->nfreed++;
	c->nfrees++;
}

/*
 * Reclaim every fully freed tiny block of @s but @keep, the block an
 * mcache still packs objects into.
 */
static void reclaim_tiny(struct gm_mcentral *c, struct gm_mspan *s, uintptr_t keep)
{
	u32 i;

	gm_spin_assert_held(&c->lock);
	if (!s->tiny_alloc || !s->tiny_pending)
		return;
	for (i = 0; i < s->nelems; i++) {
		if (s->tiny_alloc[i] && s->tiny_alloc[i] == s->tiny_freed[i] &&
		    s->start + (uintptr_t)i * s->elemsize != keep)
			reclaim_tiny_block(c, s, i);
	}
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
 * make its free slots allocatable.
 */
static void take_for_cache(struct gm_heap *h, struct gm_mspan *s)
{
	s->cached = true;
	s->sweepgen = h->sweepgen + 3;
	if (s->freeindex == s->nelems)
		gm_span_sweep_free_bits(s);
}

/**
 * gm_mcentral_cache_span() - a span with a free slot for an mcache
 * @h: the heap
 * @spanclass: the span class
 *
 * Swept partial spans first, then a new span from the heap (Go's
 * cacheSpan; the unswept lists stay empty until the collector fills them).
 * May sleep: call without the CPU pinned.
 *
 * Return: the span, marked cached, or NULL if memory ran out.
 */
struct gm_mspan *gm_mcentral_cache_span(struct gm_heap *h, u8 spanclass)
{
	struct gm_mcentral *c = &h->central[spanclass];
	u8 sizeclass = spanclass >> 1;
	struct gm_mspan *s;
	struct gm_span_list *l;

	gm_spin_lock(&c->lock);
	l = partial_swept(c, h->sweepgen);
	s = l->first;
	if (s) {
		list_remove(s);
		take_for_cache(h, s);
	}
	gm_spin_unlock(&c->lock);
	if (s)
		return s;

	s = gm_heap_alloc_span(h, gm_class_npages(sizeclass), spanclass);
	if (!s)
		return NULL;
	gm_spin_lock(&c->lock);
	take_for_cache(h, s);
	gm_spin_unlock(&c->lock);
	return s;
}

/**
 * gm_mcentral_uncache_span() - take a span back from an mcache
 * @h: the heap
 * @s: a span the caller's mcache no longer points to
 *
 * A span whose objects are all freed goes back to the heap. Takes the heap
 * lock in that case: call without the CPU pinned.
 */
void gm_mcentral_uncache_span(struct gm_heap *h, struct gm_mspan *s)
{
	struct gm_mcentral *c = &h->central[s->spanclass];
	bool release = false;

	gm_spin_lock(&c->lock);
	s->cached = false;
	s->sweepgen = h->sweepgen;
	/* The mcache retired its tiny block before letting the span go. */
	reclaim_tiny(c, s, 0);
	if (span_empty(s)) {
		/* Dead under the lock: a racing free now sees a dead span. */
		WRITE_ONCE(s->state, GM_SPAN_DEAD);
		release = true;
	} else if (has_free_slot(s)) {
		list_push(partial_swept(c, h->sweepgen), s);
	} else {
		list_push(full_swept(c, h->sweepgen), s);
	}
	gm_spin_unlock(&c->lock);
	if (release)
		gm_heap_free_span(h, s);
}

/**
 * gm_mcentral_sweep_frees() - let an mcache reuse the freed slots of its span
 * @h: the heap
 * @s: a span the caller's mcache holds, with freeindex at nelems
 * @tiny: the caller's current tiny block, which stays allocated
 *
 * Return: true if slots were freed and the span has room again.
 */
bool gm_mcentral_sweep_frees(struct gm_heap *h, struct gm_mspan *s, uintptr_t tiny)
{
	struct gm_mcentral *c = &h->central[s->spanclass];
	u32 n;

	if (!READ_ONCE(s->nfreed) && !READ_ONCE(s->tiny_pending))
		return false;
	gm_spin_lock(&c->lock);
	reclaim_tiny(c, s, tiny);
	n = gm_span_sweep_free_bits(s);
	gm_spin_unlock(&c->lock);
	return n;
}

/* === explicit free ===================================================== */

/*
 * After a free in a span no mcache holds: an empty span leaves for the
 * heap (marked dead under this lock, so racing frees refuse it); a full
 * span with its first free slot becomes partial.
 */
static bool relist_after_free(struct gm_heap *h, struct gm_mcentral *c,
			      struct gm_mspan *s)
{
	struct gm_span_list *l = s->list;

	if (span_empty(s)) {
		list_remove(s);
		WRITE_ONCE(s->state, GM_SPAN_DEAD);
		return true;
	}
	if (l == &c->full[0] || l == &c->full[1]) {
		list_remove(s);
		list_push(&c->partial[l - c->full], s);
	}
	return false;
}

/*
 * A tiny object: @off must be where one starts in block @idx and it must
 * not be freed already. The block becomes a free slot once all its objects
 * are freed, here if no mcache holds the span (so none packs into it),
 * otherwise when its mcache sweeps or lets go of the span.
 */
static int free_tiny(struct gm_heap *h, struct gm_mcentral *c, struct gm_mspan *s,
		     u32 idx, uintptr_t off, bool *release)
{
	u16 bit = 1U << off;

	if (!(READ_ONCE(s->tiny_alloc[idx]) & bit) || (s->tiny_freed[idx] & bit))
		return -EINVAL;
	if (GM_TRACK_OBJECTS && h->track)
		gm_track_free((void *)(s->start + (uintptr_t)idx * s->elemsize + off));
	s->tiny_freed[idx] |= bit;
	s->tiny_pending++;
	c->tiny_frees++;
	if (!s->cached && s->tiny_freed[idx] == s->tiny_alloc[idx]) {
		reclaim_tiny_block(c, s, idx);
		*release = relist_after_free(h, c, s);
	}
	return 0;
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
	bool release = false;
	int ret = -EINVAL;
	u32 idx;

	gm_spin_lock(&c->lock);
	/*
	 * Spans of this class die under this lock, so a span that is still in
	 * use, of this class, and holds @p is the one gm_span_of() would find
	 * now: two in-use spans never share a page.
	 */
	if (READ_ONCE(s->state) != GM_SPAN_IN_USE || s->spanclass != spanclass ||
	    p - s->start >= s->npages * GM_PAGE_SIZE)
		goto out;
	idx = gm_span_obj_index(s, p);
	if (idx >= s->nelems || !gm_span_slot_allocated(s, idx))
		goto out;
	if (s->tiny_alloc && READ_ONCE(s->tiny_alloc[idx])) {
		ret = free_tiny(h, c, s, idx, p - s->start - (uintptr_t)idx * s->elemsize,
				&release);
		goto out;
	}
	if (s->start + (uintptr_t)idx * s->elemsize != p)
		goto out;
	/* Before the slot can be swept and reused by another CPU. */
	if (GM_TRACK_OBJECTS && h->track)
		gm_track_free((void *)p);
	gm_bit_set(s->free_bits, idx);
	s->nfreed++;
	c->nfrees++;
	if (!s->cached)
		release = relist_after_free(h, c, s);
	ret = 0;
out:
	gm_spin_unlock(&c->lock);
	if (release)
		gm_heap_free_span(h, s);
	return ret;
}

/*
 * Bytes from @off to the next tiny object of block @idx; for the last one
 * so far, to its own end: a later object may still be packed after it.
 */
static size_t tiny_usable(const struct gm_mspan *s, u32 idx, u32 off)
{
	u32 end = READ_ONCE(s->tiny_end[idx]) >> off;

	/* Objects do not overlap: the first end at or after @off is its own. */
	return end ? (size_t)__builtin_ctz(end) + 1 : 0;
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
	if (READ_ONCE(s->state) != GM_SPAN_IN_USE || s->spanclass != spanclass ||
	    p - s->start >= s->npages * GM_PAGE_SIZE)
		goto out;
	idx = gm_span_obj_index(s, p);
	if (idx >= s->nelems || !gm_span_slot_allocated(s, idx) ||
	    gm_bit_test(s->free_bits, idx))
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
