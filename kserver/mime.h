/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mime.h - extension to Content-Type lookup (freestanding, shared).
 *
 * The table is one flat, pointer-free blob so that it can be handed to the
 * kernel module unchanged: a header, entries sorted by lowercase extension,
 * then a string pool. It is built from text in the mime.types format
 * ("type ext ext ..." per line, '#' comments), either /etc/mime.types or the
 * built-in ks_mime_builtin text.
 */
#ifndef KS_MIME_H
#define KS_MIME_H

#include "ks_port.h"

#define KS_MIME_MAGIC 0x4b534d31u	/* "KSM1" */
#define KS_MIME_EXT_MAX 16		/* longer extensions are skipped */
#define KS_MIME_TYPE_MAX 127		/* longer types are skipped */
#define KS_MIME_BLOB_MAX (256u * 1024)

struct ks_mime_entry {
	u32 ext_off;
	u32 type_off;
	u16 ext_len;
	u16 type_len;
};

struct ks_mime_table {
	u32 magic;
	u32 n;			/* entries */
	u32 pool_off;		/* from the start of the table */
	u32 size;		/* whole blob, bytes */
	struct ks_mime_entry e[];
};

extern const char ks_mime_builtin[];
extern const char ks_mime_default[];	/* application/octet-stream */

/*
 * ks_mime_build - build a table from mime.types text into blob (cap bytes).
 * The first mapping of an extension wins. Returns 0, -ENOMEM when cap is too
 * small, or -EINVAL when the text has no mapping at all.
 */
int ks_mime_build(const char *text, u32 len, void *blob, u32 cap);

/* ks_mime_check - is this blob (size bytes, e.g. from user space) sound? */
int ks_mime_check(const struct ks_mime_table *t, u32 size);

/*
 * ks_mime_lookup - the Content-Type for a path, by its last extension,
 * case-insensitively; ks_mime_default when none matches.
 */
struct ks_str ks_mime_lookup(const struct ks_mime_table *t, const char *path,
			     u32 len);

#endif /* KS_MIME_H */
