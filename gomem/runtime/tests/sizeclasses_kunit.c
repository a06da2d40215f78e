// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for gomem's size classes: the generated tables against Go
 * 1.21's, the bounds the generator's algorithm guarantees, the size to
 * class lookup, division by the magic, gm_roundup_size() and the printed
 * table.
 */

#include <kunit/test.h>

#include "../msize.h"

/* Go 1.21's classes (runtime/sizeclasses.go): size, pages, objects. */
struct go121_class {
	u8 sizeclass;
	u16 size;
	u8 npages;
	u16 objects;
};

static const struct go121_class go121_classes[] = {
	{  1,     8,  1, 1024 },
	{  2,    16,  1,  512 },
	{  3,    24,  1,  341 },
	{  4,    32,  1,  256 },
	{  5,    48,  1,  170 },
	{  6,    64,  1,  128 },
	{  7,    80,  1,  102 },
	{  8,    96,  1,   85 },
	{  9,   112,  1,   73 },
	{ 10,   128,  1,   64 },
	{ 11,   144,  1,   56 },
	{ 12,   160,  1,   51 },
	{ 13,   176,  1,   46 },
	{ 14,   192,  1,   42 },
	{ 15,   208,  1,   39 },
	{ 16,   224,  1,   36 },
	{ 17,   240,  1,   34 },
	{ 18,   256,  1,   32 },
	{ 19,   288,  1,   28 },
	{ 20,   320,  1,   25 },
	{ 21,   352,  1,   23 },
	{ 22,   384,  1,   21 },
	{ 23,   416,  1,   19 },
	{ 24,   448,  1,   18 },
	{ 25,   480,  1,   17 },
	{ 26,   512,  1,   16 },
	{ 27,   576,  1,   14 },
	{ 28,   640,  1,   12 },
	{ 29,   704,  1,   11 },
	{ 30,   768,  1,   10 },
	{ 31,   896,  1,    9 },
	{ 32,  1024,  1,    8 },
	{ 33,  1152,  1,    7 },
	{ 34,  1280,  1,    6 },
	{ 35,  1408,  2,   11 },
	{ 36,  1536,  1,    5 },
	{ 37,  1792,  2,    9 },
	{ 38,  2048,  1,    4 },
	{ 39,  2304,  2,    7 },
	{ 40,  2688,  1,    3 },
	{ 41,  3072,  3,    8 },
	{ 42,  3200,  2,    5 },
	{ 43,  3456,  3,    7 },
	{ 44,  4096,  1,    2 },
	{ 45,  4864,  3,    5 },
	{ 46,  5376,  2,    3 },
	{ 47,  6144,  3,    4 },
	{ 48,  6528,  4,    5 },
	{ 49,  6784,  5,    6 },
	{ 50,  6912,  6,    7 },
	{ 51,  8192,  1,    1 },
	{ 52,  9472,  7,    6 },
	{ 53,  9728,  6,    5 },
	{ 54, 10240,  5,    4 },
	{ 55, 10880,  4,    3 },
	{ 56, 12288,  3,    2 },
	{ 57, 13568,  5,    3 },
	{ 58, 14336,  7,    4 },
	{ 59, 16384,  2,    1 },
	{ 60, 18432,  9,    4 },
	{ 61, 19072,  7,    3 },
	{ 62, 20480,  5,    2 },
	{ 63, 21760,  8,    3 },
	{ 64, 24576,  3,    1 },
	{ 65, 27264, 10,    3 },
	{ 66, 28672,  7,    2 },
	{ 67, 32768,  4,    1 },
};

static void go121_class_desc(const struct go121_class *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "class %u, %u bytes",
		 c->sizeclass, c->size);
}
KUNIT_ARRAY_PARAM(go121_class, go121_classes, go121_class_desc);

