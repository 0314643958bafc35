/*
 * sim-load.c - load generator for bench/sim.sh: writes nodes and pods to
 * nap-sim's plain-HTTP port over one keep-alive connection while watchers
 * (child processes, one connection each) stream the pod watch, then prints
 * the write rate and the fan-out latency (request sent -> event received by
 * a watcher) as "key value" lines.
 *
 *   sim-load HOST PORT NODES PODS WATCHERS
 *
 * Built and run by bench/sim.sh only; not part of nap.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
dial(const char *host, int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("sim-load: connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void
write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror("sim-load: write");
			exit(1);
		}
		p += w;
		n -= (size_t)w;
	}
}

static char rbuf[1 << 16];
static size_t rlen;

/* Read one response (headers + Content-Length body); returns the status. */
static int
read_response(int fd)
{
	char *end, *cl;
	size_t need;
	int status;

	for (;;) {
		rbuf[rlen] = '\0';
		end = strstr(rbuf, "\r\n\r\n");
		if (end) {
			cl = strcasestr(rbuf, "Content-Length:");
			need = (size_t)(end + 4 - rbuf) + (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
			if (rlen >= need)
				break;
		}
		ssize_t n = read(fd, rbuf + rlen, sizeof(rbuf) - 1 - rlen);

		if (n <= 0) {
			fprintf(stderr, "sim-load: connection closed\n");
			exit(1);
		}
		rlen += (size_t)n;
	}
	status = atoi(rbuf + 9);
	memmove(rbuf, rbuf + need, rlen - need);
	rlen -= need;
	return status;
}

static void
post(int fd, const char *path, const char *body)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
	    "POST %s HTTP/1.1\r\nHost: sim\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n", path, strlen(body));

	write_all(fd, head, (size_t)n);
	write_all(fd, body, strlen(body));
	if (read_response(fd) != 201) {
		fprintf(stderr, "sim-load: POST %s: not created: %.200s\n", path, rbuf);
		exit(1);
	}
}

