/*
 * model.h - the cluster as plain C structs: Pod, Node, NodeClaim, NodePool,
 * AKSNodeClass, PodDisruptionBudget, DaemonSet, PersistentVolumeClaim,
 * PersistentVolume, StorageClass and Namespace, and a cluster model that
 * watch records (ADDED / MODIFIED / DELETED) keep up to date.
 *
 * JSON stops here: each nap_<kind>_from_json takes a Kubernetes object as the
 * API server sends it (kind and apiVersion may be missing, as in list items)
 * and fills a caller-owned struct, applying the defaults Karpenter and the
 * Azure provider apply when a field is absent (listed at each struct).
 * Deciding code then reads struct fields and never touches json-c, except
 * through the label maps, which stay json objects so that label selectors
 * (labels.h) match them without copying.
 *
 * Ownership: a filled struct owns its strings, arrays, requirement sets and
 * selectors, and holds one reference on the object it was filled from
 * (meta.raw), so tools can read fields the model does not parse, and one on
 * each of its label and annotation maps.  Other json pointers in a struct
 * (template labels, tags) point into raw.  Free with the kind's
 * nap_<kind>_free (safe on a zeroed struct and after a failed fill).  The
 * cluster model owns the structs it stores; pointers it hands out are
 * valid until the next nap_cluster_apply that replaces or deletes that object.
 *
 * Errors: a fill returns 0, or -1 with err (code NAP_EX_DATAERR) naming the
 * object and the field, e.g. `pod default/web-1: container app: requests:
 * cpu: invalid quantity "1x"`; the struct is then freed (zeroed).  Fields a
 * tool does not need and the API server would have validated are read
 * leniently (unknown taint effects, unparseable timestamps become 0); a
 * field nap decides on (quantities, operators, selectors) must parse.
 *
 * Times are seconds since the epoch (UTC), 0 when absent; durations are
 * milliseconds, NAP_NEVER for "Never" / absent-and-unbounded.
 */
#ifndef NAP_MODEL_H
#define NAP_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "hostport.h"
#include "nap.h"
#include "labels.h"
#include "resources.h"
#include "taint.h"

#define NAP_NEVER INT64_C(-1)

/* What every object has. */
struct nap_meta {
	char *ns; /* "" for cluster-scoped objects */
	char *name;
	char *uid; /* "" when absent */
	char *rv;  /* resourceVersion, "" when absent */
	int64_t generation;
	int64_t created;	  /* creationTimestamp */
	int64_t deleted;	  /* deletionTimestamp, 0 = not terminating */
	json_object *labels;	  /* metadata.labels (reference held), NULL when none */
	json_object *annotations; /* metadata.annotations (reference held), NULL when none */
	json_object *raw;	  /* the object (reference held); NULL for pods in a cluster */
};

/* A label or annotation value, or NULL. */
const char *nap_meta_label(const struct nap_meta *m, const char *key);
const char *nap_meta_annotation(const struct nap_meta *m, const char *key);

/* A status condition (conditions[] of any kind). */
struct nap_cond {
	char *type;
	int status;    /* 1 True, 0 False, -1 Unknown */
	char *reason;  /* "" when absent */
	char *message; /* "" when absent */
	int64_t since; /* lastTransitionTime */
	int64_t observed_generation;
};

/* The condition of that type, or NULL. */
const struct nap_cond *nap_cond_find(const struct nap_cond *c, size_t n, const char *type);
/* 1 True, 0 False, -1 Unknown or absent. */
int nap_cond_status(const struct nap_cond *c, size_t n, const char *type);

/* ---- Pod ---- */

enum nap_phase {
	NAP_PHASE_PENDING, /* also when absent */
	NAP_PHASE_RUNNING,
	NAP_PHASE_SUCCEEDED,
	NAP_PHASE_FAILED,
	NAP_PHASE_UNKNOWN,
};

