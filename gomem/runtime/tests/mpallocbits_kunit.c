// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for gomem's chunk bitmaps and summaries (mpallocbits.c):
 * bit ranges, summarize and find on hand-made patterns, 64-bit run search,
 * packing and merging of summaries, and all of them against a page-by-page
 * model on random bitmaps.
 */

#include <kunit/test.h>

#include "../mpallocbits.h"

/* === a page-by-page model =============================================== */

static bool model_used(const u64 *w, unsigned int i)
{
	return (w[i / 64] >> (i % 64)) & 1;
}

/* start, max and end free runs of bits [0, nbits), one bit at a time. */
static void model_summary(const u64 *w, unsigned int nbits,
			  unsigned int *start, unsigned int *most,
			  unsigned int *end)
{
	unsigned int i, run = 0;
	bool closed = false;

	*start = 0;
	*most = 0;
	for (i = 0; i < nbits; i++) {
		if (!model_used(w, i)) {
			run++;
			continue;
		}
		if (!closed)
			*start = run;
		closed = true;
		if (run > *most)
			*most = run;
		run = 0;
	}
	if (!closed)
		*start = run;
	if (run > *most)
		*most = run;
	*end = run;
}

static unsigned int model_find(const u64 *w, unsigned int npages,
			       unsigned int search, unsigned int *first_free)
{
	unsigned int i, run = 0;

	*first_free = GM_PALLOC_NONE;
	for (i = search; i < GM_CHUNK_PAGES; i++) {
		if (model_used(w, i)) {
			run = 0;
			continue;
		}
		if (*first_free == GM_PALLOC_NONE)
			*first_free = i;
		if (++run == npages)
			return i + 1 - npages;
	}
	return GM_PALLOC_NONE;
}

static u64 rnd_next(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random runs of used and free pages, lengths mostly short, some long. */
static void random_bits(struct gm_palloc_bits *b, u64 *seed)
{
	unsigned int i = 0, n;
	bool used = rnd_next(seed) & 1;

	memset(b, 0, sizeof(*b));
	while (i < GM_CHUNK_PAGES) {
		n = rnd_next(seed) % 8 ? 1 + rnd_next(seed) % 9 :
					 1 + rnd_next(seed) % 200;
		n = min(n, (unsigned int)GM_CHUNK_PAGES - i);
		if (used)
			gm_palloc_set_range(b, i, n);
		i += n;
		used = !used;
	}
}

/* === patterns =========================================================== */

struct bit_run {
	unsigned int i, n;
};

#define MAX_RANGES 4

/* A chunk given by its used ranges; n == 0 ends the list. */
struct pattern {
	const char *name;
	struct bit_run used[MAX_RANGES];
};

static void pattern_bits(const struct pattern *p, struct gm_palloc_bits *b)
{
	unsigned int r;

	memset(b, 0, sizeof(*b));
	for (r = 0; r < MAX_RANGES && p->used[r].n; r++)
		gm_palloc_set_range(b, p->used[r].i, p->used[r].n);
}

static const struct bit_run bit_ranges[] = {
	{ 0, 1 }, { 63, 1 }, { 64, 1 }, { 511, 1 }, { 0, 64 }, { 1, 63 },
	{ 60, 8 }, { 64, 128 }, { 3, 500 }, { 0, 512 }, { 100, 300 },
};

static void range_desc(const struct bit_run *r, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "[%u, +%u)", r->i, r->n);
}
KUNIT_ARRAY_PARAM(bit_range, bit_ranges, range_desc);

/* set, count and clear touch exactly the bits of the range. */
static void bits_set_count_clear(struct kunit *test)
{
	const struct bit_run *r = test->param_value;
	struct gm_palloc_bits b = { { 0 } };
	unsigned int i;
	bool in;

	gm_palloc_set_range(&b, r->i, r->n);
	for (i = 0; i < GM_CHUNK_PAGES; i++) {
		in = i >= r->i && i < r->i + r->n;
		KUNIT_EXPECT_EQ_MSG(test, model_used(b.w, i), in, "bit %u", i);
	}
	KUNIT_EXPECT_EQ(test, gm_palloc_count_range(&b, 0, GM_CHUNK_PAGES),
			r->n);
	KUNIT_EXPECT_EQ(test, gm_palloc_count_range(&b, r->i, r->n), r->n);
	if (r->i)
		KUNIT_EXPECT_EQ(test, gm_palloc_count_range(&b, r->i - 1, 1), 0);
	gm_palloc_set_range(&b, 0, GM_CHUNK_PAGES);
	gm_palloc_clear_range(&b, r->i, r->n);
	KUNIT_EXPECT_EQ(test, gm_palloc_count_range(&b, 0, GM_CHUNK_PAGES),
			GM_CHUNK_PAGES - r->n);
	KUNIT_EXPECT_EQ(test, gm_palloc_count_range(&b, r->i, r->n), 0);
}

