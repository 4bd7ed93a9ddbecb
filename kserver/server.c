// SPDX-License-Identifier: GPL-2.0
/*
 * server.c - user mode: one pinned event-loop thread per core, each with its
 * own SO_REUSEPORT listener and epoll set, running the shared handler.
 *
 * Sockets are registered once, edge-triggered for both directions, so a
 * connection's state changes never cost an epoll_ctl. Connections that used
 * up their per-pass budget go on a ready list and run again after the next
 * (non-blocking) epoll_wait, so a big download shares the core fairly.
 *
 * Registered with sakura.ko, a loop also applies mode switches (DMSM): it
 * reads a request from the control page, routes new connections to its own
 * core's kernel worker (supervisor) or keeps them (user), moves connections
 * between requests the same way, tells the worker with SAKURA_OP_MODE, and
 * when every loop has applied the request one of them acknowledges it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <linux/sockios.h>
#include "server.h"

#define KS_EVENTS 256
#define KS_ACCEPTS_PER_ROUND 64
#define KS_BACKLOG 4096
#define KS_DRAIN_MS 10000		/* graceful stop: finish in-flight, bounded */
#define KS_ACCEPT_PAUSE_MS 100		/* after EMFILE/ENFILE */
#define KS_ACCEPT_WARN_MS 10000		/* say so at most this often */
#define KS_STOP_SEQ (~0ull)		/* SAKURA_OP_MODE of a graceful stop */

static void ks_sup_poll(struct ks_thread *t);

static struct ks_uconn *ks_uconn_of(struct ks_conn *c)
{
	return (struct ks_uconn *)c;
}

static struct ks_uconn *ks_uconn_alloc(struct ks_thread *t)
{
	struct ks_uconn *u = t->free_conns;

	if (u) {
		t->free_conns = u->next;
		return u;
	}
	return malloc(sizeof(*u));
}

static void ks_ready_remove(struct ks_thread *t, struct ks_uconn *u)
{
	struct ks_uconn **pp;

	for (pp = &t->ready; *pp; pp = &(*pp)->next) {
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	}
	u->on_ready = false;
}

static void ks_uconn_close(struct ks_thread *t, struct ks_uconn *u)
{
	if (u->on_ready)
		ks_ready_remove(t, u);
	ks_conn_release(&u->c);
	close((int)u->c.sock.fd);
	u->next = t->free_conns;
	t->free_conns = u;
	t->nconns--;
}

/* Give an idle connection to this core's kernel worker; false: ring full. */
static bool ks_uconn_handover(struct ks_thread *t, struct ks_uconn *u)
{
	int fd = (int)u->c.sock.fd;

	if (!ks_sup_can_call(t))
		return false;
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, fd, NULL);
	if (u->on_ready)
		ks_ready_remove(t, u);
	ks_conn_handover(&u->c);
	u->next = t->free_conns;
	t->free_conns = u;
	t->nconns--;
	return ks_sup_give(t, fd, true);	/* cannot fail: room checked */
}

/* Act on what the handler wants next. */
static void ks_uconn_after(struct ks_thread *t, struct ks_uconn *u,
			   enum ks_want want)
{
	switch (want) {
	case KS_WANT_CLOSE:
		ks_uconn_close(t, u);
		break;
	case KS_WANT_HANDOVER:	/* supervisor mode, between requests */
		if (!ks_uconn_handover(t, u)) {
			u->c.stay = true;	/* serve its next request here */
			ks_uconn_after(t, u, ks_conn_run(&u->c));
		}
		break;
	case KS_WANT_YIELD:
		if (!u->on_ready) {
			u->on_ready = true;
			u->next = t->ready;
			t->ready = u;
		}
		break;
	default:	/* edge-triggered for both: nothing to change */
		break;
	}
}

static void ks_peer_from(struct ks_peer *p, const struct sockaddr_storage *ss)
{
	memset(p, 0, sizeof(*p));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		p->family = 4;
		memcpy(p->addr, &in->sin_addr, 4);
		p->port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		p->family = 6;
		memcpy(p->addr, &in6->sin6_addr, 16);
		p->port = ntohs(in6->sin6_port);
	}
}