/* The controller owner's kind, as far as nap cares. */
enum nap_owner_kind {
	NAP_OWNER_NONE,
	NAP_OWNER_DAEMONSET, /* apps DaemonSet */
	NAP_OWNER_NODE,	     /* v1 Node: static / mirror pod */
	NAP_OWNER_REPLICASET,
	NAP_OWNER_STATEFULSET,
	NAP_OWNER_JOB,
	NAP_OWNER_OTHER,
};

/* A required (weight 0) or preferred node-affinity term. */
struct nap_node_term {
	int weight; /* 1..100 for preferred terms, 0 for required ones */
	struct nap_reqs reqs;
};

/* A pod (anti-)affinity term. */
struct nap_pod_term {
	int weight; /* 1..100 for preferred terms, 0 for required ones */
	/*
	 * Equal for terms that select the same pods the same way: the term as
	 * written, the pod's namespace and its values for matchLabelKeys and
	 * mismatchLabelKeys.  Pods sharing a term share its topology counts.
	 */
	uint64_t hash;
	char *topology_key;
	/*
	 * labelSelector with matchLabelKeys (In) and mismatchLabelKeys (NotIn)
	 * merged in from the pod's own labels, as the API server does; NULL
	 * when absent (matches no pod).
	 */
	struct nap_selector *selector;
	/*
	 * Namespaces the selector looks in.  Normalised: empty namespaces and
	 * no namespaceSelector become the pod's own namespace.
	 */
	char **namespaces;
	size_t nnamespaces;
	struct nap_selector *ns_selector; /* NULL: absent; {} matches all namespaces */
	char **match_label_keys, **mismatch_label_keys;
	size_t nmatch_label_keys, nmismatch_label_keys;
};

/* A topology spread constraint. */
struct nap_spread {
	uint64_t hash; /* as for nap_pod_term: equal constraints count together */
	int max_skew;
	char *topology_key;
	int do_not_schedule; /* whenUnsatisfiable DoNotSchedule (else ScheduleAnyway) */
	/* labelSelector with matchLabelKeys merged in (In the pod's values); NULL: absent */
	struct nap_selector *selector;
	int min_domains; /* 0 when absent (only meaningful with DoNotSchedule) */
	char **match_label_keys;
	size_t nmatch_label_keys;
	int honor_affinity; /* nodeAffinityPolicy Honor (default) */
	int honor_taints;   /* nodeTaintsPolicy Honor (default Ignore) */
};

struct nap_strpool;

struct nap_pod {
	struct nap_meta meta;
	struct nap_strpool *strings; /* holds the pod's small strings below (internal) */
	char *node_name;	     /* spec.nodeName, "" = not bound */
	char *nominated;	     /* status.nominatedNodeName, "" = none */
	enum nap_phase phase;
	char *scheduled_reason; /* reason of PodScheduled=False, "" otherwise */
	int ready;		/* condition Ready is True */
	enum nap_owner_kind owner;
	char *owner_name; /* controller owner's name, "" when none */
	char *owner_uid;
	int mirror;	       /* kubernetes.io/config.mirror annotation */
	int32_t priority;      /* spec.priority, 0 when absent */
	int preempt_never;     /* preemptionPolicy Never */
	int gated;	       /* spec.schedulingGates non-empty */
	int64_t grace_seconds; /* terminationGracePeriodSeconds, default 30 */
	int64_t started;       /* status.startTime */
	/*
	 * Effective requests (k8s-arm-protocol §4.1): max(sum of app containers
	 * + all sidecars, max over init containers of its request + sidecars
	 * started before it), plus spec.overhead; spec.resources (pod-level)
	 * replaces the container aggregate for what it names.  A container's
	 * limit stands for a missing request, as API admission does.  pods is
	 * always 1.
	 */
	struct nap_res requests;
	char *unknown_resource; /* first requested resource nap does not track, "" if none */
	/*
	 * Equal for pods the scheduler cannot tell apart: namespace, labels,
	 * nodeSelector, affinity, tolerations, topology spread, scheduling gates
	 * and effective requests (volumes excluded: resolve those through the
	 * cluster).  A structural hash, so it needs no JSON kept.
	 */
	uint64_t sched_hash;
	/* sched_hash without the requests: pods that differ only in size */
	uint64_t constraints_hash;
	/*
	 * Required node affinity as OR-terms, each with spec.nodeSelector ANDed
	 * in.  Never empty: with no required affinity there is one term, the
	 * node selector (possibly empty = anything; pods share that empty
	 * term, so treat terms as read-only).  matchFields (only
	 * metadata.name exists) are not modelled, as in Karpenter.
	 */
	struct nap_node_term *node_terms;
	size_t nnode_terms;
	struct nap_node_term *node_prefs; /* preferred, in the pod's order */
	size_t nnode_prefs;
	struct nap_toleration *tolerations;
	size_t ntolerations;
	struct nap_pod_term *affinity, *anti_affinity; /* required then preferred, in order */
	size_t naffinity, nanti_affinity;
	struct nap_spread *spread;
	size_t nspread;
	char **pvcs; /* claim names (incl. generated ephemeral ones), pod's namespace */
	size_t npvcs;
	struct nap_host_port *host_ports;
	size_t nhost_ports;
	char *do_not_disrupt;  /* karpenter.sh/do-not-disrupt annotation (a copy), or NULL */
	int64_t deletion_cost; /* controller.kubernetes.io/pod-deletion-cost, 0 */
};

