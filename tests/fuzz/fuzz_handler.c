// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_handler.c - libFuzzer harness for the whole connection handler
 * (ks_conn_run() and friends) over the fake I/O table of fake_io.c.
 *
 * Input: flags (1 byte), n (1 byte), n control bytes, then what the client
 * sends (0xfe n c expands when flags say so: see fz_expand()).
 *   flags 0x01 --serve-hidden     0x02 access log     0x04 hand over
 *         0x08 expand             0x10 --bench-fixed  0x60 how the client
 *         ends (EOF, silent, reset, EOF)              0x80 drain after the
 *         first response
 * The first control byte picks ks_conn_init() or ks_conn_resume() (bit 0)
 * and one or two connections (bit 1: both get the client's bytes, cut and
 * delayed differently, and share the worker's timer queues); it comes after
 * the body length with 0x10. The rest choose, in order of need: which
 * connection acts, chunk sizes, -EAGAIN and
 * errors of every call, clock steps. Past their end a PRNG takes over.
 *
 * The driver acts as server.c's event loop does: it runs the connection
 * when the handler asked for it (KS_WANT_*), delivers bytes, makes the
 * socket writable, moves the clock and fires expired timers.
 *
 * Checked (abort on violation), besides the sanitizers:
 *   - the response stream (fake_io.c): status lines, CRLFCRLF, lengths,
 *     body bytes and offsets, nothing after "Connection: close";
 *   - paths handed to open_beneath are relative, without "." / ".." / empty
 *     segments, hidden only with --serve-hidden;
 *   - at most one file and one buffer held, none while waiting to read, all
 *     given back when the connection ends;
 *   - the socket corked only during a file body, never while waiting to
 *     read (before a shutdown), sending a head or handing over;
 *   - a last response's tail held for the FIN (MSG_MORE, or left corked),
 *     and the FIN (finish, shutdown or the close) right after;
 *   - finish() only after a whole Connection: close response, and the
 *     connection ends right after;
 *   - KS_WANT_READ / WRITE only after recv / send said -EAGAIN (the loop is
 *     edge-triggered: anything else hangs), with a deadline armed;
 *     KS_WANT_YIELD only after a pass's byte or request budget was used;
 *   - a bounded number of ks_conn_run() calls per input.
 */
#include <stdint.h>

#include "fake_io.h"

#define FZ_DATA_MAX ((size_t)KS_LINGER_BYTES + 256 * 1024)
#define FZ_RUNS_MAX 200000
#define FZ_CONNS 2

struct fz_slot {
	struct ks_conn c;
	enum ks_want want;
	bool ended;
};

struct fz_run {
	struct ks_worker w;
	struct ks_config cfg;
	struct fz_world world;
	struct fz_slot slot[FZ_CONNS];
	u32 nconns;
	u64 runs;
	/* last: their response head buffers are not cleared per input */
	struct fz_state st[FZ_CONNS];
};

/* A connection ended (closed or handed over): nothing of it may be left. */
static void fz_check_ended(struct fz_run *r, struct fz_slot *s)
{
	struct fz_state *st = s->c.priv;
	u32 i, base;

	FZ_CHECK(!s->ended, "ended twice");
	FZ_CHECK(s->c.state == KS_CS_CLOSED, "ended in state %u", s->c.state);
	FZ_CHECK(st->opens == st->closes, "%ld opens, %ld closes", st->opens,
		 st->closes);
	FZ_CHECK(st->buf_gets == st->buf_puts, "%ld buf_get, %ld buf_put",
		 st->buf_gets, st->buf_puts);
	FZ_CHECK(!s->c.tlink.next && !s->c.tlink.prev, "timer still armed");
	FZ_CHECK(!st->loan, "a loan of %u never raised the allowance",
		 st->loan);
	/* and it was given every allowance it earned (on top of a loan;
	 * one that took it past KS_UNSENT_MAX stops the earning) */
	base = st->loan_base ? st->loan_base : KS_UNSENT_MIN;
	FZ_CHECK(fz_allowance(st) == (base >= KS_UNSENT_MAX ? base :
				      ks_unsent_earned(base, st->taken_max)),
		 "unsent allowance %u after the client took %llu",
		 st->unsent_max, (unsigned long long)st->taken_max);
	fz_resp_end(st);
	s->ended = true;
	for (i = 0; i < r->nconns; i++)
		if (!r->slot[i].ended)
			return;
	/* the last one: the worker holds nothing */
	FZ_CHECK(ks_worker_next_deadline(&r->w) == ~0ull, "a deadline is left");
	FZ_CHECK(r->w.stats.closed + r->w.stats.handovers == r->nconns,
		 "closed %llu, handed over %llu of %u",
		 (unsigned long long)r->w.stats.closed,
		 (unsigned long long)r->w.stats.handovers, r->nconns);
	if (r->cfg.access_log)
		FZ_CHECK((u64)(r->st[0].logs + r->st[1].logs) ==
			 r->w.stats.requests, "%ld log records, %llu requests",
			 r->st[0].logs + r->st[1].logs,
			 (unsigned long long)r->w.stats.requests);
}

/* What the handler asked for must be consistent with what it saw. */
static void fz_check_want(struct fz_run *r, struct fz_slot *s,
			  enum ks_want want)
{
	struct ks_conn *c = &s->c;
	struct fz_state *st = c->priv;

	FZ_CHECK(st->open_now <= 1 && st->buf_now <= 1, "%ld files, %ld bufs",
		 st->open_now, st->buf_now);
	FZ_CHECK(!st->finished || want == KS_WANT_CLOSE,
		 "finished, then want %d", want);
	FZ_CHECK(!st->held || st->shut || want == KS_WANT_CLOSE,
		 "a held tail and no FIN to push it (want %d)", want);
	switch (want) {
	case KS_WANT_READ:
		FZ_CHECK(st->last_io == FZ_IO_RECV_AGAIN,
			 "waits to read without recv saying -EAGAIN (%d)",
			 st->last_io);
		FZ_CHECK(!st->open_now, "a file open while waiting to read");
		/* a tail held back would reach the client only at close;
		 * after a shutdown the FIN pushed it */
		FZ_CHECK(!st->corked || st->shut, "corked while waiting to read");
		if (ks_conn_is_idle(c))
			FZ_CHECK(!st->buf_now && !c->buf,
				 "an idle connection holds a buffer");
		fallthrough;
	case KS_WANT_WRITE:
		if (want == KS_WANT_WRITE)
			FZ_CHECK(st->last_io == FZ_IO_SEND_AGAIN ||
				 st->last_io == FZ_IO_SEND_FULL,
				 "waits to write without send saying -EAGAIN"
				 " or a full socket");
		/* a short send asks what the client took before it waits */
		if (want == KS_WANT_WRITE && st->last_io == FZ_IO_SEND_FULL)
			FZ_CHECK(!st->full_unasked ||
				 st->unsent_max >= KS_UNSENT_MAX,
				 "waits on a full socket without asking what"
				 " the client took");
		FZ_CHECK(c->state != KS_CS_CLOSED, "waits when closed");
		FZ_CHECK(c->tlink.next, "waits without a deadline");
		FZ_CHECK(ks_worker_next_deadline(&r->w) <= c->deadline_ms,
			 "its deadline is not in the queues");
		break;
	case KS_WANT_YIELD:
		FZ_CHECK(c->state != KS_CS_CLOSED, "yields when closed");
		FZ_CHECK(st->run_file_bytes >= KS_PASS_BYTES ||
			 st->run_heads >= KS_PASS_REQUESTS - 1,
			 "yields after %llu bytes, %u responses",
			 (unsigned long long)st->run_file_bytes, st->run_heads);
		break;
	case KS_WANT_CLOSE:
		fz_check_ended(r, s);
		break;
	case KS_WANT_HANDOVER:
		FZ_CHECK(r->w.hand_over && !c->stay && ks_conn_is_idle(c),
			 "hand over of a busy connection");
		FZ_CHECK(!st->corked, "handed over corked");
		break;
	default:
		FZ_CHECK(0, "want %d", want);
	}
}

static void fz_conn_run(struct fz_run *r, struct fz_slot *s)
{
	struct fz_state *st = s->c.priv;

	FZ_CHECK(++r->runs <= FZ_RUNS_MAX, "more than %d runs", FZ_RUNS_MAX);
	st->run_file_bytes = 0;
	st->run_heads = 0;
	st->last_io = FZ_IO_NONE;
	r->world.cur = st;
	s->want = ks_conn_run(&s->c);
	r->world.cur = NULL;
	fz_check_want(r, s, s->want);
}

/* Move the clock, then fire what expired (as ks_expire() does). */
static void fz_advance(struct fz_run *r, u64 ms)
{
	struct ks_conn *x;

	r->world.mono_ms += ms;
	r->world.wall += (s64)(ms / 1000);
	ks_worker_tick(&r->w);
	while ((x = ks_worker_expired(&r->w))) {
		struct fz_state *st = x->priv;
		struct fz_slot *s = (struct fz_slot *)x;

		FZ_CHECK(st && (x == &r->slot[0].c || x == &r->slot[1].c) &&
			 !s->ended, "a stranger expired");
		FZ_CHECK(x->deadline_ms <= r->world.mono_ms, "expired early");
		if (x->state == KS_CS_SEND)
			st->excuse = true;	/* the client stopped reading */
		st->last_io = FZ_IO_NONE;
		r->world.cur = st;
		s->want = ks_conn_timeout(x);
		r->world.cur = NULL;
		FZ_CHECK(s->want == KS_WANT_CLOSE, "timeout gave %d", s->want);
		fz_check_ended(r, s);
	}
}

/* bytes the client gets onto the wire at once */
static size_t fz_chunk(struct fz_state *st)
{
	u8 b = fz_byte(&st->world->ctl);

	if (b < 64)
		return b + 1;
	if (b < 128)
		return (size_t)(b - 63) * 64;
	if (b < 192)
		return (size_t)(b - 127) * 4096;
	return st->in_len;
}

/* One event for connection s, then run it; as server.c's loop would. */
static void fz_step(struct fz_run *r, struct fz_slot *s, u8 flags)
{
	static const u64 steps[8] = { 0, 0, 0, 1, 100, 1000, 4000, 60000 };
	struct fz_state *st = s->c.priv;
	struct ks_conn *c = &s->c;
	u8 b;

	if (s->want == KS_WANT_HANDOVER) {
		if (fz_byte(&r->world.ctl) & 1) {
			r->world.cur = st;	/* it gives back its buffer */
			ks_conn_handover(c);
			r->world.cur = NULL;
			fz_check_ended(r, s);
			return;
		}
		c->stay = true;	/* the other side was full */
		fz_conn_run(r, s);
		return;
	}
	if ((flags & 0x80) && st->resp.responses)
		r->w.draining = true;
	b = fz_byte(&r->world.ctl);
	fz_advance(r, steps[b & 7]);
	if (s->ended)
		return;
	b >>= 3;
	switch (s->want) {
	case KS_WANT_READ:
		if (b == 31 || (st->in_off + st->arrived >= st->in_len &&
				st->end == FZ_END_SILENT)) {
			/* a slow or silent client: its deadline */
			fz_advance(r, c->deadline_ms - r->world.mono_ms);
			FZ_CHECK(s->ended, "the deadline did not fire");
			return;
		}
		if (st->in_off + st->arrived < st->in_len) {
			size_t n = fz_chunk(st);	/* KS_MIN: twice */

			st->arrived = KS_MIN(st->in_len - st->in_off,
					     st->arrived + n);
		}
		break;
	case KS_WANT_WRITE:
		if (b == 31) {
			/* the client does not read: send timeout */
			fz_advance(r, c->deadline_ms - r->world.mono_ms);
			FZ_CHECK(s->ended, "the deadline did not fire");
			return;
		}
		break;
	default:
		break;
	}
	fz_conn_run(r, s);
}

static void fz_drive(struct fz_run *r, u8 flags)
{
	u32 i;

	for (i = 0; i < r->nconns; i++)	/* as ks_uconn_start() does */
		fz_conn_run(r, &r->slot[i]);
	for (;;) {
		struct fz_slot *s = NULL;
		u32 live = 0;

		for (i = 0; i < r->nconns; i++)
			if (!r->slot[i].ended && r->slot[i].want != KS_WANT_CLOSE)
				live |= 1u << i;
			else
				r->slot[i].ended = true;
		if (!live)
			return;
		if (live == 3)
			s = &r->slot[fz_byte(&r->world.ctl) & 1];
		else
			s = &r->slot[live == 2];
		fz_step(r, s, flags);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_run run;	/* 2 x 16 KiB of response head */
	struct fz_run *r = &run;
	size_t nctl, len;
	char *in;
	u8 flags, how;
	u32 i;

	if (size < 2)
		return 0;
	flags = data[0];
	nctl = KS_MIN((size_t)data[1], size - 2);
	memset(r, 0, offsetof(struct fz_run, st));
	for (i = 0; i < FZ_CONNS; i++)
		memset(&r->st[i], 0, offsetof(struct fz_state, resp.head));
	r->world.ctl.p = data + 2;
	r->world.ctl.n = nctl;
	r->world.ctl.rng = 0x9e3779b97f4a7c15ull ^ size ^ ((u64)flags << 32);
	r->world.mono_ms = 1000000;
	r->world.wall = 1750000000;
	data += 2 + nctl;
	size -= 2 + nctl;
	if (flags & 0x08) {
		in = fz_expand(data, size, FZ_DATA_MAX, &len);
	} else {
		in = fz_exact_copy(data, size);
		len = size;
	}

	memcpy(r->cfg.index, "index.html", 11);
	r->cfg.index_len = 10;
	r->cfg.serve_hidden = flags & 0x01;
	r->cfg.access_log = flags & 0x02;
	if (flags & 0x10)
		r->cfg.bench_body_len = 1 + fz_byte(&r->world.ctl) * 16;
	r->cfg.header_timeout_ms = 10000;
	r->cfg.keepalive_timeout_ms = 5000;
	r->cfg.send_timeout_ms = 10000;
	r->cfg.linger_timeout_ms = 2000;
	r->cfg.mime = fz_mime();

	ks_worker_init(&r->w, &fz_io_ops, &r->cfg, &r->world);
	r->w.hand_over = flags & 0x04;
	how = fz_byte(&r->world.ctl);
	r->nconns = how & 2 ? 2 : 1;
	for (i = 0; i < r->nconns; i++) {
		struct fz_state *st = &r->st[i];
		union ks_handle h = { .fd = 3 + i };

		st->world = &r->world;
		st->conn = &r->slot[i].c;
		st->in = in;
		st->in_len = len;
		st->end = (flags >> 5) & 3;
		if (st->end > FZ_END_RESET)
			st->end = FZ_END_EOF;
		/* a new connection, or one kept alive from the other mode */
		if (how & 1)
			ks_conn_resume(&r->slot[i].c, &r->w, h);
		else
			ks_conn_init(&r->slot[i].c, &r->w, h);
		r->slot[i].c.priv = st;
	}
	fz_drive(r, flags);
	for (i = 0; i < r->nconns; i++)
		FZ_CHECK(r->slot[i].ended, "connection %u did not end", i);
	free(in);
	return 0;
}
