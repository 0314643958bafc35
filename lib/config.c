/*
 * config.c - nap.yaml into struct nap_config, table-driven so the file,
 * nap_config_set and the unknown-key check all agree on one list of keys.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "yaml.h"

enum kind {
	K_SECT,	     /* a mapping of more keys */
	K_STR,	     /* free text */
	K_PATH,	     /* a file name; relative means relative to the config file */
	K_ENUM,	     /* one of allowed[] */
	K_URL,	     /* http:// or https:// */
	K_GUID,	     /* 8-4-4-4-12 hex digits */
	K_LOCATION,  /* an Azure location name: eastus, westus2 */
	K_SUBNET,    /* an ARM subnet ID */
	K_DUR,	     /* a Go duration, > 0 */
	K_DUR_NEVER, /* a Go duration, > 0, or Never */
	K_INT,	     /* a whole number >= 0 */
};

struct key {
	const char *name;
	enum kind kind;
	size_t off;		    /* of the char * or int64_t in struct nap_config */
	const struct key *sub;	    /* K_SECT: NULL-terminated */
	const char *const *allowed; /* K_ENUM: NULL-terminated */
};

#define FIELD(f) offsetof(struct nap_config, f)

static const char *const clouds[] = {
    "AzurePublicCloud", "AzureUSGovernment", "AzureChinaCloud", "custom", NULL};
static const char *const auths[] = {
    "managed-identity", "workload-identity", "service-principal", NULL};
static const char *const formats[] = {"text", "json", NULL};
static const char *const levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const frequencies[] = {
    "Daily", "Weekly", "AbsoluteMonthly", "RelativeMonthly", NULL};

static const struct key cluster_keys[] = {
    {"name", K_STR, FIELD(cluster.name), NULL, NULL},
    {"region", K_LOCATION, FIELD(cluster.region), NULL, NULL},
    {"subscriptionID", K_GUID, FIELD(cluster.subscription_id), NULL, NULL},
    {"resourceGroup", K_STR, FIELD(cluster.resource_group), NULL, NULL},
    {"subnetID", K_SUBNET, FIELD(cluster.subnet_id), NULL, NULL},
    {"kubernetesVersion", K_STR, FIELD(cluster.kubernetes_version), NULL, NULL},
    {NULL, K_STR, 0, NULL, NULL},
};

static const struct key azure_keys[] = {
    {"cloud", K_ENUM, FIELD(azure.cloud), NULL, clouds},
    {"armEndpoint", K_URL, FIELD(azure.arm_endpoint), NULL, NULL},
    {"authorityHost", K_URL, FIELD(azure.authority_host), NULL, NULL},
    {"auth", K_ENUM, FIELD(azure.auth), NULL, auths},
    {"tokenEndpoint", K_URL, FIELD(azure.token_endpoint), NULL, NULL},
    {"tenantID", K_STR, FIELD(azure.tenant_id), NULL, NULL},
    {"clientID", K_STR, FIELD(azure.client_id), NULL, NULL},
    {"clientSecretFile", K_PATH, FIELD(azure.client_secret_file), NULL, NULL},
    {"clientCertificateFile", K_PATH, FIELD(azure.client_certificate_file), NULL, NULL},
    {"federatedTokenFile", K_PATH, FIELD(azure.federated_token_file), NULL, NULL},
    {"caFile", K_PATH, FIELD(azure.ca_file), NULL, NULL},
    {NULL, K_STR, 0, NULL, NULL},
};

static const struct key log_keys[] = {
    {"format", K_ENUM, FIELD(log.format), NULL, formats},
    {"level", K_ENUM, FIELD(log.level), NULL, levels},
    {NULL, K_STR, 0, NULL, NULL},
};

static const struct key solve_keys[] = {
    {"batchIdleDuration", K_DUR, FIELD(solve.batch_idle_ms), NULL, NULL},
    {"batchMaxDuration", K_DUR, FIELD(solve.batch_max_ms), NULL, NULL},
    {"maxNodes", K_INT, FIELD(solve.max_nodes), NULL, NULL},
    {NULL, K_STR, 0, NULL, NULL},
};

