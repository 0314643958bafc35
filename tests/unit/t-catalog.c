/*
 * t-catalog.c - the Azure catalog: regions load, exclusions hold, labels and
 * offerings are the provider's, and allocatable matches the AKS formulas of
 * azure-provider.md section 3.3 worked by hand.  Run from the repository
 * root (make unit does), where data/catalog.tsv lives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "catalog.h"
#include "config.h"
#include "model.h"
#include "tap.h"
#include "util.h"

#define CATALOG "data/catalog.tsv"
#define MiB (1024LL * 1024)

static char tmpdir[] = "/tmp/t-catalog.XXXXXX";

static struct nap_catalog *
load(const char *region)
{
	struct nap_catalog *c = NULL;
	struct nap_err err;

	if (nap_catalog_load(&c, CATALOG, region, NULL, &err) < 0) {
		printf("# load %s: %s\n", region, err.msg);
		return NULL;
	}
	return c;
}

static char *
write_tmp(const char *name, const char *text)
{
	char *path = nap_xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		printf("# cannot write %s\n", path);
		exit(1);
	}
	return path;
}

/* Values of key in r joined by spaces, or "(none)". */
static const char *
vals(const struct nap_reqs *r, const char *key)
{
	static char buf[512];
	const struct nap_req *q = nap_reqs_get(r, key);
	size_t i, n = 0;

	if (q == NULL)
		return "(none)";
	buf[0] = '\0';
	for (i = 0; i < q->nvalues; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "", q->values[i]);
	return buf;
}

static void
check_alloc(const struct nap_catalog *c, const char *name, int64_t cpu, int64_t mem, int64_t gpu)
{
	const struct nap_itype *it = nap_catalog_find(c, name);
	struct nap_res a;

	if (!TAP_OK(it != NULL, "%s is an instance type of %s", name, c->region))
		return;
	nap_itype_allocatable(it, NULL, &a);
	TAP_IS_INT(a.v[NAP_RES_CPU], cpu, "%s allocatable cpu is %lldm", name, (long long)cpu);
	TAP_IS_INT(
	    a.v[NAP_RES_MEMORY], mem, "%s allocatable memory is %lld bytes", name, (long long)mem);
	TAP_IS_INT(
	    a.v[NAP_RES_PODS], 250, "%s allocatable pods default to 250 (Azure CNI overlay)", name);
	TAP_IS_INT(
	    a.v[NAP_RES_NVIDIA_GPU], gpu, "%s has %lld nvidia.com/gpu", name, (long long)gpu);
}

static void
test_regions_load(void)
{
	static const char *const regions[] = {"eastus", "westus2", "westeurope"};
	struct nap_err err;
	size_t i, n;
	char **all;

	for (i = 0; i < NAP_ARRAY_LEN(regions); i++) {
		struct nap_catalog *c = load(regions[i]);

		TAP_OK(c != NULL && c->ntypes >= 500, "%s loads with hundreds of VM sizes (%zu)",
		    regions[i], c ? c->ntypes : 0);
		TAP_OK(c != NULL && c->nzones == 3 && c->zones[0] == 1 && c->zones[2] == 3,
		    "%s has zones 1, 2 and 3", regions[i]);
		nap_catalog_free(c);
	}
	all = nap_catalog_regions(CATALOG, &n, &err);
	TAP_IS_INT(n, 57, "the catalog knows the 57 regions that have prices");
	TAP_OK(all != NULL && n > 1 && strcmp(all[0], "australiacentral") == 0 &&
		strcmp(all[n - 1], "westus3") == 0,
	    "regions are listed sorted");
	nap_catalog_regions_free(all, n);
}

static void
test_allocatable(void)
{
	struct nap_catalog *c = load("eastus");
	const struct nap_itype *it;
	struct nap_res cap, a;
	struct nap_itype_opts o;

	if (c == NULL)
		return;
	/*
	 * By hand: memory capacity = GiB x 2^30 minus ceil(7.5 %); reserved
	 * memory 25 % of 4 GiB + 20 % of 4 + 10 % of 8 + 6 % of 112 + 2 %
	 * above; 750Mi eviction.  8 GiB: 8589934592 - 644245095 - (1843 +
	 * 750) MiB.  16 GiB: 17179869184 - 1288490189 - (2662 + 750) MiB.
	 * 64 GiB: 68719476736 - 5153960756 - (5611 + 750) MiB.
	 */
	check_alloc(c, "Standard_D2s_v5", 2000 - 100, 7945689497LL - 2593 * MiB, 0);
	check_alloc(c, "Standard_D4s_v5", 4000 - 140, 15891378995LL - 3412 * MiB, 0);
	check_alloc(c, "Standard_D16s_v5", 16000 - 260, 63565515980LL - 6361 * MiB, 0);
	check_alloc(c, "Standard_E8s_v5", 8000 - 180, 63565515980LL - 6361 * MiB, 0);
	/* 220 GiB: 236223201280 - 17716740096; 1024+819.2+819.2+6881.28+1884.16 = 11427 */
	check_alloc(
	    c, "Standard_NC24ads_A100_v4", 24000 - 340, 218506461184LL - (11427 + 750) * MiB, 1);
	/* arm64, 4 vCPUs and 16 GiB like D4s_v5 */
	check_alloc(c, "Standard_D4ps_v5", 4000 - 140, 15891378995LL - 3412 * MiB, 0);

	TAP_IS_INT(nap_itype_kube_reserved_mib(7 * 1024), 1638, "7 GiB reserves 1638Mi");
	TAP_IS_INT(nap_itype_kube_reserved_mib(224000), 11402,
	    "218.75 GiB reserves 11402Mi (fraction kept, sum truncated once)");
	TAP_IS_INT(nap_itype_kube_reserved_cpu(1), 60, "1 core reserves 60m");
	TAP_IS_INT(nap_itype_kube_reserved_cpu(32), 420, "32 cores reserve 420m");
	TAP_IS_INT(nap_itype_kube_reserved_cpu(64), 740, "64 cores reserve 740m");

	it = nap_catalog_find(c, "Standard_M8ms");
	if (TAP_OK(it != NULL, "Standard_M8ms is offered")) {
		nap_itype_capacity(it, NULL, &cap);
		TAP_IS_INT(cap.v[NAP_RES_MEMORY],
		    218LL * 1073741824 - (218LL * 1073741824 * 75 + 999) / 1000,
		    "M8ms capacity truncates 218.75 GiB to 218 before the overhead");
	}
	it = nap_catalog_find(c, "Standard_D4s_v5");
	memset(&o, 0, sizeof(o));
	o.max_pods = 30;
	o.os_disk_gb = 64;
	nap_itype_allocatable(it, &o, &a);
	TAP_IS_INT(a.v[NAP_RES_PODS], 30, "maxPods from the node class sets the pods");
	TAP_IS_INT(
	    a.v[NAP_RES_EPHEMERAL], 64000000000LL, "ephemeral-storage is osDiskSizeGB x 10^9");
	nap_catalog_free(c);
}

