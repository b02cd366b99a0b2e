-- wrk script: a chair's board, the closed-loop throughput of the reads.
-- Each request is a random region's slots (4 weeks) or open referrals,
-- sent with that region's chair token. Tokens come from the environment:
-- JBT_CHAIRS="region=token,region=token,..." (tools/load.sh sets it).

local chairs = {}
for pair in string.gmatch(os.getenv("JBT_CHAIRS") or "", "[^,]+") do
  local region, token = string.match(pair, "([^=]+)=(.+)")
  table.insert(chairs, { region = region, token = token })
end

math.randomseed(os.time())

request = function()
  local chair = chairs[math.random(#chairs)]
  local path
  if math.random() < 0.5 then
    path = "/api/v1/slots?region=" .. chair.region .. "&weeks=4"
  else
    path = "/api/v1/referrals?region=" .. chair.region .. "&status=registered,planned,booked"
  end
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. chair.token })
end

-- Non-2xx/3xx answers are counted by wrk itself in summary.errors.status.
done = function(summary, latency, requests)
  io.write(string.format(
    "WRK_JSON {\"requests\":%d,\"seconds\":%.1f,\"rps\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,\"errors\":%d,\"non_2xx\":%d}\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
