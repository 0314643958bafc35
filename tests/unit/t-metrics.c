/* t-metrics - the registry, the text format, the textfile writer, the server. */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "metrics.h"
#include "tap.h"
#include "util.h"

static void
test_format(void)
{
	struct nap_metrics *m = nap_metrics_new();
	struct nap_metric *c, *g, *u;
	struct nap_err err;
	char *text;

	c = nap_metrics_add(m, NAP_METRIC_COUNTER, "karpenter_nodeclaims_created_total",
	    "Number of nodeclaims created.\nSecond line \\ backslash", "reason,nodepool", NULL, 0,
	    &err);
	g = nap_metrics_add(m, NAP_METRIC_GAUGE, "a_gauge", "A gauge.", "phase", NULL, 0, &err);
	u = nap_metrics_add(m, NAP_METRIC_GAUGE, "b_plain", "Unlabelled.", NULL, NULL, 0, &err);
	TAP_OK(c && g && u, "three families register");
	nap_metric_inc(c, "provisioning", "general");
	nap_metric_inc(c, "provisioning", "general");
	nap_metric_add(c, 3, "disruption", "a\"b\\c\nd");
	nap_metric_add(c, -5, "provisioning", "general");
	nap_metric_add(c, NAN, "provisioning", "general");
	nap_metric_set(g, 1.5, "Running");
	nap_metric_set(g, 2, "Pending");
	nap_metric_set(g, INFINITY, "Odd");
	nap_metric_inc(g, "Running"); /* wrong type: ignored */
	text = nap_metrics_render(m, NULL);
	TAP_IS_STR(text,
	    "# HELP a_gauge A gauge.\n"
	    "# TYPE a_gauge gauge\n"
	    "a_gauge{phase=\"Odd\"} +Inf\n"
	    "a_gauge{phase=\"Pending\"} 2\n"
	    "a_gauge{phase=\"Running\"} 1.5\n"
	    "# HELP b_plain Unlabelled.\n"
	    "# TYPE b_plain gauge\n"
	    "b_plain 0\n"
	    "# HELP karpenter_nodeclaims_created_total Number of nodeclaims created.\\nSecond line "
	    "\\\\ backslash\n"
	    "# TYPE karpenter_nodeclaims_created_total counter\n"
	    "karpenter_nodeclaims_created_total{reason=\"disruption\",nodepool=\"a\\\"b\\\\c\\nd\"}"
	    " "
	    "3\n"
	    "karpenter_nodeclaims_created_total{reason=\"provisioning\",nodepool=\"general\"} 2\n",
	    "families sorted by name, series by label values, HELP and label values escaped, "
	    "a counter never goes down");
	free(text);
	TAP_IS_INT(nap_metric_value(c, "provisioning", "general"), 2, "value reads a series back");
	nap_metric_reset(g);
	text = nap_metrics_render(m, NULL);
	TAP_OK(strstr(text, "a_gauge{") == NULL && strstr(text, "# TYPE a_gauge gauge\n"),
	    "a reset gauge keeps its HELP and TYPE and loses its series");
	free(text);
	nap_metrics_free(m);
}

