#include "rec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "text.h"

#define READ_CHUNK 65536

struct nap_rec_reader {
	int fd;
	int own_fd, hold_fd; /* fds the reader closes (nap_rec_open_fifo), or -1 */
	char *name;
	char *buf; /* [start, end) holds unread bytes */
	size_t start, end, alloc;
	size_t scan; /* bytes after start already searched for '\n' */
	size_t max_line;
	int eof;
	int skipping; /* inside an over-long line: drop through its newline */
	unsigned long lineno, bad;
	json_object *obj; /* the last record returned */
	json_tokener *tok;
};

struct nap_rec_reader *
nap_rec_reader_new(int fd, const char *name)
{
	struct nap_rec_reader *rd = nap_xcalloc(1, sizeof(*rd));

	rd->fd = fd;
	rd->name = nap_xstrdup(name);
	rd->max_line = NAP_REC_MAX_LINE;
	rd->own_fd = rd->hold_fd = -1;
	rd->tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (rd->tok == NULL)
		nap_xmalloc((size_t)-1); /* out of memory: the allocator's message */
	return rd;
}

struct nap_rec_reader *
nap_rec_open_fifo(const char *path, struct nap_err *err)
{
	struct nap_rec_reader *rd;
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		nap_err_set(err, NAP_EX_IOERR, "unable to open %s: %s", path, strerror(errno));
		return NULL;
	}
	rd = nap_rec_reader_new(fd, path);
	rd->own_fd = fd;
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		rd->hold_fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	return rd;
}

void
nap_rec_reader_free(struct nap_rec_reader *rd)
{
	if (rd == NULL)
		return;
	if (rd->own_fd >= 0)
		close(rd->own_fd);
	if (rd->hold_fd >= 0)
		close(rd->hold_fd);
	json_object_put(rd->obj);
	json_tokener_free(rd->tok);
	free(rd->buf);
	free(rd->name);
	free(rd);
}

void
nap_rec_reader_set_max_line(struct nap_rec_reader *rd, size_t max)
{
	rd->max_line = max;
}

int
nap_rec_fd(const struct nap_rec_reader *rd)
{
	return rd->fd;
}

const char *
nap_rec_name(const struct nap_rec_reader *rd)
{
	return rd->name;
}

int
nap_rec_at_eof(const struct nap_rec_reader *rd)
{
	return rd->eof;
}

unsigned long
nap_rec_bad_count(const struct nap_rec_reader *rd)
{
	return rd->bad;
}

/*
 * The record in rec is not valid UTF-8, so it is malformed (nap-records(5)):
 * it is dropped, and err says where and names what it holds, quoted.
 */
static int
bad_utf8(struct nap_rec_reader *rd, const struct nap_rec *rec, struct nap_err *err)
{
	json_object *o = nap_json_key(rec->obj, "object");
	const char *ns = nap_json_str(o, "metadata.namespace", "");
	char *type = nap_text_quote(rec->type, 64);
	char *kind = nap_text_quote(nap_json_str(o, "kind", ""), 64);
	char *name = nap_text_quote(nap_json_str(o, "metadata.name", ""), 253);
	char *nsq = nap_text_quote(ns, 63);

	rd->bad++;
	nap_err_set(err, NAP_EX_DATAERR,
	    "line %lu: malformed record: invalid UTF-8 at byte %zu (%s%s%s%s%s%s%s)", rd->lineno,
	    nap_utf8_valid(rec->line, rec->len) + 1, type, *kind ? " " : "", kind,
	    *name ? " " : "", nsq, *ns ? "/" : "", name);
	free(type);
	free(kind);
	free(name);
	free(nsq);
	json_object_put(rd->obj);
	rd->obj = NULL;
	return NAP_REC_BAD;
}

int
nap_rec_fill(struct nap_rec_reader *rd, struct nap_err *err)
{
	ssize_t n;

	if (rd->eof)
		return 0;
	/* Slide unread bytes to the front before growing. */
	if (rd->start > 0 && (rd->start == rd->end || rd->alloc - rd->end < READ_CHUNK)) {
		memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
		rd->end -= rd->start;
		rd->start = 0;
	}
	nap_xgrow(&rd->buf, &rd->alloc, rd->end + READ_CHUNK + 1, 1);
	n = read(rd->fd, rd->buf + rd->end, rd->alloc - rd->end - 1);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 1;
		return nap_err_set(
		    err, NAP_EX_IOERR, "unable to read %s: %s", rd->name, strerror(errno));
	}
	if (n == 0) {
		rd->eof = 1;
		return 0;
	}
	rd->end += (size_t)n;
	return 1;
}

/* What a person needs to hear about a line that is not one JSON object. */
#define ONE_OBJECT "(expected one JSON object per line)"

static int
bad_line(struct nap_rec_reader *rd, struct nap_err *err, const char *fmt, ...) NAP_PRINTF(3, 4);

/* Count a malformed line and say why in err as "line N: malformed record: why". */
static int
bad_line(struct nap_rec_reader *rd, struct nap_err *err, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	rd->bad++;
	nap_err_set(err, NAP_EX_DATAERR, "line %lu: malformed record: %s", rd->lineno, why);
	return NAP_REC_BAD;
}

static const char *
json_kind(json_object *obj)
{
	switch (json_object_get_type(obj)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "boolean";
	case json_type_double:
	case json_type_int:
		return "number";
	case json_type_string:
		return "string";
	case json_type_array:
		return "array";
	case json_type_object:
		return "object";
	}
	return "value";
}