/*
 * Out of descriptors (or memory) for accept(): take the listener out of the
 * epoll set for KS_ACCEPT_PAUSE_MS, as nginx disables accept events, rather
 * than spin on a level-triggered listener that stays ready. The pending
 * connections wait in the listen queue. Said once a run of pauses, and at
 * most every KS_ACCEPT_WARN_MS.
 */
static void ks_accept_pause(struct ks_thread *t, bool pause, int err)
{
	if (pause) {
		epoll_ctl(t->epfd, EPOLL_CTL_DEL, t->lfd, NULL);
		t->accept_paused_until = t->w.now_ms + KS_ACCEPT_PAUSE_MS;
		if (!t->accept_starved++ &&
		    (!t->accept_warned_ms ||
		     t->w.now_ms >= t->accept_warned_ms + KS_ACCEPT_WARN_MS)) {
			ks_err("event loop %u: out of file descriptors or memory "
			       "for new connections (accept: %s; %lu open here): "
			       "not accepting for %d ms at a time until some "
			       "close; raise ulimit -n", t->id, strerror(err),
			       t->nconns, KS_ACCEPT_PAUSE_MS);
			t->accept_warned_ms = t->w.now_ms;
			t->accept_warned = true;
		}
	} else {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

		epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->lfd, &ev);
		t->accept_paused_until = 0;
	}
}

/*
 * Watch a connection set up by ks_conn_init/resume() and run it now, or
 * (@later) from the ready list, between looks at sakura.ko's rings.
 */
static void ks_uconn_start(struct ks_thread *t, struct ks_uconn *u,
			   const struct sockaddr_storage *ss, bool later)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.ptr = u,
	};

	ks_peer_from(&u->c.peer, ss);
	u->on_ready = false;
	u->rdrained = false;
	u->rdhup = false;
	t->nconns++;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, (int)u->c.sock.fd, &ev)) {
		ks_uconn_close(t, u);
		return;
	}
	/* the request may be here already */
	ks_uconn_after(t, u, later ? KS_WANT_YIELD : ks_conn_run(&u->c));
}

/*
 * A connection the kernel handed back between requests: serve it here. It
 * runs from the ready list: a reap may bring dozens back at once, each with
 * pipelined requests waiting, and a switch request must not wait for them.
 */
void ks_resume(struct ks_thread *t, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct ks_uconn *u;
	union ks_handle h = { .fd = fd };

	if (fd < 0)
		return;
	/* stopping: an idle connection is closed, as ks_begin_drain() does */
	u = t->w.draining ? NULL : ks_uconn_alloc(t);
	if (!u) {
		close(fd);
		return;
	}
	if (getpeername(fd, (struct sockaddr *)&ss, &sl))
		ss.ss_family = AF_UNSPEC;
	ks_conn_resume(&u->c, &t->w, h);
	ks_uconn_start(t, u, &ss, true);
}

static void ks_accept(struct ks_thread *t)
{
	int i;

	for (i = 0; i < KS_ACCEPTS_PER_ROUND; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct ks_uconn *u;
		union ks_handle h;
		int fd = accept4(t->lfd, (struct sockaddr *)&ss, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			/* out of descriptors: stop accepting for a moment
			 * rather than spin on a listener that stays ready */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				ks_accept_pause(t, true, errno);
			return;
		}
		if (t->accept_warned)
			ks_err("event loop %u: accepting again after %lu "
			       "pauses", t->id, t->accept_starved);
		t->accept_starved = 0;
		t->accept_warned = false;
		/* TCP_NODELAY and KS_UNSENT_MIN: from the listener */
		/* supervisor mode: one Sakura Call and the kernel owns it */
		if (t->w.hand_over && ks_sup_give(t, fd, false))
			continue;
		u = ks_uconn_alloc(t);
		if (!u) {
			close(fd);
			return;
		}
		h.fd = fd;
		ks_conn_init(&u->c, &t->w, h);
		ks_uconn_start(t, u, &ss, false);
	}
}

static void ks_run_ready(struct ks_thread *t)
{
	struct ks_uconn *list = t->ready, *u;

	t->ready = NULL;
	while ((u = list)) {
		list = u->next;
		u->on_ready = false;
		ks_uconn_after(t, u, ks_conn_run(&u->c));
		if (t->srv->sup)
			ks_sup_poll(t);
	}
}

