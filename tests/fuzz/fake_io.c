// SPDX-License-Identifier: GPL-2.0
/*
 * fake_io.c - the fake struct ks_io_ops of fuzz_handler (see fake_io.h).
 *
 * Modelled on kserver/io_user.c: recv/send are non-blocking and return a
 * byte count or -errno; open_beneath takes a path relative to the docroot;
 * stat fills size, mtime and type; buffers are KS_CONN_BUF_SIZE bytes.
 * File contents are a function of the offset (fz_pattern()), so a body can
 * be checked byte by byte without ever being stored.
 */
#define _GNU_SOURCE
#include <string.h>
#include <strings.h>

#include "fake_io.h"
#include "response.h"

#define FZ_MTIME 1700000000		/* Tue, 14 Nov 2023 22:13:20 GMT */
#define FZ_BIG ((5ull << 20) + 12345)	/* several MiB, never stored */

u8 fz_byte(struct fz_ctl *c)
{
	u64 x;

	if (c->i < c->n)
		return c->p[c->i++];
	x = c->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	c->rng = x;
	return (u8)(x >> 32);
}

/* The worker's calls act for the connection being run. */
static inline struct fz_state *fz_of(struct ks_worker *w)
{
	struct fz_world *wd = w->backend;

	FZ_CHECK(wd->cur, "a worker call outside any connection's run");
	return wd->cur;
}

static inline struct fz_state *fz_conn(struct ks_conn *c)
{
	struct fz_state *st = c->priv;

	FZ_CHECK(st && st->conn == c && st->world->cur == st,
		 "a call for a connection that is not being run");
	return st;
}

static inline u8 fz_pattern(u64 off)
{
	return (u8)(off ^ (off >> 8) ^ (off >> 16) ^ 0x5a);
}

/* --- the docroot --- */

enum {
	FZ_SHRINK = 1,		/* stat says size; the bytes end at half */
	FZ_STAT_EIO = 2,	/* stat fails */
};

struct fz_entry {
	const char *path;
	enum ks_file_type type;
	u64 size;
	s64 mtime;
	int open_err;
	u32 flags;
};

#define REG KS_FT_REG
#define DIR KS_FT_DIR

static const struct fz_entry fz_root[] = {
	{ ".", DIR, 4096, FZ_MTIME, 0, 0 },
	{ "index.html", REG, 612, FZ_MTIME, 0, 0 },
	{ "empty.txt", REG, 0, FZ_MTIME, 0, 0 },
	{ "one.txt", REG, 1, FZ_MTIME, 0, 0 },
	{ "dir", DIR, 4096, FZ_MTIME, 0, 0 },
	{ "dir/index.html", REG, 100, FZ_MTIME + 1, 0, 0 },
	{ "dir/sub", DIR, 4096, FZ_MTIME, 0, 0 },
	{ "dir/sub/style.css", REG, 9000, FZ_MTIME, 0, 0 },
	{ "dir/.secret", REG, 10, FZ_MTIME, 0, 0 },
	{ "noindex", DIR, 4096, FZ_MTIME, 0, 0 },
	{ "noindex/app.js", REG, KS_COPY_MAX, FZ_MTIME, 0, 0 },
	{ "idxdir", DIR, 4096, FZ_MTIME, 0, 0 },
	{ "idxdir/index.html", DIR, 4096, FZ_MTIME, 0, 0 },
	{ "fifodir", DIR, 4096, FZ_MTIME, 0, 0 },
	{ "fifodir/index.html", KS_FT_OTHER, 0, FZ_MTIME, 0, 0 },
	{ "empty", DIR, 4096, FZ_MTIME, 0, 0 },
	{ "empty/index.html", REG, 0, FZ_MTIME, 0, 0 },
	{ "big.bin", REG, FZ_BIG, FZ_MTIME, 0, 0 },
	{ "fifo", KS_FT_OTHER, 0, FZ_MTIME, 0, 0 },
	{ ".hidden", REG, 10, FZ_MTIME, 0, 0 },
	{ ".git", DIR, 4096, FZ_MTIME, 0, 0 },
	{ ".git/config", REG, 50, FZ_MTIME, 0, 0 },
	{ ".git/index.html", REG, 20, FZ_MTIME, 0, 0 },
	{ "shrink.bin", REG, 20000, FZ_MTIME, 0, FZ_SHRINK },
	{ "shrink.txt", REG, 100, FZ_MTIME, 0, FZ_SHRINK },
	{ "denied.txt", REG, 5, FZ_MTIME, -EACCES, 0 },
	{ "loop", REG, 5, FZ_MTIME, -ELOOP, 0 },
	{ "eio.txt", REG, 5, FZ_MTIME, 0, FZ_STAT_EIO },
	{ "a b.txt", REG, 3, FZ_MTIME, 0, 0 },
	{ "caf\xc3\xa9.html", REG, 4, FZ_MTIME, 0, 0 },
	{ "old.txt", REG, 10, 0, 0, 0 },
	{ "neg.txt", REG, 10, -86400, 0, 0 },
	{ "y9999.txt", REG, 10, 253402300799ll, 0, 0 },
};

