/* Unit tests for lib/auth: configuration checks and the certificate client assertion. */
#include "auth.h"
#include "base64.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <json-c/json.h>

/* A fresh RSA key and self-signed certificate, both PEM, in one buffer. */
static char *
make_pem(gnutls_pubkey_t *pub, unsigned char *thumb, size_t *thumb_len)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	unsigned char serial = 1;
	char *pem = nap_xmalloc(16384);
	size_t klen = 8192, clen = 8192;

	gnutls_x509_privkey_init(&key);
	gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA, 2048, 0);
	gnutls_x509_crt_init(&crt);
	gnutls_x509_crt_set_version(crt, 3);
	gnutls_x509_crt_set_serial(crt, &serial, 1);
	gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "nap-test", 8);
	gnutls_x509_crt_set_issuer_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "nap-test", 8);
	gnutls_x509_crt_set_activation_time(crt, time(NULL) - 60);
	gnutls_x509_crt_set_expiration_time(crt, time(NULL) + 3600);
	gnutls_x509_crt_set_key(crt, key);
	gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
	gnutls_x509_crt_export(crt, GNUTLS_X509_FMT_PEM, pem, &clen);
	gnutls_x509_privkey_export_pkcs8(
	    key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, pem + clen, &klen);
	pem[clen + klen] = '\0';
	gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA1, thumb, thumb_len);
	gnutls_pubkey_init(pub);
	gnutls_pubkey_import_x509(*pub, crt, 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return pem;
}

static json_object *
segment(const char *jwt, int n)
{
	const char *p = jwt, *dot;
	unsigned char *dec;
	size_t len;
	json_object *o;

	while (n-- > 0)
		p = strchr(p, '.') + 1;
	dot = strchr(p, '.');
	if (nap_base64_decode(p, dot ? (size_t)(dot - p) : strlen(p), &dec, &len) != 0)
		return NULL;
	o = json_tokener_parse((char *)dec);
	free(dec);
	return o;
}

