// SPDX-License-Identifier: GPL-2.0
/*
 * Size classes at run time (Go's msize.go): rounding a request up to what
 * the allocator will really give, and the size class table in the format
 * of the comment in Go's sizeclasses.go, for debugfs.
 */
#include "msize.h"

/**
 * gm_roundup_size() - the bytes an allocation of @size really takes
 * @size: bytes requested
 *
 * Go's roundupsize(): small sizes round up to their class's object size,
 * larger ones to whole pages. 0 stays 0, and a size so close to SIZE_MAX
 * that a page more would wrap around is returned as it is.
 *
 * Return: the size of the block that an allocation of @size gets.
 */
size_t gm_roundup_size(size_t size)
{
	if (size < GM_MAX_SMALL_SIZE)
		return gm_class_size(gm_size_to_class(size));
	if (size > (size_t)-1 - GM_PAGE_SIZE)
		return size;
	return (size + GM_PAGE_SIZE - 1) & ~(size_t)(GM_PAGE_SIZE - 1);
}

/**
 * gm_size_class_get() - one row of the size class table
 * @sizeclass: 1 to GM_NUM_SIZE_CLASSES - 1
 * @sc: filled in
 *
 * For callers outside the core, which see the table through heap.h only.
 */
void gm_size_class_get(unsigned int sizeclass, struct gm_size_class *sc)
{
	sc->size = gm_class_size(sizeclass);
	sc->npages = gm_class_npages(sizeclass);
	sc->objects = gm_class_objects(sizeclass);
}

/* Go 1.21's column headings; the numbers below line up under them. */
static const char gm_sizeclasses_header[] =
	"class  bytes/obj  bytes/span  objects  tail waste  max waste  min align";

/* Objects are aligned to their size's lowest set bit, at most a page. */
static u32 gm_class_min_align(u8 sizeclass)
{
	unsigned int bits = gm_ctz64(gm_class_size(sizeclass));

	if (bits > GM_PAGE_SHIFT)
		bits = GM_PAGE_SHIFT;
	return 1U << bits;
}

/*
 * The worst case waste of a class, in hundredths of a percent of its span:
 * every object holding a request one byte over the previous class, plus
 * the tail. Go prints the same ratio with %.2f; rounding half up here
 * gives the same digits for every class.
 */
static u32 gm_class_max_waste(u8 sizeclass, u32 prev_size)
{
	u32 size = gm_class_size(sizeclass);
	u32 span = gm_class_span_bytes(sizeclass);
	u32 objects = gm_class_objects(sizeclass);
	u64 waste = (u64)(size - prev_size - 1) * objects + span - objects * size;

	return (waste * 20000 + span) / (2 * (u64)span);
}

static void gm_sizeclass_line(struct gm_printer *p, u8 sizeclass,
			      u32 prev_size)
{
	u32 span = gm_class_span_bytes(sizeclass);
	u32 objects = gm_class_objects(sizeclass);
	u32 waste = gm_class_max_waste(sizeclass, prev_size);
	char buf[96];

	snprintf(buf, sizeof(buf), "%5u  %9u  %10u  %7u  %10u  %5u.%02u%%  %9u",
		 sizeclass, gm_class_size(sizeclass), span, objects,
		 span - objects * gm_class_size(sizeclass), waste / 100,
		 waste % 100, gm_class_min_align(sizeclass));
	p->line(p, buf);
}

/**
 * gm_sizeclasses_print() - print the size class table
 * @p: where the lines go
 *
 * The table of the comment at the top of Go 1.21's sizeclasses.go,
 * without the comment's "// ", computed from gomem's own tables: a header
 * line, then one line per class 1..GM_NUM_SIZE_CLASSES - 1 with its
 * object size, span bytes, objects per span, tail waste, worst case waste
 * and object alignment.
 */
void gm_sizeclasses_print(struct gm_printer *p)
{
	u32 prev_size = 0;
	u8 c;

	p->line(p, gm_sizeclasses_header);
	for (c = 1; c < GM_NUM_SIZE_CLASSES; c++) {
		gm_sizeclass_line(p, c, prev_size);
		prev_size = gm_class_size(c);
	}
}
