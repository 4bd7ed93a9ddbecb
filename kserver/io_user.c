// SPDX-License-Identifier: GPL-2.0
/*
 * io_user.c - the libc backend of struct ks_io_ops: non-blocking sockets,
 * openat2(RESOLVE_BENEATH) under an O_PATH docroot, sendfile for bodies.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "server.h"

#define KS_FREE_BUFS_MAX 256	/* buffers kept per thread for reuse */

static inline struct ks_thread *ks_thread_of(struct ks_worker *w)
{
	return w->backend;
}

static inline int ks_sock_fd(struct ks_conn *c)
{
	return (int)c->sock.fd;
}

static long ks_u_recv(struct ks_conn *c, void *buf, size_t len)
{
	struct ks_uconn *u = (struct ks_uconn *)c;	/* c is its first member */
	ssize_t n;

	KS_BUILD_BUG_ON(offsetof(struct ks_uconn, c) != 0);
	if (u->rdrained)
		return -EAGAIN;
	n = recv(ks_sock_fd(c), buf, len, 0);
	if (n < 0) {
		if (errno == EAGAIN)
			u->rdrained = true;
		return -errno;
	}
	if ((size_t)n < len && !u->rdhup)
		u->rdrained = true;	/* empty until the next edge, unless a FIN waits */
	return n;
}

static long ks_u_send(struct ks_conn *c, const void *buf, size_t len,
		      bool more)
{
	ssize_t n = send(ks_sock_fd(c), buf, len,
			 MSG_NOSIGNAL | (more ? MSG_MORE : 0));

	return n < 0 ? -errno : n;
}

static long ks_u_read(struct ks_worker *w, struct ks_file *f, u64 off,
		      void *buf, size_t len)
{
	ssize_t n = pread((int)f->h.fd, buf, len, off);

	(void)w;
	return n < 0 ? -errno : n;
}

/*
 * A short sendfile() met a full socket, or a file that ended early (the
 * next call says 0). A poll() tells which without another splice that could
 * only say -EAGAIN: on a socket it finds unwritable, tcp_poll() has set
 * SOCK_NOSPACE, so the write wake-up (an EPOLLOUT edge) is sure to come,
 * and the connection waits for it, as nginx does after a short sendfile().
 */
static long ks_u_send_file(struct ks_conn *c, struct ks_file *f, u64 off,
			   size_t len)
{
	off_t o = off;
	ssize_t n = sendfile(ks_sock_fd(c), (int)f->h.fd, &o, len);

	if (n > 0 && (size_t)n < len) {
		struct pollfd p = { .fd = ks_sock_fd(c), .events = POLLOUT };

		c->sock_full = poll(&p, 1, 0) == 0;
	}
	return n < 0 ? -errno : n;
}

/*
 * The open-file cache: nginx's open_file_cache without its staleness, as in
 * the kernel (kmod/io_kern.c). Every request still resolves its path
 * beneath the root and stats what it found; only then is a descriptor
 * already open on that same inode, with the same ctime, reused instead of
 * an open() through /proc and a close() per request. A replaced file is
 * another inode, a miss; a truncated or grown one is seen by the fstat of
 * every request (and moves the ctime: the next request reopens). An entry
 * unused for KS_FCACHE_IDLE_MS is closed, so a deleted file is not held for
 * long; one a request is still sending from is never closed under it.
 */
void ks_fcache_init(struct ks_thread *t)
{
	unsigned int i;

	for (i = 0; i < KS_FCACHE_SLOTS; i++)
		t->fcache[i].fd = -1;
}

static void ks_fcache_drop(struct ks_thread *t, struct ks_fcache_ent *e)
{
	close(e->fd);
	e->fd = -1;
	t->fcache_n--;
}

