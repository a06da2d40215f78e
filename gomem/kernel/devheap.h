/* SPDX-License-Identifier: GPL-2.0 */
/*
 * devheap.c: the heap of each open of /dev/gomem and the handlers of its
 * ioctls, which chardev.c dispatches.
 */
#ifndef _GOMEM_DEVHEAP_H
#define _GOMEM_DEVHEAP_H

#include <linux/types.h>

struct file;
struct gomem_alloc;
struct gomem_alloc_bulk;
struct gomem_cap;
struct gomem_class_stats;
struct gomem_dev_heap;
struct gomem_file;
struct gomem_free;
struct gomem_gc;
struct gomem_gc_params;
struct gomem_mem;
struct gomem_prof_rate;
struct gomem_prof_read;
struct gomem_root;
struct gomem_scavenge;
struct gomem_stats;

void gomem_devheap_init(void);
void gomem_devheap_exit(void);

struct gomem_dev_heap *gomem_dev_heap_create(struct file *file);
void gomem_dev_heap_destroy(struct gomem_dev_heap *dh);
struct gomem_mem *gomem_dev_heap_mem(struct gomem_dev_heap *dh);

long gomem_dev_heap_alloc(struct gomem_file *gf, struct gomem_alloc *a);
long gomem_dev_heap_alloc_bulk(struct gomem_file *gf, struct gomem_alloc_bulk *b);
long gomem_dev_heap_free(struct gomem_file *gf, struct gomem_free *f, bool free);
long gomem_dev_heap_stats(struct gomem_file *gf, struct gomem_stats *s);
long gomem_dev_heap_class_stats(struct gomem_file *gf, struct gomem_class_stats *c);
long gomem_dev_heap_scavenge(struct gomem_file *gf, struct gomem_scavenge *s);
long gomem_dev_heap_set_cap(struct gomem_file *gf, struct gomem_cap *c);
long gomem_dev_heap_root(struct gomem_file *gf, struct gomem_root *r, bool add);
long gomem_dev_heap_gc(struct gomem_file *gf, struct gomem_gc *g);
long gomem_dev_heap_set_gc(struct gomem_file *gf, struct gomem_gc_params *p);
long gomem_dev_heap_prof_rate(struct gomem_file *gf, struct gomem_prof_rate *r);
long gomem_dev_heap_prof_read(struct gomem_file *gf, struct gomem_prof_read *r);

#endif /* _GOMEM_DEVHEAP_H */
