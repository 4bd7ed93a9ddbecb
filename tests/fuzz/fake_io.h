/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fake_io.h - an in-memory struct ks_io_ops for fuzz_handler: a client that
 * sends the fuzz input in pieces, a socket that takes partial writes, a
 * docroot of a few files that are never materialised, a clock the driver
 * moves. Every decision (chunk sizes, -EAGAIN, injected errors) comes from
 * the control bytes of the input, then from a PRNG seeded by them.
 *
 * Everything the handler sends is checked as a stream of HTTP responses.
 */
#ifndef KS_FAKE_IO_H
#define KS_FAKE_IO_H

#include "fuzz_common.h"
#include "handler.h"

#define FZ_RESP_HEAD_MAX 16384

/* the decisions of one input */
struct fz_ctl {
	const u8 *p;
	size_t n, i;
	u64 rng;
};

u8 fz_byte(struct fz_ctl *c);

enum fz_last_io {
	FZ_IO_NONE = 0,
	FZ_IO_RECV_AGAIN,	/* the last recv said -EAGAIN */
	FZ_IO_SEND_AGAIN,	/* the last send or send_file said -EAGAIN */
	FZ_IO_SEND_FULL,	/* the last send_file was short: socket full */
	FZ_IO_OTHER,
};

enum fz_end {
	FZ_END_EOF = 0,		/* the client closes after its bytes */
	FZ_END_SILENT,		/* the client stays, says nothing more */
	FZ_END_RESET,		/* recv fails with -ECONNRESET */
};

/* the response stream as the client parses it */
enum fz_resp_state {
	FZ_R_HEAD = 0,
	FZ_R_BODY,
	FZ_R_DONE,		/* after a "Connection: close" response */
};

struct fz_resp {
	enum fz_resp_state state;
	u32 hlen;
	u16 status;
	bool head_only;
	bool close;
	bool file_body;		/* the body is file bytes from @first */
	u32 elen;		/* else, when non-zero: the body is ebody */
	char ebody[512];
	u64 cl, body, first;
	u64 responses;		/* complete heads */
	char head[FZ_RESP_HEAD_MAX];	/* last: not cleared per input */
};

/* What the connections of one input share: the worker's backend. */
struct fz_world {
	struct fz_ctl ctl;
	struct fz_state *cur;	/* the connection the handler runs for */
	u64 mono_ms;
	s64 wall;
};

/* One connection (c->priv), seen from the client and the fake kernel. */
struct fz_state {
	struct fz_world *world;
	struct ks_conn *conn;
	/* the client */
	const char *in;
	size_t in_len, in_off, arrived;
	enum fz_end end;
	/* accounting */
	long opens, closes, open_now;
	long buf_gets, buf_puts, buf_now;
	void *buf;
	bool shut;
	bool finished;		/* finish(): the connection must end now */
	long logs;
	enum fz_last_io last_io;
	bool excuse;		/* the fake cut a response short */
	u64 conn_file_bytes;	/* send_file bytes, every response */
	bool corked;		/* cork(c, true) and not yet off */
	bool held;		/* a response's tail kept back for the FIN */
	u32 unsent_max;		/* last set_unsent_max(), 0: none yet */
	bool lent;		/* lend() was asked (once a connection) */
	u32 loan;		/* what it gave, until set_unsent_max() */
	u32 loan_base;		/* the allowance it raised to, 0: none */
	u64 taken;		/* file bytes the client took, last unsent() */
	u64 taken_max;		/* the most unsent() ever said it took */
	bool full_unasked;	/* a short send_file, no unsent() since */
	/* per ks_conn_run() */
	u64 run_file_bytes;
	u32 run_heads;
	struct fz_resp resp;	/* last, see fz_resp.head */
};

extern const struct ks_io_ops fz_io_ops;

/* The socket's unsent allowance as last set (KS_UNSENT_MIN until then). */
static inline u32 fz_allowance(const struct fz_state *st)
{
	return st->unsent_max ? st->unsent_max : KS_UNSENT_MIN;
}

/* The connection ended: is what the client received whole? */
void fz_resp_end(struct fz_state *st);

#endif /* KS_FAKE_IO_H */