static const struct key launch_keys[] = {
    {"registrationTimeout", K_DUR_NEVER, FIELD(launch.registration_timeout_ms), NULL, NULL},
    {NULL, K_STR, 0, NULL, NULL},
};

static const struct key disrupt_keys[] = {
    {"maxSimulations", K_INT, FIELD(disrupt.max_simulations), NULL, NULL},
    {NULL, K_STR, 0, NULL, NULL},
};

static const struct key window_keys[] = {
    {"frequency", K_ENUM, FIELD(upgrade.window.frequency), NULL, frequencies},
    {"interval", K_INT, FIELD(upgrade.window.interval), NULL, NULL},
    {"dayOfWeek", K_STR, FIELD(upgrade.window.day_of_week), NULL, NULL},
    {"dayOfMonth", K_INT, FIELD(upgrade.window.day_of_month), NULL, NULL},
    {"weekIndex", K_STR, FIELD(upgrade.window.week_index), NULL, NULL},
    {"startTime", K_STR, FIELD(upgrade.window.start_time), NULL, NULL},
    {"durationHours", K_INT, FIELD(upgrade.window.duration_hours), NULL, NULL},
    {"utcOffset", K_STR, FIELD(upgrade.window.utc_offset), NULL, NULL},
    {"startDate", K_STR, FIELD(upgrade.window.start_date), NULL, NULL},
    {NULL, K_STR, 0, NULL, NULL},
};

static const struct key upgrade_keys[] = {
    {"interval", K_DUR, FIELD(upgrade.interval_ms), NULL, NULL},
    {"maintenanceNamespace", K_STR, FIELD(upgrade.maintenance_namespace), NULL, NULL},
    {"maintenanceWindow", K_SECT, 0, window_keys, NULL},
    {NULL, K_STR, 0, NULL, NULL},
};

static const struct key metrics_keys[] = {
    {"textfileDirectory", K_PATH, FIELD(metrics.textfile_dir), NULL, NULL},
    {NULL, K_STR, 0, NULL, NULL},
};

static const struct key top_keys[] = {
    {"kubeconfig", K_PATH, FIELD(kubeconfig), NULL, NULL},
    {"context", K_STR, FIELD(context), NULL, NULL},
    {"cluster", K_SECT, 0, cluster_keys, NULL},
    {"azure", K_SECT, 0, azure_keys, NULL},
    {"catalog", K_PATH, FIELD(catalog), NULL, NULL},
    {"spotPrices", K_PATH, FIELD(spot_prices), NULL, NULL},
    {"log", K_SECT, 0, log_keys, NULL},
    {"solve", K_SECT, 0, solve_keys, NULL},
    {"launch", K_SECT, 0, launch_keys, NULL},
    {"disrupt", K_SECT, 0, disrupt_keys, NULL},
    {"upgrade", K_SECT, 0, upgrade_keys, NULL},
    {"metrics", K_SECT, 0, metrics_keys, NULL},
    {NULL, K_STR, 0, NULL, NULL},
};

/* Endpoints each named cloud implies when the file does not give them. */
static const struct cloud {
	const char *name, *arm, *authority;
} cloud_endpoints[] = {
    {"AzurePublicCloud", "https://management.azure.com", "https://login.microsoftonline.com"},
    {"AzureUSGovernment", "https://management.usgovcloudapi.net",
	"https://login.microsoftonline.us"},
    {"AzureChinaCloud", "https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn"},
};

static char **
str_at(struct nap_config *c, const struct key *k)
{
	return (char **)(void *)((char *)c + k->off);
}

static int64_t *
int_at(struct nap_config *c, const struct key *k)
{
	return (int64_t *)(void *)((char *)c + k->off);
}

static void
put_str(struct nap_config *c, const struct key *k, char *owned)
{
	char **p = str_at(c, k);

	free(*p);
	*p = owned;
}

