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
 * The first control byte picks ks_conn_init() or ks_conn_resume() (after
 * the body length with 0x10). The rest choose, in order of need: chunk
 * sizes, -EAGAIN and
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
 *   - KS_WANT_READ / WRITE only after recv / send said -EAGAIN (the loop is
 *     edge-triggered: anything else hangs), with a deadline armed;
 *     KS_WANT_YIELD only after a pass's byte or request budget was used;
 *   - a bounded number of ks_conn_run() calls per input.
 */
#include <stdint.h>

#include "fake_io.h"

#define FZ_DATA_MAX ((size_t)KS_LINGER_BYTES + 256 * 1024)
#define FZ_RUNS_MAX 200000

struct fz_run {
	struct ks_worker w;
	struct ks_conn c;
	struct ks_config cfg;
	u64 runs;
	bool ended;
	struct fz_state st;	/* last: its response head buffer is not
				 * cleared per input */
};

static const struct ks_mime_table *fz_mime(void)
{
	static u64 blob[KS_MIME_BLOB_MAX / 8];
	static bool built;

	if (!built) {
		if (ks_mime_build(ks_mime_builtin, strlen(ks_mime_builtin), blob,
				  sizeof(blob)))
			abort();
		built = true;
	}
	return (const struct ks_mime_table *)blob;
}

/* The connection ended (closed or handed over): nothing may be left. */
static void fz_check_ended(struct fz_run *r)
{
	struct fz_state *st = &r->st;

	FZ_CHECK(r->c.state == KS_CS_CLOSED, "ended in state %u", r->c.state);
	FZ_CHECK(st->opens == st->closes, "%ld opens, %ld closes", st->opens,
		 st->closes);
	FZ_CHECK(st->buf_gets == st->buf_puts, "%ld buf_get, %ld buf_put",
		 st->buf_gets, st->buf_puts);
	FZ_CHECK(!r->c.tlink.next && !r->c.tlink.prev, "timer still armed");
	FZ_CHECK(ks_worker_next_deadline(&r->w) == ~0ull, "a deadline is left");
	FZ_CHECK(r->w.stats.closed + r->w.stats.handovers == 1,
		 "closed %llu, handed over %llu",
		 (unsigned long long)r->w.stats.closed,
		 (unsigned long long)r->w.stats.handovers);
	if (r->cfg.access_log)
		FZ_CHECK((u64)st->logs == r->w.stats.requests,
			 "%ld log records, %llu requests", st->logs,
			 (unsigned long long)r->w.stats.requests);
	fz_resp_end(st);
	r->ended = true;
}

/* What the handler asked for must be consistent with what it saw. */
static void fz_check_want(struct fz_run *r, enum ks_want want)
{
	struct fz_state *st = &r->st;
	struct ks_conn *c = &r->c;

	FZ_CHECK(st->open_now <= 1 && st->buf_now <= 1, "%ld files, %ld bufs",
		 st->open_now, st->buf_now);
	switch (want) {
	case KS_WANT_READ:
		FZ_CHECK(st->last_io == FZ_IO_RECV_AGAIN,
			 "waits to read without recv saying -EAGAIN (%d)",
			 st->last_io);
		FZ_CHECK(!st->open_now, "a file open while waiting to read");
		if (ks_conn_is_idle(c))
			FZ_CHECK(!st->buf_now && !c->buf,
				 "an idle connection holds a buffer");
		fallthrough;
	case KS_WANT_WRITE:
		if (want == KS_WANT_WRITE)
			FZ_CHECK(st->last_io == FZ_IO_SEND_AGAIN,
				 "waits to write without send saying -EAGAIN");
		FZ_CHECK(c->state != KS_CS_CLOSED, "waits when closed");
		FZ_CHECK(c->tlink.next, "waits without a deadline");
		FZ_CHECK(ks_worker_next_deadline(&r->w) != ~0ull,
			 "waits without a deadline");
		break;
	case KS_WANT_YIELD:
		FZ_CHECK(c->state != KS_CS_CLOSED, "yields when closed");
		FZ_CHECK(st->run_file_bytes >= KS_PASS_BYTES ||
			 st->run_heads >= KS_PASS_REQUESTS - 1,
			 "yields after %llu bytes, %u responses",
			 (unsigned long long)st->run_file_bytes, st->run_heads);
		break;
	case KS_WANT_CLOSE:
		fz_check_ended(r);
		break;
	case KS_WANT_HANDOVER:
		FZ_CHECK(r->w.hand_over && !c->stay && ks_conn_is_idle(c),
			 "hand over of a busy connection");
		break;
	default:
		FZ_CHECK(0, "want %d", want);
	}
}

static enum ks_want fz_conn_run(struct fz_run *r)
{
	enum ks_want want;

	FZ_CHECK(++r->runs <= FZ_RUNS_MAX, "more than %d runs", FZ_RUNS_MAX);
	r->st.run_file_bytes = 0;
	r->st.run_heads = 0;
	r->st.last_io = FZ_IO_NONE;
	want = ks_conn_run(&r->c);
	fz_check_want(r, want);
	return want;
}

