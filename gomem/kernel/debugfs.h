/* SPDX-License-Identifier: GPL-2.0 */
/*
 * debugfs.c: /sys/kernel/debug/gomem/ and its module-wide files, and the
 * printer through which the core's tables reach a seq_file. The heaps'
 * directories are the registry's (heaps.h).
 */
#ifndef _GOMEM_DEBUGFS_H
#define _GOMEM_DEBUGFS_H

#include "heap.h"

struct dentry;
struct seq_file;

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
struct dentry *gomem_debugfs_root(void);

#endif /* _GOMEM_DEBUGFS_H */
