/*
 * metrics-http.c - GET /metrics from a libmicrohttpd thread (contract in
 * metrics.h).  The registry's mutex makes rendering safe against the tool's
 * updates; the server holds no other state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "metrics.h"
#include "thread.h"

#define HOST_MAX 128

#if MHD_VERSION < 0x00097002
typedef int mhd_result;
#else
typedef enum MHD_Result mhd_result;
#endif

struct nap_metrics_server {
	struct MHD_Daemon *d;
	struct nap_metrics *m;
	int port;
	char host[HOST_MAX]; /* as bound: "127.0.0.1", "::1" */
};

static mhd_result
answer(struct MHD_Connection *c, unsigned status, char *body, size_t len, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	mhd_result ret;

	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static mhd_result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	struct nap_metrics_server *s = cls;
	size_t len;
	char *body;

	(void)version;
	(void)upload;
	if (!*con_cls) { /* first call: headers only */
		*con_cls = s;
		return MHD_YES;
	}
	if (*upload_len) {
		*upload_len = 0; /* a body is ignored */
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0) {
		body = nap_xstrdup("not found: the metrics are at /metrics\n");
		return answer(c, MHD_HTTP_NOT_FOUND, body, strlen(body), "text/plain");
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		body = nap_xstrdup("method not allowed\n");
		return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, body, strlen(body), "text/plain");
	}
	body = nap_metrics_render(s->m, &len);
	return answer(c, MHD_HTTP_OK, body, len, "text/plain; version=0.0.4; charset=utf-8");
}

/* addr -> socket address; 0 or -1. */
static int
parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sl, char *host)
{
	const char *colon, *port_s;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':' || (size_t)(close - addr - 1) >= HOST_MAX)
			return -1;
		memcpy(host, addr + 1, (size_t)(close - addr - 1));
		host[close - addr - 1] = '\0';
		port_s = close + 2;
	} else if ((colon = strrchr(addr, ':'))) {
		if ((size_t)(colon - addr) >= HOST_MAX)
			return -1;
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = '\0';
		port_s = colon + 1;
	} else {
		host[0] = '\0';
		port_s = addr;
	}
	if (!host[0])
		snprintf(host, HOST_MAX, "127.0.0.1");
	errno = 0;
	port = strtol(port_s, &end, 10);
	if (!*port_s || *end || errno || port < 0 || port > 65535)
		return -1;
	{
		struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
			v4->sin_family = AF_INET;
			v4->sin_port = htons((uint16_t)port);
			*sl = sizeof(*v4);
			return 0;
		}
		if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
			v6->sin6_family = AF_INET6;
			v6->sin6_port = htons((uint16_t)port);
			*sl = sizeof(*v6);
			return 0;
		}
	}
	return -1;
}

struct nap_metrics_server *
nap_metrics_serve(struct nap_metrics *m, const char *addr, struct nap_err *err)
{
	struct nap_metrics_server *s;
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
	socklen_t sl;
	sigset_t old;
	int e;
	char host[HOST_MAX];

	if (parse_addr(addr, &ss, &sl, host) != 0) {
		nap_err_set(err, NAP_EX_USAGE,
		    "bad metrics address \"%s\" (want HOST:PORT, [V6]:PORT or PORT)", addr);
		return NULL;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s = nap_xcalloc(1, sizeof(*s));
	s->m = m;
	snprintf(s->host, sizeof(s->host), "%s", host);
	errno = 0;
	nap_thread_sigblock(&old); /* MHD's thread inherits the mask */
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	e = errno;
	nap_thread_sigrestore(&old);
	errno = e;
	if (!s->d) {
		nap_err_set(err, NAP_EX_UNAVAILABLE, "unable to listen on %s for metrics: %s", addr,
		    strerror(errno ? errno : EADDRINUSE));
		free(s);
		return NULL;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	(void)sl;
	return s;
}

int
nap_metrics_server_port(const struct nap_metrics_server *s)
{
	return s ? s->port : 0;
}

const char *
nap_metrics_server_host(const struct nap_metrics_server *s)
{
	return s ? s->host : "";
}

void
nap_metrics_server_free(struct nap_metrics_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
