// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for gomem's ioctl ABI: command lookup and the version
 * request, on kernel copies of the arguments (KUnit has no user memory).
 */

#include <kunit/test.h>
#include <linux/debugfs.h>
#include <linux/gomem.h>

#include "../chardev.h"
#include "../params.h"

static void version_answers(struct kunit *test)
{
	struct gomem_version v = { .abi_version = 0xdead };

	KUNIT_ASSERT_EQ(test, gomem_version_get(&v), 0);
	KUNIT_EXPECT_EQ(test, v.abi_version, GOMEM_ABI_VERSION);
	KUNIT_EXPECT_EQ(test, v.flags, 0);
	KUNIT_EXPECT_EQ(test, v.features, gomem_features());
	KUNIT_EXPECT_EQ(test, v.reserved[0], 0);
	KUNIT_EXPECT_EQ(test, v.reserved[1], 0);
}

/* A refused request leaves the argument exactly as the caller passed it. */
static void version_refuses_flags(struct kunit *test)
{
	struct gomem_version v = { .abi_version = 0xdead, .flags = 1 };
	struct gomem_version before = v;

	KUNIT_EXPECT_EQ(test, gomem_version_get(&v), -EINVAL);
	KUNIT_EXPECT_EQ(test, memcmp(&v, &before, sizeof(v)), 0);
}

static void version_refuses_reserved(struct kunit *test)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(((struct gomem_version *)NULL)->reserved); i++) {
		struct gomem_version v = { .features = 0x55 };
		struct gomem_version before;

		v.reserved[i] = 1ULL << 63;
		before = v;
		KUNIT_EXPECT_EQ_MSG(test, gomem_version_get(&v), -EINVAL,
				    "reserved[%d]", i);
		KUNIT_EXPECT_EQ(test, memcmp(&v, &before, sizeof(v)), 0);
	}
}

static void features_match_module(struct kunit *test)
{
	struct dentry *dir = debugfs_lookup("gomem", NULL);
	u64 features = gomem_features();

	KUNIT_EXPECT_EQ(test, features & ~GOMEM_FEATURES_ALL, 0);
	KUNIT_EXPECT_EQ(test, !!(features & GOMEM_FEATURE_DEBUGFS),
			!IS_ERR_OR_NULL(dir));
	dput(dir);
}

static void lookup_finds_version(struct kunit *test)
{
	const struct gomem_ioctl_desc *desc = gomem_ioctl_lookup(GOMEM_IOC_VERSION);

	KUNIT_ASSERT_NOT_NULL(test, desc);
	KUNIT_EXPECT_EQ(test, desc->cmd, GOMEM_IOC_VERSION);
	KUNIT_EXPECT_STREQ(test, desc->name, "GOMEM_IOC_VERSION");
	KUNIT_EXPECT_LE(test, _IOC_SIZE(desc->cmd), GOMEM_IOCTL_MAX_ARG);
}

struct bogus_cmd {
	const char *what;
	unsigned int cmd;
};

static const struct bogus_cmd bogus_cmds[] = {
	{ "other type byte", _IOWR('X', 0x00, struct gomem_version) },
	{ "unused number", _IOWR(GOMEM_IOC_MAGIC, 0x7f, struct gomem_version) },
	{ "last number", _IO(GOMEM_IOC_MAGIC, 0xff) },
	{ "version, wrong size", _IOWR(GOMEM_IOC_MAGIC, 0x00, __u64) },
	{ "version, read only", _IOR(GOMEM_IOC_MAGIC, 0x00, struct gomem_version) },
	{ "version, no direction", _IO(GOMEM_IOC_MAGIC, 0x00) },
	{ "zero", 0 },
};

static void bogus_cmd_desc(const struct bogus_cmd *b, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s (0x%08x)", b->what, b->cmd);
}
KUNIT_ARRAY_PARAM(bogus_cmd, bogus_cmds, bogus_cmd_desc);

static void lookup_refuses(struct kunit *test)
{
	const struct bogus_cmd *b = test->param_value;

	KUNIT_EXPECT_NULL(test, gomem_ioctl_lookup(b->cmd));
}

static struct kunit_case gomem_abi_cases[] = {
	KUNIT_CASE(version_answers),
	KUNIT_CASE(version_refuses_flags),
	KUNIT_CASE(version_refuses_reserved),
	KUNIT_CASE(features_match_module),
	KUNIT_CASE(lookup_finds_version),
	KUNIT_CASE_PARAM(lookup_refuses, bogus_cmd_gen_params),
	{}
};

static struct kunit_suite gomem_abi_suite = {
	.name = "gomem_abi",
	.test_cases = gomem_abi_cases,
};
kunit_test_suite(gomem_abi_suite);

MODULE_DESCRIPTION("KUnit tests for gomem");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(GOMEM_KUNIT);
