// SPDX-License-Identifier: GPL-2.0
/*
 * io_kern.c - the kernel backend of struct ks_io_ops (user space has
 * kserver/io_user.c): non-blocking socket calls on the server's own sockets,
 * lookups confined beneath the pinned docroot, bodies sent from the page
 * cache without copying.
 *
 * Every call runs in the worker thread, a thread of the server process, so
 * permission checks see the server's credentials, as in user mode.
 */
#include <linux/fs.h>
#include <linux/fsnotify.h>
#include <linux/hash.h>
#include <linux/jhash.h>
#include <linux/log2.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/net.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/stat.h>
#include <linux/timekeeping.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "sakura.h"
#include "compat.h"

#define SAKURA_SEND_FLAGS	(MSG_DONTWAIT | MSG_NOSIGNAL)

/*
 * Whether a short read left the socket empty. tcp_recvmsg() also stops at a
 * FIN, an error or an urgent mark with more queued behind, whose wake-ups
 * may have been counted before sakura_recv() read the count, so the socket
 * itself is asked, after the call (anything later bumps the count).
 */
static bool sakura_sock_drained(struct sock *sk)
{
	return !(READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) &&
	       !READ_ONCE(sk->sk_err) &&
	       skb_queue_empty_lockless(&sk->sk_receive_queue);
}

/*
 * One tcp_recvmsg() per keep-alive request: after a read that left the
 * socket empty, the next one is skipped (-EAGAIN) until the wake-up count
 * moves. The count is read before the call: bytes queued after it bump it
 * (sakura_conn_wake), so a short read followed by new bytes is never taken
 * for an empty socket.
 */
static long sakura_recv(struct ks_conn *c, void *buf, size_t len)
{
	struct sakura_conn *sc = sakura_conn_of(c);
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	u32 seen = smp_load_acquire(&sc->rd_events);
	int n;

	if (sc->rd_drained && seen == sc->rd_drained_at) {
		sc->core->recvs_skipped++;
		return -EAGAIN;
	}
	n = kernel_recvmsg(sc->sock, &msg, &iov, 1, len, MSG_DONTWAIT);
	sc->core->recvs++;
	sc->rd_drained = (n == -EAGAIN || (n > 0 && (size_t)n < len)) &&
			 sakura_sock_drained(sc->sock->sk);
	sc->rd_drained_at = seen;
	return n;
}

/*
 * Bodies come straight from the page cache (zero-copy, or copied out of
 * its folios) only where that cache is the file's truth and is indexed in
 * pages: tmpfs, ext2/3/4, XFS, Btrfs. Elsewhere read_iter() does the work,
 * as it must: NFS and 9p revalidate their cache there, FUSE asks its
 * daemon, hugetlbfs indexes in huge pages on 6.1, overlayfs keeps the
 * pages on the file beneath.
 */
static bool sakura_pagecache_direct(const struct file *file)
{
	switch (file_inode(file)->i_sb->s_magic) {
	case TMPFS_MAGIC:
	case EXT4_SUPER_MAGIC:		/* ext2 and ext3 too */
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
		return true;
	}
	return false;
}

static long sakura_send_buf(struct socket *sock, const void *buf, size_t len,
			    int flags)
{
	struct msghdr msg = { .msg_flags = flags };
	struct kvec iov = { .iov_base = (void *)buf, .iov_len = len };

	return kernel_sendmsg(sock, &msg, &iov, 1, len);
}

static long sakura_send(struct ks_conn *c, const void *buf, size_t len,
			bool more)
{
	return sakura_send_buf(sakura_conn_of(c)->sock, buf, len,
			       SAKURA_SEND_FLAGS | (more ? MSG_MORE : 0));
}

/*
 * Take references on the uptodate page-cache pages of [off, off + len), up
 * to SAKURA_SEND_PAGES of them, stopping at the first page that is not
 * there. Returns the bytes covered; the folios go into @folios.
 */
static size_t sakura_cached_pages(struct address_space *mapping, u64 off,
				  size_t len, struct bio_vec *bv,
				  struct folio **folios, unsigned int *nr)
{
	size_t bytes = 0;