static void
test_exclusions(void)
{
	static const struct {
		const char *name, *why;
	} cases[] = {
	    {"Standard_B1s", "AKSRestrictedVMSizes,LessThan2vCPUs,LessThan3.5GiBMemory"},
	    {"Standard_A1_v2", "AKSRestrictedVMSizes,LessThan2vCPUs,LessThan3.5GiBMemory"},
	    {"Standard_E64is_v3", "karpenterRestrictedVMSKUs"},
	    {"Standard_M8-2ms", "ConstrainedCPUs"},
	    {"Standard_DC2s_v3", "ConfidentialVM"},
	    {"Standard_NP10s", "GPUNotInSupportedGPURegistry"},
	    {"Standard_L8aos_v4", "VMSizeNotParsable"},
	    {"Standard_D1_v2", "LessThan2vCPUs"},
	    {"Standard_Nonesuch_v9", "UnknownVMSize"},
	};
	struct nap_catalog *c = load("eastus");
	size_t i, bad = 0;

	if (c == NULL)
		return;
	for (i = 0; i < NAP_ARRAY_LEN(cases); i++) {
		TAP_OK(nap_catalog_find(c, cases[i].name) == NULL, "%s is not an instance type",
		    cases[i].name);
		TAP_IS_STR(nap_catalog_excluded(c, cases[i].name), cases[i].why,
		    "%s is excluded for %s", cases[i].name, cases[i].why);
	}
	TAP_IS_STR(
	    nap_catalog_excluded(c, "Standard_D4s_v5"), NULL, "an offered size has no exclusion");
	TAP_IS_STR(nap_catalog_excluded(c, "Standard_G5"), "NoPriceInRegion",
	    "a size without a price in the region is not offered there");
	for (i = 0; i < c->ntypes; i++) {
		const struct nap_itype *it = &c->types[i];

		if (it->vcpus < 2 || it->memory_mib < 3584 ||
		    strncmp(it->name, "Standard_DC", 11) == 0 ||
		    strncmp(it->name, "Standard_EC", 11) == 0 || strchr(it->name, '-') != NULL ||
		    (it->gpus > 0 && it->gpu_manufacturer[0] == '\0'))
			bad++;
	}
	TAP_IS_INT(bad, 0, "no offered type breaks a section 3.2 rule");
	nap_catalog_free(c);
}

static void
test_labels(void)
{
	struct nap_catalog *c = load("eastus");
	struct nap_reqs r;
	const struct nap_itype *it;

	if (c == NULL)
		return;
	it = nap_catalog_find(c, "Standard_D4s_v5");
	nap_reqs_init(&r);
	nap_itype_reqs(it, c, &r);
	TAP_IS_STR(
	    vals(&r, "node.kubernetes.io/instance-type"), "Standard_D4s_v5", "instance-type label");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-family"), "D", "sku-family is D");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-series"), "Ds_v5", "sku-series is Ds_v5");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-version"), "5", "sku-version is 5");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-cpu"), "4", "sku-cpu is 4");
	TAP_IS_STR(vals(&r, "kubernetes.azure.com/sku-memory"), "16384", "sku-memory is MiB");
	TAP_IS_STR(vals(&r, "kubernetes.io/arch"), "amd64", "arch is amd64");
	TAP_IS_STR(vals(&r, "kubernetes.io/os"), "linux", "os is linux");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-storage-premium-capable"), "true",
	    "an s-size is premium-storage capable");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-gpu-count"), "0", "no GPUs");
	TAP_OK(nap_reqs_get(&r, "karpenter.azure.com/sku-gpu-name") &&
		nap_req_op(nap_reqs_get(&r, "karpenter.azure.com/sku-gpu-name")) ==
		    NAP_OP_DOESNOTEXIST,
	    "no GPU name: the label is DoesNotExist, so In [T4] cannot select the size");
	TAP_OK(nap_reqs_get(&r, "karpenter.azure.com/sku-gpu-manufacturer") &&
		nap_req_op(nap_reqs_get(&r, "karpenter.azure.com/sku-gpu-manufacturer")) ==
		    NAP_OP_DOESNOTEXIST,
	    "no GPU manufacturer: DoesNotExist");
	TAP_OK(nap_reqs_get(&r, "karpenter.azure.com/sku-storage-ephemeralos-maxsize") &&
		nap_req_op(nap_reqs_get(&r,
		    "karpenter.azure.com/sku-storage-ephemeralos-maxsize")) == NAP_OP_DOESNOTEXIST,
	    "no known ephemeral OS disk: DoesNotExist");
	TAP_IS_STR(vals(&r, "topology.kubernetes.io/zone"), "0 eastus-1 eastus-2 eastus-3",
	    "zones are the region's three plus regional 0");
	TAP_IS_STR(vals(&r, "karpenter.sh/capacity-type"), "on-demand spot", "on-demand and spot");
	TAP_IS_STR(
	    vals(&r, "karpenter.azure.com/placement-scope"), "regional zonal", "both scopes");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-hyperv-generation"), "1 2", "Gen1 and Gen2");
	nap_reqs_free(&r);

	it = nap_catalog_find(c, "Standard_NC24ads_A100_v4");
	nap_reqs_init(&r);
	nap_itype_reqs(it, c, &r);
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-gpu-name"), "A100", "A100 GPU name");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-gpu-manufacturer"), "nvidia", "nvidia GPU");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-gpu-count"), "1", "one GPU");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-family"), "N", "sku-family is N");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-series"), "NCads_v4", "sku-series NCads_v4");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-storage-ephemeralos-maxsize"), "274",
	    "ephemeral OS max size from the Resource SKUs data");
	TAP_IS_STR(vals(&r, "topology.kubernetes.io/zone"), "0 eastus-3",
	    "the Resource SKUs data's zone restrictions narrow the zones");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-hyperv-generation"), "2", "Gen2 only");
	nap_reqs_free(&r);

	it = nap_catalog_find(c, "Standard_D4ps_v5");
	nap_reqs_init(&r);
	nap_itype_reqs(it, c, &r);
	TAP_IS_STR(vals(&r, "kubernetes.io/arch"), "arm64", "D4ps_v5 is arm64");
	TAP_IS_STR(
	    vals(&r, "karpenter.azure.com/sku-hyperv-generation"), "2", "arm64 is Gen2 only");
	nap_reqs_free(&r);

	it = nap_catalog_find(c, "Standard_DS2_v2");
	nap_reqs_init(&r);
	nap_itype_reqs(it, c, &r);
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-family"), "D", "DS2_v2 is in family D");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-series"), "DS_v2", "DS2_v2 series DS_v2");
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-version"), "2", "DS2_v2 version 2");
	nap_reqs_free(&r);

	it = nap_catalog_find(c, "Standard_B2ms");
	nap_reqs_init(&r);
	nap_itype_reqs(it, c, &r);
	TAP_IS_STR(vals(&r, "karpenter.azure.com/sku-version"), "1", "no version in the name is 1");
	nap_reqs_free(&r);
	nap_catalog_free(c);
}

