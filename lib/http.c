/*
 * http.c - the libcurl pool behind http.h.  One multi handle carries every
 * transfer; a share handle keeps DNS answers and TLS sessions for them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"

#define HTTP_DEFAULT_MAX_BODY ((size_t)256 << 20)
#define HTTP_USER_AGENT "nap/0.1 (libcurl)"
#define CA_MAX ((size_t)16 << 20)

struct nap_http_req {
	struct nap_http *pool;
	CURL *easy;
	struct curl_slist *hdrs;
	char *url;
	char *body;
	char *proxy;
	struct nap_http_resp resp;
	size_t body_alloc;
	size_t max_body;
	nap_http_data_fn *on_data;
	void *arg;
	int running; /* added to the multi handle */
	int finished;
	int aborted; /* on_data asked to stop, or the body grew too big */
	CURLcode result;
	char errbuf[CURL_ERROR_SIZE];
	struct nap_http_req *prev, *next; /* every request of the pool */
	struct nap_http_req *done_next;	  /* finished, not yet handed back */
	int queued;
};

struct nap_http {
	CURLM *multi;
	CURLSH *share;
	struct nap_http_req *all;
	struct nap_http_req *done_head, *done_tail;
	int nrunning;
	char *ca_add_file; /* the ca_add bundle below is system + this file */
	char *ca_add_blob;
	size_t ca_add_len;
	int ca_add_fd;	    /* the same bundle in a memfd, or -1 */
	char ca_add_path[32]; /* "/proc/self/fd/N" of ca_add_fd, or "" */
	unsigned long answers[6]; /* finished requests: [0] no answer, [N] Nxx */
};

static int curl_ready;

struct nap_http *
nap_http_new(struct nap_err *err)
{
	struct nap_http *h;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			nap_err_set(err, NAP_EX_SOFTWARE, "unable to initialise libcurl");
			return NULL;
		}
		curl_ready = 1;
	}
	h = nap_xcalloc(1, sizeof(*h));
	h->ca_add_fd = -1;
	h->multi = curl_multi_init();
	h->share = curl_share_init();
	if (!h->multi || !h->share) {
		nap_http_free(h);
		nap_err_set(err, NAP_EX_SOFTWARE, "unable to create a libcurl pool");
		return NULL;
	}
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	return h;
}

void
nap_http_free(struct nap_http *h)
{
	if (!h)
		return;
	while (h->all)
		nap_http_req_free(h->all);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	if (h->share)
		curl_share_cleanup(h->share);
	free(h->ca_add_file);
	free(h->ca_add_blob);
	if (h->ca_add_fd >= 0)
		close(h->ca_add_fd);
	free(h);
}

static void
resp_clear(struct nap_http_resp *r)
{
	free(r->body);
	free(r->content_type);
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
}

void
nap_http_resp_free(struct nap_http_resp *resp)
{
	if (resp)
		resp_clear(resp);
}

static int
body_append(struct nap_http_req *r, const char *buf, size_t len)
{
	if (r->resp.len + len > r->max_body)
		return -1;
	nap_xgrow(&r->resp.body, &r->body_alloc, r->resp.len + len + 1, 1);
	memcpy(r->resp.body + r->resp.len, buf, len);
	r->resp.len += len;
	r->resp.body[r->resp.len] = '\0';
	return 0;
}

static size_t
on_write(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct nap_http_req *r = arg;
	size_t len = size * nmemb;
	long status = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	r->resp.status = status;
	if (r->on_data && status >= 200 && status < 300) {
		if (r->on_data(r->arg, buf, len) != 0) {
			r->aborted = 1;
			return 0;
		}
		return len;
	}
	if (body_append(r, buf, len) != 0) {
		r->aborted = 1;
		return 0;
	}
	return len;
}

/* Header names are case-insensitive; values end at CR/LF. */
static const char *
header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
	size_t n = strlen(name);
	const char *v, *end = line + len;

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	v = line + n + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	*vlen = (size_t)(end - v);
	return v;
}

static size_t
on_header(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct nap_http_req *r = arg;
	size_t len = size * nmemb, vlen;
	const char *v;

	if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue, say): forget the last one's headers. */
		free(r->resp.content_type);
		r->resp.content_type = NULL;
		r->resp.retry_after = -1;
	} else if ((v = header_value(buf, len, "Content-Type", &vlen))) {
		free(r->resp.content_type);
		r->resp.content_type = nap_xstrndup(v, vlen);
	} else if ((v = header_value(buf, len, "Retry-After", &vlen))) {
		char tmp[32], *end;
		long s;

		if (vlen > 0 && vlen < sizeof(tmp)) {
			memcpy(tmp, v, vlen);
			tmp[vlen] = '\0';
			errno = 0;
			s = strtol(tmp, &end, 10);
			if (!errno && *end == '\0' && s >= 0)
				r->resp.retry_after = s;
		}
	}
	return len;
}