int nap_pod_from_json(struct nap_pod *p, json_object *obj, struct nap_err *err);
void nap_pod_free(struct nap_pod *p);
/*
 * Karpenter's provisionable predicate (karpenter.md §1.1): PodScheduled
 * reason Unschedulable, not bound, not nominated, not owned by a DaemonSet
 * or a Node.  Terminal (Succeeded/Failed) and terminating pods are also
 * excluded, as k8s-arm-protocol §4.3 advises: they never need a node.
 */
int nap_pod_is_provisionable(const struct nap_pod *p);
/* Succeeded or Failed. */
int nap_pod_is_terminal(const struct nap_pod *p);
/* Pods a drain leaves alone: DaemonSet-owned or mirror/static. */
int nap_pod_is_daemon_or_static(const struct nap_pod *p);
/*
 * karpenter.sh/do-not-disrupt on a pod: "true", or a Go duration counted
 * from the pod's start (Karpenter v1.12+); 1 while it holds at now (epoch
 * seconds).  An invalid value is ignored (0), as Karpenter does.
 */
int nap_pod_do_not_disrupt(const struct nap_pod *p, int64_t now);
/*
 * Karpenter's eviction cost (karpenter.md 4.3): 1 + pod-deletion-cost / 2^27
 * + priority / 2^25, clamped to -10..10.
 */
double nap_pod_eviction_cost(const struct nap_pod *p);

/* ---- Node ---- */

struct nap_node {
	struct nap_meta meta;
	char *provider_id; /* "" when absent */
	struct nap_taint *taints;
	size_t ntaints;
	struct nap_res capacity, allocatable;
	int unschedulable; /* spec.unschedulable (cordoned) */
	int ready;	   /* Ready condition: 1 True, 0 False, -1 Unknown/absent */
	/* From labels, borrowed from meta.labels, NULL when absent: */
	const char *nodepool;	    /* karpenter.sh/nodepool */
	const char *instance_type;  /* node.kubernetes.io/instance-type */
	const char *zone;	    /* topology.kubernetes.io/zone */
	const char *capacity_type;  /* karpenter.sh/capacity-type */
	const char *hostname;	    /* kubernetes.io/hostname */
	char *nodeclaim;	    /* owner reference of kind NodeClaim, "" when none */
	int registered;		    /* label karpenter.sh/registered=true */
	int initialized;	    /* label karpenter.sh/initialized=true */
	const char *do_not_disrupt; /* annotation, borrowed, or NULL */
	char *kubelet_version;	    /* status.nodeInfo.kubeletVersion, "" when absent */
};

