-- The logins of the paced storm: each connection waits STORM_PACE_MS between its logins, so the
-- storm offers the same number of logins a second to every server (at most STORM_CONNS × 1000
-- ÷ STORM_PACE_MS), whatever its login path costs. The closed-loop storm (login.lua) gives a
-- server with a cheaper login path a bigger storm.
dofile(os.getenv("BENCH_DIR") .. "/lua/login.lua")
local pace_ms = tonumber(os.getenv("STORM_PACE_MS") or "400")

function delay()
  return pace_ms
end
