/*
 * t-config.c - lib/config: defaults, every key, relative paths, $NAP_CONFIG,
 * nap_config_set, Go durations, the error cases of
 * tests/fixtures/yaml/config/err-*.yaml (each .want holds the message, FILE
 * standing for the path), and the examples of man/nap.conf.5, which must
 * load (and whose full listing must equal the built-in defaults).
 */
#include "config.h"
#include "nap.h"
#include "tap.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CASES "tests/fixtures/yaml/config"

static void
spew(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

static int
same_config(const struct nap_config *a, const struct nap_config *b)
{
#define S(f)                                                                                       \
	if (strcmp(a->f, b->f) != 0) {                                                             \
		printf("#   " #f ": \"%s\" vs \"%s\"\n", a->f, b->f);                              \
		return 0;                                                                          \
	}
#define I(f)                                                                                       \
	if (a->f != b->f) {                                                                        \
		printf("#   " #f ": %lld vs %lld\n", (long long)a->f, (long long)b->f);            \
		return 0;                                                                          \
	}
	/* clang-format off: one field a line reads best, and these macros end in braces */
	S(kubeconfig)
	S(context)
	S(cluster.name)
	S(cluster.region)
	S(cluster.subscription_id)
	S(cluster.resource_group)
	S(cluster.subnet_id)
	S(cluster.kubernetes_version)
	S(azure.cloud)
	S(azure.arm_endpoint)
	S(azure.authority_host)
	S(azure.auth)
	S(azure.token_endpoint)
	S(azure.tenant_id)
	S(azure.client_id)
	S(azure.client_secret_file)
	S(azure.client_certificate_file)
	S(azure.federated_token_file)
	S(azure.ca_file)
	S(catalog)
	S(spot_prices)
	S(log.format)
	S(log.level)
	I(solve.batch_idle_ms)
	I(solve.batch_max_ms)
	I(launch.registration_timeout_ms)
	I(upgrade.interval_ms)
	S(upgrade.maintenance_namespace)
	S(upgrade.window.frequency)
	I(upgrade.window.interval)
	I(upgrade.window.day_of_month)
	I(upgrade.window.duration_hours)
	S(upgrade.window.day_of_week)
	S(upgrade.window.week_index)
	S(upgrade.window.start_time)
	S(upgrade.window.utc_offset)
	S(upgrade.window.start_date)
	/* clang-format on */
#undef S
#undef I
	return 1;
}

static void
test_defaults(void)
{
	struct nap_config c;

	nap_config_init(&c);
	TAP_IS_STR(c.kubeconfig, "", "kubeconfig defaults to empty (discovery)");
	TAP_IS_STR(c.azure.cloud, "AzurePublicCloud", "the cloud defaults to AzurePublicCloud");
	TAP_IS_STR(c.azure.arm_endpoint, "https://management.azure.com",
	    "the ARM endpoint defaults to the public cloud's");
	TAP_IS_STR(c.azure.authority_host, "https://login.microsoftonline.com",
	    "the authority host defaults to the public cloud's");
	TAP_IS_STR(c.azure.auth, "managed-identity", "auth defaults to managed-identity");
	TAP_IS_STR(c.azure.token_endpoint, "http://169.254.169.254/metadata/identity/oauth2/token",
	    "the token endpoint defaults to IMDS");
	TAP_IS_STR(c.log.format, "text", "logs default to text");
	TAP_IS_STR(c.log.level, "info", "the log level defaults to info");
	TAP_IS_INT(c.solve.batch_idle_ms, 1000, "batchIdleDuration defaults to 1s");
	TAP_IS_INT(c.solve.batch_max_ms, 10000, "batchMaxDuration defaults to 10s");
	TAP_IS_INT(c.solve.max_nodes, 5000, "solve.maxNodes defaults to 5000 (one AKS cluster)");
	TAP_IS_INT(c.disrupt.max_simulations, 100, "disrupt.maxSimulations defaults to 100");
	TAP_IS_INT(c.launch.registration_timeout_ms, 900000, "registrationTimeout defaults to 15m");
	nap_config_free(&c);
}

static void
test_durations(void)
{
	static const struct {
		const char *in;
		int64_t ms;
	} good[] = {
	    {"1s", 1000},
	    {"10m", 600000},
	    {"720h", 2592000000LL},
	    {"1h30m", 5400000},
	    {"300ms", 300},
	    {"Never", -1},
	    {"0", 0},
	    {"0s", 0},
	    {"1.5h", 5400000},
	    {".5s", 500},
	    {"1.s", 1000},
	    {"+2s", 2000},
	    {"1ns", 1},
	    {"1500us", 2},
	    {"1000\xc2\xb5s", 1},
	    {"2m3s4ms", 123004},
	    {"2562047h", 9223369200000LL},
	};
	static const char *const bad[] = {
	    "",
	    "1",
	    "1d",
	    "-1s",
	    "h",
	    "1h1",
	    "s1",
	    "1.5.5s",
	    ".s",
	    "Forever",
	    "2562048h",
	    "1 s",
	};
	struct nap_err err;
	int64_t ms;
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(good); i++) {
		ms = -42;
		if (!TAP_OK(nap_duration_parse(good[i].in, &ms, &err) == 0 && ms == good[i].ms,
			"duration \"%s\" is %lld ms", good[i].in, (long long)good[i].ms))
			printf("#   got %lld\n", (long long)ms);
	}
	for (i = 0; i < NAP_ARRAY_LEN(bad); i++)
		TAP_OK(nap_duration_parse(bad[i], &ms, &err) == -1 && err.code == NAP_EX_CONFIG,
		    "duration \"%s\" is refused", bad[i]);
	nap_duration_parse("1d", &ms, &err);
	TAP_IS_STR(err.msg, "unknown unit \"d\" in duration \"1d\" (use ms, s, m or h)",
	    "a day unit is refused with the units Go knows");
}

static void
test_full(void)
{
	struct nap_config c;
	struct nap_err err;

	nap_config_init(&c);
	if (!TAP_OK(nap_config_load(&c, CASES "/full.yaml", 1, &err) == 0,
		"a file setting every key loads"))
		printf("#   %s\n", err.msg);
	TAP_IS_STR(c.path, CASES "/full.yaml", "the loaded path is recorded");
	TAP_IS_STR(c.kubeconfig, CASES "/kube/config",
	    "a relative kubeconfig is relative to the file's directory");
	TAP_IS_STR(c.context, "aks-admin", "context is read");
	TAP_IS_STR(c.cluster.name, "prod-aks", "cluster.name is read");
	TAP_IS_STR(c.cluster.region, "westeurope", "cluster.region is read");
	TAP_IS_STR(c.cluster.subscription_id, "12345678-9abc-def0-1234-56789abcdef0",
	    "cluster.subscriptionID is read");
	TAP_IS_STR(c.cluster.resource_group, "MC_prod_prod-aks_westeurope",
	    "cluster.resourceGroup is read");
	TAP_OK(strncmp(c.cluster.subnet_id, "/subscriptions/", 15) == 0 &&
		strstr(c.cluster.subnet_id, "/subnets/nodes") != NULL,
	    "cluster.subnetID is read");
	TAP_IS_STR(c.cluster.kubernetes_version, "1.30", "a quoted kubernetesVersion stays 1.30");
	TAP_IS_STR(c.azure.cloud, "AzureChinaCloud", "azure.cloud is read");
	TAP_IS_STR(c.azure.arm_endpoint, "https://arm.example.test",
	    "an explicit armEndpoint wins over the cloud's");
	TAP_IS_STR(c.azure.authority_host, "https://login.chinacloudapi.cn",
	    "a named cloud supplies the authority host the file leaves out");
	TAP_IS_STR(c.azure.auth, "service-principal", "azure.auth is read");
	TAP_IS_STR(
	    c.azure.token_endpoint, "http://127.0.0.1:8181/token", "azure.tokenEndpoint is read");
	TAP_IS_STR(c.azure.tenant_id, "contoso.onmicrosoft.com", "azure.tenantID is read");
	TAP_IS_STR(
	    c.azure.client_id, "11111111-2222-3333-4444-555555555555", "azure.clientID is read");
	TAP_IS_STR(c.azure.client_secret_file, CASES "/secrets/client-secret",
	    "a relative clientSecretFile is relative to the file's directory");
	TAP_IS_STR(c.azure.client_certificate_file, "/etc/nap/client.pem",
	    "an absolute path is kept as written");
	TAP_IS_STR(c.azure.federated_token_file, CASES "/./token",
	    "federatedTokenFile is resolved like the other paths");
	TAP_IS_STR(c.azure.ca_file, CASES "/../ca.pem", "caFile is resolved like the other paths");
	TAP_IS_STR(
	    c.catalog, CASES "/data/catalog.json", "catalog is resolved like the other paths");
	TAP_IS_STR(c.log.format, "json", "log.format is read");
	TAP_IS_STR(c.log.level, "debug", "log.level is read");
	TAP_IS_INT(c.solve.batch_idle_ms, 500, "solve.batchIdleDuration is read");
	TAP_IS_INT(c.solve.batch_max_ms, 90000, "solve.batchMaxDuration is read");
	TAP_IS_INT(c.launch.registration_timeout_ms, -1, "registrationTimeout Never is -1");
	nap_config_free(&c);
}

static void
test_nulls(void)
{
	struct nap_config c, def;
	struct nap_err err;

	nap_config_init(&c);
	nap_config_init(&def);
	TAP_OK(nap_config_load(&c, CASES "/nulls.yaml", 1, &err) == 0,
	    "keys without values and empty sections load");
	TAP_OK(same_config(&c, &def), "keys without values take their defaults");
	nap_config_free(&c);
	nap_config_free(&def);
}

static void
test_error_cases(void)
{
	DIR *d = opendir(CASES);
	struct dirent *e;
	char *names[128], *path, *want, *exp, *p, *nl;
	size_t n = 0, i, l;
	struct nap_config c;
	struct nap_err err;
	int rc;

	if (!TAP_OK(d != NULL, "the config cases in " CASES " are there"))
		return;
	while ((e = readdir(d)) != NULL && n < NAP_ARRAY_LEN(names)) {
		l = strlen(e->d_name);
		if (strncmp(e->d_name, "err-", 4) == 0 && l > 5 &&
		    strcmp(e->d_name + l - 5, ".yaml") == 0)
			names[n++] = nap_xstrndup(e->d_name, l - 5);
	}
	closedir(d);
	TAP_OK(n >= 20, "there are at least 20 error cases (%zu)", n);
	for (i = 0; i < n; i++) {
		path = nap_xasprintf("%s/%s.want", CASES, names[i]);
		want = test_slurp(path, NULL);
		free(path);
		path = nap_xasprintf("%s/%s.yaml", CASES, names[i]);
		if (want == NULL) {
			TAP_OK(0, "%s has a .want file", names[i]);
			free(path);
			continue;
		}
		if ((nl = strchr(want, '\n')) != NULL)
			*nl = '\0';
		/* FILE stands for the path */
		p = strstr(want, "FILE");
		exp = p != NULL ? nap_xasprintf("%.*s%s%s", (int)(p - want), want, path, p + 4)
				: nap_xstrdup(want);
		nap_config_init(&c);
		rc = nap_config_load(&c, path, 1, &err);
		if (!TAP_OK(rc == -1 && err.code == NAP_EX_CONFIG && strcmp(err.msg, exp) == 0,
			"%s is refused: %s", names[i], want))
			printf("#   got rc %d: %s\n", rc, rc < 0 ? err.msg : "");
		nap_config_free(&c);
		free(exp);
		free(want);
		free(path);
		free(names[i]);
	}
}

static void
test_missing_and_env(const char *tmp)
{
	struct nap_config c;
	struct nap_err err;
	char *missing = nap_xasprintf("%s/none.yaml", tmp);
	char *file = nap_xasprintf("%s/nap.yaml", tmp), *want;

	nap_config_init(&c);
	TAP_IS_INT(
	    nap_config_load(&c, missing, 0, &err), 0, "a missing default file leaves the defaults");
	TAP_IS_STR(c.path, "", "no path is recorded when no file was read");
	TAP_IS_INT(
	    nap_config_load(&c, missing, 1, &err), -1, "a missing explicit file is an error");
	TAP_IS_INT(err.code, NAP_EX_CONFIG, "a missing explicit file is a configuration error");
	TAP_OK(strstr(err.msg, missing) != NULL, "the message names the missing file");

	spew(file, "cluster:\n  region: eastus2\n");
	setenv("NAP_CONFIG", file, 1);
	TAP_IS_INT(nap_config_load(&c, NULL, 0, &err), 0, "$NAP_CONFIG names the file to read");
	TAP_IS_STR(c.cluster.region, "eastus2", "the file from $NAP_CONFIG is read");
	setenv("NAP_CONFIG", missing, 1);
	TAP_IS_INT(nap_config_load(&c, NULL, 0, &err), -1,
	    "a missing file named by $NAP_CONFIG is an error");
	unsetenv("NAP_CONFIG");
	nap_config_free(&c);

	nap_config_init(&c);
	spew(file, "");
	TAP_IS_INT(nap_config_load(&c, file, 1, &err), 0, "an empty file loads");
	TAP_IS_STR(c.azure.auth, "managed-identity", "an empty file leaves the defaults");
	nap_config_free(&c);

	nap_config_init(&c);
	spew(file, "azure: {cloud: AzureUSGovernment}\n");
	TAP_IS_INT(nap_config_load(&c, file, 1, &err), 0, "a sovereign cloud loads");
	TAP_IS_STR(c.azure.arm_endpoint, "https://management.usgovcloudapi.net",
	    "AzureUSGovernment brings its ARM endpoint");
	TAP_IS_STR(c.azure.authority_host, "https://login.microsoftonline.us",
	    "AzureUSGovernment brings its authority host");
	nap_config_free(&c);

	nap_config_init(&c);
	spew(file,
	    "azure: {cloud: custom, armEndpoint: 'https://arm.local', "
	    "authorityHost: 'https://login.local'}\nkubeconfig: kc\n");
	TAP_IS_INT(nap_config_load(&c, file, 1, &err), 0, "a custom cloud with endpoints loads");
	TAP_IS_STR(c.azure.arm_endpoint, "https://arm.local", "a custom cloud keeps its endpoint");
	want = nap_xasprintf("%s/kc", tmp);
	TAP_IS_STR(c.kubeconfig, want, "a relative path is joined to the file's directory");
	free(want);
	nap_config_free(&c);
	unlink(file);
	free(file);
	free(missing);
}

static void
test_set(void)
{
	struct nap_config c;
	struct nap_err err;

	nap_config_init(&c);
	TAP_IS_INT(nap_config_set(&c, "cluster.region", "northeurope", &err), 0,
	    "nap_config_set sets a nested key");
	TAP_IS_STR(c.cluster.region, "northeurope", "the value set is stored");
	TAP_IS_INT(nap_config_set(&c, "kubeconfig", "rel/kc", &err), 0,
	    "nap_config_set sets a top-level key");
	TAP_IS_STR(c.kubeconfig, "rel/kc", "a path set by flag is taken as given");
	TAP_IS_INT(nap_config_set(&c, "solve.batchMaxDuration", "2s", &err), 0,
	    "nap_config_set parses durations");
	TAP_IS_INT(c.solve.batch_max_ms, 2000, "the duration set is in milliseconds");
	TAP_IS_INT(
	    nap_config_set(&c, "solve.maxNodes", "0", &err), 0, "solve.maxNodes takes 0 (none)");
	TAP_IS_INT(c.solve.max_nodes, 0, "solve.maxNodes 0 is read");
	TAP_IS_INT(nap_config_set(&c, "disrupt.maxSimulations", "7", &err), 0,
	    "disrupt.maxSimulations is a key");
	TAP_IS_INT(c.disrupt.max_simulations, 7, "disrupt.maxSimulations 7 is read");
	TAP_OK(nap_config_set(&c, "solve.maxNodes", "-1", &err) < 0 &&
		strstr(err.msg, "solve.maxNodes") != NULL,
	    "a negative solve.maxNodes is refused, naming the key");
	TAP_IS_INT(nap_config_set(&c, "azure.cloud", "AzureChinaCloud", &err), 0,
	    "nap_config_set sets the cloud");
	TAP_IS_STR(c.azure.arm_endpoint, "https://management.chinacloudapi.cn",
	    "setting a named cloud brings its endpoints");
	TAP_IS_INT(nap_config_set(&c, "cluster.regoin", "x", &err), -1,
	    "nap_config_set refuses an unknown key");
	TAP_IS_STR(
	    err.msg, "unknown configuration key \"cluster.regoin\"", "the unknown key is named");
	TAP_IS_INT(
	    nap_config_set(&c, "cluster", "x", &err), -1, "nap_config_set refuses a section");
	TAP_IS_INT(nap_config_set(&c, "log.level", "loud", &err), -1,
	    "nap_config_set validates like the file");
	TAP_IS_INT(nap_config_set(&c, "cluster.region", "", &err), 0, "an empty value is accepted");
	TAP_IS_STR(c.cluster.region, "", "an empty value restores the default");
	nap_config_free(&c);
}

/* The .Bd -literal blocks of a man page section, mdoc escapes undone. */
static size_t
man_blocks(const char *man, const char *section, char **out, size_t max)
{
	char *sh = nap_xasprintf(".Sh %s\n", section), *buf = NULL;
	const char *p = strstr(man, sh), *end, *nl;
	size_t n = 0, len = 0, alloc = 0;
	int in = 0;

	free(sh);
	if (p == NULL)
		return 0;
	end = strstr(p + 4, "\n.Sh ");
	if (end == NULL)
		end = p + strlen(p);
	for (; p < end && n < max; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		if (strncmp(p, ".Bd -literal", 12) == 0) {
			in = 1;
			len = 0;
			continue;
		}
		if (in && strncmp(p, ".Ed", 3) == 0) {
			in = 0;
			nap_xgrow(&buf, &alloc, len + 1, 1);
			buf[len] = '\0';
			out[n++] = nap_xstrdup(buf);
			continue;
		}
		if (!in)
			continue;
		for (; p < nl; p++) {
			nap_xgrow(&buf, &alloc, len + 2, 1);
			if (p[0] == '\\' && p[1] == '&') {
				p++;
			} else if (p[0] == '\\' && p[1] == 'e') {
				buf[len++] = '\\';
				p++;
			} else {
				buf[len++] = *p;
			}
		}
		nap_xgrow(&buf, &alloc, len + 2, 1);
		buf[len++] = '\n';
	}
	free(buf);
	return n;
}

static void
test_man(const char *tmp)
{
	char *man = test_slurp("man/nap.conf.5", NULL), *blocks[16];
	char *file = nap_xasprintf("%s/example.yaml", tmp);
	struct nap_config c, def;
	struct nap_err err;
	size_t n, i;

	if (!TAP_OK(man != NULL, "man/nap.conf.5 is there"))
		return;
	n = man_blocks(man, "DESCRIPTION", blocks, NAP_ARRAY_LEN(blocks));
	TAP_OK(n >= 1, "the page lists the whole format in DESCRIPTION");
	if (n >= 1) {
		spew(file, blocks[0]);
		nap_config_init(&c);
		nap_config_init(&def);
		if (!TAP_OK(
			nap_config_load(&c, file, 1, &err) == 0, "the page's full listing loads"))
			printf("#   %s\n", err.msg);
		TAP_OK(same_config(&c, &def), "the page's full listing is the built-in defaults");
		nap_config_free(&c);
		nap_config_free(&def);
	}
	for (i = 0; i < n; i++)
		free(blocks[i]);

	n = man_blocks(man, "EXAMPLES", blocks, NAP_ARRAY_LEN(blocks));
	TAP_OK(n >= 2, "the page has at least two examples (%zu)", n);
	for (i = 0; i < n; i++) {
		if (blocks[i][0] == '$') { /* a shell session, not a file */
			free(blocks[i]);
			continue;
		}
		spew(file, blocks[i]);
		nap_config_init(&c);
		if (!TAP_OK(nap_config_load(&c, file, 1, &err) == 0,
			"example %zu of nap.conf(5) loads", i + 1))
			printf("#   %s\n", err.msg);
		nap_config_free(&c);
		free(blocks[i]);
	}
	unlink(file);
	free(file);
	free(man);
}

/* Loose modes and strangers' files are refused, as ssh refuses them. */
static void
test_perms(const char *tmp)
{
	struct nap_config c;
	struct nap_err err;
	struct stat st;
	char *file = nap_xasprintf("%s/loose.yaml", tmp);

	spew(file, "cluster:\n  region: eastus2\n");
	nap_config_init(&c);
	chmod(file, 0666);
	TAP_IS_INT(nap_config_load(&c, file, 1, &err), -1, "a world-writable configuration is refused");
	TAP_IS_INT(err.code, NAP_EX_CONFIG, "as a configuration error (78)");
	TAP_OK(strstr(err.msg, file) != NULL && strstr(err.msg, "mode 0666") != NULL,
	    "the message names the file and its mode: %s", err.msg);
	TAP_IS_STR(c.cluster.region, "", "nothing of it is used");
	chmod(file, 0620);
	TAP_IS_INT(nap_config_load(&c, file, 1, &err), -1, "a group-writable one too");
	TAP_OK(strstr(err.msg, "its group") != NULL, "saying who may write it: %s", err.msg);
	chmod(file, 0644);
	TAP_IS_INT(nap_config_load(&c, file, 1, &err), 0, "0644 is fine: it holds no secret");
	TAP_IS_STR(c.cluster.region, "eastus2", "and it is read");
	nap_config_free(&c);

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0600;
	st.st_uid = geteuid() == 4242 ? 4243 : 4242;
	TAP_IS_INT(nap_config_file_safe("/x/secret", &st, "client secret file", &err), -1,
	    "a file owned by another user who is not root is refused");
	TAP_OK(strstr(err.msg, "client secret file /x/secret: owned by uid") != NULL,
	    "naming what it is and its owner: %s", err.msg);
	st.st_uid = 0;
	TAP_IS_INT(nap_config_file_safe("/x/secret", &st, "client secret file", &err), 0,
	    "one owned by root is fine");
	st.st_uid = geteuid();
	st.st_mode = S_IFREG | 0602;
	TAP_IS_INT(nap_config_file_safe("/x/secret", &st, "client secret file", &err), -1,
	    "our own world-writable file is not");
	st.st_mode = S_IFCHR | 0666;
	TAP_IS_INT(nap_config_file_safe("/dev/null", &st, "configuration", &err), 0,
	    "a device such as /dev/null (no configuration) is fine");
	unlink(file);
	free(file);
}

static void
test_upgrade(const char *tmp)
{
	struct nap_config c;
	struct nap_err err;
	char *file = nap_xasprintf("%s/upgrade.yaml", tmp);

	nap_config_init(&c);
	TAP_IS_INT(c.upgrade.interval_ms, 300000, "upgrade.interval defaults to 5m");
	TAP_IS_STR(c.upgrade.maintenance_namespace, "kube-system",
	    "upgrade.maintenanceNamespace defaults to kube-system");
	TAP_IS_STR(c.upgrade.window.frequency, "", "no maintenance window by default");
	spew(file, "upgrade:\n  interval: 1m\n  maintenanceWindow:\n    frequency: Weekly\n"
		   "    interval: 2\n    dayOfWeek: Sunday\n    startTime: \"02:00\"\n"
		   "    durationHours: 6\n    utcOffset: \"+05:30\"\n    startDate: \"2026-12-06\"\n");
	chmod(file, 0644);
	TAP_IS_INT(nap_config_load(&c, file, 1, &err), 0, "a weekly maintenance window loads");
	TAP_OK(c.upgrade.interval_ms == 60000 && c.upgrade.window.interval == 2 &&
		   c.upgrade.window.duration_hours == 6 &&
		   strcmp(c.upgrade.window.day_of_week, "Sunday") == 0 &&
		   strcmp(c.upgrade.window.utc_offset, "+05:30") == 0,
	    "with its numbers as numbers and its names as strings");
	nap_config_free(&c);
	nap_config_init(&c);
	spew(file, "upgrade:\n  maintenanceWindow:\n    frequency: Hourly\n");
	TAP_IS_INT(nap_config_load(&c, file, 1, &err), -1, "an unknown frequency is refused");
	TAP_OK(strstr(err.msg, "upgrade.maintenanceWindow.frequency") != NULL,
	    "naming the key: %s", err.msg);
	nap_config_free(&c);
	nap_config_init(&c);
	spew(file, "upgrade:\n  maintenanceWindow:\n    durationHours: four\n");
	TAP_IS_INT(nap_config_load(&c, file, 1, &err), -1, "durationHours that is no number is refused");
	nap_config_free(&c);
	unlink(file);
	free(file);
}

int
main(void)
{
	char tmpl[4096];
	const char *t = getenv("TMPDIR");

	snprintf(tmpl, sizeof(tmpl), "%s/t-config.XXXXXX", t != NULL && *t ? t : "/tmp");
	if (mkdtemp(tmpl) == NULL) {
		TAP_OK(0, "a temporary directory can be made");
		return tap_done();
	}
	unsetenv("NAP_CONFIG");
	test_defaults();
	test_durations();
	test_full();
	test_nulls();
	test_error_cases();
	test_missing_and_env(tmpl);
	test_set();
	test_man(tmpl);
	test_perms(tmpl);
	test_upgrade(tmpl);
	rmdir(tmpl);
	return tap_done();
}
