// SPDX-License-Identifier: GPL-2.0
/*
 * A heap's profile (the core's mprof.c) as the dump of the uapi header:
 * a struct gomem_prof_header, then each record with its frames. The
 * ioctl of a heap's own file copies it to its process (devheap.c); root
 * reads any heap's in debugfs. Userspace turns it into pprof's format
 * (gomemctl pprof).
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <uapi/linux/gomem.h>

#include "gomem.h"
#include "heap.h"
#include "heapprof.h"
#include "heaps.h"

static_assert(GOMEM_PROF_MAX_DEPTH == GM_PROF_DEPTH);
static_assert(GOMEM_PROF_DEFAULT_RATE == GM_PROF_DEFAULT_RATE);
static_assert(GOMEM_PROF_MAX_RATE == GM_PROF_MAX_RATE);

/* The records, read twice: once for their number, once into room for them. */
static struct gm_prof_record *read_records(struct gm_heap *gm, struct gm_prof_info *info,
					   size_t *n)
{
	struct gm_prof_record *recs;
	size_t room;

	gm_heap_profile_read(gm, NULL, 0, info);
	/* Room for a few more stacks found meanwhile; the rest wait for the next read. */
	room = info->buckets + 16;
	recs = kvmalloc_array(room, sizeof(*recs), GOMEM_IOCTL_GFP);
	if (!recs)
		return NULL;
	*n = gm_heap_profile_read(gm, recs, room, info);
	return recs;
}

static size_t dump_size(const struct gm_prof_record *recs, size_t n)
{
	size_t size = sizeof(struct gomem_prof_header), i;

	for (i = 0; i < n; i++)
		size += sizeof(struct gomem_prof_record) + recs[i].depth * sizeof(__u64);
	return size;
}

static void dump_fill(void *buf, const struct gm_prof_info *info,
		      const struct gm_prof_record *recs, size_t n)
{
	struct gomem_prof_header *hdr = buf;
	void *pos = hdr + 1;
	size_t i;
	u32 d;

	hdr->magic = GOMEM_PROF_MAGIC;
	hdr->version = GOMEM_PROF_VERSION;
	hdr->flags = info->user_stacks ? GOMEM_PROF_USER_STACKS : GOMEM_PROF_KERNEL_STACKS;
	hdr->rate = info->rate;
	hdr->nrecords = n;
	hdr->objects = info->objects;
	hdr->dropped = info->dropped;
	hdr->meta_bytes = info->meta_bytes;
	for (i = 0; i < n; i++) {
		struct gomem_prof_record *r = pos;
		__u64 *pcs = (__u64 *)(r + 1);

		r->allocs = recs[i].allocs;
		r->frees = recs[i].frees;
		r->alloc_bytes = recs[i].alloc_bytes;
		r->free_bytes = recs[i].free_bytes;
		r->depth = recs[i].depth;
		r->reserved = 0;
		for (d = 0; d < recs[i].depth; d++)
			pcs[d] = recs[i].pcs[d];
		pos = pcs + recs[i].depth;
	}
}

/**
 * gomem_heapprof_dump() - a heap's profile as a dump of the uapi format
 * @gm: the heap
 * @size: set to the dump's bytes
 *
 * Kernel stacks are kernel addresses: the caller gives them to root only
 * (debugfs). The heap of a process records user stacks only.
 *
 * Return: the dump (kvfree() it), or NULL if memory ran out.
 */
void *gomem_heapprof_dump(struct gm_heap *gm, size_t *size)
{
	struct gm_prof_record *recs;
	struct gm_prof_info info;
	void *buf = NULL;
	size_t n = 0;

	recs = read_records(gm, &info, &n);
	if (!recs)
		return NULL;
	*size = dump_size(recs, n);
	buf = kvzalloc(*size, GOMEM_IOCTL_GFP);
	if (buf)
		dump_fill(buf, &info, recs, n);
	kvfree(recs);
	return buf;
}

/* === debugfs ============================================================ */

struct heapprof_file {
	size_t size;
	void *data;
};

/* The dump is taken once, at open, so that reads see one consistent profile. */
static int heapprof_open(struct inode *inode, struct file *file)
{
	struct gomem_heap_entry *e = inode->i_private;
	struct heapprof_file *hf;

	hf = kzalloc(sizeof(*hf), GFP_KERNEL_ACCOUNT);
	if (!hf)
		return -ENOMEM;
	hf->data = gomem_heapprof_dump(e->gm, &hf->size);
	if (!hf->data) {
		kfree(hf);
		return -ENOMEM;
	}
	file->private_data = hf;
	return 0;
}

static ssize_t heapprof_read(struct file *file, char __user *buf, size_t len, loff_t *pos)
{
	struct heapprof_file *hf = file->private_data;

	return simple_read_from_buffer(buf, len, pos, hf->data, hf->size);
}

static int heapprof_release(struct inode *inode, struct file *file)
{
	struct heapprof_file *hf = file->private_data;

	kvfree(hf->data);
	kfree(hf);
	return 0;
}

const struct file_operations gomem_heap_prof_fops = {
	.owner = THIS_MODULE,
	.open = heapprof_open,
	.read = heapprof_read,
	.llseek = default_llseek,
	.release = heapprof_release,
};

/*
 * heapprof_rate: the rate in bytes, as gm_heap_set_profile_rate() takes it.
 * Kernel heaps only: a process sets its own heap's with GOMEM_IOC_PROF_RATE.
 */
static int heapprof_rate_get(void *data, u64 *val)
{
	struct gomem_heap_entry *e = data;
	struct gm_prof_info info;

	gm_heap_profile_read(e->gm, NULL, 0, &info);
	*val = info.rate;
	return 0;
}

static int heapprof_rate_set(void *data, u64 val)
{
	struct gomem_heap_entry *e = data;

	gm_heap_set_profile_rate(e->gm, val);
	return 0;
}

static int heapprof_rate_open(struct inode *inode, struct file *file)
{
	return simple_attr_open(inode, file, heapprof_rate_get, heapprof_rate_set, "%llu\n");
}

/* The registry creates it with debugfs_create_file(): the proxy guards removal. */
const struct file_operations gomem_heap_prof_rate_fops = {
	.owner = THIS_MODULE,
	.open = heapprof_rate_open,
	.release = simple_attr_release,
	.read = simple_attr_read,
	.write = simple_attr_write,
	.llseek = generic_file_llseek,
};
