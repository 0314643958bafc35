/*
 * catalog.h - the Azure VM sizes of one region as Karpenter instance types:
 * what each size is (CPUs, memory, GPUs, architecture, the name parsed as
 * the Azure provider parses it, disk and network capabilities), where and at
 * what price it can be had (offerings: zone x capacity type), the labels it
 * satisfies, and its capacity and allocatable resources under AKS's
 * reservation rules.
 *
 * The data comes from a catalog file (data/catalog.tsv, format in
 * nap-catalog(5)) built by data/gen/gen-catalog.  Sizes the Azure provider
 * never offers (reference section 3.2) are not instance types; their
 * exclusion reasons can be asked for with nap_catalog_excluded.
 *
 * Ownership: nap_catalog_load returns a catalog the caller frees with
 * nap_catalog_free; every string and array reachable from it (type names,
 * labels, offerings) belongs to the catalog and lives as long as it does.
 * The catalog is never modified after loading except for the offerings'
 * "available" flags, which the caller may flip (e.g. after an
 * OfferingUnavailable record).
 *
 * Errors: nap_catalog_load and nap_catalog_regions return 0 / NULL on
 * failure and fill err: NAP_EX_CONFIG for a region the catalog does not know
 * or a catalog file that cannot be opened, NAP_EX_DATAERR for a malformed
 * catalog or spot-price file (the message names file and line).  The other
 * functions cannot fail.
 */
#ifndef NAP_CATALOG_H
#define NAP_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "nap.h"
#include "labels.h"
#include "resources.h"

/* Azure regions have at most this many availability zones (1..4). */
#define NAP_CATALOG_MAX_ZONES 4

/* Price of an offering of a size missing from known_skus (provider's MissingPrice). */
#define NAP_CATALOG_MISSING_PRICE 999.0

/* Hyper-V generation bits of nap_itype.hyperv. */
enum {
	NAP_HYPERV_V1 = 1,
	NAP_HYPERV_V2 = 2,
};

/* Operating systems a GPU size supports (nap_itype.gpu_os). */
enum {
	NAP_GPU_OS_UBUNTU = 1,
	NAP_GPU_OS_AZURELINUX = 2, /* Azure Linux 2 */
	NAP_GPU_OS_AZURELINUX3 = 4,
	NAP_GPU_OS_WINDOWS = 8,
};

struct nap_offering {
	int zone;		   /* 0 regional, else 1..NAP_CATALOG_MAX_ZONES */
	int spot;		   /* 1 spot, 0 on-demand */
	double price;		   /* USD per hour */
	int available;		   /* 1 after loading; callers may clear it */
	const char *zone_label;	   /* "<region>-<n>", or "0" for regional */
	const char *capacity_type; /* "spot" or "on-demand" */
};

/*
 * Tri-state capabilities are 1 (yes), 0 (no) or -1 (the data does not say).
 * caps_known says whether disk, network and Hyper-V facts come from the
 * Resource SKUs data (1) or are inferred from the size name (0; see
 * nap-catalog(5) for the inference rules).
 */
struct nap_itype {
	const char *name; /* "Standard_D4s_v5" */
	int vcpus;
	int64_t memory_mib;	      /* MemoryGB x 1024, not truncated */
	int gpus;		      /* GPUs capability */
	const char *gpu_name;	      /* accelerator in the name ("A100"), or "" */
	const char *gpu_manufacturer; /* "nvidia", "amd", or "" when not a registry GPU */
	unsigned gpu_os;	      /* NAP_GPU_OS_* bits, 0 when not a GPU */
	const char *arch;	      /* "amd64" or "arm64" */
	const char *family;	      /* sku-family: "D", "N" */
	const char *series;	      /* sku-series: "Ds_v5", "NCads_v4" */
	const char *version;	      /* sku-version: "5" ("1" when none) */
	const char *quota_family;     /* "standardDSv5Family" */
	unsigned hyperv;	      /* NAP_HYPERV_* bits */
	int caps_known;
	int premium_io;
	int accel_net;
	int ephemeral_os_max_gb;	 /* 0: no ephemeral OS disk */
	const char *ephemeral_placement; /* "NvmeDisk", "CacheDisk", "ResourceDisk", "" */
	int spot_capable;		 /* tri-state */
	int encryption_at_host;		 /* tri-state */
	int trusted_launch_disabled;	 /* tri-state */
	int known;			 /* listed in the provider's known_skus */
	double on_demand_price;		 /* USD/h from the data; offerings may say 999 */
	double spot_price;		 /* USD/h, or -1 when there is no spot offering */
	struct nap_offering *off;	 /* on-demand zonal, on-demand regional, then spot */
	size_t noff;
};