int nap_node_from_json(struct nap_node *n, json_object *obj, struct nap_err *err);
void nap_node_free(struct nap_node *n);

/* ---- NodeClaim (karpenter.sh/v1) ---- */

struct nap_class_ref {
	char *group; /* karpenter.azure.com when absent */
	char *kind;  /* AKSNodeClass when absent */
	char *name;
};

struct nap_nodeclaim {
	struct nap_meta meta;
	const char *nodepool; /* label karpenter.sh/nodepool, borrowed, or NULL */
	struct nap_reqs reqs; /* spec.requirements */
	struct nap_taint *taints, *startup_taints;
	size_t ntaints, nstartup_taints;
	struct nap_res requests; /* spec.resources.requests */
	struct nap_class_ref class_ref;
	int64_t expire_after;	   /* ms; default 720h; NAP_NEVER */
	int64_t termination_grace; /* ms; NAP_NEVER when absent (wait forever) */
	/* status */
	char *node_name, *provider_id, *image_id; /* "" when absent */
	struct nap_res capacity, allocatable;
	int64_t last_pod_event;
	struct nap_cond *conds;
	size_t nconds;
	/* Condition shortcuts: 1 when True. */
	int launched, registered, initialized, ready, drifted, consolidatable;
	const char *do_not_disrupt; /* annotation, borrowed, or NULL */
};

int nap_nodeclaim_from_json(struct nap_nodeclaim *c, json_object *obj, struct nap_err *err);
void nap_nodeclaim_free(struct nap_nodeclaim *c);

/* ---- NodePool (karpenter.sh/v1) ---- */

enum nap_consolidation {
	NAP_CONSOLIDATE_WHEN_EMPTY_OR_UNDERUTILIZED, /* default */
	NAP_CONSOLIDATE_WHEN_EMPTY,
	NAP_CONSOLIDATE_BALANCED,
};

/* Budget reasons, a bit set; 0 = all reasons. */
#define NAP_REASON_UNDERUTILIZED 0x1
#define NAP_REASON_EMPTY 0x2
#define NAP_REASON_DRIFTED 0x4

struct nap_budget {
	int64_t nodes; /* a count, or a percentage when percent */
	int percent;
	char *schedule;	  /* cron, NULL = always active */
	int64_t duration; /* ms, with schedule */
	unsigned reasons; /* NAP_REASON_* bits, 0 = all */
};

/*
 * Defaults: weight 0; expireAfter 720h; terminationGracePeriod none
 * (NAP_NEVER); consolidationPolicy WhenEmptyOrUnderutilized; consolidateAfter
 * 0s; budgets [{nodes: "10%"}] (a number for nodes is taken too); limits
 * none (unlimited); v1beta1 manifests' WhenUnderutilized and
 * disruption.expireAfter are read as their v1 equivalents; nodeClassRef
 * group karpenter.azure.com, kind AKSNodeClass and name "default" when
 * missing (AKS NAP installs that one class; its docs often omit the ref).
 */
struct nap_nodepool {
	struct nap_meta meta;
	int weight;
	json_object *tmpl_labels;      /* spec.template.metadata.labels, borrowed, or NULL */
	json_object *tmpl_annotations; /* borrowed, or NULL */
	struct nap_reqs reqs;	       /* spec.template.spec.requirements as written */
	/*
	 * What a node of this pool satisfies: reqs ∩ template labels (as In)
	 * ∩ karpenter.sh/nodepool In [name].
	 */
	struct nap_reqs node_reqs;
	struct nap_taint *taints, *startup_taints;
	size_t ntaints, nstartup_taints;
	struct nap_class_ref class_ref;
	int64_t expire_after;	   /* ms or NAP_NEVER */
	int64_t termination_grace; /* ms or NAP_NEVER */
	enum nap_consolidation policy;
	int64_t consolidate_after; /* ms or NAP_NEVER */
	struct nap_budget *budgets;
	size_t nbudgets;
	struct nap_res limits; /* meaningful where limits_set has bit 1<<kind */
	unsigned limits_set;
	int64_t limit_nodes;	/* limits.nodes, -1 = none */
	char limit_unknown[64]; /* a limited resource nap does not track, "" */
	int64_t replicas;	/* static pool replicas, -1 = dynamic */
	/* status */
	struct nap_res used; /* status.resources */
	int64_t nodes;	     /* status.nodes */
	struct nap_cond *conds;
	size_t nconds;
};

