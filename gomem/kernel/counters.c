// SPDX-License-Identifier: GPL-2.0
/*
 * The face's counters and their one printer. A set of counters is an
 * enum, an array of atomic64_t indexed by it and a table of names with a
 * static_assert on its size, so that a counter added without a name (or
 * a name without a counter) is a build error, not a line gone missing.
 */

#include <linux/build_bug.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>

#include "counters.h"

atomic64_t gomem_counters[GOMEM_CTR_COUNT];

static const char *const gomem_counter_names[] = {
	[GOMEM_CTR_OPEN_FILES]		= "open_files",
	[GOMEM_CTR_OPENS_TOTAL]		= "opens_total",
	[GOMEM_CTR_USER_PAGES]		= "user_pages",
};
static_assert(ARRAY_SIZE(gomem_counter_names) == GOMEM_CTR_COUNT);

/**
 * gomem_counters_show() - print counters, one "name value" line each
 * @seq: where the lines go
 * @vals: the counters, indexed by their enum
 * @names: their names, indexed by the same enum
 * @first: the first counter to print
 * @end: one past the last
 * @width: the names are padded to this many characters (0: not padded)
 */
void gomem_counters_show(struct seq_file *seq, const atomic64_t *vals,
			 const char *const *names, unsigned int first, unsigned int end,
			 int width)
{
	unsigned int i;

	for (i = first; i < end; i++)
		seq_printf(seq, "%-*s %lld\n", width, names[i], atomic64_read(&vals[i]));
}

/**
 * gomem_module_counters_show() - print every module-wide counter
 * @seq: where the lines go
 */
void gomem_module_counters_show(struct seq_file *seq)
{
	gomem_counters_show(seq, gomem_counters, gomem_counter_names, 0, GOMEM_CTR_COUNT, 0);
}
