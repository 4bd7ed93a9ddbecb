// SPDX-License-Identifier: GPL-2.0
/*
 * supervisor.c - kserver's side of supervisor mode: register with sakura.ko,
 * map the shared rings, start one worker thread per core that enters the
 * kernel for good (SAKURA_IOC_RUN_WORKER), hand connections over with Sakura
 * Calls, and reap what the kernel gives back: completions (close the fd)
 * and access-log records (format them exactly as user mode does).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "server.h"
#include "../kmod/uapi/sakura.h"

#define KS_SQ_ENTRIES 4096
#define KS_CQ_ENTRIES 16384
#define KS_LOG_ENTRIES 4096

struct ks_sup {
	int devfd;
	void *map;
	struct sakura_layout lay;
	pthread_t *workers;
	unsigned int nworkers;
};

static struct sakura_core_hdr *ks_core_hdr(struct ks_sup *s, unsigned int i)
{
	return (void *)((char *)s->map + s->lay.core_off + i * s->lay.core_size);
}

static void *ks_core_area(struct ks_sup *s, unsigned int i, __u64 off)
{
	return (char *)ks_core_hdr(s, i) + off;
}

static int ks_sup_open_dev(void)
{
	struct utsname u;
	int fd = open(SAKURA_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT) {
		uname(&u);
		ks_err("--mode supervisor needs the sakura kernel module, and "
		       SAKURA_DEVICE " is missing: load it with 'insmod "
		       "build/kmod/%s/sakura.ko' (build it with 'make module')",
		       u.release);
	} else {
		ks_err("cannot open " SAKURA_DEVICE ": %s%s", strerror(errno),
		       errno == EACCES ? " (supervisor mode needs root or "
					 "CAP_NET_ADMIN)" : "");
	}
	return -1;
}

int ks_sup_register(struct ks_server *srv)
{
	const struct ks_mime_table *mime = srv->cfg.mime;
	struct sakura_register reg;
	struct ks_sup *s;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->devfd = ks_sup_open_dev();
	if (s->devfd < 0) {
		free(s);
		return -ENODEV;
	}
	memset(&reg, 0, sizeof(reg));
	reg.abi_version = SAKURA_ABI_VERSION;
	reg.flags = (srv->cfg.serve_hidden ? SAKURA_REG_SERVE_HIDDEN : 0) |
		    (srv->cfg.access_log ? SAKURA_REG_ACCESS_LOG : 0);
	reg.root_fd = srv->rootfd;
	reg.ncores = srv->nthreads;
	reg.sq_entries = KS_SQ_ENTRIES;
	reg.cq_entries = KS_CQ_ENTRIES;
	reg.log_entries = KS_LOG_ENTRIES;
	reg.header_timeout_ms = srv->cfg.header_timeout_ms;
	reg.keepalive_timeout_ms = srv->cfg.keepalive_timeout_ms;
	reg.send_timeout_ms = srv->cfg.send_timeout_ms;
	reg.linger_timeout_ms = srv->cfg.linger_timeout_ms;
	reg.index_len = srv->cfg.index_len;
	memcpy(reg.index, srv->cfg.index, srv->cfg.index_len);
	reg.mime_ptr = (__u64)(uintptr_t)mime;
	reg.mime_len = mime->size;
	if (ioctl(s->devfd, SAKURA_IOC_REGISTER, &reg)) {
		ks_err("cannot register with sakura.ko: %s%s", strerror(errno),
		       errno == EPERM ? " (needs CAP_NET_ADMIN)" :
		       errno == EBUSY ? " (this process is registered already)" :
		       "");
		goto err_close;
	}
	s->lay = reg.layout;
	s->map = mmap(NULL, s->lay.mmap_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, s->devfd, 0);
	if (s->map == MAP_FAILED) {
		ks_err("cannot map sakura.ko's rings: %s", strerror(errno));
		goto err_close;
	}
	srv->sup = s;
	return 0;
err_close:
	close(s->devfd);
	free(s);
	return -EIO;
}

struct ks_worker_arg {
	struct ks_sup *sup;
	unsigned int core;
	int cpu;
};

/* A worker: pinned like its event loop, then inside the kernel for good. */
static void *ks_sup_worker(void *p)
{
	struct ks_worker_arg *a = p;
	struct sakura_core_arg arg = { .core = a->core };

	ks_pin_self(a->cpu);
	/* a stop (ptrace, SIGSTOP) may interrupt it: go straight back in */
	while (ioctl(a->sup->devfd, SAKURA_IOC_RUN_WORKER, &arg)) {
		if (errno != EINTR) {
			ks_err("worker %u left the kernel: %s", a->core,
			       strerror(errno));
			break;
		}
	}
	free(a);
	return NULL;
}

