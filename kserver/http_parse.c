// SPDX-License-Identifier: GPL-2.0
/*
 * http_parse.c - HTTP/1.x request-head parser (RFC 9112), freestanding.
 *
 * Strict where leniency breeds smuggling (no obs-fold, no space before the
 * colon, no CTLs, one Content-Length value), lenient where RFC 9112 allows it
 * (bare LF line ends, leading empty lines).
 */
#include "http_parse.h"

/* RFC 9110 5.6.2 tchar, as a 128-bit map */
static const u32 ks_tchar_map[4] = {
	0x00000000,
	/* ! # $ % & ' * + - . 0-9 */
	0x03ff6cfa,
	/* A-Z ^ _ */
	0xc7fffffe,
	/* ` a-z | ~ */
	0x57ffffff,
};

static inline bool ks_is_tchar(u8 c)
{
	return c < 128 && (ks_tchar_map[c >> 5] >> (c & 31)) & 1;
}

/*
 * request-target bytes: visible ASCII and obs-text, never CTL or SP, and
 * never '#': a fragment is not part of a request-target (RFC 9112 3.2), and
 * a server that reads one as a path byte and a cache that cuts it off see
 * two different resources.
 */
static inline bool ks_is_target_char(u8 c)
{
	return c > 0x20 && c != 0x7f && c != '#';
}

static inline bool ks_is_digit(u8 c)
{
	return c >= '0' && c <= '9';
}

