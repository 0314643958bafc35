#!/usr/bin/env bats
# nap-sim's Azure side driven with curl: the token endpoints, Resource
# Manager (NICs, VMs, SKUs, usages, long-running operations), its error
# bodies, and every fault the control endpoint and --fault switch on.

load helpers/sim

S=/subscriptions/00000000-0000-0000-0000-000000000000
RG=$S/resourceGroups/MC_nap-sim_nap-sim_eastus
VMS=$RG/providers/Microsoft.Compute/virtualMachines
NICS=$RG/providers/Microsoft.Network/networkInterfaces
CV=api-version=2024-07-01
NV=api-version=2024-05-01

start() {
	B=$BATS_TEST_TMPDIR/body H=$BATS_TEST_TMPDIR/headers
	sim_start --catalog "$BATS_TEST_DIRNAME/../data" "$@"
	TOKEN=$(sim_acurl "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F" \
	    -H 'Metadata: true' | jq -r .access_token)
	[ -n "$TOKEN" ] && [ "$TOKEN" != null ]
	SUBNET=$(sed -n 's/^ *subnetID: //p' "$SIM_CONFIG")
}

teardown() {
	sim_stop
}

# arm METHOD PATH [curl args]: prints the HTTP status; body in $B, headers in $H
# (both set by start, since arm usually runs in a command substitution).
arm() {
	local m=$1 p=$2 ct=application/json auth=()
	shift 2
	[ -n "$TOKEN" ] && auth=(-H "Authorization: Bearer $TOKEN")
	[ -n "${CT:-}" ] && ct=$CT
	sim_acurl "$p" -X "$m" -o "$B" -D "$H" -w '%{http_code}' \
	    "${auth[@]}" -H "Content-Type: $ct" "$@"
}

header() {
	sed -n "s/^$1: //Ip" "$H" | tr -d '\r'
}

code() {
	jq -r '.error.code' "$B"
}

nic_put() {
	arm PUT "$NICS/$1?$NV" -d "$(jq -cn --arg s "$SUBNET" --arg n "$1" \
	    '{location:"eastus",properties:{ipConfigurations:[{name:$n,properties:{primary:true,subnet:{id:$s}}}]}}')"
}

# vm_body NAME SIZE ZONE PRIORITY [EVICTION]
vm_body() {
	jq -cn --arg n "$1" --arg size "$2" --arg z "$3" --arg prio "$4" --arg ev "${5:-}" \
	    --arg nic "$NICS/$1" '{location:"eastus",
	      tags:{"karpenter.sh_nodepool":"default"},
	      properties:{hardwareProfile:{vmSize:$size},
	        osProfile:{computerName:$n,adminUsername:"azureuser"},
	        networkProfile:{networkInterfaces:[{id:$nic,properties:{primary:true,deleteOption:"Delete"}}]},
	        priority:$prio}}
	    | if $z != "" then .zones = [$z] else . end
	    | if $ev != "" then .properties.evictionPolicy = $ev | .properties.billingProfile = {maxPrice:-1} else . end'
}

vm_put() {
	nic_put "$1" >/dev/null
	arm PUT "$VMS/$1?$CV" -d "$(vm_body "$@")"
}

vm_state() {
	[ "$(arm GET "$VMS/$1?$CV")" = 200 ] &&
	    [ "$(jq -r .properties.provisioningState "$B")" = "$2" ]
}

op_status() {	# URL STATUS
	[ "$(curl -sS --cacert "$SIM_CA" -H "Authorization: Bearer $TOKEN" "$1" | jq -r .status)" = "$2" ]
}

fault() {
	sim_acurl /nap-sim/faults -X POST -H 'Content-Type: application/json' -d "$1" \
	    -o "$BATS_TEST_TMPDIR/fault" -w '%{http_code}'
}

gone() {
	[ "$(arm GET "$VMS/$1?$CV")" = 404 ]
}

