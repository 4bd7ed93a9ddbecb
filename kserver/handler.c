// SPDX-License-Identifier: GPL-2.0
/*
 * handler.c - the per-connection HTTP/1.x state machine (shared).
 *
 *   IDLE --first byte--> READ_HEAD --head parsed--> SEND --done--> next
 *   next: body left to drop? DISCARD; bytes buffered? READ_HEAD; else IDLE
 *   a response that closes: unread input? LINGER (shutdown, drain) : CLOSED
 *
 * Every step returns KS_STEP_AGAIN to keep going or a ks_want for the
 * backend. The request buffer is taken when a request starts and given back
 * when the connection goes idle, so 10,000 idle keep-alive connections cost
 * no buffers.
 */
#include "handler.h"
#include "http_cond.h"
#include "response.h"
#include "uri.h"

#define KS_STEP_AGAIN 0

static inline char *ks_pathbuf(struct ks_conn *c)
{
	return c->buf + KS_RBUF_SIZE;
}

static inline char *ks_wbuf(struct ks_conn *c)
{
	return c->buf + KS_RBUF_SIZE + KS_PATH_MAX;
}

/* --- timers: one FIFO per timeout length is a sorted deadline queue --- */

static void ks_link_del(struct ks_link *l)
{
	if (l->next) {
		l->prev->next = l->next;
		l->next->prev = l->prev;
		l->next = l->prev = NULL;
	}
}

