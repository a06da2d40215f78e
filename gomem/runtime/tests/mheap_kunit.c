// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the arena index (mheap.c): gm_span_of() and
 * gm_find_object() for every byte class of address, in heaps at kernel
 * and at user addresses. Addresses are fake: the index never touches the
 * memory it describes.
 */
#include <kunit/test.h>

#include "../mheap.h"

/* A direct-map address as in the kernel, and Go's first arena hint. */
static const uintptr_t heap_bases[] = { 0xffff888100000000UL, 0xc000000000UL };

static void base_desc(const uintptr_t *b, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "base=0x%lx", (unsigned long)*b);
}
KUNIT_ARRAY_PARAM(heap_base, heap_bases, base_desc);

/* Some of Go's classes: bytes per object and pages per span. */
struct layout {
	u32 size, npages;
};

static const struct layout layouts[] = {
	{ 8, 1 }, { 16, 1 }, { 48, 1 }, { 1024, 1 }, { 1152, 1 }, { 3072, 3 },
	{ 10240, 5 }, { 32768, 4 },
};

struct fixture {
	struct gm_mutex lock;
	struct gm_arena_index ai;
	struct gm_mspan spans[ARRAY_SIZE(layouts) + 1];
	uintptr_t start;
};

/*
 * Lay the spans end to end so that they straddle an arena boundary, then
 * a large span of 5 pages.
 */
static void build(struct kunit *test, struct fixture *f, uintptr_t base)
{
	uintptr_t addr = base + GM_ARENA_BYTES - 8 * GM_PAGE_SIZE;
	size_t i;

	gm_mutex_init(&f->lock);
	gm_arena_index_init(&f->ai, &f->lock);
	f->start = addr;
	gm_mutex_lock(&f->lock);
	KUNIT_ASSERT_EQ(test, gm_arena_ensure(&f->ai, addr, 64 * GM_PAGE_SIZE), 0);
	for (i = 0; i <= ARRAY_SIZE(layouts); i++) {
		struct gm_mspan *s = &f->spans[i];

		if (i < ARRAY_SIZE(layouts))
			gm_span_init_layout(s, addr, layouts[i].npages, (i + 1) << 1,
					    layouts[i].size);
		else
			gm_span_init_layout(s, addr, 5, 0, 0);
		s->state = GM_SPAN_IN_USE;
		gm_arena_set_span(&f->ai, s);
		addr += s->npages * GM_PAGE_SIZE;
	}
	gm_mutex_unlock(&f->lock);
	KUNIT_EXPECT_EQ(test, f->ai.narenas, 2);
}

static void destroy(struct fixture *f)
{
	gm_arena_index_destroy(&f->ai);
	gm_mutex_destroy(&f->lock);
}

static void check_addr(struct kunit *test, struct fixture *f, uintptr_t addr,
		       struct gm_mspan *want, uintptr_t want_base, u32 want_idx)
{
	struct gm_mspan *s = NULL;
	u32 idx = ~0U;

	KUNIT_ASSERT_PTR_EQ(test, gm_span_of(&f->ai, addr), want);
	KUNIT_ASSERT_EQ_MSG(test, gm_find_object(&f->ai, addr, &s, &idx), want_base,
			    "addr 0x%lx", (unsigned long)addr);
	if (want_base) {
		KUNIT_ASSERT_PTR_EQ(test, s, want);
		KUNIT_ASSERT_EQ(test, idx, want_idx);
	}
}

/* First, interior and last byte of every object; the tail waste after. */
static void every_object(struct kunit *test)
{
	struct fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	size_t i;
	u32 j;

	KUNIT_ASSERT_NOT_NULL(test, f);
	build(test, f, *(const uintptr_t *)test->param_value);
	for (i = 0; i < ARRAY_SIZE(f->spans); i++) {
		struct gm_mspan *s = &f->spans[i];
		uintptr_t end = s->start + s->npages * GM_PAGE_SIZE;
		uintptr_t obj = s->start, a;

		for (j = 0; j < s->nelems; j++, obj += s->elemsize) {
			check_addr(test, f, obj, s, obj, j);
			check_addr(test, f, obj + s->elemsize / 2, s, obj, j);
			check_addr(test, f, obj + s->elemsize - 1, s, obj, j);
		}
		for (a = obj; a < end; a += 8)
			check_addr(test, f, a, s, 0, 0);
	}
	destroy(f);
}

/* The multiply-and-shift is exact for every byte of every span. */
static void division_exact(struct kunit *test)
{
	struct gm_mspan s = { 0 };
	size_t i;
	u32 off;

	for (i = 0; i < ARRAY_SIZE(layouts); i++) {
		gm_span_init_layout(&s, 0xc000000000UL, layouts[i].npages, 2, layouts[i].size);
		for (off = 0; off < s.npages * GM_PAGE_SIZE; off++)
			KUNIT_ASSERT_EQ_MSG(test, gm_span_obj_index(&s, s.start + off),
					    off / layouts[i].size, "size %u", layouts[i].size);
	}
}

