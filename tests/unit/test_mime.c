// SPDX-License-Identifier: GPL-2.0
/*
 * test_mime.c - tests for kserver/mime.c: building the blob, checking a
 * blob handed over from elsewhere, and lookups.
 *
 * Blobs live in malloc()ed buffers of exactly cap bytes (ASan's redzones
 * catch an overrun by one byte); texts and paths end at a guard page.
 */
#define _GNU_SOURCE	/* memmem */
#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "ks_test.h"
#include "http_parse.h"	/* struct ks_str */
#include "mime.h"

#define SMALL "text/html html htm\n# comment\nimage/png png\n"

#define X16 "xxxxxxxxxxxxxxxx"
#define TYPE127 "t/" X16 X16 X16 X16 X16 X16 X16 "xxxxxxxxxxxxx"
#define TYPE128 "t/" X16 X16 X16 X16 X16 X16 X16 "xxxxxxxxxxxxxx"

/* build text into a fresh exact-size blob; the caller frees it */
static struct ks_mime_table *build(const char *text, int *ret)
{
	u32 len = (u32)strlen(text);
	char *g = guarded_copy(text, len);
	void *blob = malloc(KS_MIME_BLOB_MAX);

	ck_assert(blob != NULL);
	*ret = ks_mime_build(g, len, blob, KS_MIME_BLOB_MAX);
	guarded_free(g, len);
	return blob;
}

static bool is_default(struct ks_str s)
{
	return s.len == strlen(ks_mime_default) &&
	       memcmp(s.p, ks_mime_default, s.len) == 0;
}

static struct ks_str lookup(const struct ks_mime_table *t, const char *path,
			    u32 len)
{
	char *g = guarded_copy(path, len);
	struct ks_str s = ks_mime_lookup(t, g, len);

	guarded_free(g, len);
	return s;
}

struct lookup_case {
	const char *desc;
	const char *text;	/* NULL: SMALL */
	const char *path;
	u32 len;		/* 0: strlen(path) */
	const char *want;	/* NULL: ks_mime_default */
};

static const struct lookup_case lookup_cases[] = {
	{ "html", NULL, "x.html", 0, "text/html" },
	{ "upper HTM", NULL, "X.HTM", 0, "text/html" },
	{ "mixed case", NULL, "x.HtMl", 0, "text/html" },
	{ "last extension", NULL, "a.b.png", 0, "image/png" },
	{ "no extension", NULL, "noext", 0, NULL },
	{ "dot file", NULL, ".png", 0, "image/png" },
	{ "dot in a directory only", NULL, "dir.d/file", 0, NULL },
	{ "full path", NULL, "/var/www/a.b/c.html", 0, "text/html" },
	{ "empty extension", NULL, "file.", 0, NULL },
	{ "unknown extension", NULL, "x.txt", 0, NULL },
	{ "prefix of an extension", NULL, "x.pn", 0, NULL },
	{ "extension longer", NULL, "x.pngx", 0, NULL },
	{ "html longer", NULL, "x.htmlx", 0, NULL },
	{ "len respected", NULL, "x.html", 5, "text/html" },
	{ "len cuts the extension", NULL, "x.png", 4, NULL },
	{ "trailing slash", NULL, "dir.png/", 0, NULL },
	{ "empty path", NULL, "", 0, NULL },
	{ "comment not parsed", NULL, "x.comment", 0, NULL },
	{ "hash not a type", NULL, "x.#", 0, NULL },
	{ "first mapping wins", "a/one x\nb/two x y\n", "f.x", 0, "a/one" },
	{ "later ext of the loser", "a/one x\nb/two x y\n", "f.y", 0, "b/two" },
	{ "first wins across case", "a/one X\nb/two x\n", "f.x", 0, "a/one" },
	{ "first of many duplicates wins", "q/q q\na/0 x\nz/z z\na/1 x\n"
	  "a/2 X\nb/b b\na/3 x\na/4 x y\na/5 x\nc/c c\na/6 x\na/7 x\n", "f.x",
	  0, "a/0" },
	{ "tabs", "text/css\t\tcss\n", "s.css", 0, "text/css" },
	{ "spaces and tabs", "  text/css \t css  less \n", "s.less", 0,
	  "text/css" },
	{ "no final newline", "text/plain txt", "r.txt", 0, "text/plain" },
	{ "upper extension in text", "text/html HTML\n", "x.html", 0,
	  "text/html" },
	{ "type without extension", "a/none\nb/b bb\n", "x.bb", 0, "b/b" },
	{ "extension of 16", "a/b abcdefghijklmnop\nc/d q\n",
	  "x.abcdefghijklmnop", 0, "a/b" },
	{ "extension of 17 skipped", "a/b abcdefghijklmnopq\nc/d q\n",
	  "x.abcdefghijklmnopq", 0, NULL },
	{ "line with long ext kept", "a/b abcdefghijklmnopq r\nc/d q\n", "x.r",
	  0, "a/b" },
	{ "type of 127", TYPE127 " ll\n", "x.ll", 0, TYPE127 },
	{ "type of 128 skipped", TYPE128 " ll\nc/d q\n", "x.ll", 0, NULL },
	{ "many entries, first", "a/a a\nb/b b\nc/c c\nd/d d\ne/e e\n", "x.a",
	  0, "a/a" },
	{ "many entries, last", "a/a a\nb/b b\nc/c c\nd/d d\ne/e e\n", "x.e",
	  0, "e/e" },
	{ "many entries, unsorted text", "z/z zz\nm/m mm\na/a aa\n", "x.mm", 0,
	  "m/m" },
	{ "many entries, missing", "a/a a\nb/b b\nd/d d\n", "x.c", 0, NULL },
};

