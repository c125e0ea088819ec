-- NB: no semicolons in comments: the schema engine splits scripts on them.
-- cost_saved adds each served entry's generation_cost (up to 9999.999999) once per hit, so
-- numeric(16, 6) overflows after about a million hits of an expensive exercise on one day, and
-- every usage flush fails from then on. numeric(30, 6) holds any value the bigint hit counters
-- can reach (9.2e18 hits and near hits each, times 1e4), so the allowed inputs cannot overflow it.
-- The daily metrics view reads the column and casts it to numeric(16, 6): recreated with the
-- wider type, same rows, same unique index (its concurrent refresh needs it).
DROP MATERIALIZED VIEW exercise_cache_daily_metrics;

ALTER TABLE "exercise_cache_lookup_stats" ALTER COLUMN "cost_saved" TYPE DECIMAL(30, 6);

-- Days are UTC days, the same days the service records lookup outcomes under.
CREATE MATERIALIZED VIEW exercise_cache_daily_metrics AS
  WITH created AS (
    SELECT (created_at AT TIME ZONE 'UTC')::date AS date, exercise_type, difficulty,
           count(*) AS entries_created,
           sum(generation_cost) AS total_cost,
           avg(generation_time_ms) AS avg_generation_time_ms
    FROM exercise_cache
    GROUP BY 1, 2, 3
  ), lookups AS (
    SELECT day AS date, exercise_type, difficulty, hits, near_hits, misses, cost_saved
    FROM exercise_cache_lookup_stats
  )
  SELECT date,
         exercise_type::varchar(50) AS exercise_type,
         difficulty,
         coalesce(c.entries_created, 0)::bigint AS entries_created,
         coalesce(l.hits + l.near_hits + l.misses, 0)::bigint AS total_accesses,
         coalesce(c.total_cost, 0)::numeric(30, 6) AS total_cost,
         coalesce(l.cost_saved, 0)::numeric(30, 6) AS cost_saved,
         round(c.avg_generation_time_ms, 2) AS avg_generation_time_ms,
         coalesce(l.hits, 0)::bigint AS hits,
         coalesce(l.near_hits, 0)::bigint AS near_hits,
         coalesce(l.misses, 0)::bigint AS misses,
         coalesce(round(100.0 * l.hits / nullif(l.hits + l.near_hits + l.misses, 0), 2), 0)::numeric(5, 2)
           AS hit_rate
  FROM created c FULL JOIN lookups l USING (date, exercise_type, difficulty)
WITH DATA;

CREATE UNIQUE INDEX "idx_exercise_cache_daily_metrics_key"
  ON exercise_cache_daily_metrics (date, exercise_type, difficulty);