struct nap_catalog {
	char *region;
	struct nap_itype *types; /* sorted by name */
	size_t ntypes;
	int zones[NAP_CATALOG_MAX_ZONES]; /* the region's zones, ascending */
	size_t nzones;
	char *path; /* the catalog file read */
	struct nap_catalog_priv *priv;
};

/*
 * Load the instance types of region from path: a catalog file, or a
 * directory holding catalog.tsv; NULL means the first that exists of
 * <exe dir>/../share/nap/catalog.tsv (an install under any PREFIX),
 * <exe dir>/../data/catalog.tsv (the source tree), NAP_DATADIR/catalog.tsv,
 * ./data/catalog.tsv.  spot_prices_file (may be NULL) is JSON
 * {"<region>": {"Standard_X": 0.0123, ...}, ...}: its prices for region add
 * spot offerings or replace the catalog's spot prices (sizes the Resource
 * SKUs data marks as not LowPriorityCapable stay without spot; names the
 * region does not offer are ignored).
 */
int nap_catalog_load(struct nap_catalog **out, const char *path, const char *region,
    const char *spot_prices_file, struct nap_err *err);
void nap_catalog_free(struct nap_catalog *c);

/*
 * The one way a tool loads its catalog: nap_catalog_load with the caller's
 * flags first, then the configuration (cfg may be NULL): path, else cfg's
 * catalog; region, else cfg's cluster.region; spot_prices, else cfg's
 * spotPrices (NULL or "" means not given).  So every tool prices the same
 * sizes the same way.  No region anywhere: NAP_EX_CONFIG.
 */
struct nap_config;
int nap_catalog_load_config(struct nap_catalog **out, const struct nap_config *cfg,
    const char *path, const char *region, const char *spot_prices, struct nap_err *err);

/* The instance type called name, or NULL (not offered there, or excluded). */
const struct nap_itype *nap_catalog_find(const struct nap_catalog *c, const char *name);
/*
 * Why name is not an instance type of c: the provider's exclusion reasons
 * ("ConstrainedCPUs", "LessThan2vCPUs,LessThan3.5GiBMemory", ...), or for
 * this region only "LocationRestriction", "ZeroPriceInData" or
 * "NoPriceInRegion"; "UnknownVMSize" when the catalog has never heard of
 * it; NULL when it is an instance type.
 */
const char *nap_catalog_excluded(const struct nap_catalog *c, const char *name);

/*
 * The regions a catalog (same path rules as nap_catalog_load) has prices
 * for, sorted; *n gets their number.  Free with nap_catalog_regions_free.
 */
char **nap_catalog_regions(const char *path, size_t *n, struct nap_err *err);
void nap_catalog_regions_free(char **regions, size_t n);

/*
 * The instance type's labels as Karpenter requirements, added to out (which
 * must be initialised): every karpenter.azure.com/sku-* label,
 * kubernetes.azure.com/sku-cpu and sku-memory, node.kubernetes.io/instance-type,
 * kubernetes.io/arch, kubernetes.io/os, topology.kubernetes.io/region, and
 * from the offerings the sets of topology.kubernetes.io/zone,
 * karpenter.sh/capacity-type, karpenter.azure.com/placement-scope and
 * kubernetes.azure.com/scalesetpriority (and priority).  Only available
 * offerings count.  The labels only some sizes carry (sku-gpu-name,
 * sku-gpu-manufacturer, sku-storage-ephemeralos-maxsize) are DoesNotExist
 * on the others, as in the provider, so Exists or In on them excludes those.
 */
void nap_itype_reqs(const struct nap_itype *it, const struct nap_catalog *c, struct nap_reqs *out);
/*
 * The same, with avail (one flag per offering of it; NULL = the offerings'
 * own available flags) saying which offerings count: a caller that knows
 * more than the catalog (an OfferingUnavailable) need not write into it.
 */
void nap_itype_reqs_avail(const struct nap_itype *it, const struct nap_catalog *c, const int *avail,
    struct nap_reqs *out);

/*
 * What an AKSNodeClass changes about an instance type.  All-zero means the
 * defaults: maxPods 250 (Azure CNI overlay, the AKS NAP default), a 128 GB
 * OS disk, no GPU OS check, gpu.mode Driver, no security or LocalDNS.
 */
struct nap_itype_opts {
	int max_pods;	   /* 0 = 250 */
	int os_disk_gb;	   /* 0 = 128 */
	unsigned gpu_os;   /* NAP_GPU_OS_* bit of the resolved image family; 0 = any */
	int gpu_mode_none; /* gpu.mode None: AMD GPUs allowed, no driver install */
	int encryption_at_host;
	int trusted_launch;
	int localdns;		/* LocalDNS enabled */
	int artifact_streaming; /* explicitly enabled */
};