#undef REG
#undef DIR

/* what open fails with when the control bytes say so */
static const int fz_open_errs[] = {
	-EACCES, -EPERM, -ELOOP, -EXDEV, -ENXIO, -EMFILE, -ENFILE, -ENOMEM,
	-EAGAIN, -EIO, -ENAMETOOLONG, -ENOTDIR, -EISDIR, -EFBIG, -EINVAL,
	-ENOENT,
};

#define FZ_OPEN_MAGIC 0x6f70656eu

struct fz_open {
	u32 magic;
	const struct fz_entry *e;
};

static const struct fz_entry *fz_find(const char *path, size_t len)
{
	u32 i;

	for (i = 0; i < KS_ARRAY_SIZE(fz_root); i++)
		if (strlen(fz_root[i].path) == len &&
		    !memcmp(fz_root[i].path, path, len))
			return &fz_root[i];
	return NULL;
}

/* the path handed to open_beneath: relative, clean, confined */
static void fz_check_path(struct fz_state *st, const char *path)
{
	size_t len = strlen(path), i, seg = 0;
	bool hidden_ok = st->conn->w->cfg->serve_hidden;

	FZ_CHECK(len > 0, "empty path");
	FZ_CHECK(len < KS_PATH_MAX, "path of %zu bytes", len);
	FZ_CHECK(path[0] != '/', "absolute path '%s'", path);
	if (!strcmp(path, "."))
		return;
	for (i = 0; i <= len; i++) {
		size_t l;

		if (i < len && path[i] != '/')
			continue;
		l = i - seg;
		FZ_CHECK(l > 0, "empty segment in '%s'", path);
		FZ_CHECK(!(l == 2 && !memcmp(path + seg, "..", 2)),
			 "'..' in '%s'", path);
		FZ_CHECK(!(l == 1 && path[seg] == '.'), "'.' in '%s'", path);
		FZ_CHECK(hidden_ok || path[seg] != '.',
			 "hidden '%s' without --serve-hidden", path);
		seg = i + 1;
	}
}

/*
 * The file opened is the one asked for: the request's path decoded by
 * fz_ref_normalize() ("/a/b"), or for a directory ("/a/") its index, or the
 * directory itself ("a", "." for the root). A path the reference refuses
 * (an escaped NUL, a climb above the root) is never opened.
 */