	*nr = 0;
	while (*nr < SAKURA_SEND_PAGES && bytes < len) {
		pgoff_t index = (off + bytes) >> PAGE_SHIFT;
		size_t poff = offset_in_page(off + bytes);
		size_t n = min_t(size_t, PAGE_SIZE - poff, len - bytes);
		struct folio *folio = __filemap_get_folio(mapping, index, 0, 0);
		struct page *page;

		/* 6.1 says NULL for a miss, 6.12 ERR_PTR(-ENOENT) */
		if (IS_ERR_OR_NULL(folio))
			break;
		page = folio_file_page(folio, index);
		if (!folio_test_uptodate(folio) || !sendpage_ok(page)) {
			folio_put(folio);
			break;
		}
		bvec_set_page(&bv[*nr], page, n, poff);
		folios[(*nr)++] = folio;
		bytes += n;
	}
	return bytes;
}

/*
 * Whether a send that took @sent of @len bytes stopped at a full socket:
 * tcp_sendmsg() set SOCK_NOSPACE before giving up, so sk_write_space()
 * wakes the connection once there is room, and trying again now would
 * only say -EAGAIN (nginx, too, waits after a short sendfile()). A wake-up
 * that came meanwhile cleared the bit first: then there is room again.
 */
static bool sakura_sock_full(struct socket *sock, long sent, size_t len)
{
	return sent > 0 && (size_t)sent < len &&
	       test_bit(SOCK_NOSPACE, &sock->flags);
}

/* The cache-miss path: read through the page cache into a bounce buffer. */
static long sakura_send_copy(struct sakura_core *core, struct socket *sock,
			     struct file *file, u64 off, size_t len, int flags,
			     bool *full)
{
	loff_t pos = off;
	ssize_t n, got;

	if (!core->bounce) {
		core->bounce = kvmalloc(SAKURA_BOUNCE_SIZE, GFP_KERNEL);
		if (!core->bounce)
			return -ENOMEM;
		sakura_live_inc(buffers);
	}
	n = kernel_read(file, core->bounce,
			min_t(size_t, len, SAKURA_BOUNCE_SIZE), &pos);
	if (n <= 0)
		return n;
	if (n < len)
		flags |= MSG_MORE;
	got = n;
	n = sakura_send_buf(sock, core->bounce, got, flags);
	*full = sakura_sock_full(sock, n, got);
	if (n > 0)
		core->copied_bytes += n;
	return n;
}

/*
 * Before bytes are taken straight out of the page cache, what sendfile()
 * asks of every read (rw_verify_area): the LSM's file_permission hook and
 * fanotify's access-permission event (6.1: inside security_file_permission;
 * 6.12: fsnotify_file_area_perm). The open-time checks ran at dentry_open(),
 * but a file stays open in the fcache across requests and a policy or a
 * permission listener may say no to a later read. Asked only once uptodate
 * pages were found: a miss goes to kernel_read(), which asks itself, and a
 * listener must see one question per read, not two.
 */
static int sakura_direct_verify(struct file *file, u64 off, size_t len)
{
	loff_t pos = off;

	return rw_verify_area(READ, file, &pos, len);
}

/*
 * Copy [off, off + len) out of the uptodate page-cache pages, stopping at
 * the first page that is not there; returns the bytes copied, or the
 * verdict of sakura_direct_verify() on the whole range, asked before the
 * first byte. The rest of a partial copy goes through kernel_read(), which
 * asks again for its part (a body only partly cached: rare).
 */
static long sakura_copy_cached(struct file *file, u64 off, void *buf,
			       size_t len)
{
	size_t done = 0;

	while (done < len) {
		pgoff_t index = (off + done) >> PAGE_SHIFT;
		size_t poff = offset_in_page(off + done);
		size_t chunk = min_t(size_t, PAGE_SIZE - poff, len - done);
		struct folio *folio = __filemap_get_folio(file->f_mapping,
							  index, 0, 0);

		/* 6.1 says NULL for a miss, 6.12 ERR_PTR(-ENOENT) */
		if (IS_ERR_OR_NULL(folio))
			break;
		if (!folio_test_uptodate(folio)) {
			folio_put(folio);
			break;
		}
		if (!done) {
			int err = sakura_direct_verify(file, off, len);

			if (err) {
				folio_put(folio);
				return err;
			}
		}
		memcpy_from_page(buf + done, folio_file_page(folio, index),
				 poff, chunk);
		folio_put(folio);
		done += chunk;
	}
	if (done)
		fsnotify_access(file);
	return done;
}