static void
test_names(void)
{
	struct nap_metrics *m = nap_metrics_new();
	struct nap_metric *a, *b;
	struct nap_err err;

	TAP_OK(!nap_metrics_add(m, NAP_METRIC_COUNTER, "9bad", "", NULL, NULL, 0, &err) &&
		err.code == NAP_EX_SOFTWARE && strstr(err.msg, "9bad"),
	    "a name starting with a digit is refused, named");
	TAP_OK(!nap_metrics_add(m, NAP_METRIC_COUNTER, "x-y", "", NULL, NULL, 0, &err),
	    "a dash in a name is refused");
	TAP_OK(!nap_metrics_add(m, NAP_METRIC_COUNTER, "ok", "", "a,a", NULL, 0, &err),
	    "a repeated label is refused");
	TAP_OK(!nap_metrics_add(m, NAP_METRIC_COUNTER, "ok", "", "__x", NULL, 0, &err),
	    "a reserved label name is refused");
	TAP_OK(!nap_metrics_add(m, NAP_METRIC_HISTOGRAM, "h", "", "le", NULL, 0, &err),
	    "le is refused as a histogram's label");
	a = nap_metrics_add(m, NAP_METRIC_COUNTER, "ns:ok_total", "", "x", NULL, 0, &err);
	b = nap_metrics_add(m, NAP_METRIC_COUNTER, "ns:ok_total", "", "x", NULL, 0, &err);
	TAP_OK(a && a == b, "registering the same family twice returns it");
	TAP_OK(!nap_metrics_add(m, NAP_METRIC_GAUGE, "ns:ok_total", "", "x", NULL, 0, &err) &&
		strstr(err.msg, "already registered"),
	    "the same name with another type is refused");
	{
		double bad[] = {1, 1};

		TAP_OK(!nap_metrics_add(m, NAP_METRIC_HISTOGRAM, "h2", "", NULL, bad, 2, &err),
		    "histogram buckets must increase");
	}
	nap_metric_inc(NULL);
	TAP_OK(nap_metrics_add(NULL, NAP_METRIC_COUNTER, "x", "", NULL, NULL, 0, &err) == NULL,
	    "no registry, no family, and updates of a NULL family are ignored");
	nap_metrics_free(m);
}

static void
test_histogram(void)
{
	struct nap_metrics *m = nap_metrics_new();
	static const double b[] = {0.1, 1, 10};
	struct nap_metric *h =
	    nap_metrics_add(m, NAP_METRIC_HISTOGRAM, "d_seconds", "Durations.", "c", b, 3, NULL);
	struct nap_metric *d NAP_UNUSED =
	    nap_metrics_add(m, NAP_METRIC_HISTOGRAM, "e_seconds", "Default.", NULL, NULL, 0, NULL);
	char *text;

	nap_metric_observe(h, 0.05, "x");
	nap_metric_observe(h, 0.1, "x"); /* on the bound: that bucket (le) */
	nap_metric_observe(h, 5, "x");
	nap_metric_observe(h, 50, "x");
	text = nap_metrics_render(m, NULL);
	TAP_OK(strstr(text,
		   "# TYPE d_seconds histogram\n"
		   "d_seconds_bucket{c=\"x\",le=\"0.1\"} 2\n") != NULL,
	    "an observation on a bound counts in that bucket");
	TAP_OK(strstr(text,
		   "d_seconds_bucket{c=\"x\",le=\"1\"} 2\n"
		   "d_seconds_bucket{c=\"x\",le=\"10\"} 3\n"
		   "d_seconds_bucket{c=\"x\",le=\"+Inf\"} 4\n"
		   "d_seconds_sum{c=\"x\"} 55.15\n"
		   "d_seconds_count{c=\"x\"} 4\n") != NULL,
	    "buckets are cumulative, +Inf holds all, sum and count follow");
	TAP_OK(strstr(text, "e_seconds_bucket{le=\"0.005\"} 0\n") &&
		strstr(
		    text, "e_seconds_bucket{le=\"+Inf\"} 0\ne_seconds_sum 0\ne_seconds_count 0\n"),
	    "an unlabelled histogram with no observation prints zero buckets (default bounds)");
	if (!strstr(text, "d_seconds_sum"))
		printf("# %s", text);
	free(text);
	TAP_IS_INT(nap_metric_value(h, "x"), 4, "a histogram's value is its count");
	nap_metrics_free(m);
}

