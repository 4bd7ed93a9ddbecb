// SPDX-License-Identifier: GPL-2.0
/*
 * dev.c - /dev/sakura: REGISTER, RUN_WORKER, KICK, STATUS, UNREGISTER, the
 * shared area's mmap and poll() for completions and log records.
 *
 * One open file registers at most one server. The file holds a reference on
 * the server and each mapping holds another, so the shared pages outlive
 * neither; the file itself pins the module (fops.owner), so rmmod is refused
 * while a server is registered or mapped. ->release may run after the
 * process's memory is gone (kill -9): it copies nothing from user space and
 * waits for nothing.
 */
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "sakura.h"
#include "compat.h"

DEFINE_MUTEX(sakura_lock);
LIST_HEAD(sakura_servers);

static struct sakura_server *sakura_file_server(struct file *file)
{
	/* pairs with the release store in sakura_register() */
	return smp_load_acquire((struct sakura_server **)&file->private_data);
}

/* --- lifetime --- */

static void sakura_server_free(struct kref *ref)
	__releases(&sakura_lock)
{
	struct sakura_server *srv = container_of(ref, struct sakura_server, ref);
	u32 i;

	list_del(&srv->node);
	mutex_unlock(&sakura_lock);
	for (i = 0; i < srv->ncores; i++)
		sakura_core_teardown(&srv->cores[i]);
	path_put(&srv->root);
	put_pid(srv->tgid);
	kvfree(srv->mime);
	vfree(srv->shm);
	kvfree(srv);
}

void sakura_server_put(struct sakura_server *srv)
{
	kref_put_mutex(&srv->ref, sakura_server_free, &sakura_lock);
}

static void sakura_server_stop(struct sakura_server *srv)
{
	u32 i;

	WRITE_ONCE(srv->stopped, true);
	WRITE_ONCE(srv->ctrl->state, SAKURA_STATE_STOPPED);
	for (i = 0; i < srv->ncores; i++)
		sakura_core_kick(&srv->cores[i]);
	wake_up_interruptible_poll(&srv->poll_wq, EPOLLHUP);
}

/* --- REGISTER --- */

static bool sakura_ring_size_ok(u32 n, u32 max)
{
	return n && n <= max && is_power_of_2(n);
}

static bool sakura_timeout_ok(u32 ms)
{
	return ms && ms <= SAKURA_TIMEOUT_MAX_MS;
}

static int sakura_register_check(const struct sakura_register *r)
{
	u32 i;

	if (r->abi_version != SAKURA_ABI_VERSION)
		return -EPROTO;
	if ((r->flags & ~SAKURA_REG_FLAGS) || r->reserved_in)
		return -EINVAL;
	if (!r->ncores || r->ncores > SAKURA_MAX_CORES ||
	    !sakura_ring_size_ok(r->sq_entries, SAKURA_SQ_MAX) ||
	    !sakura_ring_size_ok(r->cq_entries, SAKURA_CQ_MAX) ||
	    !sakura_ring_size_ok(r->log_entries, SAKURA_LOG_MAX) ||
	    r->cq_entries < 2)
		return -EINVAL;
	if (!sakura_timeout_ok(r->header_timeout_ms) ||
	    !sakura_timeout_ok(r->keepalive_timeout_ms) ||
	    !sakura_timeout_ok(r->send_timeout_ms) ||
	    !sakura_timeout_ok(r->linger_timeout_ms))
		return -EINVAL;
	/* a plain file name: the handler appends it to a directory path */
	if (!r->index_len || r->index_len >= SAKURA_INDEX_MAX)
		return -EINVAL;
	for (i = 0; i < r->index_len; i++)
		if (r->index[i] == '/' || r->index[i] == '\0')
			return -EINVAL;
	if ((r->index_len == 1 && r->index[0] == '.') ||
	    (r->index_len == 2 && r->index[0] == '.' && r->index[1] == '.'))
		return -EINVAL;
	if (r->mime_len < sizeof(struct ks_mime_table) ||
	    r->mime_len > SAKURA_MIME_MAX)
		return -EINVAL;
	return 0;
}

/* The mapping's layout for these ring sizes; -E2BIG when too large. */
static int sakura_layout(const struct sakura_register *r,
			 struct sakura_layout *l)
{
	u64 sq = PAGE_ALIGN((u64)r->sq_entries * sizeof(struct sakura_sqe));
	u64 cq = PAGE_ALIGN((u64)r->cq_entries * sizeof(struct sakura_cqe));
	u64 log = PAGE_ALIGN((u64)r->log_entries *
			     sizeof(struct sakura_log_rec));