static int
set_blob(CURL *e, CURLoption opt, const char *data, size_t len)
{
	struct curl_blob b;

	b.data = (void *)(uintptr_t)data;
	b.len = len;
	b.flags = CURL_BLOB_COPY;
	return curl_easy_setopt(e, opt, &b) == CURLE_OK ? 0 : -1;
}

/* Append the file to *buf; -1 (errno set) when it cannot be read or is too big. */
static int
append_file(const char *path, char **buf, size_t *len, size_t *alloc)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	for (;;) {
		nap_xgrow(buf, alloc, *len + 65536 + 2, 1);
		n = read(fd, *buf + *len, *alloc - *len - 2);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
		if (*len > CA_MAX) {
			n = -1;
			errno = EFBIG;
			break;
		}
	}
	close(fd);
	if (n < 0)
		return -1;
	/* PEM blocks of the next file must start on a line of their own. */
	if (*len && (*buf)[*len - 1] != '\n')
		(*buf)[(*len)++] = '\n';
	(*buf)[*len] = '\0';
	return 0;
}

/* libcurl's built-in CA bundle path (caller frees), or NULL. */
static char *
default_cainfo(void)
{
	char *p = NULL;
#if LIBCURL_VERSION_NUM >= 0x075400 /* CURLINFO_CAINFO: 7.84.0 */
	CURL *e = curl_easy_init();

	if (e) {
		char *v = NULL;

		if (curl_easy_getinfo(e, CURLINFO_CAINFO, &v) == CURLE_OK && v && *v)
			p = nap_xstrdup(v);
		curl_easy_cleanup(e);
	}
#endif
	return p;
}

int
nap_http_ca_bundle(const char *system_file, const char *extra_file, char **out, size_t *len,
    struct nap_err *err)
{
	char *buf = NULL, *dflt = NULL;
	size_t n = 0, alloc = 0, mark;

	*out = NULL;
	*len = 0;
	if (!system_file)
		system_file = dflt = default_cainfo();
	/* No system bundle file (a system with only a CA directory): the directory still counts. */
	if (system_file && append_file(system_file, &buf, &n, &alloc) != 0 && errno != ENOENT) {
		int e = errno;

		nap_err_set(err, NAP_EX_CONFIG, "system CA bundle %s: %s", system_file,
		    strerror(e));
		free(buf);
		free(dflt);
		return -1;
	}
	free(dflt);
	mark = n;
	if (append_file(extra_file, &buf, &n, &alloc) != 0) {
		int e = errno;

		free(buf);
		return nap_err_set(err, NAP_EX_CONFIG, "CA file %s: %s", extra_file, strerror(e));
	}
	if (!buf || !strstr(buf + mark, "-----BEGIN CERTIFICATE-----")) {
		free(buf);
		return nap_err_set(err, NAP_EX_CONFIG, "CA file %s: no PEM certificate in it",
		    extra_file);
	}
	*out = buf;
	*len = n;
	return 0;
}

/*
 * The pool's system + extra bundle for ca_file, built on first use.  It is
 * also written once to a memfd: libcurl keeps the certificate store it
 * parsed from a CA *file* in the multi handle and reuses it, but parses a
 * CA blob again for every connection (the 140-odd system certificates,
 * tens of milliseconds each time).  Without a memfd the blob is used.
 */
static int
ca_add_bundle(struct nap_http *h, const char *ca_file, struct nap_err *err)
{
	char *blob;
	size_t len, off = 0;
	int fd;

	if (h->ca_add_file && strcmp(h->ca_add_file, ca_file) == 0)
		return 0;
	if (nap_http_ca_bundle(NULL, ca_file, &blob, &len, err) != 0)
		return -1;
	free(h->ca_add_file);
	free(h->ca_add_blob);
	if (h->ca_add_fd >= 0)
		close(h->ca_add_fd);
	h->ca_add_file = nap_xstrdup(ca_file);
	h->ca_add_blob = blob;
	h->ca_add_len = len;
	h->ca_add_fd = -1;
	h->ca_add_path[0] = '\0';
	fd = memfd_create("nap-ca-bundle", MFD_CLOEXEC);
	while (fd >= 0 && off < len) {
		ssize_t n = write(fd, blob + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			fd = -1;
			break;
		}
		off += (size_t)n;
	}
	if (fd >= 0) {
		snprintf(h->ca_add_path, sizeof(h->ca_add_path), "/proc/self/fd/%d", fd);
		if (access(h->ca_add_path, R_OK) == 0) { /* no /proc: keep to the blob */
			h->ca_add_fd = fd;
		} else {
			h->ca_add_path[0] = '\0';
			close(fd);
		}
	}
	return 0;
}

