/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * gomem: the Go runtime's allocator and garbage collector as a Linux
 * character device, /dev/gomem. This header is the ioctl ABI.
 *
 * Rules every command follows:
 *  - structures are made of __u32/__u64 fields, padded by hand to a
 *    multiple of 8 bytes; pointers travel as __u64;
 *  - fields marked "in" are read once, fields marked "out" are written only
 *    when the command succeeds;
 *  - flags the kernel does not know and non-zero reserved fields are
 *    refused with -EINVAL, so that they can be given a meaning later;
 *  - unknown commands fail with -ENOTTY.
 */
#ifndef _UAPI_LINUX_GOMEM_H
#define _UAPI_LINUX_GOMEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped on any incompatible change of this header. */
#define GOMEM_ABI_VERSION	1

/* ioctl type byte; unused in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define GOMEM_IOC_MAGIC		0xB9

/*
 * Feature bits reported by GOMEM_IOC_VERSION. A bit is set only when the
 * loaded module provides the feature right now.
 *
 * GOMEM_FEATURE_DEBUGFS: statistics are published under
 * /sys/kernel/debug/gomem/ (debugfs may be absent or disabled).
 */
#define GOMEM_FEATURE_DEBUGFS	(1ULL << 0)
#define GOMEM_FEATURES_ALL	(GOMEM_FEATURE_DEBUGFS)

/**
 * struct gomem_version - argument of GOMEM_IOC_VERSION
 * @abi_version: out: GOMEM_ABI_VERSION of the running module
 * @flags: in: must be 0
 * @features: out: GOMEM_FEATURE_* bits
 * @reserved: in: must be 0; out: 0
 */
struct gomem_version {
	__u32 abi_version;
	__u32 flags;
	__u64 features;
	__u64 reserved[2];
};

#define GOMEM_IOC_VERSION	_IOWR(GOMEM_IOC_MAGIC, 0x00, struct gomem_version)

#endif /* _UAPI_LINUX_GOMEM_H */