static void constants_match_go121(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, GM_NUM_SIZE_CLASSES, 68);
	KUNIT_EXPECT_EQ(test, ARRAY_SIZE(go121_classes), GM_NUM_SIZE_CLASSES - 1);
	KUNIT_EXPECT_EQ(test, GM_SMALL_SIZE_DIV, 8);
	KUNIT_EXPECT_EQ(test, GM_SMALL_SIZE_MAX, 1024);
	KUNIT_EXPECT_EQ(test, GM_LARGE_SIZE_DIV, 128);
	KUNIT_EXPECT_EQ(test, GM_MAX_OBJS_PER_SPAN, 1024);
	KUNIT_EXPECT_EQ(test, ARRAY_SIZE(gm_size_to_class8), 129);
	KUNIT_EXPECT_EQ(test, ARRAY_SIZE(gm_size_to_class128), 249);

	/* Class 0 is for large objects: no size, no span, no magic. */
	KUNIT_EXPECT_EQ(test, gm_class_to_size[0], 0);
	KUNIT_EXPECT_EQ(test, gm_class_to_npages[0], 0);
	KUNIT_EXPECT_EQ(test, gm_class_to_divmagic[0], 0);
	KUNIT_EXPECT_EQ(test, gm_size_to_class(0), 0);
}

static void class_matches_go121(struct kunit *test)
{
	const struct go121_class *go = test->param_value;
	u8 c = go->sizeclass;

	KUNIT_ASSERT_EQ(test, go - go121_classes + 1, c);
	KUNIT_EXPECT_EQ(test, gm_class_size(c), go->size);
	KUNIT_EXPECT_EQ(test, gm_class_npages(c), go->npages);
	KUNIT_EXPECT_EQ(test, gm_class_objects(c), go->objects);
	KUNIT_EXPECT_EQ(test, gm_class_span_bytes(c), go->npages * GM_PAGE_SIZE);
	/* Go's class_to_divmagic is ^uint32(0) / size + 1. */
	KUNIT_EXPECT_EQ(test, gm_class_to_divmagic[c], 0xffffffffU / go->size + 1);
}

/*
 * What the generator guarantees about waste. A span has the fewest pages
 * that leave a tail of at most 1/8 of it. From 128 bytes on, candidate
 * sizes step by at most 1/8 of the size, so a request one byte over the
 * previous class is over 7/8 of the class's first candidate, whose
 * objects fill at least 7/8 of the span: under 15/64 (23.4 %) of the span
 * is wasted at worst, whatever merging and growing did to the size (they
 * keep the object count). Below 128 alignment dominates (8 bytes for a
 * 1-byte request) and only the tail bound holds.
 */
static void waste_within_bounds(struct kunit *test)
{
	u8 c = ((const struct go121_class *)test->param_value)->sizeclass;
	u32 size = gm_class_size(c);
	u32 prev = gm_class_size(c - 1);
	u32 span = gm_class_span_bytes(c);
	u32 objects = gm_class_objects(c);
	u32 tail = span - objects * size;
	u64 worst = (u64)(size - prev - 1) * objects + tail;

	KUNIT_EXPECT_LE(test, tail * 8, span);
	if (size >= 128)
		KUNIT_EXPECT_LE(test, worst * 64, span * 15ULL);
	/* Grown to the largest multiple of 128 that keeps the count. */
	KUNIT_EXPECT_LE(test, (span / objects) & ~127U, size);
}

static void sizes_ordered_and_aligned(struct kunit *test)
{
	u8 c;

	for (c = 1; c < GM_NUM_SIZE_CLASSES; c++) {
		u32 size = gm_class_size(c);

		KUNIT_EXPECT_GT_MSG(test, size, gm_class_size(c - 1),
				    "class %u", c);
		KUNIT_EXPECT_EQ_MSG(test, size % 8, 0, "class %u", c);
		/* Go's heap bitmaps want 16-byte alignment from 32 bytes. */
		if (size >= 32)
			KUNIT_EXPECT_EQ_MSG(test, size % 16, 0, "class %u", c);
		/* The 128-byte lookup relies on this above 1024. */
		if (size > GM_SMALL_SIZE_MAX)
			KUNIT_EXPECT_EQ_MSG(test, size % GM_LARGE_SIZE_DIV, 0,
					    "class %u", c);
		KUNIT_EXPECT_GE_MSG(test, gm_class_npages(c), 1, "class %u", c);
		KUNIT_EXPECT_LE_MSG(test, gm_class_npages(c), 10, "class %u", c);
		KUNIT_EXPECT_GE_MSG(test, gm_class_objects(c), 1, "class %u", c);
		KUNIT_EXPECT_LE_MSG(test, gm_class_objects(c),
				    GM_MAX_OBJS_PER_SPAN, "class %u", c);
		/* Merging leaves no two neighbours with equal spans. */
		if (c > 1 && gm_class_npages(c) == gm_class_npages(c - 1))
			KUNIT_EXPECT_NE_MSG(test, gm_class_objects(c),
					    gm_class_objects(c - 1),
					    "class %u", c);
	}
	KUNIT_EXPECT_EQ(test, gm_class_size(GM_NUM_SIZE_CLASSES - 1),
			GM_MAX_SMALL_SIZE);
}