static int
setup_tls(struct nap_http_req *r, const struct nap_http_tls *t, struct nap_err *err)
{
	CURL *e = r->easy;

	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (!t)
		return 0;
	if (t->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	/* A CA given explicitly is the only trust anchor, as kubectl does it. */
	if (t->ca_data && t->ca_len) {
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
		if (set_blob(e, CURLOPT_CAINFO_BLOB, t->ca_data, t->ca_len) != 0)
			return nap_err_set(err, NAP_EX_CONFIG, "libcurl refuses CA data");
	} else if (t->ca_file && t->ca_add) {
		struct curl_blob b;
		CURLcode rc = CURLE_UNKNOWN_OPTION;

		if (ca_add_bundle(r->pool, t->ca_file, err) != 0)
			return -1;
		if (r->pool->ca_add_path[0]) {
			/* and no CA directory: libcurl caches only a store made from a file alone */
			curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
			rc = curl_easy_setopt(e, CURLOPT_CAINFO, r->pool->ca_add_path);
		}
		if (rc != CURLE_OK) {
			/* The pool outlives its handles: no copy per request. */
			b.data = r->pool->ca_add_blob;
			b.len = r->pool->ca_add_len;
			b.flags = CURL_BLOB_NOCOPY;
			if (curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b) != CURLE_OK)
				return nap_err_set(err, NAP_EX_CONFIG,
				    "CA file %s: this libcurl cannot add a CA bundle to the system's "
				    "(no CURLOPT_CAINFO_BLOB in its TLS backend)",
				    t->ca_file);
		}
	} else if (t->ca_file) {
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
		if (curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_file) != CURLE_OK)
			return nap_err_set(
			    err, NAP_EX_CONFIG, "libcurl refuses CA file %s", t->ca_file);
	}
	if (t->cert_data && t->cert_len) {
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		if (set_blob(e, CURLOPT_SSLCERT_BLOB, t->cert_data, t->cert_len) != 0)
			return nap_err_set(
			    err, NAP_EX_CONFIG, "libcurl refuses client certificate data");
	} else if (t->cert_file) {
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLCERT, t->cert_file);
	}
	if (t->key_data && t->key_len) {
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
		if (set_blob(e, CURLOPT_SSLKEY_BLOB, t->key_data, t->key_len) != 0)
			return nap_err_set(err, NAP_EX_CONFIG, "libcurl refuses client key data");
	} else if (t->key_file) {
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLKEY, t->key_file);
	}
	return 0;
}