static void fz_check_asked(struct fz_state *st, const char *path)
{
	const struct ks_request *req = &st->conn->req;
	const struct ks_config *cfg = st->conn->w->cfg;
	char *want = malloc(req->path.len + 3);
	size_t plen = strlen(path);
	int n;

	if (!want)
		abort();
	FZ_CHECK(req->path.p, "open without a request path");
	n = fz_ref_normalize(req->path.p, req->path.len, want);
	FZ_CHECK(n > 0, "opened '%s' for a path the reference refuses (%.*s)",
		 path, (int)req->path.len, req->path.p);
	if (want[n - 1] != '/') {
		FZ_CHECK(!strcmp(path, want + 1), "opened '%s' for '%s'", path,
			 want);
	} else if (n == 1) {
		FZ_CHECK(!strcmp(path, cfg->index) || !strcmp(path, "."),
			 "opened '%s' for '/'", path);
	} else {
		bool index = plen == n - 1 + cfg->index_len &&
			     !memcmp(path, want + 1, n - 1) &&
			     !strcmp(path + n - 1, cfg->index);
		bool dir = plen == (size_t)n - 2 && !memcmp(path, want + 1, n - 2);

		FZ_CHECK(index || dir, "opened '%s' for '%s'", path, want);
	}
	free(want);
}

static int fz_open_beneath(struct ks_worker *w, const char *path,
			   struct ks_file *f)
{
	struct fz_state *st = fz_of(w);
	const struct fz_entry *e;
	struct fz_open *o;
	size_t len, i, j;
	u8 b;

	fz_check_path(st, path);
	fz_check_asked(st, path);
	FZ_CHECK(st->open_now == 0, "open with %ld files open", st->open_now);
	b = fz_byte(&st->world->ctl);
	if (b >= 256 - KS_ARRAY_SIZE(fz_open_errs))
		return fz_open_errs[b - (256 - KS_ARRAY_SIZE(fz_open_errs))];
	len = strlen(path);
	e = fz_find(path, len);
	if (!e) {
		/* a regular file on the way is ENOTDIR, as openat2 says */
		for (i = 1; i < len; i++) {
			const struct fz_entry *p;

			if (path[i] != '/')
				continue;
			p = fz_find(path, i);
			if (p && p->type != KS_FT_DIR)
				return -ENOTDIR;
		}
		/* Linux: PATH_MAX 4096, NAME_MAX 255 */
		for (i = 0; i < len; i = j + 1) {
			j = i;
			while (j < len && path[j] != '/')
				j++;
			if (j - i > 255)
				return -ENAMETOOLONG;
		}
		return len > 4095 ? -ENAMETOOLONG : -ENOENT;
	}
	if (e->open_err)
		return e->open_err;
	o = malloc(sizeof(*o));
	if (!o)
		abort();
	o->magic = FZ_OPEN_MAGIC;
	o->e = e;
	/* io_user.c fills nothing before stat: neither do we */
	memset(f, 0xa5, sizeof(*f));
	f->h.ptr = o;
	st->opens++;
	st->open_now++;
	return 0;
}

static const struct fz_entry *fz_entry_of(struct fz_state *st,
					  struct ks_file *f)
{
	struct fz_open *o = f->h.ptr;

	FZ_CHECK(st->open_now == 1, "file op with %ld open", st->open_now);
	FZ_CHECK(o && o->magic == FZ_OPEN_MAGIC, "not an open file");
	return o->e;
}

static int fz_stat(struct ks_worker *w, struct ks_file *f)
{
	struct fz_state *st = fz_of(w);
	const struct fz_entry *e = fz_entry_of(st, f);

	if (e->flags & FZ_STAT_EIO || fz_byte(&st->world->ctl) == 0xff)
		return -EIO;
	f->size = e->size;
	f->mtime = e->mtime;
	f->type = e->type;
	return 0;
}

static void fz_close(struct ks_worker *w, struct ks_file *f)
{
	struct fz_state *st = fz_of(w);
	struct fz_open *o = f->h.ptr;

	fz_entry_of(st, f);
	o->magic = 0;
	free(o);
	st->closes++;
	st->open_now--;
}

/* bytes of e there really are (a shrinking file lost its second half) */
static u64 fz_avail(const struct fz_entry *e)
{
	return e->flags & FZ_SHRINK ? e->size / 2 : e->size;
}

