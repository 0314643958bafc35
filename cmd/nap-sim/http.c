/*
 * http.c - serving: libmicrohttpd daemons driven from nap-sim's own poll
 * loop (external epoll mode, one thread), request bodies gathered under a
 * size cap, requests routed to the Kubernetes API, the token endpoint or
 * ARM, responses with the headers real servers send, watch streams fed by
 * a content-reader callback that suspends its connection while there is
 * nothing to send, and answers delayed by latency faults.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "core.h"
#include "json.h"
#include "prog.h"

struct sim_http {
	struct MHD_Daemon *d[3]; /* kube, arm, insecure */
	int n;
	struct sim_conn *conns; /* every open connection */
	int stopping;		/* in sim_http_stop: suspend no connection again */
};

struct sim_conn {
	struct sim_conn *prev, *next;
	struct sim *sim;
	int kind;
	char *body;
	size_t len, alloc;
	int too_big;
	struct MHD_Connection *mc;
	struct sim_resp delayed; /* answer held back by a latency fault */
	unsigned long timer;
	struct stream *stream;
	int suspended;
};

/*
 * A watch being streamed.  The connection and the MHD response each hold a
 * reference: MHD may finish the connection before or after it destroys the
 * response, so neither may free what the other still uses.
 */
struct stream {
	int refs;
	struct sim *sim;
	struct sim_watch *watch;
	struct MHD_Connection *mc; /* NULL once the connection is done */
	int suspended;
};

static void
stream_unref(struct stream *st)
{
	if (--st->refs > 0)
		return;
	if (st->watch)
		sim_watch_free(st->sim, st->watch);
	free(st);
}

struct daemon_ctx {
	struct sim *sim;
	int kind;
};

static struct daemon_ctx ctxs[3];

void
sim_resp_free(struct sim_resp *resp)
{
	int i;

	free(resp->body);
	free(resp->retry_after);
	free(resp->azure_async_operation);
	free(resp->location);
	for (i = 0; i < resp->nhdr; i++) {
		free(resp->hdr_name[i]);
		free(resp->hdr_value[i]);
	}
	memset(resp, 0, sizeof(*resp));
}

void
sim_resp_json(struct sim_resp *resp, int status, json_object *body)
{
	size_t n;
	const char *s = nap_json_line(body, &n);

	free(resp->body);
	resp->body = nap_xmalloc(n + 2);
	memcpy(resp->body, s, n);
	resp->body[n] = '\n';
	resp->body[n + 1] = '\0';
	resp->body_len = n + 1;
	resp->status = status;
	resp->content_type = "application/json";
	json_object_put(body);
}

void
sim_resp_status(struct sim_resp *resp, int code, const char *reason, const char *fmt, ...)
{
	json_object *st = json_object_new_object();
	char *msg;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		nap_die(NAP_EX_SOFTWARE, "out of memory");
	va_end(ap);
	json_object_object_add(st, "kind", json_object_new_string("Status"));
	json_object_object_add(st, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(st, "metadata", json_object_new_object());
	json_object_object_add(st, "status", json_object_new_string("Failure"));
	json_object_object_add(st, "message", json_object_new_string(msg));
	json_object_object_add(st, "reason", json_object_new_string(reason));
	json_object_object_add(st, "code", json_object_new_int(code));
	free(msg);
	sim_resp_json(resp, code, st);
}

void
sim_resp_header(struct sim_resp *resp, const char *name, const char *value)
{
	if (resp->nhdr >= SIM_RESP_MAX_HEADERS)
		return;
	resp->hdr_name[resp->nhdr] = nap_xstrdup(name);
	resp->hdr_value[resp->nhdr] = nap_xstrdup(value);
	resp->nhdr++;
}

void
sim_resp_set_watch(struct sim_resp *resp, struct sim_watch *w)
{
	resp->stream = w;
	resp->status = 200;
}

const char *
sim_req_header(const struct sim_req *req, const char *name)
{
	if (!req->conn)
		return NULL;
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
sim_req_query(const struct sim_req *req, const char *key)
{
	if (!req->conn)
		return NULL;
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

struct qbuf {
	char *s;
	size_t len, alloc;
};

static void
qappend(struct qbuf *q, const char *s)
{
	size_t n = strlen(s);

	nap_xgrow(&q->s, &q->alloc, q->len + n + 1, 1);
	memcpy(q->s + q->len, s, n + 1);
	q->len += n;
}

static void
qappend_enc(struct qbuf *q, const char *s)
{
	char b[4];

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-_.~", c)) {
			b[0] = (char)c;
			b[1] = '\0';
		} else {
			snprintf(b, sizeof(b), "%%%02X", c);
		}
		qappend(q, b);
	}
}

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct qbuf *q = cls;

	if (q->len)
		qappend(q, "&");
	qappend_enc(q, key);
	if (value) {
		qappend(q, "=");
		qappend_enc(q, value);
	}
	return MHD_YES;
}