int nap_nodepool_from_json(struct nap_nodepool *p, json_object *obj, struct nap_err *err);
void nap_nodepool_free(struct nap_nodepool *p);

/* ---- AKSNodeClass (karpenter.azure.com/v1beta1, v1alpha2) ---- */

enum nap_image_family {
	NAP_IMAGE_UBUNTU, /* default: 22.04 below k8s 1.34, 24.04 from 1.34 */
	NAP_IMAGE_UBUNTU2204,
	NAP_IMAGE_UBUNTU2404,
	NAP_IMAGE_AZURELINUX, /* AL2 below k8s 1.32, AL3 from 1.32 */
};

const char *nap_image_family_name(enum nap_image_family f);

struct nap_image {
	char *id;
	struct nap_reqs reqs; /* on kubernetes.io/arch, sku-hyperv-generation */
};

/*
 * Defaults (azure-provider.md §1.1): imageFamily Ubuntu; osDiskSizeGB 128;
 * maxPods 0 = the provider default for the cluster's network plugin (see
 * nap_max_pods_default); vnetSubnetID NULL = the cluster's (config file);
 * fipsMode Disabled; kubelet cpuManagerPolicy none, cpuCFSQuota true,
 * topologyManagerPolicy none, containerLogMaxSize 50Mi, containerLogMaxFiles
 * 5, image GC thresholds and podPidsLimit unset (-1); security and
 * artifactStreaming off; gpu.mode Driver (the
 * docs' lowercase "driver" and "none" are accepted too).
 */
struct nap_nodeclass {
	struct nap_meta meta;
	char *subnet_id; /* NULL = the cluster's default subnet */
	int os_disk_gb;
	enum nap_image_family image_family;
	int fips;
	int max_pods;	   /* 0 = provider default */
	json_object *tags; /* borrowed, or NULL */
	struct {
		char *cpu_manager_policy;
		int cpu_cfs_quota;
		char *cpu_cfs_quota_period;
		int image_gc_high, image_gc_low; /* -1 unset */
		char *topology_manager_policy;
		char **allowed_unsafe_sysctls;
		size_t nallowed_unsafe_sysctls;
		char *container_log_max_size;
		int container_log_max_files;
		int64_t pod_pids_limit; /* -1 unset */
	} kubelet;
	int encryption_at_host;
	int trusted_launch; /* security.trustedLaunch vtpm or secureBoot */
	int gpu_driver;	    /* gpu.mode Driver (default) */
	int artifact_streaming;
	char *localdns_mode; /* "" unset (= Disabled) */
	/* status */
	struct nap_image *images;
	size_t nimages;
	char *kubernetes_version; /* "" when not yet known */
	struct nap_cond *conds;
	size_t nconds;
	int ready; /* condition Ready True */
};

int nap_nodeclass_from_json(struct nap_nodeclass *c, json_object *obj, struct nap_err *err);
void nap_nodeclass_free(struct nap_nodeclass *c);
/*
 * The image family a node will run ("Ubuntu2204", "Ubuntu2404",
 * "AzureLinux", "AzureLinux3") for a Kubernetes version "1.33.2" (leading v
 * allowed; NULL or unparseable = the class's status version, else the
 * older choice).
 */
const char *nap_nodeclass_resolved_family(const struct nap_nodeclass *c, const char *k8s_version);
/*
 * The provider's maxPods default by network plugin (azure-provider.md §3.5):
 * azure + overlay 250, azure without mode 30, none 250, anything else 110.
 * NULL plugin means the AKS NAP default, Azure CNI overlay.
 */
