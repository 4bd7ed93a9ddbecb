-- pipeline.lua - wrk script: 8 pipelined GETs of the URL's path per write.
-- wrk -s loadtest/pipeline.lua http://HOST:PORT/PATH
-- wrk writes the batch, waits for all 8 responses, then writes the next.
local depth = 8

init = function(args)
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format(nil, nil)
   end
   req = table.concat(r)
end

request = function()
   return req
end
