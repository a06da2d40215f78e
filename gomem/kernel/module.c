// SPDX-License-Identifier: GPL-2.0
/*
 * gomem: the Go runtime's memory allocator and garbage collector, on top
 * of the kernel's page allocator. This file loads and unloads the module.
 */

#define pr_fmt(fmt) "gomem: " fmt

#include <linux/init.h>
#include <linux/moduleparam.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/gomem.h>

#include "gomem.h"

struct gomem_module_stats gomem_stats;

/* === parameters ========================================================= */

static int gomem_gogc = 100;
static int gomem_gctrace;
static int gomem_scavenge_percent = 1;
static int gomem_max_heaps_per_user = 128;

/* An int parameter with a range; "off" means @off_value where it has one. */
static int set_ranged(const char *val, const struct kernel_param *kp, int min, int max,
		      bool has_off, int off_value)
{
	int v, ret;

	if (has_off && sysfs_streq(val, "off")) {
		v = off_value;
	} else {
		ret = kstrtoint(val, 0, &v);
		if (ret)
			return ret;
	}
	if (v < min || v > max)
		return -EINVAL;
	WRITE_ONCE(*(int *)kp->arg, v);
	return 0;
}

static int set_gogc(const char *val, const struct kernel_param *kp)
{
	return set_ranged(val, kp, GOMEM_GOGC_OFF, INT_MAX, true, GOMEM_GOGC_OFF);
}

static int set_gctrace(const char *val, const struct kernel_param *kp)
{
	return set_ranged(val, kp, 0, 1, false, 0);
}

static int set_scavenge_percent(const char *val, const struct kernel_param *kp)
{
	return set_ranged(val, kp, 1, 100, false, 0);
}

/* Heap ids are a space of 32767 shared by all users: see devmem.c. */
static int set_max_heaps_per_user(const char *val, const struct kernel_param *kp)
{
	return set_ranged(val, kp, 1, (1 << GOMEM_MEM_ID_BITS) - 1, false, 0);
}

static const struct kernel_param_ops gogc_ops = {
	.set = set_gogc,
	.get = param_get_int,
};

static const struct kernel_param_ops gctrace_ops = {
	.set = set_gctrace,
	.get = param_get_int,
};

static const struct kernel_param_ops scavenge_percent_ops = {
	.set = set_scavenge_percent,
	.get = param_get_int,
};

static const struct kernel_param_ops max_heaps_per_user_ops = {
	.set = set_max_heaps_per_user,
	.get = param_get_int,
};

module_param_cb(gogc, &gogc_ops, &gomem_gogc, 0644);
MODULE_PARM_DESC(gogc, "GOGC of new heaps: percent of growth over the live heap before a cycle, -1 or off to disable automatic GC (default 100)");
module_param_cb(gctrace, &gctrace_ops, &gomem_gctrace, 0644);
MODULE_PARM_DESC(gctrace, "1: log one line per GC cycle in the format of Go's GODEBUG=gctrace=1 (default 0)");
module_param_cb(scavenge_percent, &scavenge_percent_ops, &gomem_scavenge_percent, 0644);
MODULE_PARM_DESC(scavenge_percent, "CPU percent the background scavenger of each heap may use, 1..100 (default 1, as Go's)");
module_param_cb(max_heaps_per_user, &max_heaps_per_user_ops, &gomem_max_heaps_per_user, 0644);
MODULE_PARM_DESC(max_heaps_per_user, "/dev/gomem heaps one user may have open at once, 1..32767 (default 128, as inotify's max_user_instances)");

/**
 * gomem_param_gogc() - the GOGC new heaps start with
 *
 * Return: a percent, or GOMEM_GOGC_OFF.
 */
int gomem_param_gogc(void)
{
	return READ_ONCE(gomem_gogc);
}

/**
 * gomem_param_gctrace() - whether each GC cycle logs a gctrace line
 *
 * Return: the gctrace level, 0 or 1.
 */
int gomem_param_gctrace(void)
{
	return READ_ONCE(gomem_gctrace);
}

/**
 * gomem_param_scavenge_percent() - the background scavenger's CPU budget
 *
 * Return: a percent, 1..100.
 */
int gomem_param_scavenge_percent(void)
{
	return READ_ONCE(gomem_scavenge_percent);
}

/**
 * gomem_param_max_heaps_per_user() - how many heaps one user may have open
 *
 * Return: the limit, 1..32767.
 */
int gomem_param_max_heaps_per_user(void)
{
	return READ_ONCE(gomem_max_heaps_per_user);
}

/**
 * gomem_features() - the GOMEM_FEATURE_* bits this module provides now
 *
 * Return: a mask within GOMEM_FEATURES_ALL.
 */
u64 gomem_features(void)
{
	u64 features = GOMEM_FEATURE_HEAP | GOMEM_FEATURE_GC;

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
