// SPDX-License-Identifier: GPL-2.0
/*
 * supervisor.c - kserver's side of supervisor mode: register with sakura.ko,
 * map the shared rings, start one worker thread per core that enters the
 * kernel for good (SAKURA_IOC_RUN_WORKER, at start or at the first switch to
 * supervisor mode), hand connections over with Sakura Calls, and reap what
 * the kernel gives back: completions (a connection handed back in user mode,
 * a refused call's fd to close, a core's mode switch applied) and access-log
 * records (formatted exactly as user mode does).
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
	struct sakura_ctrl *ctrl;
	struct sakura_layout lay;
	pthread_mutex_t start_lock;
	atomic_bool started;		/* kernel workers running */
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

static int ks_sup_open_dev(bool required, const char **why)
{
	struct utsname u;
	int fd = open(SAKURA_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (!required) {
		*why = errno == ENOENT ? "sakura.ko is not loaded" :
		       errno == EACCES || errno == EPERM ?
		       SAKURA_DEVICE " is not open to this user" :
		       "cannot open " SAKURA_DEVICE;
		return -1;
	}
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

/*
 * Register with sakura.ko. Starting in supervisor mode (@required) that
 * must work; starting in user mode it makes the server switchable, and when
 * it cannot be, *why says so and the server runs in user mode only.
 */
int ks_sup_register(struct ks_server *srv, bool required, const char **why)
{
	const struct ks_mime_table *mime = srv->cfg.mime;
	struct sakura_register reg;
	struct ks_sup *s;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->devfd = ks_sup_open_dev(required, why);
	if (s->devfd < 0) {
		free(s);
		return -ENODEV;
	}
	pthread_mutex_init(&s->start_lock, NULL);
	memset(&reg, 0, sizeof(reg));
	reg.abi_version = SAKURA_ABI_VERSION;
	reg.flags = (srv->cfg.serve_hidden ? SAKURA_REG_SERVE_HIDDEN : 0) |
		    (srv->cfg.access_log ? SAKURA_REG_ACCESS_LOG : 0) |
		    (srv->cfg.bench_body_len ? SAKURA_REG_BENCH_FIXED : 0);
	reg.bench_body_len = srv->cfg.bench_body_len;
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
	reg.mode = required ? SAKURA_MODE_SUPERVISOR : SAKURA_MODE_USER;
	if (ioctl(s->devfd, SAKURA_IOC_REGISTER, &reg)) {
		if (!required) {
			*why = errno == EPERM ? "registering with sakura.ko "
			       "needs CAP_NET_ADMIN" : errno == EPROTO ?
			       "sakura.ko speaks another ABI version" :
			       "sakura.ko refused to register it";
			goto err_close;
		}
		ks_err("cannot register with sakura.ko: %s%s", strerror(errno),
		       errno == EPERM ? " (needs CAP_NET_ADMIN)" :
		       errno == EBUSY ? " (this process is registered already)" :
		       errno == EPROTO ? " (kserver and sakura.ko are of "
					 "different versions: rebuild both)" :
		       "");
		goto err_close;
	}
	s->lay = reg.layout;
	s->map = mmap(NULL, s->lay.mmap_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, s->devfd, 0);
	if (s->map == MAP_FAILED) {
		ks_err("cannot map sakura.ko's rings: %s", strerror(errno));
		*why = "cannot map sakura.ko's rings";
		goto err_close;
	}
	s->ctrl = s->map;
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
	ks_name_self("sakura", a->core);
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

/* Start the kernel workers, once: at start or at the first switch. */
int ks_sup_start(struct ks_server *srv)
{
	struct ks_sup *s = srv->sup;
	unsigned int i;
	int err = 0;

	if (atomic_load(&s->started))
		return 0;
	pthread_mutex_lock(&s->start_lock);
	if (!s->workers) {
		s->workers = calloc(srv->nthreads, sizeof(*s->workers));
		if (!s->workers)
			err = -ENOMEM;
	}
	for (i = s->nworkers; !err && i < srv->nthreads; i++) {
		struct ks_worker_arg *a = malloc(sizeof(*a));
		int err;

		if (!a) {
			err = -ENOMEM;
			break;
		}
		a->sup = s;
		a->core = i;
		a->cpu = srv->threads[i].cpu;
		err = pthread_create(&s->workers[i], NULL, ks_sup_worker, a);
		if (err) {
			free(a);
			ks_err("cannot start kernel worker %u: %s", i,
			       strerror(err));
			err = -err;
			break;
		}
		s->nworkers++;
	}
	if (!err)
		atomic_store(&s->started, true);
	pthread_mutex_unlock(&s->start_lock);
	return err;
}

bool ks_sup_started(struct ks_server *srv)
{
	return srv->sup && atomic_load(&srv->sup->started);
}

/* Let the event loop hear completions: edge-triggered, each loop drains its
 * own core's rings, so waking both loops for either core costs nothing. */
int ks_sup_watch(struct ks_thread *t)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLPRI | EPOLLET };

	ev.data.ptr = &t->sup_tag;
	return epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->srv->sup->devfd, &ev) ?
		       -errno : 0;
}

/* Room for one more Sakura Call on this core? */
bool ks_sup_can_call(struct ks_thread *t)
{
	struct sakura_core_hdr *h = ks_core_hdr(t->srv->sup, t->id);
	__u32 head = __atomic_load_n(&h->sq.head, __ATOMIC_ACQUIRE);

	return h->sq.tail - head < KS_SQ_ENTRIES;
}