	memset(l, 0, sizeof(*l));
	l->ctrl_off = 0;
	l->core_off = PAGE_SIZE;
	l->sq_off = PAGE_SIZE;
	l->cq_off = l->sq_off + sq;
	l->log_off = l->cq_off + cq;
	l->core_size = l->log_off + log;
	l->mmap_size = l->core_off + (u64)r->ncores * l->core_size;
	l->sqe_size = sizeof(struct sakura_sqe);
	l->cqe_size = sizeof(struct sakura_cqe);
	l->log_rec_size = sizeof(struct sakura_log_rec);
	return l->mmap_size > SAKURA_MMAP_MAX ? -E2BIG : 0;
}

/* Pin the docroot: a directory fd of the caller's, O_PATH or not. */
static int sakura_root_get(s32 fd, struct path *root)
{
	struct file *f;
	int err = 0;

	if (fd < 0)
		return -EBADF;
	f = fget_raw(fd);	/* O_PATH files too */
	if (!f)
		return -EBADF;
	if (d_can_lookup(f->f_path.dentry)) {
		*root = f->f_path;
		path_get(root);
	} else {
		err = -ENOTDIR;
	}
	fput(f);
	return err;
}

static struct ks_mime_table *sakura_mime_copy(u64 uptr, u32 len)
{
	struct ks_mime_table *t = kvmalloc(len, GFP_KERNEL_ACCOUNT);

	if (!t)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(t, u64_to_user_ptr(uptr), len)) {
		kvfree(t);
		return ERR_PTR(-EFAULT);
	}
	if (ks_mime_check(t, len)) {
		kvfree(t);
		return ERR_PTR(-EINVAL);
	}
	return t;
}

static void sakura_config_init(struct ks_config *cfg,
			       const struct sakura_register *r,
			       const struct ks_mime_table *mime)
{
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->index, r->index, r->index_len);
	cfg->index[r->index_len] = '\0';
	cfg->index_len = r->index_len;
	cfg->serve_hidden = r->flags & SAKURA_REG_SERVE_HIDDEN;
	cfg->access_log = r->flags & SAKURA_REG_ACCESS_LOG;
	cfg->header_timeout_ms = r->header_timeout_ms;
	cfg->keepalive_timeout_ms = r->keepalive_timeout_ms;
	cfg->send_timeout_ms = r->send_timeout_ms;
	cfg->linger_timeout_ms = r->linger_timeout_ms;
	cfg->mime = mime;
}

static void sakura_ring_init(struct sakura_ring *ring, u32 entries)
{
	WRITE_ONCE(ring->entries, entries);
}

static void sakura_core_init(struct sakura_server *srv, u32 i,
			     const struct sakura_register *r)
{
	struct sakura_core *core = &srv->cores[i];
	const struct sakura_layout *l = &srv->layout;
	char *base = (char *)srv->shm + l->core_off + i * l->core_size;

	core->srv = srv;
	core->idx = i;
	core->hdr = (struct sakura_core_hdr *)base;
	core->sq = (struct sakura_sqe *)(base + l->sq_off);
	core->cq = (struct sakura_cqe *)(base + l->cq_off);
	core->log = (struct sakura_log_rec *)(base + l->log_off);
	core->sq_entries = r->sq_entries;
	core->cq_entries = r->cq_entries;
	core->log_entries = r->log_entries;
	init_waitqueue_head(&core->wq);
	spin_lock_init(&core->ready_lock);
	INIT_LIST_HEAD(&core->ready);
	INIT_LIST_HEAD(&core->conns);
	INIT_LIST_HEAD(&core->done);
	ks_worker_init(&core->w, &sakura_io_ops, &srv->cfg, core);
	sakura_ring_init(&core->hdr->sq, r->sq_entries);
	sakura_ring_init(&core->hdr->cq, r->cq_entries);
	sakura_ring_init(&core->hdr->log, r->log_entries);
	/* no worker yet: a Sakura Call must KICK */
	WRITE_ONCE(core->hdr->sq.flags, SAKURA_SQ_NEED_WAKEUP);
}

static struct sakura_server *sakura_server_new(const struct sakura_register *r)
{
	struct sakura_server *srv;
	int err;
	u32 i;