static long fz_read(struct ks_worker *w, struct ks_file *f, u64 off,
		    void *buf, size_t len)
{
	struct fz_state *st = fz_of(w);
	const struct fz_entry *e = fz_entry_of(st, f);
	u64 n, i;

	FZ_CHECK(e->type == KS_FT_REG, "read of a non-file");
	FZ_CHECK(off <= e->size && len <= e->size - off,
		 "read [%llu, +%zu) of %llu", (unsigned long long)off, len,
		 (unsigned long long)e->size);
	if (fz_byte(&st->world->ctl) >= 0xf8)
		return -EIO;
	n = off >= fz_avail(e) ? 0 : KS_MIN(len, fz_avail(e) - off);
	for (i = 0; i < n; i++)
		((u8 *)buf)[i] = fz_pattern(off + i);
	return (long)n;
}

/* --- the response stream --- */

static bool fz_is_tchar(u8 c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool fz_u64(const char *p, size_t len, u64 *v)
{
	size_t i;

	*v = 0;
	if (!len || len > 19)
		return false;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*v = *v * 10 + (p[i] - '0');
	}
	return true;
}

static void fz_resp_done(struct fz_state *st)
{
	struct fz_resp *r = &st->resp;

	r->state = r->close ? FZ_R_DONE : FZ_R_HEAD;
	r->hlen = 0;
}