/* The smallest class whose objects hold @size bytes, by a linear search. */
static u8 smallest_fit(size_t size)
{
	u8 c;

	for (c = 1; c < GM_NUM_SIZE_CLASSES - 1; c++)
		if (gm_class_size(c) >= size)
			break;
	return c;
}

static void size_to_class_smallest_fit(struct kunit *test)
{
	unsigned int bad = 0;
	size_t size;

	for (size = 1; size <= GM_MAX_SMALL_SIZE; size++) {
		u8 c = gm_size_to_class(size);

		if (c == smallest_fit(size))
			continue;
		if (!bad++)
			KUNIT_FAIL(test, "size %zu: class %u, want %u", size, c,
				   smallest_fit(size));
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
}

static void lookup_tables_smallest_fit(struct kunit *test)
{
	unsigned int i;

	KUNIT_EXPECT_EQ(test, gm_size_to_class8[0], 0);
	for (i = 1; i < ARRAY_SIZE(gm_size_to_class8); i++)
		KUNIT_EXPECT_EQ_MSG(test, gm_size_to_class8[i],
				    smallest_fit(i * GM_SMALL_SIZE_DIV),
				    "size_to_class8[%u]", i);
	for (i = 0; i < ARRAY_SIZE(gm_size_to_class128); i++)
		KUNIT_EXPECT_EQ_MSG(test, gm_size_to_class128[i],
				    smallest_fit(GM_SMALL_SIZE_MAX +
						 i * GM_LARGE_SIZE_DIV),
				    "size_to_class128[%u]", i);
}

/*
 * Go's promise for its magic (mksizeclasses.go checks it the same way):
 * exact for every byte offset from the span's start to its end inclusive,
 * so for object starts, for every byte inside an object and for the tail.
 */
static void divmagic_exact_in_span(struct kunit *test)
{
	u8 c = ((const struct go121_class *)test->param_value)->sizeclass;
	u32 size = gm_class_size(c);
	u32 span = gm_class_span_bytes(c);
	unsigned int bad = 0;
	u32 n;

	for (n = 0; n <= span; n++) {
		if (gm_class_div(c, n) == n / size)
			continue;
		if (!bad++)
			KUNIT_FAIL(test, "offset %u: %u, want %u", n,
				   gm_class_div(c, n), n / size);
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, gm_class_div(c, span), gm_class_objects(c));
}

static void roundup_size(struct kunit *test)
{
	unsigned int bad = 0;
	size_t size;

	KUNIT_EXPECT_EQ(test, gm_roundup_size(0), 0);
	for (size = 1; size < GM_MAX_SMALL_SIZE; size++) {
		size_t want = gm_class_size(smallest_fit(size));

		if (gm_roundup_size(size) == want)
			continue;
		if (!bad++)
			KUNIT_FAIL(test, "size %zu: %zu, want %zu", size,
				   gm_roundup_size(size), want);
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
	/* Go 1.21's roundupsize() for a few sizes. */
	KUNIT_EXPECT_EQ(test, gm_roundup_size(1), 8);
	KUNIT_EXPECT_EQ(test, gm_roundup_size(17), 24);
	KUNIT_EXPECT_EQ(test, gm_roundup_size(33), 48);
	KUNIT_EXPECT_EQ(test, gm_roundup_size(1025), 1152);
	KUNIT_EXPECT_EQ(test, gm_roundup_size(4097), 4864);
	KUNIT_EXPECT_EQ(test, gm_roundup_size(32767), 32768);
	/* Large sizes take whole pages. */
	KUNIT_EXPECT_EQ(test, gm_roundup_size(32768), 32768);
	KUNIT_EXPECT_EQ(test, gm_roundup_size(32769), 40960);
	KUNIT_EXPECT_EQ(test, gm_roundup_size(40960), 40960);
	KUNIT_EXPECT_EQ(test, gm_roundup_size(40961), 49152);
	KUNIT_EXPECT_EQ(test, gm_roundup_size((size_t)-1 - GM_PAGE_SIZE),
			(size_t)-1 & ~(size_t)(GM_PAGE_SIZE - 1));
	/* No wrap-around to a tiny size: such a size is returned as is. */
	KUNIT_EXPECT_EQ(test, gm_roundup_size((size_t)-1 - GM_PAGE_SIZE + 1),
			(size_t)-1 - GM_PAGE_SIZE + 1);
	KUNIT_EXPECT_EQ(test, gm_roundup_size((size_t)-1), (size_t)-1);
}

#define TABLE_LINE_MAX	96

struct table_capture {
	struct gm_printer p;	/* first, so that a printer is a capture */
	unsigned int nlines;
	char lines[GM_NUM_SIZE_CLASSES][TABLE_LINE_MAX];
};

static void capture_line(struct gm_printer *p, const char *text)
{
	struct table_capture *cap = (struct table_capture *)p;

	if (cap->nlines < ARRAY_SIZE(cap->lines))
		snprintf(cap->lines[cap->nlines], TABLE_LINE_MAX, "%s", text);
	cap->nlines++;
}

/* Lines of the comment in Go 1.21's sizeclasses.go, without its "// ". */
static const char *const go121_table[GM_NUM_SIZE_CLASSES] = {
	[0] = "class  bytes/obj  bytes/span  objects  tail waste  max waste  min align",
	[1] = "    1          8        8192     1024           0     87.50%          8",
	[3] = "    3         24        8192      341           8     29.24%          8",
	[4] = "    4         32        8192      256           0     21.88%         32",
	[10] = "   10        128        8192       64           0     11.72%        128",
	[32] = "   32       1024        8192        8           0     12.40%       1024",
	[35] = "   35       1408       16384       11         896     14.00%        128",
	[45] = "   45       4864       24576        5         256     16.65%        256",
	[52] = "   52       9472       57344        6         512     14.28%        256",
	[65] = "   65      27264       81920        3         128     10.00%        128",
	[66] = "   66      28672       57344        2           0      4.91%       4096",
	[67] = "   67      32768       32768        1           0     12.50%       8192",
};

static void print_matches_go121(struct kunit *test)
{
	struct table_capture *cap;
	unsigned int i;

	cap = kunit_kzalloc(test, sizeof(*cap), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cap);
	cap->p.line = capture_line;
	gm_sizeclasses_print(&cap->p);

	KUNIT_ASSERT_EQ(test, cap->nlines, GM_NUM_SIZE_CLASSES);
	for (i = 0; i < ARRAY_SIZE(go121_table); i++)
		if (go121_table[i])
			KUNIT_EXPECT_STREQ_MSG(test, cap->lines[i],
					       go121_table[i], "line %u", i);
}

static struct kunit_case gomem_sizeclasses_cases[] = {
	KUNIT_CASE(constants_match_go121),
	KUNIT_CASE_PARAM(class_matches_go121, go121_class_gen_params),
	KUNIT_CASE_PARAM(waste_within_bounds, go121_class_gen_params),
	KUNIT_CASE(sizes_ordered_and_aligned),
	KUNIT_CASE(size_to_class_smallest_fit),
	KUNIT_CASE(lookup_tables_smallest_fit),
	KUNIT_CASE_PARAM(divmagic_exact_in_span, go121_class_gen_params),
	KUNIT_CASE(roundup_size),
	KUNIT_CASE(print_matches_go121),
	{}
};

static struct kunit_suite gomem_sizeclasses_suite = {
	.name = "gomem_sizeclasses",
	.test_cases = gomem_sizeclasses_cases,
};
kunit_test_suite(gomem_sizeclasses_suite);
