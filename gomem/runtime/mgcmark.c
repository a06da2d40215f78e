// SPDX-License-Identifier: GPL-2.0
/*
 * The mark phase, after Go's mgcmark.go: starting from root ranges, every
 * word that points into a live object of the heap (interior pointers
 * count, as they do in Go) marks that object in its span's gcmark bits,
 * and objects of scan span classes are scanned in turn. Noscan objects
 * are marked but never scanned: that is what the span class split is for.
 *
 * gomem has no pointer maps, so scanning is conservative: any word is a
 * candidate pointer, and only an allocated slot can be marked.
 *
 * Gray objects wait in a work queue of bounded size (Go's gcWork). When
 * it overflows, the objects that did not fit are already marked; the
 * mark then rescans every marked scan object of the heap until a pass
 * overflows no more, so memory stays bounded and no object is missed.
 *
 * The caller stops the world: nothing allocates, frees or writes
 * pointers into the heap meanwhile, and the per-CPU caches are flushed.
 */
#include "malloc.h"

/* Large objects are scanned in pieces of this many bytes (Go's maxObletBytes). */
#define GM_OBLET_BYTES	(128 * 1024)

/* Bytes scanned between checks for a reschedule and a fatal signal. */
#define GM_SCAN_YIELD_BYTES	(256 * 1024)

struct gm_gcwork {
	struct gm_heap *h;
	uintptr_t *buf;
	size_t n;
	size_t cap;
	bool overflow;
	bool aborted;
	size_t since_yield;
	struct gm_mark_stats *st;
};

/*
 * Roots and objects can be gigabytes (a program may register 1024 ranges
 * of 1 GiB, or allocate a 64 GiB root): yield now and then, and give up
 * when the task the mark runs for is being killed, so that neither the
 * CPU nor the task is held for the length of the scan.
 */
static void scan_yield(struct gm_gcwork *w, size_t bytes)
{
	w->since_yield += bytes;
	if (w->since_yield < GM_SCAN_YIELD_BYTES)
		return;
	w->since_yield = 0;
	gm_cond_resched();
	if (gm_fatal_signal_pending())
		w->aborted = true;
}

/*
 * Go's greyobject: mark the object holding @p, if it is live and not
 * marked yet, and queue it for scanning if it may hold pointers.
 */
static void grey(struct gm_gcwork *w, uintptr_t p)
{
	struct gm_mspan *s;
	u32 idx;

	if (!gm_find_object(&w->h->arenas, p, &s, &idx))
		return;
	if (READ_ONCE(s->state) != GM_SPAN_IN_USE || !gm_span_slot_allocated(s, idx) ||
	    gm_bit_test(s->gcmark_bits, idx))
		return;
	gm_bit_set(s->gcmark_bits, idx);
	w->st->marked++;
	w->st->marked_bytes += s->elemsize;
	if (s->spanclass & 1)
		return;
	if (w->n == w->cap) {
		w->overflow = true;
		return;
	}
	w->buf[w->n++] = s->start + (uintptr_t)idx * s->elemsize;
}

