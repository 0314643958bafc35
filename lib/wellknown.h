/*
 * wellknown.h - the label, annotation, taint and finalizer keys nap shares
 * with Kubernetes, Karpenter and the AKS provider, spelled once
 * (karpenter.md §2.3, azure-provider.md §1).
 *
 * Every file that names one of these keys uses the constant: a typo then
 * fails to compile instead of silently matching nothing.  Only keys; values
 * that are part of a protocol (capacity types, taint effects) stay next to
 * the code that decides on them.
 */
#ifndef NAP_WELLKNOWN_H
#define NAP_WELLKNOWN_H

/* ---- Kubernetes well-known labels ---- */
#define NAP_LABEL_INSTANCE_TYPE "node.kubernetes.io/instance-type"
#define NAP_LABEL_INSTANCE_TYPE_BETA "beta.kubernetes.io/instance-type"
#define NAP_LABEL_ZONE "topology.kubernetes.io/zone"
#define NAP_LABEL_ZONE_BETA "failure-domain.beta.kubernetes.io/zone"
#define NAP_LABEL_REGION "topology.kubernetes.io/region"
#define NAP_LABEL_REGION_BETA "failure-domain.beta.kubernetes.io/region"
#define NAP_LABEL_ARCH "kubernetes.io/arch"
#define NAP_LABEL_ARCH_BETA "beta.kubernetes.io/arch"
#define NAP_LABEL_OS "kubernetes.io/os"
#define NAP_LABEL_OS_BETA "beta.kubernetes.io/os"
#define NAP_LABEL_HOSTNAME "kubernetes.io/hostname"
#define NAP_LABEL_WINDOWS_BUILD "node.kubernetes.io/windows-build"
#define NAP_LABEL_NS_NAME "kubernetes.io/metadata.name"
#define NAP_LABEL_EXCLUDE_LB "node.kubernetes.io/exclude-from-external-load-balancers"
#define NAP_ANN_DEFAULT_STORAGECLASS "storageclass.kubernetes.io/is-default-class"

/* ---- Karpenter (karpenter.sh) ---- */
#define NAP_LABEL_NODEPOOL "karpenter.sh/nodepool"
#define NAP_LABEL_CAPACITY_TYPE "karpenter.sh/capacity-type"
#define NAP_LABEL_REGISTERED "karpenter.sh/registered"
#define NAP_LABEL_INITIALIZED "karpenter.sh/initialized"
#define NAP_LABEL_DO_NOT_SYNC_TAINTS "karpenter.sh/do-not-sync-taints"

#define NAP_ANN_DO_NOT_DISRUPT "karpenter.sh/do-not-disrupt"
#define NAP_ANN_NODEPOOL_HASH "karpenter.sh/nodepool-hash"
#define NAP_ANN_NODEPOOL_HASH_VERSION "karpenter.sh/nodepool-hash-version"
#define NAP_ANN_TERMINATION_TIMESTAMP "karpenter.sh/nodeclaim-termination-timestamp"
#define NAP_ANN_MIN_VALUES_RELAXED "karpenter.sh/nodeclaim-min-values-relaxed"

#define NAP_TAINT_DISRUPTED "karpenter.sh/disrupted"
#define NAP_TAINT_UNREGISTERED "karpenter.sh/unregistered"

#define NAP_FINALIZER_TERMINATION "karpenter.sh/termination"

/* ---- AKS provider (karpenter.azure.com, kubernetes.azure.com) ---- */
#define NAP_LABEL_AKSNODECLASS "karpenter.azure.com/aksnodeclass"
#define NAP_ANN_NODECLASS_HASH "karpenter.azure.com/aksnodeclass-hash"
#define NAP_ANN_NODECLASS_HASH_VERSION "karpenter.azure.com/aksnodeclass-hash-version"
#define NAP_LABEL_SKU_NAME "karpenter.azure.com/sku-name"
#define NAP_LABEL_SKU_FAMILY "karpenter.azure.com/sku-family"
#define NAP_LABEL_SKU_SERIES "karpenter.azure.com/sku-series"
#define NAP_LABEL_SKU_VERSION "karpenter.azure.com/sku-version"
#define NAP_LABEL_SKU_CPU "karpenter.azure.com/sku-cpu"
#define NAP_LABEL_SKU_MEMORY "karpenter.azure.com/sku-memory"
#define NAP_LABEL_SKU_GPU_NAME "karpenter.azure.com/sku-gpu-name"
#define NAP_LABEL_SKU_GPU_MANUFACTURER "karpenter.azure.com/sku-gpu-manufacturer"
#define NAP_LABEL_SKU_GPU_COUNT "karpenter.azure.com/sku-gpu-count"
#define NAP_LABEL_SKU_HYPERV_GENERATION "karpenter.azure.com/sku-hyperv-generation"
#define NAP_LABEL_SKU_ACCELERATED_NETWORKING "karpenter.azure.com/sku-networking-accelerated"
#define NAP_LABEL_SKU_PREMIUM_STORAGE "karpenter.azure.com/sku-storage-premium-capable"
#define NAP_LABEL_SKU_ULTRA_SSD "karpenter.azure.com/sku-storage-ultra-ssd"
#define NAP_LABEL_SKU_EPHEMERAL_OS_MAX "karpenter.azure.com/sku-storage-ephemeralos-maxsize"
#define NAP_LABEL_PLACEMENT_SCOPE "karpenter.azure.com/placement-scope"
#define NAP_LABEL_AZURE_CLUSTER "kubernetes.azure.com/cluster"
#define NAP_LABEL_AZURE_MODE "kubernetes.azure.com/mode"
#define NAP_LABEL_AZURE_ROLE "kubernetes.azure.com/role"
#define NAP_LABEL_SCALESET_PRIORITY "kubernetes.azure.com/scalesetpriority"
#define NAP_LABEL_AZURE_SKU_CPU "kubernetes.azure.com/sku-cpu"
#define NAP_LABEL_AZURE_SKU_MEMORY "kubernetes.azure.com/sku-memory"
#define NAP_LABEL_AZURE_PRIORITY "kubernetes.azure.com/priority"
#define NAP_LABEL_OS_SKU "kubernetes.azure.com/os-sku"
#define NAP_LABEL_FIPS "kubernetes.azure.com/fips_enabled"

/* ---- Node taints the node lifecycle controller and kubelet set ---- */
#define NAP_TAINT_NOT_READY "node.kubernetes.io/not-ready"
#define NAP_TAINT_UNREACHABLE "node.kubernetes.io/unreachable"
#define NAP_TAINT_UNSCHEDULABLE "node.kubernetes.io/unschedulable"
#define NAP_TAINT_CLOUD_UNINITIALIZED "node.cloudprovider.kubernetes.io/uninitialized"
#define NAP_TAINT_MEMORY_PRESSURE "node.kubernetes.io/memory-pressure"
#define NAP_TAINT_DISK_PRESSURE "node.kubernetes.io/disk-pressure"
#define NAP_TAINT_PID_PRESSURE "node.kubernetes.io/pid-pressure"
/* Any taint key with this prefix is a readiness gate (ephemeral). */
#define NAP_TAINT_READINESS_PREFIX "readiness.k8s.io/"

/* ---- Pods ---- */
#define NAP_ANN_MIRROR_POD "kubernetes.io/config.mirror"
#define NAP_ANN_POD_DELETION_COST "controller.kubernetes.io/pod-deletion-cost"

#endif