/*
 * A small body, for the head's buffer: copied straight out of the uptodate
 * page-cache pages where sakura_pagecache_direct() allows (those the
 * zero-copy path would send; like it, checked by sakura_direct_verify() and
 * reported to fsnotify as an access, as sendfile() does; no atime update),
 * kernel_read() for the rest. Never past the current size: a file that
 * shrank since its stat gives a short count, and the handler takes the
 * send path.
 */
static long sakura_read(struct ks_worker *w, struct ks_file *f, u64 off,
			void *buf, size_t len)
{
	struct file *file = f->h.ptr;
	loff_t size = i_size_read(file_inode(file));
	size_t done = 0;
	loff_t pos;
	ssize_t n;

	if (size <= 0 || off >= (u64)size)
		return 0;
	len = min_t(u64, len, (u64)size - off);
	if (sakura_pagecache_direct(file)) {
		long copied = sakura_copy_cached(file, off, buf, len);

		if (copied < 0)
			return copied;
		done = copied;
	}
	if (done == len)
		return done;
	pos = off + done;
	n = kernel_read(file, buf + done, len - done, &pos);
	if (n < 0)
		return done ? (long)done : n;
	return done + n;
}

static long sakura_send_file(struct ks_conn *c, struct ks_file *f, u64 off,
			     size_t len)
{
	struct sakura_conn *sc = sakura_conn_of(c);
	struct file *file = f->h.ptr;
	loff_t size = i_size_read(file_inode(file));
	struct folio **folios = sc->core->send_folios;
	struct bio_vec *bv = sc->core->send_bv;
	int flags = SAKURA_SEND_FLAGS;
	unsigned int nr = 0, i;
	size_t bytes = 0;
	long sent;

	if (size < 0 || off >= (u64)size)
		return 0;		/* the file shrank: the handler aborts */
	len = min_t(u64, len, (u64)size - off);
	if (off + len < c->fend || c->more_follows)
		flags |= MSG_MORE;
	if (sakura_pagecache_direct(file))
		bytes = sakura_cached_pages(file->f_mapping, off, len, bv,
					    folios, &nr);
	if (!nr) {
		sent = sakura_send_copy(sc->core, sc->sock, file, off, len,
					flags, &c->sock_full);
		goto out;
	}
	if (bytes < len)
		flags |= MSG_MORE;
	sent = sakura_direct_verify(file, off, bytes);
	if (!sent) {
		sent = sakura_send_pages(sc->sock, bv, nr, bytes, flags);
		c->sock_full = sakura_sock_full(sc->sock, sent, bytes);
	}
	for (i = 0; i < nr; i++)
		folio_put(folios[i]);
	if (sent > 0) {
		sc->core->zerocopy_bytes += sent;
		fsnotify_access(file);
	}
out:
	sc->core->sends++;
	sc->core->sends_again += sent == -EAGAIN;
	sc->core->sends_full += c->sock_full;
	return sent;
}

/*
 * The open-file cache: nginx's open_file_cache without its staleness. Every
 * request still resolves its path beneath the root and checks permission;
 * only then is a struct file already open on that same dentry and mount
 * reused, instead of a dentry_open() and a final fput() per request. A
 * replaced file is a new dentry, a miss; a truncated one is seen by the
 * getattr of every request. Slots belong to the core (only its worker
 * touches them), direct-mapped by dentry; an entry unused for
 * SAKURA_FCACHE_IDLE_MS is closed, so a deleted file is not held for long.
 */
/* Drop a reference; the last one queues __fput() as task work (counted). */
static void sakura_fput(struct sakura_core *core, struct file *file)
{
	if (file_count(file) == 1)
		core->files_put++;
	fput(file);
	sakura_live_dec(file_refs);
}

static void sakura_fcache_drop(struct sakura_core *core,
			       struct sakura_fcache_ent *e)
{
	if (e->file) {
		sakura_fput(core, e->file);
		e->file = NULL;
		core->fcache_n--;
	}
}