/*
 * A client that timed out with our bytes still unread gets a reset, as with
 * nginx's reset_timedout_connection: a plain close would leave an orphan
 * socket holding them in kernel memory until TCP gives up (minutes), and a
 * slow-read attack would pile those up.
 */
static void ks_reset_if_unread(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int queued;

	if (!ioctl(fd, SIOCOUTQ, &queued) && queued > 0)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static void ks_expire(struct ks_thread *t)
{
	struct ks_conn *c;

	while ((c = ks_worker_expired(&t->w))) {
		enum ks_want want = ks_conn_timeout(c);

		if (want == KS_WANT_CLOSE)
			ks_reset_if_unread((int)c->sock.fd);
		ks_uconn_after(t, ks_uconn_of(c), want);
	}
}

static int ks_wait_ms(struct ks_thread *t)
{
	u64 next = ks_worker_next_deadline(&t->w);

	if (t->ready)
		return 0;
	if (t->accept_paused_until && t->accept_paused_until < next)
		next = t->accept_paused_until;
	if (next == ~0ull)
		return 1000;
	return next <= t->w.now_ms ? 0 : KS_MIN(next - t->w.now_ms, 1000);
}

static void ks_close_idle(struct ks_thread *t, enum ks_timer_kind kind)
{
	struct ks_link *head = &t->w.timers[kind], *l, *next;

	for (l = head->next; l != head; l = next) {
		struct ks_conn *c = ks_conn_of_timer(l);

		next = l->next;
		if (ks_conn_is_idle(c))
			ks_uconn_close(t, ks_uconn_of(c));
	}
}

/* --- mode switches --- */

/* This loop applied switch @seq; the last loop to do so acknowledges it. */
static void ks_mode_applied(struct ks_thread *t, u64 seq)
{
	struct ks_server *srv = t->srv;
	unsigned int i;

	atomic_store(&t->applied_seq, seq);
	for (i = 0; i < srv->nthreads; i++)
		if (atomic_load(&srv->threads[i].applied_seq) != seq)
			return;
	ks_sup_ack(srv, seq);
}

/* Supervisor mode: connections between requests go to the kernel now. */
static void ks_hand_over_idle(struct ks_thread *t)
{
	static const enum ks_timer_kind kinds[] = {
		KS_TIMER_IDLE, KS_TIMER_HEADER
	};
	unsigned int k;

	for (k = 0; k < KS_ARRAY_SIZE(kinds); k++) {
		struct ks_link *head = &t->w.timers[kinds[k]], *l, *next;

		for (l = head->next; l != head; l = next) {
			struct ks_conn *c = ks_conn_of_timer(l);

			next = l->next;
			if (ks_conn_is_idle(c) &&
			    !ks_uconn_handover(t, ks_uconn_of(c)))
				return;		/* ring full: at their boundary */
		}
	}
}

/* Tell this core's kernel worker the loop's mode (retried if ring full). */
static void ks_mode_send(struct ks_thread *t)
{
	if (!ks_sup_mode(t, t->mode, t->wait_seq))
		return;
	t->mode_unsent = false;
	if (t->mode == KS_MODE_SUPERVISOR) {
		/* after SAKURA_OP_MODE: the worker must not hand them back */
		t->w.hand_over = true;
		/* at the end of the round: events may name them */
		t->hand_over_idle = true;
	}
}

/* A switch requested through sakura.ko (kserverctl switch-mode)? */
static void ks_mode_check(struct ks_thread *t)
{
	struct ks_server *srv = t->srv;
	enum ks_mode mode;
	u64 seq = ks_sup_requested(srv, &mode);

	if (seq == t->seen_seq)
		return;
	t->seen_seq = seq;
	if (mode == KS_MODE_SUPERVISOR && ks_sup_start(srv))
		return;		/* said why; kserverctl times out */
	t->mode = mode;
	if (mode == KS_MODE_USER)
		t->w.hand_over = false;	/* new connections stay here now */
	if (!ks_sup_started(srv)) {	/* nothing in the kernel to move */
		ks_mode_applied(t, seq);
		return;
	}
	t->wait_seq = seq;
	t->mode_unsent = true;
	ks_mode_send(t);
}

/* This core's kernel worker applied SAKURA_OP_MODE @seq. */
void ks_mode_done(struct ks_thread *t, u64 seq, int res)
{
	if (!seq || seq != t->wait_seq)
		return;		/* superseded */
	t->wait_seq = 0;
	if (seq == KS_STOP_SEQ) {
		t->stop_applied = true;
		return;
	}
	if (res)
		ks_err("core %u refused mode switch %llu: %s", t->id,
		       (unsigned long long)seq, strerror(-res));
	else
		ks_mode_applied(t, seq);
}

/*
 * Completions, switch requests and SAKURA_OP_MODE retries: after every
 * connection run, so that a switch under load waits for one connection's
 * requests rather than a whole round. Nothing to do costs three loads.
 */
static void ks_sup_poll(struct ks_thread *t)
{
	ks_sup_reap(t);
	if (t->mode_unsent)
		ks_mode_send(t);
	if (!t->w.draining)
		ks_mode_check(t);
}

/* Graceful stop: no new connections; idle ones closed; others finish. */
static void ks_begin_drain(struct ks_thread *t)
{
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, t->lfd, NULL);
	close(t->lfd);
	t->lfd = -1;
	t->w.draining = true;
	ks_close_idle(t, KS_TIMER_IDLE);
	/* new connections still waiting for their first byte */
	ks_close_idle(t, KS_TIMER_HEADER);
	/* the kernel's come back between requests, and are closed then */
	if (ks_sup_started(t->srv)) {
		t->mode = KS_MODE_USER;
		t->w.hand_over = false;
		t->wait_seq = KS_STOP_SEQ;
		t->mode_unsent = true;
		ks_mode_send(t);
	}
}

