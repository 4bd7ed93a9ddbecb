// SPDX-License-Identifier: GPL-2.0
/*
 * dev.c - /dev/sakura: REGISTER, RUN_WORKER, KICK, STATUS, UNREGISTER, the
 * shared area's mmap and poll() for completions and log records.
 *
 * Any open file may also QUERY the registered servers and ask one of them to
 * switch modes (SWITCH_MODE: the same euid as the server, or CAP_SYS_ADMIN);
 * the server applies the switch itself and acknowledges it (ACK_MODE).
 *
 * One open file registers at most one server. The file holds a reference on
 * the server and each mapping holds another, so the shared pages outlive
 * neither; the file itself pins the module (fops.owner), so rmmod is refused
 * while a server is registered or mapped. ->release may run after the
 * process's memory is gone (kill -9): it copies nothing from user space and
 * waits for nothing.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
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
	sakura_live_dec(servers);
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
	wake_up_all(&srv->mode_wq);	/* switches end with -ESRCH */
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
	if ((r->flags & ~SAKURA_REG_FLAGS) ||
	    (r->mode != SAKURA_MODE_USER && r->mode != SAKURA_MODE_SUPERVISOR))
		return -EINVAL;
	if (!r->ncores || r->ncores > SAKURA_MAX_CORES ||
	    !sakura_ring_size_ok(r->sq_entries, SAKURA_SQ_MAX) ||
	    !sakura_ring_size_ok(r->cq_entries, SAKURA_CQ_MAX) ||
	    !sakura_ring_size_ok(r->log_entries, SAKURA_LOG_MAX) ||
	    r->cq_entries < 2)
		return -EINVAL;
	if (r->reserved || ((r->flags & SAKURA_REG_BENCH_FIXED) ?
			    !r->bench_body_len ||
			    r->bench_body_len > SAKURA_BENCH_BODY_MAX :
			    r->bench_body_len != 0))
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
	if (r->flags & SAKURA_REG_BENCH_FIXED)
		cfg->bench_body_len = r->bench_body_len;
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

static struct sakura_server *sakura_server_new(struct file *file,
					       const struct sakura_register *r)
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
	init_waitqueue_head(&srv->mode_wq);
	spin_lock_init(&srv->mode_lock);
	srv->mode = srv->req_mode = r->mode;
	srv->uid = file->f_cred->euid;
	srv->start_ns = ktime_get_boottime_ns();
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
	srv->ctrl->mode = r->mode;
	srv->ctrl->req_mode = r->mode;
	srv->ctrl->state = SAKURA_STATE_RUNNING;
	sakura_config_init(&srv->cfg, r, srv->mime);
	for (i = 0; i < r->ncores; i++)
		sakura_core_init(srv, i, r);
	srv->tgid = get_pid(task_tgid(current));
	sakura_live_inc(servers);
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
	srv = sakura_server_new(file, &r);
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
		st.mode = READ_ONCE(srv->mode);
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

/* --- mode switches (DMSM) --- */

/* Mirror the kernel's switch state into the control page. */
static void sakura_ctrl_publish(struct sakura_server *srv)
	__must_hold(&srv->mode_lock)
{
	struct sakura_ctrl *ctrl = srv->ctrl;

	WRITE_ONCE(ctrl->mode, srv->mode);
	WRITE_ONCE(ctrl->req_mode, srv->req_mode);
	WRITE_ONCE(ctrl->ack_seq, srv->ack_seq);
	/* the server reads req_seq first, then the rest */
	smp_store_release(&ctrl->req_seq, srv->req_seq);
}

/* A registered server by its pid as the caller sees it, with a reference. */
static struct sakura_server *sakura_server_find(pid_t pid, u32 index)
{
	struct sakura_server *srv, *found = NULL;
	u32 i = 0;