/* A watcher: count pod events by index, stamp their arrival, dump at the end. */
static void
watcher(const char *host, int port, int pods, int ready_fd, const char *out)
{
	int fd = dial(host, port), got = 0;
	int64_t *at = calloc((size_t)pods, sizeof(*at));
	static char buf[1 << 20];
	size_t len = 0;
	const char *req = "GET /api/v1/namespaces/bench/pods?watch=1 HTTP/1.0\r\nHost: sim\r\n\r\n";
	int headers = 0;
	FILE *f;

	write_all(fd, req, strlen(req));
	while (got < pods) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		char *p, *nl;

		if (n <= 0)
			break;
		int64_t t = now_ns();

		len += (size_t)n;
		buf[len] = '\0';
		p = buf;
		if (!headers) {
			char *e = strstr(buf, "\r\n\r\n");

			if (!e)
				continue;
			headers = 1;
			p = e + 4;
			if (write(ready_fd, "r", 1) != 1)
				exit(1);
			close(ready_fd);
		}
		while ((nl = strchr(p, '\n'))) {
			char *m = strstr(p, "\"name\":\"p");

			if (m && m < nl) {
				int i = atoi(m + 9);

				if (i >= 0 && i < pods && !at[i]) {
					at[i] = t;
					got++;
				}
			}
			p = nl + 1;
		}
		len -= (size_t)(p - buf);
		memmove(buf, p, len);
	}
	f = fopen(out, "w");
	for (int i = 0; f && i < pods; i++)
		fprintf(f, "%lld\n", (long long)at[i]);
	if (f)
		fclose(f);
	exit(got == pods ? 0 : 1);
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	const char *host;
	int port, nodes, pods, nw, fd, i, k, pfd[2];
	int64_t *sent, t0, t1, *lat;
	size_t nlat = 0;
	char path[256], body[2048], out[64];
	pid_t *kids;

	if (argc != 6) {
		fprintf(stderr, "usage: sim-load HOST PORT NODES PODS WATCHERS\n");
		return 64;
	}
	host = argv[1];
	port = atoi(argv[2]);
	nodes = atoi(argv[3]);
	pods = atoi(argv[4]);
	nw = atoi(argv[5]);
	sent = calloc((size_t)pods, sizeof(*sent));
	kids = calloc((size_t)nw, sizeof(*kids));

	fd = dial(host, port);
	post(fd, "/api/v1/namespaces",
	    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"bench\"}}");
	if (pipe(pfd) < 0)
		return 1;
	for (k = 0; k < nw; k++) {
		snprintf(out, sizeof(out), "w%d.txt", k);
		kids[k] = fork();
		if (kids[k] == 0) {
			close(pfd[0]);
			watcher(host, port, pods, pfd[1], out);
		}
	}
	close(pfd[1]);
	for (k = 0; k < nw; k++) {
		char c;

		if (read(pfd[0], &c, 1) != 1) {
			fprintf(stderr, "sim-load: a watcher failed to start\n");
			return 1;
		}
	}

	t0 = now_ns();
	for (i = 0; i < nodes; i++) {
		snprintf(body, sizeof(body),
		    "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n%05d\","
		    "\"labels\":{\"kubernetes.io/hostname\":\"n%05d\",\"node.kubernetes.io/instance-type\":\"Standard_D4s_v3\","
		    "\"topology.kubernetes.io/zone\":\"eastus-%d\",\"karpenter.sh/nodepool\":\"default\"}},"
		    "\"spec\":{\"providerID\":\"azure:///subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/n%05d\"},"
		    "\"status\":{\"capacity\":{\"cpu\":\"4\",\"memory\":\"16393340Ki\",\"pods\":\"110\"},"
		    "\"allocatable\":{\"cpu\":\"3860m\",\"memory\":\"12880436Ki\",\"pods\":\"110\"},"
		    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\"}]}}",
		    i, i, i % 3 + 1, i);
		post(fd, "/api/v1/nodes", body);
	}
	snprintf(path, sizeof(path), "/api/v1/namespaces/bench/pods");
	for (i = 0; i < pods; i++) {
		snprintf(body, sizeof(body),
		    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p%05d\","
		    "\"labels\":{\"app\":\"bench\",\"shard\":\"s%d\"}},"
		    "\"spec\":{\"nodeName\":\"n%05d\",\"containers\":[{\"name\":\"app\",\"image\":\"nginx\","
		    "\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}}}]}}",
		    i, i % 10, i % (nodes ? nodes : 1));
		sent[i] = now_ns();
		post(fd, path, body);
	}
	t1 = now_ns();
	printf("writes %d\n", nodes + pods);
	printf("seconds %.3f\n", (double)(t1 - t0) / 1e9);
	printf("writes_per_second %.0f\n", (nodes + pods) / ((double)(t1 - t0) / 1e9));

	lat = calloc((size_t)pods * (size_t)nw, sizeof(*lat));
	for (k = 0; k < nw; k++) {
		int st;
		FILE *f;
		long long v;

		waitpid(kids[k], &st, 0);
		snprintf(out, sizeof(out), "w%d.txt", k);
		f = fopen(out, "r");
		for (i = 0; f && i < pods && fscanf(f, "%lld", &v) == 1; i++)
			if (v)
				lat[nlat++] = v - sent[i];
		if (f)
			fclose(f);
		unlink(out);
	}
	qsort(lat, nlat, sizeof(*lat), cmp64);
	printf("events %zu\n", nlat);
	if (nlat) {
		printf("fanout_median_ms %.3f\n", lat[nlat / 2] / 1e6);
		printf("fanout_p99_ms %.3f\n", lat[nlat * 99 / 100] / 1e6);
	}
	return nlat == (size_t)pods * (size_t)nw ? 0 : 1;
}
