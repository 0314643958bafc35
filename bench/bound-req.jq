# bench/bound-req.jq - the pods nap-solve put on new nodes, one line each, for
# bench/config-bound.c: CPU (millicores), memory (bytes) and the group of a pod
# that can share a node with no other pod of its group, "-" for none:
#   jq -r -n --rawfile new NEWPODS -f bench/bound-req.jq SNAPSHOT
# NEWPODS lists namespace/name, one a line; SNAPSHOT is nap-watch --once output.
# A group is a namespace and a label selector (matchLabels only) that selects
# the pod itself, from
# - a required pod anti-affinity on kubernetes.io/hostname: no two pods it
#   selects on one node;
# - a topology spread on kubernetes.io/hostname with maxSkew 1 and
#   whenUnsatisfiable DoNotSchedule: a node may take the pod only when
#   count + 1 - min <= 1, and for hostname min is 0 (a new node is a domain
#   with none), so only a node holding none of the pods it selects.
#   Karpenter (topologygroup.go: the hostname domain's minimum is 0) and
#   nap-solve (lib/sched-topo.c domain_ok: gmin 0 when is_host) do this.
# Pods with the same group (namespace and selector) have one of these on it
# and are selected by it, so no two of them share a node.  Terms that may
# select other namespaces or add matchLabelKeys are left out.  A pod with several
# such constraints takes the first: a weaker, still valid, bound.
def cpu: if endswith("m") then .[:-1] | tonumber else tonumber * 1000 end;
def mem: capture("^(?<n>[0-9.]+)(?<u>[A-Za-z]*)$")
	| (.n | tonumber) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9,
	  "Ki": 1024, "Mi": 1048576, "Gi": 1073741824}[.u];
($new | split("\n") | map(select(. != "") | {key: ., value: 1}) | from_entries) as $new
| inputs | .object | select(.kind == "Pod")
| select($new[.metadata.namespace + "/" + .metadata.name])
| (.metadata.labels // {}) as $own | .metadata.namespace as $ns
| [((.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution // [])[]),
   ((.spec.topologySpreadConstraints // [])[]
    | select((.maxSkew // 1) <= 1
             and (.whenUnsatisfiable // "DoNotSchedule") == "DoNotSchedule"))
   | select(.topologyKey == "kubernetes.io/hostname"
            and ((.labelSelector // {}) | keys) == ["matchLabels"]
            and (.matchLabelKeys // []) == [] and .namespaceSelector == null
            and ((.namespaces // []) - [$ns]) == [])
   | .labelSelector.matchLabels
   | select(to_entries | all($own[.key] == .value))] as $g
| [([.spec.containers[].resources.requests.cpu // "0" | cpu] | add),
   ([.spec.containers[].resources.requests.memory // "0" | mem] | add),
   (if $g == [] then "-"
    else .metadata.namespace + ":" + ($g[0] | tojson | @base64) end)]
| @tsv