static void sakura_names_drop(struct sakura_core *core,
			      struct sakura_name_ent *e)
{
	if (e->path.dentry) {
		path_put(&e->path);
		e->path.dentry = NULL;
		e->path.mnt = NULL;
		core->names_n--;
	}
}

/*
 * Close the open-file cache's entries and drop the name memo's idle for
 * SAKURA_FCACHE_IDLE_MS, and let go of the debts repaid meanwhile (all:
 * every one of each).
 */
void sakura_fcache_sweep(struct sakura_core *core, bool all)
{
	u64 now = core->w.now_ms;
	u32 i;

	for (i = 0; i < SAKURA_FCACHE_SLOTS; i++) {
		struct sakura_fcache_ent *e = &core->fcache[i];

		if (e->file &&
		    (all || now - e->used_ms >= SAKURA_FCACHE_IDLE_MS))
			sakura_fcache_drop(core, e);
	}
	for (i = 0; i < SAKURA_NAMES_SLOTS; i++) {
		struct sakura_name_ent *e = &core->names[i];

		if (e->path.dentry &&
		    (all || now - e->used_ms >= SAKURA_FCACHE_IDLE_MS))
			sakura_names_drop(core, e);
	}
	sakura_debts_settle(core, all);
	core->fcache_swept_ms = now;
}

/* A struct file for @path (checked already): from the cache or opened. */
static struct file *sakura_open_file(struct sakura_core *core,
				     const struct path *path, bool cache)
{
	struct sakura_fcache_ent *e = NULL;
	struct file *file;

	if (cache) {
		e = &core->fcache[hash_ptr(path->dentry,
					   ilog2(SAKURA_FCACHE_SLOTS))];
		if (e->file && e->file->f_path.dentry == path->dentry &&
		    e->file->f_path.mnt == path->mnt) {
			e->used_ms = core->w.now_ms;
			core->fcache_hits++;
			sakura_live_inc(file_refs);
			return get_file(e->file);
		}
	}
	file = dentry_open(path, O_RDONLY | O_LARGEFILE | O_NOCTTY,
			   current_cred());
	if (IS_ERR(file))
		return file;
	sakura_live_inc(file_refs);
	if (!e)
		return file;
	core->fcache_misses++;
	sakura_fcache_drop(core, e);
	sakura_live_inc(file_refs);
	e->file = get_file(file);
	e->used_ms = core->w.now_ms;
	core->fcache_n++;
	return file;
}

/*
 * The name memo: where the walk of a name beneath the root led, so that the
 * next request for the name skips the walk (its name copy, RCU walk, scope
 * check and reference grabbing, a fifth of a small request) and is never
 * told anything a walk would not tell it. Kept only after a walk that
 * stayed on the root's mount, followed no symlink and met no dentry that
 * revalidates itself (NFS, 9p, FUSE): the file's chain of parents spells
 * the name, component by component, up to the root. Reused only while
 *  - no dentry anywhere was renamed or moved (rename_lock unchanged), so
 *    every parent and name on the chain is as it was; a directory on it
 *    cannot be removed while it holds the file;
 *  - the file's dentry is hashed and its d_seq unchanged (not unlinked,
 *    replaced, moved), and every directory's on the way still hashed;
 *  - nothing is mounted on any dentry of the chain, in any namespace (a
 *    walk would cross the mount). A new mount point takes rename_lock too
 *    (d_set_mounted()), so the first check sees it already; this one
 *    stands guard should that ever change;
 *  - the server may still search the root and every directory on the way
 *    (MAY_EXEC, as the walk asks, in RCU mode: where the check would have
 *    to sleep it is a miss).
 * Any doubt is a miss: the whole walk runs again and refills the slot.
 * Per core like the open-file cache, direct-mapped by the name's hash; an
 * entry idle for SAKURA_FCACHE_IDLE_MS is dropped.
 */
static struct sakura_name_ent *sakura_names_slot(struct sakura_core *core,
						 const char *name, u32 len)
{
	return &core->names[jhash(name, len, 0) & (SAKURA_NAMES_SLOTS - 1)];
}