static void
test_offerings(void)
{
	struct nap_catalog *c = load("eastus");
	const struct nap_itype *it;
	const struct nap_offering *o;
	struct nap_reqs r;
	size_t i, nspot = 0;

	if (c == NULL)
		return;
	it = nap_catalog_find(c, "Standard_D2s_v5");
	TAP_IS_INT(it->noff, 8, "D2s_v5: 4 zones (3 + regional) x on-demand and spot");
	TAP_OK(it->on_demand_price == 0.096, "D2s_v5 costs 0.096 USD/h on demand in eastus");
	TAP_OK(it->off[0].zone == 1 && !it->off[0].spot && it->off[3].zone == 0 &&
		strcmp(it->off[3].zone_label, "0") == 0 && it->off[4].spot,
	    "offerings are on-demand zonal, regional, then spot");
	TAP_IS_STR(it->off[1].zone_label, "eastus-2", "zone labels are <region>-<n>");
	o = nap_itype_cheapest(it);
	TAP_OK(o != NULL && o->spot && o->price < 0.05, "the cheapest D2s_v5 offering is spot");

	it = nap_catalog_find(c, "Standard_B2ms");
	for (i = 0; i < it->noff; i++)
		nspot += (size_t)it->off[i].spot;
	TAP_IS_INT(nspot, 0, "B2ms has no spot offering: the data has no spot price for it");
	TAP_OK(it->spot_price < 0, "its spot price is absent, not invented");
	nap_reqs_init(&r);
	nap_itype_reqs(it, c, &r);
	TAP_IS_STR(vals(&r, "karpenter.sh/capacity-type"), "on-demand", "B2ms is on-demand only");
	nap_reqs_free(&r);

	/* an unavailable offering drops out of the labels and the cheapest */
	for (i = 0; i < c->types[0].noff; i++)
		c->types[0].off[i].available = 0;
	TAP_OK(nap_itype_cheapest(&c->types[0]) == NULL, "no available offering, no cheapest");
	nap_reqs_init(&r);
	nap_itype_reqs(&c->types[0], c, &r);
	TAP_IS_STR(vals(&r, "karpenter.sh/capacity-type"), "", "no capacity type can be selected");
	nap_reqs_free(&r);
	nap_catalog_free(c);

	c = load("spaincentral");
	if (c != NULL) {
		TAP_IS_STR(nap_catalog_excluded(c, "Standard_L16as_v3"), "ZeroPriceInData",
		    "a size the price data lists at 0 USD/h is not offered for free");
		nap_catalog_free(c);
	}

	c = load("australiacentral");
	if (c != NULL) {
		it = nap_catalog_find(c, "Standard_D2s_v5");
		TAP_OK(c->nzones == 0 && it != NULL && it->off[0].zone == 0 &&
			(it->noff == 1 || it->noff == 2),
		    "a region without zones offers regional placement only");
		nap_catalog_free(c);
	}
}

static void
test_spot_input(void)
{
	struct nap_catalog *c = NULL;
	struct nap_err err;
	const struct nap_itype *it;
	char *spot = write_tmp("spot.json",
	    "{\"eastus\": {\"Standard_B2ms\": 0.0123, \"Standard_B20ms\": 0.1,"
	    " \"Standard_D2s_v5\": 0.02, \"Standard_Gone\": 1},"
	    " \"westus2\": {\"Standard_B4ms\": 0.5}}");
	char *bad = write_tmp("bad.json", "{\"eastus\": {\"Standard_B2ms\": \"cheap\"}}");

	TAP_IS_INT(nap_catalog_load(&c, CATALOG, "eastus", spot, &err), 0,
	    "an operator's spot-price file loads");
	if (c != NULL) {
		it = nap_catalog_find(c, "Standard_B2ms");
		TAP_OK(it->spot_price == 0.0123 && it->noff == 8,
		    "it adds spot offerings where the data has none");
		it = nap_catalog_find(c, "Standard_D2s_v5");
		TAP_OK(it->spot_price == 0.02, "it replaces the catalog's spot price");
		it = nap_catalog_find(c, "Standard_B20ms");
		TAP_OK(it->spot_price < 0,
		    "it cannot make a size spot that the Resource SKUs data says is not");
		it = nap_catalog_find(c, "Standard_B4ms");
		TAP_OK(it->spot_price < 0, "prices of other regions are not used");
	}
	nap_catalog_free(c);
	TAP_IS_INT(nap_catalog_load(&c, CATALOG, "eastus", bad, &err), -1,
	    "a spot price that is not a number is refused");
	TAP_IS_INT(err.code, NAP_EX_DATAERR, "with exit code 65");
	TAP_OK(strstr(err.msg, "Standard_B2ms") != NULL, "naming the size: %s", err.msg);
	free(spot);
	free(bad);
}

static void
test_errors(void)
{
	struct nap_catalog *c = NULL;
	struct nap_err err;
	char *f;

	TAP_IS_INT(nap_catalog_load(&c, CATALOG, "atlantis", NULL, &err), -1,
	    "an unknown region is an error");
	TAP_IS_INT(err.code, NAP_EX_CONFIG, "a configuration error (78)");
	TAP_OK(strstr(err.msg, "atlantis") && strstr(err.msg, "grep '^Z'"),
	    "the message says how to list the known regions: %s", err.msg);
	TAP_OK(c == NULL, "and no catalog is returned");

	TAP_IS_INT(nap_catalog_load(&c, "/nonexistent/catalog.tsv", "eastus", NULL, &err), -1,
	    "a missing catalog file is an error");
	TAP_IS_INT(err.code, NAP_EX_CONFIG, "also a configuration error");

	f = write_tmp("bad.tsv", "# nap Azure VM-size catalog, format 1\nZ\teastus\t123\nQ\tx\n");
	TAP_IS_INT(
	    nap_catalog_load(&c, f, "eastus", NULL, &err), -1, "an unknown line type is refused");
	TAP_OK(err.code == NAP_EX_DATAERR && strstr(err.msg, "line 3") != NULL,
	    "with the line number: %s", err.msg);
	free(f);
	f = write_tmp("notcat.tsv", "name\tprice\n");
	TAP_IS_INT(nap_catalog_load(&c, f, "eastus", NULL, &err), -1,
	    "a file that is not a catalog is refused");
	free(f);
}

