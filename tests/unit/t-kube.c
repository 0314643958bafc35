/*
 * t-kube.c - kubeconfig loading and merging, in-cluster configuration, exec
 * credential plugins, Status errors and paths of lib/kube.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "kube.h"
#include "prog.h"
#include "tap.h"
#include "yaml.h"

static char tmpdir[] = "/tmp/t-kube.XXXXXX";

static void
write_file(const char *name, const char *text, int mode)
{
	char *path = nap_xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	chmod(path, (mode_t)mode);
	free(path);
}

static json_object *
yaml_doc(const char *text)
{
	json_object *docs = NULL, *d;
	struct nap_err err;

	if (nap_yaml_load(text, strlen(text), "test", &docs, &err) != 0) {
		printf("Bail out! yaml: %s\n", err.msg);
		exit(1);
	}
	d = json_object_get(json_object_array_get_idx(docs, 0));
	json_object_put(docs);
	return d;
}

static const char first[] = "apiVersion: v1\n"
			    "kind: Config\n"
			    "current-context: one\n"
			    "clusters:\n"
			    "- name: shared\n"
			    "  cluster:\n"
			    "    server: https://first.example:6443/\n"
			    "    certificate-authority: ca/first.crt\n"
			    "contexts:\n"
			    "- name: one\n"
			    "  context: {cluster: shared, user: alice, namespace: team-a}\n"
			    "users:\n"
			    "- name: alice\n"
			    "  user:\n"
			    "    token: alice-token\n"
			    "    client-certificate: certs/alice.crt\n"
			    "    client-key: /abs/alice.key\n";

static const char second[] = "apiVersion: v1\n"
			     "kind: Config\n"
			     "current-context: two\n"
			     "clusters:\n"
			     "- name: shared\n"
			     "  cluster: {server: https://second.example}\n"
			     "- name: other\n"
			     "  cluster:\n"
			     "    server: https://other.example\n"
			     "    insecure-skip-tls-verify: true\n"
			     "    certificate-authority-data: aGVsbG8gY2E=\n"
			     "contexts:\n"
			     "- name: two\n"
			     "  context: {cluster: other, user: bob}\n"
			     "- name: one\n"
			     "  context: {cluster: other, user: bob}\n"
			     "- name: ghost\n"
			     "  context: {cluster: nowhere, user: bob}\n"
			     "users:\n"
			     "- name: bob\n"
			     "  user:\n"
			     "    tokenFile: bob.token\n"
			     "    client-key-data: c2VjcmV0IGtleQ==\n"
			     "    client-certificate-data: Y2VydA==\n"
			     "- name: plugin\n"
			     "  user:\n"
			     "    exec:\n"
			     "      apiVersion: client.authentication.k8s.io/v1beta1\n"
			     "      command: ./bin/kubelogin\n"
			     "      args: [get-token, --login, msi, --timeout, 30]\n"
			     "      env: [{name: AZURE_CLIENT_ID, value: abc}]\n"
			     "      provideClusterInfo: true\n";

static void
test_merge(void)
{
	json_object *merged = json_object_new_object(), *a = yaml_doc(first), *b = yaml_doc(second);
	struct nap_kube_config c;
	struct nap_err err;

	TAP_IS_INT(nap_kube_config_merge(merged, a, "/home/u/.kube/a", &err), 0,
	    "a first kubeconfig merges");
	TAP_IS_INT(
	    nap_kube_config_merge(merged, b, "/etc/kube/b", &err), 0, "a second kubeconfig merges");
	TAP_IS_STR(nap_json_str(merged, "current-context", NULL), "one",
	    "the first file that sets current-context wins");
	TAP_IS_STR(
	    nap_json_str(nap_json_key(nap_json_key(merged, "clusters"), "shared"), "server", NULL),
	    "https://first.example:6443/", "the first file to define a cluster name wins");
	TAP_OK(nap_json_key(nap_json_key(merged, "clusters"), "other") != NULL,
	    "names only the second file defines are kept");

	nap_kube_config_init(&c);
	TAP_IS_INT(
	    nap_kube_config_resolve(&c, merged, NULL, &err), 0, "the current context resolves");
	TAP_IS_STR(c.server, "https://first.example:6443", "the server loses its trailing slash");
	TAP_IS_STR(c.ca_file, "/home/u/.kube/ca/first.crt",
	    "a relative CA path is relative to the file that named it");
	TAP_IS_STR(c.cert_file, "/home/u/.kube/certs/alice.crt",
	    "a relative client certificate path is relative to its file");
	TAP_IS_STR(c.key_file, "/abs/alice.key", "an absolute key path stays as written");
	TAP_IS_STR(c.token, "alice-token", "the user's token is read");
	TAP_IS_STR(c.namespace, "team-a", "the context's namespace is read");
	TAP_IS_INT(c.insecure, 0, "TLS verification stays on unless asked otherwise");
	nap_kube_config_free(&c);

	nap_kube_config_init(&c);
	TAP_IS_INT(
	    nap_kube_config_resolve(&c, merged, "two", &err), 0, "an explicit context resolves");
	TAP_IS_INT(c.insecure, 1, "insecure-skip-tls-verify is honoured when set");
	TAP_OK(c.ca_data && c.ca_len == 8 && memcmp(c.ca_data, "hello ca", 8) == 0,
	    "certificate-authority-data is base64-decoded");
	TAP_OK(c.key_data && strcmp(c.key_data, "secret key") == 0,
	    "client-key-data is base64-decoded");
	TAP_IS_STR(c.token_file, "/etc/kube/bob.token", "tokenFile is relative to its file");
	TAP_IS_STR(c.namespace, "default", "a context without a namespace means default");
	nap_kube_config_free(&c);

	nap_kube_config_init(&c);
	TAP_IS_INT(nap_kube_config_resolve(&c, merged, "ghost", &err), -1,
	    "a context naming a missing cluster is refused");
	TAP_IS_INT(err.code, NAP_EX_CONFIG, "a bad kubeconfig is a configuration error");
	TAP_OK(strstr(err.msg, "nowhere") != NULL, "the message names the missing cluster");
	nap_kube_config_free(&c);

	nap_kube_config_init(&c);
	TAP_IS_INT(
	    nap_kube_config_resolve(&c, merged, "nope", &err), -1, "an unknown context is refused");
	nap_kube_config_free(&c);

	json_object_put(merged);
	json_object_put(a);
	json_object_put(b);
}

static void
test_exec_config(void)
{
	json_object *merged = json_object_new_object(), *b = yaml_doc(second), *ctx;
	struct nap_kube_config c;
	struct nap_err err;

	nap_kube_config_merge(merged, b, "/etc/kube/b", &err);
	ctx = json_object_new_object();
	json_object_object_add(ctx, "cluster", json_object_new_string("other"));
	json_object_object_add(ctx, "user", json_object_new_string("plugin"));
	json_object_object_add(nap_json_key(merged, "contexts"), "p", ctx);
	nap_kube_config_init(&c);
	TAP_IS_INT(nap_kube_config_resolve(&c, merged, "p", &err), 0,
	    "a user with an exec plugin resolves");
	TAP_OK(c.exec != NULL, "the exec section is read");
	if (c.exec) {
		TAP_IS_STR(c.exec->command, "/etc/kube/./bin/kubelogin",
		    "a relative plugin command with a slash is relative to its file");
		TAP_IS_STR(c.exec->argv[0], c.exec->command, "argv[0] is the command");
		TAP_IS_STR(c.exec->argv[4], "--timeout", "arguments keep their order");
		TAP_IS_STR(c.exec->argv[5], "30", "a numeric argument is passed as written");
		TAP_OK(c.exec->argv[6] == NULL, "argv ends with NULL");
		TAP_IS_STR(c.exec->env[0], "AZURE_CLIENT_ID=abc", "exec env becomes NAME=value");
		TAP_IS_INT(c.exec->provide_cluster_info, 1, "provideClusterInfo is read");
	}
	nap_kube_config_free(&c);
	json_object_put(merged);
	json_object_put(b);
}

static void
test_exec_parse(void)
{
	static const char ok[] =
	    "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"token\":\"eyJ.a.b\",\"expirationTimestamp\":\"2030-01-02T03:04:05Z\"}}";
	static const char v1[] =
	    "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"clientCertificateData\":\"-----BEGIN CERTIFICATE-----\","
	    "\"clientKeyData\":\"-----BEGIN KEY-----\"}}";
	struct nap_kube_cred cred;
	struct nap_err err;
	time_t t;

	TAP_IS_INT(nap_kube_exec_parse(
		       ok, strlen(ok), "client.authentication.k8s.io/v1beta1", &cred, &err),
	    0, "a v1beta1 ExecCredential with a token parses");
	TAP_IS_STR(cred.token, "eyJ.a.b", "its token is taken");
	nap_kube_time_parse("2030-01-02T03:04:05Z", &t);
	TAP_IS_INT(cred.expires, t, "its expirationTimestamp is taken");
	TAP_IS_INT(t, 1893553445, "an RFC 3339 UTC time converts to the right epoch second");
	nap_kube_cred_free(&cred);

	TAP_IS_INT(
	    nap_kube_exec_parse(v1, strlen(v1), "client.authentication.k8s.io/v1", &cred, &err), 0,
	    "a v1 ExecCredential with a client certificate parses");
	TAP_OK(cred.cert_data && cred.key_data && !cred.token && cred.expires == 0,
	    "certificate and key are taken, no expiry means none");
	nap_kube_cred_free(&cred);

	TAP_IS_INT(
	    nap_kube_exec_parse(ok, strlen(ok), "client.authentication.k8s.io/v1", &cred, &err), -1,
	    "an answer in another apiVersion than asked is refused");
	TAP_IS_INT(nap_kube_exec_parse("{\"kind\":\"Pod\"}", 14, NULL, &cred, &err), -1,
	    "an answer that is not an ExecCredential is refused");
	TAP_IS_INT(nap_kube_exec_parse(
		       "{\"kind\":\"ExecCredential\",\"status\":{}}", 37, NULL, &cred, &err),
	    -1, "an ExecCredential without a token or certificate is refused");
	TAP_IS_INT(nap_kube_exec_parse("token", 5, NULL, &cred, &err), -1,
	    "output that is not JSON is refused");
	TAP_IS_INT(err.code, NAP_EX_CONFIG, "plugin failures are configuration errors");
}

static void
test_time(void)
{
	time_t t = 0;

	TAP_IS_INT(
	    nap_kube_time_parse("1970-01-01T00:01:00.123456Z", &t), 0, "fractional seconds parse");
	TAP_IS_INT(t, 60, "fractional seconds are dropped");
	TAP_IS_INT(nap_kube_time_parse("1970-01-01T02:00:00+02:00", &t), 0, "offsets parse");
	TAP_IS_INT(t, 0, "an offset is subtracted");
	TAP_IS_INT(
	    nap_kube_time_parse("1970-01-01 02:00:00", &t), -1, "a time without zone is refused");
}

static void
test_exec_run(void)
{
	struct nap_kube_exec x;
	struct nap_kube_cred cred;
	struct nap_err err;
	char *cmd = nap_xasprintf("%s/plugin.sh", tmpdir);
	char *bad = nap_xasprintf("%s/bad.sh", tmpdir);
	char arg1[] = "arg with space", envv[] = "PLUGIN_TOKEN=tok-from-env";
	char api[] = "client.authentication.k8s.io/v1", missing[] = "nap-no-such-plugin";
	char *argv[] = {cmd, arg1, NULL};
	char *env[] = {envv, NULL};

	write_file("plugin.sh",
	    "#!/bin/sh\n"
	    "case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*) ;; *) exit 3 ;; esac\n"
	    "case \"$KUBERNETES_EXEC_INFO\" in *'\"server\":\"https://k.example\"'*) ;; *) exit 4 "
	    ";; esac\n"
	    "[ \"$1\" = 'arg with space' ] || exit 5\n"
	    "printf "
	    "'{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"token\":\"%s\"}}\\n' \"$PLUGIN_TOKEN\"\n",
	    0755);
	write_file("bad.sh", "#!/bin/sh\nexit 2\n", 0755);
	memset(&x, 0, sizeof(x));
	x.api_version = api;
	x.command = cmd;
	x.argv = argv;
	x.env = env;
	x.provide_cluster_info = 1;
	TAP_IS_INT(nap_kube_exec_run(&x, "https://k.example", &cred, &err), 0,
	    "an exec plugin runs without a shell, with its env and KUBERNETES_EXEC_INFO");
	TAP_IS_STR(cred.token, "tok-from-env", "the plugin's token comes back");
	nap_kube_cred_free(&cred);

	x.command = bad;
	argv[0] = bad;
	TAP_IS_INT(nap_kube_exec_run(&x, NULL, &cred, &err), -1, "a failing plugin is an error");
	TAP_OK(strstr(err.msg, "exit 2") != NULL, "the message gives the plugin's exit status");

	x.command = missing;
	argv[0] = x.command;
	TAP_IS_INT(nap_kube_exec_run(&x, NULL, &cred, &err), -1, "a missing plugin is an error");
	free(cmd);
	free(bad);
}

static void
test_load(void)
{
	struct nap_kube_config c;
	struct nap_err err;
	char *list;

	write_file("a.yaml", first, 0644);
	write_file("b.yaml", second, 0644);
	list = nap_xasprintf("%s/missing.yaml:%s/b.yaml:%s/a.yaml", tmpdir, tmpdir, tmpdir);
	setenv("KUBECONFIG", list, 1);
	unsetenv("KUBERNETES_SERVICE_HOST");
	TAP_IS_INT(nap_kube_config_load(&c, NULL, NULL, &err), 0,
	    "$KUBECONFIG with several files (one missing) loads");
	TAP_IS_STR(c.context, "two", "current-context comes from the first file setting it");
	TAP_IS_STR(c.server, "https://other.example", "the context's cluster is used");
	nap_kube_config_free(&c);
	TAP_IS_INT(nap_kube_config_load(&c, NULL, "one", &err), 0, "--context picks a context");
	TAP_IS_STR(
	    c.server, "https://other.example", "the context definition of the earlier file wins");
	nap_kube_config_free(&c);
	free(list);

	list = nap_xasprintf("%s/a.yaml", tmpdir);
	TAP_IS_INT(nap_kube_config_load(&c, list, NULL, &err), 0,
	    "an explicit path overrides $KUBECONFIG");
	TAP_IS_STR(c.server, "https://first.example:6443", "the explicit file's context is used");
	nap_kube_config_free(&c);
	free(list);

	list = nap_xasprintf("%s/none.yaml", tmpdir);
	TAP_IS_INT(nap_kube_config_load(&c, list, NULL, &err), -1,
	    "a missing explicit kubeconfig is an error");
	TAP_IS_INT(err.code, NAP_EX_CONFIG, "it exits as a configuration error");
	free(list);

	write_file("broken.yaml", "clusters: [\n", 0644);
	list = nap_xasprintf("%s/broken.yaml", tmpdir);
	TAP_IS_INT(
	    nap_kube_config_load(&c, list, NULL, &err), -1, "an unparsable kubeconfig is an error");
	TAP_IS_INT(err.code, NAP_EX_CONFIG, "unparsable YAML is a configuration error");
	free(list);
	unsetenv("KUBECONFIG");
}

static void
test_incluster(void)
{
	struct nap_kube_config c;
	struct nap_err err;
	char *sa = nap_xasprintf("%s/sa", tmpdir);

	mkdir(sa, 0755);
	write_file("sa/token", "sa-token\n", 0600);
	write_file("sa/ca.crt", "-----BEGIN CERTIFICATE-----\n", 0644);
	write_file("sa/namespace", "nap-system\n", 0644);
	setenv("NAP_SERVICEACCOUNT_DIR", sa, 1);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	unsetenv("KUBECONFIG");
	TAP_IS_INT(nap_kube_config_load(&c, NULL, NULL, &err), 0,
	    "in-cluster configuration is used when the service host is set");
	TAP_IS_STR(c.server, "https://[fd00::1]:443", "an IPv6 service host is bracketed");
	TAP_IS_STR(c.namespace, "nap-system", "the service account's namespace is read");
	TAP_OK(c.token_file && strstr(c.token_file, "/sa/token"),
	    "the token is a file, re-read as it rotates");
	nap_kube_config_free(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
	free(sa);
}

static void
test_status(void)
{
	static const char forbidden[] =
	    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
	    "\"message\":\"nodes is forbidden: User \\\"x\\\" cannot "
	    "list\",\"reason\":\"Forbidden\","
	    "\"code\":403}";
	struct nap_err err;

	nap_kube_status_err(403, forbidden, strlen(forbidden), "GET /api/v1/nodes", &err);
	TAP_IS_INT(err.code, NAP_EX_NOPERM, "403 maps to not permitted");
	TAP_IS_INT(err.http, 403, "the HTTP status is kept");
	TAP_OK(strstr(err.msg, "Forbidden: nodes is forbidden") != NULL,
	    "reason and message come from the Status body");
	nap_kube_status_err(401, "Unauthorized\n", 13, "GET /api", &err);
	TAP_IS_INT(err.code, NAP_EX_NOPERM, "401 maps to not permitted");
	TAP_OK(strstr(err.msg, "401 Unauthorized") != NULL, "a plain-text body is quoted");
	nap_kube_status_err(410, NULL, 0, "GET /api/v1/pods", &err);
	TAP_IS_INT(err.code, NAP_EX_NO, "410 is a well-formed no");
	nap_kube_status_err(503, NULL, 0, "GET /api/v1/pods", &err);
	TAP_IS_INT(err.code, NAP_EX_TEMPFAIL, "503 is try again");
}

static void
test_path(void)
{
	char *p = nap_kube_path("/api/v1/pods", "labelSelector", "app in (a,b),!x", "limit", "500",
	    "continue", "", (char *)NULL);

	TAP_IS_STR(p, "/api/v1/pods?labelSelector=app%20in%20%28a%2Cb%29%2C%21x&limit=500",
	    "query values are percent-encoded and empty ones skipped");
	free(p);
	p = nap_kube_path("/api/v1/pods?watch=1", "resourceVersion", "12", (char *)NULL);
	TAP_IS_STR(p, "/api/v1/pods?watch=1&resourceVersion=12", "a path with a query is extended");
	free(p);
}

/*
 * A forked API server for the blocking helpers: it answers each connection
 * by the request line and the token, and exits after n connections.
 */
