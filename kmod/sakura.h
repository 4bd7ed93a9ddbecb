/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sakura.h - sakura.ko's own types: a registered server, its cores and the
 * connections their workers own.
 *
 * Lifetimes: a struct sakura_server is created by REGISTER and holds one
 * reference for the device file and one per mapping of its shared area; the
 * last put tears it down. A core's connections live in the core, not in the
 * worker thread: a worker that leaves RUN_WORKER for a signal comes back to
 * them. They are released when the server is unregistered, on a fatal signal
 * to the worker, or at teardown.
 */
#ifndef SAKURA_H
#define SAKURA_H

#include <linux/bvec.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/path.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "handler.h"
#include "uapi/sakura.h"

#define SAKURA_FREE_BUFS_MAX	64	/* request buffers kept per core */
#define SAKURA_BOUNCE_SIZE	(64 * 1024)	/* file copy path (cache miss) */
#define SAKURA_SEND_PAGES	64	/* page-cache pages per zero-copy send */
#define SAKURA_FCACHE_SLOTS	64	/* open files kept per core */
#define SAKURA_FCACHE_IDLE_MS	1000	/* an entry unused this long: closed */
#define SAKURA_NAMES_SLOTS	64	/* walks remembered per core */
#define SAKURA_NAME_MAX		120	/* longer names are always walked */
/* unsent allowance lent to last responses (KS_UNSENT_LOAN), per core */
#define SAKURA_LOAN_POOL	(32u << 20)	/* bytes out at once */
#define SAKURA_LOANS_MAX	64		/* loans out at once */

/*
 * A loan outlives its connection: the socket, orphaned once the worker
 * closed it, still holds the body it let the worker queue. A debt is
 * that socket (one reference) and the bytes lent, repaid when its queue is
 * back within KS_UNSENT_MIN or TCP closed it (io_kern.c).
 */
struct sakura_debt {
	struct sock *sk;
	u32 bytes;
};

/* One slot of a core's open-file cache (io_kern.c). */
struct sakura_fcache_ent {
	struct file *file;		/* one reference, or NULL */
	u64 used_ms;			/* w.now_ms of the last hit */
};

/* One slot of a core's name memo (io_kern.c): a name and what it walked to. */
struct sakura_name_ent {
	struct path path;		/* references, or path.dentry NULL */
	u64 used_ms;			/* w.now_ms of the last hit */
	unsigned int rename_seq;	/* rename_lock before the walk */
	unsigned int d_seq;		/* path.dentry->d_seq after it */
	u8 len;				/* of name */
	u8 depth;			/* components: dentries up to the root */
	char name[SAKURA_NAME_MAX];
};

enum sakura_conn_bits {
	SAKURA_CONN_QUEUED,		/* on core->ready */
};

/* A connection a worker owns: the handler's state plus the kernel's. */
struct sakura_conn {
	struct ks_conn c;
	struct sakura_core *core;
	struct file *file;		/* the socket's file: one reference */
	struct socket *sock;
	struct wait_queue_entry wait;	/* on the socket's wait queue */
	struct list_head node;		/* core->conns, then core->done */
	struct list_head ready;		/* core->ready, under ready_lock */
	unsigned long flags;		/* SAKURA_CONN_* bits */
	/*
	 * Read-side wake-ups, counted by the callback (serialised by the
	 * socket's wait-queue lock). A recv that came back short left the
	 * socket empty; until rd_events moves past rd_drained_at nothing new
	 * arrived, and recv answers -EAGAIN without calling into TCP (the
	 * user-mode loop's rdrained, nginx's rev->ready = 0): one tcp_recvmsg
	 * less per keep-alive request.
	 */
	u32 rd_events;
	u32 rd_drained_at;
	bool rd_drained;
	u64 user_data;
	s32 fd;				/* handed back: its new number */
	u32 loan;			/* of the core's pool (sakura_lend) */
};

struct sakura_server;

struct sakura_core {
	struct sakura_server *srv;
	u32 idx;
	/* the shared area: written by user space too, read once */
	struct sakura_core_hdr *hdr;
	struct sakura_sqe *sq;
	struct sakura_cqe *cq;
	struct sakura_log_rec *log;
	/* the kernel's own copies: never read back from shared memory */
	u32 sq_entries, cq_entries, log_entries;
	u32 sq_head, cq_tail, log_tail;

	struct task_struct *task;	/* the worker inside RUN_WORKER */
	wait_queue_head_t wq;		/* the worker sleeps here */

	spinlock_t ready_lock;		/* socket callbacks queue here */
	struct list_head ready;