int ks_sup_start(struct ks_server *srv)
{
	struct ks_sup *s = srv->sup;
	unsigned int i;

	s->workers = calloc(srv->nthreads, sizeof(*s->workers));
	if (!s->workers)
		return -ENOMEM;
	for (i = 0; i < srv->nthreads; i++) {
		struct ks_worker_arg *a = malloc(sizeof(*a));
		int err;

		if (!a)
			return -ENOMEM;
		a->sup = s;
		a->core = i;
		a->cpu = srv->threads[i].cpu;
		err = pthread_create(&s->workers[i], NULL, ks_sup_worker, a);
		if (err) {
			free(a);
			ks_err("cannot start kernel worker %u: %s", i,
			       strerror(err));
			return -err;
		}
		s->nworkers++;
	}
	return 0;
}

/* Let the event loop hear completions: edge-triggered, each loop drains its
 * own core's rings, so waking both loops for either core costs nothing. */
int ks_sup_watch(struct ks_thread *t)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };

	ev.data.ptr = &t->sup_tag;
	return epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->srv->sup->devfd, &ev) ?
		       -errno : 0;
}

/*
 * ks_sup_call - the Sakura Call: one store into the core's submission ring,
 * and a KICK only when the worker said it sleeps. false: ring full (the
 * caller serves the connection itself, in user mode).
 */
bool ks_sup_call(struct ks_thread *t, int fd)
{
	struct ks_sup *s = t->srv->sup;
	struct sakura_core_hdr *h = ks_core_hdr(s, t->id);
	struct sakura_sqe *sq = ks_core_area(s, t->id, s->lay.sq_off);
	__u32 tail = h->sq.tail;	/* we are the only producer */
	__u32 head = __atomic_load_n(&h->sq.head, __ATOMIC_ACQUIRE);

	if (tail - head >= KS_SQ_ENTRIES)
		return false;
	sq[tail & (KS_SQ_ENTRIES - 1)] = (struct sakura_sqe){
		.op = SAKURA_OP_HTTP_CONN, .fd = fd, .user_data = (__u64)fd,
	};
	__atomic_store_n(&h->sq.tail, tail + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&h->sq.flags, __ATOMIC_RELAXED) &
	    SAKURA_SQ_NEED_WAKEUP) {
		struct sakura_core_arg arg = { .core = t->id };

		ioctl(s->devfd, SAKURA_IOC_KICK, &arg);
	}
	return true;
}

static void ks_sup_log(struct ks_thread *t, const struct sakura_log_rec *r)
{
	struct ks_log_rec rec = {
		.time = r->time,
		.status = r->status,
		.body_bytes = r->body_bytes,
		.request = { r->request,
			     KS_MIN(r->request_len, SAKURA_LOG_REQUEST_MAX) },
		.referer = { r->referer,
			     KS_MIN(r->referer_len, SAKURA_LOG_REFERER_MAX) },
		.user_agent = { r->user_agent,
				KS_MIN(r->user_agent_len, SAKURA_LOG_UA_MAX) },
	};

	rec.peer.family = r->family;
	rec.peer.port = r->port;
	memcpy(rec.peer.addr, r->addr, sizeof(rec.peer.addr));
	ks_log_write(t->log, &rec);
}

/* Drain this core's completion ring (close the fds) and its log ring. */
void ks_sup_reap(struct ks_thread *t)
{
	struct ks_sup *s = t->srv->sup;
	struct sakura_core_hdr *h = ks_core_hdr(s, t->id);
	struct sakura_cqe *cq = ks_core_area(s, t->id, s->lay.cq_off);
	struct sakura_log_rec *lr = ks_core_area(s, t->id, s->lay.log_off);
	__u32 head = h->cq.head;
	__u32 tail = __atomic_load_n(&h->cq.tail, __ATOMIC_ACQUIRE);

	for (; head != tail; head++) {
		const struct sakura_cqe *e = &cq[head & (KS_CQ_ENTRIES - 1)];

		if (e->op == SAKURA_CQE_CLOSED && e->fd >= 0)
			close(e->fd);
	}
	__atomic_store_n(&h->cq.head, head, __ATOMIC_RELEASE);

	head = h->log.head;
	tail = __atomic_load_n(&h->log.tail, __ATOMIC_ACQUIRE);
	for (; head != tail; head++)
		if (t->log)
			ks_sup_log(t, &lr[head & (KS_LOG_ENTRIES - 1)]);
	__atomic_store_n(&h->log.head, head, __ATOMIC_RELEASE);
}

/* Workers leave the kernel on UNREGISTER; their last completions are
 * reaped here so every handed-over fd is closed exactly once. */
void ks_sup_stop(struct ks_server *srv)
{
	struct ks_sup *s = srv->sup;
	unsigned int i;

	if (!s)
		return;
	ioctl(s->devfd, SAKURA_IOC_UNREGISTER);
	for (i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	for (i = 0; i < srv->nthreads; i++)
		ks_sup_reap(&srv->threads[i]);
}