void
nap_config_init(struct nap_config *c)
{
	memset(c, 0, sizeof(*c));
	c->path = nap_xstrdup("");
	c->kubeconfig = nap_xstrdup("");
	c->context = nap_xstrdup("");
	c->cluster.name = nap_xstrdup("");
	c->cluster.region = nap_xstrdup("");
	c->cluster.subscription_id = nap_xstrdup("");
	c->cluster.resource_group = nap_xstrdup("");
	c->cluster.subnet_id = nap_xstrdup("");
	c->cluster.kubernetes_version = nap_xstrdup("");
	c->azure.cloud = nap_xstrdup("AzurePublicCloud");
	c->azure.arm_endpoint = nap_xstrdup("https://management.azure.com");
	c->azure.authority_host = nap_xstrdup("https://login.microsoftonline.com");
	c->azure.auth = nap_xstrdup("managed-identity");
	c->azure.token_endpoint =
	    nap_xstrdup("http://169.254.169.254/metadata/identity/oauth2/token");
	c->azure.tenant_id = nap_xstrdup("");
	c->azure.client_id = nap_xstrdup("");
	c->azure.client_secret_file = nap_xstrdup("");
	c->azure.client_certificate_file = nap_xstrdup("");
	c->azure.federated_token_file = nap_xstrdup("");
	c->azure.ca_file = nap_xstrdup("");
	c->catalog = nap_xstrdup("");
	c->spot_prices = nap_xstrdup("");
	c->log.format = nap_xstrdup("text");
	c->log.level = nap_xstrdup("info");
	c->solve.batch_idle_ms = 1000;
	c->solve.batch_max_ms = 10000;
	c->solve.max_nodes = 5000; /* what one AKS cluster holds */
	c->launch.registration_timeout_ms = 15 * 60 * 1000;
	c->disrupt.max_simulations = 100; /* nap.conf(5) says why */
	c->upgrade.interval_ms = 5 * 60 * 1000;
	c->upgrade.maintenance_namespace = nap_xstrdup("kube-system");
	c->upgrade.window.frequency = nap_xstrdup("");
	c->upgrade.window.day_of_week = nap_xstrdup("");
	c->upgrade.window.week_index = nap_xstrdup("");
	c->upgrade.window.start_time = nap_xstrdup("");
	c->upgrade.window.utc_offset = nap_xstrdup("");
	c->upgrade.window.start_date = nap_xstrdup("");
	c->metrics.textfile_dir = nap_xstrdup("");
}

static void
free_keys(struct nap_config *c, const struct key *tab)
{
	const struct key *k;

	for (k = tab; k->name != NULL; k++) {
		if (k->kind == K_SECT)
			free_keys(c, k->sub);
		else if (k->kind != K_DUR && k->kind != K_DUR_NEVER && k->kind != K_INT)
			put_str(c, k, NULL);
	}
}

void
nap_config_free(struct nap_config *c)
{
	if (c == NULL)
		return;
	free_keys(c, top_keys);
	free(c->path);
	c->path = NULL;
}

/* ---- durations ---- */

