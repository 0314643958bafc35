/*
 * rec.h - reading newline-delimited JSON records from any file descriptor:
 * a pipe, a FIFO, a regular file, a socket; blocking or not.
 *
 * A record is one line holding a JSON object whose "type" is a string.
 * Blank lines (also "\r\n" ones) are skipped.  A line ending in "\r\n" has
 * the "\r" dropped.  An unterminated last line counts when it parses.  A line
 * longer than the reader's cap (NAP_REC_MAX_LINE, 64 MiB, by default) is
 * skipped whole and reported as malformed.  A malformed line never stops the
 * reader: it is reported as NAP_REC_BAD with "line N: malformed record: why"
 * in the error, why said for a person ("not a JSON object (expected one JSON
 * object per line)"), and the next call goes on with the next line.
 *
 * Ownership: the reader owns rec->obj and rec->line until the next call on
 * the same reader; json_object_get(rec->obj) keeps the object longer.
 * rec->line is the raw line (without its newline), for forwarding records
 * byte for byte.
 *
 * The reader never prints.  Its read errors (not EAGAIN/EINTR) come back as
 * -1 with err->code NAP_EX_IOERR.
 */
#ifndef NAP_REC_H
#define NAP_REC_H

#include <stddef.h>

#include <json-c/json.h>

#include "nap.h"

#define NAP_REC_MAX_LINE (64u << 20)

enum {
	NAP_REC_EOF = 0,  /* the input ended and every line has been returned */
	NAP_REC_OK = 1,	  /* rec holds the next record */
	NAP_REC_NONE = 2, /* no complete line buffered: fill (or poll) first */
	NAP_REC_BAD = 3,  /* a malformed line was skipped; err says why */
};

struct nap_rec {
	json_object *obj;
	const char *type;
	const char *line;
	size_t len;
	unsigned long lineno;
};

struct nap_rec_reader;

/* name is used in messages ("stdin", a FIFO's path); the reader does not own fd. */
struct nap_rec_reader *nap_rec_reader_new(int fd, const char *name);
/*
 * A reader of the FIFO (or file) at path, opened non-blocking for poll(2).
 * For a FIFO it also holds a writer end of its own, so the input never reads
 * as ended while the tools that write it restart.  The reader owns both fds.
 * NULL with err (NAP_EX_IOERR) when path cannot be opened.
 */
struct nap_rec_reader *nap_rec_open_fifo(const char *path, struct nap_err *err);
/* Frees the reader, and closes the fds it owns. */
void nap_rec_reader_free(struct nap_rec_reader *rd);
void nap_rec_reader_set_max_line(struct nap_rec_reader *rd, size_t max);
int nap_rec_fd(const struct nap_rec_reader *rd);
const char *nap_rec_name(const struct nap_rec_reader *rd);
/* 1 once read(2) has returned end of file. */
int nap_rec_at_eof(const struct nap_rec_reader *rd);
/* Number of malformed lines skipped so far. */
unsigned long nap_rec_bad_count(const struct nap_rec_reader *rd);

/*
 * One read(2) into the buffer.  Returns 1 when data arrived or the fd would
 * block or was interrupted, 0 at end of file, -1 on a read error.
 */
int nap_rec_fill(struct nap_rec_reader *rd, struct nap_err *err);
/* The next buffered record: NAP_REC_OK, NAP_REC_NONE, NAP_REC_BAD or NAP_REC_EOF. */
int nap_rec_next(struct nap_rec_reader *rd, struct nap_rec *rec, struct nap_err *err);
/*
 * Blocking read of the next record: NAP_REC_OK, NAP_REC_BAD, NAP_REC_EOF, or
 * -1 on a read error.  When a signal interrupts the read it returns
 * NAP_REC_NONE so the caller can look at its stop flag.
 */
int nap_rec_read(struct nap_rec_reader *rd, struct nap_rec *rec, struct nap_err *err);

#endif
