/* SPDX-License-Identifier: GPL-2.0 */
/*
 * handler.h - the per-connection HTTP state machine, shared by kserver (user
 * mode) and sakura.ko (supervisor mode).
 *
 * The handler does I/O only through struct ks_io_ops. A backend (io_user.c
 * with epoll, or the module's worker) calls ks_conn_run() whenever a
 * connection may make progress; the handler runs until it would block and
 * says what it waits for. It never blocks, never allocates except through
 * ops->buf_get(), and bounds the work of one call (KS_PASS_BYTES,
 * KS_PASS_REQUESTS) so one client cannot hold a core.
 */
#ifndef KS_HANDLER_H
#define KS_HANDLER_H

#include "ks_port.h"
#include "http_parse.h"
#include "http_date.h"
#include "http_cond.h"
#include "mime.h"

#define KS_SERVER_NAME "kserver"
#define KS_RBUF_SIZE KS_HEAD_MAX	/* request head */
#define KS_PATH_MAX (KS_REQ_LINE_MAX + 256)	/* decoded path + index */
#define KS_WBUF_SIZE (KS_REQ_LINE_MAX + 1024)	/* response head (+ Location) */
#define KS_CONN_BUF_SIZE (KS_RBUF_SIZE + KS_PATH_MAX + KS_WBUF_SIZE)
#define KS_INDEX_MAX 128
#define KS_PASS_BYTES (512u * 1024)	/* body bytes per ks_conn_run() */
#define KS_PASS_REQUESTS 16		/* requests per ks_conn_run() */
/*
 * Unsent bytes a connection's socket may queue (TCP_NOTSENT_LOWAT), earned
 * as TCP earns its window. A new connection may queue KS_UNSENT_MIN: a slow
 * reader then holds no more kernel memory than that plus what is in flight,
 * where autotuning would let each queue grow to tcp_wmem's 4 MiB and a few
 * thousand slow readers push TCP into memory pressure for every client
 * (tests/slow). When a send finds the socket full, the client has taken the
 * file bytes sent less those still queued (they are in flight or delivered),
 * and the allowance doubles while it is at most KS_UNSENT_EARN / 2 times
 * that, up to KS_UNSENT_MAX (tcp_wmem's default maximum): a client that
 * keeps up queues at most KS_UNSENT_EARN times what it took, and is fed in
 * large pieces, as nginx feeds it, after one or two wake-ups; one that reads
 * nothing took only its receive window.
 */
#define KS_UNSENT_MIN (128u << 10)
#define KS_UNSENT_MAX (4u << 20)
#define KS_UNSENT_EARN 4

/* The allowance a connection whose client took @taken bytes has earned. */
static inline u32 ks_unsent_earned(u32 cur, u64 taken)
{
	while (cur < KS_UNSENT_MAX && 2 * (u64)cur / KS_UNSENT_EARN <= taken)
		cur *= 2;
	return KS_MIN(cur, KS_UNSENT_MAX);
}
/*
 * The last response of a connection (Connection: close) cannot earn in time:
 * from 128 KiB a 1 MiB body took four or five wake-ups where nginx, whose
 * send buffer autotunes, sends it in two calls and closes. A backend that
 * can keep count of a socket after its fd is closed (ops->lend: the kernel
 * worker) lends such a body up to KS_UNSENT_LOAN more from a bounded pool,
 * and takes it back once the orphaned socket has sent it.
 */
#define KS_UNSENT_LOAN (1u << 20)
#define KS_LINGER_BYTES (1u << 20)	/* drained at most before closing */
#define KS_BENCH_BODY_MAX 4096		/* --bench-fixed, at most */
#define KS_COPY_MAX 8192		/* bodies up to this leave with the head */
#define KS_CORK_MIN (64u << 10)		/* bodies over this are sent corked */

/* A handle the backend understands: an fd in user space, a pointer in the kernel. */
union ks_handle {
	long fd;
	void *ptr;
};

enum ks_file_type {
	KS_FT_OTHER = 0,	/* FIFO, socket, device: never served */
	KS_FT_REG,
	KS_FT_DIR,
};

struct ks_file {
	union ks_handle h;
	u64 size;
	s64 mtime;		/* seconds */
	enum ks_file_type type;
	u32 slot;		/* the backend's: its open-file cache slot + 1, or 0 */
};

struct ks_peer {
	u8 family;		/* 4 or 6, 0 when unknown */
	u8 addr[16];
	u16 port;
};

/* One access-log record; strings point into the connection's buffer. */
struct ks_log_rec {
	s64 time;		/* wall clock, seconds */
	u16 status;
	u64 body_bytes;
	struct ks_peer peer;
	struct ks_str request;	/* the request line, empty when none parsed */
	struct ks_str referer;
	struct ks_str user_agent;
};

struct ks_conn;
struct ks_worker;