/* Kubernetes paths on the insecure port; everything else is ARM's. */
static int
kube_path(const char *p)
{
	static const char *const pre[] = {
	    "/api",
	    "/apis",
	    "/version",
	    "/openapi",
	    "/healthz",
	    "/livez",
	    "/readyz",
	};
	size_t i, n;

	for (i = 0; i < NAP_ARRAY_LEN(pre); i++) {
		n = strlen(pre[i]);
		if (!strncmp(p, pre[i], n) && (p[n] == '\0' || p[n] == '/'))
			return 1;
	}
	return 0;
}

int
sim_secret_ok(const struct sim *sim, const char *s)
{
	const char *t = sim->token;
	size_t n = strlen(t), m = s ? strlen(s) : 0, i;
	unsigned char d = (unsigned char)(n != m);

	/* Constant time over the secret's length: a timing oracle would leak it. */
	for (i = 0; i < n; i++)
		d |= (unsigned char)(t[i] ^ (i < m ? s[i] : 0));
	return s && d == 0;
}

int
sim_req_admin(const struct sim *sim, const struct sim_req *req)
{
	const char *a = req->authorization;

	return a && !strncasecmp(a, "Bearer ", 7) && sim_secret_ok(sim, a + 7);
}

static int
authorized(struct sim *sim, const struct sim_req *req)
{
	return sim_req_admin(sim, req);
}

static void
dispatch(struct sim *sim, int kind, const struct sim_req *req, struct sim_resp *resp)
{
	int kube = kind == SIM_PORT_KUBE || (kind == SIM_PORT_INSECURE && kube_path(req->path));

	if (!kube) {
		if (!sim_token_handle(sim, req, resp) && !sim_arm_handle(sim, req, resp)) {
			json_object *e = json_object_new_object(), *in = json_object_new_object();

			json_object_object_add(in, "code", json_object_new_string("NotFound"));
			json_object_object_add(in, "message",
			    json_object_new_string("The requested resource does not exist."));
			json_object_object_add(e, "error", in);
			sim_resp_json(resp, 404, e);
		}
		return;
	}
	if (kind == SIM_PORT_KUBE && !authorized(sim, req)) {
		sim_resp_status(resp, 401, "Unauthorized", "Unauthorized");
		return;
	}
	if (sim_fault_k8s(sim, req, resp))
		return;
	if (sim_discovery_handle(sim, req, resp))
		return;
	sim_kapi_handle(sim, req, resp);
}

static void
add_headers(struct MHD_Response *r, const struct sim_resp *resp)
{
	char uid[40];
	int i;

	MHD_add_response_header(
	    r, "Content-Type", resp->content_type ? resp->content_type : "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-cache, private");
	sim_uuid(uid);
	MHD_add_response_header(r, "Audit-Id", uid);
	if (resp->retry_after)
		MHD_add_response_header(r, "Retry-After", resp->retry_after);
	if (resp->azure_async_operation)
		MHD_add_response_header(r, "Azure-AsyncOperation", resp->azure_async_operation);
	if (resp->location)
		MHD_add_response_header(r, "Location", resp->location);
	for (i = 0; i < resp->nhdr; i++)
		MHD_add_response_header(r, resp->hdr_name[i], resp->hdr_value[i]);
}

static void
wake_stream(void *p)
{
	struct stream *st = p;

	if (st->suspended && st->mc) {
		st->suspended = 0;
		MHD_resume_connection(st->mc);
	}
}

static ssize_t
watch_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	long n;

	(void)pos;
	if (!st->watch || !st->mc)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = sim_watch_read(st->watch, buf, max);
	if (n > 0)
		return n;
	if (n == -1)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n == -2)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	/* Stopping: MHD aborts if stopped with a connection suspended. */
	if (st->sim->http && st->sim->http->stopping)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* Nothing to send: park the connection until an event wakes it. */
	sim_watch_set_waiting(st->watch, 1);
	st->suspended = 1;
	MHD_suspend_connection(st->mc);
	return 0;
}

static void
watch_reader_free(void *cls)
{
	struct stream *st = cls;

	if (st->watch) {
		sim_watch_free(st->sim, st->watch);
		st->watch = NULL;
	}
	stream_unref(st);
}