static void
unlink_all(struct nap_http_req *r)
{
	struct nap_http *h = r->pool;

	if (r->prev)
		r->prev->next = r->next;
	else
		h->all = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static void
unqueue(struct nap_http_req *r)
{
	struct nap_http *h = r->pool;
	struct nap_http_req **pp, *prev = NULL;

	if (!r->queued)
		return;
	for (pp = &h->done_head; *pp; prev = *pp, pp = &(*pp)->done_next) {
		if (*pp == r) {
			*pp = r->done_next;
			if (h->done_tail == r)
				h->done_tail = prev;
			break;
		}
	}
	r->done_next = NULL;
	r->queued = 0;
}

struct nap_http_req *
nap_http_start(struct nap_http *h, const struct nap_http_opts *o, struct nap_err *err)
{
	struct nap_http_req *r;
	const char *method = o->method ? o->method : "GET";
	CURL *e;
	char *line;

	if (!o->url) {
		nap_err_set(err, NAP_EX_SOFTWARE, "http request without a url");
		return NULL;
	}
	r = nap_xcalloc(1, sizeof(*r));
	r->pool = h;
	r->resp.retry_after = -1;
	r->max_body = o->max_body ? o->max_body : HTTP_DEFAULT_MAX_BODY;
	r->on_data = o->on_data;
	r->arg = o->arg;
	r->url = nap_xstrdup(o->url);
	r->next = h->all;
	if (h->all)
		h->all->prev = r;
	h->all = r;
	r->easy = e = curl_easy_init();
	if (!e) {
		nap_http_req_free(r);
		nap_err_set(err, NAP_EX_SOFTWARE, "unable to create a libcurl handle");
		return NULL;
	}
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_SHARE, h->share);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, HTTP_USER_AGENT);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000L);
	if (o->timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	if (o->idle_timeout_s > 0) {
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, o->idle_timeout_s);
	}
	if (o->proxy) {
		r->proxy = nap_xstrdup(o->proxy);
		curl_easy_setopt(e, CURLOPT_PROXY, r->proxy);
	}
	if (setup_tls(r, o->tls, err) != 0) {
		nap_http_req_free(r);
		return NULL;
	}
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (o->body) {
		r->body = nap_xmalloc(o->body_len + 1);
		memcpy(r->body, o->body, o->body_len);
		r->body[o->body_len] = '\0';
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
	}
	r->hdrs = curl_slist_append(r->hdrs, "Accept: application/json");
	/* An empty Expect: saves a round trip on bodies over 1 KiB. */
	r->hdrs = curl_slist_append(r->hdrs, "Expect:");
	if (o->content_type) {
		line = nap_xasprintf("Content-Type: %s", o->content_type);
		r->hdrs = curl_slist_append(r->hdrs, line);
		free(line);
	}
	if (o->bearer) {
		line = nap_xasprintf("Authorization: Bearer %s", o->bearer);
		r->hdrs = curl_slist_append(r->hdrs, line);
		/* The token must not linger in freed memory longer than needed. */
		memset(line, 0, strlen(line));
		free(line);
	}
	for (const char *const *hp = o->headers; hp && *hp; hp++)
		r->hdrs = curl_slist_append(r->hdrs, *hp);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		nap_http_req_free(r);
		nap_err_set(err, NAP_EX_SOFTWARE, "unable to add a transfer to the pool");
		return NULL;
	}
	r->running = 1;
	h->nrunning++;
	return r;
}

static void
collect(struct nap_http *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left))) {
		struct nap_http_req *r = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (!r)
			continue;
		r->result = m->data.result;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->resp.status);
		h->answers[r->resp.status >= 100 && r->resp.status < 600 ? r->resp.status / 100 : 0]++;
		{
			long v = 0;

			curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &v);
			if (v == CURL_HTTP_VERSION_2_0)
				r->resp.http_version = 2;
			else if (v == CURL_HTTP_VERSION_3)
				r->resp.http_version = 3;
			else
				r->resp.http_version = v ? 1 : 0;
		}
		curl_multi_remove_handle(h->multi, r->easy);
		r->running = 0;
		r->finished = 1;
		h->nrunning--;
		r->done_next = NULL;
		if (h->done_tail)
			h->done_tail->done_next = r;
		else
			h->done_head = r;
		h->done_tail = r;
		r->queued = 1;
	}
}

int
nap_http_wait(struct nap_http *h, int extra_fd, int timeout_ms, struct nap_err *err)
{
	struct curl_waitfd wfd;
	int still, n = 0, ready = 0;
	CURLMcode mc;

	mc = curl_multi_perform(h->multi, &still);
	if (mc != CURLM_OK)
		return nap_err_set(err, NAP_EX_SOFTWARE, "libcurl: %s", curl_multi_strerror(mc));
	collect(h);
	if (h->done_head)
		timeout_ms = 0;
	memset(&wfd, 0, sizeof(wfd));
	if (extra_fd >= 0) {
		wfd.fd = extra_fd;
		wfd.events = CURL_WAIT_POLLIN;
		n = 1;
	}
	mc = curl_multi_poll(h->multi, n ? &wfd : NULL, (unsigned)n, timeout_ms, NULL);
	if (mc != CURLM_OK && mc != CURLM_UNRECOVERABLE_POLL)
		return nap_err_set(err, NAP_EX_SOFTWARE, "libcurl: %s", curl_multi_strerror(mc));
	if (n && (wfd.revents & (CURL_WAIT_POLLIN | CURL_WAIT_POLLPRI)))
		ready = 1;
	mc = curl_multi_perform(h->multi, &still);
	if (mc != CURLM_OK)
		return nap_err_set(err, NAP_EX_SOFTWARE, "libcurl: %s", curl_multi_strerror(mc));
	collect(h);
	return ready;
}

