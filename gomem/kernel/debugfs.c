// SPDX-License-Identifier: GPL-2.0
/*
 * gomem's debugfs directory, /sys/kernel/debug/gomem/, and its
 * module-wide files. debugfs is optional: if it cannot be created the
 * module works without it and says so in its feature bits. The heaps'
 * directories below it are made by the registry (heaps.c).
 */

#define pr_fmt(fmt) "gomem: " fmt

#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/seq_file.h>
#include <linux/gomem.h>

#include "counters.h"
#include "debugfs.h"
#include "heap.h"
#include "params.h"

static struct dentry *gomem_debugfs_dir;

/* "info": the ABI and the module-wide counters, one "name value" per line. */
static int info_show(struct seq_file *seq, void *v)
{
	seq_printf(seq, "abi_version %u\n", GOMEM_ABI_VERSION);
	seq_printf(seq, "features 0x%llx\n", gomem_features());
	gomem_module_counters_show(seq);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(info);

/**
 * gomem_seq_line() - a gm_printer line callback writing to a seq_file
 * @p: the printer, inside a struct gomem_seq_printer
 * @text: one line, without its newline
 */
void gomem_seq_line(struct gm_printer *p, const char *text)
{
	struct gomem_seq_printer *sp = container_of(p, struct gomem_seq_printer, p);

	seq_printf(sp->seq, "%s\n", text);
}

/* "sizeclasses": Go's size class table, in the columns of sizeclasses.go. */
static int sizeclasses_show(struct seq_file *seq, void *v)
{
	GOMEM_SEQ_PRINTER(sp, seq);

	gm_sizeclasses_print(&sp.p);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sizeclasses);

/**
 * gomem_debugfs_init() - create /sys/kernel/debug/gomem/ and its files
 *
 * Failure is not an error: debugfs is a diagnostic aid.
 */
void gomem_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("gomem", NULL);

	if (IS_ERR(dir)) {
		pr_info("debugfs unavailable (%ld), statistics not published\n",
			PTR_ERR(dir));
		return;
	}
	gomem_debugfs_dir = dir;
	gomem_features_set(GOMEM_FEATURE_DEBUGFS, true);
	/* Root only: statistics describe every user's heaps. */
	debugfs_create_file("info", 0400, dir, NULL, &info_fops);
	/* A table of constants: nothing to hide. */
	debugfs_create_file("sizeclasses", 0444, dir, NULL, &sizeclasses_fops);
}

/**
 * gomem_debugfs_exit() - remove gomem's debugfs directory and all below it
 */
void gomem_debugfs_exit(void)
{
	gomem_features_set(GOMEM_FEATURE_DEBUGFS, false);
	debugfs_remove(gomem_debugfs_dir);
	gomem_debugfs_dir = NULL;
}

/**
 * gomem_debugfs_root() - /sys/kernel/debug/gomem/, for the files below it
 *
 * Return: the directory, or NULL without debugfs.
 */
struct dentry *gomem_debugfs_root(void)
{
	return gomem_debugfs_dir;
}