/* A whole head is in r->head: check it, and learn what body follows. */
static void fz_head_parse(struct fz_state *st)
{
	struct fz_resp *r = &st->resp;
	const char *p = r->head, *end = r->head + r->hlen - 2, *eol;
	bool has_cl = false, has_conn = false, has_date = false, has_etag = false;
	bool has_crange = false;
	u64 a = 0, b = 0, total = 0;
	struct ks_str reason;

	FZ_CHECK(r->hlen >= 13 && !memcmp(p, "HTTP/1.1 ", 9) &&
		 p[9] >= '1' && p[9] <= '5' && p[10] >= '0' && p[10] <= '9' &&
		 p[11] >= '0' && p[11] <= '9' && p[12] == ' ',
		 "bad status line '%.40s'", p);
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	reason = ks_status_reason(r->status);
	FZ_CHECK(reason.len, "unknown status %u", r->status);
	eol = memmem(p, end - p, "\r\n", 2);
	FZ_CHECK(eol && (size_t)(eol - p - 13) == reason.len &&
		 !memcmp(p + 13, reason.p, reason.len), "reason of %u",
		 r->status);
	r->close = false;
	r->cl = 0;
	for (p = eol + 2; p < end; p = eol + 2) {
		const char *name = p, *colon, *v;
		size_t vlen;

		eol = memmem(p, end - p, "\r\n", 2);
		FZ_CHECK(eol, "header line without CRLF");
		for (colon = p; colon < eol && fz_is_tchar(*colon); colon++)
			;
		FZ_CHECK(colon > p && colon + 1 < eol && colon[0] == ':' &&
			 colon[1] == ' ', "bad header line '%.*s'",
			 (int)(eol - p), p);
		v = colon + 2;
		vlen = eol - v;
		for (const char *q = v; q < eol; q++)
			FZ_CHECK((u8)*q >= 0x20 && *q != 0x7f,
				 "control byte %02x in a header value", (u8)*q);
#define IS(n) ((size_t)(colon - name) == sizeof(n) - 1 && \
	       !strncasecmp(name, n, sizeof(n) - 1))
		if (IS("Content-Length")) {
			FZ_CHECK(!has_cl, "two Content-Length");
			has_cl = true;
			FZ_CHECK(fz_u64(v, vlen, &r->cl), "Content-Length value");
		} else if (IS("Connection")) {
			FZ_CHECK(!has_conn, "two Connection");
			has_conn = true;
			if (vlen == 5 && !memcmp(v, "close", 5))
				r->close = true;
			else
				FZ_CHECK(vlen == 10 && !memcmp(v, "keep-alive", 10),
					 "Connection: %.*s", (int)vlen, v);
		} else if (IS("Date")) {
			s64 t;

			has_date = true;
			FZ_CHECK(!ks_http_date_parse(v, vlen, &t),
				 "Date: %.*s", (int)vlen, v);
		} else if (IS("ETag")) {
			has_etag = true;
		} else if (IS("Content-Range")) {
			char *dash, *slash;
			char tmp[80];

			has_crange = true;
			FZ_CHECK(vlen < sizeof(tmp) && vlen > 6 &&
				 !memcmp(v, "bytes ", 6), "Content-Range");
			memcpy(tmp, v, vlen);
			tmp[vlen] = '\0';
			slash = strchr(tmp, '/');
			FZ_CHECK(slash, "Content-Range without /");
			FZ_CHECK(fz_u64(slash + 1, strlen(slash + 1), &total),
				 "Content-Range total");
			if (r->status == 206) {
				dash = strchr(tmp, '-');
				FZ_CHECK(dash && dash < slash &&
					 fz_u64(tmp + 6, dash - tmp - 6, &a) &&
					 fz_u64(dash + 1, slash - dash - 1, &b),
					 "Content-Range '%s'", tmp);
			} else {
				FZ_CHECK(slash == tmp + 7 && tmp[6] == '*',
					 "Content-Range '%s'", tmp);
			}
		}
#undef IS
	}
	FZ_CHECK(has_conn && has_date, "no Connection or Date");
	FZ_CHECK(has_cl || r->status == 304, "%u without Content-Length",
		 r->status);
	if (r->status == 400 || r->status == 413 || r->status == 414 ||
	    r->status == 431 || r->status == 500 || r->status == 505)
		FZ_CHECK(r->close, "%u keeps the connection", r->status);
	r->file_body = false;
	r->first = 0;
	if (r->status == 206) {
		FZ_CHECK(has_crange && has_etag && a <= b && b < total &&
			 b - a + 1 == r->cl, "206: %llu-%llu/%llu, length %llu",
			 (unsigned long long)a, (unsigned long long)b,
			 (unsigned long long)total, (unsigned long long)r->cl);
		r->file_body = true;
		r->first = a;
	} else if (r->status == 200 && has_etag) {
		r->file_body = true;
	} else if (r->status == 416) {
		FZ_CHECK(has_crange, "416 without Content-Range");
	}
	/* an error page or a redirect: the page of its status, whole */
	r->elen = 0;
	if (!r->file_body && r->status != 200 && r->status != 304) {
		r->elen = ks_error_body(r->ebody, sizeof(r->ebody), r->status);
		FZ_CHECK(r->elen && r->cl == r->elen,
			 "%u: Content-Length %llu, its page has %u",
			 r->status, (unsigned long long)r->cl, r->elen);
	}
	if (r->head_only || r->status == 304)
		r->cl = 0;
	r->body = 0;
	r->responses++;
	if (getenv("FZ_DEBUG"))	/* see what a seed does */
		fprintf(stderr, "fz: %u%s%s length %llu\n", r->status,
			r->head_only ? " (HEAD)" : "", r->close ? " close" : "",
			(unsigned long long)r->cl);
	if (r->cl)
		r->state = FZ_R_BODY;
	else
		fz_resp_done(st);
}

static void fz_resp_bytes(struct fz_state *st, const u8 *p, size_t n)
{
	struct fz_resp *r = &st->resp;

	while (n) {
		switch (r->state) {
		case FZ_R_DONE:
			FZ_CHECK(0, "%zu bytes after a Connection: close response",
				 n);
			break;
		case FZ_R_HEAD:
			if (!r->hlen) {
				r->head_only = st->conn->head_only;
				st->run_heads++;
			}
			FZ_CHECK(r->hlen < sizeof(r->head), "head too long");
			r->head[r->hlen++] = *p++;
			n--;
			if (r->hlen >= 4 &&
			    !memcmp(r->head + r->hlen - 4, "\r\n\r\n", 4))
				fz_head_parse(st);
			break;
		case FZ_R_BODY: {
			u64 take = KS_MIN((u64)n, r->cl - r->body), i;

			if (r->file_body)
				for (i = 0; i < take; i++)
					FZ_CHECK(p[i] == fz_pattern(r->first + r->body + i),
						 "body byte %llu of a %u",
						 (unsigned long long)(r->body + i),
						 r->status);
			else if (r->elen)
				FZ_CHECK(!memcmp(p, r->ebody + r->body, take),
					 "the page of a %u differs", r->status);
			r->body += take;
			p += take;
			n -= take;
			if (r->body == r->cl)
				fz_resp_done(st);
			break;
		}
		}
	}
}