/*
 * Does the chain of parents of @d up to @root spell @name (@len bytes,
 * components split by '/'), on dentries no walk would treat differently?
 * The number of components, or 0. Each dentry is read under its d_lock (its
 * name and parent stable), the chain under RCU; a rename meanwhile is caught
 * by the caller's rename_lock sequence.
 */
static u32 sakura_chain_spells(const struct path *root, struct dentry *d,
			       const char *name, u32 len)
{
	u32 end = len, depth = 0;

	rcu_read_lock();
	for (;;) {
		u32 start = end;
		struct dentry *parent;
		bool same;

		while (start && name[start - 1] != '/')
			start--;
		if (d == root->dentry || IS_ROOT(d))
			break;
		spin_lock(&d->d_lock);
		same = !d_mountpoint(d) &&
		       !(d->d_flags & (DCACHE_OP_REVALIDATE |
				       DCACHE_OP_WEAK_REVALIDATE)) &&
		       d->d_name.len == end - start &&
		       !memcmp(d->d_name.name, name + start, end - start);
		parent = d->d_parent;
		spin_unlock(&d->d_lock);
		if (!same)
			break;
		depth++;
		if (!start) {
			rcu_read_unlock();
			return parent == root->dentry ? depth : 0;
		}
		d = parent;
		end = start - 1;	/* before the '/' */
	}
	rcu_read_unlock();
	return 0;
}

/*
 * Remember that @name (@len < SAKURA_NAME_MAX bytes) walked to @path
 * (referenced), if it may be reused.
 */
static void sakura_names_fill(struct sakura_core *core, const char *name,
			      u32 len, const struct path *path,
			      unsigned int rename_seq)
{
	const struct path *root = &core->srv->root;
	struct sakura_name_ent *e;
	unsigned int d_seq;
	u32 depth;

	/* e->len and e->depth (at most one component per two bytes) fit */
	BUILD_BUG_ON(SAKURA_NAME_MAX > U8_MAX);
	if (path->mnt != root->mnt)
		return;
	d_seq = read_seqcount_begin(&path->dentry->d_seq);
	depth = sakura_chain_spells(root, path->dentry, name, len);
	if (!depth || read_seqretry(&rename_lock, rename_seq))
		return;
	e = sakura_names_slot(core, name, len);
	sakura_names_drop(core, e);
	path_get(path);
	e->path = *path;
	e->rename_seq = rename_seq;
	e->d_seq = d_seq;
	e->len = len;
	e->depth = depth;
	memcpy(e->name, name, len);
	e->used_ms = core->w.now_ms;
	core->names_n++;
	core->names_misses++;
}

/* Is @e, remembered for this very name, still what a walk would find? */
static bool sakura_names_valid(struct sakura_core *core,
			       const struct sakura_name_ent *e)
{
	const struct path *root = &core->srv->root;
	struct dentry *d = e->path.dentry;
	bool ok = true;
	u32 i;

	if (read_seqretry(&rename_lock, e->rename_seq) ||
	    read_seqcount_retry(&d->d_seq, e->d_seq))
		return false;
	/* the file first, then each directory up to the root: hashed, no
	 * mount point, and the directory above it searchable */
	rcu_read_lock();
	for (i = 0; ok && i < e->depth; i++) {
		struct dentry *parent = READ_ONCE(d->d_parent);
		struct inode *dir = d_inode_rcu(parent);

		ok = !d_unhashed(d) && !d_mountpoint(d) && dir &&
		     !sakura_may_search_rcu(root->mnt, dir);
		d = parent;
	}
	rcu_read_unlock();
	return ok && d == root->dentry &&
	       !read_seqretry(&rename_lock, e->rename_seq);
}

/* Resolve @name beneath the root into @path (referenced): memo or walk. */
static int sakura_walk(struct sakura_core *core, const char *name,
		       struct path *path)
{
	const struct path *root = &core->srv->root;
	u32 len = strnlen(name, SAKURA_NAME_MAX);
	struct sakura_name_ent *e = NULL;
	unsigned int rename_seq;
	int err;