/*
 * The I/O operations table. Every call is non-blocking; functions that can
 * fail return a byte count or 0 on success, or a negative errno (-EAGAIN when
 * the socket is not ready).
 */
struct ks_io_ops {
	/* > 0 bytes read, 0 at end of stream, -errno */
	long (*recv)(struct ks_conn *c, void *buf, size_t len);
	/* bytes sent; @more: further bytes of this response follow at once,
	 * or the FIN does (ks_conn_holds_tail) */
	long (*send)(struct ks_conn *c, const void *buf, size_t len, bool more);
	/* bytes of f [off, off + len) read into buf; fewer when it ended */
	long (*read)(struct ks_worker *w, struct ks_file *f, u64 off,
		     void *buf, size_t len);
	/*
	 * bytes of f [off, off + len) sent; 0 when the file ended early. Sets
	 * c->sock_full when it sent fewer because the socket's queue is full
	 * and a write wake-up will follow (the next call would say -EAGAIN).
	 */
	long (*send_file)(struct ks_conn *c, struct ks_file *f, u64 off,
			  size_t len);
	/* open a NUL-terminated path relative to the docroot, beneath it */
	int (*open_beneath)(struct ks_worker *w, const char *path,
			    struct ks_file *f);
	/* fill f->size, f->mtime, f->type */
	int (*stat)(struct ks_worker *w, struct ks_file *f);
	void (*close)(struct ks_worker *w, struct ks_file *f);
	/* no more writes on this connection (lingering close) */
	void (*shutdown)(struct ks_conn *c);
	/*
	 * optional: the last response went out whole and the connection ends
	 * (KS_WANT_CLOSE follows); a backend whose close comes later sends
	 * its FIN now
	 */
	void (*finish)(struct ks_conn *c);
	/*
	 * on: the socket sends only full segments (TCP_CORK) while a large
	 * body is sent; off: send what is held now
	 */
	void (*cork)(struct ks_conn *c, bool on);
	/* the socket may queue this many unsent bytes (KS_UNSENT_MIN..MAX) */
	void (*set_unsent_max)(struct ks_conn *c, u32 bytes);
	/*
	 * optional: the connection's last response has @want bytes of body
	 * to go; the allowance it may add, 0..@want, lent until the socket
	 * (whose fd is closed after this response) has sent them
	 */
	u32 (*lend)(struct ks_conn *c, u32 want);
	/* bytes the socket holds that TCP has not sent yet, or -errno */
	long (*unsent)(struct ks_conn *c);
	/* monotonic milliseconds and wall-clock seconds */
	void (*now)(struct ks_worker *w, u64 *mono_ms, s64 *wall);
	/* a KS_CONN_BUF_SIZE buffer, or NULL; and its return */
	void *(*buf_get)(struct ks_worker *w);
	void (*buf_put)(struct ks_worker *w, void *buf);
	/* one finished request, when cfg->access_log is set */
	void (*log)(struct ks_conn *c, const struct ks_log_rec *rec);
};

/* Read-only configuration shared by every worker of a server. */
struct ks_config {
	char index[KS_INDEX_MAX];
	u32 index_len;
	bool serve_hidden;
	bool access_log;
	/* benchmark only: answer GET/HEAD with this many bytes from memory */
	u32 bench_body_len;
	u32 header_timeout_ms;
	u32 keepalive_timeout_ms;
	u32 send_timeout_ms;
	u32 linger_timeout_ms;
	const struct ks_mime_table *mime;
};

/* an intrusive doubly linked list node */
struct ks_link {
	struct ks_link *prev, *next;
};

enum ks_timer_kind {
	KS_TIMER_HEADER = 0,	/* a request head is arriving */
	KS_TIMER_IDLE,		/* keep-alive, waiting for the next request */
	KS_TIMER_SEND,		/* a response waits for the socket */
	KS_TIMER_LINGER,	/* draining before close */
	KS_TIMER_NR,
};

struct ks_stats {
	u64 requests;
	u64 body_bytes;
	u64 accepted;
	u64 closed;
	u64 timeouts;
	u64 handovers;		/* given to the other mode between requests */
	u64 adopted;		/* taken from the other mode */
};

/* Per-core (per event-loop thread, or per kernel worker) state. */
struct ks_worker {
	const struct ks_io_ops *ops;
	const struct ks_config *cfg;
	void *backend;
	u64 now_ms;
	s64 now_wall;
	s64 date_wall;			/* second the date string is for */
	char date[KS_HTTP_DATE_LEN];
	/*
	 * The validators of the last file answered, formatted once: most
	 * requests repeat a file. Keyed by what they are made of.
	 */
	struct {
		s64 mtime;
		u64 size;
		u32 etag_len;		/* 0: nothing cached */
		char etag[KS_ETAG_MAX];
		char last_modified[KS_HTTP_DATE_LEN];
	} validators;
	/* connections ordered by deadline, one queue per timeout length */
	struct ks_link timers[KS_TIMER_NR];
	struct ks_stats stats;
	bool draining;			/* stopping: no more keep-alive */
	bool hand_over;			/* the other mode serves: hand
					 * connections over between requests */
};