/* Drained: nothing left here, nor in this core's kernel worker. */
static bool ks_drained(struct ks_thread *t)
{
	return !t->nconns &&
	       (!ks_sup_started(t->srv) ||
		(t->stop_applied && !ks_sup_conns(t)));
}

static void *ks_thread_main(void *arg)
{
	struct ks_thread *t = arg;
	struct ks_server *srv = t->srv;
	struct epoll_event evs[KS_EVENTS];
	u64 drain_deadline = 0;

	ks_pin_self(t->cpu);
	ks_name_self("loop", t->id);
	for (;;) {
		int i, n = epoll_wait(t->epfd, evs, KS_EVENTS, ks_wait_ms(t));

		ks_worker_tick(&t->w);
		for (i = 0; i < n; i++) {
			struct ks_uconn *u = evs[i].data.ptr;

			if (u == (void *)&t->sup_tag)	/* completions */
				continue;		/* reaped below */
			if (u == (void *)t) {		/* wakefd: stop */
				uint64_t v;

				if (read(t->wakefd, &v, sizeof(v)) < 0)
					v = 0;
				continue;
			}
			if (!u) {
				if (t->lfd >= 0)
					ks_accept(t);
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
					     EPOLLERR))
				u->rdrained = false;	/* new bytes, or the end */
			if (evs[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				u->rdhup = true;	/* a FIN waits behind the bytes */
			ks_uconn_after(t, u, ks_conn_run(&u->c));
			if (srv->sup)
				ks_sup_poll(t);
		}
		ks_run_ready(t);
		ks_expire(t);
		if (t->fcache_n &&
		    t->w.now_ms - t->fcache_swept_ms >= KS_FCACHE_IDLE_MS)
			ks_fcache_sweep(t, false);
		if (srv->sup) {
			ks_sup_poll(t);
			if (t->hand_over_idle) {
				t->hand_over_idle = false;
				ks_hand_over_idle(t);
			}
			ks_sup_publish(t);
		}
		if (t->accept_paused_until && t->lfd >= 0 &&
		    t->w.now_ms >= t->accept_paused_until)
			ks_accept_pause(t, false, 0);
		ks_log_flush(t->log);
		if (atomic_load(&srv->stopping)) {
			if (!drain_deadline) {
				ks_begin_drain(t);
				drain_deadline = t->w.now_ms + KS_DRAIN_MS;
			}
			if (ks_drained(t) || t->w.now_ms >= drain_deadline)
				break;
		}
	}
	ks_fcache_sweep(t, true);
	ks_log_flush(t->log);
	return NULL;
}

void ks_name_self(const char *role, unsigned int id)
{
	char name[16];	/* the kernel's TASK_COMM_LEN */

	snprintf(name, sizeof(name), "ks-%s/%u", role, id);
	pthread_setname_np(pthread_self(), name);
}

void ks_pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The i-th CPU this process may run on, or -1. */
static int ks_nth_cpu(unsigned int i)
{
	cpu_set_t set;
	int cpu, count, seen = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	count = CPU_COUNT(&set);
	if (!count)
		return -1;
	i %= count;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && (unsigned int)seen++ == i)
			return cpu;
	return -1;
}