int
nap_duration_parse(const char *s, int64_t *ms, struct nap_err *err)
{
	static const struct unit {
		const char *name;
		uint64_t ns;
	} units[] = {
	    {"ns", 1},
	    {"us", 1000},
	    {"\xc2\xb5s", 1000},
	    {"\xce\xbcs", 1000},
	    {"ms", 1000000},
	    {"s", 1000000000ULL},
	    {"m", 60000000000ULL},
	    {"h", 3600000000000ULL},
	};
	const uint64_t max = (uint64_t)INT64_MAX;
	const char *p = s, *u;
	uint64_t total = 0;
	size_t i, ulen;

	if (s == NULL || *s == '\0')
		return nap_err_set(err, NAP_EX_CONFIG, "empty duration");
	if (strcmp(s, "Never") == 0) {
		*ms = -1;
		return 0;
	}
	if (*p == '-')
		return nap_err_set(err, NAP_EX_CONFIG, "negative duration \"%s\"", s);
	if (*p == '+')
		p++;
	if (strcmp(p, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*p == '\0')
		return nap_err_set(err, NAP_EX_CONFIG, "invalid duration \"%s\"", s);
	while (*p != '\0') {
		uint64_t v = 0, f = 0, scale = 1, part;
		int digits = 0;
		const struct unit *un = NULL;

		while (isdigit((unsigned char)*p)) {
			if (v > (max - (uint64_t)(*p - '0')) / 10)
				return nap_err_set(
				    err, NAP_EX_CONFIG, "duration \"%s\" out of range", s);
			v = v * 10 + (uint64_t)(*p - '0');
			p++;
			digits++;
		}
		if (*p == '.') {
			p++;
			while (isdigit((unsigned char)*p)) {
				/* Digits past nanosecond precision of an hour cannot matter. */
				if (scale < 1000000000000000000ULL) {
					f = f * 10 + (uint64_t)(*p - '0');
					scale *= 10;
				}
				p++;
				digits++;
			}
		}
		if (digits == 0)
			return nap_err_set(err, NAP_EX_CONFIG, "invalid duration \"%s\"", s);
		for (u = p; *u != '\0' && *u != '.' && !isdigit((unsigned char)*u); u++)
			;
		ulen = (size_t)(u - p);
		if (ulen == 0)
			return nap_err_set(err, NAP_EX_CONFIG,
			    "missing unit in duration \"%s\" (use ms, s, m or h)", s);
		for (i = 0; i < NAP_ARRAY_LEN(units); i++)
			if (strlen(units[i].name) == ulen && memcmp(units[i].name, p, ulen) == 0)
				un = &units[i];
		if (un == NULL)
			return nap_err_set(err, NAP_EX_CONFIG,
			    "unknown unit \"%.*s\" in duration \"%s\" (use ms, s, m or h)",
			    (int)ulen, p, s);
		if (v > max / un->ns)
			return nap_err_set(err, NAP_EX_CONFIG, "duration \"%s\" out of range", s);
		part = v * un->ns;
		if (f > 0)
			part += (uint64_t)((double)f * ((double)un->ns / (double)scale));
		if (part > max - total)
			return nap_err_set(err, NAP_EX_CONFIG, "duration \"%s\" out of range", s);
		total += part;
		p = u;
	}
	*ms = (int64_t)(total / 1000000 + (total % 1000000 != 0));
	return 0;
}

/* ---- one value ---- */

static int
is_guid(const char *s)
{
	static const int groups[] = {8, 4, 4, 4, 12};
	size_t g;
	int i;

	for (g = 0; g < NAP_ARRAY_LEN(groups); g++) {
		for (i = 0; i < groups[g]; i++, s++)
			if (!isxdigit((unsigned char)*s))
				return 0;
		if (g + 1 < NAP_ARRAY_LEN(groups) && *s++ != '-')
			return 0;
	}
	return *s == '\0';
}

static int
is_location(const char *s)
{
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s)))
			return 0;
	return 1;
}

static int
prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Store text as key k (dotted name for messages); dir, when not NULL, is the
 * directory relative paths are relative to.  "" sets the key's default.
 */