static void
test_small_catalog(void)
{
	struct nap_catalog *c = NULL;
	struct nap_err err;
	const struct nap_itype *it;
	struct nap_itype_opts o;
	char *f = write_tmp("catalog.tsv",
	    "# nap Azure VM-size catalog, format 1\n"
	    "S\tStandard_X4_v9\t4\t16384\t0\t-\t-\t-\tamd64\tX\tX_"
	    "v9\t9\tq\t1\tsku\t1\t1\t100\tCacheDisk\t1\t0\t1\t0\t-\n"
	    "S\tStandard_A8_v9\t8\t32768\t2\tamd\tMI9\tu\tarm64\tA\tA_v9\t9\tq\t2\tname\t0\t0\t0\t-"
	    "\t-\t-\t-\t1\t-\n"
	    "Z\tmars\t12\n"
	    "P\tmars\tStandard_X4_v9\t0.5\t0.1\t2\n"
	    "P\tmars\tStandard_A8_v9\t1.5\t-\t12\n");

	TAP_IS_INT(nap_catalog_load(&c, tmpdir, "mars", NULL, &err), 0,
	    "a directory holding catalog.tsv loads");
	if (c == NULL)
		return;
	TAP_IS_INT(c->ntypes, 2, "both sizes are instance types");
	TAP_IS_STR(c->types[0].name, "Standard_A8_v9", "types are sorted by name");
	it = nap_catalog_find(c, "Standard_X4_v9");
	TAP_OK(it->off[0].price == NAP_CATALOG_MISSING_PRICE,
	    "a size missing from known_skus is priced 999 as the provider does");
	TAP_IS_INT(it->noff, 4, "zone 2 + regional, on-demand and spot");
	TAP_IS_STR(it->off[0].zone_label, "mars-2", "the zone label uses the region");
	memset(&o, 0, sizeof(o));
	o.trusted_launch = 1;
	TAP_OK(nap_itype_unusable(it, &o) != NULL, "a Gen1-only size cannot do Trusted Launch");
	memset(&o, 0, sizeof(o));
	o.encryption_at_host = 1;
	TAP_OK(nap_itype_unusable(it, &o) != NULL, "nor encryption at host where the data says no");
	o.os_disk_gb = 100;
	TAP_OK(nap_itype_ephemeral_os(it, &o), "a 100 GB OS disk fits a 100 GB ephemeral disk");
	o.os_disk_gb = 0;
	TAP_OK(!nap_itype_ephemeral_os(it, &o), "the default 128 GB does not");

	it = nap_catalog_find(c, "Standard_A8_v9");
	memset(&o, 0, sizeof(o));
	TAP_OK(nap_itype_unusable(it, &o) != NULL, "an AMD GPU needs gpu.mode None");
	o.gpu_mode_none = 1;
	TAP_IS_STR(nap_itype_unusable(it, &o), NULL, "and is usable with it");
	o.gpu_os = NAP_GPU_OS_AZURELINUX3;
	TAP_OK(nap_itype_unusable(it, &o) != NULL, "a GPU size needs its image OS supported");
	memset(&o, 0, sizeof(o));
	o.gpu_mode_none = 1;
	o.artifact_streaming = 1;
	TAP_OK(nap_itype_unusable(it, &o) != NULL, "artifact streaming rules out arm64");
	memset(&o, 0, sizeof(o));
	o.gpu_mode_none = 1;
	o.encryption_at_host = 1;
	TAP_IS_STR(nap_itype_unusable(it, &o), NULL, "an unknown capability counts as supported");
	{
		struct nap_res cap;

		nap_itype_capacity(it, NULL, &cap);
		TAP_IS_INT(cap.v[NAP_RES_AMD_GPU], 2, "AMD GPUs are amd.com/gpu");
		TAP_IS_INT(cap.v[NAP_RES_NVIDIA_GPU], 0, "and not nvidia.com/gpu");
	}
	nap_catalog_free(c);
	free(f);
}

/* Regenerating from the shared data (../shared/data) reproduces the committed catalog. */
static void
test_regenerate(void)
{
	char *cmd, *prices = nap_xasprintf("%s/data/azure-prices.json", test_shared());
	int rc;

	if (access(prices, R_OK) != 0) {
		TAP_OK(0, "%s is readable " TEST_SHARED_HINT, prices);
		free(prices);
		return;
	}
	free(prices);
	if (!TAP_OK(system("jq --version >/dev/null 2>&1") == 0,
		"jq runs (make deps installs it): the generator needs it"))
		return;
	cmd = nap_xasprintf("sh data/gen/gen-catalog %s/data %s && cmp -s %s/catalog.tsv %s",
	    test_shared(), tmpdir, tmpdir, CATALOG);
	rc = system(cmd);
	TAP_IS_INT(
	    rc, 0, "regenerating from ../shared/data reproduces data/catalog.tsv byte for byte");
	free(cmd);
}

/*
 * The live-refresh path of nap-catalog(5): a Resource SKUs answer (the ARM
 * example for a region, westus) and Retail Prices items go through the
 * converters and the generator into a catalog that loads.
 */