/* The status line and body to answer req with. */
static const char *
answer_for(const char *req, const char **body, const char **extra)
{
	static int busy;
	int good = strstr(req, "Authorization: Bearer good\r\n") != NULL;

	*body = "";
	*extra = "";
	/* Retries: a 429 with Retry-After once, then the object; a 503 to a POST. */
	if (strncmp(req, "GET /api/v1/namespaces/default/pods/busy ", 41) == 0) {
		if (busy++ == 0) {
			*extra = "Retry-After: 1\r\n";
			*body = "{\"kind\":\"Status\",\"reason\":\"TooManyRequests\",\"code\":429}";
			return "429 Too Many Requests";
		}
		*body = "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"busy\"}}";
		return "200 OK";
	}
	if (strncmp(req, "POST /api/v1/namespaces/default/pods ", 37) == 0) {
		*body = "{\"kind\":\"Status\",\"reason\":\"InternalError\",\"code\":503}";
		return "503 Service Unavailable";
	}
	if (strncmp(req, "GET /api/v1/namespaces/default/pods/throttled ", 46) == 0) {
		*extra = "Retry-After: 0\r\n";
		*body = "{\"kind\":\"Status\",\"reason\":\"TooManyRequests\",\"code\":429}";
		return "429 Too Many Requests";
	}
	if (!good) {
		*body = "Unauthorized\n";
		return "401 Unauthorized";
	}
	if (strncmp(req, "GET /api/v1/namespaces/default/pods/web ", 40) == 0) {
		*body = "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\"}}";
		return "200 OK";
	}
	if (strncmp(req, "GET /api/v1/namespaces/default/pods/gone ", 41) == 0) {
		*body = "{\"kind\":\"Status\",\"status\":\"Failure\","
			"\"message\":\"pods \\\"gone\\\" not "
			"found\",\"reason\":\"NotFound\",\"code\":404}";
		return "404 Not Found";
	}
	if (strncmp(req, "GET /api/v1/pods?limit=2 ", 25) == 0) {
		*body = "{\"metadata\":{\"resourceVersion\":\"9\",\"continue\":\"c 2\"},"
			"\"items\":[{\"n\":1},{\"n\":2}]}";
		return "200 OK";
	}
	if (strncmp(req, "GET /api/v1/pods?limit=2&continue=c%202 ", 40) == 0) {
		*body = "{\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[{\"n\":3}]}";
		return "200 OK";
	}
	if (strncmp(req, "PATCH /apis/karpenter.sh/v1/nodeclaims/x ", 41) == 0 &&
	    strstr(req, "Content-Type: application/merge-patch+json\r\n") &&
	    strstr(req, "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}")) {
		*body = "{}";
		return "200 OK";
	}
	return "400 Bad Request";
}

