// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests for gomem's debugfs files. The sizeclasses table must list
 * every class with the numbers of the generated tables, which the
 * gomem_sizeclasses KUnit suite checks against Go 1.21.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sizeclasses.h"
#include "kselftest_harness.h"

#define SIZECLASSES	"/sys/kernel/debug/gomem/sizeclasses"
#define HEADER		"class  bytes/obj  bytes/span  objects  tail waste  max waste  min align"

TEST(sizeclasses_table)
{
	unsigned int cls, size, span, objs, tail, align, rows = 0;
	char line[256];
	double waste;
	FILE *f;

	if (access(SIZECLASSES, R_OK))
		SKIP(return, "%s: %s (root and debugfs needed)", SIZECLASSES, strerror(errno));
	f = fopen(SIZECLASSES, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	line[strcspn(line, "\n")] = '\0';
	EXPECT_STREQ(HEADER, line);

	while (fgets(line, sizeof(line), f)) {
		int fields = sscanf(line, "%u %u %u %u %u %lf%% %u", &cls, &size,
				    &span, &objs, &tail, &waste, &align);

		ASSERT_EQ(7, fields) TH_LOG("%s", line);
		rows++;
		ASSERT_EQ(rows, cls);
		ASSERT_LT(cls, GM_NUM_SIZE_CLASSES);
		EXPECT_EQ(gm_class_to_size[cls], size);
		EXPECT_EQ(gm_class_to_npages[cls] * 8192U, span);
		EXPECT_EQ(span / size, objs);
		EXPECT_EQ(span % size, tail);
		EXPECT_GT(waste, 0.0);
		EXPECT_LT(waste, 100.0);
		EXPECT_EQ(0, size % align);
	}
	fclose(f);
	EXPECT_EQ(GM_NUM_SIZE_CLASSES - 1, rows);
}

TEST_HARNESS_MAIN