static inline bool ks_is_hex(u8 c)
{
	return ks_is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* RFC 3986 reg-name bytes besides pct-encoded: unreserved and sub-delims */
static inline bool ks_is_host_char(u8 c)
{
	return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || ks_is_digit(c) ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '!' ||
	       c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' ||
	       c == '*' || c == '+' || c == ',' || c == ';' || c == '=';
}

/*
 * uri-host [ ":" port ] (RFC 9112 3.2, RFC 3986 3.2.2): a reg-name or an
 * IP-literal in brackets, then digits. Empty is valid (a URI without an
 * authority); userinfo ('@'), '/', spaces and CTLs are not.
 */
static bool ks_host_is_valid(struct ks_str h)
{
	const char *p = h.p, *end = h.p + h.len;

	if (p < end && *p == '[') {
		while (++p < end && *p != ']')
			if (!ks_is_host_char(*p) && *p != ':')
				return false;
		if (p >= end)
			return false;
		p++;
	} else {
		for (; p < end && *p != ':'; p++) {
			if (ks_is_host_char(*p))
				continue;
			if (*p != '%' || end - p < 3 || !ks_is_hex(p[1]) ||
			    !ks_is_hex(p[2]))
				return false;
			p += 2;
		}
	}
	if (p < end && *p++ != ':')
		return false;
	for (; p < end; p++)
		if (!ks_is_digit(*p))
			return false;
	return true;
}

/* field-value bytes: VCHAR, obs-text, SP, HTAB */
static inline bool ks_is_value_char(u8 c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static inline u8 ks_lower(u8 c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

bool ks_str_ieq(struct ks_str s, const char *lower, u32 lower_len)
{
	u32 i;

	if (s.len != lower_len)
		return false;
	for (i = 0; i < lower_len; i++)
		if (ks_lower((u8)s.p[i]) != (u8)lower[i])
			return false;
	return true;
}

int ks_http_head_end(struct ks_head_scan *s, const char *buf, u32 len)
{
	u32 pos;

	for (pos = s->pos; pos < len; pos++) {
		u32 l;

		if (buf[pos] != '\n')
			continue;
		l = pos - s->line_start;
		if (l && buf[pos - 1] == '\r')
			l--;
		if (!s->first_line_end) {
			/* blank lines and the request line share its budget */
			if (s->line_start + l > KS_REQ_LINE_MAX)
				return -414;
			if (l == 0)
				s->skip++;
			else
				s->first_line_end = pos + 1;
		} else if (l == 0) {
			if (pos + 1 - s->first_line_end > KS_HEADER_MAX)
				return -431;
			s->pos = pos + 1;
			return pos + 1;
		}
		s->line_start = pos + 1;
	}
	s->pos = len;
	if (!s->first_line_end) {
		/* one byte past the limit may still be the CR of a CRLF */
		if (len > KS_REQ_LINE_MAX + 1 ||
		    (len == KS_REQ_LINE_MAX + 1 && buf[len - 1] != '\r'))
			return -414;
	} else if (len - s->first_line_end >= KS_HEADER_MAX) {
		return -431;
	}
	return -EAGAIN;
}

/* Consume a line end (CRLF or LF) at *pp. Returns false on a lone CR. */
static bool ks_eat_eol(const char **pp, const char *end)
{
	const char *p = *pp;

	if (p < end && *p == '\r')
		p++;
	else if (p < end && *p == '\n')
		goto lf;
	else
		return false;
	if (p >= end || *p != '\n')
		return false;
lf:
	*pp = p + 1;
	return true;
}

struct ks_method_name {
	const char *name;
	u8 len;
	enum ks_method m;
};

static const struct ks_method_name ks_methods[] = {
	{ "GET", 3, KS_M_GET },		{ "HEAD", 4, KS_M_HEAD },
	{ "POST", 4, KS_M_POST },	{ "PUT", 3, KS_M_PUT },
	{ "DELETE", 6, KS_M_DELETE },	{ "PATCH", 5, KS_M_PATCH },
	{ "OPTIONS", 7, KS_M_OPTIONS },
};

static enum ks_method ks_method_lookup(const char *p, u32 len)
{
	u32 i;

	for (i = 0; i < KS_ARRAY_SIZE(ks_methods); i++)
		if (ks_methods[i].len == len && !memcmp(ks_methods[i].name, p, len))
			return ks_methods[i].m;
	return KS_M_OTHER;
}

static int ks_parse_version(const char *p, const char *end, u8 *minor)
{
	if (end - p < 8 || memcmp(p, "HTTP/", 5) || p[6] != '.' ||
	    p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return -400;
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return -505;
	*minor = p[7] - '0';
	return 0;
}

static int ks_parse_request_line(const char **pp, const char *end,
				 struct ks_request *r)
{
	const char *p = *pp, *start = p;
	int err;

	while (p < end && ks_is_tchar(*p))
		p++;
	if (p == start || p >= end || *p != ' ')
		return -400;
	r->method_str.p = start;
	r->method_str.len = p - start;
	r->method = ks_method_lookup(start, p - start);

	r->target.p = ++p;
	while (p < end && ks_is_target_char(*p))
		p++;
	r->target.len = p - r->target.p;
	if (!r->target.len || p >= end || *p != ' ')
		return -400;
	p++;
	err = ks_parse_version(p, end, &r->minor);
	if (err)
		return err;
	p += 8;
	r->line.p = start;
	r->line.len = p - start;
	if (!ks_eat_eol(&p, end))
		return -400;
	*pp = p;
	return 0;
}

/*
 * Split the target into path and query by its form. An absolute-form
 * authority must be a valid, non-empty host (RFC 9110 4.2.1: an "http" URI
 * with an empty host is invalid; 4.2.4: userinfo is an error): -400.
 */
static int ks_parse_target(struct ks_request *r)
{
	const char *p = r->target.p, *end = p + r->target.len, *q;

	if (*p == '/') {
		r->form = KS_TF_ORIGIN;
	} else if (r->target.len == 1 && *p == '*') {
		r->form = KS_TF_ASTERISK;
		return 0;
	} else {
		struct ks_str scheme = { p, 0 }, authority;

		while (p < end && *p != ':')
			p++;
		scheme.len = p - scheme.p;
		if (end - p < 3 || p[1] != '/' || p[2] != '/' ||
		    !(ks_str_ieq(scheme, "http", 4) ||
		      ks_str_ieq(scheme, "https", 5))) {
			r->form = KS_TF_AUTHORITY;
			return 0;
		}
		r->form = KS_TF_ABSOLUTE;
		p += 3;
		authority.p = p;
		while (p < end && *p != '/' && *p != '?')
			p++;
		authority.len = p - authority.p;
		if (!authority.len || !ks_host_is_valid(authority))
			return -400;
		if (p == end || *p == '?') {
			r->path.p = "/";
			r->path.len = 1;
			if (p < end) {
				r->query.p = p + 1;
				r->query.len = end - p - 1;
			}
			return 0;
		}
	}
	for (q = p; q < end && *q != '?'; q++)
		;
	r->path.p = p;
	r->path.len = q - p;
	if (q < end) {
		r->query.p = q + 1;
		r->query.len = end - q - 1;
	}
	return 0;
}

static void ks_parse_connection(struct ks_request *r, struct ks_str v)
{
	const char *p = v.p, *end = v.p + v.len;

	while (p < end) {
		struct ks_str tok;

		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		tok.p = p;
		while (p < end && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		tok.len = p - tok.p;
		if (ks_str_ieq(tok, "close", 5))
			r->conn_close = true;
		else if (ks_str_ieq(tok, "keep-alive", 10))
			r->conn_keepalive = true;
	}
}

/*
 * Transfer-Encoding (RFC 9112 6.1, 6.3): the codings of all its lines, in
 * order. Only whether chunked is the last one, how often it appears and
 * whether another coding is named are kept; ks_http_parse() judges.
 */
static void ks_parse_transfer_encoding(struct ks_request *r, struct ks_str v)
{
	const char *p = v.p, *end = v.p + v.len;

	r->has_te = true;
	while (p < end) {
		struct ks_str name;

		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p >= end)
			break;
		name.p = p;
		while (p < end && *p != ',' && *p != ';')
			p++;
		name.len = p - name.p;
		while (name.len && (name.p[name.len - 1] == ' ' ||
				    name.p[name.len - 1] == '\t'))
			name.len--;
		while (p < end && *p != ',')	/* parameters */
			p++;
		r->te_chunked = ks_str_ieq(name, "chunked", 7);
		if (r->te_chunked && r->te_chunks < 2)
			r->te_chunks++;
		else
			r->te_unknown = true;
	}
}

static int ks_parse_content_length(struct ks_request *r, struct ks_str v)
{
	u64 n = 0;
	u32 i;

	if (!v.len)
		return -400;
	for (i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -400;
		/* saturate: anything this big is refused as too large */
		if (n < (1ull << 60))
			n = n * 10 + (v.p[i] - '0');
	}
	if (r->has_cl && r->content_length != n)
		return -400;
	r->has_cl = true;
	r->content_length = n;
	return 0;
}

enum ks_hdr_kind {
	KS_H_STR,	/* store the first value in the ks_str at .off */
	KS_H_HOST,
	KS_H_CONNECTION,
	KS_H_CONTENT_LENGTH,
	KS_H_TRANSFER_ENCODING,
	KS_H_EXPECT,
};

struct ks_hdr_def {
	const char *name;	/* lowercase */
	u8 len;
	u8 kind;
	u16 off;		/* offsetof(struct ks_request, <ks_str>) */
};

#define KS_HDR(n, k, f) { n, sizeof(n) - 1, k, offsetof(struct ks_request, f) }

static const struct ks_hdr_def ks_hdr_defs[] = {
	KS_HDR("host", KS_H_HOST, host),
	KS_HDR("connection", KS_H_CONNECTION, host),
	KS_HDR("content-length", KS_H_CONTENT_LENGTH, host),
	KS_HDR("transfer-encoding", KS_H_TRANSFER_ENCODING, host),
	KS_HDR("expect", KS_H_EXPECT, host),
	KS_HDR("if-none-match", KS_H_STR, if_none_match),
	KS_HDR("if-modified-since", KS_H_STR, if_modified_since),
	KS_HDR("if-match", KS_H_STR, if_match),
	KS_HDR("if-unmodified-since", KS_H_STR, if_unmodified_since),
	KS_HDR("range", KS_H_STR, range),
	KS_HDR("if-range", KS_H_STR, if_range),
	KS_HDR("referer", KS_H_STR, referer),
	KS_HDR("user-agent", KS_H_STR, user_agent),
};

static int ks_apply_header(struct ks_request *r, struct ks_str name,
			   struct ks_str v)
{
	const struct ks_hdr_def *d = NULL;
	struct ks_str *dst;
	u32 i;

	for (i = 0; i < KS_ARRAY_SIZE(ks_hdr_defs); i++) {
		if (ks_str_ieq(name, ks_hdr_defs[i].name, ks_hdr_defs[i].len)) {
			d = &ks_hdr_defs[i];
			break;
		}
	}
	if (!d)
		return 0;
	switch (d->kind) {
	case KS_H_HOST:
		if (r->has_host || !ks_host_is_valid(v))
			return -400;
		r->has_host = true;
		r->host = v;
		return 0;
	case KS_H_CONNECTION:
		ks_parse_connection(r, v);
		return 0;
	case KS_H_CONTENT_LENGTH:
		return ks_parse_content_length(r, v);
	case KS_H_TRANSFER_ENCODING:
		ks_parse_transfer_encoding(r, v);
		return 0;
	case KS_H_EXPECT:
		if (ks_str_ieq(v, "100-continue", 12))
			r->expect_continue = true;
		return 0;
	}
	dst = (struct ks_str *)((char *)r + d->off);
	if (!dst->p)
		*dst = v;
	return 0;
}

/* One header field line at *pp; its line end is consumed too. */
static int ks_parse_field(const char **pp, const char *end,
			  struct ks_request *r)
{
	const char *p = *pp;
	struct ks_str name, v;

	name.p = p;
	while (p < end && ks_is_tchar(*p))
		p++;
	name.len = p - name.p;
	if (!name.len || p >= end || *p != ':')
		return -400;
	p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	v.p = p;
	while (p < end && ks_is_value_char(*p))
		p++;
	v.len = p - v.p;
	while (v.len && (v.p[v.len - 1] == ' ' || v.p[v.len - 1] == '\t'))
		v.len--;
	if (!ks_eat_eol(&p, end))
		return -400;
	*pp = p;
	if (++r->nfields > KS_HEADER_FIELDS_MAX)
		return -431;
	return ks_apply_header(r, name, v);
}

int ks_http_parse(const char *buf, u32 head_len, struct ks_request *r)
{
	const char *p = buf, *end = buf + head_len;
	int err;

	memset(r, 0, sizeof(*r));
	r->head_len = head_len;
	while (p < end && (*p == '\r' || *p == '\n'))
		if (!ks_eat_eol(&p, end))
			return -400;
	err = ks_parse_request_line(&p, end, r);
	if (err)
		return err;
	for (;;) {
		if (p >= end)
			return -400;
		if (*p == '\r' || *p == '\n') {
			if (!ks_eat_eol(&p, end))
				return -400;
			break;
		}
		err = ks_parse_field(&p, end, r);
		if (err)
			return err;
	}
	if (p != end)
		return -400;
	if (r->minor == 1 && !r->has_host)
		return -400;
	if (r->has_te) {
		/*
		 * The body's length is known only when chunked is the last
		 * coding, applied once, in HTTP/1.1 (RFC 9112 6.1, 6.3); an
		 * HTTP/1.0 TE or one beside a Content-Length smells of
		 * smuggling. Then a coding we do not know: 501, as nginx.
		 */
		if (r->has_cl || !r->minor || !r->te_chunked ||
		    r->te_chunks != 1)
			return -400;
		if (r->te_unknown)
			return -501;
	}
	err = ks_parse_target(r);
	if (err)
		return err;
	if (r->has_cl && r->content_length > KS_BODY_DISCARD_MAX)
		return -413;
	return 0;
}
