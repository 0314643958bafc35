/*
 * auth.h - bearer tokens for Azure Resource Manager from the credentials an
 * operator has on a management VM or in a pod:
 *
 *   managed identity     GET the IMDS token endpoint with "Metadata: true"
 *                        (system-assigned, or user-assigned by client ID)
 *   workload identity    POST {authorityHost}{tenant}/oauth2/v2.0/token with
 *                        the federated token file as client_assertion (the
 *                        file is re-read on every exchange: kubelet rotates it)
 *   service principal    the same endpoint with client_secret (read from a
 *                        file), or with a client certificate: a JWT client
 *                        assertion signed RS256 with the certificate's key
 *
 * Tokens are cached and refreshed five minutes before they expire (or at
 * half their lifetime when that is shorter), so a long-running tool never
 * presents an expired token; nap_auth_invalidate() drops the cache after a
 * 401.  Secrets and tokens never appear in error messages.
 *
 * Ownership: the nap_auth keeps a pointer to the caller's HTTP pool (which
 * must outlive it) and copies every option string.  The token returned by
 * nap_auth_token() is owned by the nap_auth and valid until the next call.
 * Errors: NAP_EX_NOPERM when the identity endpoint refuses the credential
 * (400/401/403: wrong client, secret or assertion), NAP_EX_CONFIG for a
 * missing or unreadable credential file or an incomplete configuration,
 * NAP_EX_UNAVAILABLE when the endpoint cannot be reached or keeps failing.
 */
#ifndef NAP_AUTH_H
#define NAP_AUTH_H

#include <time.h>

#include "http.h"
#include "nap.h"

enum nap_auth_kind {
	NAP_AUTH_MANAGED_IDENTITY,
	NAP_AUTH_WORKLOAD_IDENTITY,
	NAP_AUTH_SERVICE_PRINCIPAL, /* with a secret file or a certificate file */
};

struct nap_auth_opts {
	enum nap_auth_kind kind;
	const char *resource;	    /* "https://management.azure.com/" */
	const char *token_endpoint; /* managed identity: the IMDS URL */
	const char *authority_host; /* "https://login.microsoftonline.com/" */
	const char *tenant_id;
	const char *client_id; /* managed identity: user-assigned, or NULL */
	const char *client_secret_file;
	const char *client_certificate_file; /* PEM: certificate and private key */
	const char *federated_token_file;
	const struct nap_http_tls *tls; /* CA for the identity endpoint, or NULL */
};

struct nap_auth;

/* "managed-identity", "workload-identity", "service-principal"; -1 otherwise. */
int nap_auth_kind_parse(const char *s, enum nap_auth_kind *kind);

/*
 * Fill the options' gaps from the environment the Azure SDKs use
 * (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE,
 * AZURE_AUTHORITY_HOST, AZURE_CLIENT_SECRET_FILE, AZURE_CLIENT_CERTIFICATE_PATH):
 * a value already set in o wins.
 */
void nap_auth_opts_from_env(struct nap_auth_opts *o);

/* Check the options and copy them; the first token is fetched lazily. */
int nap_auth_new(struct nap_auth **out, const struct nap_auth_opts *o, struct nap_http *http,
    struct nap_err *err);
void nap_auth_free(struct nap_auth *a);
/*
 * The credential nap.conf(5) describes (its azure section, then the
 * environment as nap_auth_opts_from_env), for ARM at the configured
 * endpoint; tls (may be NULL) is the CA for the identity endpoint.  Every
 * tool that calls ARM starts here, so they all authenticate alike.
 */
struct nap_config;
int nap_auth_new_from_config(struct nap_auth **out, const struct nap_config *cfg,
    const struct nap_http_tls *tls, struct nap_http *http, struct nap_err *err);

/* A valid access token, from the cache or freshly fetched. */
int nap_auth_token(struct nap_auth *a, const char **token, struct nap_err *err);
/* When the cached token expires (0 when none is cached). */
time_t nap_auth_expiry(const struct nap_auth *a);
/* Forget the cached token (the server said 401). */
void nap_auth_invalidate(struct nap_auth *a);

/*
 * The RS256-signed JWT client assertion for a certificate credential: header
 * {"alg":"RS256","typ":"JWT","x5t":<SHA-1 thumbprint>}, claims aud, iss, sub,
 * jti, nbf, exp (10 minutes).  Exposed for tests; caller frees.
 */
int nap_auth_client_assertion(const char *pem, size_t pem_len, const char *client_id,
    const char *audience, time_t now, char **jwt, struct nap_err *err);

#endif
