#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <json-c/json.h>

#include "base64.h"
#include "config.h"

#define REFRESH_MARGIN 300 /* seconds before expiry a token is renewed */
#define MAX_CRED_FILE (1 << 20)
#define TRIES 4

struct nap_auth {
	enum nap_auth_kind kind;
	char *resource, *token_endpoint, *authority_host, *tenant_id, *client_id;
	char *secret_file, *cert_file, *federated_file;
	struct nap_http_tls tls; /* points into the two copies below */
	char *ca_file, *ca_data;
	int have_tls;
	struct nap_http *http;
	char *token;
	time_t expiry; /* when the token stops working */
	time_t renew;  /* when to fetch a new one */
};

int
nap_auth_kind_parse(const char *s, enum nap_auth_kind *kind)
{
	if (strcmp(s, "managed-identity") == 0)
		*kind = NAP_AUTH_MANAGED_IDENTITY;
	else if (strcmp(s, "workload-identity") == 0)
		*kind = NAP_AUTH_WORKLOAD_IDENTITY;
	else if (strcmp(s, "service-principal") == 0)
		*kind = NAP_AUTH_SERVICE_PRINCIPAL;
	else
		return -1;
	return 0;
}

static void
from_env(const char **field, const char *name)
{
	const char *v = getenv(name);

	if ((*field == NULL || **field == '\0') && v != NULL && *v != '\0')
		*field = v;
}

void
nap_auth_opts_from_env(struct nap_auth_opts *o)
{
	from_env(&o->client_id, "AZURE_CLIENT_ID");
	from_env(&o->tenant_id, "AZURE_TENANT_ID");
	from_env(&o->federated_token_file, "AZURE_FEDERATED_TOKEN_FILE");
	from_env(&o->authority_host, "AZURE_AUTHORITY_HOST");
	from_env(&o->client_secret_file, "AZURE_CLIENT_SECRET_FILE");
	from_env(&o->client_certificate_file, "AZURE_CLIENT_CERTIFICATE_PATH");
}

static char *
dup_or_null(const char *s)
{
	return s && *s ? nap_xstrdup(s) : NULL;
}

static const char *const kind_name[] = {
    [NAP_AUTH_MANAGED_IDENTITY] = "managed identity",
    [NAP_AUTH_WORKLOAD_IDENTITY] = "workload identity",
    [NAP_AUTH_SERVICE_PRINCIPAL] = "service principal",
};

int
nap_auth_new(struct nap_auth **out, const struct nap_auth_opts *o, struct nap_http *http,
    struct nap_err *err)
{
	struct nap_auth *a;
	const char *need = NULL;

	if (o->resource == NULL || *o->resource == '\0')
		need = "resource";
	else if (o->kind == NAP_AUTH_MANAGED_IDENTITY) {
		if (o->token_endpoint == NULL || *o->token_endpoint == '\0')
			need = "token endpoint";
	} else {
		if (o->tenant_id == NULL || *o->tenant_id == '\0')
			need = "tenant ID";
		else if (o->client_id == NULL || *o->client_id == '\0')
			need = "client ID";
		else if (o->authority_host == NULL || *o->authority_host == '\0')
			need = "authority host";
		else if (o->kind == NAP_AUTH_WORKLOAD_IDENTITY &&
		    (o->federated_token_file == NULL || *o->federated_token_file == '\0'))
			need = "federated token file";
		else if (o->kind == NAP_AUTH_SERVICE_PRINCIPAL &&
		    (o->client_secret_file == NULL || *o->client_secret_file == '\0') &&
		    (o->client_certificate_file == NULL || *o->client_certificate_file == '\0'))
			need = "client secret file or client certificate file";
	}
	if (need != NULL)
		return nap_err_set(err, NAP_EX_CONFIG, "azure %s credential: no %s configured",
		    kind_name[o->kind], need);

