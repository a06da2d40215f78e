/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kheap.c: heaps for kernel code, the API of include/linux/gomem.h, and
 * the module's own kernel heap.
 */
#ifndef _GOMEM_KHEAP_H
#define _GOMEM_KHEAP_H

struct gomem_heap;

int gomem_kheap_init(void);
void gomem_kheap_exit(void);
unsigned int gomem_heap_cached_spans(struct gomem_heap *heap, unsigned int cpu);
void *gomem_heap_profile_dump(struct gomem_heap *heap, size_t *size);

#endif /* _GOMEM_KHEAP_H */