void fz_resp_end(struct fz_state *st)
{
	struct fz_resp *r = &st->resp;

	if (st->excuse)
		return;
	FZ_CHECK(r->state == FZ_R_DONE || (r->state == FZ_R_HEAD && !r->hlen),
		 "connection ended inside a response (state %d, head %u, "
		 "body %llu of %llu)", r->state, r->hlen,
		 (unsigned long long)r->body, (unsigned long long)r->cl);
}

/* --- the socket --- */

static long fz_recv(struct ks_conn *c, void *buf, size_t len)
{
	struct fz_state *st = fz_conn(c);
	size_t n;

	FZ_CHECK(len > 0 && len <= KS_CONN_BUF_SIZE, "recv of %zu", len);
	FZ_CHECK(st->buf && (char *)buf >= (char *)st->buf &&
		 (char *)buf + len <= (char *)st->buf + KS_RBUF_SIZE,
		 "recv outside the request buffer");
	if (!st->arrived) {
		st->last_io = FZ_IO_RECV_AGAIN;
		if (st->in_off < st->in_len || st->end == FZ_END_SILENT)
			return -EAGAIN;
		st->last_io = FZ_IO_OTHER;
		return st->end == FZ_END_EOF ? 0 : -ECONNRESET;
	}
	n = KS_MIN(len, st->arrived);
	memcpy(buf, st->in + st->in_off, n);
	st->in_off += n;
	st->arrived -= n;
	st->last_io = FZ_IO_OTHER;
	return (long)n;
}

static long fz_send(struct ks_conn *c, const void *buf, size_t len, bool more)
{
	struct fz_state *st = fz_conn(c);
	u8 b = fz_byte(&st->world->ctl);
	size_t n;

	FZ_CHECK(!st->shut, "send after shutdown");
	FZ_CHECK(len > 0, "send of 0 bytes");
	FZ_CHECK(!st->corked, "a head sent corked");
	st->last_io = FZ_IO_OTHER;
	if (b < 16) {
		st->last_io = FZ_IO_SEND_AGAIN;
		return -EAGAIN;
	}
	if (b == 16 || b == 17) {
		st->excuse = true;
		return b == 16 ? -EPIPE : -ECONNRESET;
	}
	n = b < 80 ? KS_MIN(len, (size_t)(b - 17) * 7) : len;
	fz_resp_bytes(st, buf, n);
	/*
	 * @more: file bytes follow, or the next (pipelined, buffered whole)
	 * response does, or the FIN (the last response: its tail waits for
	 * it); MSG_MORE on the last bytes otherwise would hold them.
	 */
	if (n == len && !more)
		FZ_CHECK(st->resp.state != FZ_R_BODY,
			 "the response goes on after a send without more");
	if (n == len && more && st->resp.state != FZ_R_BODY) {
		FZ_CHECK(c->more_follows || !c->keepalive,
			 "more on a response's last bytes");
		st->held = !c->more_follows;
	}
	if (n == len && !more && st->resp.state != FZ_R_BODY)
		FZ_CHECK(c->keepalive, "the last response's tail not held");
	return (long)n;
}