	a = nap_xcalloc(1, sizeof(*a));
	a->kind = o->kind;
	a->resource = nap_xstrdup(o->resource);
	a->token_endpoint = dup_or_null(o->token_endpoint);
	a->authority_host = dup_or_null(o->authority_host);
	a->tenant_id = dup_or_null(o->tenant_id);
	a->client_id = dup_or_null(o->client_id);
	a->secret_file = dup_or_null(o->client_secret_file);
	a->cert_file = dup_or_null(o->client_certificate_file);
	a->federated_file = dup_or_null(o->federated_token_file);
	if (o->tls != NULL) {
		a->ca_file = dup_or_null(o->tls->ca_file);
		a->tls.ca_file = a->ca_file;
		if (o->tls->ca_data != NULL) {
			a->ca_data = nap_xstrndup(o->tls->ca_data, o->tls->ca_len);
			a->tls.ca_data = a->ca_data;
			a->tls.ca_len = o->tls->ca_len;
		}
		a->tls.insecure = o->tls->insecure;
		a->tls.ca_add = o->tls->ca_add;
		a->have_tls = 1;
	}
	a->http = http;
	*out = a;
	return 0;
}

void
nap_auth_free(struct nap_auth *a)
{
	if (a == NULL)
		return;
	free(a->resource);
	free(a->token_endpoint);
	free(a->authority_host);
	free(a->tenant_id);
	free(a->client_id);
	free(a->secret_file);
	free(a->cert_file);
	free(a->federated_file);
	free(a->ca_file);
	free(a->ca_data);
	if (a->token != NULL)
		explicit_bzero(a->token, strlen(a->token));
	free(a->token);
	free(a);
}

time_t
nap_auth_expiry(const struct nap_auth *a)
{
	return a->token ? a->expiry : 0;
}

void
nap_auth_invalidate(struct nap_auth *a)
{
	if (a->token != NULL)
		explicit_bzero(a->token, strlen(a->token));
	free(a->token);
	a->token = NULL;
	a->expiry = a->renew = 0;
}