/*
 * Issue 10: a large object of 4 GiB or more keeps its whole size (a u32
 * wrapped it, and the mark scanned only size mod 4 GiB of it).
 */
static void large_layout_4g(struct kunit *test)
{
	static const size_t npages[] = { (1UL << 32) / GM_PAGE_SIZE,
					 (1UL << 32) / GM_PAGE_SIZE + 1,
					 (64UL << 30) / GM_PAGE_SIZE };
	struct gm_mspan s = { 0 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(npages); i++) {
		gm_span_init_layout(&s, 0xc000000000UL, npages[i], 0, 0);
		KUNIT_EXPECT_EQ(test, s.elemsize, npages[i] * GM_PAGE_SIZE);
		KUNIT_EXPECT_EQ(test, s.nelems, 1);
		KUNIT_EXPECT_EQ(test, gm_span_obj_index(&s, s.start + s.elemsize - 1), 0);
	}
}

static void outside_the_heap(struct kunit *test)
{
	struct fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	uintptr_t base = *(const uintptr_t *)test->param_value;
	struct gm_mspan *last;
	uintptr_t end;

	KUNIT_ASSERT_NOT_NULL(test, f);
	build(test, f, base);
	last = &f->spans[ARRAY_SIZE(f->spans) - 1];
	end = last->start + last->npages * GM_PAGE_SIZE;

	check_addr(test, f, f->start - 1, NULL, 0, 0);		/* arena, no span */
	check_addr(test, f, end, NULL, 0, 0);
	check_addr(test, f, base - 1, NULL, 0, 0);		/* no arena */
	check_addr(test, f, base + 5 * GM_ARENA_BYTES, NULL, 0, 0);
	check_addr(test, f, 0, NULL, 0, 0);
	check_addr(test, f, ~0UL, NULL, 0, 0);
	/* Same low 48 bits, other top bits: another address space. */
	check_addr(test, f, f->start ^ (1UL << 63), NULL, 0, 0);
	destroy(f);
}

/* A freed span vanishes, even though stale entries may remain. */
static void freed_span(struct kunit *test)
{
	struct fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	struct gm_mspan *s;

	KUNIT_ASSERT_NOT_NULL(test, f);
	build(test, f, *(const uintptr_t *)test->param_value);
	s = &f->spans[3];
	gm_mutex_lock(&f->lock);
	gm_arena_clear_span(&f->ai, s);
	gm_mutex_unlock(&f->lock);
	check_addr(test, f, s->start, NULL, 0, 0);
	check_addr(test, f, s->start + s->npages * GM_PAGE_SIZE - 1, NULL, 0, 0);
	/* Neighbours are untouched. */
	check_addr(test, f, f->spans[2].start, &f->spans[2], f->spans[2].start, 0);
	check_addr(test, f, f->spans[4].start, &f->spans[4], f->spans[4].start, 0);
	/* A dead span is not found through a stale entry. */
	s = &f->spans[5];
	s->state = GM_SPAN_DEAD;
	check_addr(test, f, s->start, NULL, 0, 0);
	destroy(f);
}

static void refuses_foreign_range(struct kunit *test)
{
	struct fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	build(test, f, 0xc000000000UL);
	gm_mutex_lock(&f->lock);
	KUNIT_EXPECT_EQ(test, gm_arena_ensure(&f->ai, 0xffff888100000000UL, GM_PAGE_SIZE),
			-EINVAL);
	/* A range wrapping past the top of the address space. */
	KUNIT_EXPECT_EQ(test, gm_arena_ensure(&f->ai, ~0UL - GM_PAGE_SIZE + 1, 2 * GM_PAGE_SIZE),
			-EINVAL);
	gm_mutex_unlock(&f->lock);
	KUNIT_EXPECT_EQ(test, f->ai.narenas, 2);
	destroy(f);
}

static struct kunit_case gomem_mheap_cases[] = {
	KUNIT_CASE_PARAM(every_object, heap_base_gen_params),
	KUNIT_CASE(division_exact),
	KUNIT_CASE(large_layout_4g),
	KUNIT_CASE_PARAM(outside_the_heap, heap_base_gen_params),
	KUNIT_CASE_PARAM(freed_span, heap_base_gen_params),
	KUNIT_CASE(refuses_foreign_range),
	{}
};

static struct kunit_suite gomem_mheap_suite = {
	.name = "gomem_mheap_arenas",
	.test_cases = gomem_mheap_cases,
};
kunit_test_suite(gomem_mheap_suite);