int nap_max_pods_default(const char *plugin, const char *mode);
/* The class's maxPods, else the default for the plugin. */
int nap_nodeclass_max_pods(const struct nap_nodeclass *c, const char *plugin, const char *mode);

/* ---- PodDisruptionBudget (policy/v1) ---- */

struct nap_pdb {
	struct nap_meta meta;
	struct nap_selector *selector; /* NULL: absent, matches no pod */
	int has_min_available, has_max_unavailable;
	int64_t value; /* of the one that is set */
	int percent;
	int always_allow; /* unhealthyPodEvictionPolicy AlwaysAllow */
	/* status */
	int64_t disruptions_allowed, current_healthy, desired_healthy, expected_pods;
	int64_t observed_generation;
};

int nap_pdb_from_json(struct nap_pdb *b, json_object *obj, struct nap_err *err);
void nap_pdb_free(struct nap_pdb *b);
/* 1 when the PDB selects the pod (same namespace, selector matches). */
int nap_pdb_selects(const struct nap_pdb *b, const struct nap_pod *p);

/* ---- DaemonSet (apps/v1) ---- */

struct nap_daemonset {
	struct nap_meta meta;
	/*
	 * spec.template as a pod in the DaemonSet's namespace, named after it:
	 * its requests are the per-node overhead, its node terms and tolerations
	 * say which nodes it lands on.  tmpl.meta.raw is NULL (the template is
	 * part of meta.raw).
	 */
	struct nap_pod tmpl;
};

int nap_daemonset_from_json(struct nap_daemonset *d, json_object *obj, struct nap_err *err);
void nap_daemonset_free(struct nap_daemonset *d);

/* ---- Volumes ---- */

struct nap_pvc {
	struct nap_meta meta;
	char *volume_name;   /* spec.volumeName, "" = unbound */
	char *storage_class; /* "" = default class */
	int64_t storage;     /* requests.storage, bytes */
	char *phase;	     /* "" when absent */
};

struct nap_pv {
	struct nap_meta meta;
	/* nodeAffinity.required terms, OR-ed; none = the volume reaches any node. */
	struct nap_reqs *terms;
	size_t nterms;
	char *claim_ns, *claim_name; /* claimRef, "" when unbound */
	char *storage_class;
	int local; /* local or hostPath volume */
};

struct nap_storageclass {
	struct nap_meta meta;
	char *provisioner;
	int is_default;		/* storageclass.kubernetes.io/is-default-class */
	int wait_for_consumer;	/* volumeBindingMode WaitForFirstConsumer */
	struct nap_reqs *terms; /* allowedTopologies, OR-ed */
	size_t nterms;
};

struct nap_namespace {
	struct nap_meta meta;
};

int nap_pvc_from_json(struct nap_pvc *v, json_object *obj, struct nap_err *err);
void nap_pvc_free(struct nap_pvc *v);
int nap_pv_from_json(struct nap_pv *v, json_object *obj, struct nap_err *err);
void nap_pv_free(struct nap_pv *v);
int nap_storageclass_from_json(struct nap_storageclass *s, json_object *obj, struct nap_err *err);
void nap_storageclass_free(struct nap_storageclass *s);
int nap_namespace_from_json(struct nap_namespace *n, json_object *obj, struct nap_err *err);
void nap_namespace_free(struct nap_namespace *n);

/* ---- CSINode (model-csinode.c) ---- */

struct nap_csi_limit {
	char *driver;  /* spec.drivers[].name */
	int64_t count; /* allocatable.count, -1 when absent (no limit) */
};

/* A node's CSI drivers; named after its Node. */
struct nap_csinode {
	struct nap_meta meta;
	struct nap_csi_limit *drivers;
	size_t ndrivers;
};