@test "the managed identity endpoint refuses a request without the Metadata header" {
	start
	run sim_acurl "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F" -w ' %{http_code}'
	[[ "$output" == *'"error":"invalid_request"'*' 400' ]]
	run sim_acurl "/metadata/identity/oauth2/token?api-version=2018-02-01" -H 'Metadata: true' -w ' %{http_code}'
	[[ "$output" == *"'resource' is missing"*' 400' ]]
}

@test "the managed identity endpoint issues a bearer token with numbers as strings" {
	start
	run sim_acurl "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F" -H 'Metadata: true'
	echo "$output" | jq -e '.token_type == "Bearer" and (.expires_in|type) == "string"
	    and (.expires_on|tonumber) > now and .resource == "https://management.azure.com/"
	    and (.access_token|split(".")|length) == 3'
}

@test "the Entra token endpoint issues tokens for a client secret and for a federated assertion" {
	start
	tenant=$(sed -n 's/^ *tenantID: //p' "$SIM_CONFIG")
	run sim_acurl "/$tenant/oauth2/v2.0/token" -X POST \
	    -H 'Content-Type: application/x-www-form-urlencoded' \
	    --data "grant_type=client_credentials&client_id=abc&client_secret=$SIM_TOKEN&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
	echo "$output" | jq -e '.token_type == "Bearer" and .expires_in == 3599 and (.access_token|length) > 20'
	tok=$(echo "$output" | jq -r .access_token)
	[ "$(TOKEN=$tok arm GET "$VMS?$CV")" = 200 ]
	run sim_acurl "/$tenant/oauth2/v2.0/token" -X POST \
	    -H 'Content-Type: application/x-www-form-urlencoded' \
	    --data 'grant_type=client_credentials&client_id=abc&scope=https%3A%2F%2Fmanagement.azure.com%2F.default&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJhbGciOi.e30.c2ln'
	echo "$output" | jq -e '.access_token | length > 20'
}

@test "the Entra token endpoint refuses a request without client credentials or with a foreign tenant" {
	start
	tenant=$(sed -n 's/^ *tenantID: //p' "$SIM_CONFIG")
	run sim_acurl "/$tenant/oauth2/v2.0/token" -X POST -w ' %{http_code}' \
	    -H 'Content-Type: application/x-www-form-urlencoded' \
	    --data 'grant_type=client_credentials&client_id=abc&scope=https%3A%2F%2Fmanagement.azure.com%2F.default'
	[[ "$output" == *'"error":"invalid_client"'*' 401' ]]
	run sim_acurl "/not-my-tenant/oauth2/v2.0/token" -X POST -w ' %{http_code}' \
	    -H 'Content-Type: application/x-www-form-urlencoded' --data 'grant_type=client_credentials'
	[[ "$output" == *AADSTS90002*' 400' ]]
}

@test "Resource Manager refuses a missing or forged token with its 401 codes" {
	start
	[ "$(TOKEN= arm GET "$VMS?$CV")" = 401 ]
	[ "$(code)" = AuthenticationFailed ]
	[[ "$(header WWW-Authenticate)" == Bearer* ]]
	[ "$(TOKEN=forged.token.value arm GET "$VMS?$CV")" = 401 ]
	[ "$(code)" = InvalidAuthenticationToken ]
}

@test "an expired token gets 401 ExpiredAuthenticationToken" {
	start --world token-lifetime=1
	expired() {
		[ "$(arm GET "$VMS?$CV")" = 401 ] && [ "$(code)" = ExpiredAuthenticationToken ]
	}
	sim_poll 30 expired
	jq -e '.error.message | test("earlier than current UTC time")' "$B"
}

@test "every request needs an api-version" {
	start
	[ "$(arm GET "$VMS")" = 400 ]
	[ "$(code)" = MissingApiVersionParameter ]
}

@test "a foreign subscription or resource group gets 404 with its ARM code" {
	start
	[ "$(arm GET "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/x/providers/Microsoft.Compute/virtualMachines?$CV")" = 404 ]
	[ "$(code)" = SubscriptionNotFound ]
	[ "$(arm GET "$S/resourceGroups/nope/providers/Microsoft.Compute/virtualMachines?$CV")" = 404 ]
	[ "$(code)" = ResourceGroupNotFound ]
}