	mutex_lock(&sakura_lock);
	list_for_each_entry(srv, &sakura_servers, node) {
		pid_t nr = pid_vnr(srv->tgid);

		/* stopped, or not in the caller's pid namespace */
		if (READ_ONCE(srv->stopped) || !nr)
			continue;
		if (pid ? nr == pid : i++ == index) {
			kref_get(&srv->ref);
			found = srv;
			break;
		}
	}
	mutex_unlock(&sakura_lock);
	return found;
}

static bool sakura_may_switch(struct file *file, struct sakura_server *srv)
{
	return uid_eq(file->f_cred->euid, srv->uid) ||
	       file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
}

/* Record a request for @mode; the request to wait for, or 0: nothing to do. */
static u64 sakura_switch_request(struct sakura_server *srv, u32 mode,
				 struct sakura_switch *sw)
{
	u64 seq;

	spin_lock(&srv->mode_lock);
	sw->from_mode = srv->mode;
	if (srv->req_mode == mode) {
		/* already there, or on the way: wait for that request */
		seq = srv->req_seq > srv->ack_seq ? srv->req_seq : 0;
	} else {
		srv->req_mode = mode;
		seq = ++srv->req_seq;
		srv->req_ns = ktime_get_ns();
		sakura_ctrl_publish(srv);
	}
	sw->seq = seq ? seq : srv->ack_seq;
	spin_unlock(&srv->mode_lock);
	return seq;
}

static bool sakura_switch_done(struct sakura_server *srv, u64 seq)
{
	return READ_ONCE(srv->ack_seq) >= seq || READ_ONCE(srv->stopped);
}

static long sakura_switch_mode(struct file *file, void __user *arg)
{
	struct sakura_server *srv;
	struct sakura_switch sw;
	u64 seq, start;
	long left;
	int err = 0;

	if (copy_from_user(&sw, arg, sizeof(sw)))
		return -EFAULT;
	if (sw.flags || sw.pid <= 0 ||
	    (sw.mode != SAKURA_MODE_USER && sw.mode != SAKURA_MODE_SUPERVISOR) ||
	    !sakura_timeout_ok(sw.timeout_ms))
		return -EINVAL;
	srv = sakura_server_find(sw.pid, 0);
	if (!srv)
		return -ESRCH;
	if (!sakura_may_switch(file, srv)) {
		err = -EPERM;
		goto out;
	}
	start = ktime_get_ns();
	sw.latency_ns = 0;
	seq = sakura_switch_request(srv, sw.mode, &sw);
	if (seq) {
		wake_up_interruptible_poll(&srv->poll_wq, EPOLLPRI);
		left = wait_event_interruptible_timeout(srv->mode_wq,
				sakura_switch_done(srv, seq),
				msecs_to_jiffies(sw.timeout_ms));
		spin_lock(&srv->mode_lock);
		if (srv->ack_seq >= seq) {
			/* a later request to the other mode won */
			if (srv->mode != sw.mode)
				err = -ECANCELED;
			sw.latency_ns = srv->ack_ns - min(start, srv->ack_ns);
		} else if (READ_ONCE(srv->stopped)) {
			err = -ESRCH;
		} else {
			err = left < 0 ? -EINTR : -ETIMEDOUT;
		}
		spin_unlock(&srv->mode_lock);
	}
	if (!err && copy_to_user(arg, &sw, sizeof(sw)))
		err = -EFAULT;
out:
	sakura_server_put(srv);
	return err;
}

/* The server applied request @seq on every core. */
static long sakura_ack_mode(struct sakura_server *srv, void __user *arg)
{
	struct sakura_ack a;
	long err = 0;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	spin_lock(&srv->mode_lock);
	if (a.seq == srv->ack_seq && a.seq) {
		err = -EALREADY;
	} else if (a.seq != srv->req_seq || !a.seq) {
		err = -ESTALE;	/* not the latest request */
	} else {
		srv->ack_ns = ktime_get_ns();
		if (srv->mode != srv->req_mode) {
			srv->switches++;
			srv->last_switch_ns = srv->ack_ns - srv->req_ns;
		}
		srv->mode = srv->req_mode;
		srv->ack_seq = a.seq;
		sakura_ctrl_publish(srv);
	}
	spin_unlock(&srv->mode_lock);
	if (!err)
		wake_up_all(&srv->mode_wq);
	return err;
}

