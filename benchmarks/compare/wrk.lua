-- The wrk script of benchmarks/run: POSTs one GraphQL document per request, with fresh keys,
-- or GETs one of the portal's pages (page=), with a fresh key in its path.
--
--   wrk -t2 -c32 -d20s -s wrk.lua http://127.0.0.1:4201/graphql -- CONFIG
--   wrk -t2 -c8 -d20s -s wrk.lua http://127.0.0.1:4201 -- CONFIG       (a page)
--
-- CONFIG is a file of key=value lines written by benchmarks/compare/load.py:
--   batch=0        the body file is sent as it is (a document without variables)
--   batch=K        K keys (USCCs) per request, drawn from the keys file (one per line,
--                  enterprise id order) and sent as the variables named by `names`
--   names=A,B,...  the K variables' names (u1,u2,... for W1 and W3; u for W5)
--   body=PATH      the whole body (batch=0), or its start up to `"variables": {` (batch>0)
--   page=PATH      instead of body: GET this path, its `{uscc}` replaced by one key (batch=1)
--   keys=PATH      the USCCs; key i belongs to the enterprise with id i
--   zipf=S         0: uniform; S > 1: Zipf-distributed ranks with exponent S, drawn as
--                  pgbench's random_zipfian draws them, so both favour the same enterprises
--   seed=N         seeds each thread's generator (N + thread number)
--   authorization=V  (optional) the Authorization header of every request: a bearer token
--
-- A response is an error when its status is not 200 or, for a document, its body has a GraphQL
-- "errors" key (a page is HTML: its status says it all, 404 for an unknown enterprise).
-- done() prints one line, `WRK_RESULT {json}`, that load.py reads.

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
  table.insert(threads, thread)
end

local body, prefix, page
local keys, key_count = {}, 0
local names = {}
local batch, zipf_s = 0, 0
errors = 0

local function read_file(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("*a")
  file:close()
  return text
end

function init(args)
  local config = {}
  for line in io.lines(args[1]) do
    local key, value = line:match("^(%w+)=(.*)$")
    if key then
      config[key] = value
    end
  end
  batch = tonumber(config.batch)
  zipf_s = tonumber(config.zipf or "0")
  page = config.page
  if page then
    assert(batch == 1, "a page takes one key")
  elseif batch == 0 then
    body = read_file(config.body)
  else
    prefix = read_file(config.body)
  end
  if batch > 0 then
    for line in io.lines(config.keys) do
      key_count = key_count + 1
      keys[key_count] = line
    end
    for name in string.gmatch(config.names, "[^,]+") do
      table.insert(names, name)
    end
    assert(#names == batch, "names= must name batch= variables")
  end
  math.randomseed(tonumber(config.seed or "1") + thread_number)
  if page then
    wrk.method = "GET"
    wrk.headers["Accept"] = "text/html"
  else
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  end
  if config.authorization then
    wrk.headers["Authorization"] = config.authorization
  end
end

-- pgbench's computeIterativeZipfian (Devroye, Non-Uniform Random Variate Generation, p. 550).
local function zipf_rank(n, s)
  local b = 2 ^ (s - 1)
  while true do
    local u = 1 - math.random()
    local v = math.random()
    local x = math.floor(u ^ (-1 / (s - 1)))
    local t = (1 + 1 / x) ^ (s - 1)
    if x <= n and v * x * (t - 1) / (b - 1) <= t / b then
      return x
    end
  end
end

local function pick()
  if zipf_s > 1 then
    return keys[zipf_rank(key_count, zipf_s)]
  end
  return keys[math.random(key_count)]
end

function request()
  if page then
    -- A function as the replacement: its result is taken literally, whatever the key holds.
    local path = page:gsub("{uscc}", function() return pick() end)
    return wrk.format(nil, path)
  end
  if batch == 0 then
    return wrk.format(nil, nil, nil, body)
  end
  local parts = {}
  for i = 1, batch do
    parts[i] = '"' .. names[i] .. '":"' .. pick() .. '"'
  end
  return wrk.format(nil, nil, nil, prefix .. table.concat(parts, ",") .. "}}")
end

function response(status, headers, response_body)
  if status ~= 200 or (not page and string.find(response_body, '"errors"', 1, true)) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("errors")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "socket_errors": %d, "bad_responses": %d, '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, bad,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean))
end
