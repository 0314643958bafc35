/* Unit tests for lib/rec: the NDJSON reader over pipes and files. */
#include "rec.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Read every record from text fed through a pipe in chunks of chunk bytes; summarise. */
static void
read_all(const char *text, size_t chunk, size_t max_line, char *out, size_t outlen)
{
	struct nap_rec_reader *rd;
	struct nap_rec rec;
	struct nap_err err;
	int fds[2], r;
	size_t used = 0;
	pid_t pid;

	if (pipe(fds) != 0)
		abort();
	pid = fork();
	if (pid == 0) {
		size_t off = 0, len = strlen(text);

		close(fds[0]);
		while (off < len) {
			size_t n = len - off < chunk ? len - off : chunk;

			if (write(fds[1], text + off, n) != (ssize_t)n)
				_exit(1);
			off += n;
			usleep(200);
		}
		_exit(0);
	}
	close(fds[1]);
	rd = nap_rec_reader_new(fds[0], "pipe");
	if (max_line)
		nap_rec_reader_set_max_line(rd, max_line);
	out[0] = '\0';
	while ((r = nap_rec_read(rd, &rec, &err)) != NAP_REC_EOF && r >= 0) {
		if (r == NAP_REC_OK)
			used += (size_t)snprintf(out + used, outlen - used, "[%lu:%s:%.*s]",
			    rec.lineno, rec.type, (int)(rec.len > 200 ? 200 : rec.len), rec.line);
		else if (r == NAP_REC_BAD)
			used += (size_t)snprintf(out + used, outlen - used, "{%s}", err.msg);
		if (used >= outlen)
			break;
	}
	nap_rec_reader_free(rd);
	close(fds[0]);
	waitpid(pid, NULL, 0);
}