enum ks_conn_state {
	KS_CS_IDLE = 0,		/* between requests, nothing buffered */
	KS_CS_READ_HEAD,	/* reading a request head */
	KS_CS_SEND,		/* sending a response */
	KS_CS_DISCARD,		/* reading and dropping a request body */
	KS_CS_LINGER,		/* write side shut, draining until EOF */
	KS_CS_CLOSED,
};

enum ks_want {
	KS_WANT_READ = 1,	/* run again when readable (or on timeout) */
	KS_WANT_WRITE,		/* run again when writable (or on timeout) */
	KS_WANT_YIELD,		/* made progress, more to do: run again soon */
	KS_WANT_CLOSE,		/* done: the backend closes the socket */
	KS_WANT_HANDOVER,	/* between requests, nothing of the next one
				 * read, and w->hand_over is set: give it to
				 * the other mode (ks_conn_handover()), or set
				 * stay and run it again */
};

struct ks_conn {
	struct ks_worker *w;
	union ks_handle sock;
	struct ks_peer peer;
	void *priv;			/* backend's */
	struct ks_link tlink;		/* in w->timers[tkind] while armed */
	u64 deadline_ms;
	u8 tkind;
	u8 state;			/* enum ks_conn_state */
	bool keepalive;			/* after this response */
	bool file_open;
	bool head_only;			/* HEAD: no body bytes */
	bool stay;			/* not handed over before its next
					 * request (the other side was full) */
	bool more_follows;		/* the next request is buffered whole:
					 * its response follows at once */
	bool sock_full;			/* send_file's: wait for a write wake-up */
	bool corked;			/* ops->cork(c, true) until the body ends */
	bool borrowed;			/* asked ops->lend, once */
	u16 status;
	char *buf;			/* KS_CONN_BUF_SIZE, or NULL when idle */
	u32 rlen;			/* bytes in the request buffer */
	struct ks_head_scan scan;
	struct ks_request req;
	u32 wlen, woff;			/* response head (+ small body) to send */
	struct ks_file file;
	u64 foff, fend;			/* file bytes still to send: [foff, fend) */
	u64 body_sent;
	u64 file_sent;			/* on this connection, every response */
	u32 unsent_max;			/* its socket's allowance, KS_UNSENT_* */
	u64 discard;			/* request-body bytes still to drop */
	u64 lingered;
};

void ks_worker_init(struct ks_worker *w, const struct ks_io_ops *ops,
		    const struct ks_config *cfg, void *backend);
/* Read the clock (once per event-loop round) and refresh the Date string. */
void ks_worker_tick(struct ks_worker *w);
/* The earliest armed deadline, or ~0 when none. */
u64 ks_worker_next_deadline(struct ks_worker *w);
/* Pop one connection whose deadline has passed, or NULL. */
struct ks_conn *ks_worker_expired(struct ks_worker *w);

/* Start a new connection; the backend then calls ks_conn_run(). */
void ks_conn_init(struct ks_conn *c, struct ks_worker *w, union ks_handle sock);
/* Take a kept-alive connection from the other mode, between requests. */
void ks_conn_resume(struct ks_conn *c, struct ks_worker *w,
		    union ks_handle sock);
enum ks_want ks_conn_run(struct ks_conn *c);
/* The connection's deadline passed: returns what ks_conn_run() would. */
enum ks_want ks_conn_timeout(struct ks_conn *c);
/* Release everything the handler holds (file, buffer, timer); idempotent. */
void ks_conn_release(struct ks_conn *c);
/* Release an idle connection that goes on in the other mode (not closed). */
void ks_conn_handover(struct ks_conn *c);
/* The connection armed on a timer list node (see ks_worker.timers). */
#define ks_conn_of_timer(l) \
	((struct ks_conn *)((char *)(l) - offsetof(struct ks_conn, tlink)))

/* Between requests with nothing buffered: safe to close or hand over. */
bool ks_conn_is_idle(const struct ks_conn *c);

/*
 * The last response on a connection keeps its tail back for the FIN, which
 * follows at once (finish, shutdown or close all push it): data and FIN
 * leave in one segment, as nginx's corked socket sends them when it closes.
 * Pushed first, the FIN took a segment of its own and the client one more
 * wake-up and ACK: 10 segments per 1 KiB "Connection: close" request on
 * loopback in user mode, 9 for nginx. The head (with a small body) is sent
 * with MSG_MORE; a file body is corked, whatever its size (sendfile() has no
 * MSG_MORE), and left corked.
 */
static inline bool ks_conn_holds_tail(const struct ks_conn *c)
{
	return !c->keepalive;
}

#endif /* KS_HANDLER_H */
