/*
 * kube.c - kubeconfig, credentials and requests for kube.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arm.h"
#include "base64.h"
#include "config.h"
#include "json.h"
#include "kube.h"
#include "prog.h"
#include "text.h"
#include "yaml.h"

extern char **environ;

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define EXEC_MAX_OUT (1u << 20)
#define EXEC_TIMEOUT_MS 120000
#define EXEC_EXPIRY_SLACK 10 /* seconds before expiry a token is renewed */
#define TOKEN_MAX (1u << 20)
#define REQUEST_TIMEOUT_MS 60000L
#define RETRIES 5
#define RETRY_CAP_MS 10000L
#define RETRY_BASE_MS 250

struct nap_kube {
	struct nap_kube_config c;
	struct nap_http *pool;
	int own_pool;
	struct nap_kube_cred cred; /* from the exec plugin */
	int have_cred;
	char *file_token; /* last content of token_file */
	struct timespec token_mtime;
	off_t token_size;
	ino_t token_ino;
	int token_read;
	struct nap_http_tls tls;
	unsigned retries; /* after the first attempt */
	long retry_cap_ms;
	uint64_t rng;
};

/* ---- small helpers ---- */

static char *
strip(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static int
read_file(const char *path, size_t max, char **out, size_t *len, struct nap_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0, alloc = 0;
	char *buf = NULL;
	ssize_t r;

	if (fd < 0)
		return nap_err_set(err, NAP_EX_CONFIG, "%s: %s", path, strerror(errno));
	for (;;) {
		nap_xgrow(&buf, &alloc, n + 4096 + 1, 1);
		r = read(fd, buf + n, alloc - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			close(fd);
			free(buf);
			return nap_err_set(err, NAP_EX_CONFIG, "%s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			close(fd);
			free(buf);
			return nap_err_set(
			    err, NAP_EX_CONFIG, "%s: larger than %zu bytes", path, max);
		}
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

int
nap_kube_plain_bearer(const struct nap_kube_config *c)
{
	return c->server && nap_http_url_plain(c->server) &&
	    ((c->token && *c->token) || c->token_file || c->exec);
}

int
nap_kube_time_parse(const char *s, time_t *t)
{
	struct tm tm;
	const char *p;
	long off = 0;
	time_t v;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		int hh, mm;

		if (!(p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' && p[3] == ':' &&
			p[4] >= '0' && p[4] <= '9' && p[5] >= '0' && p[5] <= '9'))
			return -1;
		hh = (p[1] - '0') * 10 + (p[2] - '0');
		mm = (p[4] - '0') * 10 + (p[5] - '0');
		off = sign * (hh * 3600L + mm * 60L);
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	v = timegm(&tm);
	if (v == (time_t)-1)
		return -1;
	*t = v - off;
	return 0;
}

static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return nap_xstrdup(".");
	if (slash == path)
		return nap_xstrdup("/");
	return nap_xstrndup(path, (size_t)(slash - path));
}

static char *
join_path(const char *dir, const char *p)
{
	if (!p || !*p || p[0] == '/')
		return nap_xstrdup(p ? p : "");
	return nap_xasprintf("%s/%s", dir, p);
}

/* ---- configuration ---- */

void
nap_kube_config_init(struct nap_kube_config *c)
{
	memset(c, 0, sizeof(*c));
}

static void
free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static void
exec_free(struct nap_kube_exec *x)
{
	if (!x)
		return;
	free(x->api_version);
	free(x->command);
	free_strv(x->argv);
	free_strv(x->env);
	free(x);
}

static void
free_secret(char *s, size_t n)
{
	if (s) {
		memset(s, 0, n);
		free(s);
	}
}

void
nap_kube_config_free(struct nap_kube_config *c)
{
	if (!c)
		return;
	free(c->source);
	free(c->context);
	free(c->namespace);
	free(c->server);
	free(c->ca_file);
	free(c->ca_data);
	free(c->cert_file);
	free(c->cert_data);
	free(c->key_file);
	free_secret(c->key_data, c->key_len);
	free(c->proxy_url);
	free_secret(c->token, c->token ? strlen(c->token) : 0);
	free(c->token_file);
	exec_free(c->exec);
	memset(c, 0, sizeof(*c));
}

/* Copy an entry, resolving the fields that name files against dir. */
static json_object *
resolve_entry(json_object *body, const char *dir, const char *const *pathkeys)
{
	json_object *copy = NULL;

	if (json_object_deep_copy(body, &copy, NULL) != 0)
		abort();
	for (const char *const *k = pathkeys; *k; k++) {
		json_object *v = nap_json_key(copy, *k);

		if (v && json_object_is_type(v, json_type_string)) {
			char *abs = join_path(dir, json_object_get_string(v));

			json_object_object_add(copy, *k, json_object_new_string(abs));
			free(abs);
		}
	}
	if (pathkeys[0] && strcmp(pathkeys[0], "client-certificate") == 0) {
		json_object *x = nap_json_key(copy, "exec");
		json_object *cmd = x ? nap_json_key(x, "command") : NULL;
		const char *s = cmd ? json_object_get_string(cmd) : NULL;

		/* A relative command with a slash is relative to the file; a bare name uses $PATH. */
		if (s && s[0] != '/' && strchr(s, '/')) {
			char *abs = join_path(dir, s);

			json_object_object_add(x, "command", json_object_new_string(abs));
			free(abs);
		}
	}
	return copy;
}

static int
merge_list(json_object *merged, json_object *doc, const char *list, const char *inner,
    const char *dir, const char *name, const char *const *pathkeys, struct nap_err *err)
{
	json_object *arr = nap_json_key(doc, list), *into;
	size_t n;

	if (!arr || json_object_is_type(arr, json_type_null))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return nap_err_set(err, NAP_EX_CONFIG, "%s: %s is not a list", name, list);
	into = nap_json_key(merged, list);
	if (!into) {
		into = json_object_new_object();
		json_object_object_add(merged, list, into);
	}
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *ename = nap_json_str(e, "name", NULL);
		json_object *body = e ? nap_json_key(e, inner) : NULL;

		if (!ename || !*ename)
			return nap_err_set(
			    err, NAP_EX_CONFIG, "%s: %s[%zu] has no name", name, list, i);
		if (nap_json_key(into, ename))
			continue; /* the first file to define a name wins */
		if (!body || json_object_is_type(body, json_type_null)) {
			json_object_object_add(into, ename, json_object_new_object());
			continue;
		}
		if (!json_object_is_type(body, json_type_object))
			return nap_err_set(err, NAP_EX_CONFIG, "%s: %s %s: %s is not a mapping",
			    name, list, ename, inner);
		json_object_object_add(into, ename, resolve_entry(body, dir, pathkeys));
	}
	return 0;
}

int
nap_kube_config_merge(json_object *merged, json_object *doc, const char *name, struct nap_err *err)
{
	static const char *const cluster_paths[] = {"certificate-authority", NULL};
	static const char *const user_paths[] = {
	    "client-certificate", "client-key", "tokenFile", NULL};
	static const char *const context_paths[] = {NULL};
	const char *cur;
	char *dir;
	int rc = 0;

	if (!doc || json_object_is_type(doc, json_type_null))
		return 0;
	if (!json_object_is_type(doc, json_type_object))
		return nap_err_set(err, NAP_EX_CONFIG, "%s: not a kubeconfig mapping", name);
	dir = dir_of(name);
	if (merge_list(merged, doc, "clusters", "cluster", dir, name, cluster_paths, err) ||
	    merge_list(merged, doc, "users", "user", dir, name, user_paths, err) ||
	    merge_list(merged, doc, "contexts", "context", dir, name, context_paths, err))
		rc = -1;
	free(dir);
	if (rc)
		return -1;
	cur = nap_json_str(doc, "current-context", NULL);
	if (cur && *cur && !nap_json_key(merged, "current-context"))
		json_object_object_add(merged, "current-context", json_object_new_string(cur));
	return 0;
}

static char *
opt_str(json_object *o, const char *key)
{
	json_object *v = o ? nap_json_key(o, key) : NULL;

	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	if (!*json_object_get_string(v))
		return NULL;
	return nap_xstrdup(json_object_get_string(v));
}

static int
decode_field(
    json_object *o, const char *key, char **out, size_t *len, const char *what, struct nap_err *err)
{
	char *b64 = opt_str(o, key);

	if (!b64)
		return 0;
	if (nap_base64_decode(b64, strlen(b64), (unsigned char **)out, len) != 0) {
		free(b64);
		return nap_err_set(err, NAP_EX_CONFIG, "%s: %s is not base64", what, key);
	}
	free(b64);
	return 0;
}

static char **
strv_new(size_t n)
{
	return nap_xcalloc(n + 1, sizeof(char *));
}

static int
parse_exec(struct nap_kube_config *c, json_object *x, const char *user, struct nap_err *err)
{
	struct nap_kube_exec *e;
	json_object *args = nap_json_key(x, "args"), *env = nap_json_key(x, "env");
	size_t nargs = 0, nenv = 0;

	e = nap_xcalloc(1, sizeof(*e));
	c->exec = e;
	e->command = opt_str(x, "command");
	e->api_version = opt_str(x, "apiVersion");
	if (!e->command)
		return nap_err_set(err, NAP_EX_CONFIG, "user %s: exec has no command", user);
	if (!e->api_version)
		return nap_err_set(err, NAP_EX_CONFIG, "user %s: exec has no apiVersion", user);
	if (strcmp(e->api_version, "client.authentication.k8s.io/v1") != 0 &&
	    strcmp(e->api_version, "client.authentication.k8s.io/v1beta1") != 0)
		return nap_err_set(err, NAP_EX_CONFIG, "user %s: exec apiVersion %s not supported",
		    user, e->api_version);
	if (args && json_object_is_type(args, json_type_array))
		nargs = json_object_array_length(args);
	else if (args && !json_object_is_type(args, json_type_null))
		return nap_err_set(err, NAP_EX_CONFIG, "user %s: exec args is not a list", user);
	e->argv = strv_new(nargs + 1);
	e->argv[0] = nap_xstrdup(e->command);
	for (size_t i = 0; i < nargs; i++) {
		json_object *a = json_object_array_get_idx(args, i);

		/* YAML may type an argument as a number or bool; its text is what the user wrote. */
		e->argv[i + 1] = nap_xstrdup(a ? json_object_get_string(a) : "");
	}
	if (env && json_object_is_type(env, json_type_array))
		nenv = json_object_array_length(env);
	else if (env && !json_object_is_type(env, json_type_null))
		return nap_err_set(err, NAP_EX_CONFIG, "user %s: exec env is not a list", user);
	e->env = strv_new(nenv);
	for (size_t i = 0; i < nenv; i++) {
		json_object *v = json_object_array_get_idx(env, i);
		const char *name = nap_json_str(v, "name", NULL);
		json_object *val = v ? nap_json_key(v, "value") : NULL;

		if (!name || !*name || strchr(name, '='))
			return nap_err_set(err, NAP_EX_CONFIG,
			    "user %s: exec env[%zu] has no valid name", user, i);
		e->env[i] = nap_xasprintf("%s=%s", name,
		    val && !json_object_is_type(val, json_type_null) ? json_object_get_string(val)
								     : "");
	}
	e->provide_cluster_info = nap_json_bool(x, "provideClusterInfo", 0);
	return 0;
}

int
nap_kube_config_resolve(
    struct nap_kube_config *c, json_object *merged, const char *context, struct nap_err *err)
{
	json_object *ctx, *cl, *us = NULL, *x;
	const char *cname, *uname;

	if (!context || !*context)
		context = nap_json_str(merged, "current-context", NULL);
	if (!context || !*context)
		return nap_err_set(err, NAP_EX_CONFIG, "no context: current-context is not set");
	ctx = nap_json_key(nap_json_key(merged, "contexts"), context);
	if (!ctx)
		return nap_err_set(err, NAP_EX_CONFIG, "context %s not found", context);
	c->context = nap_xstrdup(context);
	cname = nap_json_str(ctx, "cluster", NULL);
	uname = nap_json_str(ctx, "user", NULL);
	if (!cname || !*cname)
		return nap_err_set(err, NAP_EX_CONFIG, "context %s names no cluster", context);
	cl = nap_json_key(nap_json_key(merged, "clusters"), cname);
	if (!cl)
		return nap_err_set(
		    err, NAP_EX_CONFIG, "context %s: cluster %s not found", context, cname);
	if (uname && *uname) {
		us = nap_json_key(nap_json_key(merged, "users"), uname);
		if (!us)
			return nap_err_set(
			    err, NAP_EX_CONFIG, "context %s: user %s not found", context, uname);
	}
	c->namespace = opt_str(ctx, "namespace");
	if (!c->namespace)
		c->namespace = nap_xstrdup("default");
	c->server = opt_str(cl, "server");
	if (!c->server)
		return nap_err_set(err, NAP_EX_CONFIG, "cluster %s has no server", cname);
	while (strlen(c->server) > 1 && c->server[strlen(c->server) - 1] == '/')
		c->server[strlen(c->server) - 1] = '\0';
	if (strncmp(c->server, "https://", 8) != 0 && strncmp(c->server, "http://", 7) != 0)
		return nap_err_set(err, NAP_EX_CONFIG,
		    "cluster %s: server %s is not an http(s) URL", cname, c->server);
	c->insecure = nap_json_bool(cl, "insecure-skip-tls-verify", 0);
	c->ca_file = opt_str(cl, "certificate-authority");
	c->proxy_url = opt_str(cl, "proxy-url");
	if (decode_field(cl, "certificate-authority-data", &c->ca_data, &c->ca_len, cname, err))
		return -1;
	if (!us)
		return 0;
	c->token = opt_str(us, "token");
	c->token_file = opt_str(us, "tokenFile");
	c->cert_file = opt_str(us, "client-certificate");
	c->key_file = opt_str(us, "client-key");
	if (decode_field(us, "client-certificate-data", &c->cert_data, &c->cert_len, uname, err) ||
	    decode_field(us, "client-key-data", &c->key_data, &c->key_len, uname, err))
		return -1;
	if ((c->cert_data || c->cert_file) && !(c->key_data || c->key_file))
		return nap_err_set(
		    err, NAP_EX_CONFIG, "user %s: client certificate without a key", uname);
	if (nap_json_key(us, "auth-provider"))
		return nap_err_set(err, NAP_EX_CONFIG,
		    "user %s: auth-provider is not supported; convert it to exec (kubelogin "
		    "convert-kubeconfig)",
		    uname);
	x = nap_json_key(us, "exec");
	if (x && json_object_is_type(x, json_type_object) && parse_exec(c, x, uname, err))
		return -1;
	return 0;
}

static int
load_files(struct nap_kube_config *c, char **files, size_t n, int must_exist, const char *context,
    struct nap_err *err)
{
	json_object *merged = json_object_new_object();
	size_t loaded = 0;
	int rc = -1;

	for (size_t i = 0; i < n; i++) {
		json_object *docs = NULL;
		struct stat st;

		if (stat(files[i], &st) != 0) {
			if (!must_exist)
				continue;
		} else if (nap_config_file_safe(files[i], &st, "kubeconfig", err) < 0) {
			goto out;
		}
		if (nap_yaml_load_file(files[i], &docs, err) != 0) {
			err->code = NAP_EX_CONFIG;
			goto out;
		}
		if (json_object_array_length(docs) > 0 &&
		    nap_kube_config_merge(
			merged, json_object_array_get_idx(docs, 0), files[i], err)) {
			json_object_put(docs);
			goto out;
		}
		json_object_put(docs);
		loaded++;
	}
	if (!loaded) {
		nap_err_set(
		    err, NAP_EX_CONFIG, "no kubeconfig found (tried %s)", n ? files[0] : "nothing");
		goto out;
	}
	rc = nap_kube_config_resolve(c, merged, context, err);
out:
	json_object_put(merged);
	return rc;
}

int
nap_kube_config_load(
    struct nap_kube_config *c, const char *path, const char *context, struct nap_err *err)
{
	char **files = NULL, *list = NULL, *save = NULL, *tok;
	size_t n = 0, alloc = 0;
	const char *env = getenv("KUBECONFIG");
	int must = 0, rc;

	nap_kube_config_init(c);
	if (path && *path) {
		nap_xgrow(&files, &alloc, 1, sizeof(*files));
		files[n++] = nap_xstrdup(path);
		must = 1;
	} else if (getenv("KUBERNETES_SERVICE_HOST") && *getenv("KUBERNETES_SERVICE_HOST")) {
		return nap_kube_config_incluster(c, err);
	} else if (env && *env) {
		list = nap_xstrdup(env);
		for (tok = strtok_r(list, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
			int dup = 0;

			for (size_t i = 0; i < n; i++)
				dup |= strcmp(files[i], tok) == 0;
			if (dup || !*tok)
				continue;
			nap_xgrow(&files, &alloc, n + 1, sizeof(*files));
			files[n++] = nap_xstrdup(tok);
		}
	} else {
		const char *home = getenv("HOME");

		nap_xgrow(&files, &alloc, 1, sizeof(*files));
		files[n++] = nap_xasprintf("%s/.kube/config", home ? home : "");
	}
	rc = load_files(c, files, n, must, context, err);
	if (rc == 0) {
		size_t len = 0;

		for (size_t i = 0; i < n; i++)
			len += strlen(files[i]) + 1;
		c->source = nap_xcalloc(1, len + 1);
		for (size_t i = 0, o = 0; i < n; i++) {
			o += (size_t)snprintf(
			    c->source + o, len + 1 - o, "%s%s", i ? ":" : "", files[i]);
		}
	} else {
		nap_kube_config_free(c);
	}
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	free(list);
	return rc;
}

int
nap_kube_config_incluster(struct nap_kube_config *c, struct nap_err *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv("NAP_SERVICEACCOUNT_DIR");
	char *ns = NULL, *tok = NULL;
	struct stat st;

	nap_kube_config_init(c);
	if (!dir || !*dir)
		dir = SA_DIR;
	if (!host || !*host || !port || !*port)
		return nap_err_set(err, NAP_EX_CONFIG,
		    "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
	c->source = nap_xstrdup("in-cluster");
	c->context = nap_xstrdup("in-cluster");
	c->server = strchr(host, ':') ? nap_xasprintf("https://[%s]:%s", host, port)
				      : nap_xasprintf("https://%s:%s", host, port);
	c->token_file = nap_xasprintf("%s/token", dir);
	c->ca_file = nap_xasprintf("%s/ca.crt", dir);
	if (stat(c->token_file, &st) != 0 || read_file(c->token_file, TOKEN_MAX, &tok, NULL, err)) {
		nap_err_set(err, NAP_EX_CONFIG, "in-cluster: %s: %s", c->token_file,
		    errno ? strerror(errno) : "unreadable");
		nap_kube_config_free(c);
		return -1;
	}
	if (nap_config_file_safe(c->token_file, &st, "in-cluster token", err) < 0) {
		free_secret(tok, strlen(tok));
		nap_kube_config_free(c);
		return -1;
	}
	free_secret(tok, strlen(tok));
	if (stat(c->ca_file, &st) != 0) {
		nap_err_set(err, NAP_EX_CONFIG, "in-cluster: %s: %s", c->ca_file, strerror(errno));
		nap_kube_config_free(c);
		return -1;
	}
	{
		char *path = nap_xasprintf("%s/namespace", dir);

		if (read_file(path, 4096, &ns, NULL, NULL) == 0)
			c->namespace = nap_xstrdup(strip(ns));
		free(ns);
		free(path);
	}
	if (!c->namespace || !*c->namespace) {
		free(c->namespace);
		c->namespace = nap_xstrdup("default");
	}
	return 0;
}

/* ---- exec credential plugins ---- */

void
nap_kube_cred_free(struct nap_kube_cred *cred)
{
	if (!cred)
		return;
	free_secret(cred->token, cred->token ? strlen(cred->token) : 0);
	free(cred->cert_data);
	free_secret(cred->key_data, cred->key_len);
	memset(cred, 0, sizeof(*cred));
}

int
nap_kube_exec_parse(
    const char *out, size_t len, const char *want, struct nap_kube_cred *cred, struct nap_err *err)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;
	const char *av, *kind, *ts, *s;
	int rc = -1;

	memset(cred, 0, sizeof(*cred));
	o = json_tokener_parse_ex(tok, out, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		nap_err_set(err, NAP_EX_CONFIG, "exec plugin printed no ExecCredential JSON");
		goto out;
	}
	av = nap_json_str(o, "apiVersion", "");
	kind = nap_json_str(o, "kind", "");
	if (strcmp(kind, "ExecCredential") != 0) {
		nap_err_set(err, NAP_EX_CONFIG,
		    "exec plugin printed kind \"%s\", not ExecCredential", kind);
		goto out;
	}
	if (want && strcmp(av, want) != 0) {
		nap_err_set(err, NAP_EX_CONFIG,
		    "exec plugin answered apiVersion \"%s\", asked for %s", av, want);
		goto out;
	}
	if ((s = nap_json_str(o, "status.token", NULL)) && *s)
		cred->token = nap_xstrdup(s);
	if ((s = nap_json_str(o, "status.clientCertificateData", NULL)) && *s) {
		cred->cert_data = nap_xstrdup(s);
		cred->cert_len = strlen(s);
	}
	if ((s = nap_json_str(o, "status.clientKeyData", NULL)) && *s) {
		cred->key_data = nap_xstrdup(s);
		cred->key_len = strlen(s);
	}
	if (!cred->token && !(cred->cert_data && cred->key_data)) {
		nap_err_set(err, NAP_EX_CONFIG,
		    "exec plugin gave neither status.token nor clientCertificateData and "
		    "clientKeyData");
		goto out;
	}
	if (!cred->token && (!cred->cert_data != !cred->key_data)) {
		nap_err_set(err, NAP_EX_CONFIG, "exec plugin gave a certificate without a key");
		goto out;
	}
	ts = nap_json_str(o, "status.expirationTimestamp", NULL);
	if (ts && *ts && nap_kube_time_parse(ts, &cred->expires) != 0) {
		nap_err_set(err, NAP_EX_CONFIG, "exec plugin: bad expirationTimestamp \"%s\"", ts);
		goto out;
	}
	rc = 0;
out:
	if (rc)
		nap_kube_cred_free(cred);
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

static char **
exec_environ(const struct nap_kube_exec *x, const char *server)
{
	size_t n = 0, m = 0, k = 0;
	char **env;
	json_object *info, *spec;

	while (environ[n])
		n++;
	while (x->env[m])
		m++;
	env = strv_new(n + m + 1);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		int over = strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21) == 0;

		for (size_t j = 0; j < m && !over; j++)
			over = strncmp(x->env[j], environ[i], nl) == 0 && x->env[j][nl] == '=';
		if (!over)
			env[k++] = nap_xstrdup(environ[i]);
	}
	for (size_t j = 0; j < m; j++)
		env[k++] = nap_xstrdup(x->env[j]);
	info = json_object_new_object();
	json_object_object_add(info, "apiVersion", json_object_new_string(x->api_version));
	json_object_object_add(info, "kind", json_object_new_string("ExecCredential"));
	spec = json_object_new_object();
	json_object_object_add(spec, "interactive", json_object_new_boolean(0));
	if (x->provide_cluster_info && server) {
		json_object *cl = json_object_new_object();

		json_object_object_add(cl, "server", json_object_new_string(server));
		json_object_object_add(spec, "cluster", cl);
	}
	json_object_object_add(info, "spec", spec);
	env[k++] = nap_xasprintf("KUBERNETES_EXEC_INFO=%s",
	    json_object_to_json_string_ext(
		info, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(info);
	env[k] = NULL;
	return env;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000L + (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

int
nap_kube_exec_run(const struct nap_kube_exec *x, const char *server, struct nap_kube_cred *cred,
    struct nap_err *err)
{
	int fds[2], status = 0, rc = -1, spawned = 0, saved;
	char **env, *out = NULL;
	size_t n = 0, alloc = 0;
	struct timespec t0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return nap_err_set(
		    err, NAP_EX_IOERR, "exec plugin %s: pipe: %s", x->command, strerror(errno));
	env = exec_environ(x, server);
	/*
	 * fork and exec rather than posix_spawn: <spawn.h> pulls in <sched.h>,
	 * which lib/sched.h shadows on our include path.
	 */
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(fds[1], 1) < 0)
			_exit(127);
		if (strchr(x->command, '/'))
			execve(x->command, x->argv, env);
		else
			execvpe(x->command, x->argv, env);
		_exit(127);
	}
	saved = errno;
	free_strv(env);
	close(fds[1]);
	if (pid < 0) {
		nap_err_set(
		    err, NAP_EX_IOERR, "exec plugin %s: fork: %s", x->command, strerror(saved));
		goto out;
	}
	spawned = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		long left = EXEC_TIMEOUT_MS - ms_since(&t0);
		ssize_t r;

		if (left <= 0) {
			kill(pid, SIGKILL);
			nap_err_set(err, NAP_EX_UNAVAILABLE, "exec plugin %s: no answer in %d s",
			    x->command, EXEC_TIMEOUT_MS / 1000);
			goto out;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			break;
		nap_xgrow(&out, &alloc, n + 4096 + 1, 1);
		r = read(fds[0], out + n, alloc - n - 1);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n > EXEC_MAX_OUT) {
			kill(pid, SIGKILL);
			nap_err_set(err, NAP_EX_CONFIG, "exec plugin %s: output over %u bytes",
			    x->command, EXEC_MAX_OUT);
			goto out;
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	spawned = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		nap_err_set(err, NAP_EX_CONFIG, "exec plugin %s failed (%s %d)%s", x->command,
		    WIFEXITED(status) ? "exit" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
		    WIFEXITED(status) && WEXITSTATUS(status) == 127
			? ": not found or not executable"
			: "");
		goto out;
	}
	rc = nap_kube_exec_parse(out ? out : "", n, x->api_version, cred, err);
	if (rc)
		nap_err_prefix(err, "%s", x->command);
out:
	if (spawned)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	close(fds[0]);
	free_secret(out, n);
	return rc;
}

/* ---- the client ---- */

struct nap_kube *
nap_kube_new(struct nap_kube_config *c, struct nap_http *pool, struct nap_err *err)
{
	struct nap_kube *k = nap_xcalloc(1, sizeof(*k));

	k->c = *c;
	memset(c, 0, sizeof(*c));
	k->retries = RETRIES;
	k->retry_cap_ms = RETRY_CAP_MS;
	{
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		k->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)k;
		if (!k->rng)
			k->rng = 0x9e3779b97f4a7c15ull;
	}
	if (pool) {
		k->pool = pool;
	} else {
		k->pool = nap_http_new(err);
		if (!k->pool) {
			nap_kube_config_free(&k->c);
			free(k);
			return NULL;
		}
		k->own_pool = 1;
	}
	return k;
}

void
nap_kube_free(struct nap_kube *k)
{
	if (!k)
		return;
	if (k->own_pool)
		nap_http_free(k->pool);
	nap_kube_cred_free(&k->cred);
	free_secret(k->file_token, k->file_token ? strlen(k->file_token) : 0);
	nap_kube_config_free(&k->c);
	free(k);
}

struct nap_http *
nap_kube_pool(struct nap_kube *k)
{
	return k->pool;
}

const struct nap_kube_config *
nap_kube_config(const struct nap_kube *k)
{
	return &k->c;
}

int
nap_kube_cred_reset(struct nap_kube *k)
{
	if (k->c.exec) {
		nap_kube_cred_free(&k->cred);
		k->have_cred = 0;
		return 1;
	}
	if (k->c.token_file) {
		k->token_read = 0;
		return 1;
	}
	return 0;
}

/* Re-read the token file when it changed (kubelet rotates projected tokens). */
static int
file_token(struct nap_kube *k, struct nap_err *err)
{
	struct stat st;
	char *tok;

	if (stat(k->c.token_file, &st) != 0) {
		if (k->file_token)
			return 0; /* mid-rotation: keep the last good token */
		return nap_err_set(
		    err, NAP_EX_CONFIG, "token file %s: %s", k->c.token_file, strerror(errno));
	}
	/* A token file anyone may rewrite is no proof of who we are. */
	if (nap_config_file_safe(k->c.token_file, &st, "token file", err) < 0)
		return -1;
	if (k->token_read && st.st_mtim.tv_sec == k->token_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == k->token_mtime.tv_nsec && st.st_size == k->token_size &&
	    st.st_ino == k->token_ino)
		return 0;
	if (read_file(k->c.token_file, TOKEN_MAX, &tok, NULL, err) != 0)
		return k->file_token ? 0 : -1;
	strip(tok);
	free_secret(k->file_token, k->file_token ? strlen(k->file_token) : 0);
	k->file_token = tok;
	k->token_mtime = st.st_mtim;
	k->token_size = st.st_size;
	k->token_ino = st.st_ino;
	k->token_read = 1;
	return 0;
}

/* The bearer token for the next request (or NULL), refreshing what expired. */
static int
credential(struct nap_kube *k, const char **bearer, struct nap_err *err)
{
	*bearer = NULL;
	k->tls.ca_file = k->c.ca_file;
	k->tls.ca_data = k->c.ca_data;
	k->tls.ca_len = k->c.ca_len;
	k->tls.cert_file = k->c.cert_file;
	k->tls.cert_data = k->c.cert_data;
	k->tls.cert_len = k->c.cert_len;
	k->tls.key_file = k->c.key_file;
	k->tls.key_data = k->c.key_data;
	k->tls.key_len = k->c.key_len;
	k->tls.insecure = k->c.insecure;
	if (k->c.exec) {
		time_t now = time(NULL);

		if (k->have_cred && k->cred.expires && now >= k->cred.expires - EXEC_EXPIRY_SLACK) {
			nap_kube_cred_free(&k->cred);
			k->have_cred = 0;
		}
		if (!k->have_cred) {
			if (nap_kube_exec_run(k->c.exec, k->c.server, &k->cred, err) != 0)
				return -1;
			k->have_cred = 1;
		}
		if (k->cred.token)
			*bearer = k->cred.token;
		if (k->cred.cert_data) {
			k->tls.cert_data = k->cred.cert_data;
			k->tls.cert_len = k->cred.cert_len;
			k->tls.key_data = k->cred.key_data;
			k->tls.key_len = k->cred.key_len;
		}
		if (*bearer || k->cred.cert_data)
			return 0;
	}
	if (k->c.token_file) {
		if (file_token(k, err) != 0)
			return -1;
		if (k->file_token && *k->file_token) {
			*bearer = k->file_token;
			return 0;
		}
	}
	if (k->c.token)
		*bearer = k->c.token;
	return 0;
}

char *
nap_kube_path(const char *path, ...)
{
	size_t len = strlen(path), alloc = 0;
	char *out = NULL;
	int first = strchr(path, '?') == NULL;
	const char *key;
	va_list ap;

	nap_xgrow(&out, &alloc, len + 1, 1);
	memcpy(out, path, len + 1);
	va_start(ap, path);
	while ((key = va_arg(ap, const char *))) {
		const char *val = va_arg(ap, const char *);
		char *esc;
		size_t add;

		if (!val || !*val)
			continue;
		esc = nap_http_escape(val);
		add = strlen(key) + strlen(esc) + 2;
		nap_xgrow(&out, &alloc, len + add + 1, 1);
		len += (size_t)snprintf(
		    out + len, alloc - len, "%c%s=%s", first ? '?' : '&', key, esc);
		first = 0;
		free(esc);
	}
	va_end(ap);
	return out;
}

struct nap_http_req *
nap_kube_start(struct nap_kube *k, const char *method, const char *path, const char *content_type,
    const char *body, size_t len, nap_http_data_fn *on_data, void *arg, long timeout_ms,
    long idle_s, struct nap_err *err)
{
	struct nap_http_opts o;
	struct nap_http_req *r;
	const char *bearer;
	char *url;

	/* A name pasted in unescaped is bad input, not an unreachable server. */
	if (nap_url_path_check(path) != strlen(path)) {
		char *q = nap_text_quote(path, 200);

		nap_err_set(err, NAP_EX_DATAERR, "%s %s: not a URL path (a segment is not escaped)",
		    method, q);
		free(q);
		return NULL;
	}
	if (credential(k, &bearer, err) != 0)
		return NULL;
	url = nap_xasprintf("%s%s", k->c.server, path);
	memset(&o, 0, sizeof(o));
	o.method = method;
	o.url = url;
	o.bearer = bearer;
	o.content_type = content_type;
	o.body = body;
	o.body_len = len;
	o.tls = &k->tls;
	o.proxy = k->c.proxy_url;
	o.timeout_ms = timeout_ms;
	o.idle_timeout_s = idle_s;
	o.on_data = on_data;
	o.arg = arg;
	r = nap_http_start(k->pool, &o, err);
	free(url);
	return r;
}

int
nap_kube_status_err(
    long status, const char *body, size_t len, const char *what, struct nap_err *err)
{
	json_object *st = NULL;
	const char *reason = NULL, *msg = NULL;
	int code = nap_http_status_code(status);

	if (body && len) {
		struct json_tokener *tok = json_tokener_new();

		st = json_tokener_parse_ex(tok, body, (int)len);
		if (json_tokener_get_error(tok) != json_tokener_success) {
			json_object_put(st);
			st = NULL;
		}
		json_tokener_free(tok);
	}
	if (st && json_object_is_type(st, json_type_object)) {
		reason = nap_json_str(st, "reason", NULL);
		msg = nap_json_str(st, "message", NULL);
	}
	if (!msg && body && len && len < 200 && !st) {
		/* A non-JSON body ("Unauthorized"): short enough to quote. */
		char tmp[200];

		memcpy(tmp, body, len);
		tmp[len] = '\0';
		strip(tmp);
		nap_err_set(err, code, "%s: %ld %s", what, status, tmp);
	} else {
		nap_err_set(err, code, "%s: %ld %s%s%s", what, status, reason ? reason : "",
		    reason && msg ? ": " : "", msg ? msg : (reason ? "" : "error"));
	}
	if (err)
		err->http = status;
	json_object_put(st);
	return -1;
}

static int
parse_body(const struct nap_http_resp *r, json_object **out, const char *what, struct nap_err *err)
{
	struct json_tokener *tok;
	json_object *o;

	if (!out)
		return 0;
	*out = NULL;
	if (!r->len)
		return 0;
	tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH * 4);
	o = json_tokener_parse_ex(tok, r->body, (int)r->len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		nap_err_set(err, NAP_EX_UNAVAILABLE, "%s: unparsable answer: %s", what,
		    json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(o);
		json_tokener_free(tok);
		return -1;
	}
	json_tokener_free(tok);
	*out = o;
	return 0;
}

void
nap_kube_set_retry(struct nap_kube *k, unsigned retries, long cap_ms)
{
	k->retries = retries;
	k->retry_cap_ms = cap_ms > 0 ? cap_ms : RETRY_CAP_MS;
}

static int
idempotent(const char *method, const char *content_type)
{
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	    strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0)
		return 1;
	/* RFC 7396: merging the same patch twice gives what merging it once did. */
	return strcmp(method, "PATCH") == 0 && content_type &&
	    (strcmp(content_type, "application/merge-patch+json") == 0 ||
		strcmp(content_type, "application/apply-patch+yaml") == 0);
}

long
nap_kube_retry_ms(long status, const char *method, const char *content_type, long retry_after,
    unsigned attempt, long cap_ms, uint64_t *rng)
{
	int64_t d;

	if (status == 429)
		;
	else if ((status == 500 || status == 502 || status == 503 || status == 504) &&
	    idempotent(method, content_type))
		;
	else
		return -1;
	if (retry_after >= 0)
		d = retry_after > cap_ms / 1000 ? (int64_t)cap_ms : (int64_t)retry_after * 1000;
	else
		d = nap_arm_backoff_ms(attempt, RETRY_BASE_MS, cap_ms, rng);
	/* A random tenth more: clients throttled together come back apart. */
	*rng ^= *rng << 13;
	*rng ^= *rng >> 7;
	*rng ^= *rng << 17;
	d += (int64_t)(*rng % (uint64_t)(d / 10 + 1));
	return (long)d;
}

/*
 * Wait ms, driving the pool's other transfers meanwhile.  A termination
 * signal ends the wait with a failure (75), so that a tool told to stop
 * does not sit out a Retry-After first.
 */
static int
retry_wait(struct nap_kube *k, long ms, struct nap_err *err)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long left = ms - ms_since(&t0);

		if (nap_stop_signal())
			return nap_err_set(err, NAP_EX_TEMPFAIL, "not retried: stopping on a signal");
		if (left <= 0)
			return 0;
		if (nap_http_wait(k->pool, -1, (int)(left > 1000 ? 1000 : left), err) < 0)
			return -1;
	}
}