static void
test_refresh(void)
{
	struct nap_catalog *c = NULL;
	struct nap_err err;
	char *items, *cmd, *skus;
	const char *sh = test_shared();
	int rc;

	skus = nap_xasprintf("%s/fixtures/arm/ListAvailableResourceSkusForARegion.json", sh);
	if (access(skus, R_OK) != 0) {
		TAP_OK(0, "%s is readable " TEST_SHARED_HINT, skus);
		free(skus);
		return;
	}
	free(skus);
	if (!TAP_OK(system("jq --version >/dev/null 2>&1") == 0,
		"jq runs (make deps installs it): the converters need it"))
		return;
	items = write_tmp("items.json",
	    "[{\"currencyCode\":\"USD\",\"retailPrice\":0.02,\"armRegionName\":\"westus\","
	    "\"meterName\":\"A1\",\"productName\":\"Virtual Machines A Series\",\"skuName\":\"A1\","
	    "\"serviceName\":\"Virtual "
	    "Machines\",\"type\":\"Consumption\",\"armSkuName\":\"Standard_A1\"},"
	    "{\"currencyCode\":\"USD\",\"retailPrice\":0.09,\"armRegionName\":\"westus\","
	    "\"meterName\":\"A1\",\"productName\":\"Virtual Machines A Series "
	    "Windows\",\"skuName\":\"A1\","
	    "\"serviceName\":\"Virtual "
	    "Machines\",\"type\":\"Consumption\",\"armSkuName\":\"Standard_A1\"},"
	    "{\"currencyCode\":\"USD\",\"retailPrice\":0.004,\"armRegionName\":\"westus\","
	    "\"meterName\":\"A1 Spot\",\"productName\":\"Virtual Machines A "
	    "Series\",\"skuName\":\"A1 Spot\","
	    "\"serviceName\":\"Virtual "
	    "Machines\",\"type\":\"Consumption\",\"armSkuName\":\"Standard_A1\"}]");
	cmd = nap_xasprintf(
	    "set -e; d=%s/fresh; mkdir -p $d; "
	    "jq '.responses[\"200\"].body' "
	    "%s/fixtures/arm/ListAvailableResourceSkusForARegion.json"
	    " | jq -f data/gen/skus-from-arm.jq > $d/azure-skus-westus.json; "
	    "jq -s -f data/gen/sizes-from-arm.jq $d/azure-skus-westus.json > "
	    "$d/azure-vm-sizes.json; "
	    "jq --arg kind ondemand -f data/gen/prices-from-retail.jq %s > $d/azure-prices.json; "
	    "jq --arg kind spot -f data/gen/prices-from-retail.jq %s > $d/azure-spot-prices.json; "
	    "cp %s/data/azure-known-skus.json %s/data/azure-gpu-skus.json $d/; "
	    "sh data/gen/gen-catalog $d $d %s/fixtures/arm/karpenter-azure-locations.json",
	    tmpdir, sh, items, items, sh, sh, sh);
	rc = system(cmd);
	TAP_IS_INT(rc, 0, "converters and generator turn live API answers into a catalog");
	free(cmd);
	cmd = nap_xasprintf("%s/fresh", tmpdir);
	TAP_IS_INT(nap_catalog_load(&c, cmd, "westus", NULL, &err), 0,
	    "the refreshed catalog loads westus");
	if (c != NULL) {
		TAP_IS_INT(
		    c->ntypes, 0, "its only priced size, Standard_A1, is not an instance type");
		TAP_IS_STR(nap_catalog_excluded(c, "Standard_A1"),
		    "AKSRestrictedVMSizes,LessThan2vCPUs,LessThan3.5GiBMemory",
		    "and is excluded for the provider's reasons");
		nap_catalog_free(c);
	}
	free(cmd);
	free(items);
}

/*
 * The shared data's Resource SKUs records carry a "derived" block computed
 * with the provider's own formulas: every supported size of the region must get
 * the same labels and allocatable from the catalog.
 */
static void
test_provider_oracle(const char *region)
{
	char file[1024];
	struct nap_catalog *c;
	json_object *root;
	size_t i, n, checked = 0, labels = 0, bad = 0;

	snprintf(file, sizeof(file), "%s/data/azure-skus-%s.json", test_shared(), region);
	if (access(file, R_OK) != 0) {
		TAP_OK(0, "%s is readable " TEST_SHARED_HINT, file);
		return;
	}
	c = load(region);
	root = json_object_from_file(file);
	if (c == NULL || root == NULL) {
		TAP_OK(0, "%s and %s load", region, file);
		nap_catalog_free(c);
		json_object_put(root);
		return;
	}
	n = json_object_array_length(root);
	for (i = 0; i < n; i++) {
		json_object *rec = json_object_array_get_idx(root, i), *d, *k, *v, *lab;
		const char *name = json_object_get_string(json_object_object_get(rec, "name"));
		const struct nap_itype *it = nap_catalog_find(c, name);
		struct nap_res a;
		struct nap_reqs r;

		json_object_object_get_ex(rec, "derived", &d);
		json_object_object_get_ex(d, "karpenter", &k);
		if (!json_object_get_boolean(json_object_object_get(k, "supported"))) {
			if (it != NULL) {
				printf("# %s is offered but the provider would not\n", name);
				bad++;
			}
			continue;
		}
		if (it == NULL) {
			printf("# %s is supported by the provider but not offered\n", name);
			bad++;
			continue;
		}
		checked++;
		if (nap_itype_max_data_disks(it) !=
			json_object_get_int(json_object_object_get(rec, "maxDataDiskCount")) ||
		    (nap_size_max_data_disks(NULL, it->series, it->vcpus) != 0 &&
			nap_size_max_data_disks(NULL, it->series, it->vcpus) !=
			    nap_itype_max_data_disks(it))) {
			printf("# %s data disks %d (its series' rule %d) differ from the record\n",
			    name, nap_itype_max_data_disks(it),
			    nap_size_max_data_disks(NULL, it->series, it->vcpus));
			bad++;
		}
		nap_itype_allocatable(it, NULL, &a);
		json_object_object_get_ex(k, "allocatable", &v);
		if (a.v[NAP_RES_CPU] !=
			json_object_get_int64(json_object_object_get(v, "cpuMillis")) ||
		    a.v[NAP_RES_MEMORY] !=
			json_object_get_int64(json_object_object_get(v, "memoryBytes"))) {
			printf("# %s allocatable %lld/%lld differs\n", name,
			    (long long)a.v[NAP_RES_CPU], (long long)a.v[NAP_RES_MEMORY]);
			bad++;
		}
		nap_reqs_init(&r);
		nap_itype_reqs(it, c, &r);
		json_object_object_get_ex(d, "labels", &lab);
		json_object_object_foreach(lab, key, val)
		{
			const char *want = json_object_get_string(val);

			labels++;
			if (strcmp(vals(&r, key), want) != 0) {
				printf("# %s label %s is %s, the provider says %s\n", name, key,
				    vals(&r, key), want);
				bad++;
			}
		}
		nap_reqs_free(&r);
	}
	TAP_OK(checked >= 8, "%s has %zu provider-supported sizes to compare", region, checked);
	TAP_IS_INT(bad, 0,
	    "%s: their %zu labels, allocatable, data disks and exclusions match the provider's",
	    region, labels);
	json_object_put(root);
	nap_catalog_free(c);
}

/* A size row of the catalog file: name, sku-series, vCPUs, offered or not. */
struct row {
	char name[64], series[32];
	int vcpus, offered;
};