	/* owned by whichever worker is running, or by teardown */
	struct list_head conns;
	struct list_head done;		/* handed back, completion not posted */
	u32 nconns, ndone;
	struct ks_worker w;
	void *free_bufs;
	u32 nfree_bufs;
	void *bounce;			/* SAKURA_BOUNCE_SIZE, on first use */
	/* one zero-copy send's pages (io_kern.c), too many for the stack */
	struct bio_vec send_bv[SAKURA_SEND_PAGES];
	struct folio *send_folios[SAKURA_SEND_PAGES];
	u32 files_put;			/* final fputs queued as task work */
	struct sakura_fcache_ent fcache[SAKURA_FCACHE_SLOTS];
	u32 fcache_n;			/* entries open */
	u64 fcache_swept_ms;
	u64 fcache_hits, fcache_misses;
	/* loans (io_kern.c): out on connections and debts together */
	u32 lent, nloans, ndebts;
	struct sakura_debt debts[SAKURA_LOANS_MAX];
	u64 loans, loans_refused;	/* granted; refused: pool, tcp_mem */
	struct sakura_name_ent names[SAKURA_NAMES_SLOTS];
	u32 names_n;			/* entries holding a path */
	u64 names_hits, names_misses;	/* walks saved, walks remembered */
	u64 recvs, recvs_skipped;	/* tcp_recvmsg calls, and those saved */
	/* file sends, those that said -EAGAIN, short ones that said full */
	u64 sends, sends_again, sends_full;
	bool cq_posted;			/* completions since poll waiters woke */
	bool handback_idle;		/* user mode: hand back idle ones */
	u32 log_woken_tail;		/* log_tail when poll waiters last woke */
	u64 parks, rejected, sleeps, log_dropped;
	u64 zerocopy_bytes, copied_bytes;
};

struct sakura_server {
	struct kref ref;
	struct list_head node;		/* sakura_servers, under sakura_lock */
	struct pid *tgid;		/* the registering process */
	struct path root;		/* the docroot, pinned */
	struct ks_config cfg;
	struct ks_mime_table *mime;
	void *shm;			/* vmalloc_user: the shared area */
	size_t shm_size;
	struct sakura_ctrl *ctrl;
	struct sakura_layout layout;
	bool stopped;			/* unregistered: workers leave */
	wait_queue_head_t poll_wq;	/* poll(): completions posted */
	kuid_t uid;			/* the registering file's euid */
	u64 start_ns;			/* boot time of REGISTER */
	/* mode switches: under mode_lock, mirrored into *ctrl */
	spinlock_t mode_lock;
	wait_queue_head_t mode_wq;	/* SWITCH_MODE waits for its ack */
	u32 mode, req_mode;
	u64 req_seq, ack_seq;
	u64 req_ns, ack_ns;		/* ktime_get_ns() of each */
	u64 switches, last_switch_ns;
	u32 ncores;
	struct sakura_core cores[];
};

/*
 * What the module holds right now, over every server: shown in /proc/sakura
 * and checked at unload, so a leak is seen in dmesg and by the tests (our
 * slab cache may be merged with another, so /proc/slabinfo cannot tell).
 *
 * Per-CPU plain counters: the hot path (file-cache hit, open, fput, buffer
 * get/put) does one this_cpu_inc/dec on its own CPU's line, no locked RMW
 * on a shared line. A get on one CPU and its put on another leave the two
 * per-CPU values unbalanced; only the sum over all CPUs means anything.
 */
struct sakura_live {
	long servers;			/* struct sakura_server */
	long conns;			/* struct sakura_conn */
	long buffers;			/* request and bounce buffers */
	long file_refs;			/* struct file references held */
	long socks;			/* struct sock references (debts) */
};

DECLARE_PER_CPU(struct sakura_live, sakura_live);

#define sakura_live_inc(field)	this_cpu_inc(sakura_live.field)
#define sakura_live_dec(field)	this_cpu_dec(sakura_live.field)

void sakura_live_sum(struct sakura_live *sum);

extern struct mutex sakura_lock;
extern struct list_head sakura_servers;
extern const struct ks_io_ops sakura_io_ops;

/* dev.c */
int sakura_dev_init(void);
void sakura_dev_exit(void);
void sakura_server_put(struct sakura_server *srv);

/* worker.c */
int sakura_conn_cache_init(void);
void sakura_conn_cache_exit(void);
long sakura_worker_run(struct sakura_server *srv, u32 idx);
void sakura_core_kick(struct sakura_core *core);
void sakura_core_teardown(struct sakura_core *core);
void sakura_core_counters(struct sakura_core *core, struct sakura_counters *out);

/* io_kern.c */
void sakura_core_free_bufs(struct sakura_core *core);
void sakura_fcache_sweep(struct sakura_core *core, bool all);
void sakura_loan_end(struct sakura_conn *sc);
void sakura_debts_settle(struct sakura_core *core, bool all);

static inline struct sakura_conn *sakura_conn_of(struct ks_conn *c)
{
	return container_of(c, struct sakura_conn, c);
}

static inline struct sakura_core *sakura_core_of(struct ks_worker *w)
{
	return w->backend;
}

#endif /* SAKURA_H */