static void
test_file(void)
{
	struct nap_metrics *m = nap_metrics_new();
	struct nap_metric *c =
	    nap_metrics_add(m, NAP_METRIC_COUNTER, "x_total", "X.", NULL, NULL, 0, NULL);
	char dir[] = "/tmp/t-metrics.XXXXXX", *path, *text, *tmp;
	struct nap_err err;
	struct stat st;

	TAP_OK(mkdtemp(dir) != NULL, "temporary directory");
	path = nap_xasprintf("%s/nap.prom", dir);
	nap_metric_inc(c);
	TAP_OK(nap_metrics_write_file(m, path, &err) == 0, "the file is written");
	text = test_slurp(path, NULL);
	TAP_IS_STR(text, "# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n",
	    "the file holds the text format");
	free(text);
	TAP_OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "the file is mode 0644");
	tmp = nap_xasprintf("%s.tmp.%ld", path, (long)getpid());
	TAP_OK(access(tmp, F_OK) != 0, "no temporary file is left behind");
	/* A directory where the temporary file should go: the old file stays whole. */
	TAP_OK(mkdir(tmp, 0700) == 0, "block the temporary name");
	nap_metric_inc(c);
	TAP_OK(nap_metrics_write_file(m, path, &err) == -1 && err.code == NAP_EX_IOERR &&
		strstr(err.msg, path),
	    "a file that cannot be written is an I/O error naming it");
	text = test_slurp(path, NULL);
	TAP_OK(text && strstr(text, "x_total 1\n"), "and the previous file is left as it was");
	free(text);
	rmdir(tmp);
	unlink(path);
	rmdir(dir);
	free(tmp);
	free(path);
	nap_metrics_free(m);
}

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	char **out = arg;
	size_t old = *out ? strlen(*out) : 0;

	*out = nap_xrealloc(*out, old + size * n + 1);
	memcpy(*out + old, p, size * n);
	(*out)[old + size * n] = '\0';
	return size * n;
}

static long
get(const char *url, char **body, char *ctype, size_t ctsz)
{
	CURL *c = curl_easy_init();
	long status = 0;
	char *ct = NULL;

	*body = NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		snprintf(ctype, ctsz, "%s", ct ? ct : "");
	}
	curl_easy_cleanup(c);
	return status;
}

static void
test_server(void)
{
	struct nap_metrics *m = nap_metrics_new();
	struct nap_metric *c =
	    nap_metrics_add(m, NAP_METRIC_COUNTER, "served_total", "S.", NULL, NULL, 0, NULL);
	struct nap_metrics_server *s;
	struct nap_err err;
	char url[128], ct[128], *body;

	TAP_OK(!nap_metrics_serve(m, "localhost:x", &err) && err.code == NAP_EX_USAGE,
	    "a bad address is a usage error");
	TAP_OK(!nap_metrics_serve(m, "1.2.3.4.5:80", &err) && err.code == NAP_EX_USAGE,
	    "an address that is not an IP is a usage error");
	s = nap_metrics_serve(m, "0", &err);
	TAP_OK(s && nap_metrics_server_port(s) > 0, "port 0 takes a free port");
	TAP_IS_STR(nap_metrics_server_host(s), "127.0.0.1", "a bare port listens on loopback");
	if (!s) {
		printf("# %s\n", err.msg);
		nap_metrics_free(m);
		return;
	}
	nap_metric_add(c, 7);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", nap_metrics_server_port(s));
	TAP_IS_INT(get(url, &body, ct, sizeof(ct)), 200, "GET /metrics is 200");
	TAP_OK(body && strstr(body, "served_total 7\n"), "and carries the registry");
	TAP_IS_STR(ct, "text/plain; version=0.0.4; charset=utf-8", "as text format 0.0.4");
	free(body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/other", nap_metrics_server_port(s));
	TAP_IS_INT(get(url, &body, ct, sizeof(ct)), 404, "another path is 404");
	free(body);
	nap_metrics_server_free(s);
	nap_metrics_free(m);
}

int
main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_format();
	test_names();
	test_histogram();
	test_file();
	test_server();
	curl_global_cleanup();
	return tap_done();
}