static int
set_value(struct nap_config *c, const struct key *k, const char *dotted, const char *text,
    const char *dir, struct nap_err *err)
{
	struct nap_config def;
	const char *const *a;
	int64_t ms;

	if (*text == '\0' && k->kind != K_SECT) {
		nap_config_init(&def);
		if (k->kind == K_DUR || k->kind == K_DUR_NEVER || k->kind == K_INT)
			*int_at(c, k) = *int_at(&def, k);
		else
			put_str(c, k, nap_xstrdup(*str_at(&def, k)));
		nap_config_free(&def);
		return 0;
	}
	switch (k->kind) {
	case K_SECT:
		return nap_err_set(err, NAP_EX_CONFIG, "%s is a section, not a value", dotted);
	case K_STR:
		break;
	case K_PATH:
		if (dir != NULL && text[0] != '/') {
			put_str(c, k, nap_xasprintf("%s/%s", dir, text));
			return 0;
		}
		break;
	case K_ENUM:
		for (a = k->allowed; *a != NULL; a++)
			if (strcmp(*a, text) == 0)
				break;
		if (*a == NULL) {
			char list[256] = "";
			size_t n = 0;

			for (a = k->allowed; *a != NULL; a++)
				n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
				    a == k->allowed ? "" : ", ", *a);
			return nap_err_set(
			    err, NAP_EX_CONFIG, "%s: \"%s\" is not one of %s", dotted, text, list);
		}
		break;
	case K_URL:
		if (!prefix_ci(text, "https://") && !prefix_ci(text, "http://"))
			return nap_err_set(err, NAP_EX_CONFIG,
			    "%s: \"%s\" is not an http:// or https:// URL", dotted, text);
		break;
	case K_GUID:
		if (!is_guid(text))
			return nap_err_set(err, NAP_EX_CONFIG,
			    "%s: \"%s\" is not a GUID (8-4-4-4-12 hex digits)", dotted, text);
		break;
	case K_LOCATION:
		if (!is_location(text))
			return nap_err_set(err, NAP_EX_CONFIG,
			    "%s: \"%s\" is not an Azure location name (like eastus)", dotted, text);
		break;
	case K_SUBNET:
		if (!prefix_ci(text, "/subscriptions/") || strstr(text, "/subnets/") == NULL)
			return nap_err_set(err, NAP_EX_CONFIG,
			    "%s: \"%s\" is not a subnet ID "
			    "(/subscriptions/.../virtualNetworks/.../subnets/...)",
			    dotted, text);
		break;
	case K_DUR:
	case K_DUR_NEVER:
		if (nap_duration_parse(text, &ms, err) < 0)
			return nap_err_prefix(err, "%s", dotted);
		if (ms == 0 || (ms < 0 && k->kind != K_DUR_NEVER))
			return nap_err_set(
			    err, NAP_EX_CONFIG, "%s: \"%s\" must be longer than 0", dotted, text);
		*int_at(c, k) = ms;
		return 0;
	case K_INT: {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(text, &end, 10);
		if (errno != 0 || end == text || *end != '\0' || v < 0)
			return nap_err_set(err, NAP_EX_CONFIG, "%s: \"%s\" is not a whole number",
			    dotted, text);
		*int_at(c, k) = v;
		return 0;
	}
	}
	put_str(c, k, nap_xstrdup(text));
	return 0;
}

static void cloud_defaults(struct nap_config *c, int keep_arm, int keep_authority);

static const struct key *
find_key(const struct key *tab, const char *name)
{
	for (; tab->name != NULL; tab++)
		if (strcmp(tab->name, name) == 0)
			return tab;
	return NULL;
}

int
nap_config_set(struct nap_config *c, const char *key, const char *value, struct nap_err *err)
{
	const struct key *tab = top_keys, *k = NULL;
	const char *p = key, *dot;
	char part[64];
	size_t n;

	for (;;) {
		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(part) || tab == NULL)
			return nap_err_set(
			    err, NAP_EX_CONFIG, "unknown configuration key \"%s\"", key);
		memcpy(part, p, n);
		part[n] = '\0';
		k = find_key(tab, part);
		if (k == NULL)
			return nap_err_set(
			    err, NAP_EX_CONFIG, "unknown configuration key \"%s\"", key);
		if (dot == NULL)
			break;
		tab = k->kind == K_SECT ? k->sub : NULL;
		p = dot + 1;
	}
	if (set_value(c, k, key, value, NULL, err) < 0)
		return -1;
	if (k->off == FIELD(azure.cloud))
		cloud_defaults(c, 0, 0);
	return 0;
}

/* ---- the file ---- */

struct fctx {
	const char *file;
	char *dir;
	int set_arm, set_authority;
};

