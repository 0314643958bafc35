/*
 * fuzz-kubeconfig - lib/kube.c's kubeconfig merge and resolution, the
 * ExecCredential a credential plugin prints, and RFC 3339 times.
 *
 * Input: a kubeconfig (YAML; each document is merged as one more file of a
 * $KUBECONFIG list named /etc/nap/fuzz/config), and the same bytes as an
 * ExecCredential and as a timestamp.  Nothing is read from disk or run.
 * Contract:
 *   - merging and resolving return 0, or -1 with an error (NAP_EX_CONFIG);
 *   - a resolved context has an http(s) server without a trailing slash, a
 *     namespace, and every file it names is an absolute path (relative ones
 *     are relative to the file's directory);
 *   - an exec plugin has argv[0] == command, a NULL-terminated argv, and
 *     NAME=value environment entries;
 *   - no error message carries a token or a key (secrets never reach logs);
 *   - an ExecCredential parses to a token or a certificate with its key.
 */
#include <json-c/json.h>

#include "fuzz.h"
#include "json.h"
#include "kube.h"
#include "yaml.h"

#define NAME "/etc/nap/fuzz/config"

static json_object *secrets, *others;

/*
 * Remember the secrets of a document, to look for them in messages, and every
 * other string and key: a message may quote those, and one may hold a
 * secret's text by chance.
 */
static void
collect_secrets(json_object *o, int depth)
{
	static const char *const keys[] = {"token", "client-key-data", "clientKeyData", "password"};

	if (depth > 64)
		return;
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			collect_secrets(json_object_array_get_idx(o, i), depth + 1);
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			int secret = 0;

			for (size_t i = 0; i < NAP_ARRAY_LEN(keys); i++)
				if (strcmp(k, keys[i]) == 0 &&
				    json_object_is_type(v, json_type_string) &&
				    json_object_get_string_len(v) >= 8)
					secret = 1;
			json_object_array_add(others, json_object_new_string(k));
			if (secret)
				json_object_array_add(secrets, json_object_get(v));
			else
				collect_secrets(v, depth + 1);
		}
	} else if (json_object_is_type(o, json_type_string)) {
		json_object_array_add(others, json_object_get(o));
	}
}

/* Text the kubeconfig and exec-plugin messages carry of their own. */
static const char *const own_words[] = {
    "client.authentication.k8s.io/v1beta1",
    "ExecCredential",
};

static void
check_msg(const struct nap_err *err)
{
	fuzz_check_err(err);
	for (size_t i = 0; i < json_object_array_length(secrets); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(secrets, i));
		int quoted = 0;

		if (strstr(err->msg, s) == NULL)
			continue;
		/*
		 * The messages' own words may hold a secret's text by chance
		 * too: a token "t.authentication.k8s.io/v1" is in the apiVersion
		 * the message says it asked for (found by this harness).
		 */
		for (size_t j = 0; j < NAP_ARRAY_LEN(own_words) && !quoted; j++)
			quoted = strstr(own_words[j], s) != NULL;
		for (size_t j = 0; j < json_object_array_length(others) && !quoted; j++)
			quoted =
			    strstr(json_object_get_string(json_object_array_get_idx(others, j)),
				s) != NULL;
		FUZZ_CHECK(quoted, "a secret in a message: %s", err->msg);
	}
}

static void
check_path(const char *what, const char *p)
{
	if (p != NULL)
		FUZZ_CHECK(p[0] == '/', "%s %s is not absolute", what, p);
}

static void
resolve(json_object *merged, const char *context)
{
	struct nap_kube_config c;
	struct nap_err err = {0};

	nap_kube_config_init(&c);
	if (nap_kube_config_resolve(&c, merged, context, &err) != 0) {
		check_msg(&err);
		FUZZ_CHECK(err.code == NAP_EX_CONFIG, "code %d: %s", err.code, err.msg);
		nap_kube_config_free(&c);
		return;
	}
	FUZZ_CHECK(c.server &&
		(strncmp(c.server, "https://", 8) == 0 || strncmp(c.server, "http://", 7) == 0),
	    "server %s", c.server ? c.server : "(null)");
	FUZZ_CHECK(strlen(c.server) <= 1 || c.server[strlen(c.server) - 1] != '/',
	    "trailing slash in %s", c.server);
	FUZZ_CHECK(c.namespace && *c.namespace, "no namespace");
	FUZZ_CHECK(c.context && *c.context, "no context name");
	check_path("certificate-authority", c.ca_file);
	check_path("client-certificate", c.cert_file);
	check_path("client-key", c.key_file);
	check_path("tokenFile", c.token_file);
	if (c.exec) {
		size_t n = 0;

		FUZZ_CHECK(c.exec->argv && c.exec->argv[0] &&
			strcmp(c.exec->argv[0], c.exec->command) == 0,
		    "argv[0] is not the command");
		while (c.exec->argv[n])
			n++;
		for (size_t i = 0; c.exec->env && c.exec->env[i]; i++)
			FUZZ_CHECK(
			    strchr(c.exec->env[i], '=') != NULL, "env entry %s", c.exec->env[i]);
	}
	nap_kube_config_free(&c);
}

static void
exec_credential(const uint8_t *data, size_t size, const char *want)
{
	struct nap_kube_cred cred;
	struct nap_err err = {0};

	if (nap_kube_exec_parse((const char *)data, size, want, &cred, &err) != 0) {
		check_msg(&err);
		FUZZ_CHECK(cred.token == NULL && cred.key_data == NULL, "credential kept on error");
		return;
	}
	FUZZ_CHECK(cred.token || (cred.cert_data && cred.key_data), "no credential");
	nap_kube_cred_free(&cred);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *docs = NULL, *merged, *ctxs;
	struct nap_err err = {0};
	char *s;
	time_t t;

	if (size > 16 * 1024)
		return -1;
	secrets = json_object_new_array();
	others = json_object_new_array();
	{
		struct json_tokener *tok = json_tokener_new();
		json_object *o = json_tokener_parse_ex(tok, (const char *)data, (int)size);

		if (o)
			collect_secrets(o, 0);
		json_object_put(o);
		json_tokener_free(tok);
	}
	exec_credential(data, size, "client.authentication.k8s.io/v1");
	exec_credential(data, size, NULL);
	s = fuzz_strdup(data, size);
	nap_kube_time_parse(s, &t);
	free(s);

	if (nap_yaml_load((const char *)data, size, NAME, &docs, &err) != 0)
		goto out;
	merged = json_object_new_object();
	for (size_t i = 0; i < json_object_array_length(docs); i++)
		collect_secrets(json_object_array_get_idx(docs, i), 0);
	for (size_t i = 0; i < json_object_array_length(docs); i++) {
		if (nap_kube_config_merge(merged, json_object_array_get_idx(docs, i), NAME, &err) !=
		    0) {
			check_msg(&err);
			FUZZ_CHECK(err.code == NAP_EX_CONFIG, "code %d: %s", err.code, err.msg);
			break;
		}
	}
	resolve(merged, NULL);
	ctxs = nap_json_key(merged, "contexts");
	if (ctxs && json_object_is_type(ctxs, json_type_object)) {
		int n = 0;

		json_object_object_foreach(ctxs, k, v)
		{
			(void)v;
			if (n++ < 8)
				resolve(merged, k);
		}
	}
	json_object_put(merged);
	json_object_put(docs);
out:
	json_object_put(secrets);
	json_object_put(others);
	return 0;
}