	if (len < SAKURA_NAME_MAX) {
		e = sakura_names_slot(core, name, len);
		if (e->path.dentry && e->len == len &&
		    !memcmp(e->name, name, len)) {
			if (sakura_names_valid(core, e)) {
				e->used_ms = core->w.now_ms;
				core->names_hits++;
				*path = e->path;
				path_get(path);
				return 0;
			}
			sakura_names_drop(core, e);
		}
	}
	rename_seq = read_seqbegin(&rename_lock);
	err = vfs_path_lookup(root->dentry, root->mnt, name,
			      LOOKUP_FOLLOW | LOOKUP_BENEATH |
			      LOOKUP_NO_MAGICLINKS, path);
	if (!err && e)
		sakura_names_fill(core, name, len, path, rename_seq);
	return err;
}

/*
 * Resolve @name beneath the docroot: no "..", absolute symlink or magic link
 * may leave it (-EXDEV, like openat2's RESOLVE_BENEATH). Regular files and
 * directories are opened; anything else (FIFO, socket, device) is only
 * reported as KS_FT_OTHER and never opened.
 */
static int sakura_open_beneath(struct ks_worker *w, const char *name,
			       struct ks_file *f)
{
	struct sakura_core *core = sakura_core_of(w);
	struct file *file;
	struct kstat st;
	struct path path;
	int err;

	err = sakura_walk(core, name, &path);
	if (err)
		return err;
	err = vfs_getattr(&path, &st, STATX_TYPE | STATX_MODE | STATX_SIZE |
			  STATX_MTIME, AT_STATX_SYNC_AS_STAT);
	if (err)
		goto out;
	f->h.ptr = NULL;
	f->size = st.size;
	f->mtime = st.mtime.tv_sec;
	/*
	 * What open(O_RDONLY) checks in user mode (dentry_open() does not):
	 * the server never serves what its own credentials could not read.
	 */
	err = path_permission(&path, MAY_READ);
	if (err)
		goto out;
	if (d_is_reg(path.dentry) || d_is_dir(path.dentry)) {
		f->type = d_is_reg(path.dentry) ? KS_FT_REG : KS_FT_DIR;
		file = sakura_open_file(core, &path, f->type == KS_FT_REG);
		if (IS_ERR(file))
			err = PTR_ERR(file);
		else
			f->h.ptr = file;
	} else {
		f->type = KS_FT_OTHER;	/* never opened */
	}
out:
	path_put(&path);
	return err;
}

/* open_beneath() filled everything in already. */
static int sakura_stat(struct ks_worker *w, struct ks_file *f)
{
	return 0;
}

static void sakura_close(struct ks_worker *w, struct ks_file *f)
{
	if (f->h.ptr) {
		sakura_fput(sakura_core_of(w), f->h.ptr);
		f->h.ptr = NULL;
	}
}

/* TCP_CORK; taking it off pushes what it held */
static void sakura_cork(struct ks_conn *c, bool on)
{
	tcp_sock_set_cork(sakura_conn_of(c)->sock->sk, on);
}

/*
 * TCP_NOTSENT_LOWAT as tcp_setsockopt() sets it on 6.12 (without the socket
 * lock; every reader uses READ_ONCE(), 6.1 too), minus its sk_write_space()
 * call: that would wake this very worker, which raises the allowance only
 * between two sends of its own and goes on sending at once.
 */
static void sakura_set_unsent_max(struct ks_conn *c, u32 bytes)
{
	WRITE_ONCE(tcp_sk(sakura_conn_of(c)->sock->sk)->notsent_lowat, bytes);
}

/*
 * Loans (KS_UNSENT_LOAN): a connection's last response may queue its body
 * beyond the allowance, so the worker sends it in one or two calls and
 * closes, as nginx does with an autotuned send buffer, instead of earning the
 * allowance one wake-up at a time (KS_UNSENT_MIN bounds every socket because
 * a slow reader's queue stays in kernel memory, tests/slow). What a loan lets
 * the socket queue is still in it after the worker closed it, so the
 * loan follows the socket, not the connection: at the connection's end it
 * becomes a debt (a reference to the orphaned socket), repaid when the
 * socket's queue is back within KS_UNSENT_MIN or TCP is done with it. A
 * core lends at most SAKURA_LOAN_POOL in SAKURA_LOANS_MAX loans, and only
 * while TCP's memory is under tcp_mem's low mark: clients that read nothing
 * hold at most that, and past it a response earns its allowance as before.
 */
