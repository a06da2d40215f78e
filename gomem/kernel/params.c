// SPDX-License-Identifier: GPL-2.0
/*
 * gomem's module parameters and its feature bits, in one place. Every
 * other file reads them through the accessors below; this file calls none
 * of them (Documentation/layers.rst, "The kernel face").
 */

#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/gomem.h>

#include "gomem.h"
#include "params.h"

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
	return set_ranged(val, kp, 1, GOMEM_HEAP_ID_MAX, false, 0);
}

/* Each parameter is an int with a setter of its own that checks its range. */
#define GOMEM_PARAM_OPS(name)					\
static const struct kernel_param_ops name##_ops = {		\
	.set = set_##name,					\
	.get = param_get_int,					\
}

GOMEM_PARAM_OPS(gogc);
GOMEM_PARAM_OPS(gctrace);
GOMEM_PARAM_OPS(scavenge_percent);
GOMEM_PARAM_OPS(max_heaps_per_user);

/* In any file of gomem.ko these are still gomem.<name>: the prefix is the module's. */
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

/* === features =========================================================== */

/*
 * Heaps and the collector are always there; the others are set by the
 * file that provides them once it has (debugfs.c for
 * GOMEM_FEATURE_DEBUGFS), so that this file asks nobody.
 */
static u64 gomem_feature_bits = GOMEM_FEATURE_HEAP | GOMEM_FEATURE_GC;

/**
 * gomem_features() - the GOMEM_FEATURE_* bits this module provides now
 *
 * Return: a mask within GOMEM_FEATURES_ALL.
 */
u64 gomem_features(void)
{
	return READ_ONCE(gomem_feature_bits);
}
GOMEM_EXPORT_FOR_KUNIT(gomem_features);

/**
 * gomem_features_set() - say that a feature is provided, or no longer
 * @bits: GOMEM_FEATURE_* bits
 * @on: provided from now on, rather than no longer
 *
 * Context: module init and exit, which do not run at once.
 */
void gomem_features_set(u64 bits, bool on)
{
	u64 f = READ_ONCE(gomem_feature_bits);

	WRITE_ONCE(gomem_feature_bits, on ? f | bits : f & ~bits);
}