static pid_t
fork_server(int *port, int n)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 8) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
		printf("Bail out! listener: %s\n", strerror(errno));
		exit(1);
	}
	*port = ntohs(a.sin_port);
	fflush(stdout);
	pid = fork();
	if (pid != 0) {
		close(lfd);
		return pid;
	}
	alarm(60);
	for (int i = 0; i < n; i++) {
		char req[8192];
		size_t got = 0;
		ssize_t r;
		const char *hdr_end;
		int c = accept(lfd, NULL, NULL);

		if (c < 0)
			_exit(1);
		req[0] = '\0';
		/* The head, then as much body as Content-Length says. */
		while (
		    got + 1 < sizeof(req) && (r = read(c, req + got, sizeof(req) - got - 1)) > 0) {
			const char *cl;

			got += (size_t)r;
			req[got] = '\0';
			if (!(hdr_end = strstr(req, "\r\n\r\n")))
				continue;
			cl = strstr(req, "Content-Length: ");
			if (!cl || cl > hdr_end ||
			    got >= (size_t)(hdr_end + 4 - req) + strtoul(cl + 16, NULL, 10))
				break;
		}
		{
			const char *body, *extra, *st = answer_for(req, &body, &extra);
			char *ans;

			/* Rotate before answering, so the client's retry finds the new token. */
			if (strncmp(st, "401", 3) == 0) {
				char *from = nap_xasprintf("%s/rotating.new", tmpdir);
				char *to = nap_xasprintf("%s/rotating", tmpdir);

				write_file("rotating.new", "good\n", 0600);
				if (rename(from, to) != 0)
					_exit(1);
				free(from);
				free(to);
			}
			ans = nap_xasprintf("HTTP/1.1 %s\r\nContent-Type: application/json\r\n%s"
					    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			    st, extra, strlen(body), body);

			if (write(c, ans, strlen(ans)) < 0)
				_exit(1);
			free(ans);
		}
		close(c);
	}
	_exit(0);
}