int
main(void)
{
	struct nap_auth_opts o;
	struct nap_auth *a = NULL;
	struct nap_err err;
	gnutls_pubkey_t pub;
	unsigned char thumb[20];
	size_t thumb_len = sizeof(thumb);
	char *pem, *jwt = NULL, *x5t, *sigpart;
	json_object *hdr, *claims;
	gnutls_datum_t data, sig;
	unsigned char *sigbin;
	size_t siglen;

	memset(&o, 0, sizeof(o));
	o.kind = NAP_AUTH_WORKLOAD_IDENTITY;
	o.resource = "https://management.azure.com/";
	o.authority_host = "https://login.microsoftonline.com/";
	o.client_id = "11111111-2222-3333-4444-555555555555";
	TAP_IS_INT(
	    nap_auth_new(&a, &o, NULL, &err), -1, "workload identity without a tenant is refused");
	TAP_IS_INT(err.code, NAP_EX_CONFIG, "an incomplete credential is a configuration error");
	TAP_IS_STR(err.msg, "azure workload identity credential: no tenant ID configured",
	    "the message names what is missing");
	setenv("AZURE_TENANT_ID", "tenant-from-env", 1);
	setenv(
	    "AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token", 1);
	setenv("AZURE_CLIENT_ID", "not-this-one", 1);
	nap_auth_opts_from_env(&o);
	TAP_IS_STR(o.tenant_id, "tenant-from-env", "the tenant comes from AZURE_TENANT_ID");
	TAP_IS_STR(o.client_id, "11111111-2222-3333-4444-555555555555",
	    "a client ID already configured wins over the environment");
	TAP_IS_INT(nap_auth_new(&a, &o, NULL, &err), 0, "a complete workload identity is accepted");
	TAP_IS_INT(nap_auth_expiry(a), 0, "no token is fetched before one is asked for");
	nap_auth_free(a);

	memset(&o, 0, sizeof(o));
	o.kind = NAP_AUTH_SERVICE_PRINCIPAL;
	o.resource = "https://management.azure.com/";
	o.authority_host = "https://login.microsoftonline.com/";
	o.tenant_id = "t";
	o.client_id = "c";
	TAP_IS_INT(nap_auth_new(&a, &o, NULL, &err), -1,
	    "a service principal without secret or certificate is refused");
	TAP_OK(strstr(err.msg, "client secret file or client certificate file") != NULL,
	    "the message says what to configure: %s", err.msg);
	{
		/* A client secret file anyone may rewrite is refused before any request. */
		char path[] = "/tmp/t-auth-secret.XXXXXX";
		int fd = mkstemp(path);
		const char *tok = NULL;
		struct nap_http *http = nap_http_new(&err);

		if (fd < 0 || write(fd, "s3cret\n", 7) != 7) {
			printf("Bail out! cannot write %s\n", path);
			return 1;
		}
		close(fd);
		o.client_secret_file = path;
		o.authority_host = "http://127.0.0.1:1/";
		TAP_IS_INT(nap_auth_new(&a, &o, http, &err), 0, "a service principal with a secret file");
		chmod(path, 0666);
		TAP_IS_INT(nap_auth_token(a, &tok, &err), -1, "a world-writable secret file is refused");
		TAP_IS_INT(err.code, NAP_EX_CONFIG, "as a configuration error");
		TAP_OK(strstr(err.msg, path) && strstr(err.msg, "mode 0666"),
		    "naming the file and its mode: %s", err.msg);
		chmod(path, 0600);
		TAP_IS_INT(nap_auth_token(a, &tok, &err), -1, "at 0600 it is read (nothing listens)");
		TAP_OK(err.code != NAP_EX_CONFIG, "and the failure is the endpoint's: %s", err.msg);
		nap_auth_free(a);
		nap_http_free(http);
		unlink(path);
	}
	memset(&o, 0, sizeof(o));
	o.kind = NAP_AUTH_MANAGED_IDENTITY;
	o.resource = "https://management.azure.com/";
	TAP_IS_INT(nap_auth_new(&a, &o, NULL, &err), -1, "managed identity needs a token endpoint");
	{
		enum nap_auth_kind k;

		TAP_OK(nap_auth_kind_parse("service-principal", &k) == 0 &&
			k == NAP_AUTH_SERVICE_PRINCIPAL,
		    "service-principal parses");
		TAP_IS_INT(
		    nap_auth_kind_parse("msi", &k), -1, "an unknown credential kind is refused");
	}

	pem = make_pem(&pub, thumb, &thumb_len);
	TAP_IS_INT(
	    nap_auth_client_assertion(pem, strlen(pem), "client-1",
		"https://login.microsoftonline.com/t/oauth2/v2.0/token", 1700000000, &jwt, &err),
	    0, "a certificate and key in one PEM make a client assertion");
	hdr = segment(jwt, 0);
	claims = segment(jwt, 1);
	x5t = nap_base64url_encode(thumb, thumb_len);
	TAP_IS_STR(json_object_get_string(json_object_object_get(hdr, "alg")), "RS256",
	    "the assertion is signed RS256");
	TAP_IS_STR(json_object_get_string(json_object_object_get(hdr, "x5t")), x5t,
	    "x5t is the certificate's SHA-1 thumbprint, base64url");
	TAP_IS_STR(json_object_get_string(json_object_object_get(claims, "aud")),
	    "https://login.microsoftonline.com/t/oauth2/v2.0/token", "aud is the token endpoint");
	TAP_IS_STR(json_object_get_string(json_object_object_get(claims, "iss")), "client-1",
	    "iss is the client ID");
	TAP_IS_STR(json_object_get_string(json_object_object_get(claims, "sub")), "client-1",
	    "sub is the client ID");
	TAP_IS_INT(json_object_get_int64(json_object_object_get(claims, "exp")), 1700000600,
	    "the assertion lives ten minutes");
	TAP_IS_INT(json_object_get_string_len(json_object_object_get(claims, "jti")), 32,
	    "jti is a 128-bit nonce");

	sigpart = strrchr(jwt, '.');
	nap_base64_decode(sigpart + 1, strlen(sigpart + 1), &sigbin, &siglen);
	data.data = (unsigned char *)jwt;
	data.size = (unsigned int)(sigpart - jwt);
	sig.data = sigbin;
	sig.size = (unsigned int)siglen;
	TAP_OK(gnutls_pubkey_verify_data2(pub, GNUTLS_SIGN_RSA_SHA256, 0, &data, &sig) >= 0,
	    "the signature verifies with the certificate's public key");
	sigbin[0] ^= 1;
	TAP_OK(gnutls_pubkey_verify_data2(pub, GNUTLS_SIGN_RSA_SHA256, 0, &data, &sig) < 0,
	    "a tampered signature does not verify");
	TAP_IS_INT(nap_auth_client_assertion("garbage", 7, "c", "a", 0, &jwt, &err), -1,
	    "a PEM without a certificate is an error");
	TAP_IS_INT(err.code, NAP_EX_CONFIG, "a bad certificate file is a configuration error");
	free(sigbin);
	json_object_put(hdr);
	json_object_put(claims);
	free(x5t);
	free(pem);
	free(jwt);
	gnutls_pubkey_deinit(pub);
	return tap_done();
}