static enum MHD_Result
queue(struct sim_conn *c, struct sim_resp *resp)
{
	static char empty[1];
	struct MHD_Response *r;
	enum MHD_Result ok;

	if (resp->stream) {
		struct stream *st = nap_xcalloc(1, sizeof(*st));

		st->refs = 2;
		st->sim = c->sim;
		st->watch = resp->stream;
		st->mc = c->mc;
		c->stream = st;
		sim_watch_attach(st->watch, st, wake_stream);
		r = MHD_create_response_from_callback(
		    MHD_SIZE_UNKNOWN, 64 * 1024, watch_reader, st, watch_reader_free);
		add_headers(r, resp);
		ok = MHD_queue_response(c->mc, 200, r);
		MHD_destroy_response(r);
		return ok;
	}
	r = MHD_create_response_from_buffer(resp->body ? resp->body_len : 0,
	    resp->body ? resp->body : empty, MHD_RESPMEM_MUST_COPY);
	add_headers(r, resp);
	ok = MHD_queue_response(c->mc, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ok;
}

static void
delayed_answer(struct sim *sim, void *arg)
{
	struct sim_conn *c = arg;

	c->timer = 0;
	queue(c, &c->delayed);
	sim_resp_free(&c->delayed);
	if (c->suspended) {
		c->suspended = 0;
		MHD_resume_connection(c->mc);
	}
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct daemon_ctx *ctx = cls;
	struct sim *sim = ctx->sim;
	struct sim_conn *c = *con_cls;
	struct sim_req req;
	struct sim_resp resp;
	struct qbuf q = {NULL, 0, 0};
	enum MHD_Result ok;

	if (!c) {
		c = nap_xcalloc(1, sizeof(*c));
		c->sim = sim;
		c->kind = ctx->kind;
		c->mc = mc;
		c->next = sim->http->conns;
		if (c->next)
			c->next->prev = c;
		sim->http->conns = c;
		*con_cls = c;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!c->too_big && c->len + *upload_size > sim->opts.max_body) {
			c->too_big = 1;
			free(c->body);
			c->body = NULL;
			c->len = c->alloc = 0;
		}
		if (!c->too_big) {
			nap_xgrow(&c->body, &c->alloc, c->len + *upload_size + 1, 1);
			memcpy(c->body + c->len, upload, *upload_size);
			c->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (c->timer || c->stream)
		return MHD_YES;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	nap_xgrow(&c->body, &c->alloc, c->len + 1, 1);
	c->body[c->len] = '\0';
	MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
	req.method = method;
	req.path = url;
	req.query = q.s ? q.s : "";
	req.body = c->body;
	req.body_len = c->len;
	req.content_type = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Type");
	req.authorization = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Authorization");
	req.port_kind = c->kind;
	req.conn = mc;
	(void)version;

	if (c->too_big)
		sim_resp_status(&resp, 413, "RequestEntityTooLarge",
		    "Request entity too large: limit is %zu", sim->opts.max_body);
	else
		dispatch(sim, c->kind, &req, &resp);
	nap_debug("%s %s%s%s -> %d", method, url, q.len ? "?" : "", req.query, resp.status);
	free(q.s);
	if (resp.drop) {
		if (resp.stream)
			sim_watch_free(sim, resp.stream);
		sim_resp_free(&resp);
		return MHD_NO;
	}
	if (resp.status == 0)
		sim_resp_status(&resp, 500, "InternalError", "no answer for %s %s", method, url);
	if (resp.delay > 0 && !resp.stream && !sim->http->stopping) {
		c->delayed = resp;
		c->suspended = 1;
		MHD_suspend_connection(mc);
		c->timer = sim_after(sim, resp.delay * sim_scale(sim), delayed_answer, c);
		return MHD_YES;
	}
	ok = queue(c, &resp);
	resp.stream = NULL;
	sim_resp_free(&resp);
	return ok;
}

static void
on_completed(
    void *cls, struct MHD_Connection *mc, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct sim_conn *c = *con_cls;

	(void)cls;
	(void)mc;
	(void)toe;
	if (!c)
		return;
	if (c->timer)
		sim_cancel(c->sim, c->timer);
	sim_resp_free(&c->delayed);
	if (c->stream) {
		c->stream->mc = NULL;
		stream_unref(c->stream);
	}
	if (c->prev)
		c->prev->next = c->next;
	else if (c->sim->http && c->sim->http->conns == c)
		c->sim->http->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->body);
	free(c);
	*con_cls = NULL;
}

static struct MHD_Daemon *
start_one(struct sim *sim, int kind, int port, int tls, int *bound, struct nap_err *err)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	int slot = kind - 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, sim->opts.listen, &sa.sin_addr) != 1) {
		nap_err_set(err, NAP_EX_USAGE, "bad listen address %s", sim->opts.listen);
		return NULL;
	}
	ctxs[slot].sim = sim;
	ctxs[slot].kind = kind;
	if (tls)
		flags |= MHD_USE_TLS;
	d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, &ctxs[slot],
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	    NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
	    tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, sim->key_pem,
	    MHD_OPTION_HTTPS_MEM_CERT, sim->cert_pem, MHD_OPTION_END);
	if (!d) {
		nap_err_set(err, NAP_EX_UNAVAILABLE, "unable to listen on %s:%d: %s",
		    sim->opts.listen, port, strerror(errno ? errno : EADDRINUSE));
		return NULL;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*bound = info ? info->port : port;
	return d;
}

