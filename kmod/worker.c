// SPDX-License-Identifier: GPL-2.0
/*
 * worker.c - a core's worker: a thread of the server inside RUN_WORKER that
 * takes Sakura Calls from its submission ring and drives the connections
 * with the shared handler (kserver/handler.c), the kernel twin of the event
 * loop in kserver/server.c.
 *
 * One round: read the clock, take new connections, run the connections that
 * are ready, expire deadlines, post completions. Sockets are never waited
 * on: a connection that would block stays on its socket's wait queue (like
 * an edge-triggered epoll registration, for its whole life) and the wake-up
 * callback puts it on the core's ready list. With nothing to do the worker
 * spins briefly, then sets SAKURA_SQ_NEED_WAKEUP and sleeps until a socket,
 * a KICK or the next deadline wakes it.
 *
 * Files the handler opens, and the sockets of connections it closes, are
 * released with fput(), whose final __fput()
 * runs as task work when the thread returns to user space. A worker that
 * never returned would pile them up, so it leaves every SAKURA_TW_FILES files
 * (and before sleeping) with restart_syscall(): the task work runs and the
 * ioctl is re-entered at once, invisibly to the caller.
 */
#include <linux/file.h>
#include <linux/net.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/tcp.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "compat.h"
#include "sakura.h"

#define SAKURA_SQ_BATCH		64	/* Sakura Calls taken per round */
#define SAKURA_SPIN_NS		(50 * NSEC_PER_USEC)
#define SAKURA_TW_FILES		64
#define SAKURA_CQ_FULL_WAIT_MS	10	/* poll interval while the CQ is full */

static struct kmem_cache *sakura_conn_cache;

/* --- the rings --- */

/* Free completion slots as user space's head says; 0 if it lies. */
static u32 sakura_cq_space(struct sakura_core *core)
{
	u32 used = core->cq_tail - smp_load_acquire(&core->hdr->cq.head);

	return used >= core->cq_entries ? 0 : core->cq_entries - used;
}

static bool sakura_cq_post(struct sakura_core *core, u32 op, s32 fd,
			   u64 user_data, s32 res)
{
	struct sakura_cqe *e;

	if (!sakura_cq_space(core))
		return false;
	e = &core->cq[core->cq_tail & (core->cq_entries - 1)];
	WRITE_ONCE(e->op, op);
	WRITE_ONCE(e->fd, fd);
	WRITE_ONCE(e->user_data, user_data);
	WRITE_ONCE(e->res, res);
	WRITE_ONCE(e->flags, 0);
	WRITE_ONCE(e->reserved, 0);
	core->cq_tail++;
	smp_store_release(&core->hdr->cq.tail, core->cq_tail);
	core->cq_posted = true;
	return true;
}

/* Can one more Sakura Call be taken with its completion sure to fit? */
static bool sakura_sq_can_take(struct sakura_core *core)
{
	return sakura_cq_space(core) > core->nconns + core->ndone;
}

static bool sakura_sq_pending(struct sakura_core *core)
{
	return READ_ONCE(core->hdr->sq.tail) != core->sq_head;
}

static void sakura_poll_wake(struct sakura_core *core, bool idle);

/* --- connections --- */

/* Queue a connection for the worker; any context, callbacks included. */
static void sakura_conn_queue(struct sakura_conn *sc)
{
	struct sakura_core *core = sc->core;
	unsigned long irqflags;

	if (test_and_set_bit(SAKURA_CONN_QUEUED, &sc->flags))
		return;
	spin_lock_irqsave(&core->ready_lock, irqflags);
	list_add_tail(&sc->ready, &core->ready);
	spin_unlock_irqrestore(&core->ready_lock, irqflags);
	if (wq_has_sleeper(&core->wq))
		wake_up(&core->wq);
}