/* nap_rec_open_fifo: a FIFO whose writers come and go never reads as ended. */
static void
fifo_checks(void)
{
	char dir[] = "/tmp/nap-t-rec.XXXXXX", path[64];
	struct nap_rec_reader *rd;
	struct nap_rec rec;
	struct nap_err err;
	int w, r = -1, i;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/in", dir);
	TAP_OK(nap_rec_open_fifo(path, &err) == NULL && err.code == NAP_EX_IOERR,
	    "opening a missing FIFO is an I/O error naming it: %s", err.msg);
	mkfifo(path, 0600);
	rd = nap_rec_open_fifo(path, &err);
	TAP_OK(rd != NULL, "a FIFO opens without waiting for a writer");
	w = open(path, O_WRONLY);
	if (write(w, "{\"type\":\"A\"}\n", 13) != 13)
		abort();
	close(w); /* the last outside writer leaves */
	for (i = 0; i < 100 && (r = nap_rec_next(rd, &rec, &err)) == NAP_REC_NONE; i++)
		if (nap_rec_fill(rd, &err) == 0)
			break;
	TAP_OK(
	    r == NAP_REC_OK && strcmp(rec.type, "A") == 0, "a record written to the FIFO is read");
	TAP_IS_INT(nap_rec_fill(rd, &err), 1,
	    "after its writer closes, the FIFO still reads as open (would block), not as ended");
	TAP_IS_INT(nap_rec_at_eof(rd), 0, "no end of file is seen");
	nap_rec_reader_free(rd);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	char out[4096];
	char *big;
	size_t i;

	read_all("{\"type\":\"A\"}\n{\"type\":\"B\",\"x\":1}\n", 4096, 0, out, sizeof(out));
	TAP_IS_STR(out, "[1:A:{\"type\":\"A\"}][2:B:{\"type\":\"B\",\"x\":1}]",
	    "two records are read in order with their line numbers");

	read_all("{\"type\":\"A\"}\n{\"type\":\"B\",\"x\":1}\n", 1, 0, out, sizeof(out));
	TAP_IS_STR(out, "[1:A:{\"type\":\"A\"}][2:B:{\"type\":\"B\",\"x\":1}]",
	    "records arriving one byte at a time are reassembled");

	read_all("{\"type\":\"A\"}\r\n\r\n\n  \n{\"type\":\"B\"}\r\n", 3, 0, out, sizeof(out));
	TAP_IS_STR(out, "[1:A:{\"type\":\"A\"}][5:B:{\"type\":\"B\"}]",
	    "CRLF endings are accepted and blank lines skipped but counted");

	read_all("{\"type\":\"A\"}\n{\"type\":\"Z\"}", 5, 0, out, sizeof(out));
	TAP_IS_STR(out, "[1:A:{\"type\":\"A\"}][2:Z:{\"type\":\"Z\"}]",
	    "an unterminated last line is accepted when it parses");

	read_all("{\"type\":\"A\"}\n{\"type\":", 5, 0, out, sizeof(out));
	TAP_IS_STR(out, "[1:A:{\"type\":\"A\"}]{line 2: malformed record: unexpected end of data}",
	    "an unterminated last line that does not parse is reported");

	read_all("{\"type\":\"A\"}\nnot json\n{\"type\":\"C\"}\n", 7, 0, out, sizeof(out));
	TAP_OK(strstr(out, "{line 2: malformed record:") != NULL && strstr(out, "[3:C:") != NULL,
	    "a malformed line is reported with its number and the rest is read: %s", out);

	read_all(
	    "[1,2]\n{\"x\":1}\n{\"type\":3}\n\"s\"\n{\"type\":\"OK\"}\n", 64, 0, out, sizeof(out));
	TAP_IS_STR(out,
	    "{line 1: malformed record: not a JSON object}"
	    "{line 2: malformed record: no string \"type\"}"
	    "{line 3: malformed record: no string \"type\"}"
	    "{line 4: malformed record: not a JSON object}[5:OK:{\"type\":\"OK\"}]",
	    "non-objects and objects without a string type are rejected");

	read_all(
	    "{\"type\":\"A\"} {\"type\":\"B\"}\n{\"type\":\"A\"}   \n", 64, 0, out, sizeof(out));
	TAP_IS_STR(out,
	    "{line 1: malformed record: text after the JSON value}[2:A:{\"type\":\"A\"}   ]",
	    "two objects on one line are rejected; trailing blanks are not");

	big = nap_xmalloc(300000);
	memcpy(big, "{\"type\":\"big\",\"pad\":\"", 21);
	for (i = 21; i < 299000; i++)
		big[i] = 'x';
	memcpy(big + i, "\"}\n{\"type\":\"after\"}\n", 21);
	read_all(big, 4093, 1000, out, sizeof(out));
	TAP_IS_STR(out,
	    "{line 1: malformed record: longer than 1000 bytes}[2:after:{\"type\":\"after\"}]",
	    "a line over the cap is skipped whole and reading goes on");
	read_all(big, 65536, 0, out, sizeof(out));
	TAP_OK(strncmp(out, "[1:big:", 7) == 0 && strstr(out, "[2:after:") != NULL,
	    "a 300 kB line under the default cap is read whole");
	free(big);

	read_all("{\"type\":\"\\u00e9t\\u00e9\",\"s\":\"caf\xc3\xa9\"}\n", 2, 0, out, sizeof(out));
	TAP_IS_STR(out,
	    "[1:\xc3\xa9t\xc3\xa9:{\"type\":\"\\u00e9t\\u00e9\",\"s\":\"caf\xc3\xa9\"}]",
	    "UTF-8 split across reads is kept byte for byte");

	read_all("{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":"
		 "\"bad\xff\xfename\",\"namespace\":\"default\"}}}\n{\"type\":\"Foo\",\"x\":\"\xc0\xaf\"}\n"
		 "{\"type\":\"OK\"}\n",
	    16, 0, out, sizeof(out));
	TAP_IS_STR(out,
	    "{line 1: malformed record: invalid UTF-8 at byte 63 (ADDED Pod default/bad\\xff\\xfename)}"
	    "{line 2: malformed record: invalid UTF-8 at byte 20 (Foo)}[3:OK:{\"type\":\"OK\"}]",
	    "a line of invalid UTF-8 is malformed, named quoted, and reading goes on");

	read_all("", 1, 0, out, sizeof(out));
	TAP_IS_STR(out, "", "empty input gives no records");
	fifo_checks();
	return tap_done();
}
