// SPDX-License-Identifier: GPL-2.0
/*
 * access_log.c - nginx "combined" access log lines, buffered per thread.
 *
 * Each event-loop thread fills its own buffer and writes it with one
 * write(2) to an O_APPEND file, so lines from threads never interleave.
 * Records from the kernel's log ring will be formatted here too, so both
 * modes log byte-identically.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "server.h"

#define KS_LOG_BUF (256 * 1024)
#define KS_LOG_LINE_MAX (4 * KS_HEAD_MAX + 256)	/* every byte escaped */

struct ks_log {
	int fd;
	size_t len;
	time_t tl_sec;			/* second tl is for */
	char tl[32];			/* 22/Nov/2026:03:11:06 +0000 */
	char buf[KS_LOG_BUF];
};

struct ks_log *ks_log_new(int fd)
{
	struct ks_log *l = calloc(1, sizeof(*l));

	if (l) {
		l->fd = fd;
		l->tl_sec = -1;
	}
	return l;
}

void ks_log_flush(struct ks_log *l)
{
	size_t off = 0;

	while (l && off < l->len) {
		ssize_t n = write(l->fd, l->buf + off, l->len - off);

		if (n <= 0)
			break;	/* a full disk must not stop the server */
		off += n;
	}
	if (l)
		l->len = 0;
}

void ks_log_free(struct ks_log *l)
{
	ks_log_flush(l);
	free(l);
}

/* nginx's escaping of logged variables: '"', '\\' and non-printables */
static char *ks_log_escaped(char *p, struct ks_str s)
{
	u32 i;

	if (!s.len) {
		*p++ = '-';
		return p;
	}
	for (i = 0; i < s.len; i++) {
		unsigned char ch = s.p[i];

		if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f)
			p += sprintf(p, "\\x%02X", ch);
		else
			*p++ = ch;
	}
	return p;
}

static void ks_log_peer(char *out, size_t cap, const struct ks_peer *peer)
{
	if (!peer->family || !inet_ntop(peer->family == 6 ? AF_INET6 : AF_INET,
					peer->addr, out, cap))
		snprintf(out, cap, "-");
}

void ks_log_write(struct ks_log *l, const struct ks_log_rec *rec)
{
	char addr[INET6_ADDRSTRLEN], *p;

	if (!l)
		return;
	if (rec->time != l->tl_sec) {
		time_t t = rec->time;
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(l->tl, sizeof(l->tl), "%d/%b/%Y:%H:%M:%S %z", &tm);
		l->tl_sec = rec->time;
	}
	if (KS_LOG_BUF - l->len < KS_LOG_LINE_MAX)
		ks_log_flush(l);
	if (KS_LOG_BUF - l->len < KS_LOG_LINE_MAX)
		return;
	ks_log_peer(addr, sizeof(addr), &rec->peer);
	p = l->buf + l->len;
	p += sprintf(p, "%s - - [%s] \"", addr, l->tl);
	p = ks_log_escaped(p, rec->request);
	p += sprintf(p, "\" %u %llu \"", rec->status,
		     (unsigned long long)rec->body_bytes);
	p = ks_log_escaped(p, rec->referer);
	p += sprintf(p, "\" \"");
	p = ks_log_escaped(p, rec->user_agent);
	p += sprintf(p, "\"\n");
	l->len = p - l->buf;
}
