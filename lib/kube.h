/*
 * kube.h - a Kubernetes API client: where the API server is and how to prove
 * who we are (kubeconfig, in-cluster service account, exec credential
 * plugins), and generic requests on any resource path over lib/http.
 *
 * Configuration: nap_kube_config_load() takes an explicit kubeconfig path;
 * else, when $KUBERNETES_SERVICE_HOST is set, the in-cluster service account
 * (directory $NAP_SERVICEACCOUNT_DIR, default
 * /var/run/secrets/kubernetes.io/serviceaccount); else $KUBECONFIG, a
 * colon-separated list merged the way kubectl does ("the first file to define
 * a name wins"); else ~/.kube/config.  It then picks a context and resolves
 * it to a struct nap_kube_config.  Relative paths in a file are relative to
 * that file's directory.
 *
 * Credentials: a static token, a token file (re-read whenever it changes, so
 * rotated service-account tokens are picked up), client certificate and key
 * (data or file), or an exec plugin (client.authentication.k8s.io/v1 or
 * v1beta1) run without a shell, with the environment it lists, its token
 * cached until expirationTimestamp.  After a 401 a caller may call
 * nap_kube_cred_reset() and try once more.
 *
 * Requests: paths start with "/" (e.g. "/api/v1/namespaces/default/pods");
 * path segments must be escaped (nap_url_path in text.h), and query values
 * (nap_kube_path builds escaped queries): a path a URL cannot carry as it
 * is fails at once with NAP_EX_DATAERR, never as an unreachable server.  The
 * blocking helpers return parsed JSON owned by the caller.  A non-2xx answer
 * becomes an error: err->http is the status, err->msg carries the Status
 * reason and message, err->code is from nap_http_status_code() (401/403 ->
 * NAP_EX_NOPERM, 404/409/410 -> NAP_EX_NO, 429/5xx -> NAP_EX_TEMPFAIL).
 * A bad kubeconfig is NAP_EX_CONFIG.
 *
 * Retries: the blocking helpers retry a 429 (API priority and fairness
 * refused the request before acting on it, so any method is safe to repeat)
 * and a 500/502/503/504 of an idempotent request (GET, HEAD, PUT, DELETE,
 * and a merge or apply PATCH, whose result does not depend on how often it
 * is applied; never a POST or a JSON patch), up to 5 times by default.  The
 * wait is the answer's Retry-After, capped (10 s by default), or a jittered
 * exponential backoff from 250 ms; a random tenth is added either way so
 * that clients throttled together come back apart.  The pool's other
 * transfers progress during the wait.  An error after the last attempt says
 * how many there were.  nap_kube_start() (watches) does not retry.
 */
#ifndef NAP_KUBE_H
#define NAP_KUBE_H

#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "http.h"
#include "nap.h"

struct nap_kube_exec {
	char *api_version;
	char *command;
	char **argv; /* command first, NULL-terminated */
	char **env;  /* "NAME=value" added to ours, NULL-terminated */
	int provide_cluster_info;
};

struct nap_kube_config {
	char *source; /* file(s) or "in-cluster", for messages */
	char *context;
	char *namespace; /* the context's namespace, or "default" */
	char *server;
	char *ca_file;
	char *ca_data; /* decoded PEM */
	size_t ca_len;
	char *cert_file;
	char *cert_data;
	size_t cert_len;
	char *key_file;
	char *key_data;
	size_t key_len;
	int insecure;
	char *proxy_url;
	char *token;
	char *token_file;
	struct nap_kube_exec *exec;
};

/* A credential from an exec plugin. */
struct nap_kube_cred {
	char *token;
	char *cert_data;
	size_t cert_len;
	char *key_data;
	size_t key_len;
	time_t expires; /* 0: no expiry given */
};

void nap_kube_config_init(struct nap_kube_config *c);
void nap_kube_config_free(struct nap_kube_config *c);

/*
 * Find, merge and resolve the kubeconfig.  path: an explicit file (must
 * exist) or NULL.  context: a context name or NULL for current-context.
 */
int nap_kube_config_load(
    struct nap_kube_config *c, const char *path, const char *context, struct nap_err *err);
/* The in-cluster service account (see above for the directory). */
int nap_kube_config_incluster(struct nap_kube_config *c, struct nap_err *err);

/*
 * The merge step, exposed for tests: fold one parsed kubeconfig document
 * (from file name, whose directory resolves relative paths) into merged,
 * a json object this module owns the shape of.  Earlier documents win.
 */
int nap_kube_config_merge(
    json_object *merged, json_object *doc, const char *name, struct nap_err *err);
/* Resolve a context of a merged config into c. */
int nap_kube_config_resolve(
    struct nap_kube_config *c, json_object *merged, const char *context, struct nap_err *err);

/*
 * Parse an ExecCredential (the plugin's stdout); want is the apiVersion the
 * kubeconfig asked for.  Fills cred (caller frees with nap_kube_cred_free).
 */
int nap_kube_exec_parse(
    const char *out, size_t len, const char *want, struct nap_kube_cred *cred, struct nap_err *err);
