/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel interfaces that differ between the kernels gomem is built
 * for (Debian 12's 6.1 and 6.12), in one place: the code uses the newer
 * kernel's names, and this header gives them to the older kernel. Each
 * entry names the change that made it necessary. It sits at the bottom of
 * the kernel's layers, so that the platform layer and the kernel face can
 * both include it; the core never does.
 *
 * Differences that needed no conditional:
 * - 6.12 removed no_llseek ("[tree-wide] finally take no_llseek out");
 *   since 6.0 ("fs: remove no_llseek") it was a define of NULL, and a
 *   NULL ->llseek makes do_dentry_open() clear FMODE_LSEEK after ->open,
 *   so lseek() on /dev/gomem fails with -ESPIPE on both kernels without it.
 */
#ifndef _GOMEM_PLATFORM_KERNEL_COMPAT_H
#define _GOMEM_PLATFORM_KERNEL_COMPAT_H

#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/version.h>

/*
 * The largest order the buddy allocator hands out. 6.4 made MAX_ORDER
 * that order, inclusive ("mm, treewide: redefine MAX_ORDER sanely"; it
 * used to be one more), and 6.8 renamed it MAX_PAGE_ORDER ("mm, treewide:
 * rename MAX_ORDER to MAX_PAGE_ORDER").
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define MAX_PAGE_ORDER (MAX_ORDER - 1)
#elif LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
#define MAX_PAGE_ORDER MAX_ORDER
#endif

/*
 * 6.3 made vma->vm_flags read-only outside mm and added vm_flags_set(),
 * which also write-locks the VMA for per-VMA locking ("mm: introduce
 * vma->vm_flags wrapper functions"). Before, a driver set the flags
 * directly, under the mmap_lock held for writing as now.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}
#endif

#endif /* _GOMEM_PLATFORM_KERNEL_COMPAT_H */