static void
test_requests(void)
{
	struct nap_kube_config c;
	struct nap_kube *k;
	struct nap_err err;
	json_object *out = NULL, *patch;
	char *rv = NULL, *tokfile = nap_xasprintf("%s/rotating", tmpdir);
	int port, status;
	pid_t pid;

	/* 401 (the server then rotates the token), get, 404, two pages, a patch. */
	pid = fork_server(&port, 6);
	write_file("rotating", "stale\n", 0600);
	nap_kube_config_init(&c);
	c.server = nap_xasprintf("http://127.0.0.1:%d", port);
	c.token_file = nap_xstrdup(tokfile);
	k = nap_kube_new(&c, NULL, &err);
	TAP_OK(k != NULL, "a client is made from a configuration");
	if (!k)
		return;
	TAP_OK(c.server == NULL, "the client took the configuration over");
	TAP_IS_INT(nap_kube_get(k, "/api/v1/namespaces/default/pods/web", &out, &err), 0,
	    "a 401 re-reads the rotated token file and the get succeeds on the retry");
	TAP_IS_STR(nap_json_str(out, "metadata.name", NULL), "web", "the answer is parsed");
	json_object_put(out);
	TAP_IS_INT(nap_kube_get(k, "/api/v1/namespaces/default/pods/gone", &out, &err), -1,
	    "a 404 is an error");
	TAP_IS_INT(err.http, 404, "it carries the HTTP status");
	TAP_IS_INT(err.code, NAP_EX_NO, "a missing object is a well-formed no");
	TAP_OK(strstr(err.msg, "NotFound: pods \"gone\" not found") != NULL,
	    "reason and message come from the Status");
	TAP_IS_INT(nap_kube_list(k, "/api/v1/pods", 2, &out, &rv, &err), 0,
	    "a paginated list follows continue tokens");
	TAP_IS_INT(out ? json_object_array_length(out) : 0, 3, "every page's items are returned");
	TAP_IS_STR(rv, "9", "the list's resourceVersion is returned");
	json_object_put(out);
	free(rv);
	patch = json_tokener_parse("{\"metadata\":{\"labels\":{\"a\":\"b\"}}}");
	TAP_IS_INT(
	    nap_kube_patch(k, "/apis/karpenter.sh/v1/nodeclaims/x", "merge", patch, NULL, &err), 0,
	    "a merge patch is sent with its media type");
	json_object_put(patch);
	TAP_IS_INT(nap_kube_get(k, "/apis/karpenter.sh/v1/nodeclaims/a b\nc", &out, &err), -1,
	    "a path with a raw space and newline is refused");
	TAP_IS_INT(err.code, NAP_EX_DATAERR, "as bad input, never as an unreachable server");
	TAP_OK(strstr(err.msg, "nodeclaims/a b\\nc") != NULL, "naming the path quoted: %s", err.msg);
	nap_kube_free(k);
	waitpid(pid, &status, 0);
	TAP_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the server saw every request it expected");
	free(tokfile);
}