START_TEST(test_lookup)
{
	const struct lookup_case *c = &lookup_cases[_i];
	u32 len = c->len ? c->len : (u32)strlen(c->path);
	struct ks_mime_table *t;
	struct ks_str s;
	int ret;

	KS_ROW(c->desc);
	t = build(c->text ? c->text : SMALL, &ret);
	ck_assert_msg(ret == 0, "%s: build %d", c->desc, ret);
	ck_assert_msg(ks_mime_check(t, t->size) == 0, "%s: check", c->desc);
	s = lookup(t, c->path, len);
	if (!c->want) {
		ck_assert_msg(is_default(s), "%s: got '%.*s', want default",
			      c->desc, (int)s.len, s.p);
	} else {
		ck_assert_msg(s.len == strlen(c->want) &&
			      memcmp(s.p, c->want, s.len) == 0,
			      "%s: got '%.*s', want '%s'", c->desc, (int)s.len,
			      s.p, c->want);
		ck_assert_msg(s.p >= (char *)t && s.p + s.len <= (char *)t + t->size,
			      "%s: type outside the blob", c->desc);
	}
	free(t);
}
END_TEST

struct build_case {
	const char *desc;
	const char *text;
	int ret;
};

static const struct build_case build_cases[] = {
	{ "small", SMALL, 0 },
	{ "empty", "", -EINVAL },
	{ "only comments", "# a/b c\n#\n", -EINVAL },
	{ "types without extensions", "a/b\nc/d\n", -EINVAL },
	{ "only blank lines", "\n\n  \n\t\n", -EINVAL },
	{ "only skipped extensions", "a/b abcdefghijklmnopq\n", -EINVAL },
};

START_TEST(test_build)
{
	const struct build_case *c = &build_cases[_i];
	struct ks_mime_table *t;
	int ret;

	KS_ROW(c->desc);
	t = build(c->text, &ret);
	ck_assert_msg(ret == c->ret, "%s: build %d, want %d", c->desc, ret,
		      c->ret);
	if (ret == 0) {
		ck_assert_msg(t->magic == KS_MIME_MAGIC, "%s: magic", c->desc);
		ck_assert_msg(ks_mime_check(t, t->size) == 0, "%s", c->desc);
	}
	free(t);
}
END_TEST

/* every cap below the needed size gives -ENOMEM and writes nothing past it */
START_TEST(test_build_nomem)
{
	const char *text = SMALL "text/css css\napplication/json json map\n";
	u32 len = (u32)strlen(text), cap;
	char *g = guarded_copy(text, len);
	u32 need = 0;

	for (cap = 0; cap <= 4096; cap++) {
		void *blob = malloc(cap ? cap : 1);
		int ret;

		ck_assert(blob != NULL);
		ret = ks_mime_build(g, len, blob, cap);
		if (!need) {
			ck_assert_msg(ret == 0 || ret == -ENOMEM,
				      "cap %u: %d", cap, ret);
			if (ret == 0)
				need = cap;
		} else {
			ck_assert_msg(ret == 0, "cap %u (need %u): %d", cap,
				      need, ret);
		}
		if (ret == 0) {
			const struct ks_mime_table *t = blob;

			ck_assert_msg(t->size <= cap, "cap %u: size %u", cap,
				      t->size);
			ck_assert_int_eq(ks_mime_check(t, t->size), 0);
			ck_assert(!is_default(lookup(t, "a.map", 5)));
		}
		free(blob);
	}
	ck_assert_msg(need > sizeof(struct ks_mime_table), "need %u", need);
	guarded_free(g, len);
}
END_TEST

