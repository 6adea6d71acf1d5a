-- wrk script: sends DEPTH requests in each write (HTTP/1.1 pipelining) and lets wrk count every response.
-- Usage: wrk ... -s scripts/bench-pipeline.lua http://host:port/plaintext -- 16
local batch

function init(args)
  local depth = tonumber(args[1]) or 1
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format()
  end
  batch = table.concat(requests)
end

function request()
  return batch
end
