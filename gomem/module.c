// SPDX-License-Identifier: GPL-2.0
/*
 * gomem: the Go runtime's memory allocator and garbage collector, on top
 * of the kernel's page allocator. This file loads and unloads the module.
 */

#define pr_fmt(fmt) "gomem: " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/gomem.h>

#include "gomem.h"

struct gomem_module_stats gomem_stats;

/**
 * gomem_features() - the GOMEM_FEATURE_* bits this module provides now
 *
 * Return: a mask within GOMEM_FEATURES_ALL.
 */
u64 gomem_features(void)
{
	u64 features = GOMEM_FEATURE_HEAP;

	if (gomem_debugfs_available())
		features |= GOMEM_FEATURE_DEBUGFS;
	return features;
}
GOMEM_EXPORT_FOR_KUNIT(gomem_features);

static int __init gomem_init(void)
{
	int ret;

	gomem_debugfs_init();
	ret = gomem_kheap_init();
	if (ret) {
		pr_err("cannot create the kernel heap: %d\n", ret);
		goto out_debugfs;
	}
	ret = gomem_chardev_init();
	if (ret) {
		pr_err("cannot register /dev/gomem: %d\n", ret);
		goto out_kheap;
	}
	pr_info("loaded, ABI version %u\n", GOMEM_ABI_VERSION);
	return 0;

out_kheap:
	gomem_kheap_exit();
out_debugfs:
	gomem_debugfs_exit();
	return ret;
}

static void __exit gomem_exit(void)
{
	gomem_chardev_exit();
	gomem_kheap_exit();
	gomem_debugfs_exit();
	pr_info("unloaded\n");
}

module_init(gomem_init);
module_exit(gomem_exit);

MODULE_DESCRIPTION("Go-style memory allocator and garbage collector");
MODULE_LICENSE("GPL");