/* Go's scanblock: every aligned word of [addr, addr + len) is a candidate. */
static void scan_range(struct gm_gcwork *w, uintptr_t addr, size_t len)
{
	uintptr_t end = addr + len, word[64];
	size_t i, n;

	addr = (addr + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
	while (addr + sizeof(uintptr_t) <= end && !w->aborted) {
		n = min_t(size_t, ARRAY_SIZE(word), (end - addr) / sizeof(uintptr_t));
		gm_mheap_read(w->h, addr, word, n * sizeof(uintptr_t));
		for (i = 0; i < n; i++)
			grey(w, word[i]);
		w->st->scanned_bytes += n * sizeof(uintptr_t);
		addr += n * sizeof(uintptr_t);
		scan_yield(w, n * sizeof(uintptr_t));
	}
}

/* Go's scanobject, with large objects in oblets. */
static void scan_object(struct gm_gcwork *w, uintptr_t base)
{
	struct gm_mspan *s = gm_span_of(&w->h->arenas, base);
	size_t off;

	if (!s)
		return;
	for (off = 0; off < s->elemsize; off += GM_OBLET_BYTES)
		scan_range(w, base + off, min_t(size_t, GM_OBLET_BYTES, s->elemsize - off));
}

static void drain(struct gm_gcwork *w)
{
	while (w->n && !w->aborted) {
		scan_object(w, w->buf[--w->n]);
		/* Small objects count too: a million take seconds on a debug kernel. */
		scan_yield(w, 64);
	}
}

/* After an overflow: scan every marked object of a scan span again. */
static void rescan_marked(struct gm_gcwork *w)
{
	struct gm_mspan *s;
	u32 i;

	for (s = w->h->spans_all; s && !w->aborted; s = s->allnext) {
		if (s->state != GM_SPAN_IN_USE || (s->spanclass & 1))
			continue;
		for (i = 0; i < s->nelems && !w->aborted; i++) {
			if (!gm_bit_test(s->gcmark_bits, i))
				continue;
			scan_object(w, s->start + (uintptr_t)i * s->elemsize);
			drain(w);
		}
	}
}

/*
 * The registered roots: ranges (globals, stacks) are scanned; root
 * objects are marked, and scanned in turn unless they are noscan.
 */
static void mark_registered_roots(struct gm_gcwork *w)
{
	struct gm_heap *h = w->h;
	struct gm_mspan *s;
	size_t i;
	u32 j;

	gm_mutex_assert_held(&h->lock);
	for (i = 0; i < h->gc.nroots && !w->aborted; i++) {
		scan_range(w, h->gc.roots[i].addr, h->gc.roots[i].len);
		w->st->root_bytes += h->gc.roots[i].len;
		drain(w);
	}
	for (s = h->spans_all; s && !w->aborted; s = s->allnext) {
		if (s->state != GM_SPAN_IN_USE)
			continue;
		for (j = 0; j < s->bitmap_words; j++) {
			u64 bits = s->root_bits[j];

			while (bits) {
				u32 idx = j * 64 + gm_ctz64(bits);

				bits &= bits - 1;
				grey(w, s->start + (uintptr_t)idx * s->elemsize);
				w->st->root_bytes += s->elemsize;
				drain(w);
			}
		}
	}
}

static void clear_marks(struct gm_heap *h)
{
	struct gm_mspan *s;

	gm_mutex_assert_held(&h->lock);
	for (s = h->spans_all; s; s = s->allnext)
		if (s->state == GM_SPAN_IN_USE)
			memset(s->gcmark_bits, 0, s->bitmap_words * sizeof(u64));
}

/**
 * gm_mark_heap() - mark every object reachable from the roots (Go's gcMark)
 * @h: the heap; stopped: its caches flushed, nothing running in it
 * @roots: ranges of memory to scan, anywhere (not only in the heap)
 * @nroots: number of @roots
 * @queue_len: entries of the gray queue, at least 1; memory for it is
 *	the only memory the mark allocates
 * @st: filled in with what the mark did
 *
 * The heap's registered roots (gm_heap_add_root(), root objects) are
 * scanned too. Afterwards an in-use span's gcmark bits say which of its
 * objects are reachable. Roots are read with gm_mheap_read(), so a root may lie in the
 * heap's memory itself (an object the program holds).
 *
 * Return: 0; -ENOMEM if the queue could not be allocated, or -EINTR if
 * the calling task was killed meanwhile: then no mark bit is set (the
 * mark is not valid and must not be swept by).
 */
int gm_mark_heap(struct gm_heap *h, const struct gm_root *roots, size_t nroots,
		 size_t queue_len, struct gm_mark_stats *st)
{
	struct gm_gcwork w = { .h = h, .cap = queue_len, .st = st };
	size_t i;

	memset(st, 0, sizeof(*st));
	if (!queue_len)
		return -EINVAL;
	w.buf = gm_zalloc(queue_len * sizeof(*w.buf));
	if (!w.buf)
		return -ENOMEM;
	gm_mutex_lock(&h->lock);
	clear_marks(h);
	mark_registered_roots(&w);
	for (i = 0; i < nroots && !w.aborted; i++) {
		scan_range(&w, roots[i].addr, roots[i].len);
		drain(&w);
	}
	while (w.overflow && !w.aborted) {
		w.overflow = false;
		st->overflows++;
		rescan_marked(&w);
	}
	if (w.aborted)
		clear_marks(h);
	gm_mutex_unlock(&h->lock);
	gm_free(w.buf);
	return w.aborted ? -EINTR : 0;
}

/**
 * gm_mark_object_marked() - whether the last mark found an object reachable
 * @h: the heap
 * @p: any address inside the object
 *
 * Return: true if @p is in a live object whose mark bit is set.
 */
bool gm_mark_object_marked(struct gm_heap *h, const void *p)
{
	struct gm_mspan *s;
	u32 idx;

	if (!gm_find_object(&h->arenas, (uintptr_t)p, &s, &idx))
		return false;
	return READ_ONCE(s->state) == GM_SPAN_IN_USE && gm_span_slot_allocated(s, idx) &&
	       gm_bit_test(s->gcmark_bits, idx);
}