/* Read a small credential file whole, trailing newlines dropped. */
static int
read_cred_file(const char *path, const char *what, char **out, size_t *outlen, struct nap_err *err)
{
	char *buf = NULL;
	size_t len = 0, alloc = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	struct stat st;

	if (fd < 0)
		return nap_err_set(
		    err, NAP_EX_CONFIG, "unable to read %s %s: %s", what, path, strerror(errno));
	/* Checked on what was opened, so a file swapped after a stat cannot slip by. */
	if (fstat(fd, &st) != 0 || nap_config_file_safe(path, &st, what, err) < 0) {
		if (err && err->code != NAP_EX_CONFIG)
			nap_err_set(err, NAP_EX_CONFIG, "unable to read %s %s: %s", what, path,
			    strerror(errno));
		close(fd);
		return -1;
	}
	for (;;) {
		nap_xgrow(&buf, &alloc, len + 4096, 1);
		n = read(fd, buf + len, alloc - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			free(buf);
			return nap_err_set(err, NAP_EX_CONFIG, "unable to read %s %s: %s", what,
			    path, strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > MAX_CRED_FILE) {
			close(fd);
			free(buf);
			return nap_err_set(err, NAP_EX_CONFIG, "%s %s is larger than %d bytes",
			    what, path, MAX_CRED_FILE);
		}
	}
	close(fd);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	if (len == 0) {
		free(buf);
		return nap_err_set(err, NAP_EX_CONFIG, "%s %s is empty", what, path);
	}
	*out = buf;
	if (outlen)
		*outlen = len;
	return 0;
}

static void
wipe_free(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

/* Append "&key=escaped(value)" to a form body. */
static void
form_add(char **body, const char *key, const char *value)
{
	char *esc = nap_http_escape(value), *next;

	next = nap_xasprintf("%s%s%s=%s", *body ? *body : "", *body ? "&" : "", key, esc);
	wipe_free(*body);
	free(esc);
	*body = next;
}

static int
gnutls_fail(struct nap_err *err, const char *what, const char *path, int rc)
{
	return nap_err_set(err, NAP_EX_CONFIG, "client certificate %s: unable to %s: %s", path,
	    what, gnutls_strerror(rc));
}

int
nap_auth_client_assertion(const char *pem, size_t pem_len, const char *client_id,
    const char *audience, time_t now, char **jwt, struct nap_err *err)
{
	gnutls_datum_t data = {(unsigned char *)(uintptr_t)pem, (unsigned int)pem_len};
	gnutls_x509_crt_t crt = NULL;
	gnutls_privkey_t key = NULL;
	gnutls_datum_t sig = {NULL, 0};
	unsigned char thumb[20], jti[16];
	size_t thumb_len = sizeof(thumb);
	char *h64 = NULL, *p64 = NULL, *s64 = NULL, *x5t = NULL, *signing = NULL;
	char jti_hex[33];
	json_object *hdr = NULL, *claims = NULL;
	const char *s;
	int rc, ret = -1;
	size_t i;

	if ((rc = gnutls_x509_crt_init(&crt)) < 0 ||
	    (rc = gnutls_x509_crt_import(crt, &data, GNUTLS_X509_FMT_PEM)) < 0) {
		gnutls_fail(err, "read the certificate", "PEM", rc);
		goto out;
	}
	if ((rc = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA1, thumb, &thumb_len)) < 0) {
		gnutls_fail(err, "take the thumbprint", "PEM", rc);
		goto out;
	}
	if ((rc = gnutls_privkey_init(&key)) < 0 ||
	    (rc = gnutls_privkey_import_x509_raw(key, &data, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		gnutls_fail(err, "read the private key", "PEM", rc);
		goto out;
	}
	if ((rc = gnutls_rnd(GNUTLS_RND_NONCE, jti, sizeof(jti))) < 0) {
		gnutls_fail(err, "make a nonce", "PEM", rc);
		goto out;
	}
	for (i = 0; i < sizeof(jti); i++)
		snprintf(jti_hex + 2 * i, 3, "%02x", jti[i]);

	x5t = nap_base64url_encode(thumb, thumb_len);
	hdr = json_object_new_object();
	json_object_object_add(hdr, "alg", json_object_new_string("RS256"));
	json_object_object_add(hdr, "typ", json_object_new_string("JWT"));
	json_object_object_add(hdr, "x5t", json_object_new_string(x5t));
	claims = json_object_new_object();
	json_object_object_add(claims, "aud", json_object_new_string(audience));
	json_object_object_add(claims, "iss", json_object_new_string(client_id));
	json_object_object_add(claims, "sub", json_object_new_string(client_id));
	json_object_object_add(claims, "jti", json_object_new_string(jti_hex));
	json_object_object_add(claims, "nbf", json_object_new_int64((int64_t)now));
	json_object_object_add(claims, "iat", json_object_new_int64((int64_t)now));
	json_object_object_add(claims, "exp", json_object_new_int64((int64_t)now + 600));
	s = json_object_to_json_string_ext(
	    hdr, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	h64 = nap_base64url_encode(s, strlen(s));
	s = json_object_to_json_string_ext(
	    claims, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	p64 = nap_base64url_encode(s, strlen(s));
	signing = nap_xasprintf("%s.%s", h64, p64);
	data.data = (unsigned char *)signing;
	data.size = (unsigned int)strlen(signing);
	if ((rc = gnutls_privkey_sign_data(key, GNUTLS_DIG_SHA256, 0, &data, &sig)) < 0) {
		gnutls_fail(err, "sign the client assertion", "PEM", rc);
		goto out;
	}
	s64 = nap_base64url_encode(sig.data, sig.size);
	*jwt = nap_xasprintf("%s.%s", signing, s64);
	ret = 0;
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_privkey_deinit(key);
	gnutls_free(sig.data);
	json_object_put(hdr);
	json_object_put(claims);
	free(x5t);
	free(h64);
	free(p64);
	free(s64);
	free(signing);
	return ret;
}

/* The identity endpoint's refusal, without echoing anything secret. */
static int
token_error(struct nap_auth *a, const struct nap_http_resp *resp, struct nap_err *err)
{
	json_object *body = resp->body ? json_tokener_parse(resp->body) : NULL;
	json_object *e = NULL, *d = NULL;
	const char *code = "", *desc = "";
	char first[300];
	int ex = nap_http_status_code(resp->status);

	if (body && json_object_object_get_ex(body, "error", &e) &&
	    json_object_is_type(e, json_type_string))
		code = json_object_get_string(e);
	if (body && json_object_object_get_ex(body, "error_description", &d) &&
	    json_object_is_type(d, json_type_string))
		desc = json_object_get_string(d);
	/* AAD descriptions run on with trace IDs over several lines; the first says it. */
	snprintf(first, sizeof(first), "%.*s", (int)strcspn(desc, "\r\n"), desc);
	if (resp->status == 400 || resp->status == 401 || resp->status == 403)
		ex = NAP_EX_NOPERM;
	nap_err_set(err, ex,
	    "azure %s credential refused by the identity endpoint: HTTP %ld%s%s%s%s",
	    kind_name[a->kind], resp->status, *code ? ": " : "", code, *first ? ": " : "", first);
	if (err)
		err->http = resp->status;
	json_object_put(body);
	return -1;
}

static int
parse_token(struct nap_auth *a, const struct nap_http_resp *resp, struct nap_err *err)
{
	json_object *body = json_tokener_parse(resp->body ? resp->body : "");
	json_object *tok = NULL, *v = NULL;
	time_t now = time(NULL), expiry = 0;
	long long secs;

	if (body == NULL || !json_object_object_get_ex(body, "access_token", &tok) ||
	    !json_object_is_type(tok, json_type_string) || json_object_get_string_len(tok) == 0) {
		json_object_put(body);
		return nap_err_set(err, NAP_EX_UNAVAILABLE,
		    "azure %s credential: the identity endpoint answered without an access_token",
		    kind_name[a->kind]);
	}
	/* IMDS sends numbers as strings; AAD sends them as numbers. Take either. */
	if (json_object_object_get_ex(body, "expires_on", &v) &&
	    (secs = json_object_get_int64(v)) > now)
		expiry = (time_t)secs;
	else if (json_object_object_get_ex(body, "expires_in", &v) &&
	    (secs = json_object_get_int64(v)) > 0)
		expiry = now + (time_t)secs;
	else
		expiry = now + 3600;
	nap_auth_invalidate(a);
	a->token = nap_xstrdup(json_object_get_string(tok));
	a->expiry = expiry;
	a->renew =
	    expiry - now > 2 * REFRESH_MARGIN ? expiry - REFRESH_MARGIN : now + (expiry - now) / 2;
	json_object_put(body);
	return 0;
}

static int
retryable(long status)
{
	return status == 404 || status == 410 || status == 429 || status >= 500;
}

static int
fetch(struct nap_auth *a, struct nap_err *err)
{
	struct nap_http_opts o;
	struct nap_http_resp resp;
	char *url = NULL, *body = NULL, *secret = NULL, *esc;
	const char *hdrs[] = {"Metadata: true", NULL};
	int tries, rc = -1;

	memset(&o, 0, sizeof(o));
	o.tls = a->have_tls ? &a->tls : NULL;
	o.timeout_ms = 30000;
	if (a->kind == NAP_AUTH_MANAGED_IDENTITY) {
		esc = nap_http_escape(a->resource);
		url = nap_xasprintf("%s%capi-version=2018-02-01&resource=%s", a->token_endpoint,
		    strchr(a->token_endpoint, '?') ? '&' : '?', esc);
		free(esc);
		if (a->client_id != NULL) {
			char *with;

			esc = nap_http_escape(a->client_id);
			with = nap_xasprintf("%s&client_id=%s", url, esc);
			free(esc);
			free(url);
			url = with;
		}
		o.method = "GET";
		o.headers = hdrs;
		o.proxy = ""; /* IMDS is link-local: never through a proxy */
	} else {
		const char *slash =
		    a->authority_host[strlen(a->authority_host) - 1] == '/' ? "" : "/";
		char *scope = nap_xasprintf("%s%s.default", a->resource,
		    a->resource[strlen(a->resource) - 1] == '/' ? "" : "/");

		url = nap_xasprintf(
		    "%s%s%s/oauth2/v2.0/token", a->authority_host, slash, a->tenant_id);
		form_add(&body, "grant_type", "client_credentials");
		form_add(&body, "client_id", a->client_id);
		form_add(&body, "scope", scope);
		free(scope);
		if (a->kind == NAP_AUTH_WORKLOAD_IDENTITY || a->cert_file != NULL) {
			if (a->kind == NAP_AUTH_WORKLOAD_IDENTITY) {
				if (read_cred_file(a->federated_file, "federated token file",
					&secret, NULL, err) != 0)
					goto out;
			} else {
				char *pem;
				size_t pem_len;

				if (read_cred_file(a->cert_file, "client certificate file", &pem,
					&pem_len, err) != 0)
					goto out;
				rc = nap_auth_client_assertion(
				    pem, pem_len, a->client_id, url, time(NULL), &secret, err);
				wipe_free(pem);
				if (rc != 0) {
					nap_err_prefix(err, "%s", a->cert_file);
					goto out;
				}
				rc = -1;
			}
			form_add(&body, "client_assertion_type",
			    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
			form_add(&body, "client_assertion", secret);
		} else {
			if (read_cred_file(
				a->secret_file, "client secret file", &secret, NULL, err) != 0)
				goto out;
			form_add(&body, "client_secret", secret);
		}
		o.method = "POST";
		o.content_type = "application/x-www-form-urlencoded";
		o.body = body;
		o.body_len = strlen(body);
	}
	o.url = url;

	for (tries = 1;; tries++) {
		memset(&resp, 0, sizeof(resp));
		if (nap_http_do(a->http, &o, &resp, err) != 0) {
			nap_http_resp_free(&resp);
			if (tries >= TRIES) {
				nap_err_prefix(
				    err, "azure %s credential: token endpoint", kind_name[a->kind]);
				goto out;
			}
		} else if (resp.status >= 200 && resp.status < 300) {
			rc = parse_token(a, &resp, err);
			nap_http_resp_free(&resp);
			goto out;
		} else if (!retryable(resp.status) || tries >= TRIES) {
			token_error(a, &resp, err);
			nap_http_resp_free(&resp);
			goto out;
		} else {
			nap_http_resp_free(&resp);
		}
		/* 0.25 s, 0.5 s, 1 s: IMDS asks for backoff, and the caller has a loop of its own. */
		usleep(250000u << (tries - 1));
	}
out:
	wipe_free(body);
	wipe_free(secret);
	free(url);
	return rc;
}

int
nap_auth_token(struct nap_auth *a, const char **token, struct nap_err *err)
{
	time_t now = time(NULL);

	if (a->token == NULL || now >= a->renew) {
		if (fetch(a, err) != 0) {
			/* A refresh that fails early still leaves a token that works. */
			if (a->token == NULL || now >= a->expiry)
				return -1;
		}
	}
	*token = a->token;
	return 0;
}

/* "" = unset in nap.conf: NULL for the options. */
static const char *
opt(const char *s)
{
	return s[0] ? s : NULL;
}

int
nap_auth_new_from_config(struct nap_auth **out, const struct nap_config *cfg,
    const struct nap_http_tls *tls, struct nap_http *http, struct nap_err *err)
{
	struct nap_auth_opts ao;
	char *resource;
	int rc;

	memset(&ao, 0, sizeof(ao));
	if (nap_auth_kind_parse(cfg->azure.auth, &ao.kind) < 0)
		return nap_err_set(err, NAP_EX_CONFIG, "azure.auth: unknown kind \"%s\"",
		    cfg->azure.auth);
	/* Tokens for the public cloud are asked for its canonical resource. */
	if (strstr(cfg->azure.arm_endpoint, "management.azure.com"))
		resource = nap_xstrdup("https://management.azure.com/");
	else
		resource = nap_xasprintf("%s/", cfg->azure.arm_endpoint);
	ao.resource = resource;
	ao.token_endpoint = opt(cfg->azure.token_endpoint);
	ao.authority_host = opt(cfg->azure.authority_host);
	ao.tenant_id = opt(cfg->azure.tenant_id);
	ao.client_id = opt(cfg->azure.client_id);
	ao.client_secret_file = opt(cfg->azure.client_secret_file);
	ao.client_certificate_file = opt(cfg->azure.client_certificate_file);
	ao.federated_token_file = opt(cfg->azure.federated_token_file);
	ao.tls = tls;
	nap_auth_opts_from_env(&ao);
	rc = nap_auth_new(out, &ao, http, err);
	free(resource);
	return rc;
}