static struct row *
catalog_rows(size_t *n)
{
	FILE *f = fopen(CATALOG, "r");
	struct row *rows = NULL;
	size_t alloc = 0;
	char line[4096];

	*n = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char *fld[24], *p = line;
		size_t k = 0;

		if (strncmp(line, "S\t", 2) != 0)
			continue;
		while (k < 24 && (fld[k++] = strsep(&p, "\t\n")) != NULL)
			;
		if (k < 24 || fld[23] == NULL)
			continue;
		nap_xgrow(&rows, &alloc, *n + 1, sizeof(*rows));
		snprintf(rows[*n].name, sizeof(rows[*n].name), "%s", fld[1]);
		snprintf(rows[*n].series, sizeof(rows[*n].series), "%s", fld[10]);
		rows[*n].vcpus = (int)strtol(fld[2], NULL, 10);
		rows[(*n)++].offered = strcmp(fld[23], "-") == 0;
	}
	if (f)
		fclose(f);
	return rows;
}

static const struct row *
row_of(const struct row *rows, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	return NULL;
}

/*
 * Data disks (catalog-disks.c): documented counts of a few sizes per
 * series rule, read from Microsoft's size pages, and every size of the
 * catalog either has a count or is in a series nap-catalog(5) lists as
 * having none.
 */
static void
test_disks(void)
{
	static const struct {
		const char *name;
		int disks;
	} doc[] = {
	    {"Standard_D2s_v5", 4}, {"Standard_D16s_v5", 32}, {"Standard_D96s_v5", 32}, /* dsv5 */
	    {"Standard_E20as_v5", 32},							/* easv5 */
	    {"Standard_D2s_v6", 8}, {"Standard_D4s_v6", 12}, {"Standard_D16s_v6", 48},	/* dsv6 */
	    {"Standard_D192s_v6", 64}, {"Standard_D2ps_v6", 8}, /* dsv6, dpsv6 */
	    {"Standard_E20s_v6", 48}, {"Standard_L96s_v4", 64}, /* esv6, lsv4 */
	    {"Standard_D2as_v7", 10}, {"Standard_D8as_v7", 26},
	    {"Standard_D160as_v7", 64},						  /* dasv7 */
	    {"Standard_F2as_v7", 12}, {"Standard_F80as_v7", 64},		  /* fasv7 */
	    {"Standard_B2ms", 4}, {"Standard_B12ms", 16}, {"Standard_B16ms", 32}, /* bv1 */
	    {"Standard_L8s_v3", 16},						  /* lsv3 */
	    {"Standard_E104i_v5", 64}, /* ev5: the isolated size, a series of its own */
	    {"Standard_D2_v2", 8},     /* the Resource SKUs record */
	    {"Standard_D4_v2", 32}, {"Standard_DS15_v2", 64}, /* dv2, dsv2: 4 x vCPUs, at most 64 */
	    {"Standard_A8m_v2", 16}, {"Standard_FX12ms_v2", 48}, /* av2, fxmsv2 */
	    {"Standard_NC64as_T4_v3", 32}, {"Standard_NC24s_v3", 32},
	    {"Standard_NV18ads_A10_v5", 8},   /* ncv3, nvadsa10v5 */
	    {"Standard_NC48ads_A100_v4", 16}, /* ncast4v3, nca100v4 */
	    {"Standard_E64-16ds_v5", 32},     /* constrained: its parent's count (edsv5) */
	    {"Standard_D11", 8}, {"Standard_DS14", 64}, {"Standard_F16s", 64}, /* prev-gen */
	    {"Standard_G1", 8}, {"Standard_GS5", 64}, {"Standard_L4s", 16},    /* prev-gen */
	    {"Standard_FX4mds", 8}, {"Standard_FX48mds", 32},		       /* fx */
	    {"Standard_M16ms", 16}, {"Standard_M128ms", 64},		       /* m */
	    {"Standard_M32ms_v2", 32}, {"Standard_M192idms_v2", 64},	       /* msv2-mdsv2 */
	    {"Standard_M12s_v3", 64}, {"Standard_M832ids_16_v3", 64},	  /* msv3-mm, mdsv3-hm */
	    {"Standard_M16bds_v3", 64}, {"Standard_M416s_8_v2", 64},	  /* mbdsv3, mv2 */
	    {"Standard_D2", 8}, {"Standard_DS3", 16}, {"Standard_F2", 8}, /* prev-gen */
	    {"Standard_G5", 64}, {"Standard_L32s", 64}, {"Standard_NV6s_v2", 12},
	    {"Standard_NV24s_v2", 32},						   /* prev-gen */
	    {"Standard_M32ls", 32}, {"Standard_M32ts", 32}, {"Standard_M64m", 64}, /* m */
	    {"Standard_M128", 64}, {"Standard_M64s", 64},			   /* m */
	    {"Standard_M32dms_v2", 32}, {"Standard_M64ds_v2", 64},		   /* msv2-mdsv2 */
	    {"Standard_M192is_v2", 64}, {"Standard_M192ims_v2", 64},		   /* msv2-mdsv2 */
	    {"Standard_M192ids_v2", 64}, {"Standard_M128s_v2", 64},		   /* msv2-mdsv2 */
	    {"Standard_M416ms_v2", 64}, {"Standard_M176ds_4_v3", 64}, /* mv2, mdsv3-mm */
	    {"Standard_M832is_16_v3", 64}, {"Standard_M48bs_v3", 64}, /* msv3-hm, mbsv3 */
	    {"Standard_M416bs_v3", 0},	/* Mbsv3, but not on its page: no count */
	    {"Standard_M416s_9_v2", 0}, /* Msv2, on neither page: no count */
	    {"Standard_ND40rs_v2", 32}, {"Standard_ND96asr_v4", 32}, /* ndv2, ndasra100v4 */
	    {"Standard_ND96amsr_A100_v4", 32}, {"Standard_ND96isr_H200_v5", 16}, /* ndma100v4 */
	    {"Standard_ND96isr_MI300X_v5", 16},					 /* ndmi300xv5 */
	    {"Standard_NV4ads_V710_v5", 2}, {"Standard_NV28adms_V710_v5", 14},	 /* nvadsv710-v5 */
	    {"Standard_NV12s_v3", 12}, {"Standard_NV48s_v3", 32},		 /* nvv3 */
	    {"Standard_NG8ads_V620_v1", 8}, {"Standard_NG32ads_V620_v1", 32},	 /* ngadsv620 */
	    {"Standard_EC2as_v5", 4}, {"Standard_EC16ads_v5", 32}, {"Standard_EC96ads_v5", 32},
	    {"Standard_EC4as_cc_v5", 8}, {"Standard_HB120rs_v2", 8}, {"Standard_HB120rs_v3", 32},
	    {"Standard_HB176rs_v4", 32}, {"Standard_HB368rs_v5", 32}, {"Standard_HC44rs", 4},
	    {"Standard_HX176rs", 32}, /* hpc */
	};
	/* the sku-series of sizes nap knows no count for (nap-catalog(5), DATA DISKS) */
	static const char *const none[] = {"DC_v2", "DCads_v5", "DCads_v6", "DCas_v5", "DCas_v6",
	    "DCds_v3", "DCeds_v5", "DCeds_v6", "DCes_v5", "DCes_v6", "DCs_v2", "DCs_v3", "ECads_v6",
	    "ECas_v6", "ECeds_v5", "ECeds_v6", "ECes_v5", "ECes_v6", "ECiads_v5", "ECias_v5",
	    "Eias_v4", "Laos_v4", "Mbs_v3", "Ms_v2", "NCCads_v5", "NCads_v4", "NDis_v5", "NPs",
	    "NVas_v4"};
	unsigned char used[NAP_ARRAY_LEN(none)] = {0};
	struct nap_catalog *c = load("eastus");
	size_t i, j, n, known = 0, offered = 0, offered_known = 0, stray = 0, stale = 0, differ = 0;
	struct row *rows = catalog_rows(&n);

	for (i = 0; i < NAP_ARRAY_LEN(doc); i++) {
		const struct row *r = row_of(rows, n, doc[i].name);

		if (!TAP_OK(r != NULL, "%s is in the catalog", doc[i].name))
			continue;
		TAP_IS_INT(nap_size_max_data_disks(r->name, r->series, r->vcpus), doc[i].disks,
		    "%s (%s, %d vCPUs) attaches %d data disks", r->name, r->series, r->vcpus,
		    doc[i].disks);
	}
	TAP_IS_INT(nap_size_max_data_disks("Standard_X8s_v9", "Xs_v9", 8), 0,
	    "a size of a series nap has no rule for: 0, no known limit");
	TAP_IS_INT(nap_size_max_data_disks("Standard_D6s_v6", "Ds_v6", 6), 0,
	    "a vCPU count the series' table does not list: 0");
	for (i = 0; i < n; i++) {
		int d = nap_size_max_data_disks(rows[i].name, rows[i].series, rows[i].vcpus);
		const struct nap_itype *it = c ? nap_catalog_find(c, rows[i].name) : NULL;

		known += d > 0;
		offered += rows[i].offered;
		offered_known += rows[i].offered && d > 0;
		if (it && nap_itype_max_data_disks(it) != d)
			differ++;
		for (j = 0; j < NAP_ARRAY_LEN(none) && strcmp(none[j], rows[i].series) != 0; j++)
			;
		if (d > 0)
			continue;
		if (j == NAP_ARRAY_LEN(none)) {
			printf("# %s (%s) has no data-disk count and its series is not listed\n",
			    rows[i].name, rows[i].series);
			stray++;
			continue;
		}
		used[j] = 1;
	}
	for (j = 0; j < NAP_ARRAY_LEN(none); j++)
		if (!used[j]) {
			printf("# %s is listed as unknown but every size of it has a count\n",
			    none[j]);
			stale++;
		}
	printf("# data disks: %zu of %zu sizes known, %zu of %zu offered\n", known, n,
	    offered_known, offered);
	TAP_IS_INT(
	    stray, 0, "every size without a data-disk count is of a series listed as unknown");
	TAP_IS_INT(stale, 0, "every series listed as unknown has a size without a count");
	TAP_IS_INT(differ, 0, "an instance type's count is its size's (eastus)");
	free(rows);
	nap_catalog_free(c);
}

