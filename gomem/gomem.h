/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomem module internals shared by its kernel-side files: the character
 * device, debugfs and module set-up. The allocator core does not include it.
 */
#ifndef _GOMEM_GOMEM_H
#define _GOMEM_GOMEM_H

#include <linux/atomic.h>
#include <linux/module.h>
#include <linux/types.h>

#include "runtime.h"

/*
 * Functions that only gomem's KUnit module needs are exported into a
 * namespace of their own, and only when KUnit can be loaded at all.
 */
#if IS_ENABLED(CONFIG_KUNIT)
#define GOMEM_EXPORT_FOR_KUNIT(sym)	EXPORT_SYMBOL_NS_GPL(sym, GOMEM_KUNIT)
#else
#define GOMEM_EXPORT_FOR_KUNIT(sym)
#endif

struct gomem_version;

/**
 * struct gomem_file - what one open of /dev/gomem owns
 * @id: number of this open since the module was loaded, from 1
 */
struct gomem_file {
	u64 id;
};

/**
 * struct gomem_ioctl_desc - one entry of the ioctl table
 * @cmd: the full command number, checked against the caller's
 * @func: handler; works on a kernel copy of the argument
 * @name: the command's name, for diagnostics
 */
struct gomem_ioctl_desc {
	unsigned int cmd;
	long (*func)(struct gomem_file *gf, void *arg);
	const char *name;
};

/* Largest ioctl argument structure; arguments are copied to the stack. */
#define GOMEM_IOCTL_MAX_ARG	128

/* Module-wide counters shown in debugfs. */
struct gomem_module_stats {
	atomic_long_t open_files;
	atomic64_t opens_total;
};

extern struct gomem_module_stats gomem_stats;

/* chardev.c */
int gomem_chardev_init(void);
void gomem_chardev_exit(void);
const struct gomem_ioctl_desc *gomem_ioctl_lookup(unsigned int cmd);
long gomem_version_get(struct gomem_version *v);

/* debugfs.c */

/**
 * struct gomem_seq_printer - lets the core's table printers write a seq_file
 * @p: what the core writes to
 * @seq: where the lines go
 */
struct gomem_seq_printer {
	struct gm_printer p;
	struct seq_file *seq;
};

void gomem_seq_line(struct gm_printer *p, const char *text);
#define GOMEM_SEQ_PRINTER(name, s) \
	struct gomem_seq_printer name = { .p.line = gomem_seq_line, .seq = (s) }

void gomem_debugfs_init(void);
void gomem_debugfs_exit(void);
bool gomem_debugfs_available(void);
struct dentry *gomem_debugfs_heaps_dir(void);

/* kheap.c */
struct gomem_heap;
int gomem_kheap_init(void);
void gomem_kheap_exit(void);
unsigned int gomem_heap_cached_spans(struct gomem_heap *heap, unsigned int cpu);

u64 gomem_features(void);

#endif /* _GOMEM_GOMEM_H */
