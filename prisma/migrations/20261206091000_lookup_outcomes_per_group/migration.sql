-- NB: no semicolons in comments: the schema engine splits scripts on them.
-- Honest statistics per group: lookup outcomes are kept per UTC day, type, difficulty, namespace
-- and generator version, and two outcomes join hit, near hit and miss:
--   stale      an expired entry served (stale-while-revalidate, stale-if-error, max-stale)
--   coalesced  the exercise another caller generated under its lease, waited for
-- namespace and generator_version are '' for none (never a valid name, and a primary key column
-- cannot be NULL). The hit rate stays exact hits over all lookups, so every total below now
-- counts stale and coalesced answers too.

-- AlterTable
ALTER TABLE "exercise_cache_lookup_stats" DROP CONSTRAINT "exercise_cache_lookup_stats_pkey",
ADD COLUMN     "namespace" VARCHAR(64) NOT NULL DEFAULT '',
ADD COLUMN     "generator_version" VARCHAR(100) NOT NULL DEFAULT '',
ADD COLUMN     "stale" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "coalesced" BIGINT NOT NULL DEFAULT 0,
ADD CONSTRAINT "exercise_cache_lookup_stats_pkey" PRIMARY KEY ("day", "exercise_type", "difficulty", "namespace", "generator_version");

-- The guide's statistics functions keep their names, no arguments and their columns in order
-- (so its views and its Rollback section work unchanged), with stale and coalesced appended.
DROP VIEW exercise_cache_stats;
DROP VIEW exercise_cache_overview;
DROP FUNCTION get_exercise_cache_stats();
DROP FUNCTION get_overall_cache_stats();

CREATE FUNCTION get_exercise_cache_stats()
RETURNS TABLE (
  exercise_type varchar(50),
  total_entries bigint,
  active_entries bigint,
  expired_entries bigint,
  contexts bigint,
  avg_variants_per_context numeric(10, 2),
  total_usage bigint,
  avg_usage numeric(12, 2),
  hits bigint,
  near_hits bigint,
  misses bigint,
  total_lookups bigint,
  cache_hit_rate numeric(5, 2),
  near_hit_rate numeric(5, 2),
  estimated_cost_saved numeric(30, 6),
  total_generation_cost numeric(16, 6),
  avg_generation_time_ms numeric(12, 2),
  stale bigint,
  coalesced bigint
)
LANGUAGE sql STABLE
SET search_path FROM CURRENT
AS $$
  WITH entries AS (
    SELECT c.exercise_type,
           count(*) AS total_entries,
           count(*) FILTER (WHERE c.expires_at > now()) AS active_entries,
           count(*) FILTER (WHERE c.expires_at <= now()) AS expired_entries,
           count(DISTINCT c.context_key) AS contexts,
           sum(c.usage_count) AS total_usage,
           sum(c.generation_cost) AS total_generation_cost,
           avg(c.generation_time_ms) AS avg_generation_time_ms
    FROM exercise_cache c
    GROUP BY c.exercise_type
  ), lookups AS (
    SELECT s.exercise_type,
           sum(s.hits) AS hits, sum(s.near_hits) AS near_hits, sum(s.misses) AS misses,
           sum(s.stale) AS stale, sum(s.coalesced) AS coalesced, sum(s.cost_saved) AS cost_saved
    FROM exercise_cache_lookup_stats s
    GROUP BY s.exercise_type
  ), joined AS (
    SELECT exercise_type,
           coalesce(e.total_entries, 0) AS total_entries,
           coalesce(e.active_entries, 0) AS active_entries,
           coalesce(e.expired_entries, 0) AS expired_entries,
           coalesce(e.contexts, 0) AS contexts,
           coalesce(e.total_usage, 0) AS total_usage,
           coalesce(l.hits, 0) AS hits,
           coalesce(l.near_hits, 0) AS near_hits,
           coalesce(l.misses, 0) AS misses,
           coalesce(l.stale, 0) AS stale,
           coalesce(l.coalesced, 0) AS coalesced,
           coalesce(l.cost_saved, 0) AS cost_saved,
           coalesce(e.total_generation_cost, 0) AS total_generation_cost,
           e.avg_generation_time_ms
    FROM entries e FULL JOIN lookups l USING (exercise_type)
  )
  SELECT j.exercise_type::varchar(50),
         j.total_entries,
         j.active_entries,
         j.expired_entries,
         j.contexts,
         round(j.total_entries::numeric / nullif(j.contexts, 0), 2),
         j.total_usage::bigint,
         round(j.total_usage::numeric / nullif(j.total_entries, 0), 2),
         j.hits::bigint,
         j.near_hits::bigint,
         j.misses::bigint,
         (j.hits + j.near_hits + j.stale + j.coalesced + j.misses)::bigint,
         coalesce(round(100.0 * j.hits / nullif(j.hits + j.near_hits + j.stale + j.coalesced + j.misses, 0), 2), 0),
         coalesce(round(100.0 * j.near_hits / nullif(j.hits + j.near_hits + j.stale + j.coalesced + j.misses, 0), 2), 0),
         j.cost_saved::numeric(30, 6),
         j.total_generation_cost,
         round(j.avg_generation_time_ms, 2),
         j.stale::bigint,
         j.coalesced::bigint
  FROM joined j
