/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heapprof.c: a heap's profile as the dump of the uapi header (struct
 * gomem_prof_header and its records), for GOMEM_IOC_PROF_READ and the
 * heapprof file of each heap's debugfs directory.
 */
#ifndef _GOMEM_HEAPPROF_H
#define _GOMEM_HEAPPROF_H

#include <linux/types.h>

struct gm_heap;

void *gomem_heapprof_dump(struct gm_heap *gm, size_t *size);

/* The heapprof file of both kinds of heap (heaps.h's struct gomem_heap_file). */
extern const struct file_operations gomem_heap_prof_fops;
/* heapprof_rate: read and set a kernel heap's sampling rate (root). */
extern const struct file_operations gomem_heap_prof_rate_fops;

#endif /* _GOMEM_HEAPPROF_H */
