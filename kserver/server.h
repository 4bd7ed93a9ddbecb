/* SPDX-License-Identifier: GPL-2.0 */
/* server.h - kserver's user-space process: options, event loops, backends. */
#ifndef KS_SERVER_H
#define KS_SERVER_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include "handler.h"

#define KS_VERSION "0.1.0"
#define KS_MAX_WORKERS 256

enum ks_mode {
	KS_MODE_USER = 0,
	KS_MODE_SUPERVISOR,
};

struct ks_options {
	const char *root;
	const char *listen;
	const char *access_log;
	unsigned int workers;		/* 0: one per online CPU */
	enum ks_mode mode;
};

struct ks_log;

#define KS_FCACHE_SLOTS 64		/* open files kept per event loop */
#define KS_FCACHE_IDLE_MS 1000		/* an entry unused this long: closed */

/*
 * One open regular file kept by an event loop (io_user.c): the inode it is
 * (an open file pins it, so the pair cannot be reused), and its ctime when
 * it was opened -- any change of mode, owner or ACL moves the ctime, so a
 * hit is only taken while the open(O_RDONLY) it came from still holds.
 */
struct ks_fcache_ent {
	dev_t dev;
	ino_t ino;
	struct timespec ctime;
	int fd;				/* -1: empty */
	unsigned int refs;		/* requests sending from it */
	u64 used_ms;
};

/* One event-loop thread. */
struct ks_thread {
	struct ks_server *srv;
	unsigned int id;
	int cpu;			/* pinned to, or -1 */
	pthread_t tid;
	int epfd;
	int lfd;			/* this thread's SO_REUSEPORT listener */
	int wakefd;			/* eventfd: stop requested */
	struct ks_worker w;
	struct ks_log *log;
	void *free_bufs;		/* request buffers ready for reuse */
	unsigned int nfree_bufs;
	struct ks_uconn *free_conns;
	struct ks_uconn *ready;		/* connections that yielded */
	struct ks_fcache_ent fcache[KS_FCACHE_SLOTS];
	unsigned int fcache_n;		/* entries holding a file */
	u64 fcache_swept_ms;
	unsigned long nconns;
	unsigned long long accept_paused_until;	/* ms, after EMFILE */
	unsigned long accept_starved;	/* pauses since the last accept */
	unsigned long long accept_warned_ms;	/* when it was last said */
	bool accept_warned;		/* ... for this run of pauses */
	char sup_tag;			/* epoll tag: sakura.ko completions */
	/* mode switches (w.hand_over: connections go to the kernel) */
	enum ks_mode mode;		/* this loop's mode */
	u64 seen_seq;			/* the last switch request seen */
	u64 wait_seq;			/* its SAKURA_CQE_MODE, awaited */
	bool mode_unsent;		/* SAKURA_OP_MODE still to submit */
	bool stop_applied;		/* the worker took the stop's one */
	bool hand_over_idle;		/* move idle connections at round end */
	_Atomic u64 applied_seq;	/* the last request applied here */
};

struct ks_server {
	struct ks_options opt;
	struct ks_config cfg;
	int rootfd;			/* O_PATH directory */
	int logfd;			/* -1: no access log */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	unsigned int nthreads;
	struct ks_thread *threads;
	atomic_bool stopping;
	void *mime_blob;
	struct ks_sup *sup;		/* supervisor mode, or NULL */
};

/* user-mode connection: the shared state plus the event loop's links */
struct ks_uconn {
	struct ks_conn c;
	struct ks_uconn *next;		/* free list or ready list */
	bool on_ready;
	/*
	 * The last recv came back short: the socket was empty then, and with
	 * edge-triggered epoll new bytes bring a new EPOLLIN. Until it comes,
	 * recv answers EAGAIN without a system call (nginx's rev->ready = 0):
	 * one call less per keep-alive request.
	 */
	bool rdrained;
	bool rdhup;	/* the peer shut down or failed: never drained */
};

extern const struct ks_io_ops ks_user_io_ops;

/* io_user.c: the open-file cache (empty it first; sweep: close idle entries,
 * or with @all every entry no request is sending from) */
void ks_fcache_init(struct ks_thread *t);
void ks_fcache_sweep(struct ks_thread *t, bool all);

int ks_options_parse(struct ks_options *opt, struct ks_config *cfg, int argc,
		     char **argv);
int ks_server_setup(struct ks_server *srv);
int ks_server_run(struct ks_server *srv);

/* pin the calling thread to cpu (no-op for -1) */
void ks_pin_self(int cpu);
/* name the calling thread "ks-ROLE/ID" for ps -L, top -H and perf */
void ks_name_self(const char *role, unsigned int id);

/* server.c, called back while reaping sakura.ko's completions */
void ks_resume(struct ks_thread *t, int fd);
void ks_mode_done(struct ks_thread *t, u64 seq, int res);

/* supervisor.c: sakura.ko */
int ks_sup_register(struct ks_server *srv, bool required, const char **why);
int ks_sup_start(struct ks_server *srv);
bool ks_sup_started(struct ks_server *srv);
int ks_sup_watch(struct ks_thread *t);
bool ks_sup_can_call(struct ks_thread *t);
bool ks_sup_give(struct ks_thread *t, int fd, bool kept_alive);
bool ks_sup_mode(struct ks_thread *t, enum ks_mode mode, u64 seq);
u64 ks_sup_requested(struct ks_server *srv, enum ks_mode *mode);
void ks_sup_ack(struct ks_server *srv, u64 seq);
unsigned long ks_sup_conns(struct ks_thread *t);
void ks_sup_publish(struct ks_thread *t);
void ks_sup_reap(struct ks_thread *t);
void ks_sup_stop(struct ks_server *srv);

/* access_log.c */
struct ks_log *ks_log_new(int fd);
void ks_log_free(struct ks_log *l);
void ks_log_write(struct ks_log *l, const struct ks_log_rec *rec);
void ks_log_flush(struct ks_log *l);

/* print "kserver: <msg>" to stderr */
void ks_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* KS_SERVER_H */
