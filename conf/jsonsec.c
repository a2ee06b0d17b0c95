#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "conf/hush_err.h"
#include "conf/jsonsec.h"

/*
 * Documents are credentials: parse them strictly. Duplicate keys are
 * refused because which of two values would be served is an accident of
 * the parser.
 */
#define JSONSEC_LOAD_FLAGS	JSON_REJECT_DUPLICATES
#define JSONSEC_DUMP_FLAGS	(JSON_COMPACT | JSON_ENCODE_ANY | \
				 JSON_PRESERVE_ORDER)

/* The size of each allocation sits in front of it, kept max-aligned. */
union jsonsec_hdr {
	max_align_t	 align;
	size_t		 size;
};

static pthread_once_t jsonsec_once = PTHREAD_ONCE_INIT;

static void *
jsonsec_malloc(size_t size)
{
	union jsonsec_hdr *h;

	if (size > SIZE_MAX - sizeof(*h))
		return NULL;
	if ((h = malloc(sizeof(*h) + size)) == NULL)
		return NULL;
	h->size = size;
	return h + 1;
}

/* jansson's strings and lexer buffers hold secret bytes: wipe them. */
static void
jsonsec_free(void *p)
{
	union jsonsec_hdr *h;

	if (p == NULL)
		return;
	h = (union jsonsec_hdr *)p - 1;
	sodium_memzero(p, h->size);
	free(h);
}

static void
jsonsec_install(void)
{
	json_set_alloc_funcs(jsonsec_malloc, jsonsec_free);
}

/*
 * Installs the wiping allocator in jansson, once per process. It runs
 * before main() in every program that links this file, because jansson
 * must not free with one allocator what it allocated with another; calling
 * it again does nothing.
 */
static void
jsonsec_init(void)
{
	(void)pthread_once(&jsonsec_once, jsonsec_install);
}

/*
 * Before main(), so that no jansson object in the process is ever
 * allocated by malloc and freed by jsonsec_free (or the reverse), and so
 * that hushd's worker threads never race on jansson's allocator globals.
 */
__attribute__((constructor)) static void
jsonsec_ctor(void)
{
	jsonsec_init();
}

static int
jsonsec_parse(const uint8_t *doc, size_t len, json_t **jp,
    char why[JSONSEC_WHY_MAX])
{
	json_error_t jerr;
	int r = HUSH_OK;

	jsonsec_init();
	*jp = json_loadb((const char *)doc, len, JSONSEC_LOAD_FLAGS, &jerr);
	if (*jp == NULL) {
		/* jerr.text quotes the document near the error: never use it. */
		snprintf(why, JSONSEC_WHY_MAX, "not valid JSON (line %d)",
		    jerr.line);
		r = HUSH_ERR_INVALID;
	}
	sodium_memzero(&jerr, sizeof(jerr));
	return r;
}

/*
 * Walks the dotted path from root; with parent set, stops one segment
 * short and gives that segment in lastp and lastlenp. NULL when missing.
 */
static json_t *
jsonsec_walk(json_t *root, const char *path, int parent, const char **lastp,
    size_t *lastlenp)
{
	json_t *cur = root;
	const char *seg = path, *dot;
	size_t n;

	for (;;) {
		dot = strchr(seg, '.');
		n = dot != NULL ? (size_t)(dot - seg) : strlen(seg);
		if (dot == NULL && parent) {
			*lastp = seg;
			*lastlenp = n;
			return json_is_object(cur) ? cur : NULL;
		}
		if (!json_is_object(cur) ||
		    (cur = json_object_getn(cur, seg, n)) == NULL)
			return NULL;
		if (dot == NULL)
			return cur;
		seg = dot + 1;
	}
}

