/*
 * t-http.c - lib/http against a one-shot HTTP/1.1 server served from the
 * same thread: the pool's wait watches the listening socket as its extra
 * fd, so request and answer interleave without threads or sleeps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "nap.h"
#include "tap.h"
#include "util.h"

/* Accept one connection, read the request head, send answer, close. */
static void
serve(int lfd, const char *answer, char *req, size_t reqsz)
{
	int c = accept(lfd, NULL, NULL);
	size_t n = 0;
	ssize_t r;

	if (c < 0)
		return;
	while (n + 1 < reqsz && (r = read(c, req + n, reqsz - n - 1)) > 0) {
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	if (write(c, answer, strlen(answer)) < 0)
		printf("# write: %s\n", strerror(errno));
	close(c);
}

struct chunks {
	char got[256];
	size_t len;
	int calls;
};

static int
on_data(void *arg, const char *buf, size_t len)
{
	struct chunks *c = arg;

	if (c->len + len >= sizeof(c->got))
		return -1;
	memcpy(c->got + c->len, buf, len);
	c->len += len;
	c->got[c->len] = '\0';
	c->calls++;
	return 0;
}

/* Run one request against answer; returns the finished request. */
static struct nap_http_req *
exchange(struct nap_http *h, struct nap_http_opts *o, const char *answer, char *req, size_t reqsz)
{
	struct nap_http_req *r, *done = NULL;
	struct nap_err err;
	char url[64];
	int port, lfd = test_listener(&port), served = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/pods?limit=1", port);
	o->url = url;
	r = nap_http_start(h, o, &err);
	if (!r) {
		printf("Bail out! start: %s\n", err.msg);
		exit(1);
	}
	for (int i = 0; i < 1000 && !done; i++) {
		int ready = nap_http_wait(h, served ? -1 : lfd, 5000, &err);

		if (ready == 1) {
			serve(lfd, answer, req, reqsz);
			served = 1;
		}
		done = nap_http_done(h);
	}
	close(lfd);
	TAP_OK(done == r, "the request finishes and is handed back");
	return r;
}

static void
test_collect(struct nap_http *h)
{
	static const char *const hdrs[] = {"X-Test: yes", NULL};
	struct nap_http_opts o = {.method = "POST",
	    .bearer = "sekret",
	    .headers = hdrs,
	    .content_type = "application/json",
	    .body = "{\"a\":1}",
	    .body_len = 7};
	const struct nap_http_resp *resp;
	struct nap_http_req *r;
	struct nap_err err;
	char req[4096] = "";

	r = exchange(h, &o,
	    "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
	    "Retry-After: 7\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"code\":429}",
	    req, sizeof(req));
	TAP_IS_INT(
	    nap_http_result(r, &resp, &err), 0, "an HTTP error status is not a transport error");
	TAP_IS_INT(resp->status, 429, "the status comes back");
	TAP_IS_INT(resp->retry_after, 7, "Retry-After is read");
	TAP_IS_STR(resp->content_type, "application/json", "Content-Type is read");
	TAP_OK(resp->len == 11 && strncmp(resp->body, "{\"code\":429", 11) == 0,
	    "the body is collected");
	TAP_OK(strstr(req, "POST /api/v1/pods?limit=1 HTTP/1.1\r\n") == req,
	    "method and path are sent");
	TAP_OK(strstr(req, "Authorization: Bearer sekret\r\n") != NULL, "the bearer token is sent");
	TAP_OK(strstr(req, "X-Test: yes\r\n") != NULL, "extra headers are sent");
	TAP_OK(
	    strstr(req, "Content-Type: application/json\r\n") != NULL, "the body's type is sent");
	TAP_IS_INT(nap_http_status_code(resp->status), NAP_EX_TEMPFAIL, "429 means try again");
	nap_http_req_free(r);
}

static void
test_stream(struct nap_http *h)
{
	struct chunks c = {.len = 0};
	struct nap_http_opts o = {.on_data = on_data, .arg = &c};
	const struct nap_http_resp *resp;
	struct nap_http_req *r;
	struct nap_err err;
	char req[4096];

	r = exchange(h, &o,
	    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n"
	    "5\r\n{\"a\":\r\n4\r\n1}\n{\r\n7\r\n\"b\":2}\n\r\n0\r\n\r\n",
	    req, sizeof(req));
	TAP_IS_INT(nap_http_result(r, &resp, &err), 0, "a streamed answer finishes cleanly");
	TAP_IS_STR(c.got, "{\"a\":1}\n{\"b\":2}\n", "the streamed bytes arrive in order, whole");
	TAP_OK(c.calls >= 1, "the reader was called");
	TAP_IS_INT(resp->len, 0, "a streamed 2xx body is not collected");
	TAP_OK(nap_http_req_arg(r) == &c, "the request carries its argument");
	nap_http_req_free(r);
}

static void
test_refused(struct nap_http *h)
{
	struct nap_http_opts o = {.connect_timeout_ms = 5000};
	struct nap_http_resp resp;
	struct nap_err err;
	char url[64];
	int port, fd = test_listener(&port);

	/* A port that was just ours and is closed now refuses connections. */
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	o.url = url;
	TAP_IS_INT(
	    nap_http_do(h, &o, &resp, &err), -1, "a refused connection is a transport error");
	TAP_IS_INT(err.code, NAP_EX_UNAVAILABLE, "it means unavailable");
	TAP_OK(strstr(err.msg, url) != NULL, "the message names the URL");
	nap_http_resp_free(&resp);
}

static void
test_codes(void)
{
	char *e = nap_http_escape("a b/c,d=(e)!");

	TAP_IS_STR(e, "a%20b%2Fc%2Cd%3D%28e%29%21", "escape encodes every delimiter");
	free(e);
	TAP_IS_INT(nap_http_status_code(200), NAP_EX_OK, "2xx is ok");
	TAP_IS_INT(nap_http_status_code(401), NAP_EX_NOPERM, "401 is not permitted");
	TAP_IS_INT(nap_http_status_code(403), NAP_EX_NOPERM, "403 is not permitted");
	TAP_IS_INT(nap_http_status_code(404), NAP_EX_NO, "404 is a no");
	TAP_IS_INT(nap_http_status_code(410), NAP_EX_NO, "410 is a no");
	TAP_IS_INT(nap_http_status_code(503), NAP_EX_TEMPFAIL, "503 is try again");
	TAP_IS_INT(nap_http_status_code(422), NAP_EX_DATAERR, "422 is unusable input");
	TAP_IS_INT(nap_http_status_code(415), NAP_EX_SOFTWARE, "415 is our bug");
}

static const char pem_a[] = "-----BEGIN CERTIFICATE-----\nQUFB\n-----END CERTIFICATE-----";
static const char pem_b[] = "-----BEGIN CERTIFICATE-----\nQkJC\n-----END CERTIFICATE-----\n";

static char *
tmp_file(const char *text)
{
	char *path = nap_xstrdup("/tmp/t-http.XXXXXX");
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
	return path;
}

/* azure.caFile adds to the system's CAs: one bundle, system first. */
static void
test_ca_bundle(struct nap_http *h)
{
	char *sys = tmp_file(pem_a), *extra = tmp_file(pem_b), *junk = tmp_file("not a pem\n");
	char *out = NULL, want[256];
	size_t len = 0;
	struct nap_err err;
	struct nap_http_tls tls;
	struct nap_http_opts o;

	TAP_IS_INT(nap_http_ca_bundle(sys, extra, &out, &len, &err), 0, "a bundle is built");
	snprintf(want, sizeof(want), "%s\n%s", pem_a, pem_b);
	TAP_IS_STR(out, want, "the system's certificates, then the extra ones, each on its lines");
	TAP_IS_INT((long)len, (long)strlen(want), "its length is returned");
	free(out);
	TAP_IS_INT(nap_http_ca_bundle("/nonexistent/ca.crt", extra, &out, &len, &err), 0,
	    "no system bundle file: the extra ones alone (the system CA directory still counts)");
	TAP_IS_STR(out, pem_b, "they are all of it");
	free(out);
	TAP_IS_INT(nap_http_ca_bundle(sys, junk, &out, &len, &err), -1,
	    "an extra file with no certificate is refused");
	TAP_IS_INT(err.code, NAP_EX_CONFIG, "as a configuration error");
	TAP_OK(strstr(err.msg, junk) != NULL, "naming the file: %s", err.msg);
	TAP_IS_INT(nap_http_ca_bundle(NULL, extra, &out, &len, &err), 0,
	    "by default the system bundle is libcurl's own");
	TAP_OK(out && len >= strlen(pem_b) && strcmp(out + len - strlen(pem_b), pem_b) == 0,
	    "with the extra certificates last");
	free(out);

	/* The pool takes that path for ca_add: a bad extra file fails the request at start. */
	memset(&tls, 0, sizeof(tls));
	tls.ca_file = junk;
	tls.ca_add = 1;
	memset(&o, 0, sizeof(o));
	o.url = "https://127.0.0.1:1/";
	o.tls = &tls;
	TAP_OK(nap_http_start(h, &o, &err) == NULL && err.code == NAP_EX_CONFIG &&
		strstr(err.msg, "no PEM certificate"),
	    "a request with ca_add builds the bundle: %s", err.msg);
	unlink(sys);
	unlink(extra);
	unlink(junk);
	free(sys);
	free(extra);
	free(junk);
}

static void
test_urls(void)
{
	char *u;

	TAP_OK(nap_http_url_plain("http://10.0.0.5:6443"), "plain http to another host is plain");
	TAP_OK(nap_http_url_plain("HTTP://api.example/x"), "whatever the case of the scheme");
	TAP_OK(!nap_http_url_plain("https://10.0.0.5:6443"), "https is not");
	TAP_OK(!nap_http_url_plain("http://127.0.0.1:8001"), "loopback does not leave the host");
	TAP_OK(!nap_http_url_plain("http://localhost:8001/api"), "nor does localhost");
	TAP_OK(nap_http_url_plain("http://localhost.example.com/"), "a name that only starts so does");
	TAP_OK(!nap_http_url_plain("http://169.254.169.254/metadata/identity/oauth2/token"),
	    "the link-local metadata service is exempt");
	u = nap_http_url_redact("https://a.example/p/q?key=secret&x=1");
	TAP_IS_STR(u, "https://a.example/p/q", "a URL in a message loses its query");
	free(u);
}

int
main(void)
{
	struct nap_err err;
	struct nap_http *h = nap_http_new(&err);

	if (!h) {
		printf("Bail out! %s\n", err.msg);
		return 1;
	}
	test_collect(h);
	test_stream(h);
	test_refused(h);
	test_codes();
	test_ca_bundle(h);
	test_urls();
	TAP_IS_INT(nap_http_running(h), 0, "nothing is left running");
	nap_http_free(h);
	return tap_done();
}
