// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for span bitmaps (mbitmap.c): nextFreeFast and
 * nextFreeIndex must hand out exactly the slots whose alloc bit is clear,
 * in order, once each, for every span size and bit pattern.
 */
#include <kunit/test.h>

#include "../mheap.h"

/* Span sizes around the 64-bit word edges, and real class extremes. */
static const u32 nelems_cases[] = { 1, 2, 63, 64, 65, 127, 128, 129, 170, 512, 1023, 1024 };

static void nelems_desc(const u32 *n, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "nelems=%u", *n);
}
KUNIT_ARRAY_PARAM(nelems, nelems_cases, nelems_desc);

/* The allocation path of an mcache: fast path, then slow path. */
static u32 next_free(struct gm_mspan *s, u32 *fast_hits)
{
	u32 idx = gm_span_next_free_fast(s);

	if (idx != s->nelems) {
		(*fast_hits)++;
		return idx;
	}
	return gm_span_next_free_index(s);
}

/* Pseudo-random bits, the same on every run and in every environment. */
static u64 xorshift(u64 *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* Allocate until full; the slots must be the clear bits of @bits, in order. */
static void check_sequence(struct kunit *test, struct gm_mspan *s,
			   const u64 *bits, u32 nelems)
{
	u32 expect = 0, fast = 0, got, taken = 0;

	for (;;) {
		while (expect < nelems && gm_bit_test(bits, expect))
			expect++;
		got = next_free(s, &fast);
		KUNIT_ASSERT_EQ_MSG(test, got, expect, "after %u slots", taken);
		if (got == nelems)
			break;
		KUNIT_EXPECT_FALSE(test, gm_span_is_free(s, got));
		taken++;
		expect++;
	}
	KUNIT_EXPECT_EQ(test, s->alloc_count, taken);
	KUNIT_EXPECT_EQ(test, s->freeindex, nelems);
	/* A full span stays full. */
	KUNIT_EXPECT_EQ(test, next_free(s, &fast), nelems);
	KUNIT_EXPECT_EQ(test, s->alloc_count, taken);
	/* Most slots of an empty span come from the fast path. */
	if (taken >= 128 && taken == nelems)
		KUNIT_EXPECT_GT(test, fast, taken * 9 / 10);
}

static void empty_span_in_order(struct kunit *test)
{
	u32 nelems = *(const u32 *)test->param_value;
	struct gm_mspan s = { 0 };
	u64 *none = kunit_kzalloc(test, (nelems + 63) / 64 * 8, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, none);
	KUNIT_ASSERT_EQ(test, gm_span_init_bits(&s, nelems), 0);
	KUNIT_EXPECT_EQ(test, s.bitmap_words, (nelems + 63) / 64);
	check_sequence(test, &s, none, nelems);
	gm_span_free_bits(&s);
}

/* A swept span: some slots already taken, as the alloc bits say. */
static void swept_span_skips_allocated(struct kunit *test)
{
	u32 nelems = *(const u32 *)test->param_value;
	u64 seed = 0x9e3779b97f4a7c15ULL ^ nelems;
	struct gm_mspan s = { 0 };
	int density;
	u32 i;

	for (density = 0; density < 4; density++) {
		KUNIT_ASSERT_EQ(test, gm_span_init_bits(&s, nelems), 0);
		/* density 0: sparse; 3: everything but a few. */
		for (i = 0; i < nelems; i++)
			if (xorshift(&seed) % 4 < (u64)density)
				gm_bit_set(s.alloc_bits, i);
		gm_span_refill_alloc_cache(&s, 0);
		check_sequence(test, &s, s.alloc_bits, nelems);
		gm_span_free_bits(&s);
	}
}

static void fully_allocated_span(struct kunit *test)
{
	u32 nelems = *(const u32 *)test->param_value;
	struct gm_mspan s = { 0 };
	u32 i, fast = 0;

	KUNIT_ASSERT_EQ(test, gm_span_init_bits(&s, nelems), 0);
	for (i = 0; i < nelems; i++)
		gm_bit_set(s.alloc_bits, i);
	gm_span_refill_alloc_cache(&s, 0);
	KUNIT_EXPECT_EQ(test, next_free(&s, &fast), nelems);
	KUNIT_EXPECT_EQ(test, s.alloc_count, 0);
	for (i = 0; i < nelems; i++)
		KUNIT_EXPECT_FALSE(test, gm_span_is_free(&s, i));
	gm_span_free_bits(&s);
}

static void mark_bits_count(struct kunit *test)
{
	struct gm_mspan s = { 0 };
	u32 i, n = 0;

	KUNIT_ASSERT_EQ(test, gm_span_init_bits(&s, 1000), 0);
	KUNIT_EXPECT_EQ(test, gm_span_count_marked(&s), 0);
	for (i = 0; i < 1000; i += 7) {
		gm_bit_set(s.gcmark_bits, i);
		n++;
	}
	KUNIT_EXPECT_EQ(test, gm_span_count_marked(&s), n);
	gm_bit_clear(s.gcmark_bits, 0);
	KUNIT_EXPECT_EQ(test, gm_span_count_marked(&s), n - 1);
	/* Mark bits are separate from alloc bits. */
	for (i = 0; i < 1000; i++)
		KUNIT_EXPECT_TRUE(test, gm_span_is_free(&s, i));
	gm_span_free_bits(&s);
}

static struct kunit_case gomem_mbitmap_cases[] = {
	KUNIT_CASE_PARAM(empty_span_in_order, nelems_gen_params),
	KUNIT_CASE_PARAM(swept_span_skips_allocated, nelems_gen_params),
	KUNIT_CASE_PARAM(fully_allocated_span, nelems_gen_params),
	KUNIT_CASE(mark_bits_count),
	{}
};

static struct kunit_suite gomem_mbitmap_suite = {
	.name = "gomem_mbitmap",
	.test_cases = gomem_mbitmap_cases,
};
kunit_test_suite(gomem_mbitmap_suite);
