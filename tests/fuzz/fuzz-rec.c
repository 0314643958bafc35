/*
 * fuzz-rec - lib/rec.c, the NDJSON record reader every tool reads stdin with,
 * and the JSON fast path under it (lib/json.c nap_json_parse_fast).
 *
 * Input: the bytes of a stream.  They arrive through a non-blocking pipe in
 * chunks of a size derived from the input (1 byte up to 4 KiB), so lines
 * are split across reads as on a real pipe, and the reader's line cap is
 * sometimes set small so the over-long-line path runs.
 * Contract:
 *   - the reader returns OK, BAD or NONE until EOF, and EOF only once the
 *     writer has closed; never -1 on a pipe;
 *   - line numbers count physical lines, and a record's line is exactly
 *     that line of the input (a trailing "\r" dropped), its object has a
 *     string "type", and its text holds no newline;
 *   - each BAD comes with an error naming its line, and the reader's bad
 *     count equals the number of BADs;
 *   - whenever nap_json_parse_fast accepts a line, json_tokener builds the
 *     same tree from it (same serialisation, key order included).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "json.h"
#include "rec.h"

struct lines {
	const char *data;
	size_t size;
	unsigned long no; /* line number of the line at pos */
	size_t pos;
};

/*
 * Start and length of physical line no (1-based) of the input; 0 when none.
 * Records come in increasing line order, so the scan goes on from the last.
 */
static int
line_of(struct lines *in, unsigned long no, size_t *start, size_t *len)
{
	while (in->pos < in->size) {
		const char *nl = memchr(in->data + in->pos, '\n', in->size - in->pos);
		size_t end = nl ? (size_t)(nl - in->data) : in->size;

		if (in->no == no) {
			*start = in->pos;
			*len = end - in->pos;
			return 1;
		}
		in->pos = end + 1;
		in->no++;
	}
	return 0;
}

static void
check_fast(const char *line, size_t len)
{
	json_object *fast = NULL, *slow;
	struct json_tokener *tok;
	size_t i = 0, end = len;

	if (nap_json_parse_fast(line, len, &fast) != 0)
		return;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	slow = json_tokener_parse_ex(tok, line + i, (int)(end - i));
	FUZZ_CHECK(slow != NULL && json_tokener_get_error(tok) == json_tokener_success &&
		json_tokener_get_parse_end(tok) == end - i,
	    "fast path accepts what json_tokener refuses: %.*s", (int)len, line);
	{
		char *a = nap_xstrdup(json_object_to_json_string_ext(fast, JSON_C_TO_STRING_PLAIN));
		const char *b = json_object_to_json_string_ext(slow, JSON_C_TO_STRING_PLAIN);

		FUZZ_CHECK(strcmp(a, b) == 0, "fast path builds %s, json_tokener %s", a, b);
		FUZZ_CHECK(nap_json_equal(fast, slow), "nap_json_equal differs on %s", a);
		free(a);
	}
	json_object_put(slow);
	json_object_put(fast);
	json_tokener_free(tok);
}

static void
check_record(struct lines *in, const struct nap_rec *rec)
{
	size_t start, len;
	json_object *type;

	FUZZ_CHECK(line_of(in, rec->lineno, &start, &len), "record on line %lu, past the input",
	    rec->lineno);
	if (len > 0 && in->data[start + len - 1] == '\r')
		len--;
	FUZZ_CHECK(rec->len == len && memcmp(rec->line, in->data + start, len) == 0,
	    "record on line %lu is not that line", rec->lineno);
	FUZZ_CHECK(memchr(rec->line, '\n', rec->len) == NULL, "newline in a record");
	FUZZ_CHECK(json_object_is_type(rec->obj, json_type_object) &&
		json_object_object_get_ex(rec->obj, "type", &type) &&
		json_object_is_type(type, json_type_string) &&
		strcmp(json_object_get_string(type), rec->type) == 0,
	    "record on line %lu has no string type", rec->lineno);
	check_fast(rec->line, rec->len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lines in = {(const char *)data, size, 1, 0};
	struct nap_rec_reader *rd;
	struct nap_rec rec;
	struct nap_err err;
	uint32_t h = 2166136261u;
	size_t chunk, off = 0, max_line = 0;
	unsigned long bad = 0, last = 0;
	int fds[2], closed = 0, r;

	/* Longer streams only repeat what shorter ones test, far more slowly. */
	if (size > 16 * 1024)
		return -1;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	/* Small pieces cost a system call each: only for small inputs. */
	chunk = h % 3 == 0 || size > 2048 ? 512 + (h >> 8) % 3585 : 1 + (h >> 8) % 97;
	if (h % 5 == 0)
		max_line = 1 + (h >> 16) % 200;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		abort();
	rd = nap_rec_reader_new(fds[0], "fuzz");
	if (max_line)
		nap_rec_reader_set_max_line(rd, max_line);
	for (;;) {
		memset(&err, 0, sizeof(err));
		r = nap_rec_next(rd, &rec, &err);
		if (r == NAP_REC_OK) {
			FUZZ_CHECK(rec.lineno > last, "line numbers go back: %lu after %lu",
			    rec.lineno, last);
			last = rec.lineno;
			check_record(&in, &rec);
			if (max_line)
				FUZZ_CHECK(rec.len <= max_line,
				    "a %zu-byte line passed a cap of %zu", rec.len, max_line);
		} else if (r == NAP_REC_BAD) {
			bad++;
			fuzz_check_err(&err);
			FUZZ_CHECK(
			    strncmp(err.msg, "line ", 5) == 0, "BAD without its line: %s", err.msg);
		} else if (r == NAP_REC_EOF) {
			FUZZ_CHECK(closed, "EOF before the writer closed");
			break;
		} else {
			FUZZ_CHECK(r == NAP_REC_NONE, "nap_rec_next returned %d", r);
			if (off < size) {
				size_t n = size - off < chunk ? size - off : chunk;
				ssize_t w = write(fds[1], data + off, n);

				if (w > 0)
					off += (size_t)w;
			} else if (!closed) {
				close(fds[1]);
				closed = 1;
			}
			r = nap_rec_fill(rd, &err);
			FUZZ_CHECK(r >= 0, "nap_rec_fill failed on a pipe: %s", err.msg);
		}
	}
	FUZZ_CHECK(nap_rec_bad_count(rd) == bad, "bad count %lu, BADs returned %lu",
	    nap_rec_bad_count(rd), bad);
	FUZZ_CHECK(off == size, "EOF with %zu bytes unread", size - off);
	nap_rec_reader_free(rd);
	close(fds[0]);
	return 0;
}
