// SPDX-License-Identifier: GPL-2.0
/*
 * io_user.c - the libc backend of struct ks_io_ops: non-blocking sockets,
 * openat2(RESOLVE_BENEATH) under an O_PATH docroot, sendfile for bodies.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
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
	if ((size_t)n < len)
		u->rdrained = true;
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

static long ks_u_send_file(struct ks_conn *c, struct ks_file *f, u64 off,
			   size_t len)
{
	off_t o = off;
	ssize_t n = sendfile(ks_sock_fd(c), (int)f->h.fd, &o, len);

	return n < 0 ? -errno : n;
}

/*
 * Open @path beneath the root the way the kernel path does: resolve it to an
 * O_PATH handle, which opens nothing (a FIFO, socket or device node in the
 * root is never opened, so it cannot block, be woken or be rewound), stat
 * that, and open for reading only a regular file -- that same inode, through
 * its /proc/self/fd link, so no second walk of the path can be redirected.
 * Without /proc the path is opened again and must name the same inode.
 * Anything else keeps the O_PATH handle after a read-permission check, so
 * both modes refuse the same things.
 */
static int ks_u_open_beneath(struct ks_worker *w, const char *path,
			     struct ks_file *f)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int rootfd = ks_thread_of(w)->srv->rootfd;
	struct stat st, again;
	char link[40];	/* "/proc/self/fd/" and a long */
	long pfd, fd = -1;
	int err = 0;

	pfd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (pfd < 0)
		return -errno;
	if (fstat((int)pfd, &st)) {
		err = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		if (syscall(SYS_faccessat2, (int)pfd, "", R_OK,
			    AT_EMPTY_PATH | AT_EACCESS)) {
			err = -errno;
		} else {
			fd = pfd;	/* kept, never read */
			pfd = -1;
		}
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%ld", pfd);
		/* O_NONBLOCK: should it be a FIFO after all, never block */
		fd = open(link, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {	/* no /proc */
			how.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
			fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
			if (fd >= 0 && (fstat((int)fd, &again) ||
					again.st_ino != st.st_ino ||
					again.st_dev != st.st_dev)) {
				close((int)fd);
				fd = -1;
				errno = ENOENT;	/* replaced meanwhile */
			}
		}
		if (fd < 0)
			err = -errno;
	}
	if (pfd >= 0)
		close((int)pfd);
	if (err)
		return err;
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
	(void)w;
	close((int)f->h.fd);
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
	.now = ks_u_now,
	.buf_get = ks_u_buf_get,
	.buf_put = ks_u_buf_put,
	.log = ks_u_log,
};