	srv = kvzalloc(struct_size(srv, cores, r->ncores), GFP_KERNEL_ACCOUNT);
	if (!srv)
		return ERR_PTR(-ENOMEM);
	kref_init(&srv->ref);
	INIT_LIST_HEAD(&srv->node);
	init_waitqueue_head(&srv->poll_wq);
	srv->ncores = r->ncores;
	err = sakura_layout(r, &srv->layout);
	if (err)
		goto err_free;
	err = sakura_root_get(r->root_fd, &srv->root);
	if (err)
		goto err_free;
	srv->mime = sakura_mime_copy(r->mime_ptr, r->mime_len);
	if (IS_ERR(srv->mime)) {
		err = PTR_ERR(srv->mime);
		goto err_root;
	}
	srv->shm_size = srv->layout.mmap_size;
	srv->shm = vmalloc_user(srv->shm_size);
	if (!srv->shm) {
		err = -ENOMEM;
		goto err_mime;
	}
	srv->ctrl = srv->shm;
	srv->ctrl->abi_version = SAKURA_ABI_VERSION;
	srv->ctrl->ncores = r->ncores;
	srv->ctrl->mode = SAKURA_MODE_SUPERVISOR;
	srv->ctrl->state = SAKURA_STATE_RUNNING;
	sakura_config_init(&srv->cfg, r, srv->mime);
	for (i = 0; i < r->ncores; i++)
		sakura_core_init(srv, i, r);
	srv->tgid = get_pid(task_tgid(current));
	return srv;

err_mime:
	kvfree(srv->mime);
err_root:
	path_put(&srv->root);
err_free:
	kvfree(srv);
	return ERR_PTR(err);
}

static long sakura_register(struct file *file, void __user *arg)
{
	struct sakura_register __user *uarg = arg;
	struct sakura_server *srv;
	struct sakura_register r;
	long err;

	if (!file_ns_capable(file, &init_user_ns, CAP_NET_ADMIN))
		return -EPERM;
	if (copy_from_user(&r, uarg, sizeof(r)))
		return -EFAULT;
	err = sakura_register_check(&r);
	if (err)
		return err;
	if (sakura_file_server(file))
		return -EBUSY;
	/* built and copied out unlocked: user copies may fault and sleep */
	srv = sakura_server_new(&r);
	if (IS_ERR(srv))
		return PTR_ERR(srv);
	/* the layout is zeroed by sakura_layout(): no kernel bytes leak */
	if (copy_to_user(&uarg->layout, &srv->layout, sizeof(srv->layout))) {
		err = -EFAULT;
		goto err_put;
	}
	mutex_lock(&sakura_lock);
	if (file->private_data) {	/* a concurrent REGISTER won */
		mutex_unlock(&sakura_lock);
		err = -EBUSY;
		goto err_put;
	}
	list_add_tail(&srv->node, &sakura_servers);
	smp_store_release((struct sakura_server **)&file->private_data, srv);
	mutex_unlock(&sakura_lock);
	return 0;

err_put:
	sakura_server_put(srv);
	return err;
}

/* --- the other commands --- */

static long sakura_core_arg_get(struct sakura_server *srv, void __user *arg,
				struct sakura_core **core)
{
	struct sakura_core_arg a;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.flags || a.core >= srv->ncores)
		return -EINVAL;
	*core = &srv->cores[array_index_nospec(a.core, srv->ncores)];
	return 0;
}

static long sakura_status(struct sakura_server *srv, void __user *arg)
{
	struct sakura_status st;
	u32 core, flags, i;

	if (get_user(core, (u32 __user *)arg) ||
	    get_user(flags, (u32 __user *)arg + 1))
		return -EFAULT;
	if (flags)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	st.core = core;
	st.abi_version = SAKURA_ABI_VERSION;
	if (srv) {
		if (core != SAKURA_STATUS_ALL && core >= srv->ncores)
			return -EINVAL;
		st.registered = 1;
		st.mode = SAKURA_MODE_SUPERVISOR;
		st.state = READ_ONCE(srv->stopped) ? SAKURA_STATE_STOPPED :
						     SAKURA_STATE_RUNNING;
		st.ncores = srv->ncores;
		for (i = 0; i < srv->ncores; i++) {
			struct sakura_core *c = &srv->cores[i];

			if (READ_ONCE(c->task))
				st.workers++;
			if (core == SAKURA_STATUS_ALL || core == i)
				sakura_core_counters(c, &st.counters);
		}
	}
	return copy_to_user(arg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long sakura_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct sakura_server *srv = sakura_file_server(file);
	void __user *uarg = (void __user *)arg;
	struct sakura_core *core;
	long err;

	switch (cmd) {
	case SAKURA_IOC_REGISTER:
		return sakura_register(file, uarg);
	case SAKURA_IOC_STATUS:
		return sakura_status(srv, uarg);
	case SAKURA_IOC_RUN_WORKER:
	case SAKURA_IOC_KICK:
	case SAKURA_IOC_UNREGISTER:
		break;
	default:
		return -ENOTTY;
	}
	if (!srv)
		return -ENXIO;
	if (cmd == SAKURA_IOC_UNREGISTER) {
		sakura_server_stop(srv);
		return 0;
	}
	err = sakura_core_arg_get(srv, uarg, &core);
	if (err)
		return err;
	if (cmd == SAKURA_IOC_KICK) {
		sakura_core_kick(core);
		return 0;
	}
	if (READ_ONCE(srv->stopped))
		return 0;
	return sakura_worker_run(srv, core->idx);
}

/* --- mmap: the pages live as long as the server, and it as long as they --- */

static void sakura_vm_open(struct vm_area_struct *vma)
{
	struct sakura_server *srv = vma->vm_private_data;

	kref_get(&srv->ref);
}

static void sakura_vm_close(struct vm_area_struct *vma)
{
	sakura_server_put(vma->vm_private_data);
}

static const struct vm_operations_struct sakura_vm_ops = {
	.open = sakura_vm_open,
	.close = sakura_vm_close,
};

static int sakura_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct sakura_server *srv = sakura_file_server(file);
	int err;

	if (!srv)
		return -ENXIO;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;		/* a private copy would see nothing */
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	sakura_vm_flags_clear(vma, VM_MAYEXEC);
	sakura_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTCOPY | VM_DONTDUMP);
	/* checks pgoff and size against the area */
	err = remap_vmalloc_range(vma, srv->shm, vma->vm_pgoff);
	if (err)
		return err;
	vma->vm_private_data = srv;
	vma->vm_ops = &sakura_vm_ops;
	kref_get(&srv->ref);
	return 0;
}