/*
 * An accepted socket is a copy of its listener's (sock_copy() in
 * sk_clone_lock(); tcp_create_openreq_child() resets neither field), so
 * TCP_NODELAY and the allowance a new connection starts from (handler.h)
 * are set here once, not with two setsockopt() calls per connection.
 */
static int ks_listener(struct ks_server *srv, bool reuseport)
{
	int one = 1, lowat = KS_UNSENT_MIN;
	int fd = socket(srv->addr.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat,
		       sizeof(lowat)) ||
	    bind(fd, (struct sockaddr *)&srv->addr, srv->addrlen) ||
	    (reuseport && listen(fd, KS_BACKLOG))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void ks_raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int ks_thread_setup(struct ks_server *srv, struct ks_thread *t,
			   unsigned int id)
{
	struct epoll_event ev = { .events = EPOLLIN };

	t->srv = srv;
	t->id = id;
	t->cpu = ks_nth_cpu(id);
	t->lfd = ks_listener(srv, true);
	if (t->lfd < 0)
		return t->lfd;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->epfd < 0 || t->wakefd < 0)
		return -errno;
	ev.data.ptr = NULL;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->lfd, &ev))
		return -errno;
	ev.data.ptr = t;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wakefd, &ev))
		return -errno;
	if (srv->logfd >= 0) {
		t->log = ks_log_new(srv->logfd);
		if (!t->log)
			return -ENOMEM;
	}
	ks_worker_init(&t->w, &ks_user_io_ops, &srv->cfg, t);
	ks_fcache_init(t);
	t->mode = srv->opt.mode;
	t->w.hand_over = srv->sup && t->mode == KS_MODE_SUPERVISOR;
	return srv->sup ? ks_sup_watch(t) : 0;
}

int ks_server_setup(struct ks_server *srv)
{
	unsigned int i;
	int probe, err;

	ks_raise_nofile();
	/*
	 * SO_REUSEPORT would let us share the port with another server of the
	 * same user without a word: probe with a plain bind first.
	 */
	probe = ks_listener(srv, false);
	if (probe < 0) {
		ks_err("cannot listen on %s: %s", srv->opt.listen,
		       strerror(-probe));
		return probe;
	}
	close(probe);
	srv->threads = calloc(srv->nthreads, sizeof(*srv->threads));
	if (!srv->threads)
		return -ENOMEM;
	for (i = 0; i < srv->nthreads; i++) {
		err = ks_thread_setup(srv, &srv->threads[i], i);
		if (err) {
			ks_err("cannot set up event loop %u on %s: %s", i,
			       srv->opt.listen, strerror(-err));
			return err;
		}
	}
	return 0;
}

int ks_server_run(struct ks_server *srv)
{
	sigset_t set;
	unsigned int i;
	int sig;

	/* threads inherit the mask: only this thread takes the signals */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < srv->nthreads; i++) {
		int err = pthread_create(&srv->threads[i].tid, NULL,
					 ks_thread_main, &srv->threads[i]);

		if (err) {
			ks_err("cannot start event loop %u: %s", i,
			       strerror(err));
			exit(1);
		}
	}
	if (srv->opt.mode == KS_MODE_SUPERVISOR && ks_sup_start(srv))
		exit(1);
	do {
		if (sigwait(&set, &sig))
			sig = SIGTERM;
	} while (sig == SIGHUP);
	atomic_store(&srv->stopping, true);
	for (i = 0; i < srv->nthreads; i++) {
		uint64_t one = 1;

		if (write(srv->threads[i].wakefd, &one, sizeof(one)) < 0)
			ks_err("cannot wake event loop %u", i);
	}
	for (i = 0; i < srv->nthreads; i++)
		pthread_join(srv->threads[i].tid, NULL);
	/* the kernel's connections end with the registration */
	ks_sup_stop(srv);
	for (i = 0; i < srv->nthreads; i++)
		ks_log_free(srv->threads[i].log);
	return 0;
}
