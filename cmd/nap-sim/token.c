/*
 * token.c - the token endpoints nap's credentials talk to: the managed
 * identity endpoint in the IMDS shape and the Microsoft Entra (AAD) v2.0
 * token endpoint that workload identity and service principals use.  Every
 * token handed out is remembered with its expiry so ARM can tell a token it
 * issued from a forged or expired one.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <time.h>

#include "base64.h"
#include "json.h"
#include "log.h"
#include "world.h"

static void
oauth_error(struct sim_resp *resp, int status, const char *error, const char *desc)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(error));
	json_object_object_add(o, "error_description", json_object_new_string(desc));
	sim_resp_json(resp, status, o);
}

/*
 * A JWT-shaped token (header.claims.signature) so that clients which peek
 * at the claims find aud, tid and exp; the signature is random and nothing
 * verifies it but this table.
 */
static char *
token_issue(
    struct world *w, const char *audience, const char *client, double lifetime, double *expires_on)
{
	char hdr[128], claims[1024], iss[200];
	char *sig, *part1, *part2;
	unsigned char rnd[24];
	double now = world_wall();
	json_object *c;
	struct world_token *t;
	size_t i;

	for (i = 0; i < sizeof(rnd); i++)
		rnd[i] = (unsigned char)(world_rand(w) >> 24);
	sig = nap_base64url_encode(rnd, sizeof(rnd));
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"nap-sim\"}");
	c = json_object_new_object();
	json_object_object_add(c, "aud", json_object_new_string(audience));
	snprintf(iss, sizeof(iss), "https://sts.windows.net/%s/", w->tenant);
	json_object_object_add(c, "iss", json_object_new_string(iss));
	json_object_object_add(c, "tid", json_object_new_string(w->tenant));
	json_object_object_add(c, "appid", json_object_new_string(client ? client : ""));
	json_object_object_add(c, "iat", json_object_new_int64((int64_t)now));
	json_object_object_add(c, "nbf", json_object_new_int64((int64_t)now));
	json_object_object_add(c, "exp", json_object_new_int64((int64_t)(now + lifetime)));
	json_object_object_add(c, "jti", json_object_new_string(sig));
	snprintf(claims, sizeof(claims), "%s",
	    json_object_to_json_string_ext(
		c, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(c);
	part1 = nap_base64url_encode(hdr, strlen(hdr));
	part2 = nap_base64url_encode(claims, strlen(claims));

	nap_xgrow(&w->tokens, &w->atokens, w->ntokens + 1, sizeof(*w->tokens));
	t = &w->tokens[w->ntokens++];
	t->token = nap_xasprintf("%s.%s.%s", part1, part2, sig);
	free(part1);
	free(part2);
	free(sig);
	t->expires_on = (double)(int64_t)(now + lifetime);
	*expires_on = t->expires_on;
	return t->token;
}

int
world_token_check(
    struct world *w, const char *authorization, const char **code, char *msg, size_t msglen)
{
	const char *tok;
	double now = world_wall();
	char exp[40], cur[40];
	size_t i;

	if (authorization == NULL || *authorization == '\0') {
		*code = "AuthenticationFailed";
		snprintf(
		    msg, msglen, "Authentication failed. The 'Authorization' header is missing.");
		return 0;
	}
	if (strncasecmp(authorization, "Bearer ", 7) != 0) {
		*code = "AuthenticationFailedInvalidHeader";
		snprintf(msg, msglen,
		    "Authentication failed. The 'Authorization' header is provided in an invalid "
		    "format.");
		return 0;
	}
	tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	for (i = 0; i < w->ntokens; i++) {
		if (strcmp(w->tokens[i].token, tok) != 0)
			continue;
		if (w->tokens[i].expires_on > now)
			return 1;
		*code = "ExpiredAuthenticationToken";
		world_rfc3339_at(w->tokens[i].expires_on, exp, sizeof(exp));
		world_rfc3339_at(now, cur, sizeof(cur));
		snprintf(msg, msglen,
		    "The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
		    exp, cur);
		return 0;
	}
	*code = "InvalidAuthenticationToken";
	snprintf(msg, msglen, "The access token is invalid.");
	return 0;
}

static void
token_answer(
    struct world *w, struct sim_resp *resp, const char *resource, const char *client, int imds)
{
	double exp, life = w->token_lifetime;
	const char *tok;
	json_object *o = json_object_new_object();
	char buf[32];

	if (!imds && life > 3599)
		life = 3599;
	tok = token_issue(w, resource, client, life, &exp);
	json_object_object_add(o, "access_token", json_object_new_string(tok));
	if (imds) {
		/* IMDS sends every number as a string. */
		json_object_object_add(o, "refresh_token", json_object_new_string(""));
		snprintf(buf, sizeof(buf), "%.0f", life);
		json_object_object_add(o, "expires_in", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "%.0f", exp);
		json_object_object_add(o, "expires_on", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "%.0f", exp - life);
		json_object_object_add(o, "not_before", json_object_new_string(buf));
		json_object_object_add(o, "resource", json_object_new_string(resource));
		json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
		if (client)
			json_object_object_add(o, "client_id", json_object_new_string(client));
	} else {
		json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
		json_object_object_add(o, "expires_in", json_object_new_int64((int64_t)life));
		json_object_object_add(o, "ext_expires_in", json_object_new_int64((int64_t)life));
	}
	sim_resp_json(resp, 200, o);
}

/* The value of key in an x-www-form-urlencoded body, decoded; NULL if absent. */
static char *
form_get(const char *body, size_t len, const char *key)
{
	size_t klen = strlen(key), i = 0;

	while (i < len) {
		size_t end = i;

		while (end < len && body[end] != '&')
			end++;
		if (end - i > klen && strncmp(body + i, key, klen) == 0 && body[i + klen] == '=') {
			char *out = nap_xmalloc(end - i);
			size_t o = 0, j;

			for (j = i + klen + 1; j < end; j++) {
				if (body[j] == '+') {
					out[o++] = ' ';
				} else if (body[j] == '%' && j + 2 < end &&
				    isxdigit((unsigned char)body[j + 1]) &&
				    isxdigit((unsigned char)body[j + 2])) {
					char hex[3] = {body[j + 1], body[j + 2], 0};

					out[o++] = (char)strtol(hex, NULL, 16);
					j += 2;
				} else {
					out[o++] = body[j];
				}
			}
			out[o] = '\0';
			return out;
		}
		i = end + 1;
	}
	return NULL;
}

static void aad_error(struct sim_resp *resp, int status, const char *error, int aadsts,
    const char *fmt, ...) NAP_PRINTF(5, 6);

static void
aad_error(struct sim_resp *resp, int status, const char *error, int aadsts, const char *fmt, ...)
{
	char desc[512], text[400];
	json_object *o = json_object_new_object(), *codes;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(desc, sizeof(desc), "AADSTS%d: %s", aadsts, text);
	json_object_object_add(o, "error", json_object_new_string(error));
	json_object_object_add(o, "error_description", json_object_new_string(desc));
	codes = json_object_new_array();
	json_object_array_add(codes, json_object_new_int(aadsts));
	json_object_object_add(o, "error_codes", codes);
	sim_resp_json(resp, status, o);
}

/* POST /<tenant>/oauth2/v2.0/token: client credentials with a secret or a
 * federated assertion (workload identity). */
static int
aad_token(struct world *w, const struct sim_req *req, struct sim_resp *resp, const char *tenant,
    size_t tlen)
{
	static const char *need[] = {"grant_type", "client_id", "scope"};
	char *v[3], *secret, *assertion, *atype;
	char tbuf[128];
	size_t i;
	int ok = 1;

	if (strcmp(req->method, "POST") != 0) {
		aad_error(resp, 405, "invalid_request", 900561,
		    "The endpoint only accepts POST requests. Received a %s request.", req->method);
		return 1;
	}
	snprintf(tbuf, sizeof(tbuf), "%.*s", (int)(tlen < 120 ? tlen : 120), tenant);
	if (strcasecmp(tbuf, w->tenant) != 0 && strcmp(tbuf, "organizations") != 0) {
		aad_error(resp, 400, "invalid_request", 90002,
		    "Tenant '%s' not found. Check to make sure you have the correct tenant ID and "
		    "are signing into the correct cloud.",
		    tbuf);
		return 1;
	}
	if (req->content_type == NULL ||
	    strncasecmp(req->content_type, "application/x-www-form-urlencoded", 33) != 0) {
		aad_error(resp, 400, "invalid_request", 900144,
		    "The request body must contain the following parameter: '%s'.", "grant_type");
		return 1;
	}
	for (i = 0; i < 3; i++)
		v[i] = form_get(req->body, req->body_len, need[i]);
	for (i = 0; i < 3 && ok; i++) {
		if (v[i] == NULL || *v[i] == '\0') {
			aad_error(resp, 400, "invalid_request", 900144,
			    "The request body must contain the following parameter: '%s'.",
			    need[i]);
			ok = 0;
		}
	}
	secret = form_get(req->body, req->body_len, "client_secret");
	assertion = form_get(req->body, req->body_len, "client_assertion");
	atype = form_get(req->body, req->body_len, "client_assertion_type");
	if (ok && strcmp(v[0], "client_credentials") != 0) {
		aad_error(resp, 400, "unsupported_grant_type", 70003,
		    "The app requested an unsupported grant type '%s'.", v[0]);
		ok = 0;
	}
	if (ok && (secret == NULL || *secret == '\0') &&
	    (assertion == NULL || *assertion == '\0')) {
		aad_error(resp, 401, "invalid_client", 7000216,
		    "'client_assertion', 'client_secret' or 'request' is required for the "
		    "'client_credentials' grant type.");
		ok = 0;
	}
	if (ok && secret && *secret && !sim_secret_ok(w->sim, secret)) {
		aad_error(resp, 401, "invalid_client", 7000215,
		    "Invalid client secret provided. Ensure the secret being sent in the request "
		    "is the client secret value, not the client secret ID.");
		ok = 0;
	}
	if (ok && assertion && *assertion &&
	    (atype == NULL ||
		strcmp(atype, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") != 0)) {
		aad_error(resp, 400, "invalid_request", 50027,
		    "Invalid JWT token. The client_assertion_type '%s' is not supported.",
		    atype ? atype : "");
		ok = 0;
	}
	if (ok && strstr(v[2], "/.default") == NULL) {
		aad_error(resp, 400, "invalid_scope", 1002012,
		    "The provided value for scope %s is not valid. Client credential flows must "
		    "have a scope value with /.default suffixed to the resource identifier "
		    "(application ID URI).",
		    v[2]);
		ok = 0;
	}
	if (ok) {
		char *res = nap_xstrdup(v[2]);

		/* the resource is the scope without ".default", keeping its slash */
		res[strstr(v[2], "/.default") - v[2] + 1] = '\0';
		token_answer(w, resp, res, v[1], 0);
		free(res);
	}
	for (i = 0; i < 3; i++)
		free(v[i]);
	free(secret);
	free(assertion);
	free(atype);
	return 1;
}

int
sim_token_handle(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	struct world *w = world_of(sim);
	const char *p = req->path, *md, *res, *slash;

	if (w == NULL)
		return 0;
	if (strcmp(p, "/metadata/identity/oauth2/token") == 0) {
		if (strcmp(req->method, "GET") != 0) {
			oauth_error(resp, 405, "invalid_request",
			    "The request method is not supported for this endpoint");
			return 1;
		}
		md = sim_req_header(req, "Metadata");
		if (md == NULL || strcasecmp(md, "true") != 0) {
			oauth_error(
			    resp, 400, "invalid_request", "Required metadata header not specified");
			return 1;
		}
		if (sim_req_query(req, "api-version") == NULL) {
			oauth_error(resp, 400, "invalid_request",
			    "Required query variable 'api-version' is missing");
			return 1;
		}
		res = sim_req_query(req, "resource");
		if (res == NULL || *res == '\0') {
			oauth_error(resp, 400, "invalid_request",
			    "Required query variable 'resource' is missing");
			return 1;
		}
		/*
		 * Azure's instance metadata service is reachable from its VM
		 * alone; this one from any local user, so it asks for the
		 * simulator's token as ?key= (the tokenEndpoint of the
		 * configuration nap-sim writes carries it).
		 */
		if (!sim_secret_ok(w->sim, sim_req_query(req, "key"))) {
			oauth_error(resp, 401, "invalid_request",
			    "The simulator's key (query variable 'key') is missing or wrong");
			return 1;
		}
		token_answer(w, resp, res, sim_req_query(req, "client_id"), 1);
		return 1;
	}
	/* /<tenant>/oauth2/v2.0/token */
	if (p[0] == '/' && (slash = strchr(p + 1, '/')) != NULL &&
	    strcmp(slash, "/oauth2/v2.0/token") == 0 && slash > p + 1)
		return aad_token(w, req, resp, p + 1, (size_t)(slash - p - 1));
	return 0;
}