/* Move the clock, then fire what expired; false when the connection ended. */
static bool fz_advance(struct fz_run *r, u64 ms, enum ks_want *want)
{
	struct ks_conn *x;

	r->st.mono_ms += ms;
	r->st.wall += (s64)(ms / 1000);
	ks_worker_tick(&r->w);
	while ((x = ks_worker_expired(&r->w))) {
		FZ_CHECK(x == &r->c, "a stranger expired");
		FZ_CHECK(x->deadline_ms <= r->st.mono_ms, "expired early");
		if (x->state == KS_CS_SEND)
			r->st.excuse = true;	/* the client stopped reading */
		r->st.last_io = FZ_IO_NONE;
		*want = ks_conn_timeout(x);
		FZ_CHECK(*want == KS_WANT_CLOSE, "timeout gave %d", *want);
		fz_check_ended(r);
		return false;
	}
	return true;
}

/* bytes the client gets onto the wire at once */
static size_t fz_chunk(struct fz_state *st)
{
	u8 b = fz_byte(&st->ctl);

	if (b < 64)
		return b + 1;
	if (b < 128)
		return (size_t)(b - 63) * 64;
	if (b < 192)
		return (size_t)(b - 127) * 4096;
	return st->in_len;
}

static void fz_drive(struct fz_run *r, u8 flags)
{
	static const u64 steps[8] = { 0, 0, 0, 1, 100, 1000, 4000, 60000 };
	struct fz_state *st = &r->st;
	struct ks_conn *c = &r->c;
	enum ks_want want = fz_conn_run(r);	/* as ks_uconn_start() does */

	for (;;) {
		u8 b;

		if (want == KS_WANT_CLOSE)
			return;
		if (want == KS_WANT_HANDOVER) {
			if (fz_byte(&st->ctl) & 1) {
				ks_conn_handover(c);
				fz_check_ended(r);
				return;
			}
			c->stay = true;	/* the other side was full */
			want = fz_conn_run(r);
			continue;
		}
		if ((flags & 0x80) && st->resp.responses)
			r->w.draining = true;
		b = fz_byte(&st->ctl);
		if (!fz_advance(r, steps[b & 7], &want))
			return;
		b >>= 3;
		switch (want) {
		case KS_WANT_YIELD:
			break;
		case KS_WANT_READ:
			if (b == 31 || (st->in_off + st->arrived >= st->in_len &&
					st->end == FZ_END_SILENT)) {
				/* a slow or silent client: its deadline */
				if (!fz_advance(r, c->deadline_ms - st->mono_ms,
						&want))
					return;
				FZ_CHECK(0, "the deadline did not fire");
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
				if (!fz_advance(r, c->deadline_ms - st->mono_ms,
						&want))
					return;
				FZ_CHECK(0, "the deadline did not fire");
			}
			break;
		default:
			break;
		}
		want = fz_conn_run(r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_run run;	/* 16 KiB of response head: not on the stack */
	struct fz_run *r = &run;
	union ks_handle h = { .fd = 3 };
	size_t nctl, len;
	char *in;
	u8 flags;

	if (size < 2)
		return 0;
	flags = data[0];
	nctl = KS_MIN((size_t)data[1], size - 2);
	memset(r, 0, offsetof(struct fz_run, st.resp.head));
	r->st.ctl.p = data + 2;
	r->st.ctl.n = nctl;
	r->st.ctl.rng = 0x9e3779b97f4a7c15ull ^ size ^ ((u64)flags << 32);
	data += 2 + nctl;
	size -= 2 + nctl;
	if (flags & 0x08) {
		in = fz_expand(data, size, FZ_DATA_MAX, &len);
	} else {
		in = fz_exact_copy(data, size);
		len = size;
	}
	r->st.in = in;
	r->st.in_len = len;
	r->st.end = (flags >> 5) & 3;
	if (r->st.end > FZ_END_RESET)
		r->st.end = FZ_END_EOF;
	r->st.mono_ms = 1000000;
	r->st.wall = 1750000000;

	memcpy(r->cfg.index, "index.html", 11);
	r->cfg.index_len = 10;
	r->cfg.serve_hidden = flags & 0x01;
	r->cfg.access_log = flags & 0x02;
	if (flags & 0x10)
		r->cfg.bench_body_len = 1 + fz_byte(&r->st.ctl) * 16;
	r->cfg.header_timeout_ms = 10000;
	r->cfg.keepalive_timeout_ms = 5000;
	r->cfg.send_timeout_ms = 10000;
	r->cfg.linger_timeout_ms = 2000;
	r->cfg.mime = fz_mime();

	ks_worker_init(&r->w, &fz_io_ops, &r->cfg, &r->st);
	r->w.hand_over = flags & 0x04;
	r->st.conn = &r->c;
	/* a new connection, or one kept alive taken from the other mode */
	if (fz_byte(&r->st.ctl) & 1)
		ks_conn_resume(&r->c, &r->w, h);
	else
		ks_conn_init(&r->c, &r->w, h);
	fz_drive(r, flags);
	FZ_CHECK(r->ended, "the connection did not end");
	free(in);
	return 0;
}
