// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/gomem: the character device through which userspace reaches gomem.
 * Each open gets a struct gomem_file of its own; ioctls are dispatched
 * through a table indexed by command number, on a kernel copy of the
 * argument, so that handlers never touch user memory themselves.
 */

#define pr_fmt(fmt) "gomem: " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/nospec.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/gomem.h>

#include "gomem.h"
#include "chardev.h"
#include "counters.h"
#include "devheap.h"
#include "devmem.h"
#include "params.h"

/* === ioctl handlers ===================================================== */

/**
 * gomem_version_get() - validate and answer a GOMEM_IOC_VERSION request
 * @v: kernel copy of the caller's argument; filled in on success
 *
 * Return: 0, or -EINVAL if a flag or a reserved field is set. On error
 * @v is left as the caller passed it.
 */
long gomem_version_get(struct gomem_version *v)
{
	if (v->flags || v->reserved[0] || v->reserved[1])
		return -EINVAL;

	memset(v, 0, sizeof(*v));
	v->abi_version = GOMEM_ABI_VERSION;
	v->features = gomem_features();
	return 0;
}
GOMEM_EXPORT_FOR_KUNIT(gomem_version_get);

static long gomem_ioc_version(struct gomem_file *gf, void *arg)
{
	return gomem_version_get(arg);
}

static long gomem_ioc_alloc(struct gomem_file *gf, void *arg)
{
	return gomem_dev_heap_alloc(gf, arg);
}

/* The caller never learnt the object's address: free it. */
static void gomem_ioc_alloc_undo(struct gomem_file *gf, void *arg)
{
	struct gomem_alloc *a = arg;
	struct gomem_free f = { .addr = a->addr };

	gomem_dev_heap_free(gf, &f, true);
}

static long gomem_ioc_alloc_bulk(struct gomem_file *gf, void *arg)
{
	return gomem_dev_heap_alloc_bulk(gf, arg);
}

static long gomem_ioc_free(struct gomem_file *gf, void *arg)
{
	return gomem_dev_heap_free(gf, arg, true);
}

static long gomem_ioc_size(struct gomem_file *gf, void *arg)
{
	return gomem_dev_heap_free(gf, arg, false);
}

static long gomem_ioc_stats(struct gomem_file *gf, void *arg)
{
	return gomem_dev_heap_stats(gf, arg);
}

static long gomem_ioc_class_stats(struct gomem_file *gf, void *arg)
{
	return gomem_dev_heap_class_stats(gf, arg);
}

static long gomem_ioc_scavenge(struct gomem_file *gf, void *arg)
{
	return gomem_dev_heap_scavenge(gf, arg);
}

static long gomem_ioc_set_cap(struct gomem_file *gf, void *arg)
{
	return gomem_dev_heap_set_cap(gf, arg);
}

static long gomem_ioc_root_add(struct gomem_file *gf, void *arg)
{
	return gomem_dev_heap_root(gf, arg, true);
}

static long gomem_ioc_root_del(struct gomem_file *gf, void *arg)
{
	return gomem_dev_heap_root(gf, arg, false);
}

static long gomem_ioc_gc(struct gomem_file *gf, void *arg)
{
	return gomem_dev_heap_gc(gf, arg);
}

static long gomem_ioc_set_gc(struct gomem_file *gf, void *arg)
{
	return gomem_dev_heap_set_gc(gf, arg);
}

static long gomem_ioc_prof_rate(struct gomem_file *gf, void *arg)
{
	return gomem_dev_heap_prof_rate(gf, arg);
}

static long gomem_ioc_prof_read(struct gomem_file *gf, void *arg)
{
	return gomem_dev_heap_prof_read(gf, arg);
}

/* === ioctl dispatch ===================================================== */

/* The size check makes an oversized argument a build error, not a stack overflow. */
#define GOMEM_IOCTL_DESC(c, n, f, u) \
	[_IOC_NR(c)] = { \
		.cmd = (c) + BUILD_BUG_ON_ZERO(_IOC_SIZE(c) > GOMEM_IOCTL_MAX_ARG), \
		.func = (f), \
		.undo = (u), \
		.name = (n), \
	}