@test "a NIC is created, read, listed and deleted" {
	start
	[ "$(nic_put aks-default-n1)" = 201 ]
	jq -e '.properties.provisioningState == "Succeeded"
	    and (.properties.ipConfigurations[0].properties.privateIPAddress | test("^10\\."))
	    and .type == "Microsoft.Network/networkInterfaces"' "$B"
	[ -n "$(header Azure-AsyncOperation)" ]
	[ "$(nic_put aks-default-n1)" = 200 ]
	[ "$(arm GET "$NICS/aks-default-n1?$NV")" = 200 ]
	[ "$(arm GET "$NICS?$NV")" = 200 ]
	jq -e '.value | length == 1' "$B"
	[ "$(arm DELETE "$NICS/aks-default-n1?$NV")" = 202 ]
	[ "$(arm GET "$NICS/aks-default-n1?$NV")" = 404 ]
	[ "$(code)" = ResourceNotFound ]
	[ "$(arm DELETE "$NICS/aks-default-n1?$NV")" = 204 ]
}

@test "lists are paged with nextLink, which leads to the rest" {
	start --world arm-page-size=2
	for n in p1 p2 p3; do [ "$(nic_put aks-$n)" = 201 ]; done
	[ "$(arm GET "$NICS?$NV")" = 200 ]
	jq -e '(.value | length) == 2 and (.nextLink | test("skiptoken"))' "$B"
	next=$(jq -r .nextLink "$B")
	[[ "$next" == "$SIM_ARM_URL"* ]]
	[ "$(arm GET "${next#"$SIM_ARM_URL"}")" = 200 ]
	jq -e '[.value[].name] == ["aks-p3"] and .nextLink == null' "$B"
}

# list_all PATH: follows nextLink from PATH; prints one line per page:
# the names on it, space-separated.  Fails on any answer but 200 or a
# nextLink off the simulator.
list_all() {
	local next=$1 st
	while [ -n "$next" ]; do
		st=$(arm GET "$next") || return 1
		[ "$st" = 200 ] || { echo "status $st: $(cat "$B")" >&2; return 1; }
		jq -r '[.value[].name] | join(" ")' "$B"
		next=$(jq -r '.nextLink // empty' "$B")
		if [ -n "$next" ]; then
			[[ "$next" == "$SIM_ARM_URL/"* ]] || { echo "foreign nextLink $next" >&2; return 1; }
			next=${next#"$SIM_ARM_URL"}
		fi
	done
}

@test "with --arm-page-size 2 the nextLink pages cover every VM exactly once" {
	start --arm-page-size 2
	for n in e c a d b; do [ "$(vm_put "aks-pg-$n" Standard_D2s_v3 1 Regular)" = 201 ]; done
	run list_all "$VMS?$CV"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	for l in "${lines[@]}"; do [ "$(echo "$l" | wc -w)" -le 2 ]; done
	[ "$(echo "${lines[*]}" | tr ' ' '\n' | sort | tr '\n' ' ')" = "aks-pg-a aks-pg-b aks-pg-c aks-pg-d aks-pg-e " ]
	[ "$(echo "${lines[*]}" | tr ' ' '\n' | sort -u | wc -l)" -eq 5 ]
	run list_all "$NICS?$NV"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(echo "${lines[*]}" | wc -w)" -eq 5 ]
}

@test "a VM deleted between pages makes the listing skip no other VM" {
	start --arm-page-size 2
	for n in a b c d e; do [ "$(vm_put "aks-del-$n" Standard_D2s_v3 1 Regular)" = 201 ]; done
	[ "$(arm GET "$VMS?$CV")" = 200 ]
	jq -e '[.value[].name] == ["aks-del-a", "aks-del-b"]' "$B"
	next=$(jq -r .nextLink "$B")
	[ "$(arm DELETE "$VMS/aks-del-a?$CV")" = 202 ]
	sim_poll 60 gone aks-del-a
	run list_all "${next#"$SIM_ARM_URL"}"
	[ "$status" -eq 0 ]
	[ "$(echo "${lines[*]}" | tr ' ' '\n' | sort | tr '\n' ' ')" = "aks-del-c aks-del-d aks-del-e " ]
}

@test "a garbled, stale or borrowed skiptoken is refused with 400 InvalidSkipToken" {
	start --arm-page-size 1
	for n in t1 t2; do [ "$(nic_put aks-$n)" = 201 ]; done
	[ "$(arm GET "$NICS?$NV")" = 200 ]
	tok=$(jq -r .nextLink "$B" | sed 's/.*skiptoken=//')
	[ -n "$tok" ]
	[ "$(arm GET "$NICS?$NV&%24skiptoken=$tok")" = 200 ]
	jq -e '[.value[].name] == ["aks-t2"]' "$B"
	# One hex digit of the name changed: the check no longer matches.
	bad=${tok%?}$( [ "${tok: -1}" = 1 ] && echo 2 || echo 1)
	[ "$(arm GET "$NICS?$NV&%24skiptoken=$bad")" = 400 ]
	[ "$(code)" = InvalidSkipToken ]
	[ "$(arm GET "$NICS?$NV&%24skiptoken=not-a-token")" = 400 ]
	[ "$(code)" = InvalidSkipToken ]
	# A NIC list's token does not page the VM list.
	[ "$(arm GET "$VMS?$CV&%24skiptoken=$tok")" = 400 ]
	[ "$(code)" = InvalidSkipToken ]
	# A token of an earlier nap-sim is stale once it restarts.
	sim_stop
	start --arm-page-size 1
	[ "$(arm GET "$NICS?$NV&%24skiptoken=$tok")" = 400 ]
	[ "$(code)" = InvalidSkipToken ]
}

@test "without --arm-page-size a short list comes in one page without nextLink" {
	start
	for n in o1 o2 o3; do [ "$(nic_put aks-$n)" = 201 ]; done
	[ "$(arm GET "$NICS?$NV")" = 200 ]
	jq -e '(.value | length) == 3 and .nextLink == null' "$B"
}

@test "a VM goes Creating to Succeeded through its async operation and is deleted through its Location" {
	start --lro-time 10
	[ "$(vm_put aks-default-v1 Standard_D4s_v3 1 Regular)" = 201 ]
	jq -e '.properties.provisioningState == "Creating" and .properties.osProfile.computerName == "aks-default-v1"
	    and (.properties.vmId|length) == 36 and .zones == ["1"]' "$B"
	op=$(header Azure-AsyncOperation)
	[[ "$op" == "$SIM_ARM_URL$S/providers/Microsoft.Compute/locations/eastus/operations/"* ]]
	run curl -sS --cacert "$SIM_CA" -H "Authorization: Bearer $TOKEN" "$op"
	echo "$output" | jq -e '.status == "InProgress" and (.startTime|length) > 0'
	sim_poll 60 op_status "$op" Succeeded
	vm_state aks-default-v1 Succeeded
	[ "$(arm GET "$VMS/aks-default-v1?$CV&\$expand=instanceView")" = 200 ]
	jq -e '[.properties.instanceView.statuses[].code] == ["ProvisioningState/succeeded","PowerState/running"]' "$B"
	[ "$(arm GET "$VMS?$CV")" = 200 ]
	jq -e '[.value[].name] == ["aks-default-v1"]' "$B"
	# the NIC is in use while its VM lives
	[ "$(arm DELETE "$NICS/aks-default-v1?$NV")" = 400 ]
	[ "$(code)" = NicInUse ]
	[ "$(arm DELETE "$VMS/aks-default-v1?$CV&forceDeletion=true")" = 202 ]
	loc=$(header Location)
	[[ "$loc" == *monitor=true* ]]
	vm_state aks-default-v1 Deleting
	monitor_done() {
		[ "$(curl -sS --cacert "$SIM_CA" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$loc")" = 200 ]
	}
	sim_poll 60 monitor_done
	gone aks-default-v1
	[ "$(code)" = ResourceNotFound ]
	# deleteOption Delete took the NIC with it
	[ "$(arm GET "$NICS/aks-default-v1?$NV")" = 404 ]
	[ "$(arm DELETE "$VMS/aks-default-v1?$CV")" = 204 ]
}

@test "a VM naming a NIC that does not exist is refused with InvalidResourceReference" {
	start
	[ "$(arm PUT "$VMS/aks-x?$CV" -d "$(vm_body aks-x Standard_D4s_v3 1 Regular)")" = 400 ]
	[ "$(code)" = InvalidResourceReference ]
	jq -e '.error.message | test("networkInterfaces/aks-x referenced by resource")' "$B"
}

@test "a VM body is validated: size, zone, location, spot eviction policy" {
	start
	[ "$(vm_put aks-a Standard_Nope_v9 1 Regular)" = 400 ]
	[ "$(code)" = SkuNotAvailable ]
	jq -e '.error.message | test("Standard_Nope_v9. is currently not available in location .eastus.")' "$B"
	[ "$(vm_put aks-a Standard_D4s_v3 7 Regular)" = 400 ]
	[ "$(code)" = InvalidParameter ]
	[ "$(jq -r .error.target "$B")" = zones ]
	[ "$(vm_put aks-a Standard_D4s_v3 1 Spot)" = 400 ]
	[ "$(jq -r .error.target "$B")" = evictionPolicy ]
	[ "$(vm_put aks-a Standard_D4s_v3 1 Regular Delete)" = 400 ]
	[ "$(code)" = EvictionPolicyCanBeSetOnlyOnAzureSpotVirtualMachines ]
	[ "$(arm PUT "$VMS/aks-a?$CV" -d "$(vm_body aks-a Standard_D4s_v3 1 Regular | jq -c 'del(.location)')")" = 400 ]
	[ "$(code)" = LocationRequired ]
	[ "$(arm PUT "$VMS/aks-a?$CV" -d "$(vm_body aks-a Standard_D4s_v3 1 Regular | jq -c '.location = "westus"')")" = 400 ]
	[ "$(code)" = LocationNotAvailableForResourceType ]
	[ "$(arm PUT "$VMS/aks-a?$CV" -d "$(vm_body aks-a Standard_D4s_v3 1 Regular | jq -c '.properties.osProfile.customData = "%%%"')")" = 400 ]
	[ "$(jq -r .error.target "$B")" = customData ]
	[ "$(arm GET "$VMS?$CV")" = 200 ]
	jq -e '.value == []' "$B"
}

@test "malformed bodies, wrong content types and unknown paths get ARM errors and nap-sim lives on" {
	start
	[ "$(arm PUT "$VMS/aks-b?$CV" -d '{"location":')" = 400 ]
	[ "$(code)" = InvalidRequestContent ]
	[ "$(arm PUT "$VMS/aks-b?$CV" -d '[1,2]')" = 400 ]
	[ "$(arm PUT "$VMS/aks-b?$CV" -d '{} trailing')" = 400 ]
	[ "$(CT=text/plain arm PUT "$VMS/aks-b?$CV" -d 'x')" = 415 ]
	[ "$(arm GET "$RG/providers/Microsoft.Compute/disks?$CV")" = 400 ]
	[ "$(code)" = InvalidResourceType ]
	[ "$(arm GET "$S/providers/Microsoft.Compute/locations/eastus/operations/nope?$CV")" = 404 ]
	[ "$(arm GET "$VMS?$CV")" = 200 ]
}

@test "the SKU list carries the catalog's sizes in the Resource SKUs shape" {
	start
	[ "$(arm GET "$S/providers/Microsoft.Compute/skus?api-version=2021-07-01&%24filter=location%20eq%20%27eastus%27")" = 200 ]
	jq -e '(.value|length) > 100' "$B"
	jq -e '.value[] | select(.name == "Standard_D4s_v3") | .resourceType == "virtualMachines"
	    and .family == "standardDSv3Family" and .locations == ["eastus"]
	    and .locationInfo[0].zones == ["1","2","3"]
	    and (.capabilities | from_entries | .vCPUs == "4" and .MemoryGB == "16" and .LowPriorityCapable == "True")' "$B"
	[ "$(arm GET "$S/providers/Microsoft.Compute/skus?api-version=2021-07-01&%24filter=location%20eq%20%27westus%27")" = 200 ]
	jq -e '.value == []' "$B"
}

@test "compute usages report the vCPUs in use per quota family" {
	start --lro-time 0
	vm_put aks-u1 Standard_D4s_v3 1 Regular
	[ "$(arm GET "$S/providers/Microsoft.Compute/locations/eastus/usages?$CV")" = 200 ]
	jq -e '.value[] | select(.name.value == "standardDSv3Family") | .currentValue == 4' "$B"
	jq -e '.value[] | select(.name.value == "cores") | .currentValue == 4' "$B"
}

@test "a zone out of capacity fails the VM asynchronously with ZonalAllocationFailed and leaves debris" {
	start --lro-time 0
	[ "$(fault '{"capacity":[{"size":"Standard_D4s_v3","zone":"2","capacityType":"on-demand","available":0}]}')" = 200 ]
	[ "$(vm_put aks-c1 Standard_D4s_v3 2 Regular)" = 201 ]
	op=$(header Azure-AsyncOperation)
	sim_poll 30 op_status "$op" Failed
	run curl -sS --cacert "$SIM_CA" -H "Authorization: Bearer $TOKEN" "$op"
	echo "$output" | jq -e '.error.code == "ZonalAllocationFailed" and (.error.message | test("sufficient capacity for the requested VM size in this zone"))'
	vm_state aks-c1 Failed
	[ "$(arm GET "$NICS/aks-c1?$NV")" = 200 ]
	# another zone still has room
	[ "$(vm_put aks-c2 Standard_D4s_v3 1 Regular)" = 201 ]
	sim_poll 30 vm_state aks-c2 Succeeded
}

@test "capacity allows the given number of VMs, then answers AllocationFailed for regional placement" {
	start --lro-time 0
	fault '{"capacity":[{"size":"Standard_D2s_v3","zone":"0","available":1}]}'
	[ "$(vm_put aks-r1 Standard_D2s_v3 "" Regular)" = 201 ]
	sim_poll 30 vm_state aks-r1 Succeeded
	[ "$(vm_put aks-r2 Standard_D2s_v3 "" Regular)" = 201 ]
	sim_poll 30 vm_state aks-r2 Failed
	[ "$(arm GET "$VMS/aks-r2?$CV&\$expand=instanceView")" = 200 ]
	jq -e '.properties.instanceView.statuses[0].code == "ProvisioningState/failed/AllocationFailed"' "$B"
}

@test "SkuNotAvailable and synchronous Overconstrained failures are answered on the PUT" {
	start
	fault '{"capacity":[{"size":"Standard_D4s_v3","capacityType":"spot","error":"SkuNotAvailable"},
	                    {"size":"Standard_D8s_v3","zone":"3","error":"OverconstrainedZonalAllocationRequest","async":false}]}'
	[ "$(vm_put aks-s1 Standard_D4s_v3 1 Spot Delete)" = 400 ]
	[ "$(code)" = SkuNotAvailable ]
	[ "$(vm_put aks-s2 Standard_D8s_v3 3 Regular)" = 409 ]
	[ "$(code)" = OverconstrainedZonalAllocationRequest ]
	jq -e '.error.message | test("condition is too restrictive")' "$B"
	[ "$(arm GET "$VMS?$CV")" = 200 ]
	jq -e '.value == []' "$B"
	# on-demand D4s_v3 is untouched
	[ "$(vm_put aks-s3 Standard_D4s_v3 1 Regular)" = 201 ]
}

@test "a family quota refuses the VM with OperationNotAllowed and the real quota message" {
	start --lro-time 0
	fault '{"quotas":{"standardDSv3Family":6}}'
	[ "$(vm_put aks-q1 Standard_D4s_v3 1 Regular)" = 201 ]
	[ "$(vm_put aks-q2 Standard_D4s_v3 1 Regular)" = 409 ]
	[ "$(code)" = OperationNotAllowed ]
	jq -e '.error.message | test("exceeding approved standardDSv3Family Cores quota. Additional details - Deployment Model: Resource Manager, Location: eastus, Current Limit: 6, Current Usage: 4, Additional Required: 4, \\(Minimum\\) New Limit Required: 8.")' "$B"
}

@test "spot and regional quotas give the LowPriorityCores and Total Regional Cores messages" {
	start --lro-time 0
	fault '{"quotas":{"lowPriority":2,"regional":3}}'
	[ "$(vm_put aks-q3 Standard_D4s_v3 1 Spot Delete)" = 409 ]
	jq -e '.error.message | test("exceeding approved LowPriorityCores quota")' "$B"
	[ "$(vm_put aks-q4 Standard_D4s_v3 1 Regular)" = 409 ]
	jq -e '.error.message | test("exceeding approved Total Regional Cores quota")' "$B"
	[ "$(sim_acurl /nap-sim/faults | jq -c .quotas)" = '{"lowPriority":2,"regional":3}' ]
}

@test "throttling answers 429 with Retry-After and the compute TooManyRequests body" {
	start --time-scale 10
	fault '{"throttle":{"rate":1,"retryAfter":30}}'
	[ "$(arm GET "$VMS?$CV")" = 429 ]
	[ "$(header Retry-After)" = 3 ]
	jq -e '.error.code == "OperationNotAllowed" and .error.details[0].code == "TooManyRequests"
	    and (.error.message | fromjson | .operationGroup == "HighCostGet3Min")' "$B"
	fault '{"throttle":{"rate":0}}'
	[ "$(arm GET "$VMS?$CV")" = 200 ]
	[ -n "$(header x-ms-ratelimit-remaining-subscription-reads)" ]
}

@test "the compute provider's own limits count down in x-ms-ratelimit-remaining-resource and then throttle" {
	start
	[ "$(arm GET "$VMS?$CV")" = 200 ]
	[ "$(header x-ms-ratelimit-remaining-resource)" = "Microsoft.Compute/HighCostGet3Min;239,Microsoft.Compute/HighCostGet30Min;799" ]
	urls=()
	for i in $(seq 1 239); do urls+=("$SIM_ARM_URL$VMS?$CV"); done
	curl -sS --cacert "$SIM_CA" -H "Authorization: Bearer $TOKEN" -o /dev/null "${urls[@]}"
	[ "$(arm GET "$VMS?$CV")" = 429 ]
	jq -e '.error.details[0].code == "TooManyRequests" and .error.target == "HighCostGet3Min"
	    and (.error.message | fromjson | .allowedRequestCount == 240 and .measuredRequestCount == 241)' "$B"
	[ "$(header Retry-After)" -ge 1 ]
	# other operation groups are counted apart
	[ "$(arm GET "$VMS/nope?$CV")" = 404 ]
	[[ "$(header x-ms-ratelimit-remaining-resource)" == Microsoft.Compute/LowCostGet3Min\;3999,* ]]
}

@test "server errors come at the configured rate and status" {
	start
	fault '{"errors":{"rate":1,"status":503}}'
	[ "$(arm GET "$VMS?$CV")" = 503 ]
	[ "$(code)" = ServiceUnavailable ]
	[ -n "$(header Retry-After)" ]
	fault '{"errors":{"rate":1,"status":500}}'
	[ "$(arm PUT "$VMS/x?$CV" -d '{}')" = 500 ]
	[ "$(code)" = InternalServerError ]
	[ "$(sim_acurl /nap-sim/faults -X DELETE | jq .errors.rate)" = 0 ]
	[ "$(arm GET "$VMS?$CV")" = 200 ]
}

@test "rates are deterministic for a given seed" {
	pattern() {
		local i out=
		for i in $(seq 1 24); do out="$out$(arm GET "$VMS?$CV")"; done
		echo "$out"
	}
	start --seed 7 --fault '{"errors":{"rate":0.5}}'
	a=$(pattern)
	sim_stop
	start --seed 7 --fault '{"errors":{"rate":0.5}}'
	b=$(pattern)
	[ "$a" = "$b" ]
	[[ "$a" == *500* ]] && [[ "$a" == *200* ]]
}

@test "latency is accepted and reported, and answers still come" {
	start
	fault '{"latency":0.2}'
	[ "$(sim_acurl /nap-sim/faults | jq .latency)" = 0.2 ]
	[ "$(arm GET "$VMS?$CV")" = 200 ]
}

@test "a fault given with --fault is active from the start" {
	start --lro-time 0 --fault '{"capacity":[{"size":"*","zone":"*","capacityType":"*","error":"AllocationFailed","async":false}]}'
	[ "$(vm_put aks-f1 Standard_D2s_v3 1 Regular)" = 409 ]
	[ "$(code)" = AllocationFailed ]
}

@test "the control endpoint refuses unknown faults and bad rules" {
	start
	[ "$(fault '{"meteor":true}')" = 400 ]
	[ "$(fault '{"capacity":[{"zone":"x"}]}')" = 400 ]
	[ "$(fault '{"capacity":[{"error":"NoSuchCode"}]}')" = 400 ]
	[ "$(fault 'not json')" = 400 ]
	[ "$(fault '{"evict":["no-such-vm"]}')" = 400 ]
}

@test "spot eviction deletes a Delete-policy VM and deallocates a Deallocate-policy one" {
	start --lro-time 0
	vm_put aks-e1 Standard_D4s_v3 1 Spot Delete
	vm_put aks-e2 Standard_D4s_v3 1 Spot Deallocate
	vm_put aks-e3 Standard_D4s_v3 1 Regular
	sim_poll 30 vm_state aks-e1 Succeeded
	sim_poll 30 vm_state aks-e2 Succeeded
	sim_poll 30 vm_state aks-e3 Succeeded
	[ "$(arm POST "$VMS/aks-e1/simulateEviction?$CV")" = 204 ]
	gone aks-e1
	[ "$(fault '{"evict":["aks-e2"]}')" = 200 ]
	[ "$(arm GET "$VMS/aks-e2/instanceView?$CV")" = 200 ]
	jq -e '.statuses[1].code == "PowerState/deallocated"' "$B"
	[ "$(arm POST "$VMS/aks-e3/simulateEviction?$CV")" = 409 ]
}

@test "Kubernetes-side faults: APF throttling, forced 410 on watch resumption, dropped watches" {
	start
	fault '{"k8s":{"throttleRate":1}}'
	run sim_kcurl /api/v1/namespaces/default/pods -w ' %{http_code}' -D "$BATS_TEST_TMPDIR/kh"
	[[ "$output" == *'"reason":"TooManyRequests"'*'"retryAfterSeconds":1'*' 429' ]]
	grep -qi '^retry-after: 1' "$BATS_TEST_TMPDIR/kh"
	fault '{"k8s":{"throttleRate":0,"goneRate":1}}'
	rv=$(sim_kcurl /api/v1/namespaces/default/pods | jq -r .metadata.resourceVersion)
	run sim_kcurl "/api/v1/namespaces/default/pods?watch=true&resourceVersion=$rv" -w ' %{http_code}'
	[[ "$output" == *'"reason":"Expired"'*' 410' ]]
	fault '{"k8s":{"goneRate":0,"dropRate":1}}'
	run sim_kcurl "/api/v1/namespaces/default/pods?watch=true&resourceVersion=$rv" --max-time 10
	[ "$status" -ne 0 ] || [ -z "$output" ]
	fault '{"k8s":{"dropRate":0,"dropWatches":true,"compact":true}}'
	[ "$(sim_kcurl /api/v1/namespaces/default/pods -o /dev/null -w '%{http_code}')" = 200 ]
}