int
sim_http_start(struct sim *sim, struct nap_err *err)
{
	struct sim_http *h = nap_xcalloc(1, sizeof(*h));
	int port;

	sim->http = h;
	h->d[0] = start_one(sim, SIM_PORT_KUBE, sim->opts.port, 1, &port, err);
	if (!h->d[0])
		return -1;
	sim->kube_url = nap_xasprintf("https://%s:%d", sim->opts.listen, port);
	h->d[1] = start_one(sim, SIM_PORT_ARM, sim->opts.arm_port, 1, &port, err);
	if (!h->d[1])
		return -1;
	sim->arm_url = nap_xasprintf("https://%s:%d", sim->opts.listen, port);
	h->n = 2;
	if (sim->opts.insecure_port >= 0) {
		h->d[2] = start_one(sim, SIM_PORT_INSECURE, sim->opts.insecure_port, 0, &port, err);
		if (!h->d[2])
			return -1;
		sim->insecure_url = nap_xasprintf("http://%s:%d", sim->opts.listen, port);
		h->n = 3;
	}
	return 0;
}

/* Wait up to timeout seconds for network activity and serve it. */
int
sim_http_poll(struct sim *sim, double timeout)
{
	struct sim_http *h = sim->http;
	struct pollfd pfd[3];
	int i, ms;

	for (i = 0; i < h->n; i++) {
		MHD_UNSIGNED_LONG_LONG to;

		MHD_run(h->d[i]);
		if (MHD_get_timeout(h->d[i], &to) == MHD_YES && to / 1000.0 < timeout)
			timeout = to / 1000.0;
	}
	for (i = 0; i < h->n; i++) {
		const union MHD_DaemonInfo *info =
		    MHD_get_daemon_info(h->d[i], MHD_DAEMON_INFO_EPOLL_FD);

		pfd[i].fd = info ? info->epoll_fd : -1;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	ms = timeout <= 0 ? 0 : (int)(timeout * 1000) + 1;
	if (poll(pfd, (nfds_t)h->n, ms) < 0 && errno != EINTR)
		return -1;
	for (i = 0; i < h->n; i++)
		MHD_run(h->d[i]);
	return 0;
}

/* Answer what latency faults hold back, and wake parked watch streams. */
static void
resume_all(struct sim *sim)
{
	struct sim_conn *c;

	for (c = sim->http->conns; c; c = c->next) {
		if (c->timer) {
			sim_cancel(sim, c->timer);
			delayed_answer(sim, c);
		}
		if (c->stream)
			wake_stream(c->stream);
	}
}

void
sim_http_stop(struct sim *sim)
{
	struct sim_http *h = sim->http;
	int i, round;

	if (!h)
		return;
	/*
	 * MHD must not be stopped with a connection suspended: from here on
	 * no answer is held back and no watch parks (clients still connected
	 * may send requests while the daemons are polled below), and what is
	 * suspended now is let go.
	 */
	h->stopping = 1;
	resume_all(sim);
	/* Let open watches end cleanly before the daemons go. */
	sim_watch_close_all(sim);
	for (round = 0; round < 20 && sim->watches; round++)
		sim_http_poll(sim, 0.05);
	sim_watch_drop_all(sim);
	for (round = 0; round < 5; round++)
		sim_http_poll(sim, 0.01);
	resume_all(sim);
	sim_http_poll(sim, 0);
	for (i = 0; i < h->n; i++)
		MHD_stop_daemon(h->d[i]);
	free(h);
	sim->http = NULL;
}
