# sizes-from-arm.jq - Resource SKUs records (the output of skus-from-arm.jq,
# one or several regions slurped: jq -s) to the size table gen-catalog reads
# as azure-vm-sizes.json: vCPUs, memory, GPUs, architecture, quota family,
# and the name parsed by Microsoft's naming convention
# ([Family][# vCPUs][-constrained][features][_accelerator][_version]).
#
#   jq -s -f data/gen/sizes-from-arm.jq azure-skus-*.json > azure-vm-sizes.json
[.[][] | select(.name | startswith("Standard_"))]
| unique_by(.name)
| map(. as $s
	| ($s.name | capture("^Standard_(?<fam>[A-Z]+)(?<n>[0-9]+)(-(?<con>[0-9]+))?(?<feat>[a-z]*)(?<rest>(_.*)?)$")
	   // null) as $m
	| select($m != null)
	| ($m.rest | ltrimstr("_") | if . == "" then [] else split("_") end) as $t
	| {name: $s.name, vcpus: $s.vCPUs,
	   constrainedVcpus: (if $m.con then ($m.con | tonumber) else null end),
	   memoryMiB: ($s.memoryGiB * 1024 | floor),
	   gpus: ($s.gpuCount // 0),
	   family: $m.fam,
	   version: ([$t[] | select(test("^v[0-9]+$"))] | last),
	   features: $m.feat,
	   accelerator: ([$t[] | select(test("^[A-Z][A-Z0-9]*[0-9][A-Z0-9]*$"))] | first),
	   memoryTiB: ([$t[] | select(test("^[0-9]+$")) | tonumber] | first),
	   confidentialChild: ($t | index("cc") != null),
	   promo: ($t | index("Promo") != null),
	   arch: (if $s.architecture == "Arm64" then "arm64" else "amd64" end),
	   quotaFamily: $s.family})
| sort_by(.name)