/* The name is taken here: an argument passed on is expanded first. */
#define GOMEM_IOCTL(c, f)		GOMEM_IOCTL_DESC(c, #c, f, NULL)
#define GOMEM_IOCTL_UNDO(c, f, u)	GOMEM_IOCTL_DESC(c, #c, f, u)

static const struct gomem_ioctl_desc gomem_ioctls[] = {
	GOMEM_IOCTL(GOMEM_IOC_VERSION, gomem_ioc_version),
	GOMEM_IOCTL_UNDO(GOMEM_IOC_ALLOC, gomem_ioc_alloc, gomem_ioc_alloc_undo),
	GOMEM_IOCTL(GOMEM_IOC_ALLOC_BULK, gomem_ioc_alloc_bulk),
	GOMEM_IOCTL(GOMEM_IOC_FREE, gomem_ioc_free),
	GOMEM_IOCTL(GOMEM_IOC_SIZE, gomem_ioc_size),
	GOMEM_IOCTL(GOMEM_IOC_STATS, gomem_ioc_stats),
	GOMEM_IOCTL(GOMEM_IOC_CLASS_STATS, gomem_ioc_class_stats),
	GOMEM_IOCTL(GOMEM_IOC_SCAVENGE, gomem_ioc_scavenge),
	GOMEM_IOCTL(GOMEM_IOC_SET_CAP, gomem_ioc_set_cap),
	GOMEM_IOCTL(GOMEM_IOC_ROOT_ADD, gomem_ioc_root_add),
	GOMEM_IOCTL(GOMEM_IOC_ROOT_DEL, gomem_ioc_root_del),
	GOMEM_IOCTL(GOMEM_IOC_GC, gomem_ioc_gc),
	GOMEM_IOCTL(GOMEM_IOC_SET_GC, gomem_ioc_set_gc),
	GOMEM_IOCTL(GOMEM_IOC_PROF_RATE, gomem_ioc_prof_rate),
	GOMEM_IOCTL(GOMEM_IOC_PROF_READ, gomem_ioc_prof_read),
};

/**
 * gomem_ioctl_lookup() - find the handler of an ioctl command
 * @cmd: command number as passed to ioctl(2)
 *
 * The whole number must match, so a known command with another size or
 * direction (an old or foreign header) is refused like an unknown one.
 *
 * Return: the table entry, or NULL if @cmd is not a gomem command.
 */
const struct gomem_ioctl_desc *gomem_ioctl_lookup(unsigned int cmd)
{
	unsigned int nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) != GOMEM_IOC_MAGIC || nr >= ARRAY_SIZE(gomem_ioctls))
		return NULL;
	nr = array_index_nospec(nr, ARRAY_SIZE(gomem_ioctls));
	if (!gomem_ioctls[nr].func || gomem_ioctls[nr].cmd != cmd)
		return NULL;
	return &gomem_ioctls[nr];
}
GOMEM_EXPORT_FOR_KUNIT(gomem_ioctl_lookup);