struct sum_case {
	struct pattern p;
	unsigned int start, max, end;
};

static const struct sum_case sum_cases[] = {
	{ { "all free" }, 512, 512, 512 },
	{ { "all used", { { 0, 512 } } }, 0, 0, 0 },
	{ { "first used", { { 0, 1 } } }, 0, 511, 511 },
	{ { "last used", { { 511, 1 } } }, 511, 511, 0 },
	{ { "second word used", { { 64, 64 } } }, 64, 384, 384 },
	{ { "three singles", { { 10, 1 }, { 100, 1 }, { 300, 1 } } },
	  10, 211, 211 },
	{ { "run inside a word", { { 0, 3 }, { 40, 472 } } }, 0, 37, 0 },
	{ { "run across words", { { 0, 60 }, { 70, 442 } } }, 0, 10, 0 },
	{ { "long middle", { { 0, 1 }, { 2, 1 }, { 450, 62 } } },
	  0, 447, 0 },
	{ { "interior beats ends", { { 5, 1 }, { 7, 30 }, { 100, 1 },
				    { 500, 10 } } }, 5, 399, 2 },
};

static void sum_case_desc(const struct sum_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", c->p.name);
}
KUNIT_ARRAY_PARAM(sum_case, sum_cases, sum_case_desc);

static void summarize_patterns(struct kunit *test)
{
	const struct sum_case *c = test->param_value;
	struct gm_palloc_bits b;
	u64 sum;

	pattern_bits(&c->p, &b);
	sum = gm_palloc_summarize(&b);
	KUNIT_EXPECT_EQ(test, gm_sum_start(sum), c->start);
	KUNIT_EXPECT_EQ(test, gm_sum_max(sum), c->max);
	KUNIT_EXPECT_EQ(test, gm_sum_end(sum), c->end);
	/* Summary 0 means "nothing free", and only that. */
	KUNIT_EXPECT_EQ(test, sum == 0, c->max == 0);
}

struct find_case {
	struct pattern p;
	unsigned int npages, search;
	unsigned int want, first;
};

#define NONE GM_PALLOC_NONE

static const struct find_case find_cases[] = {
	{ { "free, 1" }, 1, 0, 0, 0 },
	{ { "free, whole chunk" }, 512, 0, 0, 0 },
	{ { "free, from 70" }, 4, 70, 70, 70 },
	{ { "full", { { 0, 512 } } }, 1, 0, NONE, NONE },
	{ { "first used, 511", { { 0, 1 } } }, 511, 0, 1, 1 },
	{ { "first used, 512", { { 0, 1 } } }, 512, 0, NONE, 1 },
	{ { "hole of 1 skipped", { { 0, 63 }, { 64, 1 } } }, 2, 0, 65, 63 },
	{ { "hole of 1 taken", { { 0, 63 }, { 64, 1 } } }, 1, 0, 63, 63 },
	{ { "across words", { { 0, 60 }, { 70, 442 } } }, 10, 0, 60, 60 },
	{ { "across words, too long", { { 0, 60 }, { 70, 442 } } },
	  11, 0, NONE, 60 },
	{ { "large run", { { 0, 100 }, { 400, 112 } } }, 300, 0, 100, 100 },
	{ { "large run, too long", { { 0, 100 }, { 400, 112 } } },
	  301, 0, NONE, 100 },
	{ { "interior, 2", { { 0, 3 }, { 5, 1 }, { 9, 55 } } }, 2, 0, 3, 3 },
	{ { "interior, 3", { { 0, 3 }, { 5, 1 }, { 9, 55 } } }, 3, 0, 6, 3 },
	{ { "interior, 4", { { 0, 3 }, { 5, 1 }, { 9, 55 } } }, 4, 0, 64, 3 },
	{ { "64 aligned", { { 0, 65 } } }, 64, 0, 65, 65 },
	{ { "search skips a run", { { 10, 10 } } }, 5, 3, 3, 3 },
	{ { "search inside a run", { { 10, 10 } } }, 5, 6, 20, 6 },
	{ { "last page", { { 0, 511 } } }, 1, 0, 511, 511 },
	{ { "last page, 2", { { 0, 511 } } }, 2, 0, NONE, 511 },
};

