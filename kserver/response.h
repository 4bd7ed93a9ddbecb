/* SPDX-License-Identifier: GPL-2.0 */
/* response.h - status lines, error pages and response heads (shared). */
#ifndef KS_RESPONSE_H
#define KS_RESPONSE_H

#include "ks_port.h"

/* What a response head says; fields left zero are not sent. */
struct ks_resp_head {
	u16 status;
	bool keepalive;
	bool has_length;
	bool has_file;		/* Last-Modified, ETag (+ Accept-Ranges on 200) */
	bool allow;		/* Allow: GET, HEAD */
	bool has_range;		/* Content-Range: bytes first-last/total */
	bool unsatisfiable;	/* Content-Range: bytes * /total */
	const char *date;	/* KS_HTTP_DATE_LEN bytes */
	struct ks_str content_type;
	u64 content_length;
	const char *last_modified;	/* KS_HTTP_DATE_LEN bytes */
	struct ks_str etag;
	u64 first, last, total;
	struct ks_str location;	/* sent as location "/" ["?" query] */
	struct ks_str query;
};

/* The reason phrase of a status we send ("" for an unknown one). */
struct ks_str ks_status_reason(u16 status);

/* The single place where an errno becomes an HTTP status. */
u16 ks_status_from_errno(int err);

/* Build a response head into out; returns its length, 0 if cap is short. */
u32 ks_resp_head_build(char *out, u32 cap, const struct ks_resp_head *h);

/* The HTML body of an error response; returns its length (0: no room). */
u32 ks_error_body(char *out, u32 cap, u16 status);

#endif /* KS_RESPONSE_H */
