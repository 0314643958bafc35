# skus-from-arm.jq - Resource SKUs API answer (REST {"value":[...]} or the
# array `az vm list-skus --all -o json` prints) to the per-region record
# shape gen-catalog reads as azure-skus-<region>.json: only virtualMachines,
# capabilities as typed fields, zones minus zone restrictions.
#
#   jq -f data/gen/skus-from-arm.jq raw.json > azure-skus-eastus.json
def cap($n): (.capabilities // []) | map(select(.name == $n) | .value) | first;
def yes($n): cap($n) | if . == null then null else ascii_downcase == "true" end;
def int($n): cap($n) | if . == null then null else tonumber end;
def list($n): cap($n) | if . == null or . == "" then [] else split(",") end;

(if type == "object" then .value else . end)
| map(select(.resourceType == "virtualMachines"))
| map(. as $s
	| (($s.locationInfo // [])[0].zones // []) as $zones
	| ([$s.restrictions[]? | select(.type == "Zone") | .restrictionInfo.zones[]?]) as $rz
	| {name, tier, size, family, resourceType,
	   vCPUs: int("vCPUs"), vCPUsAvailable: int("vCPUsAvailable"),
	   memoryGiB: (cap("MemoryGB") | tonumber? // null),
	   architecture: (cap("CpuArchitectureType") // "x64"),
	   gpuCount: (int("GPUs") // 0),
	   hyperVGenerations: list("HyperVGenerations"),
	   lowPriorityCapable: (yes("LowPriorityCapable") // false),
	   acceleratedNetworkingEnabled: yes("AcceleratedNetworkingEnabled"),
	   premiumIO: yes("PremiumIO"),
	   ephemeralOSDiskSupported: yes("EphemeralOSDiskSupported"),
	   supportedEphemeralOSDiskPlacements: list("SupportedEphemeralOSDiskPlacements"),
	   encryptionAtHostSupported: yes("EncryptionAtHostSupported"),
	   trustedLaunchDisabled: yes("TrustedLaunchDisabled"),
	   maxResourceVolumeMB: int("MaxResourceVolumeMB"),
	   cachedDiskBytes: int("CachedDiskBytes"),
	   nvmeDiskSizeInMiB: int("NvmeDiskSizeInMiB"),
	   locations: ($s.locations // []),
	   zones: ($zones | sort),
	   availableZones: (if any($s.restrictions[]?; .type == "Location") then null
		else [$zones[] | select(. as $z | $rz | index($z) | not)] | sort end),
	   restrictions: ($s.restrictions // [])})
| sort_by(.name)