static bool sakura_debt_paid(const struct sock *sk)
{
	return READ_ONCE(sk->sk_wmem_queued) <= KS_UNSENT_MIN ||
	       READ_ONCE(sk->sk_state) == TCP_CLOSE;
}

static void sakura_repay(struct sakura_core *core, u32 bytes)
{
	core->lent -= bytes;
	core->nloans--;
}

/* Repay what is paid (@all: everything, the server is going away). */
void sakura_debts_settle(struct sakura_core *core, bool all)
{
	u32 i = 0;

	while (i < core->ndebts) {
		struct sakura_debt *d = &core->debts[i];

		if (!all && !sakura_debt_paid(d->sk)) {
			i++;
			continue;
		}
		sakura_repay(core, d->bytes);
		sock_put(d->sk);
		sakura_live_dec(socks);
		*d = core->debts[--core->ndebts];
	}
}

/* TCP's memory under tcp_mem's low mark, and not under pressure. */
static bool sakura_tcp_mem_low(const struct sock *sk)
{
	const struct proto *prot = sk->sk_prot;

	if (prot->memory_pressure && READ_ONCE(*prot->memory_pressure))
		return false;
	return !prot->memory_allocated || !prot->sysctl_mem ||
	       atomic_long_read(prot->memory_allocated) <
		       READ_ONCE(prot->sysctl_mem[0]);
}

/* No room in the core's pool for a loan of @want more bytes. */
static bool sakura_pool_short(const struct sakura_core *core, u32 want)
{
	return core->nloans == SAKURA_LOANS_MAX ||
	       core->lent + want > SAKURA_LOAN_POOL;
}

static u32 sakura_lend(struct ks_conn *c, u32 want)
{
	struct sakura_conn *sc = sakura_conn_of(c);
	struct sakura_core *core = sc->core;

	want = min_t(u32, want, KS_UNSENT_LOAN);
	if (sc->loan || !want)
		return 0;
	if (sakura_pool_short(core, want))
		sakura_debts_settle(core, false);
	if (sakura_pool_short(core, want) ||
	    !sakura_tcp_mem_low(sc->sock->sk)) {
		core->loans_refused++;
		return 0;
	}
	core->lent += want;
	core->nloans++;
	core->loans++;
	sc->loan = want;
	return want;
}

/* The connection ends (its socket not yet closed): the loan becomes a debt. */
void sakura_loan_end(struct sakura_conn *sc)
{
	struct sakura_core *core = sc->core;
	struct sock *sk = sc->sock->sk;

	if (sakura_debt_paid(sk)) {
		sakura_repay(core, sc->loan);
	} else {
		/* nloans bounds ndebts: there is room */
		sock_hold(sk);
		sakura_live_inc(socks);
		core->debts[core->ndebts++] = (struct sakura_debt){
			.sk = sk, .bytes = sc->loan,
		};
	}
	sc->loan = 0;
}

/* What SIOCOUTQNSD answers: queued bytes TCP has not sent yet (lockless). */
static long sakura_unsent(struct ks_conn *c)
{
	const struct tcp_sock *tp = tcp_sk(sakura_conn_of(c)->sock->sk);

	return max_t(s32, READ_ONCE(tp->write_seq) - READ_ONCE(tp->snd_nxt), 0);
}

/*
 * A lingering close, and .finish: a connection that ends after a whole
 * response has its fd closed only when user space reads the completion,
 * and the worker's core may serve other connections before that thread
 * runs. The FIN goes at once: waiting for it left the last segment
 * unacknowledged long enough for a tail-loss probe to send it again
 * (TCPLossProbes per 1 MiB Connection: close request 1.9, nginx's 1.0;
 * 1.0 with this).
 */
static void sakura_shutdown(struct ks_conn *c)
{
	kernel_sock_shutdown(sakura_conn_of(c)->sock, SHUT_WR);
}