/* One server's user-mode counters, as its event loops publish them. */
static void sakura_ucounters(struct sakura_core *core,
			     struct sakura_counters *out)
{
	const __u64 *in = (const __u64 *)&core->hdr->ucounters;
	__u64 *sum = (__u64 *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(__u64); i++)
		sum[i] += READ_ONCE(in[i]);
}

static long sakura_query(void __user *arg)
{
	struct sakura_server *srv;
	struct sakura_query q;
	u32 core, i;
	long err = 0;

	if (copy_from_user(&q, arg, 16))	/* the "in" part */
		return -EFAULT;
	if (q.flags || q.pid < 0)
		return -EINVAL;
	srv = sakura_server_find(q.pid, q.index);
	if (!srv)
		return -ENOENT;
	core = q.core;
	if (core != SAKURA_STATUS_ALL && core >= srv->ncores) {
		err = -EINVAL;
		goto out;
	}
	memset(&q, 0, sizeof(q));
	q.core = core;
	q.server_pid = pid_vnr(srv->tgid);
	q.uid = from_kuid_munged(current_user_ns(), srv->uid);
	q.state = READ_ONCE(srv->stopped) ? SAKURA_STATE_STOPPED :
					    SAKURA_STATE_RUNNING;
	q.ncores = srv->ncores;
	spin_lock(&srv->mode_lock);
	q.mode = srv->mode;
	q.req_mode = srv->req_mode;
	q.req_seq = srv->req_seq;
	q.ack_seq = srv->ack_seq;
	q.pending = srv->req_seq != srv->ack_seq;
	q.switches = srv->switches;
	q.last_switch_ns = srv->last_switch_ns;
	spin_unlock(&srv->mode_lock);
	q.uptime_ms = div_u64(ktime_get_boottime_ns() - srv->start_ns,
			      NSEC_PER_MSEC);
	for (i = 0; i < srv->ncores; i++) {
		struct sakura_core *c = &srv->cores[i];

		if (READ_ONCE(c->task))
			q.workers++;
		if (core != SAKURA_STATUS_ALL && core != i)
			continue;
		sakura_core_counters(c, &q.kernel);
		sakura_ucounters(c, &q.user);
	}
	if (copy_to_user(arg, &q, sizeof(q)))
		err = -EFAULT;
out:
	sakura_server_put(srv);
	return err;
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
	case SAKURA_IOC_SWITCH_MODE:
		return sakura_switch_mode(file, uarg);
	case SAKURA_IOC_QUERY:
		return sakura_query(uarg);
	case SAKURA_IOC_RUN_WORKER:
	case SAKURA_IOC_KICK:
	case SAKURA_IOC_UNREGISTER:
	case SAKURA_IOC_ACK_MODE:
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
	if (cmd == SAKURA_IOC_ACK_MODE)
		return sakura_ack_mode(srv, uarg);
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
	else if (READ_ONCE(srv->req_seq) != READ_ONCE(srv->ack_seq))
		mask |= EPOLLPRI;	/* a mode switch to apply */
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
	BUILD_BUG_ON(sizeof(struct sakura_register) != 272);
	BUILD_BUG_ON(SAKURA_BENCH_BODY_MAX != KS_BENCH_BODY_MAX);
	BUILD_BUG_ON(sizeof(struct sakura_status) != 160);
	BUILD_BUG_ON(sizeof(struct sakura_switch) != 40);
	BUILD_BUG_ON(sizeof(struct sakura_query) != 344);
	BUILD_BUG_ON(offsetof(struct sakura_query, server_pid) != 16);
	BUILD_BUG_ON(offsetof(struct sakura_register, layout) % 8);
	return misc_register(&sakura_misc);
}

void sakura_dev_exit(void)
{
	misc_deregister(&sakura_misc);
}
