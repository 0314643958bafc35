# prices-from-retail.jq - Azure Retail Prices API items (every page's
# .Items[], slurped: jq -s) to the price maps gen-catalog reads, dropping
# Windows products and Low Priority meters as the Azure provider does.
#   --arg kind ondemand  → azure-prices.json      {"<region>": {"<size>": {"onDemand": p}}}
#   --arg kind spot      → azure-spot-prices.json {"<region>": {"<size>": p}}
# When a size has several meters of one kind in a region, the lowest wins.
map(select(.serviceName == "Virtual Machines" and .type == "Consumption"
	and .currencyCode == "USD"
	and (.productName | endswith(" Windows") | not)
	and (.meterName | endswith(" Low Priority") | not)
	and (.armSkuName // "") != ""))
| map(. + {spot: (.skuName | endswith(" Spot"))})
| map(select(.spot == ($kind == "spot")))
| group_by(.armRegionName)
| map({key: .[0].armRegionName,
	value: (group_by(.armSkuName)
		| map({key: .[0].armSkuName, value: (map(.retailPrice) | min
			| if $kind == "spot" then . else {onDemand: .} end)})
		| from_entries)})
| from_entries