static __poll_t sakura_poll(struct file *file, struct poll_table_struct *pt)
{
	struct sakura_server *srv = sakura_file_server(file);
	__poll_t mask = 0;
	u32 i;

	if (!srv)
		return EPOLLERR;
	poll_wait(file, &srv->poll_wq, pt);
	for (i = 0; i < srv->ncores; i++) {
		struct sakura_core *core = &srv->cores[i];

		if (READ_ONCE(core->hdr->cq.head) != READ_ONCE(core->cq_tail) ||
		    READ_ONCE(core->hdr->log.head) != READ_ONCE(core->log_tail)) {
			mask |= EPOLLIN | EPOLLRDNORM;
			break;
		}
	}
	if (READ_ONCE(srv->stopped))
		mask |= EPOLLHUP;
	return mask;
}

static int sakura_open(struct inode *inode, struct file *file)
{
	/* misc_open() left the miscdevice here */
	file->private_data = NULL;
	return nonseekable_open(inode, file);
}

/*
 * Every close() of a descriptor for this file: when the registering process
 * is exiting, stop its server even if a child inherited the descriptor, so
 * that nothing outlives the server's own fd table.
 */
static int sakura_flush(struct file *file, fl_owner_t id)
{
	struct sakura_server *srv = sakura_file_server(file);

	if (srv && (current->flags & PF_EXITING) &&
	    task_tgid(current) == srv->tgid)
		sakura_server_stop(srv);
	return 0;
}

static int sakura_release(struct inode *inode, struct file *file)
{
	struct sakura_server *srv = file->private_data;

	if (srv) {
		/* no worker can be inside: each holds the file */
		sakura_server_stop(srv);
		sakura_server_put(srv);
	}
	return 0;
}

static const struct file_operations sakura_fops = {
	.owner = THIS_MODULE,
	.open = sakura_open,
	.flush = sakura_flush,
	.release = sakura_release,
	.unlocked_ioctl = sakura_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = sakura_mmap,
	.poll = sakura_poll,
};

static struct miscdevice sakura_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "sakura",
	.fops = &sakura_fops,
	.mode = 0600,
};

int sakura_dev_init(void)
{
	BUILD_BUG_ON(SAKURA_INDEX_MAX != KS_INDEX_MAX);
	BUILD_BUG_ON(SAKURA_MIME_MAX != KS_MIME_BLOB_MAX);
	BUILD_BUG_ON(sizeof(struct sakura_core_hdr) > PAGE_SIZE);
	BUILD_BUG_ON(sizeof(struct sakura_ctrl) > PAGE_SIZE);
	BUILD_BUG_ON(sizeof(struct sakura_sqe) != 16);
	BUILD_BUG_ON(sizeof(struct sakura_cqe) != 32);
	BUILD_BUG_ON(sizeof(struct sakura_log_rec) != 2048);
	BUILD_BUG_ON(sizeof(struct sakura_register) != 264);
	BUILD_BUG_ON(sizeof(struct sakura_status) != 160);
	BUILD_BUG_ON(offsetof(struct sakura_register, layout) % 8);
	return misc_register(&sakura_misc);
}

void sakura_dev_exit(void)
{
	misc_deregister(&sakura_misc);
}
