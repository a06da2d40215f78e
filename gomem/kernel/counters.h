/* SPDX-License-Identifier: GPL-2.0 */
/*
 * counters.c: the face's counters are enums with a name table each (as
 * mm/kfence/core.c keeps its own), all printed by gomem_counters_show().
 * Here are the module-wide ones; a heap's are in its file (devheap.c).
 */
#ifndef _GOMEM_COUNTERS_H
#define _GOMEM_COUNTERS_H

#include <linux/atomic.h>

struct seq_file;

/* Module-wide counters, in debugfs "info". */
enum gomem_counter {
	GOMEM_CTR_OPEN_FILES,		/* files open on /dev/gomem now */
	GOMEM_CTR_OPENS_TOTAL,		/* opens since the module was loaded */
	GOMEM_CTR_USER_PAGES,		/* pages backing /dev/gomem heaps now */
	GOMEM_CTR_COUNT,
};

extern atomic64_t gomem_counters[GOMEM_CTR_COUNT];

void gomem_counters_show(struct seq_file *seq, const atomic64_t *vals,
			 const char *const *names, unsigned int first, unsigned int end,
			 int width);
void gomem_module_counters_show(struct seq_file *seq);

#endif /* _GOMEM_COUNTERS_H */