/* The socket's wait queue callback: readable, writable, error or hang-up. */
static int sakura_conn_wake(struct wait_queue_entry *wait, unsigned int mode,
			    int sync, void *key)
{
	struct sakura_conn *sc = container_of(wait, struct sakura_conn, wait);
	__poll_t mask = key_to_poll(key);

	if (mask && !(mask & (EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM |
			      EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
		return 0;
	/* bytes, the end or an error: the next recv must look (after the
	 * queueing of the data that woke us; pairs with sakura_recv) */
	if (!mask || (mask & (EPOLLIN | EPOLLRDNORM | EPOLLERR | EPOLLHUP |
			      EPOLLRDHUP)))
		smp_store_release(&sc->rd_events, sc->rd_events + 1);
	sakura_conn_queue(sc);
	return 0;
}

/* Stop callbacks and take the connection off the ready list. */
static void sakura_conn_unhook(struct sakura_core *core,
			       struct sakura_conn *sc)
{
	remove_wait_queue(&sc->sock->wq.wait, &sc->wait);
	/* no callback runs any more: the ready list is ours to fix */
	spin_lock_irq(&core->ready_lock);
	if (!list_empty(&sc->ready))
		list_del_init(&sc->ready);
	spin_unlock_irq(&core->ready_lock);
	clear_bit(SAKURA_CONN_QUEUED, &sc->flags);
}

/* Take the connection off the core: no callback, no loan, not counted. */
static void sakura_conn_detach(struct sakura_core *core,
			       struct sakura_conn *sc)
{
	sakura_conn_unhook(core, sc);
	if (sc->loan)
		sakura_loan_end(sc);
	list_del(&sc->node);
	core->nconns--;
}

/* The connection's memory, once nothing refers to it any more. */
static void sakura_conn_free(struct sakura_conn *sc)
{
	kmem_cache_free(sakura_conn_cache, sc);
	sakura_live_dec(conns);
}

/*
 * Done with a connection: close it. The server's fd was taken out of its
 * table when the call was adopted, so our reference is normally the last and
 * fput() queues the socket's release as task work, which the worker runs
 * between batches (sakura_worker_loop). No completion: user space has
 * nothing left to do for it.
 */
static void sakura_conn_close(struct sakura_core *core, struct sakura_conn *sc)
{
	ks_conn_release(&sc->c);
	sakura_conn_detach(core, sc);
	if (file_count(sc->file) == 1)
		core->files_put++;
	fput(sc->file);
	sakura_conn_free(sc);
}

/*
 * User mode: give a connection that is between requests back to the server,
 * under a new fd in its table (the worker runs in the server's process), and
 * say so with SAKURA_CQE_HANDBACK; its completion slot was reserved when the
 * Sakura Call was taken. Without a free fd (RLIMIT_NOFILE) it is closed, as
 * an idle connection may be. Worker context only.
 */
static void sakura_conn_handback(struct sakura_core *core,
				 struct sakura_conn *sc)
{
	int fd = get_unused_fd_flags(O_CLOEXEC);

	if (fd < 0) {
		pr_notice_ratelimited("sakura: no free fd to hand a connection back (%d): closed\n",
				      fd);
		sakura_conn_close(core, sc);
		return;
	}
	ks_conn_handover(&sc->c);
	sakura_conn_detach(core, sc);
	fd_install(fd, sc->file);	/* our reference is the table's now */
	sc->file = NULL;
	sc->sock = NULL;
	sc->fd = fd;
	if (sakura_cq_post(core, SAKURA_CQE_HANDBACK, fd, sc->user_data, 0)) {
		sakura_conn_free(sc);
		return;
	}
	/* user space moved its head backwards: keep it until there is room */
	list_add_tail(&sc->node, &core->done);
	core->ndone++;
}

static void sakura_done_flush(struct sakura_core *core)
{
	struct sakura_conn *sc, *tmp;

	list_for_each_entry_safe(sc, tmp, &core->done, node) {
		if (!sakura_cq_post(core, SAKURA_CQE_HANDBACK, sc->fd,
				    sc->user_data, 0))
			break;
		list_del(&sc->node);
		core->ndone--;
		sakura_conn_free(sc);
	}
}

static void sakura_conn_after(struct sakura_core *core,
			      struct sakura_conn *sc, enum ks_want want)
{
	switch (want) {
	case KS_WANT_CLOSE:
		sakura_conn_close(core, sc);
		break;
	case KS_WANT_HANDOVER:	/* user mode: idle, give it back */
		sakura_conn_handback(core, sc);
		break;
	case KS_WANT_YIELD:
		sakura_conn_queue(sc);
		break;
	default:	/* READ or WRITE: the wait queue entry is already there */
		core->parks++;
		break;
	}
}

/*
 * The client's address, read from the socket's own fields: they are set when
 * the connection is accepted and stay until the socket is released.
 * kernel_getpeername() would refuse a connection the client has reset
 * already (TCP_CLOSE: -ENOTCONN) although its request may still be queued,
 * answered and logged.
 */
static void sakura_peer(const struct sock *sk, struct ks_peer *p)
{
	const struct inet_sock *inet = inet_sk(sk);

	memset(p, 0, sizeof(*p));
	if (sk->sk_family == AF_INET) {
		p->family = 4;
		memcpy(p->addr, &inet->inet_daddr, 4);
#if IS_ENABLED(CONFIG_IPV6)
	} else if (sk->sk_family == AF_INET6) {
		p->family = 6;
		memcpy(p->addr, &sk->sk_v6_daddr, 16);
#endif
	} else {
		return;
	}
	p->port = ntohs(inet->inet_dport);
}

/* Only connected TCP sockets: nothing that could carry files (no cycles). */
static int sakura_sock_check(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk || sk->sk_type != SOCK_STREAM ||
	    sk->sk_protocol != IPPROTO_TCP ||
	    (sk->sk_family != AF_INET && sk->sk_family != AF_INET6))
		return -EPROTONOSUPPORT;
	if (READ_ONCE(sk->sk_state) == TCP_LISTEN)
		return -EINVAL;
	return 0;
}

/*
 * Take over the server's socket fd, new (SAKURA_OP_HTTP_CONN) or kept alive
 * between requests (SAKURA_OP_HTTP_IDLE): checked, then taken out of the
 * server's fd table, so that closing it later needs nothing of user space;
 * 0, or the -errno of a refusal, which leaves the fd where it was.
 */
static int sakura_conn_adopt(struct sakura_core *core, u32 op, s32 fd,
			     u64 user_data)
{
	struct sakura_conn *sc;
	union ks_handle h;
	struct socket *sock;
	struct file *file, *taken;
	int err;

	if (fd < 0)
		return -EBADF;
	file = fget(fd);		/* current->files: the server's own */
	if (!file)
		return -EBADF;
	sock = sock_from_file(file);
	err = sock ? sakura_sock_check(sock) : -ENOTSOCK;
	if (err)
		goto err_fput;
	sc = kmem_cache_zalloc(sakura_conn_cache, GFP_KERNEL);
	if (!sc) {
		err = -ENOMEM;
		goto err_fput;
	}
	/*
	 * Nothing can fail from here: the fd leaves the table. It names the
	 * file we checked unless user space broke the contract and closed or
	 * replaced it since; whatever it put there instead is closed too.
	 */
	taken = sakura_fd_take(fd);
	if (taken == file)
		fput(taken);		/* the table's; ours is not the last */
	else if (taken)
		filp_close(taken, current->files);
	sakura_live_inc(conns);
	sc->core = core;
	sc->file = file;
	sc->sock = sock;
	sc->fd = -1;
	sc->user_data = user_data;
	INIT_LIST_HEAD(&sc->ready);
	h.ptr = sc;
	if (op == SAKURA_OP_HTTP_IDLE)
		ks_conn_resume(&sc->c, &core->w, h);
	else
		ks_conn_init(&sc->c, &core->w, h);
	sakura_peer(sock->sk, &sc->c.peer);
	tcp_sock_set_nodelay(sock->sk);
	list_add_tail(&sc->node, &core->conns);
	core->nconns++;
	init_waitqueue_func_entry(&sc->wait, sakura_conn_wake);
	add_wait_queue(&sock->wq.wait, &sc->wait);
	/* the request may be here already */
	sakura_conn_queue(sc);
	return 0;

err_fput:
	fput(file);
	return err;
}

/*
 * SAKURA_OP_MODE: USER hands every connection back at its next request
 * boundary, the idle ones now; SUPERVISOR keeps them. The completion tells
 * the server this core applied it.
 */
static void sakura_core_mode(struct sakura_core *core, s32 mode,
			     u64 user_data)
{
	if (mode != SAKURA_MODE_USER && mode != SAKURA_MODE_SUPERVISOR) {
		core->rejected++;
		sakura_cq_post(core, SAKURA_CQE_MODE, mode, user_data, -EINVAL);
		return;
	}
	core->w.hand_over = mode == SAKURA_MODE_USER;
	/* at the end of the round: the running batch may hold them */
	core->handback_idle = core->w.hand_over;
	sakura_cq_post(core, SAKURA_CQE_MODE, mode, user_data, 0);
	/* the server waits for this one: wake it now, not at round end */
	sakura_poll_wake(core, false);
}

/* User mode: hand back every connection that is between requests. */
static void sakura_handback_idle(struct sakura_core *core)
{
	struct sakura_conn *sc, *tmp;

	core->handback_idle = false;
	list_for_each_entry_safe(sc, tmp, &core->conns, node)
		if (ks_conn_is_idle(&sc->c))
			sakura_conn_handback(core, sc);
}

/* Take up to max Sakura Calls; returns how many. */
static unsigned int sakura_sq_take(struct sakura_core *core, unsigned int max)
{
	struct sakura_ring *ring = &core->hdr->sq;
	u32 tail = smp_load_acquire(&ring->tail);
	u32 head = core->sq_head;
	unsigned int n = 0;

	while (head != tail && n < max && sakura_sq_can_take(core)) {
		const struct sakura_sqe *e = &core->sq[head & (core->sq_entries - 1)];
		u32 op = READ_ONCE(e->op);
		s32 fd = READ_ONCE(e->fd);
		u64 user_data = READ_ONCE(e->user_data);
		int err = -EINVAL;

		head++;
		n++;
		if (op == SAKURA_OP_MODE) {
			sakura_core_mode(core, fd, user_data);
			continue;
		}
		if (op == SAKURA_OP_HTTP_CONN || op == SAKURA_OP_HTTP_IDLE)
			err = sakura_conn_adopt(core, op, fd, user_data);
		if (err) {
			core->rejected++;
			sakura_cq_post(core, SAKURA_CQE_CLOSED, fd, user_data,
				       err);
		}
	}
	if (n) {
		core->sq_head = head;
		smp_store_release(&ring->head, head);
	}
	return n;
}

/* Run every connection that was ready when the round began. */
static unsigned int sakura_run_ready(struct sakura_core *core)
{
	struct sakura_conn *sc, *tmp;
	unsigned int n = 0;
	LIST_HEAD(batch);

	spin_lock_irq(&core->ready_lock);
	list_splice_init(&core->ready, &batch);
	spin_unlock_irq(&core->ready_lock);
	list_for_each_entry_safe(sc, tmp, &batch, ready) {
		list_del_init(&sc->ready);
		/* an event from here on queues it again */
		clear_bit(SAKURA_CONN_QUEUED, &sc->flags);
		smp_mb__after_atomic();
		sakura_conn_after(core, sc, ks_conn_run(&sc->c));
		/* Sakura Calls and mode switches wait for one connection's
		 * requests, not a whole round (new ones go on core->ready) */
		if (sakura_sq_pending(core))
			sakura_sq_take(core, SAKURA_SQ_BATCH);
		if (!(++n % 64))
			cond_resched();
	}
	return n;
}

/*
 * A client that timed out with our bytes still unread gets a reset when the
 * socket is closed (SO_LINGER 0, as the user-mode server and nginx's
 * reset_timedout_connection do): a plain close would leave an orphan socket
 * holding those bytes for minutes, and a slow-read attack piles them up.
 */
static void sakura_reset_if_unread(struct sakura_conn *sc)
{
	struct sock *sk = sc->sock->sk;

	if (READ_ONCE(sk->sk_wmem_queued) > 0)
		sock_no_linger(sk);
}

static void sakura_expire(struct sakura_core *core)
{
	struct ks_conn *c;

	while ((c = ks_worker_expired(&core->w))) {
		enum ks_want want = ks_conn_timeout(c);

		if (want == KS_WANT_CLOSE)
			sakura_reset_if_unread(sakura_conn_of(c));
		sakura_conn_after(core, sakura_conn_of(c), want);
	}
}

/* Close everything the core owns; post what handbacks still wait. */
static void sakura_core_release_all(struct sakura_core *core)
{
	struct sakura_conn *sc, *tmp;

	list_for_each_entry_safe(sc, tmp, &core->conns, node)
		sakura_conn_close(core, sc);
	sakura_done_flush(core);
}

static void sakura_publish_counters(struct sakura_core *core)
{
	struct sakura_counters *out = &core->hdr->counters;
	const struct ks_stats *s = &core->w.stats;

	WRITE_ONCE(out->conns, core->nconns);
	WRITE_ONCE(out->accepted, s->accepted);
	WRITE_ONCE(out->requests, s->requests);
	WRITE_ONCE(out->bytes, s->body_bytes);
	WRITE_ONCE(out->parks, core->parks);
	WRITE_ONCE(out->handovers, s->handovers);
	WRITE_ONCE(out->adopted, s->adopted);
	WRITE_ONCE(out->timeouts, s->timeouts);
	WRITE_ONCE(out->rejected, core->rejected);
	WRITE_ONCE(out->closed, s->closed);
	WRITE_ONCE(out->sleeps, core->sleeps);
	WRITE_ONCE(out->log_dropped, core->log_dropped);
	WRITE_ONCE(out->zerocopy_bytes, core->zerocopy_bytes);
	WRITE_ONCE(out->copied_bytes, core->copied_bytes);
}

/* A racy snapshot, for STATUS and /proc/sakura. */
void sakura_core_counters(struct sakura_core *core, struct sakura_counters *out)
{
	const struct ks_stats *s = &core->w.stats;

	out->conns += READ_ONCE(core->nconns);
	out->accepted += READ_ONCE(s->accepted);
	out->requests += READ_ONCE(s->requests);
	out->bytes += READ_ONCE(s->body_bytes);
	out->parks += READ_ONCE(core->parks);
	out->handovers += READ_ONCE(s->handovers);
	out->adopted += READ_ONCE(s->adopted);
	out->timeouts += READ_ONCE(s->timeouts);
	out->rejected += READ_ONCE(core->rejected);
	out->closed += READ_ONCE(s->closed);
	out->sleeps += READ_ONCE(core->sleeps);
	out->log_dropped += READ_ONCE(core->log_dropped);
	out->zerocopy_bytes += READ_ONCE(core->zerocopy_bytes);
	out->copied_bytes += READ_ONCE(core->copied_bytes);
	out->fcache_hits += READ_ONCE(core->fcache_hits);
	out->fcache_misses += READ_ONCE(core->fcache_misses);
}

/* Log records waiting for user space, as its head says. */
static u32 sakura_log_used(struct sakura_core *core)
{
	u32 used = core->log_tail - smp_load_acquire(&core->hdr->log.head);

	return min(used, core->log_entries);
}

/*
 * Wake poll() waiters for new completions, and for log records once a
 * quarter of the log ring is used or the worker goes idle (@idle), so that
 * keep-alive traffic, which completes nothing, cannot overflow the log ring.
 */
static void sakura_poll_wake(struct sakura_core *core, bool idle)
{
	struct sakura_server *srv = core->srv;
	bool wake = core->cq_posted;

	if (core->log_tail != core->log_woken_tail) {
		u32 used = sakura_log_used(core);

		if (used && (idle || used >= core->log_entries / 4)) {
			core->log_woken_tail = core->log_tail;
			wake = true;
		}
	}
	core->cq_posted = false;
	if (wake && wq_has_sleeper(&srv->poll_wq))
		wake_up_interruptible_poll(&srv->poll_wq, EPOLLIN);
}

/* One round of work; returns true if anything happened. */
static bool sakura_round(struct sakura_core *core)
{
	bool busy;

	ks_worker_tick(&core->w);
	if ((core->fcache_n || core->names_n || core->ndebts) &&
	    core->w.now_ms - core->fcache_swept_ms >= SAKURA_FCACHE_IDLE_MS)
		sakura_fcache_sweep(core, false);
	busy = sakura_sq_take(core, SAKURA_SQ_BATCH);
	busy |= sakura_run_ready(core);
	if (core->handback_idle)
		sakura_handback_idle(core);
	sakura_expire(core);
	sakura_done_flush(core);
	sakura_publish_counters(core);
	sakura_poll_wake(core, false);
	return busy;
}

/* Sleep until a socket event, a Sakura Call (KICK), a deadline or a signal. */
static void sakura_sleep(struct sakura_core *core)
{
	struct sakura_server *srv = core->srv;
	u64 next = ks_worker_next_deadline(&core->w);
	long timeout = MAX_SCHEDULE_TIMEOUT;
	bool blocked = sakura_sq_pending(core) && !sakura_sq_can_take(core);
	DEFINE_WAIT(wait);

	if (next != ~0ull)
		timeout = next > core->w.now_ms ?
			  msecs_to_jiffies(next - core->w.now_ms) + 1 : 0;
	/* come back to drop idle ones, and to let go of repaid debts */
	if (core->fcache_n || core->names_n || core->ndebts)
		timeout = min_t(long, timeout,
				msecs_to_jiffies(SAKURA_FCACHE_IDLE_MS) + 1);
	if (blocked)	/* waiting for user space to drain completions */
		timeout = min_t(long, timeout,
				msecs_to_jiffies(SAKURA_CQ_FULL_WAIT_MS));
	sakura_poll_wake(core, true);
	prepare_to_wait(&core->wq, &wait, TASK_INTERRUPTIBLE);
	WRITE_ONCE(core->hdr->sq.flags, SAKURA_SQ_NEED_WAKEUP);
	smp_mb();	/* flag before the tail check; pairs with user space */
	if (timeout && !READ_ONCE(srv->stopped) && !signal_pending(current) &&
	    (blocked || !sakura_sq_pending(core)) &&
	    list_empty_careful(&core->ready)) {
		core->sleeps++;
		schedule_timeout(timeout);
	}
	finish_wait(&core->wq, &wait);
	WRITE_ONCE(core->hdr->sq.flags, 0);
}

static long sakura_worker_loop(struct sakura_core *core)
{
	struct sakura_server *srv = core->srv;
	u64 spin_start = 0;

	WRITE_ONCE(core->hdr->sq.flags, 0);
	for (;;) {
		if (fatal_signal_pending(current)) {
			sakura_core_release_all(core);
			return -EINTR;
		}
		if (READ_ONCE(srv->stopped)) {
			sakura_core_release_all(core);
			return 0;
		}
		if (signal_pending(current))
			return -ERESTARTSYS;	/* connections stay with the core */
		if (sakura_round(core)) {
			spin_start = 0;
			if (core->files_put >= SAKURA_TW_FILES &&
			    task_work_pending(current))
				break;
			cond_resched();
			continue;
		}
		if (task_work_pending(current))
			break;
		if (!spin_start)
			spin_start = ktime_get_ns();
		if (ktime_get_ns() - spin_start < SAKURA_SPIN_NS) {
			cpu_relax();
			cond_resched();
			continue;
		}
		sakura_sleep(core);
		spin_start = 0;
	}
	/* run the task work queued by fput() and come straight back */
	core->files_put = 0;
	return restart_syscall();
}

/*
 * RUN_WORKER: the caller, a thread of the registering process, becomes core
 * idx's worker until the server is unregistered (0) or the thread gets a
 * fatal signal (-EINTR). A handled signal returns -ERESTARTSYS with the
 * connections kept, and the call may be repeated.
 */
long sakura_worker_run(struct sakura_server *srv, u32 idx)
{
	struct sakura_core *core;
	long ret;

	if (task_tgid(current) != srv->tgid)
		return -EPERM;		/* only the server's own fd table */
	if (idx >= srv->ncores)
		return -EINVAL;
	idx = array_index_nospec(idx, srv->ncores);
	core = &srv->cores[idx];
	if (cmpxchg(&core->task, NULL, current))
		return -EBUSY;
	ret = sakura_worker_loop(core);
	WRITE_ONCE(core->hdr->sq.flags, SAKURA_SQ_NEED_WAKEUP);
	smp_store_release(&core->task, NULL);
	return ret;
}

void sakura_core_kick(struct sakura_core *core)
{
	wake_up(&core->wq);
}

/* The server is going away and no worker runs: free what the core holds. */
void sakura_core_teardown(struct sakura_core *core)
{
	struct sakura_conn *sc, *tmp;

	sakura_core_release_all(core);
	/* completions that never found room: nobody will read them now */
	list_for_each_entry_safe(sc, tmp, &core->done, node) {
		list_del(&sc->node);
		sakura_conn_free(sc);
	}
	core->ndone = 0;
	sakura_core_free_bufs(core);
}

int sakura_conn_cache_init(void)
{
	sakura_conn_cache = KMEM_CACHE(sakura_conn, SLAB_ACCOUNT);
	return sakura_conn_cache ? 0 : -ENOMEM;
}

void sakura_conn_cache_exit(void)
{
	kmem_cache_destroy(sakura_conn_cache);
}