/*
 * ks_sup_call - the Sakura Call: one store into the core's submission ring,
 * and a KICK only when the worker said it sleeps. @op is SAKURA_OP_*, @fd a
 * connection (or the mode for SAKURA_OP_MODE). false: ring full (the caller
 * serves the connection itself, in user mode).
 */
static bool ks_sup_call(struct ks_thread *t, __u32 op, int fd,
			__u64 user_data)
{
	struct ks_sup *s = t->srv->sup;
	struct sakura_core_hdr *h = ks_core_hdr(s, t->id);
	struct sakura_sqe *sq = ks_core_area(s, t->id, s->lay.sq_off);
	__u32 tail = h->sq.tail;	/* we are the only producer */

	if (!ks_sup_can_call(t))
		return false;
	sq[tail & (KS_SQ_ENTRIES - 1)] = (struct sakura_sqe){
		.op = op, .fd = fd, .user_data = user_data,
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

/* Hand a connection to the kernel: new, or kept alive between requests. */
bool ks_sup_give(struct ks_thread *t, int fd, bool kept_alive)
{
	return ks_sup_call(t, kept_alive ? SAKURA_OP_HTTP_IDLE :
			   SAKURA_OP_HTTP_CONN, fd, (__u64)fd);
}

/* Tell this core's worker the mode; a SAKURA_CQE_MODE answers with @seq. */
bool ks_sup_mode(struct ks_thread *t, enum ks_mode mode, u64 seq)
{
	return ks_sup_call(t, SAKURA_OP_MODE, mode == KS_MODE_SUPERVISOR ?
			   SAKURA_MODE_SUPERVISOR : SAKURA_MODE_USER, seq);
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

/* Drain this core's completion ring and its log ring. */
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

		switch (e->op) {
		case SAKURA_CQE_CLOSED:	/* refused: the fd is still ours */
			if (e->fd >= 0)
				close(e->fd);
			break;
		case SAKURA_CQE_HANDBACK:
			ks_resume(t, e->fd);
			break;
		case SAKURA_CQE_MODE:
			ks_mode_done(t, e->user_data, e->res);
			break;
		}
	}
	__atomic_store_n(&h->cq.head, head, __ATOMIC_RELEASE);

	head = h->log.head;
	tail = __atomic_load_n(&h->log.tail, __ATOMIC_ACQUIRE);
	for (; head != tail; head++)
		if (t->log)
			ks_sup_log(t, &lr[head & (KS_LOG_ENTRIES - 1)]);
	__atomic_store_n(&h->log.head, head, __ATOMIC_RELEASE);
}

/* The switch request to apply: its number, and the mode in *mode. */
u64 ks_sup_requested(struct ks_server *srv, enum ks_mode *mode)
{
	struct sakura_ctrl *c = srv->sup->ctrl;
	u64 seq = __atomic_load_n(&c->req_seq, __ATOMIC_ACQUIRE);

	*mode = __atomic_load_n(&c->req_mode, __ATOMIC_RELAXED) ==
		SAKURA_MODE_SUPERVISOR ? KS_MODE_SUPERVISOR : KS_MODE_USER;
	return seq;
}

/* Every core applied switch request @seq: tell the waiting kserverctl. */
void ks_sup_ack(struct ks_server *srv, u64 seq)
{
	struct sakura_ack a = { .seq = seq };

	/* EALREADY: another loop acknowledged it; ESTALE: a newer one waits */
	if (ioctl(srv->sup->devfd, SAKURA_IOC_ACK_MODE, &a) &&
	    errno != EALREADY && errno != ESTALE)
		ks_err("cannot acknowledge mode switch %llu: %s",
		       (unsigned long long)seq, strerror(errno));
}

/* Connections this core's kernel worker owns (as of its last round). */
unsigned long ks_sup_conns(struct ks_thread *t)
{
	struct sakura_core_hdr *h = ks_core_hdr(t->srv->sup, t->id);

	return __atomic_load_n(&h->counters.conns, __ATOMIC_RELAXED);
}

/* What this event loop did in user mode, for kserverctl status. */
void ks_sup_publish(struct ks_thread *t)
{
	struct sakura_counters *c = &ks_core_hdr(t->srv->sup, t->id)->ucounters;
	const struct ks_stats *s = &t->w.stats;

#define KS_PUT(field, v) __atomic_store_n(&c->field, (v), __ATOMIC_RELAXED)
	KS_PUT(conns, t->nconns);
	KS_PUT(accepted, s->accepted);
	KS_PUT(requests, s->requests);
	KS_PUT(bytes, s->body_bytes);
	KS_PUT(handovers, s->handovers);
	KS_PUT(adopted, s->adopted);
	KS_PUT(timeouts, s->timeouts);
	KS_PUT(closed, s->closed);
#undef KS_PUT
}

/* Workers leave the kernel on UNREGISTER, closing what they own; their last
 * completions are reaped here, so connections handed back are closed. */
void ks_sup_stop(struct ks_server *srv)
{
	struct ks_sup *s = srv->sup;
	unsigned int i;

	if (!s)
		return;
	ioctl(s->devfd, SAKURA_IOC_UNREGISTER);
	for (i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	/* the loops are draining: connections handed back are closed */
	for (i = 0; i < srv->nthreads; i++)
		ks_sup_reap(&srv->threads[i]);
}