/* Run the plugin (no shell), wait for it and parse what it printed. */
int nap_kube_exec_run(const struct nap_kube_exec *x, const char *server, struct nap_kube_cred *cred,
    struct nap_err *err);
void nap_kube_cred_free(struct nap_kube_cred *cred);

/*
 * 1 when requests under c would carry a bearer token (a token, a token file
 * or an exec plugin) to a plain http:// server off this host (see
 * nap_http_url_plain): a tool warns once, since the token crosses the
 * network in clear.
 */
int nap_kube_plain_bearer(const struct nap_kube_config *c);

/* RFC 3339 time ("2025-01-01T12:00:00Z", fractions and offsets allowed). */
int nap_kube_time_parse(const char *s, time_t *t);

struct nap_kube;

/*
 * A client.  Takes over the contents of *c (left empty).  pool: share an
 * existing lib/http pool, or NULL for a new one owned by the client.
 */
struct nap_kube *nap_kube_new(
    struct nap_kube_config *c, struct nap_http *pool, struct nap_err *err);
void nap_kube_free(struct nap_kube *k);
/*
 * The client every tool makes the same way: the kubeconfig of the flag,
 * else nap.conf's, else nap_kube_config_load's own order (in-cluster,
 * $KUBECONFIG, ~/.kube/config); the context of the flag, else nap.conf's.
 * A kubeconfig that cannot be used fails with NAP_EX_CONFIG.  When the
 * server is plain http and a bearer token would cross it, *warning (may be
 * NULL) gets a message for the tool to print (the caller frees it), since
 * lib/ never prints.
 */
struct nap_config;
struct nap_kube *nap_kube_open(const struct nap_config *cfg, const char *kubeconfig,
    const char *context, char **warning, struct nap_err *err);
struct nap_http *nap_kube_pool(struct nap_kube *k);
const struct nap_kube_config *nap_kube_config(const struct nap_kube *k);
/*
 * Forget cached credentials (after a 401): the exec plugin runs again and
 * the token file is re-read on the next request.  Returns 1 when that may
 * help, 0 when the credential is static.
 */
int nap_kube_cred_reset(struct nap_kube *k);

/*
 * Retry policy of the blocking helpers: retries after the first attempt
 * (0: none), and the cap in ms on one wait (Retry-After included).
 */
void nap_kube_set_retry(struct nap_kube *k, unsigned retries, long cap_ms);

/*
 * The retry rule, exposed for tests: how long to wait before attempt
 * number attempt + 1 (attempt >= 1 failed with status, whose Retry-After
 * was retry_after seconds, -1 when absent), or -1 when the answer is not
 * to be retried.  content_type matters for PATCH only.  rng: xorshift
 * state, not 0.
 */
long nap_kube_retry_ms(long status, const char *method, const char *content_type,
    long retry_after, unsigned attempt, long cap_ms, uint64_t *rng);

/*
 * path + "?" + key=value pairs (NULL-terminated list of key, value; a NULL
 * or empty value skips the pair), values percent-encoded.  Caller frees.
 */
char *nap_kube_path(const char *path, ...);

/*
 * Start a request on the pool (non-blocking).  For a watch pass on_data and
 * idle_s; timeout_ms 0 = none.  The credential is fetched first, which may
 * run the exec plugin.
 */
struct nap_http_req *nap_kube_start(struct nap_kube *k, const char *method, const char *path,
    const char *content_type, const char *body, size_t len, nap_http_data_fn *on_data, void *arg,
    long timeout_ms, long idle_s, struct nap_err *err);

/* Turn a non-2xx answer (body: a Status or anything) into err; returns -1. */
int nap_kube_status_err(
    long status, const char *body, size_t len, const char *what, struct nap_err *err);

/*
 * Blocking request: body may be NULL; *out (if out is not NULL) gets the
 * parsed answer.  A 401 resets the credential and retries once when that can
 * help.
 */
int nap_kube_request(struct nap_kube *k, const char *method, const char *path,
    const char *content_type, json_object *body, json_object **out, struct nap_err *err);
int nap_kube_get(struct nap_kube *k, const char *path, json_object **out, struct nap_err *err);
int nap_kube_create(
    struct nap_kube *k, const char *path, json_object *obj, json_object **out, struct nap_err *err);
int nap_kube_update(
    struct nap_kube *k, const char *path, json_object *obj, json_object **out, struct nap_err *err);
/* type: "merge" / "json" / "strategic" / "apply", or a full media type. */
int nap_kube_patch(struct nap_kube *k, const char *path, const char *type, json_object *patch,
    json_object **out, struct nap_err *err);
int nap_kube_delete(struct nap_kube *k, const char *path, json_object *options, json_object **out,
    struct nap_err *err);
/*
 * Paginated list of a collection path (no query): *items a new array of every
 * item, *rv the list's resourceVersion (caller frees); limit 0 = 500.
 */
int nap_kube_list(struct nap_kube *k, const char *path, long limit, json_object **items, char **rv,
    struct nap_err *err);

#endif