static void
test_retry_rule(void)
{
	uint64_t rng = 42;
	long d;

	TAP_OK(nap_kube_retry_ms(429, "POST", "application/json", -1, 1, 10000, &rng) >= 0,
	    "a 429 is retried whatever the method: the server did not act on it");
	TAP_IS_INT(nap_kube_retry_ms(503, "POST", "application/json", -1, 1, 10000, &rng), -1,
	    "a 503 to a POST is not retried: the create may have happened");
	TAP_OK(nap_kube_retry_ms(503, "GET", NULL, -1, 1, 10000, &rng) >= 0, "a 503 to a GET is");
	TAP_OK(nap_kube_retry_ms(500, "PATCH", "application/merge-patch+json", -1, 1, 10000,
		   &rng) >= 0,
	    "a 500 to a merge patch is: applying it twice is applying it once");
	TAP_IS_INT(nap_kube_retry_ms(500, "PATCH", "application/json-patch+json", -1, 1, 10000,
		       &rng),
	    -1, "a 500 to a JSON patch is not");
	TAP_IS_INT(nap_kube_retry_ms(404, "GET", NULL, -1, 1, 10000, &rng), -1,
	    "a 404 is not retried");
	TAP_IS_INT(nap_kube_retry_ms(200, "GET", NULL, -1, 1, 10000, &rng), -1,
	    "a success is not retried");
	d = nap_kube_retry_ms(429, "GET", NULL, 2, 1, 10000, &rng);
	TAP_OK(d >= 2000 && d <= 2200, "Retry-After is obeyed, with at most a tenth added");
	d = nap_kube_retry_ms(429, "GET", NULL, 3600, 1, 10000, &rng);
	TAP_OK(d >= 10000 && d <= 11000, "a Retry-After past the cap waits the cap");
	d = nap_kube_retry_ms(429, "GET", NULL, -1, 1, 10000, &rng);
	TAP_OK(d >= 125 && d <= 275, "without Retry-After the first backoff is about 250 ms");
	d = nap_kube_retry_ms(429, "GET", NULL, -1, 20, 10000, &rng);
	TAP_OK(d >= 5000 && d <= 11000, "the backoff stops growing at the cap");
}