static long gomem_ioctl(struct file *file, unsigned int cmd, unsigned long uarg)
{
	const struct gomem_ioctl_desc *desc = gomem_ioctl_lookup(cmd);
	void __user *uptr = (void __user *)uarg;
	u64 karg[GOMEM_IOCTL_MAX_ARG / sizeof(u64)];
	size_t size;
	long ret;

	if (!desc)
		return -ENOTTY;

	/* One copy in, so the handler sees a single consistent snapshot. */
	size = _IOC_SIZE(cmd);
	if (_IOC_DIR(cmd) & _IOC_WRITE) {
		if (copy_from_user(karg, uptr, size))
			return -EFAULT;
	} else {
		memset(karg, 0, size);
	}
	/*
	 * A command that fails changes nothing: an answer that cannot be
	 * written back (a read-only argument) fails before the command runs.
	 * Should it still fail afterwards (another thread changed the
	 * mapping), a command that made something the caller cannot know
	 * about takes it back.
	 */
	if ((_IOC_DIR(cmd) & _IOC_READ) && fault_in_safe_writeable(uptr, size))
		return -EFAULT;

	ret = desc->func(file->private_data, karg);
	if (ret)
		return ret;
	if ((_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(uptr, karg, size)) {
		if (desc->undo)
			desc->undo(file->private_data, karg);
		return -EFAULT;
	}
	return 0;
}

/* === open and release =================================================== */

/*
 * A file open for writing is a heap: its arenas are shared writable
 * mappings of the file. A read-only open only answers GOMEM_IOC_VERSION.
 */
static int gomem_open(struct inode *inode, struct file *file)
{
	struct gomem_file *gf;

	/* Userspace decides how many of these exist: charge them to it. */
	gf = kzalloc(sizeof(*gf), GFP_KERNEL_ACCOUNT);
	if (!gf)
		return -ENOMEM;
	if ((file->f_mode & FMODE_WRITE) && current->mm) {
		gf->heap = gomem_dev_heap_create(file);
		if (IS_ERR(gf->heap)) {
			long err = PTR_ERR(gf->heap);

			kfree(gf);
			return err;
		}
		gf->mem = gomem_dev_heap_mem(gf->heap);
	}

	gf->id = atomic64_inc_return(&gomem_counters[GOMEM_CTR_OPENS_TOTAL]);
	atomic64_inc(&gomem_counters[GOMEM_CTR_OPEN_FILES]);
	file->private_data = gf;
	return nonseekable_open(inode, file);
}

static int gomem_release(struct inode *inode, struct file *file)
{
	struct gomem_file *gf = file->private_data;

	atomic64_dec(&gomem_counters[GOMEM_CTR_OPEN_FILES]);
	if (gf->heap)
		gomem_dev_heap_destroy(gf->heap);
	kfree(gf);
	return 0;
}

static int gomem_flush(struct file *file, fl_owner_t id)
{
	struct gomem_file *gf = file->private_data;

	if (gf->heap)
		gomem_mem_flush(gf->mem);
	return 0;
}

static int gomem_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct gomem_file *gf = file->private_data;

	if (!gf->heap)
		return -EPERM;
	return gomem_mem_mmap(gf->mem, vma);
}

/*
 * Every mapping of the file, the program's mmap() and the copy that
 * mremap() would move an arena to, is placed here first: only the heap
 * maps, and only at its arenas' addresses.
 */
static unsigned long gomem_get_unmapped_area(struct file *file, unsigned long addr,
					     unsigned long len, unsigned long pgoff,
					     unsigned long flags)
{
	struct gomem_file *gf = file->private_data;

	if (!gf->heap)
		return -EPERM;
	return gomem_mem_get_unmapped_area(gf->mem, addr, len, pgoff, flags);
}

static const struct file_operations gomem_fops = {
	.owner		= THIS_MODULE,
	.open		= gomem_open,
	.release	= gomem_release,
	.mmap		= gomem_mmap,
	.get_unmapped_area = gomem_get_unmapped_area,
	.flush		= gomem_flush,
	.unlocked_ioctl	= gomem_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

/* Every user may open a heap of their own, hence 0666. */
static struct miscdevice gomem_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "gomem",
	.fops	= &gomem_fops,
	.mode	= 0666,
};

/**
 * gomem_chardev_init() - register /dev/gomem
 *
 * Return: 0 or the -errno of misc_register().
 */
int gomem_chardev_init(void)
{
	return misc_register(&gomem_misc);
}

/**
 * gomem_chardev_exit() - unregister /dev/gomem
 *
 * The module cannot be unloaded while a file is open (fops.owner holds a
 * reference), so no gomem_file outlives this.
 */
void gomem_chardev_exit(void)
{
	misc_deregister(&gomem_misc);
}