int nap_csinode_from_json(struct nap_csinode *n, json_object *obj, struct nap_err *err);
void nap_csinode_free(struct nap_csinode *n);
/* How many volumes of driver the node can attach; -1 no limit (or n NULL). */
int64_t nap_csinode_limit(const struct nap_csinode *n, const char *driver);
/* The CSI driver of an in-tree plugin ("kubernetes.io/azure-disk"), else provisioner itself. */
const char *nap_csi_driver_name(const char *provisioner);
/* A PersistentVolume's CSI driver: spec.csi.driver or its in-tree source's; "" none (NFS ...). */
const char *nap_pv_csi_driver(const struct nap_pv *v);

/* ---- Helpers ---- */

/* RFC 3339 ("2024-01-02T03:04:05Z", fractions and offsets allowed) to epoch seconds. */
int nap_time_parse(const char *s, int64_t *out);
/* A taint as the API writes it: {key, value (when not empty), effect}; a new object. */
json_object *nap_taint_json(const struct nap_taint *t);
/* Go duration ("720h", "1h30m", "10s", "300ms"), or "Never" → NAP_NEVER; ms. */
int nap_model_duration(const char *s, int64_t *ms, struct nap_err *err);

/* ---- The cluster model ---- */

enum nap_kind {
	NAP_KIND_POD,
	NAP_KIND_NODE,
	NAP_KIND_NODECLAIM,
	NAP_KIND_NODEPOOL,
	NAP_KIND_NODECLASS,
	NAP_KIND_PDB,
	NAP_KIND_DAEMONSET,
	NAP_KIND_PVC,
	NAP_KIND_PV,
	NAP_KIND_STORAGECLASS,
	NAP_KIND_NAMESPACE,
	NAP_KIND_CSINODE,
	NAP_KIND_N
};

/* The kind for a Kubernetes kind name ("Pod", "AKSNodeClass", ...), or -1. */
int nap_kind_lookup(const char *kind);
/* "Pod", "Node", ... */
const char *nap_kind_name(enum nap_kind k);
/* Lowercase word used in messages: "pod", "nodepool", "aksnodeclass", ... */
const char *nap_kind_word(enum nap_kind k);

struct nap_cluster;

struct nap_cluster *nap_cluster_new(void);
void nap_cluster_free(struct nap_cluster *c);
/*
 * Pods are most of a cluster and a json-c tree costs about ten times the
 * text it came from.  With keep = 0 the model keeps of a pod only its struct
 * and its labels (pods with equal labels share one map): meta.raw and
 * meta.annotations are NULL, the annotations nap reads being parsed into
 * fields.  Measured on 50,000 API-server-shaped pods: about 55 MB with
 * keep = 0, about 1.3 GB with keep = 1 (json-c spends some 25 KB per pod).
 * The default, keep = 1, keeps them for tools that read other pod fields;
 * grouping pods or terms needs no JSON: use sched_hash and the terms' hash.
 * Every other kind always keeps its raw object.  Affects pods applied
 * afterwards.
 */
void nap_cluster_keep_pod_json(struct nap_cluster *c, int keep);
/*
 * The same for nodes: with keep = 0 a node keeps its struct and its labels
 * (meta.raw and meta.annotations NULL); a node's JSON is some 5 KB in
 * json-c, 10 MB at 2,000 nodes.  Default 1.  Affects nodes applied afterwards.
 */
void nap_cluster_keep_node_json(struct nap_cluster *c, int keep);

/*
 * Apply one watch event.  type is ADDED, MODIFIED or DELETED; object the
 * Kubernetes object (its "kind" must be set).  Objects are keyed by kind and
 * namespace/name.  MODIFIED of an unknown object adds it, ADDED of a known
 * one replaces it, DELETED of an unknown one is fine.  A DELETED whose
 * metadata.uid is set and is not the stored object's is a tombstone of an
 * earlier object of that name (deleted and recreated, a relist's late
 * deletion): the live object stays.  Returns 0 when the model took the
 * event, 1 when it did nothing (a kind the model does not keep, or such a
 * stale DELETED), -1 when the event type is unknown or the object is
 * malformed: err names the object and the model is unchanged.  An object
 * whose non-empty resourceVersion equals the stored one's is taken as
 * unchanged and not parsed again (relists and replayed snapshots).
 * The model takes its own reference on object.
 */
