/*
 * tls.c - the certificates nap-sim serves with: either given as PEM files
 * (--tls-cert, --tls-key, --tls-ca) or made at start with GnuTLS, a
 * throw-away CA (ECDSA P-256, valid a year) and a server certificate it
 * signs for 127.0.0.1, ::1 and localhost.  Clients trust the CA from the
 * kubeconfig's certificate-authority-data or the --ca-out file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core.h"

static char *
export_cert(gnutls_x509_crt_t crt)
{
	gnutls_datum_t d = {NULL, 0};
	char *s;

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d) < 0)
		return NULL;
	s = nap_xstrndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	return s;
}

static char *
export_key(gnutls_x509_privkey_t key)
{
	gnutls_datum_t d = {NULL, 0};
	char *s;

	if (gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d) < 0)
		return NULL;
	s = nap_xstrndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	return s;
}

static int
new_key(gnutls_x509_privkey_t *key)
{
	if (gnutls_x509_privkey_init(key) < 0)
		return -1;
	return gnutls_x509_privkey_generate(
	    *key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
}

static int
fill_cert(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn, unsigned serial)
{
	time_t now = time(NULL);
	unsigned char sn[4] = {0x4e, (unsigned char)(serial >> 16), (unsigned char)(serial >> 8),
	    (unsigned char)serial};

	if (gnutls_x509_crt_set_version(crt, 3) < 0 || gnutls_x509_crt_set_key(crt, key) < 0 ||
	    gnutls_x509_crt_set_serial(crt, sn, sizeof(sn)) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, now - 3600) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, now + 365 * 24 * 3600) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(
		crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn)) < 0)
		return -1;
	return 0;
}

int
sim_tls_generate(struct sim *sim, struct nap_err *err)
{
	gnutls_x509_privkey_t cakey = NULL, key = NULL;
	gnutls_x509_crt_t ca = NULL, crt = NULL;
	static const unsigned char ip4[4] = {127, 0, 0, 1};
	static const unsigned char ip6[16] = {[15] = 1};
	unsigned char addr[4];
	int rc = -1;

	if (new_key(&cakey) < 0 || new_key(&key) < 0 || gnutls_x509_crt_init(&ca) < 0 ||
	    gnutls_x509_crt_init(&crt) < 0)
		goto out;
	if (fill_cert(ca, cakey, "nap-sim-ca", (unsigned)time(NULL)) < 0 ||
	    gnutls_x509_crt_set_ca_status(ca, 1) < 0 ||
	    gnutls_x509_crt_set_key_usage(
		ca, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN | GNUTLS_KEY_DIGITAL_SIGNATURE) <
		0 ||
	    gnutls_x509_crt_sign2(ca, ca, cakey, GNUTLS_DIG_SHA256, 0) < 0)
		goto out;
	if (fill_cert(crt, key, "nap-sim", (unsigned)time(NULL) + 1) < 0 ||
	    gnutls_x509_crt_set_ca_status(crt, 0) < 0 ||
	    gnutls_x509_crt_set_key_usage(
		crt, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT) < 0 ||
	    gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0) < 0 ||
	    gnutls_x509_crt_set_subject_alt_name(
		crt, GNUTLS_SAN_DNSNAME, "localhost", 9, GNUTLS_FSAN_APPEND) < 0 ||
	    gnutls_x509_crt_set_subject_alt_name(
		crt, GNUTLS_SAN_IPADDRESS, ip4, sizeof(ip4), GNUTLS_FSAN_APPEND) < 0 ||
	    gnutls_x509_crt_set_subject_alt_name(
		crt, GNUTLS_SAN_IPADDRESS, ip6, sizeof(ip6), GNUTLS_FSAN_APPEND) < 0)
		goto out;
	/* A listen address other than loopback must be in the certificate too. */
	if (strcmp(sim->opts.listen, "127.0.0.1") &&
	    sscanf(sim->opts.listen, "%hhu.%hhu.%hhu.%hhu", &addr[0], &addr[1], &addr[2],
		&addr[3]) == 4 &&
	    gnutls_x509_crt_set_subject_alt_name(
		crt, GNUTLS_SAN_IPADDRESS, addr, sizeof(addr), GNUTLS_FSAN_APPEND) < 0)
		goto out;
	if (gnutls_x509_crt_sign2(crt, ca, cakey, GNUTLS_DIG_SHA256, 0) < 0)
		goto out;
	sim->ca_pem = export_cert(ca);
	sim->cert_pem = export_cert(crt);
	sim->key_pem = export_key(key);
	if (sim->ca_pem && sim->cert_pem && sim->key_pem)
		rc = 0;
out:
	if (ca)
		gnutls_x509_crt_deinit(ca);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (cakey)
		gnutls_x509_privkey_deinit(cakey);
	if (key)
		gnutls_x509_privkey_deinit(key);
	if (rc < 0)
		return nap_err_set(err, NAP_EX_SOFTWARE, "unable to generate the TLS certificates");
	return 0;
}

static char *
slurp(const char *path, struct nap_err *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, alloc = 0, n;

	if (!f) {
		nap_err_set(err, NAP_EX_CONFIG, "unable to open %s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		nap_xgrow(&buf, &alloc, len + 4097, 1);
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	buf[len] = '\0';
	if (ferror(f)) {
		fclose(f);
		free(buf);
		nap_err_set(err, NAP_EX_IOERR, "unable to read %s", path);
		return NULL;
	}
	fclose(f);
	return buf;
}

int
sim_tls_load(struct sim *sim, struct nap_err *err)
{
	const struct sim_opts *o = &sim->opts;

	if (!o->tls_cert || !o->tls_key)
		return nap_err_set(err, NAP_EX_USAGE, "--tls-cert and --tls-key go together");
	sim->cert_pem = slurp(o->tls_cert, err);
	if (!sim->cert_pem)
		return -1;
	sim->key_pem = slurp(o->tls_key, err);
	if (!sim->key_pem)
		return -1;
	sim->ca_pem = slurp(o->tls_ca ? o->tls_ca : o->tls_cert, err);
	if (!sim->ca_pem)
		return -1;
	return 0;
}