/*
 * ks_mime_check: each row corrupts a sound blob in one way and gives the
 * size to pass. The blob is copied into an exact-size buffer first.
 */
struct corrupt_case {
	const char *desc;
	u32 (*corrupt)(struct ks_mime_table *t, u32 size);
	int want_ok;
};

static u32 c_none(struct ks_mime_table *t, u32 size)
{
	(void)t;
	return size;
}

static u32 c_magic(struct ks_mime_table *t, u32 size)
{
	t->magic ^= 1;
	return size;
}

static u32 c_n_huge(struct ks_mime_table *t, u32 size)
{
	t->n = 0xffffffffu;
	return size;
}

static u32 c_n_overflow(struct ks_mime_table *t, u32 size)
{
	/* n * sizeof(entry) wraps to a small number in 32 bits */
	t->n = 0x80000000u / (sizeof(struct ks_mime_entry) / 4) + 1;
	return size;
}

static u32 c_n_plus_one(struct ks_mime_table *t, u32 size)
{
	t->n++;
	return size;
}

static u32 c_pool_past_size(struct ks_mime_table *t, u32 size)
{
	t->pool_off = size + 1;
	return size;
}

static u32 c_pool_huge(struct ks_mime_table *t, u32 size)
{
	t->pool_off = 0xfffffff0u;
	return size;
}

static u32 c_pool_in_entries(struct ks_mime_table *t, u32 size)
{
	t->pool_off = sizeof(*t);
	return size;
}

static u32 c_size_field_bigger(struct ks_mime_table *t, u32 size)
{
	t->size = size + 1;
	return size;
}

static u32 c_size_field_huge(struct ks_mime_table *t, u32 size)
{
	t->size = 0xffffffffu;
	return size;
}

static u32 c_size_arg_short(struct ks_mime_table *t, u32 size)
{
	(void)t;
	return size - 1;
}

static u32 c_size_arg_tiny(struct ks_mime_table *t, u32 size)
{
	(void)t;
	(void)size;
	return sizeof(*t) - 1;
}

static u32 c_size_arg_zero(struct ks_mime_table *t, u32 size)
{
	(void)t;
	(void)size;
	return 0;
}

static u32 c_ext_off(struct ks_mime_table *t, u32 size)
{
	t->e[0].ext_off = 0xfffffff0u;
	return size;
}

static u32 c_ext_off_size(struct ks_mime_table *t, u32 size)
{
	t->e[t->n - 1].ext_off = size;
	return size;
}

static u32 c_ext_len(struct ks_mime_table *t, u32 size)
{
	t->e[0].ext_len = 0xffff;
	return size;
}

static u32 c_type_off(struct ks_mime_table *t, u32 size)
{
	t->e[t->n - 1].type_off = size;
	return size;
}

static u32 c_type_off_wrap(struct ks_mime_table *t, u32 size)
{
	t->e[0].type_off = 0xffffffffu;
	t->e[0].type_len = 2;
	return size;
}

static u32 c_type_len(struct ks_mime_table *t, u32 size)
{
	t->e[0].type_len = 0xffff;
	return size;
}

static u32 c_unsorted(struct ks_mime_table *t, u32 size)
{
	struct ks_mime_entry e = t->e[0];

	t->e[0] = t->e[1];
	t->e[1] = e;
	return size;
}

static u32 c_unsorted_last(struct ks_mime_table *t, u32 size)
{
	struct ks_mime_entry e = t->e[t->n - 1];

	t->e[t->n - 1] = t->e[0];
	t->e[0] = e;
	return size;
}

static const struct corrupt_case corrupt_cases[] = {
	{ "sound blob", c_none, 1 },
	{ "bad magic", c_magic, 0 },
	{ "n huge", c_n_huge, 0 },
	{ "n wraps 32-bit multiplication", c_n_overflow, 0 },
	{ "n one too many", c_n_plus_one, 0 },
	{ "pool past the end", c_pool_past_size, 0 },
	{ "pool offset huge", c_pool_huge, 0 },
	{ "pool over the entries", c_pool_in_entries, 0 },
	{ "size field bigger than the blob", c_size_field_bigger, 0 },
	{ "size field huge", c_size_field_huge, 0 },
	{ "size argument one short", c_size_arg_short, 0 },
	{ "size argument below the header", c_size_arg_tiny, 0 },
	{ "size argument zero", c_size_arg_zero, 0 },
	{ "ext offset huge", c_ext_off, 0 },
	{ "ext offset at the end", c_ext_off_size, 0 },
	{ "ext length huge", c_ext_len, 0 },
	{ "type offset at the end", c_type_off, 0 },
	{ "type offset wraps", c_type_off_wrap, 0 },
	{ "type length huge", c_type_len, 0 },
	{ "first two entries swapped", c_unsorted, 0 },
	{ "first and last swapped", c_unsorted_last, 0 },
};