int
nap_kube_request(struct nap_kube *k, const char *method, const char *path, const char *content_type,
    json_object *body, json_object **out, struct nap_err *err)
{
	const char *payload = NULL;
	size_t plen = 0;
	char *what = nap_xasprintf("%s %s", method, path);
	int rc = -1, auth_retried = 0;
	unsigned attempt = 0;

	if (out)
		*out = NULL;
	if (body) {
		payload = json_object_to_json_string_ext(
		    body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		plen = strlen(payload);
		if (!content_type)
			content_type = "application/json";
	}
	for (;;) {
		struct nap_http_req *r;
		const struct nap_http_resp *resp;
		long wait;

		r = nap_kube_start(k, method, path, content_type, payload, plen, NULL, NULL,
		    REQUEST_TIMEOUT_MS, 0, err);
		if (!r)
			break;
		while (!nap_http_req_finished(r)) {
			if (nap_http_wait(k->pool, -1, 1000, err) < 0)
				goto fail;
		}
		/* nap_http_do would hide the pool's queue entry; take ours out by hand. */
		if (nap_http_result(r, &resp, err) != 0) {
			nap_err_prefix(err, "%s", what);
			goto fail;
		}
		if (resp->status == 401 && !auth_retried && nap_kube_cred_reset(k)) {
			auth_retried = 1;
			nap_http_req_free(r);
			continue;
		}
		attempt++;
		if (attempt <= k->retries &&
		    (wait = nap_kube_retry_ms(resp->status, method, content_type,
			 resp->retry_after, attempt, k->retry_cap_ms, &k->rng)) >= 0) {
			nap_http_req_free(r);
			if (retry_wait(k, wait, err) < 0)
				break;
			continue;
		}
		if (resp->status < 200 || resp->status >= 300) {
			nap_kube_status_err(resp->status, resp->body, resp->len, what, err);
			if (attempt > 1 && err) {
				size_t l = strlen(err->msg);

				snprintf(err->msg + l, sizeof(err->msg) - l, " (after %u attempts)",
				    attempt);
			}
			goto fail;
		}
		rc = parse_body(resp, out, what, err);
	fail:
		nap_http_req_free(r);
		break;
	}
	free(what);
	return rc;
}

int
nap_kube_get(struct nap_kube *k, const char *path, json_object **out, struct nap_err *err)
{
	return nap_kube_request(k, "GET", path, NULL, NULL, out, err);
}

int
nap_kube_create(
    struct nap_kube *k, const char *path, json_object *obj, json_object **out, struct nap_err *err)
{
	return nap_kube_request(k, "POST", path, NULL, obj, out, err);
}

int
nap_kube_update(
    struct nap_kube *k, const char *path, json_object *obj, json_object **out, struct nap_err *err)
{
	return nap_kube_request(k, "PUT", path, NULL, obj, out, err);
}

int
nap_kube_patch(struct nap_kube *k, const char *path, const char *type, json_object *patch,
    json_object **out, struct nap_err *err)
{
	const char *ct = type;

	if (!type || strcmp(type, "merge") == 0)
		ct = "application/merge-patch+json";
	else if (strcmp(type, "json") == 0)
		ct = "application/json-patch+json";
	else if (strcmp(type, "strategic") == 0)
		ct = "application/strategic-merge-patch+json";
	else if (strcmp(type, "apply") == 0)
		ct = "application/apply-patch+yaml";
	return nap_kube_request(k, "PATCH", path, ct, patch, out, err);
}

int
nap_kube_delete(struct nap_kube *k, const char *path, json_object *options, json_object **out,
    struct nap_err *err)
{
	return nap_kube_request(k, "DELETE", path, NULL, options, out, err);
}

int
nap_kube_list(struct nap_kube *k, const char *path, long limit, json_object **items, char **rv,
    struct nap_err *err)
{
	json_object *all = json_object_new_array();
	char *cont = NULL, lim[32];
	int rc = -1;

	*items = NULL;
	*rv = NULL;
	snprintf(lim, sizeof(lim), "%ld", limit > 0 ? limit : 500);
	do {
		char *p = nap_kube_path(path, "limit", lim, "continue", cont, (char *)NULL);
		json_object *page = NULL, *arr;
		const char *c;
		size_t n;

		rc = nap_kube_get(k, p, &page, err);
		free(p);
		if (rc != 0)
			break;
		arr = nap_json_array(page, "items", &n);
		for (size_t i = 0; i < n; i++)
			json_object_array_add(
			    all, json_object_get(json_object_array_get_idx(arr, i)));
		free(*rv);
		*rv = nap_xstrdup(nap_json_str(page, "metadata.resourceVersion", ""));
		c = nap_json_str(page, "metadata.continue", NULL);
		free(cont);
		cont = c && *c ? nap_xstrdup(c) : NULL;
		json_object_put(page);
	} while (cont);
	free(cont);
	if (rc != 0) {
		json_object_put(all);
		free(*rv);
		*rv = NULL;
		return -1;
	}
	*items = all;
	return 0;
}

struct nap_kube *
nap_kube_open(const struct nap_config *cfg, const char *kubeconfig, const char *context,
    char **warning, struct nap_err *err)
{
	struct nap_kube_config kc;
	struct nap_kube *k;

	if (warning)
		*warning = NULL;
	if (!kubeconfig && cfg && cfg->kubeconfig[0])
		kubeconfig = cfg->kubeconfig;
	if (!context && cfg && cfg->context[0])
		context = cfg->context;
	nap_kube_config_init(&kc);
	if (nap_kube_config_load(&kc, kubeconfig, context, err) != 0) {
		if (err)
			err->code = NAP_EX_CONFIG;
		nap_kube_config_free(&kc);
		return NULL;
	}
	if (warning && nap_kube_plain_bearer(&kc))
		*warning = nap_xasprintf("api server %s is plain http: the bearer token of %s will "
					 "cross the network unencrypted",
		    kc.server, kc.source);
	k = nap_kube_new(&kc, NULL, err);
	nap_kube_config_free(&kc);
	return k;
}