static void find_case_desc(const struct find_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", c->p.name);
}
KUNIT_ARRAY_PARAM(find_case, find_cases, find_case_desc);

static void find_patterns(struct kunit *test)
{
	const struct find_case *c = test->param_value;
	struct gm_palloc_bits b;
	unsigned int got, first;

	pattern_bits(&c->p, &b);
	got = gm_palloc_find(&b, c->npages, c->search, &first);
	KUNIT_EXPECT_EQ(test, got, c->want);
	KUNIT_EXPECT_EQ(test, first, c->first);
}

struct range64_case {
	u64 c;
	unsigned int n, want;
};

static const struct range64_case range64_cases[] = {
	{ 0, 1, 64 },
	{ ~0ULL, 64, 0 },
	{ ~0ULL, 1, 0 },
	{ 0xf0, 4, 4 },
	{ 0xf0, 5, 64 },
	{ 1ULL << 63, 1, 63 },
	{ 0xff00ff, 8, 0 },
	{ 0xff00ff, 9, 64 },
	{ 0x6e, 2, 1 },
	{ 0x6e, 3, 1 },
	{ 0x6e, 4, 64 },
	{ 0x3e6, 5, 5 },
	{ 0xffff000000000000ULL, 16, 48 },
	{ 0xffff000000000000ULL, 17, 64 },
	{ 0x7fffffffffffffffULL, 63, 0 },
	{ 0xfffffffffffffffeULL, 63, 1 },
	{ 0xfffffffffffffffeULL, 64, 64 },
};

static void range64_desc(const struct range64_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "0x%016llx, %u",
		 (unsigned long long)c->c, c->n);
}
KUNIT_ARRAY_PARAM(range64, range64_cases, range64_desc);

static void find_bit_range64_cases(struct kunit *test)
{
	const struct range64_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, gm_find_bit_range64(c->c, c->n), c->want);
}

/* === summaries ========================================================== */

static void sum_pack_roundtrip(struct kunit *test)
{
	static const unsigned int v[] = {
		0, 1, 511, 512, 4096, GM_SUM_MAX_VALUE - 1,
	};
	unsigned int a, b, c;
	u64 sum;

	for (a = 0; a < ARRAY_SIZE(v); a++)
		for (b = 0; b < ARRAY_SIZE(v); b++)
			for (c = 0; c < ARRAY_SIZE(v); c++) {
				sum = gm_sum_pack(v[a], v[b], v[c]);
				KUNIT_EXPECT_EQ(test, gm_sum_start(sum), v[a]);
				KUNIT_EXPECT_EQ(test, gm_sum_max(sum), v[b]);
				KUNIT_EXPECT_EQ(test, gm_sum_end(sum), v[c]);
			}
	KUNIT_EXPECT_EQ(test, gm_sum_pack(0, 0, 0), 0);
	sum = gm_sum_pack(GM_SUM_MAX_VALUE, GM_SUM_MAX_VALUE, GM_SUM_MAX_VALUE);
	KUNIT_EXPECT_EQ(test, sum, GM_SUM_ALL_FREE);
	KUNIT_EXPECT_EQ(test, gm_sum_start(sum), GM_SUM_MAX_VALUE);
	KUNIT_EXPECT_EQ(test, gm_sum_max(sum), GM_SUM_MAX_VALUE);
	KUNIT_EXPECT_EQ(test, gm_sum_end(sum), GM_SUM_MAX_VALUE);
}

/* The geometry of Go on 64-bit: 14 root bits, 21-bit fields. */
static void sum_geometry(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, GM_SUM_L0_BITS, 14);
	KUNIT_EXPECT_EQ(test, GM_SUM_LOG_MAX, 21);
	KUNIT_EXPECT_EQ(test, gm_sum_log_pages(0), 21);
	KUNIT_EXPECT_EQ(test, gm_sum_log_pages(GM_SUM_LEAF), 9);
	KUNIT_EXPECT_EQ(test, GM_SUM_L0_BITS + GM_SUM_LEAF * GM_SUM_LEVEL_BITS +
			GM_CHUNK_SHIFT, GM_ADDR_BITS);
}