$$;

CREATE FUNCTION get_overall_cache_stats()
RETURNS TABLE (
  total_entries bigint,
  active_entries bigint,
  expired_entries bigint,
  total_usage bigint,
  total_hits bigint,
  near_hits bigint,
  total_misses bigint,
  total_lookups bigint,
  cache_hit_rate numeric(5, 2),
  near_hit_rate numeric(5, 2),
  total_cost_saved numeric(30, 6),
  total_generation_cost numeric(16, 6),
  avg_generation_time_ms numeric(12, 2),
  oldest_entry timestamptz,
  newest_entry timestamptz,
  stale bigint,
  coalesced bigint
)
LANGUAGE sql STABLE
SET search_path FROM CURRENT
AS $$
  WITH entries AS (
    SELECT count(*) AS total_entries,
           count(*) FILTER (WHERE expires_at > now()) AS active_entries,
           count(*) FILTER (WHERE expires_at <= now()) AS expired_entries,
           coalesce(sum(usage_count), 0) AS total_usage,
           coalesce(sum(generation_cost), 0) AS total_generation_cost,
           avg(generation_time_ms) AS avg_generation_time_ms,
           min(created_at) AS oldest_entry,
           max(created_at) AS newest_entry
    FROM exercise_cache
  ), lookups AS (
    SELECT coalesce(sum(hits), 0) AS hits, coalesce(sum(near_hits), 0) AS near_hits,
           coalesce(sum(misses), 0) AS misses, coalesce(sum(stale), 0) AS stale,
           coalesce(sum(coalesced), 0) AS coalesced, coalesce(sum(cost_saved), 0) AS cost_saved
    FROM exercise_cache_lookup_stats
  )
  SELECT e.total_entries, e.active_entries, e.expired_entries, e.total_usage::bigint,
         l.hits::bigint, l.near_hits::bigint, l.misses::bigint,
         (l.hits + l.near_hits + l.stale + l.coalesced + l.misses)::bigint,
         coalesce(round(100.0 * l.hits / nullif(l.hits + l.near_hits + l.stale + l.coalesced + l.misses, 0), 2), 0),
         coalesce(round(100.0 * l.near_hits / nullif(l.hits + l.near_hits + l.stale + l.coalesced + l.misses, 0), 2), 0),
         l.cost_saved::numeric(30, 6), e.total_generation_cost, round(e.avg_generation_time_ms, 2),
         e.oldest_entry, e.newest_entry, l.stale::bigint, l.coalesced::bigint
  FROM entries e CROSS JOIN lookups l
$$;

CREATE VIEW exercise_cache_stats AS
  SELECT * FROM get_exercise_cache_stats();

CREATE VIEW exercise_cache_overview AS
  SELECT * FROM get_overall_cache_stats();

-- Same grain as before (one row per UTC day, type and difficulty: the guide reads it so and its
-- concurrent refresh needs the unique index), outcomes summed over namespaces and versions.
DROP MATERIALIZED VIEW exercise_cache_daily_metrics;

CREATE MATERIALIZED VIEW exercise_cache_daily_metrics AS
  WITH created AS (
    SELECT (created_at AT TIME ZONE 'UTC')::date AS date, exercise_type, difficulty,
           count(*) AS entries_created,
           sum(generation_cost) AS total_cost,
           avg(generation_time_ms) AS avg_generation_time_ms
    FROM exercise_cache
    GROUP BY 1, 2, 3
  ), lookups AS (
    SELECT day AS date, exercise_type, difficulty, sum(hits) AS hits, sum(near_hits) AS near_hits,
           sum(misses) AS misses, sum(stale) AS stale, sum(coalesced) AS coalesced, sum(cost_saved) AS cost_saved
    FROM exercise_cache_lookup_stats
    GROUP BY 1, 2, 3
  )
  SELECT date,
         exercise_type::varchar(50) AS exercise_type,
         difficulty,
         coalesce(c.entries_created, 0)::bigint AS entries_created,
         coalesce(l.hits + l.near_hits + l.stale + l.coalesced + l.misses, 0)::bigint AS total_accesses,
         coalesce(c.total_cost, 0)::numeric(30, 6) AS total_cost,
         coalesce(l.cost_saved, 0)::numeric(30, 6) AS cost_saved,
         round(c.avg_generation_time_ms, 2) AS avg_generation_time_ms,
         coalesce(l.hits, 0)::bigint AS hits,
         coalesce(l.near_hits, 0)::bigint AS near_hits,
         coalesce(l.misses, 0)::bigint AS misses,
         coalesce(round(100.0 * l.hits / nullif(l.hits + l.near_hits + l.stale + l.coalesced + l.misses, 0), 2), 0)::numeric(5, 2)
           AS hit_rate,
         coalesce(l.stale, 0)::bigint AS stale,
         coalesce(l.coalesced, 0)::bigint AS coalesced
  FROM created c FULL JOIN lookups l USING (date, exercise_type, difficulty)
WITH DATA;

CREATE UNIQUE INDEX "idx_exercise_cache_daily_metrics_key"
  ON exercise_cache_daily_metrics (date, exercise_type, difficulty);