#define CHECK_TEXT "text/html html htm\nimage/png png\ntext/css css\n" \
	"application/javascript js mjs\nimage/svg+xml svg svgz\n"

START_TEST(test_check)
{
	const struct corrupt_case *c = &corrupt_cases[_i];
	struct ks_mime_table *t, *copy;
	u32 size, arg;
	int ret;

	KS_ROW(c->desc);
	t = build(CHECK_TEXT, &ret);
	ck_assert_int_eq(ret, 0);
	size = t->size;
	ck_assert(size >= sizeof(*t) && size <= KS_MIME_BLOB_MAX);
	ck_assert_msg(t->n >= 8, "want a table of 8 entries, got %u", t->n);
	copy = malloc(size);
	memcpy(copy, t, size);
	arg = c->corrupt(copy, size);
	ret = ks_mime_check(copy, arg);
	if (c->want_ok)
		ck_assert_msg(ret == 0, "%s: %d", c->desc, ret);
	else
		ck_assert_msg(ret < 0, "%s: accepted (%d)", c->desc, ret);
	free(copy);
	free(t);
}
END_TEST

/* random damage: a blob that passes the check must be safe to look up in */
START_TEST(test_check_fuzz)
{
	static const char *paths[] = { "a.html", "b.png", "c.css", "d.js",
				       "e.svgz", "f.zzz", "g", ".mjs" };
	u64 rng = 0x0123456789abcdefull;
	struct ks_mime_table *t;
	u32 size, iter, accepted = 0;
	int ret;

	t = build(CHECK_TEXT, &ret);
	ck_assert_int_eq(ret, 0);
	size = t->size;
	for (iter = 0; iter < 5000; iter++) {
		struct ks_mime_table *copy = malloc(size);
		u32 k, i;

		memcpy(copy, t, size);
		for (k = 0; k < 1 + xorshift64(&rng) % 3; k++) {
			u32 pos = (u32)(xorshift64(&rng) % size);

			/* mostly the header and entries, where it matters */
			if (xorshift64(&rng) & 1)
				pos %= (u32)(sizeof(*t) +
					     t->n * sizeof(t->e[0]));
			((u8 *)copy)[pos] = (u8)xorshift64(&rng);
		}
		if (ks_mime_check(copy, size) == 0) {
			accepted++;
			for (i = 0; i < KS_ARRAY_SIZE(paths); i++) {
				struct ks_str s;

				s = lookup(copy, paths[i],
					   (u32)strlen(paths[i]));
				ck_assert_msg(is_default(s) ||
					      (s.p >= (char *)copy &&
					       s.p + s.len <= (char *)copy + size),
					      "iter %u: type outside", iter);
			}
		}
		free(copy);
	}
	ck_assert_msg(accepted < 5000, "no damage was ever noticed");
	free(t);
}
END_TEST

/*
 * Independent reading of a mime.types text: for every extension, the type
 * of its first mapping must be what the table gives.
 */
static void check_all_mappings(const struct ks_mime_table *t, const char *text,
			       u32 len)
{
	static char seen[8192][KS_MIME_EXT_MAX + 1];
	u32 nseen = 0, i = 0, checked = 0;

	while (i < len) {
		u32 eol = i, p, tb, te;

		while (eol < len && text[eol] != '\n')
			eol++;
		p = i;
		while (p < eol && isspace((unsigned char)text[p]))
			p++;
		if (p == eol || text[p] == '#')
			goto next;
		tb = p;
		while (p < eol && !isspace((unsigned char)text[p]))
			p++;
		te = p;
		for (;;) {
			char ext[KS_MIME_EXT_MAX + 1], path[KS_MIME_EXT_MAX + 3];
			u32 eb, el, k;
			struct ks_str s;

			while (p < eol && isspace((unsigned char)text[p]))
				p++;
			if (p == eol)
				break;
			eb = p;
			while (p < eol && !isspace((unsigned char)text[p]))
				p++;
			el = p - eb;
			/* "tar.gz" can never be a last extension */
			if (el > KS_MIME_EXT_MAX || te - tb > KS_MIME_TYPE_MAX ||
			    memchr(text + eb, '.', el))
				continue;
			for (k = 0; k < el; k++)
				ext[k] = (char)tolower((unsigned char)text[eb + k]);
			ext[el] = '\0';
			for (k = 0; k < nseen; k++)
				if (strcmp(seen[k], ext) == 0)
					break;
			if (k < nseen)
				continue;
			ck_assert(nseen < KS_ARRAY_SIZE(seen));
			strcpy(seen[nseen++], ext);
			snprintf(path, sizeof(path), "f.%s", ext);
			s = lookup(t, path, (u32)strlen(path));
			ck_assert_msg(s.len == te - tb &&
				      memcmp(s.p, text + tb, s.len) == 0,
				      "ext '%s': got '%.*s', want '%.*s'", ext,
				      (int)s.len, s.p, (int)(te - tb), text + tb);
			checked++;
		}
next:
		i = eol + 1;
	}
	ck_assert_msg(checked > 0, "no mapping checked");
}

