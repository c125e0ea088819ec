-- NB: no semicolons in comments: the schema engine splits scripts on them.
-- Everything Prisma's schema language cannot express: CHECK constraints, the GIN index on topics,
-- the guide's seven functions, three views and the daily materialized view.
--
-- Rules kept everywhere below:
--   * "expired" means expires_at <= now(), "active" means expires_at > now().
--   * Hit rates come from recorded lookup outcomes (exercise_cache_lookup_stats), never from
--     usage_count, cost saved is the sum of each served entry's own generation_cost.
--   * Views select from functions (never the other way round), so the guide's Rollback section
--     can drop views, then functions, then the table, in its order, without CASCADE.

-- AddCheckConstraints
ALTER TABLE "exercise_cache"
  ADD CONSTRAINT "exercise_cache_difficulty_check" CHECK (difficulty BETWEEN 1 AND 5),
  ADD CONSTRAINT "exercise_cache_expiry_check" CHECK (expires_at > created_at),
  ADD CONSTRAINT "exercise_cache_topics_check" CHECK (topics IS NOT NULL AND cardinality(topics) <= 20),
  ADD CONSTRAINT "exercise_cache_variant_check" CHECK (variant BETWEEN 1 AND 20),
  ADD CONSTRAINT "exercise_cache_usage_check" CHECK (usage_count >= 0),
  ADD CONSTRAINT "exercise_cache_cost_check" CHECK (generation_cost >= 0);

-- CreateIndex
CREATE INDEX "idx_exercise_topics" ON "exercise_cache" USING GIN ("topics");

-- Deletes every expired entry, returns how many.
CREATE FUNCTION cleanup_expired_exercises() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  deleted integer;
BEGIN
  DELETE FROM exercise_cache WHERE expires_at <= now();
  GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted;
END;
$$;

-- Keeps the max_entries most recently used active entries and deletes the other active ones
-- (least recently used first, ties: lower usage_count first). One backward walk of
-- idx_exercise_last_used, the table is never counted. Expired rows are cleanup's job.
CREATE FUNCTION evict_lru_exercises(max_entries integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  deleted integer;
BEGIN
  IF max_entries IS NULL OR max_entries < 0 THEN
    RAISE EXCEPTION 'max_entries must be a non-negative integer, got %', max_entries
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  WITH victims AS (
    SELECT id FROM exercise_cache
    WHERE expires_at > now()
    ORDER BY last_used_at DESC, usage_count DESC, cache_key DESC
    OFFSET max_entries
  )
  DELETE FROM exercise_cache c USING victims v WHERE c.id = v.id;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted;
END;
$$;

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
  estimated_cost_saved numeric(16, 6),
  total_generation_cost numeric(16, 6),
  avg_generation_time_ms numeric(12, 2)
)
LANGUAGE sql STABLE AS $$
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
           sum(s.cost_saved) AS cost_saved
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
         (j.hits + j.near_hits + j.misses)::bigint,
         coalesce(round(100.0 * j.hits / nullif(j.hits + j.near_hits + j.misses, 0), 2), 0),
         coalesce(round(100.0 * j.near_hits / nullif(j.hits + j.near_hits + j.misses, 0), 2), 0),
         j.cost_saved,
         j.total_generation_cost,
         round(j.avg_generation_time_ms, 2)
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
  total_cost_saved numeric(16, 6),
  total_generation_cost numeric(16, 6),
  avg_generation_time_ms numeric(12, 2),
  oldest_entry timestamptz,
  newest_entry timestamptz
)
LANGUAGE sql STABLE AS $$
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
           coalesce(sum(misses), 0) AS misses, coalesce(sum(cost_saved), 0) AS cost_saved
    FROM exercise_cache_lookup_stats
  )
  SELECT e.total_entries, e.active_entries, e.expired_entries, e.total_usage::bigint,
         l.hits::bigint, l.near_hits::bigint, l.misses::bigint,
         (l.hits + l.near_hits + l.misses)::bigint,
         coalesce(round(100.0 * l.hits / nullif(l.hits + l.near_hits + l.misses, 0), 2), 0),
         coalesce(round(100.0 * l.near_hits / nullif(l.hits + l.near_hits + l.misses, 0), 2), 0),
         l.cost_saved, e.total_generation_cost, round(e.avg_generation_time_ms, 2),
         e.oldest_entry, e.newest_entry
  FROM entries e CROSS JOIN lookups l
$$;

-- Most used active entries. ("limit" is quoted because it is a keyword.)
CREATE FUNCTION get_popular_exercises("limit" integer DEFAULT 10)
RETURNS TABLE (
  cache_key varchar(64),
  exercise_type varchar(50),
  difficulty integer,
  topics text[],
  variant integer,
  usage_count integer,
  last_used_at timestamptz,
  created_at timestamptz,
  expires_at timestamptz,
  generation_cost numeric(10, 6)
)
LANGUAGE sql STABLE AS $$
  SELECT c.cache_key, c.exercise_type, c.difficulty, c.topics, c.variant, c.usage_count,
         c.last_used_at, c.created_at, c.expires_at, c.generation_cost
  FROM exercise_cache c
  WHERE c.expires_at > now()
  ORDER BY c.usage_count DESC, c.last_used_at DESC, c.cache_key
  LIMIT greatest($1, 0)
$$;

-- Active entries in the order evict_lru_exercises removes them: the eviction candidates.
CREATE FUNCTION get_lru_exercises("limit" integer DEFAULT 10)
RETURNS TABLE (
  cache_key varchar(64),
  exercise_type varchar(50),
  difficulty integer,
  topics text[],
  variant integer,
  usage_count integer,
  last_used_at timestamptz,
  created_at timestamptz,
  expires_at timestamptz,
  generation_cost numeric(10, 6)
)
LANGUAGE sql STABLE AS $$
  SELECT c.cache_key, c.exercise_type, c.difficulty, c.topics, c.variant, c.usage_count,
         c.last_used_at, c.created_at, c.expires_at, c.generation_cost
  FROM exercise_cache c
  WHERE c.expires_at > now()
  ORDER BY c.last_used_at ASC, c.usage_count ASC, c.cache_key ASC
  LIMIT greatest($1, 0)
$$;

-- CONCURRENTLY keeps the view readable during the refresh. It needs the unique index below,
-- which the original design lacked (so its refresh always failed).
CREATE FUNCTION refresh_exercise_cache_metrics() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  REFRESH MATERIALIZED VIEW CONCURRENTLY exercise_cache_daily_metrics;
END;
$$;

CREATE VIEW exercise_cache_stats AS
  SELECT * FROM get_exercise_cache_stats();

CREATE VIEW exercise_cache_overview AS
  SELECT * FROM get_overall_cache_stats();

CREATE VIEW expired_exercises AS
  SELECT id, cache_key, exercise_type, difficulty, topics, variant, usage_count, last_used_at,
         created_at, expires_at, now() - expires_at AS expired_for
  FROM exercise_cache
  WHERE expires_at <= now();

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
         coalesce(c.total_cost, 0)::numeric(16, 6) AS total_cost,
         coalesce(l.cost_saved, 0)::numeric(16, 6) AS cost_saved,
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