/* nap_catalog_load_config: flags first, then the configuration; spotPrices is read. */
static void
test_load_config(void)
{
	struct nap_catalog *c = NULL;
	struct nap_config cfg;
	struct nap_err err;
	const struct nap_itype *it;
	char *cheap = write_tmp("cheap.json", "{\"eastus\": {\"Standard_D2s_v5\": 0.0001}}");
	char *dear = write_tmp("dear.json", "{\"eastus\": {\"Standard_D2s_v5\": 0.5}}");

	nap_config_init(&cfg);
	TAP_IS_INT(nap_catalog_load_config(&c, &cfg, CATALOG, NULL, NULL, &err), -1,
	    "no region in the flags or the configuration is refused");
	TAP_IS_INT(err.code, NAP_EX_CONFIG, "as a configuration error");
	if (nap_config_set(&cfg, "cluster.region", "eastus", &err) < 0 ||
	    nap_config_set(&cfg, "catalog", CATALOG, &err) < 0 ||
	    nap_config_set(&cfg, "spotPrices", cheap, &err) < 0)
		printf("# config: %s\n", err.msg);
	TAP_IS_INT(nap_catalog_load_config(&c, &cfg, NULL, NULL, NULL, &err), 0,
	    "region, catalog and spotPrices from the configuration");
	it = c ? nap_catalog_find(c, "Standard_D2s_v5") : NULL;
	TAP_OK(c && strcmp(c->region, "eastus") == 0 && it && it->spot_price == 0.0001,
	    "the configuration's spotPrices set the spot price");
	nap_catalog_free(c);
	c = NULL;
	TAP_IS_INT(nap_catalog_load_config(&c, &cfg, "", "westus2", dear, &err), 0,
	    "flags over the configuration");
	it = c ? nap_catalog_find(c, "Standard_D2s_v5") : NULL;
	TAP_OK(c && strcmp(c->region, "westus2") == 0 && it && it->spot_price != 0.0001,
	    "the region flag wins (and eastus prices do not apply to westus2)");
	nap_catalog_free(c);
	c = NULL;
	TAP_IS_INT(nap_catalog_load_config(&c, &cfg, NULL, NULL, dear, &err), 0, "a spot flag");
	it = c ? nap_catalog_find(c, "Standard_D2s_v5") : NULL;
	TAP_OK(it && it->spot_price == 0.5, "the spot-price flag wins over spotPrices");
	nap_catalog_free(c);
	c = NULL;
	TAP_IS_INT(nap_catalog_load_config(&c, NULL, CATALOG, "eastus", NULL, &err), 0,
	    "no configuration at all: the flags alone");
	nap_catalog_free(c);
	nap_config_free(&cfg);
	free(cheap);
	free(dear);
}