/* Dumps j as compact JSON straight into a new secbuf. */
static int
jsonsec_dump(const json_t *j, size_t max, struct secbuf **outp,
    char why[JSONSEC_WHY_MAX])
{
	struct secbuf *sb;
	size_t need;

	if ((need = json_dumpb(j, NULL, 0, JSONSEC_DUMP_FLAGS)) == 0) {
		snprintf(why, JSONSEC_WHY_MAX, "cannot serialize the JSON "
		    "result");
		return HUSH_ERR_INTERNAL;
	}
	if (need > max) {
		snprintf(why, JSONSEC_WHY_MAX, "JSON result is larger than "
		    "max_size (%zu bytes)", max);
		return HUSH_ERR_TOO_LARGE;
	}
	if ((sb = secbuf_new(need)) == NULL) {
		snprintf(why, JSONSEC_WHY_MAX, "out of secure memory");
		return HUSH_ERR_NOMEM;
	}
	if (json_dumpb(j, (char *)secbuf_mut(sb), need,
	    JSONSEC_DUMP_FLAGS) != need) {
		secbuf_free(sb);
		snprintf(why, JSONSEC_WHY_MAX, "cannot serialize the JSON "
		    "result");
		return HUSH_ERR_INTERNAL;
	}
	secbuf_set_len(sb, need);
	*outp = sb;
	return HUSH_OK;
}

int
jsonsec_field(const uint8_t *doc, size_t len, const char *path, size_t max,
    struct secbuf **outp, char why[JSONSEC_WHY_MAX])
{
	struct secbuf *sb = NULL;
	json_t *root = NULL, *v;
	int r;

	if ((r = jsonsec_parse(doc, len, &root, why)) != HUSH_OK)
		goto out;
	if ((v = jsonsec_walk(root, path, 0, NULL, NULL)) == NULL) {
		snprintf(why, JSONSEC_WHY_MAX, "JSON field \"%s\" not found",
		    path);
		r = HUSH_ERR_NOT_FOUND;
		goto out;
	}
	/* A null token (Codex writes "OPENAI_API_KEY": null) is no token. */
	if (json_is_null(v) ||
	    (json_is_string(v) && json_string_length(v) == 0)) {
		snprintf(why, JSONSEC_WHY_MAX, "JSON field \"%s\" is %s", path,
		    json_is_null(v) ? "null" : "an empty string");
		r = HUSH_ERR_NOT_FOUND;
		goto out;
	}
	if (!json_is_string(v)) {
		r = jsonsec_dump(v, max, outp, why);
		goto out;
	}
	if (json_string_length(v) > max) {
		snprintf(why, JSONSEC_WHY_MAX, "JSON field \"%s\" is larger "
		    "than max_size (%zu bytes)", path, max);
		r = HUSH_ERR_TOO_LARGE;
		goto out;
	}
	if ((sb = secbuf_from(json_string_value(v),
	    json_string_length(v))) == NULL) {
		snprintf(why, JSONSEC_WHY_MAX, "out of secure memory");
		r = HUSH_ERR_NOMEM;
		goto out;
	}
	*outp = sb;
	r = HUSH_OK;
out:
	json_decref(root);
	return r;
}

int
jsonsec_edit(const uint8_t *doc, size_t len, char *const *omit,
    char *const *blank, size_t max, struct secbuf **outp,
    char why[JSONSEC_WHY_MAX])
{
	json_t *root = NULL, *parent, *empty;
	const char *last = NULL;
	size_t lastlen = 0, i;
	int r;

	if ((r = jsonsec_parse(doc, len, &root, why)) != HUSH_OK)
		goto out;
	for (i = 0; omit != NULL && omit[i] != NULL; i++) {
		parent = jsonsec_walk(root, omit[i], 1, &last, &lastlen);
		/* A field already absent is what the caller wants. */
		if (parent != NULL)
			(void)json_object_deln(parent, last, lastlen);
	}
	for (i = 0; blank != NULL && blank[i] != NULL; i++) {
		parent = jsonsec_walk(root, blank[i], 1, &last, &lastlen);
		/*
		 * Only a field that exists is blanked: inventing one (or
		 * its parent objects) would change the document's shape,
		 * e.g. give an API-key auth.json a "tokens" object.
		 */
		if (parent == NULL ||
		    json_object_getn(parent, last, lastlen) == NULL)
			continue;
		if ((empty = json_string("")) == NULL ||
		    json_object_setn_new(parent, last, lastlen, empty) != 0) {
			snprintf(why, JSONSEC_WHY_MAX, "out of memory");
			r = HUSH_ERR_NOMEM;
			goto out;
		}
	}
	r = jsonsec_dump(root, max, outp, why);
out:
	json_decref(root);
	return r;
}