static void ks_link_add_tail(struct ks_link *head, struct ks_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static u32 ks_timeout_ms(const struct ks_config *cfg, enum ks_timer_kind k)
{
	switch (k) {
	case KS_TIMER_HEADER:
		return cfg->header_timeout_ms;
	case KS_TIMER_IDLE:
		return cfg->keepalive_timeout_ms;
	case KS_TIMER_SEND:
		return cfg->send_timeout_ms;
	default:
		return cfg->linger_timeout_ms;
	}
}

static void ks_timer_arm(struct ks_conn *c, enum ks_timer_kind k)
{
	struct ks_worker *w = c->w;

	ks_link_del(&c->tlink);
	c->tkind = k;
	c->deadline_ms = w->now_ms + ks_timeout_ms(w->cfg, k);
	ks_link_add_tail(&w->timers[k], &c->tlink);
}

u64 ks_worker_next_deadline(struct ks_worker *w)
{
	u64 next = ~0ull;
	u32 k;

	for (k = 0; k < KS_TIMER_NR; k++) {
		struct ks_link *first = w->timers[k].next;

		if (first != &w->timers[k] &&
		    ks_conn_of_timer(first)->deadline_ms < next)
			next = ks_conn_of_timer(first)->deadline_ms;
	}
	return next;
}

struct ks_conn *ks_worker_expired(struct ks_worker *w)
{
	u32 k;

	for (k = 0; k < KS_TIMER_NR; k++) {
		struct ks_link *first = w->timers[k].next;

		if (first != &w->timers[k] &&
		    ks_conn_of_timer(first)->deadline_ms <= w->now_ms) {
			ks_link_del(first);
			return ks_conn_of_timer(first);
		}
	}
	return NULL;
}

void ks_worker_tick(struct ks_worker *w)
{
	w->ops->now(w, &w->now_ms, &w->now_wall);
	if (w->now_wall != w->date_wall) {
		ks_http_date_format(w->now_wall, w->date);
		w->date_wall = w->now_wall;
	}
}

void ks_worker_init(struct ks_worker *w, const struct ks_io_ops *ops,
		    const struct ks_config *cfg, void *backend)
{
	u32 k;

	memset(w, 0, sizeof(*w));
	w->ops = ops;
	w->cfg = cfg;
	w->backend = backend;
	for (k = 0; k < KS_TIMER_NR; k++)
		w->timers[k].next = w->timers[k].prev = &w->timers[k];
	w->date_wall = -1;
	ks_worker_tick(w);
}

/* --- connection life cycle --- */

void ks_conn_init(struct ks_conn *c, struct ks_worker *w, union ks_handle sock)
{
	memset(c, 0, sizeof(*c));
	c->w = w;
	c->sock = sock;
	/* idle until the first byte: no buffer, but the header timeout */
	c->state = KS_CS_IDLE;
	c->unsent_max = KS_UNSENT_MIN;	/* as the acceptor set it */
	w->stats.accepted++;
	ks_timer_arm(c, KS_TIMER_HEADER);
}

void ks_conn_resume(struct ks_conn *c, struct ks_worker *w,
		    union ks_handle sock)
{
	memset(c, 0, sizeof(*c));
	c->w = w;
	c->sock = sock;
	c->state = KS_CS_IDLE;
	/* the socket keeps what it earned in the other mode; it is raised
	 * again from here, at worst lowered once on the way */
	c->unsent_max = KS_UNSENT_MIN;
	w->stats.adopted++;
	ks_timer_arm(c, KS_TIMER_IDLE);
}

static void ks_file_close(struct ks_conn *c)
{
	if (c->file_open) {
		c->w->ops->close(c->w, &c->file);
		c->file_open = false;
	}
}

static void ks_buf_release(struct ks_conn *c)
{
	if (c->buf) {
		c->w->ops->buf_put(c->w, c->buf);
		c->buf = NULL;
		c->rlen = 0;
	}
}

static void ks_conn_drop(struct ks_conn *c)
{
	ks_file_close(c);
	ks_buf_release(c);
	ks_link_del(&c->tlink);
	c->state = KS_CS_CLOSED;
}

void ks_conn_release(struct ks_conn *c)
{
	if (c->state == KS_CS_CLOSED)
		return;
	ks_conn_drop(c);
	c->w->stats.closed++;
}

void ks_conn_handover(struct ks_conn *c)
{
	if (c->state == KS_CS_CLOSED)
		return;
	ks_conn_drop(c);
	c->w->stats.handovers++;
}

bool ks_conn_is_idle(const struct ks_conn *c)
{
	return c->state == KS_CS_IDLE && !c->rlen;
}

/* One finished (or abandoned) request: count it and log it once. */
static void ks_request_done(struct ks_conn *c)
{
	struct ks_worker *w = c->w;

	if (!c->status)
		return;
	w->stats.requests++;
	w->stats.body_bytes += c->body_sent;
	if (w->cfg->access_log && w->ops->log) {
		struct ks_log_rec rec = {
			.time = w->now_wall,
			.status = c->status,
			.body_bytes = c->body_sent,
			.peer = c->peer,
			.request = c->req.line,
			.referer = c->req.referer,
			.user_agent = c->req.user_agent,
		};

		w->ops->log(c, &rec);
	}
	c->status = 0;
}

static enum ks_want ks_abort(struct ks_conn *c)
{
	ks_request_done(c);
	ks_conn_release(c);
	return KS_WANT_CLOSE;
}

/* --- building responses --- */

/*
 * Pipelining: when the next request is already buffered whole, its response
 * follows at once, so this one goes out with MSG_MORE and both share
 * segments (nginx sends pipelined responses in one write). Only then:
 * MSG_MORE holds a partial segment until the next send.
 */
static bool ks_next_request_buffered(struct ks_conn *c)
{
	struct ks_head_scan scan = { 0 };
	u32 used = c->req.head_len;

	return c->keepalive && !c->discard && !c->req.has_te &&
	       c->rlen > used &&
	       ks_http_head_end(&scan, c->buf + used, c->rlen - used) > 0;
}

static void ks_head_init(struct ks_conn *c, struct ks_resp_head *h, u16 status)
{
	memset(h, 0, sizeof(*h));
	h->status = status;
	h->keepalive = c->keepalive;
	h->date = c->w->date;
	c->status = status;
}

/* Finish the head in the write buffer, with an optional body after it. */
static void ks_head_queue(struct ks_conn *c, struct ks_resp_head *h,
			  const char *body, u32 body_len)
{
	char *out = ks_wbuf(c);
	u32 n = ks_resp_head_build(out, KS_WBUF_SIZE, h);

	/* cannot happen with the buffer sizes checked below; be safe anyway */
	if (!n || KS_WBUF_SIZE - n < body_len) {
		c->keepalive = false;
		h->keepalive = false;
		h->location.len = 0;
		h->status = 500;
		c->status = 500;
		n = ks_resp_head_build(out, KS_WBUF_SIZE, h);
		body_len = 0;
	}
	if (body_len && !c->head_only) {
		memmove(out + n, body, body_len);
		n += body_len;
		c->body_sent = body_len;	/* leaves with the head */
	}
	c->wlen = n;
	c->woff = 0;
	c->state = KS_CS_SEND;
	c->more_follows = ks_next_request_buffered(c);
	ks_timer_arm(c, KS_TIMER_SEND);
}

/* Statuses that end the connection: the request stream cannot be trusted. */
static bool ks_status_closes(u16 status)
{
	return status == 400 || status == 413 || status == 414 ||
	       status == 431 || status == 500 || status == 505;
}

static void ks_respond_error(struct ks_conn *c, u16 status)
{
	struct ks_resp_head h;
	char *body;
	u32 blen;

	ks_file_close(c);
	if (ks_status_closes(status))
		c->keepalive = false;
	ks_head_init(c, &h, status);
	/* the body is built at the end of the write buffer, then moved */
	body = ks_wbuf(c) + KS_WBUF_SIZE - 512;
	blen = ks_error_body(body, 512, status);
	h.content_type.p = "text/html";
	h.content_type.len = 9;
	h.has_length = true;
	h.content_length = blen;
	h.allow = status == 405;
	if (status == 416) {
		h.unsatisfiable = true;
		h.total = c->file.size;
	}
	ks_head_queue(c, &h, body, blen);
}

static void ks_respond_redirect(struct ks_conn *c)
{
	struct ks_resp_head h;
	char *body = ks_wbuf(c) + KS_WBUF_SIZE - 512;
	u32 blen;

	ks_file_close(c);
	ks_head_init(c, &h, 301);
	blen = ks_error_body(body, 512, 301);
	h.content_type.p = "text/html";
	h.content_type.len = 9;
	h.has_length = true;
	h.content_length = blen;
	h.location = c->req.path;
	h.query = c->req.query;
	ks_head_queue(c, &h, body, blen);
}

/*
 * Benchmark only (--bench-fixed): a 200 from memory with no file work, the
 * "limit" line of make bench: what the handler costs without open/stat/send
 * of a file, so the real path can be measured against TCP's own cost.
 */
static void ks_respond_fixed(struct ks_conn *c)
{
	u32 len = c->w->cfg->bench_body_len;
	char *body = ks_wbuf(c) + KS_WBUF_SIZE - KS_BENCH_BODY_MAX;
	struct ks_resp_head h;

	/* room for the longest head such a response has, then the body */
	KS_BUILD_BUG_ON(KS_WBUF_SIZE < KS_BENCH_BODY_MAX + 1024);

	ks_head_init(c, &h, 200);
	h.content_type.p = "text/plain";
	h.content_type.len = 10;
	h.has_length = true;
	h.content_length = len;
	memset(body, 'x', len);
	ks_head_queue(c, &h, body, len);
}

/*
 * A small body is copied in behind its head and leaves with it in one send:
 * for a few KiB a copy out of the page cache is cheaper than a second call
 * and page references (sendfile / zero-copy), and pipelined responses can
 * share segments. A file that changed size since the stat takes the send
 * path, which ends the connection when the bytes are not there.
 */
static void ks_body_inline(struct ks_conn *c)
{
	u64 len = c->fend - c->foff;
	long n;

	if (len > KS_COPY_MAX || len > KS_WBUF_SIZE - c->wlen)
		return;
	n = c->w->ops->read(c->w, &c->file, c->foff, ks_wbuf(c) + c->wlen,
			    len);
	if (n != (long)len)
		return;
	c->wlen += len;
	c->body_sent = len;
	c->foff = c->fend;
	ks_file_close(c);
}

/* @f's ETag and Last-Modified, from the worker's copy when it is f's. */
static void ks_validators(struct ks_worker *w, const struct ks_file *f)
{
	if (w->validators.etag_len && w->validators.mtime == f->mtime &&
	    w->validators.size == f->size)
		return;
	w->validators.etag_len = ks_etag_format(f->mtime, f->size,
						w->validators.etag);
	ks_http_date_format(f->mtime, w->validators.last_modified);
	w->validators.mtime = f->mtime;
	w->validators.size = f->size;
}

/* An open regular file: preconditions, range, then the head. */
static void ks_respond_file(struct ks_conn *c, const char *path, u32 len)
{
	const struct ks_request *req = &c->req;
	struct ks_worker *w = c->w;
	struct ks_file *f = &c->file;
	const char *etag = w->validators.etag;
	u32 etag_len;
	struct ks_resp_head h;
	u64 first = 0, last = f->size - 1;
	u16 status = 200;
	int cond;

	ks_validators(w, f);
	etag_len = w->validators.etag_len;
	cond = ks_cond_eval(req, etag, etag_len, f->mtime);
	if (cond == 412) {
		ks_respond_error(c, 412);
		return;
	}
	if (cond == 304) {
		status = 304;
	} else {
		switch (ks_range_eval(req, f->size, etag, etag_len, f->mtime,
				      &first, &last)) {
		case KS_RANGE_OK:
			status = 206;
			break;
		case KS_RANGE_UNSATISFIABLE:
			ks_respond_error(c, 416);
			return;
		case KS_RANGE_NONE:
			break;
		}
	}
	ks_head_init(c, &h, status);
	h.has_file = true;
	h.last_modified = w->validators.last_modified;
	h.etag.p = etag;
	h.etag.len = etag_len;
	if (status != 304) {
		h.content_type = ks_mime_lookup(c->w->cfg->mime, path, len);
		h.has_length = true;
		h.content_length = f->size ? last - first + 1 : 0;
		if (status == 206) {
			h.has_range = true;
			h.first = first;
			h.last = last;
			h.total = f->size;
		}
	}
	if (status == 304 || c->head_only || !f->size) {
		ks_file_close(c);
	} else {
		c->foff = first;
		c->fend = last + 1;
	}
	ks_head_queue(c, &h, NULL, 0);
	if (c->foff < c->fend)
		ks_body_inline(c);
}

/* Open rel (relative to the root) and stat it; 0 or -errno. */
static int ks_open_stat(struct ks_conn *c, const char *rel)
{
	struct ks_worker *w = c->w;
	int err = w->ops->open_beneath(w, rel, &c->file);

	if (err)
		return err;
	c->file_open = true;
	err = w->ops->stat(w, &c->file);
	if (err)
		ks_file_close(c);
	return err;
}

/* A directory request ("/dir/"): its index file, else 403 or 404. */
static void ks_serve_dir(struct ks_conn *c, char *path, u32 len)
{
	const struct ks_config *cfg = c->w->cfg;
	int err;

	memcpy(path + len, cfg->index, cfg->index_len + 1);
	err = ks_open_stat(c, path + 1);
	if (!err && c->file.type == KS_FT_REG) {
		ks_respond_file(c, path, len + cfg->index_len);
		return;
	}
	if (!err) {
		ks_respond_error(c, 403);
		return;
	}
	if (err != -ENOENT) {
		ks_respond_error(c, ks_status_from_errno(err));
		return;
	}
	/* no index: is the directory itself there? */
	if (len == 1)
		memcpy(path, "/.", 3);
	else
		path[len - 1] = '\0';
	err = ks_open_stat(c, path + 1);
	if (!err && c->file.type == KS_FT_DIR)
		ks_respond_error(c, 403);
	else
		ks_respond_error(c, err ? ks_status_from_errno(err) : 404);
}

static void ks_serve_path(struct ks_conn *c)
{
	const struct ks_config *cfg = c->w->cfg;
	char *path = ks_pathbuf(c);
	int len, err;

	len = ks_uri_normalize(c->req.path.p, c->req.path.len, path,
			       KS_PATH_MAX - KS_INDEX_MAX - 1);
	if (len < 0) {
		ks_respond_error(c, ks_status_from_errno(len));
		return;
	}
	if (!cfg->serve_hidden && ks_path_is_hidden(path, len)) {
		ks_respond_error(c, 404);
		return;
	}
	if (path[len - 1] == '/') {
		ks_serve_dir(c, path, len);
		return;
	}
	err = ks_open_stat(c, path + 1);
	if (err) {
		ks_respond_error(c, ks_status_from_errno(err));
		return;
	}
	switch (c->file.type) {
	case KS_FT_REG:
		ks_respond_file(c, path, len);
		break;
	case KS_FT_DIR:
		ks_respond_redirect(c);
		break;
	default:
		ks_respond_error(c, 404);
		break;
	}
}

/* Keep-alive after this response? And which body bytes are buffered? */
static void ks_request_framing(struct ks_conn *c)
{
	const struct ks_request *req = &c->req;
	u64 body_here;

	c->keepalive = req->minor ? !req->conn_close : req->conn_keepalive &&
							 !req->conn_close;
	if (req->has_te || c->w->draining)
		c->keepalive = false;	/* unknown framing: drain and close */
	if (req->has_cl) {
		body_here = KS_MIN((u64)(c->rlen - req->head_len),
				   req->content_length);
		c->req.head_len += body_here;	/* consumed with the head */
		c->discard = req->content_length - body_here;
		/* we never send 100 Continue: the client may hold the body */
		if (c->discard && req->expect_continue)
			c->keepalive = false;
	}
}

/* The raw first line, for logging a request that did not parse. */
static struct ks_str ks_raw_line(const struct ks_conn *c)
{
	struct ks_str s = { c->buf, 0 };
	u32 i = 0;

	while (i < c->rlen && (c->buf[i] == '\r' || c->buf[i] == '\n'))
		i++;
	s.p = c->buf + i;
	while (i < c->rlen && i < KS_REQ_LINE_MAX && c->buf[i] != '\r' &&
	       c->buf[i] != '\n')
		i++;
	s.len = c->buf + i - s.p;
	return s;
}

static void ks_process(struct ks_conn *c, int parse_err)
{
	const struct ks_request *req = &c->req;

	c->body_sent = 0;
	c->foff = c->fend = 0;
	c->head_only = req->method == KS_M_HEAD;
	if (parse_err) {
		c->keepalive = false;
		if (!req->line.len)
			c->req.line = ks_raw_line(c);
		ks_respond_error(c, -parse_err);
		return;
	}
	ks_request_framing(c);
	switch (req->method) {
	case KS_M_GET:
	case KS_M_HEAD:
		break;
	case KS_M_OTHER:
		ks_respond_error(c, 501);
		return;
	default:
		ks_respond_error(c, 405);
		return;
	}
	if (req->form != KS_TF_ORIGIN && req->form != KS_TF_ABSOLUTE) {
		ks_respond_error(c, 400);
		return;
	}
	if (c->w->cfg->bench_body_len) {
		ks_respond_fixed(c);
		return;
	}
	ks_serve_path(c);
}

/* --- the steps --- */

static int ks_step_read_head(struct ks_conn *c)
{
	struct ks_worker *w = c->w;
	int n;

	if (!c->buf) {
		c->buf = w->ops->buf_get(w);
		if (!c->buf)
			return ks_abort(c);
		c->rlen = 0;
	}
	for (;;) {
		long r;

		n = ks_http_head_end(&c->scan, c->buf, c->rlen);
		if (n > 0 || n != -EAGAIN)
			break;
		r = w->ops->recv(c, c->buf + c->rlen, KS_RBUF_SIZE - c->rlen);
		if (r == -EAGAIN) {
			if (!c->rlen && c->state == KS_CS_IDLE)
				ks_buf_release(c);
			return KS_WANT_READ;
		}
		if (r <= 0)
			return ks_abort(c);
		if (c->state == KS_CS_IDLE) {
			c->state = KS_CS_READ_HEAD;
			ks_timer_arm(c, KS_TIMER_HEADER);
		}
		c->rlen += r;
	}
	c->state = KS_CS_READ_HEAD;
	if (n < 0) {
		memset(&c->req, 0, sizeof(c->req));
		ks_process(c, n);
	} else {
		ks_process(c, ks_http_parse(c->buf, n, &c->req));
	}
	return KS_STEP_AGAIN;
}

/* Start the next request on a kept-alive connection. */
static int ks_next_request(struct ks_conn *c)
{
	u32 used = c->req.head_len;

	if (c->rlen > used)
		memmove(c->buf, c->buf + used, c->rlen - used);
	c->rlen -= used;
	memset(&c->scan, 0, sizeof(c->scan));
	memset(&c->req, 0, sizeof(c->req));
	c->wlen = c->woff = 0;
	c->stay = false;
	if (c->discard) {
		c->state = KS_CS_DISCARD;
		ks_timer_arm(c, KS_TIMER_HEADER);
	} else if (c->rlen) {
		c->state = KS_CS_READ_HEAD;
		ks_timer_arm(c, KS_TIMER_HEADER);
	} else {
		c->state = KS_CS_IDLE;
		ks_timer_arm(c, KS_TIMER_IDLE);
	}
	return KS_STEP_AGAIN;
}

/* The response went out and the connection closes: linger if needed. */
static int ks_close_after_response(struct ks_conn *c)
{
	bool unread = c->rlen > c->req.head_len || c->discard ||
		      c->req.has_te || c->status >= 400;

	ks_request_done(c);
	if (!unread) {
		if (c->w->ops->finish)
			c->w->ops->finish(c);
		ks_conn_release(c);
		return KS_WANT_CLOSE;
	}
	ks_file_close(c);
	c->w->ops->shutdown(c);
	c->state = KS_CS_LINGER;
	c->lingered = 0;
	ks_timer_arm(c, KS_TIMER_LINGER);
	return KS_STEP_AGAIN;
}

/*
 * The socket took fewer bytes than offered: raise the allowance as far as
 * what the client took has earned it (KS_UNSENT_EARN). True when it did,
 * and the socket may take more at once.
 */
static bool ks_unsent_grow(struct ks_conn *c)
{
	long queued;
	u32 next;

	if (c->unsent_max >= KS_UNSENT_MAX)
		return false;
	queued = c->w->ops->unsent(c);
	if (queued < 0)	/* cannot tell: the allowance stays */
		return false;
	next = ks_unsent_earned(c->unsent_max,
				c->file_sent - KS_MIN(c->file_sent, (u64)queued));
	if (next == c->unsent_max)
		return false;
	c->unsent_max = next;
	c->w->ops->set_unsent_max(c, next);
	return true;
}

/*
 * The last response on a connection, with a body its allowance cannot hold:
 * ask the backend for a loan (KS_UNSENT_LOAN), once. Raised with it, the
 * socket takes the body in one or two sends, and the close follows at once.
 */
static void ks_unsent_borrow(struct ks_conn *c)
{
	u64 rest = c->fend - c->foff;
	u32 got;

	if (c->keepalive || c->borrowed || !c->w->ops->lend ||
	    rest <= c->unsent_max)
		return;
	c->borrowed = true;
	got = c->w->ops->lend(c, (u32)KS_MIN(rest, (u64)KS_UNSENT_LOAN));
	if (!got)
		return;
	c->unsent_max += KS_MIN(got, KS_UNSENT_LOAN);
	c->w->ops->set_unsent_max(c, c->unsent_max);
}

/*
 * A body larger than the client's window leaves as the client's ACKs open
 * it, a little at a time. Corked meanwhile, the socket sends only full
 * segments (as nginx's tcp_nopush does): with TCP_NODELAY each bit of
 * window opened would leave as a segment of its own (user mode sent 40 %
 * more segments per MiB than nginx on loopback, supervisor mode 15 %).
 * Taken off once the body is queued, which sends the tail. Smaller bodies
 * are not corked (two more calls for no segment saved), except on the last
 * response: its tail waits for the FIN (ks_conn_holds_tail), and sendfile()
 * has no MSG_MORE, so one call saves the FIN its own segment.
 */
static void ks_cork(struct ks_conn *c)
{
	if (!c->corked) {
		c->w->ops->cork(c, true);
		c->corked = true;
	}
}

static void ks_uncork(struct ks_conn *c)
{
	if (c->corked) {
		c->w->ops->cork(c, false);
		c->corked = false;
	}
}

static int ks_step_send(struct ks_conn *c, u32 *budget)
{
	const struct ks_io_ops *ops = c->w->ops;
	u64 want;
	long n;

	while (c->woff < c->wlen) {
		n = ops->send(c, ks_wbuf(c) + c->woff, c->wlen - c->woff,
			      c->foff < c->fend || c->more_follows ||
			      ks_conn_holds_tail(c));
		if (n == -EAGAIN) {
			ks_timer_arm(c, KS_TIMER_SEND);
			return KS_WANT_WRITE;
		}
		if (n <= 0)
			return ks_abort(c);
		c->woff += n;
	}
	if (c->fend - c->foff > KS_CORK_MIN ||
	    (c->foff < c->fend && ks_conn_holds_tail(c)))
		ks_cork(c);
	ks_unsent_borrow(c);
	while (c->foff < c->fend) {
		if (!*budget)
			return KS_WANT_YIELD;
		want = KS_MIN(c->fend - c->foff, (u64)*budget);
		c->sock_full = false;
		n = ops->send_file(c, &c->file, c->foff, want);
		if (n == -EAGAIN) {
			ks_timer_arm(c, KS_TIMER_SEND);
			return KS_WANT_WRITE;
		}
		if (n <= 0)	/* error, or the file shrank under us */
			return ks_abort(c);
		c->foff += n;
		c->body_sent += n;
		c->file_sent += n;
		*budget -= KS_MIN((u64)*budget, (u64)n);
		/* a full socket says -EAGAIN next, unless it may take more now */
		if ((u64)n < want && !ks_unsent_grow(c) && c->sock_full) {
			ks_timer_arm(c, KS_TIMER_SEND);
			return KS_WANT_WRITE;
		}
	}
	if (!ks_conn_holds_tail(c))
		ks_uncork(c);
	ks_file_close(c);
	if (!c->keepalive)
		return ks_close_after_response(c);
	ks_request_done(c);
	return ks_next_request(c);
}

static int ks_step_discard(struct ks_conn *c)
{
	for (;;) {
		long r = c->w->ops->recv(c, c->buf,
					 KS_MIN(c->discard, (u64)KS_RBUF_SIZE));

		if (r == -EAGAIN)
			return KS_WANT_READ;
		if (r <= 0)
			return ks_abort(c);
		c->discard -= r;
		if (!c->discard) {
			c->req.head_len = 0;
			c->rlen = 0;
			return ks_next_request(c);
		}
	}
}

static int ks_step_linger(struct ks_conn *c)
{
	for (;;) {
		long r = c->w->ops->recv(c, c->buf, KS_RBUF_SIZE);

		if (r == -EAGAIN)
			return KS_WANT_READ;
		if (r <= 0 || (c->lingered += r) > KS_LINGER_BYTES) {
			ks_conn_release(c);
			return KS_WANT_CLOSE;
		}
	}
}

enum ks_want ks_conn_run(struct ks_conn *c)
{
	u32 budget = KS_PASS_BYTES, requests = 0;
	int r = KS_STEP_AGAIN;

	while (r == KS_STEP_AGAIN) {
		switch (c->state) {
		case KS_CS_IDLE:
			/* the request boundary: the other mode may take it */
			if (c->w->hand_over && !c->stay && !c->rlen)
				return KS_WANT_HANDOVER;
			fallthrough;
		case KS_CS_READ_HEAD:
			if (requests++ == KS_PASS_REQUESTS)
				return KS_WANT_YIELD;
			r = ks_step_read_head(c);
			break;
		case KS_CS_SEND:
			r = ks_step_send(c, &budget);
			break;
		case KS_CS_DISCARD:
			r = ks_step_discard(c);
			break;
		case KS_CS_LINGER:
			r = ks_step_linger(c);
			break;
		default:
			return KS_WANT_CLOSE;
		}
	}
	return r;
}

enum ks_want ks_conn_timeout(struct ks_conn *c)
{
	c->w->stats.timeouts++;
	return ks_abort(c);
}