/*
 * The options of an AKSNodeClass: its osDiskSizeGB, maxPods (defaulted for
 * the cluster's network plugin and mode, NULL = Azure CNI overlay), the GPU
 * OS of the image family it resolves to for k8s_version (NULL = its status
 * version), gpu.mode, security, LocalDNS (Preferred and Required enable it)
 * and artifact streaming.
 */
struct nap_nodeclass;
void nap_itype_opts_from_nodeclass(struct nap_itype_opts *o, const struct nap_nodeclass *nc,
    const char *k8s_version, const char *plugin, const char *mode);

/*
 * Capacity as the provider computes it: cpu = vCPUs; memory = floor(MemoryGB)
 * GiB minus 7.5 % (rounded up) VM overhead; ephemeral-storage = OS disk
 * size x 10^9; pods = maxPods; nvidia.com/gpu or amd.com/gpu = GPUs for
 * registry GPUs.
 */
void nap_itype_capacity(
    const struct nap_itype *it, const struct nap_itype_opts *o, struct nap_res *out);
/* Kube-reserved CPU (milli-cores) and memory (MiB) by the AKS tables. */
int64_t nap_itype_kube_reserved_cpu(int vcpus);
int64_t nap_itype_kube_reserved_mib(int64_t memory_mib);
/* Hard eviction threshold memory.available, bytes (750Mi). */
#define NAP_EVICTION_HARD_BYTES (750LL * 1024 * 1024)
/*
 * The data disks a size can attach (its maxDataDiskCount, the Azure disk
 * CSI driver's attach limit) when nap knows it, else 0: the size's own
 * Resource SKUs record, else its series' rule by vCPU count (the parent's
 * for a constrained size) from Microsoft's size pages (catalog-disks.c
 * names each page).  nap_size_max_data_disks takes the name, sku-series
 * label ("Ds_v5") and vCPUs of a size the catalog does not hold.
 */
int nap_itype_max_data_disks(const struct nap_itype *it);
int nap_size_max_data_disks(const char *name, const char *series, int vcpus);
/*
 * capacity - kube-reserved - system-reserved (0) - eviction threshold;
 * components that would go negative are 0.
 */
void nap_itype_allocatable(
    const struct nap_itype *it, const struct nap_itype_opts *o, struct nap_res *out);
/*
 * NULL when a node class with options o can use the type, else why not
 * (a constant string), applying the per-NodeClass filters of reference
 * section 3.2 (GPU OS and driver mode, encryption at host, Trusted Launch,
 * LocalDNS, artifact streaming).  Unknown capabilities count as supported.
 */
const char *nap_itype_unusable(const struct nap_itype *it, const struct nap_itype_opts *o);
/* 1 when the OS disk of o fits the type's ephemeral OS disk (reference 3.4). */
int nap_itype_ephemeral_os(const struct nap_itype *it, const struct nap_itype_opts *o);
/*
 * Offerings reported unavailable (OfferingUnavailable records, from
 * nap-launch: nap-records(5)), each until a time.  A deciding tool keeps a
 * set and hands it to the simulation (simulate.h), which leaves those
 * offerings out without writing into the catalog.  Zero-initialise; free
 * with nap_unavail_free.
 */
struct nap_unavail {
	char *itype, *zone, *ctype; /* zone or ctype NULL: every one */
	int64_t until_ms;	    /* epoch ms; 0 = for ever */
};
struct nap_unavail_set {
	struct nap_unavail *v;
	size_t n, alloc;
};
/*
 * Add one OfferingUnavailable record ({"instanceType", "zone",
 * "capacityType", "until"}); -1 with NAP_EX_DATAERR when it has no
 * instanceType or a bad until, the set unchanged.  A record for an
 * offering already in the set (same size, zone and capacity type) updates
 * that entry to the later until, so the set never holds an offering twice.
 */
struct json_object;
int nap_unavail_add_record(struct nap_unavail_set *s, struct json_object *rec, struct nap_err *err);
/*
 * 1 when an entry covers the offering of it at now_ms (epoch ms); with
 * now_ms 0 (no clock: a snapshot) every entry holds, whatever its until.
 */
int nap_unavail_has(const struct nap_unavail_set *s, const struct nap_itype *it,
    const struct nap_offering *o, int64_t now_ms);
void nap_unavail_free(struct nap_unavail_set *s);

/* The cheapest available offering, or NULL when none is available. */
const struct nap_offering *nap_itype_cheapest(const struct nap_itype *it);

#endif