static void sum_merge_cases(struct kunit *test)
{
	u64 free = gm_sum_pack(512, 512, 512), full = 0, sums[8];
	unsigned int i;

	for (i = 0; i < 8; i++)
		sums[i] = free;
	KUNIT_EXPECT_EQ(test, gm_sum_merge(sums, 8, 9),
			gm_sum_pack(4096, 4096, 4096));
	sums[3] = full;
	KUNIT_EXPECT_EQ(test, gm_sum_merge(sums, 8, 9),
			gm_sum_pack(1536, 2048, 2048));
	sums[0] = gm_sum_pack(0, 10, 10);
	sums[1] = gm_sum_pack(20, 20, 0);
	KUNIT_EXPECT_EQ(test, gm_sum_merge(sums, 2, 9), gm_sum_pack(0, 30, 0));
	/* Eight free 2^18-page entries make a free root entry. */
	for (i = 0; i < 8; i++)
		sums[i] = gm_sum_pack(1U << 18, 1U << 18, 1U << 18);
	KUNIT_EXPECT_EQ(test, gm_sum_merge(sums, 8, 18), GM_SUM_ALL_FREE);
	sums[7] = gm_sum_pack(1, 1, 0);
	KUNIT_EXPECT_EQ(test, gm_sum_merge(sums, 8, 18),
			gm_sum_pack(7 << 18 | 1, 7 << 18 | 1, 0));
}

/* === random bitmaps against the model =================================== */

#define RANDOM_ROUNDS 150

static void random_summarize_and_find(struct kunit *test)
{
	static const unsigned int sizes[] = { 1, 2, 3, 7, 33, 63, 64, 65, 130,
					      300, 512 };
	unsigned int s, e, want, first, got, gfirst, search, k, r;
	struct gm_palloc_bits b;
	u64 seed = 0x9e3779b97f4a7c15ULL, sum;

	for (r = 0; r < RANDOM_ROUNDS; r++) {
		random_bits(&b, &seed);
		model_summary(b.w, GM_CHUNK_PAGES, &s, &want, &e);
		sum = gm_palloc_summarize(&b);
		KUNIT_EXPECT_EQ_MSG(test, sum, gm_sum_pack(s, want, e),
				    "round %u", r);
		for (k = 0; k < ARRAY_SIZE(sizes); k++) {
			search = k & 1 ? rnd_next(&seed) % GM_CHUNK_PAGES : 0;
			want = model_find(b.w, sizes[k], search, &first);
			got = gm_palloc_find(&b, sizes[k], search, &gfirst);
			KUNIT_EXPECT_EQ_MSG(test, got, want, "round %u n %u",
					    r, sizes[k]);
			KUNIT_EXPECT_EQ_MSG(test, gfirst, first, "round %u", r);
		}
	}
}

/* Merging eight chunk summaries equals summarizing the 4096 pages. */
static void random_merge(struct kunit *test)
{
	struct gm_palloc_bits *b;
	unsigned int s, m, e, i, r;
	u64 seed = 12345, sums[8];

	b = kunit_kzalloc(test, 8 * sizeof(*b), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b);
	for (r = 0; r < RANDOM_ROUNDS / 3; r++) {
		for (i = 0; i < 8; i++) {
			random_bits(&b[i], &seed);
			/* Some chunks entirely free or used, as in a heap. */
			if (rnd_next(&seed) % 4 == 0)
				memset(&b[i], rnd_next(&seed) & 1 ? 0xff : 0,
				       sizeof(b[i]));
			sums[i] = gm_palloc_summarize(&b[i]);
		}
		model_summary(b[0].w, 8 * GM_CHUNK_PAGES, &s, &m, &e);
		KUNIT_EXPECT_EQ_MSG(test, gm_sum_merge(sums, 8, 9),
				    gm_sum_pack(s, m, e), "round %u", r);
	}
}

static struct kunit_case gomem_mpallocbits_cases[] = {
	KUNIT_CASE_PARAM(bits_set_count_clear, bit_range_gen_params),
	KUNIT_CASE_PARAM(summarize_patterns, sum_case_gen_params),
	KUNIT_CASE_PARAM(find_patterns, find_case_gen_params),
	KUNIT_CASE_PARAM(find_bit_range64_cases, range64_gen_params),
	KUNIT_CASE(sum_pack_roundtrip),
	KUNIT_CASE(sum_geometry),
	KUNIT_CASE(sum_merge_cases),
	KUNIT_CASE(random_summarize_and_find),
	KUNIT_CASE(random_merge),
	{}
};

static struct kunit_suite gomem_mpallocbits_suite = {
	.name = "gomem_mpallocbits",
	.test_cases = gomem_mpallocbits_cases,
};
kunit_test_suite(gomem_mpallocbits_suite);