/* nap_unavail: OfferingUnavailable records, by size, zone and capacity type, until a time. */
static void
test_unavail(void)
{
	struct nap_catalog *c = load("eastus");
	struct nap_unavail_set s = {NULL, 0, 0};
	struct nap_err err;
	const struct nap_itype *it = c ? nap_catalog_find(c, "Standard_D2s_v5") : NULL;
	const struct nap_offering *z1 = NULL, *z2 = NULL, *spot1 = NULL;
	json_object *r;
	size_t i;
	int64_t until = 1796601600LL * 1000; /* 2026-12-07T00:00:00Z */

	for (i = 0; it && i < it->noff; i++) {
		const struct nap_offering *o = &it->off[i];

		if (o->zone == 1 && !o->spot)
			z1 = o;
		if (o->zone == 2 && !o->spot)
			z2 = o;
		if (o->zone == 1 && o->spot)
			spot1 = o;
	}
	if (!z1 || !z2 || !spot1) {
		TAP_OK(0, "D2s_v5 has on-demand offerings in zones 1 and 2 and spot in zone 1");
		nap_catalog_free(c);
		return;
	}
	r = json_tokener_parse("{\"type\":\"OfferingUnavailable\",\"instanceType\":"
			       "\"Standard_D2s_v5\",\"zone\":\"eastus-1\",\"capacityType\":"
			       "\"on-demand\",\"until\":\"2026-12-07T00:00:00Z\"}");
	TAP_IS_INT(
	    nap_unavail_add_record(&s, r, &err), 0, "an OfferingUnavailable record is taken");
	json_object_put(r);
	TAP_OK(nap_unavail_has(&s, it, z1, until - 1), "its offering is unavailable until then");
	TAP_OK(!nap_unavail_has(&s, it, z1, until), "and available again from then");
	TAP_OK(nap_unavail_has(&s, it, z1, 0), "with no clock (a snapshot) it holds");
	TAP_OK(!nap_unavail_has(&s, it, z2, 0), "another zone is not covered");
	TAP_OK(!nap_unavail_has(&s, it, spot1, 0), "nor another capacity type");
	r = json_tokener_parse("{\"type\":\"OfferingUnavailable\",\"instanceType\":"
			       "\"Standard_D2s_v5\",\"capacityType\":\"spot\"}");
	nap_unavail_add_record(&s, r, &err);
	json_object_put(r);
	TAP_OK(nap_unavail_has(&s, it, spot1, until * 2),
	    "no zone and no until: every zone, for ever");
	r = json_tokener_parse("{\"type\":\"OfferingUnavailable\",\"zone\":\"eastus-1\"}");
	TAP_IS_INT(
	    nap_unavail_add_record(&s, r, &err), -1, "a record without instanceType is refused");
	TAP_IS_INT(err.code, NAP_EX_DATAERR, "as bad input");
	json_object_put(r);
	r = json_tokener_parse("{\"type\":\"OfferingUnavailable\",\"instanceType\":\"X\","
			       "\"until\":\"tomorrow\"}");
	TAP_IS_INT(nap_unavail_add_record(&s, r, &err), -1, "so is a bad until");
	TAP_OK(strstr(err.msg, "tomorrow") != NULL, "naming it: %s", err.msg);
	json_object_put(r);
	TAP_IS_INT(s.n, 2, "refused records leave the set unchanged");
	r = json_tokener_parse("{\"type\":\"OfferingUnavailable\",\"instanceType\":"
			       "\"Standard_D2s_v5\",\"zone\":\"eastus-1\",\"capacityType\":"
			       "\"on-demand\",\"until\":\"2026-12-07T01:00:00Z\"}");
	for (i = 0; i < 3; i++)
		nap_unavail_add_record(&s, r, &err);
	json_object_put(r);
	TAP_IS_INT(s.n, 2, "the same offering reported again is not kept twice");
	TAP_OK(nap_unavail_has(&s, it, z1, until + 3599 * 1000),
	    "its entry now holds until the later until");
	r = json_tokener_parse("{\"type\":\"OfferingUnavailable\",\"instanceType\":"
			       "\"Standard_D2s_v5\",\"zone\":\"eastus-1\",\"capacityType\":"
			       "\"on-demand\",\"until\":\"2026-12-06T00:00:00Z\"}");
	nap_unavail_add_record(&s, r, &err);
	json_object_put(r);
	TAP_OK(nap_unavail_has(&s, it, z1, until + 3599 * 1000),
	    "and an older report does not shorten it");
	nap_unavail_free(&s);
	nap_catalog_free(c);
}

static void
test_nodeclass_opts(void)
{
	struct nap_itype_opts o;
	struct nap_nodeclass nc;
	struct nap_err err;
	json_object *obj = json_tokener_parse(
	    "{\"apiVersion\":\"karpenter.azure.com/v1beta1\",\"kind\":\"AKSNodeClass\","
	    "\"metadata\":{\"name\":\"gpu\"},\"spec\":{\"imageFamily\":\"AzureLinux\","
	    "\"osDiskSizeGB\":64,\"gpu\":{\"mode\":\"None\"},"
	    "\"localDNS\":{\"mode\":\"Required\"}}}");

	if (!TAP_OK(nap_nodeclass_from_json(&nc, obj, &err) == 0, "an AKSNodeClass parses")) {
		printf("# %s\n", err.msg);
		json_object_put(obj);
		return;
	}
	nap_itype_opts_from_nodeclass(&o, &nc, "1.33.2", NULL, NULL);
	TAP_IS_INT(o.os_disk_gb, 64, "options take the OS disk size");
	TAP_IS_INT(o.max_pods, 250, "maxPods defaults to 250 with Azure CNI overlay");
	TAP_IS_INT(
	    o.gpu_os, NAP_GPU_OS_AZURELINUX3, "AzureLinux on 1.33 is Azure Linux 3 for GPUs");
	TAP_OK(o.gpu_mode_none && o.localdns, "gpu.mode None and LocalDNS Required carry over");
	nap_itype_opts_from_nodeclass(&o, &nc, "1.31.0", "azure", NULL);
	TAP_IS_INT(o.gpu_os, NAP_GPU_OS_AZURELINUX, "AzureLinux on 1.31 is Azure Linux 2");
	TAP_IS_INT(o.max_pods, 30, "Azure CNI node subnet defaults maxPods to 30");
	nap_nodeclass_free(&nc);
	json_object_put(obj);
}

int
main(void)
{
	char *cmd;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_regions_load();
	test_allocatable();
	test_exclusions();
	test_labels();
	test_offerings();
	test_spot_input();
	test_load_config();
	test_unavail();
	test_errors();
	test_small_catalog();
	test_nodeclass_opts();
	test_disks();
	test_provider_oracle("eastus");
	test_provider_oracle("southcentralus");
	test_provider_oracle("westcentralus");
	test_regenerate();
	test_refresh();
	cmd = nap_xasprintf("rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	free(cmd);
	return tap_done();
}
