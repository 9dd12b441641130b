-- mixed.lua — wrk script for the soak run (tests/soak/soak.py).
--
--   wrk -tN -cN -dS -s mixed.lua http://HOST:PORT -- ROUTE...
--
-- Each ROUTE argument is "NAME=METHOD:PATH[:BODYBYTES]", e.g.
-- "trap=GET:/trap" or "echo=POST:/echo:1024"; "--close" sends every
-- request with "Connection: close".  Every thread sends the
-- routes in turn (starting at a different one per thread) and counts the
-- answers by route and status in the global table `counts`; done() prints one line
--   SOAK-JSON {"requests":..,"errors":{..},"counts":{"NAME STATUS":n,..},..}
-- for soak.py to parse.
--
-- Counting per route needs to know which request an answer belongs to.
-- wrk does not say; with ONE connection per thread (-t equal to -c) the
-- thread's request() and response() calls alternate strictly, so the
-- route of the last request() is the route of the next response().  With
-- a single route any -c works.  soak.py enforces this.

local routes = {}
counts = {}             -- global: done() reads it with thread:get("counts")
local pending = nil
local next_i = 0
local threads = {}

-- Runs in wrk's main Lua state, once per thread; "tid" becomes a global
-- of that thread's own state, read by init().
function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

-- SOAK_DELAY_MS (environment): wait this long before each request.  It
-- must be known when the script is loaded (wrk asks its main Lua state
-- whether delay() exists before any init() runs), hence not an argument;
-- without it there is no delay() and no timer per request.
local delay_ms = tonumber(os.getenv("SOAK_DELAY_MS") or "")
if delay_ms then
   function delay()
      return delay_ms
   end
end

function init(args)
   local headers = {}
   for _, a in ipairs(args) do
      if a == "--close" then
         -- A new connection per request: accept/close paths under soak.
         headers["Connection"] = "close"
      end
   end
   for _, a in ipairs(args) do
      if a:sub(1, 2) == "--" then
         goto continue
      end
      local name, method, path, nbody = a:match("^([%w_%-]+)=(%u+):([^:]+):?(%d*)$")
      if not name then
         error("bad route argument: " .. a)
      end
      local body = nil
      local h = {}
      for k, v in pairs(headers) do
         h[k] = v
      end
      if nbody ~= "" then
         body = string.rep("x", tonumber(nbody))
         h["Content-Type"] = "application/octet-stream"
      end
      table.insert(routes, { name = name, req = wrk.format(method, path, h, body) })
      ::continue::
   end
   if #routes == 0 then
      error("no routes given (after --)")
   end
   -- Threads start on different routes so they do not move in lockstep.
   next_i = (tid or 0) % #routes
end

function request()
   next_i = next_i % #routes + 1
   pending = routes[next_i].name
   return routes[next_i].req
end

function response(status, headers, body)
   -- An answer with no request of ours pending (only possible if the one
   -- connection per thread rule is broken) counts under route "?".
   local name = #routes == 1 and routes[1].name or pending or "?"
   local k = name .. " " .. status
   counts[k] = (counts[k] or 0) + 1
   pending = nil
end

-- A minimal JSON writer for flat tables of numbers (and nested ones).
local function json(v)
   if type(v) == "table" then
      local parts = {}
      for k, x in pairs(v) do
         table.insert(parts, string.format("%q:%s", tostring(k), json(x)))
      end
      return "{" .. table.concat(parts, ",") .. "}"
   end
   return string.format("%d", math.floor(v))
end

function done(summary, latency, requests)
   local total = {}
   for _, t in ipairs(threads) do
      local c = t:get("counts")
      for k, n in pairs(c or {}) do
         total[k] = (total[k] or 0) + n
      end
   end
   local out = {
      requests = summary.requests,
      duration_us = summary.duration,
      bytes = summary.bytes,
      errors = summary.errors,      -- connect, read, write, status, timeout
      counts = total,
      latency_us = {
         p50 = latency:percentile(50),
         p99 = latency:percentile(99),
         max = latency.max,
      },
   }
   io.write("SOAK-JSON " .. json(out) .. "\n")
end
