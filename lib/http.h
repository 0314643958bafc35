/*
 * http.h - HTTPS requests over libcurl: one pool (a curl multi handle, so one
 * connection cache, HTTP/2 multiplexing when the server offers it) that runs
 * many transfers on one thread, and a blocking call built on the same core.
 *
 * Non-blocking use: nap_http_start() queues a request; nap_http_wait() waits
 * for network activity (or an extra fd, or a timeout) and drives every
 * transfer; nap_http_done() hands back the requests that finished, each
 * carrying its response or transport error.  The blocking nap_http_do() is
 * start + wait until that one request is done; other requests in the pool
 * progress meanwhile and stay queued for nap_http_done().
 *
 * TLS verification is on unless the caller asks for insecure; proxies come
 * from the environment (HTTPS_PROXY, NO_PROXY: libcurl reads them; nothing
 * here disables that) unless the options name one.  A streaming request
 * (on_data set) gets its 2xx body in pieces as they arrive; a non-2xx body is
 * still collected into the response so the caller can read the error.
 *
 * Ownership: the pool owns its requests until nap_http_req_free(); the
 * response is owned by its request.  Option strings are copied at start.
 * Errors: transport failures fill struct nap_err with NAP_EX_UNAVAILABLE
 * (a TLS verification failure with NAP_EX_CONFIG: retrying cannot fix a wrong
 * CA); an HTTP status is not an error at this level, see nap_http_status_code().
 */
#ifndef NAP_HTTP_H
#define NAP_HTTP_H

#include <stddef.h>

#include "nap.h"

struct nap_http;
struct nap_http_req;

/* TLS material.  A *_data field holds PEM bytes and wins over its *_file. */
struct nap_http_tls {
	const char *ca_file;
	const char *ca_data;
	size_t ca_len;
	const char *cert_file;
	const char *cert_data;
	size_t cert_len;
	const char *key_file;
	const char *key_data;
	size_t key_len;
	int insecure; /* skip verification: only when asked */
	/*
	 * ca_file adds to the system's trust anchors instead of replacing
	 * them (azure.caFile).  libcurl's CURLOPT_CAINFO and _BLOB replace
	 * the system bundle, so the pool builds one blob of the system bundle
	 * (libcurl's built-in CURLINFO_CAINFO) followed by ca_file, once per
	 * file.  Ignored when ca_data is set.
	 */
	int ca_add;
};

/*
 * Called with each piece of a 2xx body of a streaming request.  Return 0 to
 * go on, -1 to abort the transfer (it then finishes with an error).
 */
typedef int nap_http_data_fn(void *arg, const char *buf, size_t len);

struct nap_http_opts {
	const char *method; /* NULL = GET */
	const char *url;
	const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
	const char *bearer;	    /* Authorization: Bearer ..., or NULL */
	const char *content_type;   /* of body, or NULL */
	const char *body;
	size_t body_len;
	const struct nap_http_tls *tls; /* NULL = system CA bundle */
	const char *proxy;		/* NULL = from the environment */
	long connect_timeout_ms;	/* 0 = 10 s */
	long timeout_ms;		/* whole transfer; 0 = none (watches) */
	long idle_timeout_s;		/* abort after this long without a byte; 0 = off */
	size_t max_body;		/* cap on a collected body; 0 = 256 MiB */
	nap_http_data_fn *on_data;	/* streaming, or NULL to collect */
	void *arg;			/* for on_data and nap_http_req_arg() */
};

struct nap_http_resp {
	long status; /* 0 when no response arrived */
	char *body;  /* collected body, NUL-terminated (empty when streamed) */
	size_t len;
	char *content_type; /* or NULL */
	long retry_after;   /* seconds from Retry-After, -1 when absent */
	long http_version;  /* 1, 2 (0 unknown) */
};

/* A new pool.  Fails only when libcurl cannot be initialised. */
struct nap_http *nap_http_new(struct nap_err *err);
/* Cancels what is still running and frees every request of the pool. */
void nap_http_free(struct nap_http *h);

/* Queue a request; NULL with err filled when an option is refused by libcurl. */
struct nap_http_req *nap_http_start(
    struct nap_http *h, const struct nap_http_opts *o, struct nap_err *err);

/*
 * Drive the transfers: wait up to timeout_ms for activity on the pool or on
 * extra_fd (-1 for none), then make progress.  Returns 1 when extra_fd is
 * readable, 0 otherwise, -1 on a libcurl failure.  EINTR returns early (0),
 * so a caller can check its signal flag.
 */
int nap_http_wait(struct nap_http *h, int extra_fd, int timeout_ms, struct nap_err *err);

/* Next finished request (in completion order), or NULL. */
struct nap_http_req *nap_http_done(struct nap_http *h);
/*
 * Requests of the pool that finished, by answer: out[0] without one (a
 * transport failure), out[N] with a status Nxx; for metrics.  Requests
 * cancelled before they finished are not counted.
 */
void nap_http_answers(const struct nap_http *h, unsigned long out[6]);
/* Number of requests started and not yet finished. */
int nap_http_running(const struct nap_http *h);

/*
 * The outcome of a finished request: 0 with *resp pointing at the response
 * (owned by req), or -1 with err describing the transport failure (resp still
 * holds whatever status arrived).
 */
int nap_http_result(
    struct nap_http_req *req, const struct nap_http_resp **resp, struct nap_err *err);
void *nap_http_req_arg(const struct nap_http_req *req);
int nap_http_req_finished(const struct nap_http_req *req);
/* Cancel (if running) and free.  NULL is fine. */
void nap_http_req_free(struct nap_http_req *req);

/*
 * Blocking: run one request to completion.  On 0, resp holds the response
 * (caller frees it with nap_http_resp_free); -1 on a transport failure.
 */
int nap_http_do(struct nap_http *h, const struct nap_http_opts *o, struct nap_http_resp *resp,
    struct nap_err *err);
void nap_http_resp_free(struct nap_http_resp *resp);

/* The NAP_EX_* a tool would exit with for an HTTP status (0 for 2xx). */
int nap_http_status_code(long status);

/*
 * The bundle ca_add uses: the PEM of system_file (NULL: libcurl's built-in
 * CA bundle; a missing one is skipped, the system directory then still
 * applies) followed by that of extra_file.  *out is the caller's.
 * NAP_EX_CONFIG when extra_file cannot be read or holds no certificate.
 */
int nap_http_ca_bundle(const char *system_file, const char *extra_file, char **out, size_t *len,
    struct nap_err *err);

/*
 * 1 when url is plain http:// to a host other than loopback or a link-local
 * address (the instance metadata service is plain http by design): a
 * bearer token sent there crosses a network in clear.
 */
int nap_http_url_plain(const char *url);

/* url for a message: scheme, host and path, the query (keys, tokens) left out. */
char *nap_http_url_redact(const char *url);

/* Percent-encode s for a query value or path segment; caller frees. */
char *nap_http_escape(const char *s);

#endif