static long fz_send_file(struct ks_conn *c, struct ks_file *f, u64 off,
			 size_t len)
{
	struct fz_state *st = fz_conn(c);
	const struct fz_entry *e = fz_entry_of(st, f);
	struct fz_resp *r = &st->resp;
	u8 b = fz_byte(&st->world->ctl);
	u64 n;

	FZ_CHECK(!st->shut, "send_file after shutdown");
	FZ_CHECK(len > 0, "send_file of 0 bytes");
	FZ_CHECK(e->type == KS_FT_REG, "send_file of a non-file");
	FZ_CHECK(r->state == FZ_R_BODY && r->file_body,
		 "send_file outside a file body (state %d)", r->state);
	FZ_CHECK(off == r->first + r->body, "send_file at %llu, want %llu",
		 (unsigned long long)off,
		 (unsigned long long)(r->first + r->body));
	FZ_CHECK(len <= r->cl - r->body, "send_file of %zu, %llu left", len,
		 (unsigned long long)(r->cl - r->body));
	st->last_io = FZ_IO_OTHER;
	if (b < 12) {
		st->last_io = FZ_IO_SEND_AGAIN;
		return -EAGAIN;
	}
	if (b == 12 || b == 13) {
		st->excuse = true;
		return b == 12 ? -EPIPE : -ECONNRESET;
	}
	if (off >= fz_avail(e)) {
		st->excuse = true;	/* the file shrank */
		return 0;
	}
	n = b < 64 ? KS_MIN((u64)len, (u64)(b + 1) * 1024) : len;
	/* the socket took fewer: said full, as the module says it, or not */
	if (n < len && n <= fz_avail(e) - off && (b & 1)) {
		c->sock_full = true;
		st->last_io = FZ_IO_SEND_FULL;
	}
	n = KS_MIN(n, fz_avail(e) - off);
	st->full_unasked = n < len;
	r->body += n;
	if (r->body == r->cl) {
		fz_resp_done(st);
		/* a last response's body is corked and left so: the FIN
		 * pushes it */
		st->held = !c->keepalive;
	}
	st->run_file_bytes += n;
	st->conn_file_bytes += n;
	return (long)n;
}

/* Only around a file body's bytes, on and off in turn. */
static void fz_cork(struct ks_conn *c, bool on)
{
	struct fz_state *st = fz_conn(c);

	FZ_CHECK(on != st->corked, "cork(%d) twice", on);
	if (on)
		FZ_CHECK(st->resp.state == FZ_R_BODY && st->resp.file_body,
			 "corked outside a file body (state %d)",
			 st->resp.state);
	st->corked = on;
}

/*
 * Only ever raised: by a loan, by exactly that much, and otherwise exactly
 * as far as what the client took (the last unsent() answer) has earned.
 */
static void fz_set_unsent_max(struct ks_conn *c, u32 bytes)
{
	struct fz_state *st = fz_conn(c);
	u32 prev = fz_allowance(st);

	if (st->loan) {
		FZ_CHECK(bytes == prev + st->loan,
			 "unsent allowance %u after %u and a loan of %u",
			 bytes, prev, st->loan);
		st->loan = 0;
		st->unsent_max = st->loan_base = bytes;
		return;
	}
	FZ_CHECK(bytes > prev && bytes <= KS_UNSENT_MAX,
		 "unsent allowance %u after %u", bytes, prev);
	FZ_CHECK(bytes == ks_unsent_earned(prev, st->taken),
		 "unsent allowance %u when the client took %llu of %llu",
		 bytes, (unsigned long long)st->taken,
		 (unsigned long long)st->conn_file_bytes);
	st->unsent_max = bytes;
}

/*
 * Asked once a connection, for its last response's file body, when that is
 * more than the allowance holds, for at most KS_UNSENT_LOAN and what is left
 * of it; gives all, part or nothing, as the control bytes say.
 */
static u32 fz_lend(struct ks_conn *c, u32 want)
{
	struct fz_state *st = fz_conn(c);
	const struct fz_resp *r = &st->resp;
	u32 cur = fz_allowance(st);
	u8 b = fz_byte(&st->world->ctl);

	FZ_CHECK(!st->lent, "a second loan for one connection");
	FZ_CHECK(r->state == FZ_R_BODY && r->file_body && r->close,
		 "a loan outside the file body of a close response "
		 "(state %d%s)", r->state, r->close ? "" : ", keep-alive");
	FZ_CHECK(want > 0 && want <= KS_UNSENT_LOAN &&
			 want <= r->cl - r->body && r->cl - r->body > cur,
		 "a loan of %u for %llu body bytes left, allowance %u", want,
		 (unsigned long long)(r->cl - r->body), cur);
	st->lent = true;
	st->loan = b < 64 ? 0 : b < 128 ? want / 2 + 1 : want;
	return st->loan;
}