/* Parse one line (NUL-terminated in place); NAP_REC_OK, NAP_REC_BAD or NAP_REC_NONE (blank). */
static int
parse_line(
    struct nap_rec_reader *rd, char *line, size_t len, struct nap_rec *rec, struct nap_err *err)
{
	enum json_tokener_error jerr;
	json_object *obj, *type;
	size_t i, end;

	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			break;
	if (i == len)
		return NAP_REC_NONE;

	/* the plain JSON most records are is built faster without the tokener */
	if (nap_json_parse_fast(line + i, len - i, &obj) == 0)
		goto parsed;
	json_tokener_reset(rd->tok);
	/* len + 1 takes in the NUL, which tells json-c that a last number or literal ended */
	obj = json_tokener_parse_ex(rd->tok, line, (int)len + 1);
	jerr = json_tokener_get_error(rd->tok);
	if (jerr != json_tokener_success) {
		json_object_put(obj);
		if (line[i] != '{')
			return bad_line(rd, err, "not a JSON object " ONE_OBJECT);
		if (jerr == json_tokener_continue || jerr == json_tokener_error_parse_eof)
			return bad_line(rd, err, "the JSON object is cut short: the line ends inside it");
		return bad_line(rd, err, "invalid JSON at byte %zu: %s",
		    json_tokener_get_parse_end(rd->tok) + 1, json_tokener_error_desc(jerr));
	}
	/* Trailing spaces after the value are harmless; anything else is not. */
	end = json_tokener_get_parse_end(rd->tok);
	while (end < len && (line[end] == ' ' || line[end] == '\t'))
		end++;
	if (end < len && json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return bad_line(rd, err, "text after the JSON object at byte %zu " ONE_OBJECT, end + 1);
	}
parsed:
	if (!json_object_is_type(obj, json_type_object)) {
		/* a JSON null parses as a NULL object */
		int r = bad_line(rd, err, "not a JSON object but a JSON %s " ONE_OBJECT,
		    json_kind(obj));

		json_object_put(obj);
		return r;
	}
	type = NULL;
	if (!json_object_object_get_ex(obj, "type", &type) ||
	    !json_object_is_type(type, json_type_string)) {
		int r = type == NULL || json_object_is_type(type, json_type_null)
		    ? bad_line(rd, err,
			  "no \"type\" (a record is a JSON object with a string \"type\", such as "
			  "{\"type\":\"ADDED\",...})")
		    : bad_line(rd, err, "\"type\" is a %s, not a string", json_kind(type));

		json_object_put(obj);
		return r;
	}
	rd->obj = obj;
	rec->obj = obj;
	rec->type = json_object_get_string(type);
	rec->line = line;
	rec->len = len;
	rec->lineno = rd->lineno;
	/* json-c takes any bytes in strings: the records we pass on must be UTF-8. */
	if (nap_utf8_valid(line, len) < len)
		return bad_utf8(rd, rec, err);
	return NAP_REC_OK;
}

int
nap_rec_next(struct nap_rec_reader *rd, struct nap_rec *rec, struct nap_err *err)
{
	json_object_put(rd->obj);
	rd->obj = NULL;
	/* Nothing read yet: buf is NULL, and even NULL + 0 is undefined. */
	if (rd->buf == NULL)
		return rd->eof ? NAP_REC_EOF : NAP_REC_NONE;

	for (;;) {
		char *line = rd->buf + rd->start;
		size_t avail = rd->end - rd->start;
		char *nl =
		    avail > rd->scan ? memchr(line + rd->scan, '\n', avail - rd->scan) : NULL;
		size_t len;
		int r;

		if (nl == NULL) {
			if (rd->skipping) {
				rd->start = rd->end; /* still inside the over-long line */
				rd->scan = 0;
				if (rd->eof)
					rd->skipping = 0;
				return rd->eof ? NAP_REC_EOF : NAP_REC_NONE;
			}
			if (avail > rd->max_line) {
				rd->lineno++;
				rd->skipping = 1;
				rd->start = rd->end;
				rd->scan = 0;
				return bad_line(rd, err, "longer than %zu bytes", rd->max_line);
			}
			rd->scan = avail;
			if (!rd->eof)
				return NAP_REC_NONE;
			if (avail == 0)
				return NAP_REC_EOF;
			/* An unterminated last line: take it as it is. */
			len = avail;
			rd->start = rd->end;
		} else {
			len = (size_t)(nl - line);
			rd->start += len + 1;
		}
		rd->scan = 0;
		if (rd->skipping) {
			rd->skipping = 0;
			continue;
		}
		rd->lineno++;
		if (len > rd->max_line)
			return bad_line(rd, err, "longer than %zu bytes", rd->max_line);
		line[len] = '\0'; /* the buffer always has a spare byte past end */
		r = parse_line(rd, line, len, rec, err);
		if (r != NAP_REC_NONE)
			return r;
	}
}

int
nap_rec_read(struct nap_rec_reader *rd, struct nap_rec *rec, struct nap_err *err)
{
	for (;;) {
		int r = nap_rec_next(rd, rec, err);

		if (r != NAP_REC_NONE)
			return r;
		errno = 0;
		r = nap_rec_fill(rd, err);
		if (r < 0)
			return -1;
		if (r > 0 && errno == EINTR)
			return NAP_REC_NONE;
	}
}