struct nap_http_req *
nap_http_done(struct nap_http *h)
{
	struct nap_http_req *r = h->done_head;

	if (r)
		unqueue(r);
	return r;
}

void
nap_http_answers(const struct nap_http *h, unsigned long out[6])
{
	memcpy(out, h->answers, sizeof(h->answers));
}

int
nap_http_running(const struct nap_http *h)
{
	return h->nrunning;
}

static int
is_tls_failure(CURLcode c)
{
	switch (c) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CRL_BADFILE:
		return 1;
	default:
		return 0;
	}
}

char *
nap_http_url_redact(const char *url)
{
	return nap_xstrndup(url, strcspn(url, "?#"));
}

int
nap_http_url_plain(const char *url)
{
	const char *h, *end;
	size_t n;

	if (strncasecmp(url, "http://", 7) != 0)
		return 0;
	h = url + 7;
	end = h + strcspn(h, "/?#");
	n = (size_t)(end - h);
	/* Loopback and link-local (169.254.169.254 is IMDS) never leave the host. */
	if ((n >= 9 && strncasecmp(h, "localhost", 9) == 0 && (n == 9 || h[9] == ':')) ||
	    strncmp(h, "127.", 4) == 0 || strncmp(h, "[::1]", 5) == 0 ||
	    strncmp(h, "169.254.", 8) == 0)
		return 0;
	return 1;
}

int
nap_http_result(struct nap_http_req *r, const struct nap_http_resp **resp, struct nap_err *err)
{
	/* Messages name the URL without its query: keys and tokens travel there. */
	char *u;
	int rc;

	if (resp)
		*resp = &r->resp;
	if (r->finished && r->result == CURLE_OK)
		return 0;
	u = nap_http_url_redact(r->url);
	if (!r->finished)
		rc = nap_err_set(err, NAP_EX_SOFTWARE, "%s: request still running", u);
	else if (r->aborted && r->resp.len >= r->max_body)
		rc = nap_err_set(err, NAP_EX_UNAVAILABLE, "%s: response body over %zu bytes", u,
		    r->max_body);
	else if (r->aborted)
		rc = nap_err_set(err, NAP_EX_UNAVAILABLE, "%s: transfer stopped by its reader", u);
	else if (is_tls_failure(r->result))
		rc = nap_err_set(err, NAP_EX_CONFIG, "tls: %s: %s", u,
		    r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->result));
	else
		rc = nap_err_set(err, NAP_EX_UNAVAILABLE, "%s: %s", u,
		    r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->result));
	free(u);
	return rc;
}

void *
nap_http_req_arg(const struct nap_http_req *r)
{
	return r->arg;
}

int
nap_http_req_finished(const struct nap_http_req *r)
{
	return r->finished;
}

void
nap_http_req_free(struct nap_http_req *r)
{
	if (!r)
		return;
	if (r->running) {
		curl_multi_remove_handle(r->pool->multi, r->easy);
		r->pool->nrunning--;
	}
	unqueue(r);
	unlink_all(r);
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	free(r->url);
	free(r->body);
	free(r->proxy);
	resp_clear(&r->resp);
	free(r);
}

int
nap_http_do(struct nap_http *h, const struct nap_http_opts *o, struct nap_http_resp *resp,
    struct nap_err *err)
{
	struct nap_http_req *r;
	int rc;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after = -1;
	r = nap_http_start(h, o, err);
	if (!r)
		return -1;
	while (!r->finished) {
		if (nap_http_wait(h, -1, 1000, err) < 0) {
			nap_http_req_free(r);
			return -1;
		}
	}
	unqueue(r);
	rc = nap_http_result(r, NULL, err);
	if (rc != 0 && err)
		err->http = r->resp.status;
	*resp = r->resp;
	memset(&r->resp, 0, sizeof(r->resp));
	nap_http_req_free(r);
	return rc;
}

int
nap_http_status_code(long status)
{
	if (status >= 200 && status < 300)
		return NAP_EX_OK;
	if (status == 401 || status == 403)
		return NAP_EX_NOPERM;
	if (status == 404 || status == 409 || status == 410)
		return NAP_EX_NO;
	if (status == 408 || status == 429 || status >= 500)
		return NAP_EX_TEMPFAIL;
	if (status == 400 || status == 422)
		return NAP_EX_DATAERR;
	return NAP_EX_SOFTWARE;
}

char *
nap_http_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *out;

	if (!e)
		abort();
	out = nap_xstrdup(e);
	curl_free(e);
	return out;
}
