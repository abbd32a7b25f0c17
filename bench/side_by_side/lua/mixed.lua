-- The soak's mix of the harness's scenarios: members pages 40 %, test-token 30 %, user searches
-- 20 %, transaction writes 10 % (a fresh Idempotency-Key each). SOAK_DELAY_MS paces each
-- connection (wrk's delay()) so that the whole runs at the rate the soak asks for.
dofile(os.getenv("BENCH_DIR") .. "/lua/common.lua")
local pause = tonumber(os.getenv("SOAK_DELAY_MS") or "0")
local n = 0
local salt = ""
local auth = { ["Authorization"] = "Bearer " .. TOKEN }
function init(args)
  math.randomseed(os.time() + (tid or 0))
  salt = string.format("%x%x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
end
function delay() return pause end
function request()
  local pick = math.random(100)
  if pick <= 40 then
    local cid = CONFIG_IDS[math.random(#CONFIG_IDS)]
    return wrk.format("GET", API .. "/members/?configuration_id=" .. cid .. "&limit=50", auth)
  elseif pick <= 70 then
    return wrk.format("POST", API .. "/login/test-token", auth)
  elseif pick <= 90 then
    local frag = FRAGMENTS[math.random(#FRAGMENTS)]
    return wrk.format("GET", API .. "/users/?search=" .. frag .. "&limit=20", auth)
  end
  n = n + 1
  local m = MEMBERS[math.random(#MEMBERS)]
  local body = string.format(
    '{"configuration_id":%d,"member_id":%d,"kind":"fee","period_start":"2024-03-01",' ..
    '"period_end":"2024-03-31","energy_kwh":"12.345","amount_eur":"%d.%02d","description":"soak"}',
    m[2], m[1], math.random(1, 500), math.random(0, 99))
  return wrk.format("POST", API .. "/transactions/", {
    ["Authorization"] = "Bearer " .. TOKEN,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("soak-%s-%s-%d", RUN_ID, salt, n),
  }, body)
end