void ks_fcache_sweep(struct ks_thread *t, bool all)
{
	u64 now = t->w.now_ms;
	unsigned int i;

	for (i = 0; i < KS_FCACHE_SLOTS; i++) {
		struct ks_fcache_ent *e = &t->fcache[i];

		if (e->fd >= 0 && !e->refs &&
		    (all || now - e->used_ms >= KS_FCACHE_IDLE_MS))
			ks_fcache_drop(t, e);
	}
	t->fcache_swept_ms = now;
}

static unsigned int ks_fcache_slot(const struct stat *st)
{
	u64 h = ((u64)st->st_dev * 0x9e3779b97f4a7c15ull) ^ (u64)st->st_ino;

	h *= 0x9e3779b97f4a7c15ull;
	return (unsigned int)(h >> 58);	/* 64 slots */
}

static bool ks_fcache_match(const struct ks_fcache_ent *e,
			    const struct stat *st)
{
	return e->fd >= 0 && e->dev == st->st_dev && e->ino == st->st_ino &&
	       e->ctime.tv_sec == st->st_ctim.tv_sec &&
	       e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/*
 * Open for reading the regular file behind the O_PATH handle @pfd -- that
 * same inode, through its /proc/self/fd link, so no second walk of the path
 * can be redirected. Without /proc the path is opened again and must name
 * the same inode.
 */
static long ks_u_open_reg(int rootfd, const char *path, long pfd,
			  const struct stat *st)
{
	struct open_how how = {
		/* O_NONBLOCK: should it be a FIFO after all, never block */
		.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	char link[40];	/* "/proc/self/fd/" and a long */
	struct stat again;
	long fd;

	snprintf(link, sizeof(link), "/proc/self/fd/%ld", pfd);
	fd = open(link, (int)how.flags);
	if (fd >= 0 || errno != ENOENT)
		return fd < 0 ? -errno : fd;
	fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));	/* no /proc */
	if (fd < 0)
		return -errno;
	if (fstat((int)fd, &again) || again.st_ino != st->st_ino ||
	    again.st_dev != st->st_dev) {
		close((int)fd);
		return -ENOENT;	/* replaced meanwhile */
	}
	return fd;
}

/* A descriptor for the regular file @st: from the cache or opened. */
static long ks_u_file_fd(struct ks_thread *t, const char *path, long pfd,
			 const struct stat *st, struct ks_file *f)
{
	unsigned int slot = ks_fcache_slot(st);
	struct ks_fcache_ent *e = &t->fcache[slot];
	long fd;

	if (ks_fcache_match(e, st)) {
		e->refs++;
		e->used_ms = t->w.now_ms;
		f->slot = slot + 1;
		return e->fd;
	}
	fd = ks_u_open_reg(t->srv->rootfd, path, pfd, st);
	if (fd < 0 || (e->fd >= 0 && e->refs))
		return fd;	/* the slot is busy: this one goes uncached */
	if (e->fd >= 0)
		ks_fcache_drop(t, e);
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->ctime = st->st_ctim;
	e->fd = (int)fd;
	e->refs = 1;
	e->used_ms = t->w.now_ms;
	t->fcache_n++;
	f->slot = slot + 1;
	return fd;
}

/*
 * Open @path beneath the root the way the kernel path does: resolve it to an
 * O_PATH handle, which opens nothing (a FIFO, socket or device node in the
 * root is never opened, so it cannot block, be woken or be rewound), stat
 * that, and open for reading only a regular file (ks_u_file_fd). Anything
 * else keeps the O_PATH handle after a read-permission check, so both modes
 * refuse the same things.
 */