static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, cur, d[64];

	if (la >= NAP_ARRAY_LEN(d) || lb >= NAP_ARRAY_LEN(d))
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		prev = d[0];
		d[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev +
			    (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));

			cur = d[j];
			d[j] = sub;
			if (d[j] > d[j - 1] + 1)
				d[j] = d[j - 1] + 1;
			if (d[j] > cur + 1)
				d[j] = cur + 1;
			prev = cur;
		}
	}
	return d[lb];
}

static const char *
suggest(const struct key *tab, const char *name)
{
	const char *best = NULL;
	size_t bestd = 3, dd;

	for (; tab->name != NULL; tab++) {
		dd = edit_distance(name, tab->name);
		if (dd < bestd) {
			bestd = dd;
			best = tab->name;
		}
	}
	return best;
}

static const char *
type_name(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_int:
	case json_type_double:
		return "a number";
	case json_type_string:
		return "a string";
	case json_type_array:
		return "a list";
	case json_type_object:
		return "a mapping";
	}
	return "something else";
}

static int
walk(struct nap_config *c, struct fctx *fc, json_object *map, const struct key *tab,
    const char *prefix, struct nap_err *err)
{
	unsigned line = 0, col = 0;
	const struct key *k;
	const char *hint, *text;
	char dotted[160];

	json_object_object_foreach(map, name, v)
	{
		if (nap_yaml_key_pos(map, name, &line, &col) < 0)
			line = col = 0;
		snprintf(dotted, sizeof(dotted), "%s%s%s", prefix, *prefix ? "." : "", name);
		k = find_key(tab, name);
		if (k == NULL) {
			hint = suggest(tab, name);
			if (hint != NULL)
				nap_err_set(err, NAP_EX_CONFIG,
				    "unknown key \"%s\" (did you mean \"%s%s%s\"?)", dotted, prefix,
				    *prefix ? "." : "", hint);
			else
				nap_err_set(err, NAP_EX_CONFIG, "unknown key \"%s\"", dotted);
			goto fail;
		}
		if (k->kind == K_SECT) {
			if (v == NULL)
				continue; /* "azure:" with nothing under it */
			if (!json_object_is_type(v, json_type_object)) {
				nap_err_set(err, NAP_EX_CONFIG, "%s: expected a mapping, got %s",
				    dotted, type_name(v));
				goto fail;
			}
			if (walk(c, fc, v, k->sub, dotted, err) < 0)
				return -1;
			continue;
		}
		if (v == NULL) {
			text = ""; /* "context:" with no value: the default */
		} else if ((k->kind == K_DUR || k->kind == K_DUR_NEVER) &&
		    json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0) {
			text = "0"; /* Go accepts a bare 0 */
		} else if (k->kind == K_INT && json_object_is_type(v, json_type_int)) {
			text = json_object_get_string(v);
		} else if (!json_object_is_type(v, json_type_string)) {
			nap_err_set(err, NAP_EX_CONFIG, "%s: expected a string, got %s%s", dotted,
			    type_name(v),
			    json_object_is_type(v, json_type_int) ||
				    json_object_is_type(v, json_type_double) ||
				    json_object_is_type(v, json_type_boolean)
				? " (quote the value)"
				: "");
			goto fail;
		} else {
			text = json_object_get_string(v);
		}
		if (set_value(c, k, dotted, text, fc->dir, err) < 0)
			goto fail;
		if (k->off == FIELD(azure.arm_endpoint))
			fc->set_arm = *text != '\0';
		if (k->off == FIELD(azure.authority_host))
			fc->set_authority = *text != '\0';
	}
	return 0;
fail:
	if (line > 0)
		return nap_err_prefix(err, "%s:%u:%u", fc->file, line, col);
	return nap_err_prefix(err, "%s", fc->file);
}