/* Some of the file bytes sent still queued (any share), or no answer. */
static long fz_unsent(struct ks_conn *c)
{
	struct fz_state *st = fz_conn(c);
	u8 b = fz_byte(&st->world->ctl);
	u64 queued;

	st->full_unasked = false;
	if (b == 255)
		return -EOPNOTSUPP;
	queued = st->conn_file_bytes * b / 254;
	st->taken = st->conn_file_bytes - queued;
	if (st->taken > st->taken_max)
		st->taken_max = st->taken;
	return (long)queued;	/* a fuzz input's files are small */
}

static void fz_shutdown(struct ks_conn *c)
{
	fz_conn(c)->shut = true;
}

/* Only after a whole "Connection: close" response; no byte may follow. */
static void fz_finish(struct ks_conn *c)
{
	struct fz_state *st = fz_conn(c);

	FZ_CHECK(st->resp.state == FZ_R_DONE && !st->shut,
		 "finish with the response in state %d", st->resp.state);
	st->finished = true;
	st->shut = true;
}

static void fz_now(struct ks_worker *w, u64 *mono_ms, s64 *wall)
{
	struct fz_world *wd = w->backend;

	*mono_ms = wd->mono_ms;
	*wall = wd->wall;
}

static void *fz_buf_get(struct ks_worker *w)
{
	struct fz_state *st = fz_of(w);

	FZ_CHECK(!st->buf_now, "a second buffer for one connection");
	if (fz_byte(&st->world->ctl) == 0xfe)
		return NULL;
	st->buf = malloc(KS_CONN_BUF_SIZE);
	if (!st->buf)
		abort();
	memset(st->buf, 0xa5, 4096);	/* ASan fills no more either */
	st->buf_gets++;
	st->buf_now++;
	return st->buf;
}

static void fz_buf_put(struct ks_worker *w, void *buf)
{
	struct fz_state *st = fz_of(w);

	FZ_CHECK(st->buf_now == 1 && buf == st->buf, "buf_put of %p", buf);
	free(buf);
	st->buf = NULL;
	st->buf_puts++;
	st->buf_now--;
}

static void fz_str_in_buf(struct fz_state *st, struct ks_str s)
{
	u32 i, sum = 0;

	if (!s.len)
		return;
	FZ_CHECK(st->buf && s.p >= (char *)st->buf &&
		 s.p + s.len <= (char *)st->buf + KS_RBUF_SIZE,
		 "log string outside the request buffer");
	for (i = 0; i < s.len; i++)
		sum += (u8)s.p[i];
	(void)sum;
}

static void fz_log(struct ks_conn *c, const struct ks_log_rec *rec)
{
	struct fz_state *st = fz_conn(c);

	FZ_CHECK(ks_status_reason(rec->status).len, "logged status %u",
		 rec->status);
	FZ_CHECK(rec->request.len <= KS_REQ_LINE_MAX, "logged line of %u",
		 rec->request.len);
	fz_str_in_buf(st, rec->request);
	fz_str_in_buf(st, rec->referer);
	fz_str_in_buf(st, rec->user_agent);
	st->logs++;
}

const struct ks_io_ops fz_io_ops = {
	.recv = fz_recv,
	.send = fz_send,
	.read = fz_read,
	.send_file = fz_send_file,
	.open_beneath = fz_open_beneath,
	.stat = fz_stat,
	.close = fz_close,
	.shutdown = fz_shutdown,
	.finish = fz_finish,
	.cork = fz_cork,
	.set_unsent_max = fz_set_unsent_max,
	.lend = fz_lend,
	.unsent = fz_unsent,
	.now = fz_now,
	.buf_get = fz_buf_get,
	.buf_put = fz_buf_put,
	.log = fz_log,
};