int nap_cluster_apply(
    struct nap_cluster *c, const char *type, json_object *object, struct nap_err *err);
/* Apply a whole record {"type":..., "object":...}; same returns. */
int nap_cluster_apply_record(struct nap_cluster *c, json_object *rec, struct nap_err *err);

/*
 * A counter bumped by every change to kind k: a tool can cache what it
 * derives from a kind (NodePool compatibility, DaemonSet overhead) and
 * recompute only when it moves.
 */
uint64_t nap_cluster_version(const struct nap_cluster *c, enum nap_kind k);
size_t nap_cluster_count(const struct nap_cluster *c, enum nap_kind k);

/*
 * Every object of kind k, as an array of pointers to the kind's struct.
 * The order is the order of arrival, except that a deletion moves the last
 * object into the freed place; it is deterministic for a given sequence of
 * events.  Valid until the next apply.
 */
void *const *nap_cluster_list(const struct nap_cluster *c, enum nap_kind k, size_t *n);
/* Lookup by namespace and name (ns ignored for cluster-scoped kinds); NULL if absent. */
void *nap_cluster_get(
    const struct nap_cluster *c, enum nap_kind k, const char *ns, const char *name);

/* Typed shorthands. */
struct nap_pod *const *nap_cluster_pods(const struct nap_cluster *c, size_t *n);
struct nap_node *const *nap_cluster_nodes(const struct nap_cluster *c, size_t *n);
struct nap_nodeclaim *const *nap_cluster_nodeclaims(const struct nap_cluster *c, size_t *n);
struct nap_nodepool *const *nap_cluster_nodepools(const struct nap_cluster *c, size_t *n);
struct nap_nodeclass *const *nap_cluster_nodeclasses(const struct nap_cluster *c, size_t *n);
struct nap_pdb *const *nap_cluster_pdbs(const struct nap_cluster *c, size_t *n);
struct nap_daemonset *const *nap_cluster_daemonsets(const struct nap_cluster *c, size_t *n);

struct nap_pod *nap_cluster_pod(const struct nap_cluster *c, const char *ns, const char *name);
struct nap_node *nap_cluster_node(const struct nap_cluster *c, const char *name);
struct nap_nodeclaim *nap_cluster_nodeclaim(const struct nap_cluster *c, const char *name);
struct nap_nodepool *nap_cluster_nodepool(const struct nap_cluster *c, const char *name);
struct nap_nodeclass *nap_cluster_nodeclass(const struct nap_cluster *c, const char *name);

/*
 * Pods whose spec.nodeName is node (whether or not that Node object is
 * known yet), terminal ones included; NULL with *n = 0 when none.
 */
struct nap_pod *const *nap_cluster_pods_on_node(
    const struct nap_cluster *c, const char *node, size_t *n);
/*
 * The requests of the non-terminal pods bound to node, summed (pods counts
 * them), kept up to date incrementally; all zero when none.
 */
const struct nap_res *nap_cluster_node_requests(const struct nap_cluster *c, const char *node);
/* NodeClaim for a Node: by the node's owner reference, else by providerID, else by status.nodeName. */
struct nap_nodeclaim *nap_cluster_nodeclaim_of(
    const struct nap_cluster *c, const struct nap_node *node);
/*
 * The CSI driver through which claim c attaches a volume: its bound
 * PersistentVolume's, else its StorageClass's provisioner (in-tree names as
 * their CSI twins), as Karpenter counts volumes; NULL when neither says
 * (no class name, NFS and other sources without a driver).
 */
const char *nap_pvc_attach_driver(const struct nap_cluster *cl, const struct nap_pvc *c);
/* Node for a NodeClaim: by status.nodeName, else by providerID; NULL when not registered. */
struct nap_node *nap_cluster_node_of(
    const struct nap_cluster *c, const struct nap_nodeclaim *claim);

#endif