static void sakura_now(struct ks_worker *w, u64 *mono_ms, s64 *wall)
{
	struct timespec64 ts;

	ktime_get_coarse_ts64(&ts);
	*mono_ms = (u64)ts.tv_sec * MSEC_PER_SEC + ts.tv_nsec / NSEC_PER_MSEC;
	ktime_get_coarse_real_ts64(&ts);
	*wall = ts.tv_sec;
}

/* Request buffers are recycled through a per-core free list. */
static void *sakura_buf_get(struct ks_worker *w)
{
	struct sakura_core *core = sakura_core_of(w);
	void *b = core->free_bufs;

	if (b) {
		core->free_bufs = *(void **)b;
		core->nfree_bufs--;
		return b;
	}
	b = kvmalloc(KS_CONN_BUF_SIZE, GFP_KERNEL_ACCOUNT);
	if (b)
		sakura_live_inc(buffers);
	return b;
}

static void sakura_buf_put(struct ks_worker *w, void *buf)
{
	struct sakura_core *core = sakura_core_of(w);

	if (core->nfree_bufs >= SAKURA_FREE_BUFS_MAX) {
		kvfree(buf);
		sakura_live_dec(buffers);
		return;
	}
	*(void **)buf = core->free_bufs;
	core->free_bufs = buf;
	core->nfree_bufs++;
}

void sakura_core_free_bufs(struct sakura_core *core)
{
	void *b;

	while ((b = core->free_bufs)) {
		core->free_bufs = *(void **)b;
		kvfree(b);
		sakura_live_dec(buffers);
	}
	core->nfree_bufs = 0;
	sakura_fcache_sweep(core, true);
	if (core->bounce) {
		kvfree(core->bounce);
		core->bounce = NULL;
		sakura_live_dec(buffers);
	}
}

/* Copy at most cap bytes of s; returns the length stored. */
static u16 sakura_log_str(char *dst, u32 cap, struct ks_str s, u8 *flags)
{
	u32 n = min_t(u32, s.len, cap);

	if (n < s.len)
		*flags |= SAKURA_LOG_TRUNCATED;
	memcpy(dst, s.p, n);
	return n;
}

/* One record into the core's log ring, or counted as dropped. */
static void sakura_log(struct ks_conn *c, const struct ks_log_rec *rec)
{
	struct sakura_conn *sc = sakura_conn_of(c);
	struct sakura_core *core = sc->core;
	struct sakura_ring *ring = &core->hdr->log;
	u32 head = smp_load_acquire(&ring->head);
	u32 tail = core->log_tail;
	struct sakura_log_rec *out;
	u8 flags = 0;

	if (tail - head >= core->log_entries) {
		core->log_dropped++;
		WRITE_ONCE(ring->dropped, (u32)core->log_dropped);
		return;
	}
	out = &core->log[tail & (core->log_entries - 1)];
	out->time = rec->time;
	out->body_bytes = rec->body_bytes;
	out->status = rec->status;
	out->family = rec->peer.family;
	out->port = rec->peer.port;
	memcpy(out->addr, rec->peer.addr, sizeof(out->addr));
	out->request_len = sakura_log_str(out->request, sizeof(out->request),
					  rec->request, &flags);
	out->referer_len = sakura_log_str(out->referer, sizeof(out->referer),
					  rec->referer, &flags);
	out->user_agent_len = sakura_log_str(out->user_agent,
					     sizeof(out->user_agent),
					     rec->user_agent, &flags);
	out->flags = flags;
	out->reserved = 0;
	core->log_tail = tail + 1;
	smp_store_release(&ring->tail, tail + 1);
}

const struct ks_io_ops sakura_io_ops = {
	.recv = sakura_recv,
	.send = sakura_send,
	.read = sakura_read,
	.send_file = sakura_send_file,
	.open_beneath = sakura_open_beneath,
	.stat = sakura_stat,
	.close = sakura_close,
	.shutdown = sakura_shutdown,
	.finish = sakura_shutdown,
	.cork = sakura_cork,
	.set_unsent_max = sakura_set_unsent_max,
	.lend = sakura_lend,
	.unsent = sakura_unsent,
	.now = sakura_now,
	.buf_get = sakura_buf_get,
	.buf_put = sakura_buf_put,
	.log = sakura_log,
};
