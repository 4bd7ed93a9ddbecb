/* SPDX-License-Identifier: GPL-2.0 */
/*
 * http_parse.h - HTTP/1.x request-head parser (freestanding, shared).
 *
 * Like picohttpparser it neither copies nor allocates: every string in
 * struct ks_request points into the caller's buffer. The caller first asks
 * ks_http_head_end() whether a whole head is buffered (an O(n) scan that
 * resumes where it stopped, so a byte-at-a-time client costs O(n) in total),
 * then parses it once with ks_http_parse().
 */
#ifndef KS_HTTP_PARSE_H
#define KS_HTTP_PARSE_H

#include "ks_port.h"

#define KS_REQ_LINE_MAX 8192	/* request line without its CRLF; more: 414 */
#define KS_HEADER_MAX 16384	/* header fields after the request line; more: 431 */
#define KS_HEADER_FIELDS_MAX 100	/* more: 431 */
#define KS_BODY_DISCARD_MAX (1u << 20)	/* Content-Length above this: 413 */
/* A whole head always fits: leading blank lines are capped by the scan too. */
#define KS_HEAD_MAX (KS_REQ_LINE_MAX + 2 + KS_HEADER_MAX)

enum ks_method {
	KS_M_OTHER = 0,	/* a well-formed token we do not implement: 501 */
	KS_M_GET,
	KS_M_HEAD,
	KS_M_POST,
	KS_M_PUT,
	KS_M_DELETE,
	KS_M_PATCH,
	KS_M_OPTIONS,
};

enum ks_target_form {
	KS_TF_ORIGIN = 0,	/* /path?query */
	KS_TF_ABSOLUTE,		/* http://authority/path?query */
	KS_TF_ASTERISK,		/* * */
	KS_TF_AUTHORITY,	/* host:port (CONNECT) */
};

struct ks_request {
	enum ks_method method;
	enum ks_target_form form;
	u8 minor;		/* HTTP/1.<minor>: 0 or 1 */
	bool has_host;
	bool has_cl;
	bool has_te;
	bool te_chunked;	/* the last transfer coding is chunked */
	bool te_unknown;	/* a transfer coding other than chunked */
	u8 te_chunks;		/* how often chunked is named, up to 2 */
	bool conn_close;	/* Connection: close */
	bool conn_keepalive;	/* Connection: keep-alive */
	bool expect_continue;	/* Expect: 100-continue */
	u16 nfields;
	u32 head_len;		/* bytes of the head, final empty line included */
	u64 content_length;
	struct ks_str line;	/* the request line, for the access log */
	struct ks_str method_str;
	struct ks_str target;	/* raw request-target */
	struct ks_str path;	/* raw (still %-encoded) path: starts with '/' */
	struct ks_str query;	/* after '?', without it; len 0 when absent */
	struct ks_str host;
	struct ks_str if_none_match;
	struct ks_str if_modified_since;
	struct ks_str if_match;
	struct ks_str if_unmodified_since;
	struct ks_str range;
	struct ks_str if_range;
	struct ks_str referer;
	struct ks_str user_agent;
};

/* Scan state for ks_http_head_end(); zero it before the first call. */
struct ks_head_scan {
	u32 pos;		/* next byte to look at */
	u32 line_start;		/* start of the current line */
	u32 first_line_end;	/* end of the request line, 0 while unknown */
	u32 skip;		/* leading empty lines seen before the request line */
};

/*
 * ks_http_head_end - is a whole request head in buf[0..len)?
 * Returns the head length (> 0) when complete, -EAGAIN when more bytes are
 * needed and may still fit, or an HTTP status (414 or 431, negated) when the
 * head can no longer fit the limits whatever follows.
 */
int ks_http_head_end(struct ks_head_scan *s, const char *buf, u32 len);

/*
 * ks_http_parse - parse a complete head of head_len bytes.
 * Returns 0 or a negated HTTP status: -400 (malformed), -505 (version),
 * -431 (too many fields), -413 (body too large), -501 (a transfer coding
 * other than chunked). On -413 and on a
 * request-line-valid -400 the fields parsed so far stay usable (line, minor)
 * so the error can be logged.
 */
int ks_http_parse(const char *buf, u32 head_len, struct ks_request *req);

/* case-insensitive compare of s against a lowercase literal */
bool ks_str_ieq(struct ks_str s, const char *lower, u32 lower_len);

#endif /* KS_HTTP_PARSE_H */