static int ks_u_open_beneath(struct ks_worker *w, const char *path,
			     struct ks_file *f)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	struct ks_thread *t = ks_thread_of(w);
	struct stat st;
	long pfd, fd;

	pfd = syscall(SYS_openat2, t->srv->rootfd, path, &how, sizeof(how));
	if (pfd < 0)
		return -errno;
	f->slot = 0;
	if (fstat((int)pfd, &st)) {
		fd = -errno;
	} else if (S_ISREG(st.st_mode)) {
		fd = ks_u_file_fd(t, path, pfd, &st, f);
	} else if (syscall(SYS_faccessat2, (int)pfd, "", R_OK,
			   AT_EMPTY_PATH | AT_EACCESS)) {
		fd = -errno;
	} else {
		fd = pfd;	/* kept, never read */
		pfd = -1;
	}
	if (pfd >= 0)
		close((int)pfd);
	if (fd < 0)
		return (int)fd;
	f->h.fd = fd;
	f->size = st.st_size;
	f->mtime = st.st_mtime;
	f->type = S_ISREG(st.st_mode) ? KS_FT_REG :
		  S_ISDIR(st.st_mode) ? KS_FT_DIR : KS_FT_OTHER;
	return 0;
}

/* open_beneath() filled everything in already (as in the kernel). */
static int ks_u_stat(struct ks_worker *w, struct ks_file *f)
{
	(void)w;
	(void)f;
	return 0;
}

static void ks_u_close(struct ks_worker *w, struct ks_file *f)
{
	struct ks_thread *t = ks_thread_of(w);

	if (f->slot) {	/* the cache keeps it; the sweep closes it */
		t->fcache[f->slot - 1].refs--;
		f->slot = 0;
		return;
	}
	close((int)f->h.fd);
}

static void ks_u_cork(struct ks_conn *c, bool on)
{
	int v = on;

	/* best effort: uncorked, the same bytes go in smaller segments */
	(void)setsockopt(ks_sock_fd(c), IPPROTO_TCP, TCP_CORK, &v, sizeof(v));
}

static void ks_u_set_unsent_max(struct ks_conn *c, u32 bytes)
{
	int v = (int)bytes;

	/* best effort: the old allowance still bounds the queue */
	(void)setsockopt(ks_sock_fd(c), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v,
			 sizeof(v));
}

static long ks_u_unsent(struct ks_conn *c)
{
	int n;

	return ioctl(ks_sock_fd(c), SIOCOUTQNSD, &n) ? -errno : n;
}

static void ks_u_shutdown(struct ks_conn *c)
{
	shutdown(ks_sock_fd(c), SHUT_WR);
}

static void ks_u_now(struct ks_worker *w, u64 *mono_ms, s64 *wall)
{
	struct timespec ts;

	(void)w;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	*mono_ms = (u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	clock_gettime(CLOCK_REALTIME, &ts);
	*wall = ts.tv_sec;
}

/* Buffers are recycled through a per-thread free list: no locks, no malloc
 * on the request path once warm. */
static void *ks_u_buf_get(struct ks_worker *w)
{
	struct ks_thread *t = ks_thread_of(w);
	void *b = t->free_bufs;

	if (b) {
		t->free_bufs = *(void **)b;
		t->nfree_bufs--;
		return b;
	}
	return malloc(KS_CONN_BUF_SIZE);
}

static void ks_u_buf_put(struct ks_worker *w, void *buf)
{
	struct ks_thread *t = ks_thread_of(w);

	if (t->nfree_bufs >= KS_FREE_BUFS_MAX) {
		free(buf);
		return;
	}
	*(void **)buf = t->free_bufs;
	t->free_bufs = buf;
	t->nfree_bufs++;
}

static void ks_u_log(struct ks_conn *c, const struct ks_log_rec *rec)
{
	ks_log_write(ks_thread_of(c->w)->log, rec);
}

const struct ks_io_ops ks_user_io_ops = {
	.recv = ks_u_recv,
	.send = ks_u_send,
	.read = ks_u_read,
	.send_file = ks_u_send_file,
	.open_beneath = ks_u_open_beneath,
	.stat = ks_u_stat,
	.close = ks_u_close,
	.shutdown = ks_u_shutdown,
	/* no .finish: the event loop closes the fd at once */
	.cork = ks_u_cork,
	.set_unsent_max = ks_u_set_unsent_max,
	.unsent = ks_u_unsent,
	.now = ks_u_now,
	.buf_get = ks_u_buf_get,
	.buf_put = ks_u_buf_put,
	.log = ks_u_log,
};