struct builtin_case {
	const char *desc;
	const char *path;
	const char *prefix;	/* the type starts with this */
	const char *contains;	/* and contains this, when set */
};

static const struct builtin_case builtin_cases[] = {
	{ "html", "index.html", "text/html", NULL },
	{ "htm", "index.htm", "text/html", NULL },
	{ "css", "s.css", "text/css", NULL },
	{ "js", "app.js", "", "javascript" },
	{ "png", "i.png", "image/png", NULL },
	{ "jpg", "i.jpg", "image/jpeg", NULL },
	{ "jpeg", "i.jpeg", "image/jpeg", NULL },
	{ "svg", "i.svg", "image/svg+xml", NULL },
	{ "ico", "favicon.ico", "image/", NULL },
	{ "txt", "robots.txt", "text/plain", NULL },
	{ "upper JPG", "I.JPG", "image/jpeg", NULL },
};

static struct ks_mime_table *builtin_table(void)
{
	struct ks_mime_table *t;
	int ret;

	t = build(ks_mime_builtin, &ret);
	ck_assert_msg(ret == 0, "builtin build: %d", ret);
	ck_assert_int_eq(ks_mime_check(t, t->size), 0);
	return t;
}

START_TEST(test_builtin)
{
	const struct builtin_case *c = &builtin_cases[_i];
	size_t pl = strlen(c->prefix);
	struct ks_mime_table *t;
	struct ks_str s;

	KS_ROW(c->desc);
	t = builtin_table();
	s = lookup(t, c->path, (u32)strlen(c->path));
	ck_assert_msg(!is_default(s), "%s: default type", c->desc);
	ck_assert_msg(s.len >= pl && memcmp(s.p, c->prefix, pl) == 0,
		      "%s: got '%.*s'", c->desc, (int)s.len, s.p);
	if (c->contains)
		ck_assert_msg(memmem(s.p, s.len, c->contains,
				     strlen(c->contains)) != NULL,
			      "%s: got '%.*s'", c->desc, (int)s.len, s.p);
	free(t);
}
END_TEST

START_TEST(test_builtin_all)
{
	struct ks_mime_table *t = builtin_table();

	check_all_mappings(t, ks_mime_builtin, (u32)strlen(ks_mime_builtin));
	ck_assert(is_default(lookup(t, "x.qqqzz", 7)));
	free(t);
}
END_TEST

/* the system's /etc/mime.types, when there is one, builds and looks up */
START_TEST(test_system_mime_types)
{
	struct ks_mime_table *t;
	struct stat st;
	char *text;
	int fd, ret;

	fd = open("/etc/mime.types", O_RDONLY);
	if (fd < 0)
		return;
	ck_assert_int_eq(fstat(fd, &st), 0);
	text = calloc(1, (size_t)st.st_size + 1);
	ck_assert_int_eq(read(fd, text, (size_t)st.st_size), st.st_size);
	close(fd);
	t = build(text, &ret);
	if (ret == -ENOMEM) {	/* too big for a blob: a fair answer */
		free(t);
		free(text);
		return;
	}
	ck_assert_int_eq(ret, 0);
	ck_assert_int_eq(ks_mime_check(t, t->size), 0);
	check_all_mappings(t, text, (u32)st.st_size);
	free(t);
	free(text);
}
END_TEST

static Suite *mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("table");

	KS_TABLE_TEST(tc, test_lookup, lookup_cases);
	KS_TABLE_TEST(tc, test_build, build_cases);
	KS_TABLE_TEST(tc, test_check, corrupt_cases);
	KS_TABLE_TEST(tc, test_builtin, builtin_cases);
	suite_add_tcase(s, tc);

	tc = tcase_create("whole tables");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_build_nomem);
	tcase_add_test(tc, test_builtin_all);
	tcase_add_test(tc, test_system_mime_types);
	tcase_add_test(tc, test_check_fuzz);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ks_test_run(mime_suite());
}
