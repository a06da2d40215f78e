// SPDX-License-Identifier: GPL-2.0
/*
 * gomem: the Go runtime's memory allocator and garbage collector, on top
 * of the kernel's page allocator. This file loads and unloads the module.
 *
 * The files of the kernel face call only down this list (and into the
 * core); none calls back into this file (Documentation/layers.rst, "The
 * kernel face"):
 *
 *   module.c               init and exit of all the others, nothing else
 *   chardev.c              /dev/gomem: opens, mappings, the ioctl table
 *   devheap.c  kheap.c     the two kinds of heap
 *   devmem.c   heaps.c     a /dev/gomem heap's memory; the heap registry
 *   debugfs.c              /sys/kernel/debug/gomem/
 *   params.c   counters.c  parameters and features; counters
 */

#define pr_fmt(fmt) "gomem: " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/gomem.h>

#include "chardev.h"
#include "debugfs.h"
#include "devheap.h"
#include "heaps.h"
#include "kheap.h"

/* The registry, then the kernel heap: either failing is the kernel heap's failure. */
static int __init gomem_heaps_up(void)
{
	int ret = gomem_heaps_init();

	if (!ret) {
		ret = gomem_kheap_init();
		if (ret)
			gomem_heaps_exit();
	}
	if (ret)
		pr_err("cannot create the kernel heap: %d\n", ret);
	return ret;
}

static void gomem_heaps_down(void)
{
	gomem_kheap_exit();
	gomem_heaps_exit();
}

static int __init gomem_init(void)
{
	int ret;

	gomem_debugfs_init();
	ret = gomem_heaps_up();
	if (ret)
		goto out_debugfs;
	gomem_devheap_init();
	ret = gomem_chardev_init();
	if (ret) {
		pr_err("cannot register /dev/gomem: %d\n", ret);
		goto out_heaps;
	}
	pr_info("loaded, ABI version %u\n", GOMEM_ABI_VERSION);
	return 0;

out_heaps:
	gomem_devheap_exit();
	gomem_heaps_down();
out_debugfs:
	gomem_debugfs_exit();
	return ret;
}

static void __exit gomem_exit(void)
{
	gomem_chardev_exit();
	gomem_devheap_exit();
	gomem_heaps_down();
	gomem_debugfs_exit();
	pr_info("unloaded\n");
}

module_init(gomem_init);
module_exit(gomem_exit);

MODULE_DESCRIPTION("Go-style memory allocator and garbage collector");
MODULE_LICENSE("GPL");
MODULE_VERSION(GOMEM_VERSION);