/* A client of the fake server on port with the token it takes, or NULL (a failed check). */
static struct nap_kube *
retry_client(int port)
{
	struct nap_kube_config c;
	struct nap_kube *k;
	struct nap_err err;

	nap_kube_config_init(&c);
	c.server = nap_xasprintf("http://127.0.0.1:%d", port);
	c.token = nap_xstrdup("good");
	k = nap_kube_new(&c, NULL, &err);
	if (!k)
		TAP_OK(0, "a client for the retry server: %s", err.msg);
	return k;
}

static void
test_retries(void)
{
	struct nap_kube *k;
	struct nap_err err;
	json_object *out = NULL, *obj;
	struct timespec t0, t1;
	long ms;
	int port, status;
	pid_t pid;

	/* busy (429, then 200), a POST answered 503, then throttled 3 times. */
	pid = fork_server(&port, 6);
	if ((k = retry_client(port)) == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	TAP_IS_INT(nap_kube_get(k, "/api/v1/namespaces/default/pods/busy", &out, &err), 0,
	    "a 429 is retried and the get succeeds");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
	TAP_OK(ms >= 950, "after the Retry-After of 1 s");
	TAP_IS_STR(nap_json_str(out, "metadata.name", NULL), "busy", "the retry's answer is parsed");
	json_object_put(out);
	obj = json_tokener_parse("{\"metadata\":{\"name\":\"p\"}}");
	TAP_IS_INT(nap_kube_create(k, "/api/v1/namespaces/default/pods", obj, NULL, &err), -1,
	    "a POST answered 503 fails at once");
	TAP_IS_INT(err.http, 503, "with the status");
	json_object_put(obj);
	nap_kube_set_retry(k, 2, 1000);
	TAP_IS_INT(nap_kube_get(k, "/api/v1/namespaces/default/pods/throttled", NULL, &err), -1,
	    "a request still throttled after the retries fails");
	TAP_IS_INT(err.http, 429, "with the last status");
	TAP_IS_INT(err.code, NAP_EX_TEMPFAIL, "as a temporary failure");
	TAP_OK(strstr(err.msg, "(after 3 attempts)") != NULL, "saying how many attempts were made");
	nap_kube_free(k);
	waitpid(pid, &status, 0);
	TAP_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the server saw every request it expected, and no more");
}

/* A kubeconfig or token file anyone may rewrite is refused with 78. */
static void
test_perms(void)
{
	struct nap_kube_config c;
	struct nap_kube *k;
	struct nap_err err;
	char *kc = nap_xasprintf("%s/loose-kubeconfig", tmpdir);
	char *tok = nap_xasprintf("%s/loose-token", tmpdir);
	char *text = nap_xasprintf("apiVersion: v1\nkind: Config\n"
				   "clusters: [{name: c, cluster: {server: https://k.example}}]\n"
				   "users: [{name: u, user: {tokenFile: %s}}]\n"
				   "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
				   "current-context: x\n",
	    tok);

	write_file("loose-kubeconfig", text, 0666);
	write_file("loose-token", "secret\n", 0600);
	TAP_IS_INT(nap_kube_config_load(&c, kc, NULL, &err), -1,
	    "a world-writable kubeconfig is refused (it may run exec plugins)");
	TAP_IS_INT(err.code, NAP_EX_CONFIG, "as a configuration error");
	TAP_OK(strstr(err.msg, "kubeconfig") && strstr(err.msg, kc) && strstr(err.msg, "0666"),
	    "naming the file and its mode: %s", err.msg);
	nap_kube_config_free(&c);
	chmod(kc, 0644);
	TAP_IS_INT(nap_kube_config_load(&c, kc, NULL, &err), 0, "at 0644 it is read");
	chmod(tok, 0646);
	k = nap_kube_new(&c, NULL, &err);
	TAP_OK(k && nap_kube_get(k, "/version", NULL, &err) == -1 && err.code == NAP_EX_CONFIG &&
		strstr(err.msg, "token file") && strstr(err.msg, "0646"),
	    "a world-writable tokenFile is refused before any request: %s", err.msg);
	nap_kube_free(k);
	free(kc);
	free(tok);
	free(text);

	nap_kube_config_init(&c);
	c.server = nap_xstrdup("http://10.1.2.3:8080");
	TAP_OK(!nap_kube_plain_bearer(&c), "plain http without a bearer token is no leak");
	c.token = nap_xstrdup("t");
	TAP_OK(nap_kube_plain_bearer(&c), "with a token it is");
	free(c.server);
	c.server = nap_xstrdup("https://10.1.2.3:6443");
	TAP_OK(!nap_kube_plain_bearer(&c), "over https it is not");
	free(c.server);
	c.server = nap_xstrdup("http://127.0.0.1:8001");
	TAP_OK(!nap_kube_plain_bearer(&c), "nor to loopback (kubectl proxy)");
	nap_kube_config_free(&c);
}


/* A tool told to stop does not sit out a Retry-After: the retry ends at once. */
static void
test_retry_stops(void)
{
	struct nap_kube *k;
	struct nap_err err;
	struct timespec t0, t1;
	int port, status;
	pid_t pid;

	pid = fork_server(&port, 1);
	if ((k = retry_client(port)) == NULL)
		return;
	nap_prog_init("t-kube");
	raise(SIGTERM); /* the handler only notes it */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	TAP_IS_INT(nap_kube_get(k, "/api/v1/namespaces/default/pods/busy", NULL, &err), -1,
	    "with a termination signal pending, a 429 is not retried");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TAP_IS_INT(err.code, NAP_EX_TEMPFAIL, "it fails as a temporary failure");
	TAP_OK(strstr(err.msg, "stopping") != NULL, "saying it is stopping: %s", err.msg);
	TAP_OK(t1.tv_sec - t0.tv_sec < 1 || (t1.tv_sec - t0.tv_sec == 1 && t1.tv_nsec < t0.tv_nsec),
	    "without waiting out its Retry-After of 1 s");
	nap_kube_free(k);
	waitpid(pid, &status, 0);
	TAP_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the server saw the one request");
}

int
main(void)
{
	char *rm;

	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_merge();
	test_exec_config();
	test_exec_parse();
	test_time();
	test_exec_run();
	test_load();
	test_incluster();
	test_status();
	test_path();
	test_requests();
	test_retry_rule();
	test_retries();
	test_perms();
	test_retry_stops(); /* last: it leaves a stop signal pending */
	rm = nap_xasprintf("rm -rf '%s'", tmpdir);
	if (system(rm) != 0)
		printf("# could not remove %s\n", tmpdir);
	free(rm);
	return tap_done();
}