/* A named cloud brings its endpoints, except those given explicitly. */
static void
cloud_defaults(struct nap_config *c, int keep_arm, int keep_authority)
{
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(cloud_endpoints); i++) {
		if (strcmp(c->azure.cloud, cloud_endpoints[i].name) != 0)
			continue;
		if (!keep_arm) {
			free(c->azure.arm_endpoint);
			c->azure.arm_endpoint = nap_xstrdup(cloud_endpoints[i].arm);
		}
		if (!keep_authority) {
			free(c->azure.authority_host);
			c->azure.authority_host = nap_xstrdup(cloud_endpoints[i].authority);
		}
	}
}

static int
apply_cloud(struct nap_config *c, const struct fctx *fc, struct nap_err *err)
{
	if (strcmp(c->azure.cloud, "custom") == 0 && (!fc->set_arm || !fc->set_authority))
		return nap_err_set(err, NAP_EX_CONFIG,
		    "%s: azure.cloud custom needs azure.armEndpoint and "
		    "azure.authorityHost",
		    fc->file);
	cloud_defaults(c, fc->set_arm, fc->set_authority);
	return 0;
}

int
nap_config_file_safe(const char *path, const struct stat *st, const char *what,
    struct nap_err *err)
{
	unsigned mode = (unsigned)st->st_mode & 07777;

	/* A device (--config /dev/null: no file at all) holds nothing anyone could plant. */
	if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode))
		return 0;
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return nap_err_set(err, NAP_EX_CONFIG,
		    "%s %s: mode %04o is writable by %s: refusing to use it (chmod go-w)", what,
		    path, mode, st->st_mode & S_IWOTH ? "everyone" : "its group");
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return nap_err_set(err, NAP_EX_CONFIG,
		    "%s %s: owned by uid %lu, neither root nor us (uid %lu): refusing to use it",
		    what, path, (unsigned long)st->st_uid, (unsigned long)geteuid());
	return 0;
}

int
nap_config_load(struct nap_config *c, const char *path, int explicit_path, struct nap_err *err)
{
	struct fctx fc;
	json_object *docs = NULL, *root;
	const char *env, *slash;
	struct stat st;
	int rc = -1;

	if (path == NULL) {
		env = getenv("NAP_CONFIG");
		if (env != NULL && *env != '\0') {
			path = env;
			explicit_path = 1;
		} else {
			path = NAP_CONFIG_DEFAULT_PATH;
		}
	}
	if (stat(path, &st) < 0) {
		if (errno == ENOENT && !explicit_path)
			return 0;
		return nap_err_set(
		    err, NAP_EX_CONFIG, "%s: cannot read configuration: %s", path, strerror(errno));
	}
	if (nap_config_file_safe(path, &st, "configuration", err) < 0)
		return -1;
	if (nap_yaml_load_file_ex(path, NAP_YAML_KEYPOS, &docs, err) < 0) {
		if (err != NULL)
			err->code = NAP_EX_CONFIG;
		return -1;
	}
	memset(&fc, 0, sizeof(fc));
	fc.file = path;
	slash = strrchr(path, '/');
	fc.dir = slash == NULL ? nap_xstrdup(".")
			       : nap_xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (strcmp(fc.dir, "/") == 0) {
		free(fc.dir);
		fc.dir = nap_xstrdup(""); /* "/" + "/" + name would double the slash */
	}
	free(c->path);
	c->path = nap_xstrdup(path);
	switch (json_object_array_length(docs)) {
	case 0:
		rc = 0; /* empty or only comments: the defaults */
		break;
	case 1:
		root = json_object_array_get_idx(docs, 0);
		if (!json_object_is_type(root, json_type_object)) {
			nap_err_set(err, NAP_EX_CONFIG, "%s: expected a mapping at the top, got %s",
			    path, type_name(root));
			break;
		}
		if (walk(c, &fc, root, top_keys, "", err) < 0)
			break;
		rc = apply_cloud(c, &fc, err);
		break;
	default:
		nap_err_set(err, NAP_EX_CONFIG, "%s: expected one yaml document, found %zu", path,
		    json_object_array_length(docs));
		break;
	}
	free(fc.dir);
	json_object_put(docs);
	return rc;
}
