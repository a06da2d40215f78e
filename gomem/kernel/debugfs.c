// SPDX-License-Identifier: GPL-2.0
/*
 * gomem's debugfs directory, /sys/kernel/debug/gomem/. debugfs is optional:
 * if it cannot be created the module works without it and says so in its
 * feature bits.
 */

#define pr_fmt(fmt) "gomem: " fmt

#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/seq_file.h>
#include <linux/gomem.h>

#include "gomem.h"
#include "heap.h"

static struct dentry *gomem_debugfs_dir;
static struct dentry *gomem_debugfs_kheaps;
static struct dentry *gomem_debugfs_devheaps;

/* "info": the ABI and the module-wide counters, one "name value" per line. */
static int info_show(struct seq_file *seq, void *v)
{
	seq_printf(seq, "abi_version %u\n", GOMEM_ABI_VERSION);
	seq_printf(seq, "features 0x%llx\n", gomem_features());
	seq_printf(seq, "open_files %ld\n",
		   atomic_long_read(&gomem_stats.open_files));
	seq_printf(seq, "opens_total %lld\n",
		   atomic64_read(&gomem_stats.opens_total));
	seq_printf(seq, "user_pages %ld\n", atomic_long_read(&gomem_user_pages));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(info);

/* "heaps/total": every /dev/gomem heap, one line each, and the sums. */
static int total_show(struct seq_file *seq, void *v)
{
	gomem_dev_heaps_show(seq);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(total);

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
	/* Root only: statistics describe every user's heaps. */
	debugfs_create_file("info", 0400, dir, NULL, &info_fops);
	/* A table of constants: nothing to hide. */
	debugfs_create_file("sizeclasses", 0444, dir, NULL, &sizeclasses_fops);
	gomem_debugfs_kheaps = debugfs_create_dir("kheaps", dir);
	if (IS_ERR(gomem_debugfs_kheaps))
		gomem_debugfs_kheaps = NULL;
	gomem_debugfs_devheaps = debugfs_create_dir("heaps", dir);
	if (IS_ERR(gomem_debugfs_devheaps))
		gomem_debugfs_devheaps = NULL;
	else
		debugfs_create_file("total", 0400, gomem_debugfs_devheaps, NULL, &total_fops);
}

/**
 * gomem_debugfs_exit() - remove gomem's debugfs directory
 */
void gomem_debugfs_exit(void)
{
	debugfs_remove(gomem_debugfs_dir);
	gomem_debugfs_dir = NULL;
	gomem_debugfs_kheaps = NULL;
	gomem_debugfs_devheaps = NULL;
}

/**
 * gomem_debugfs_available() - whether gomem's debugfs directory exists
 *
 * Return: true once gomem_debugfs_init() created the directory.
 */
bool gomem_debugfs_available(void)
{
	return gomem_debugfs_dir;
}

/**
 * gomem_debugfs_heaps_dir() - where kernel heaps publish their files
 *
 * Return: /sys/kernel/debug/gomem/kheaps/, or NULL without debugfs.
 */
struct dentry *gomem_debugfs_heaps_dir(void)
{
	return gomem_debugfs_kheaps;
}

/**
 * gomem_debugfs_devheaps_dir() - where /dev/gomem heaps publish their files
 *
 * Return: /sys/kernel/debug/gomem/heaps/, or NULL without debugfs.
 */
struct dentry *gomem_debugfs_devheaps_dir(void)
{
	return gomem_debugfs_devheaps;
}
