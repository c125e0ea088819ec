-- NB: no semicolons in comments: the schema engine splits scripts on them.
-- An application written against the guide inserts rows with the guide's columns only
-- (cache_key, exercise_type, exercise_data, user_context_hash, difficulty, topics, usage_count,
-- last_used_at, created_at, expires_at, generation_cost, generation_time_ms). context_key has no
-- default, so such a row was refused. A trigger fills what such a row lacks, the way the service
-- would: context_key and user_context_hash as src/cache/cache-key.ts computes them (the encoding
-- ["exercise-cache/v1", type, difficulty, [topics]] hashed with SHA-256, topics trimmed,
-- case-folded, NFC-normalised, without repeats, sorted), and the lowest variant slot (1..20) no
-- other row of that context holds. The row keeps the cache_key it was given, so the application
-- still finds it by its own key, and the service finds it by its context.
-- Case folding here is PostgreSQL's lower() and upper() under the database's collation: the same
-- as JavaScript's for ASCII topics, and for other letters under a UTF-8 collation in most cases.
-- Names avoid "exercise" so the guide's "\df *exercise*" still lists exactly the guide's functions.

CREATE FUNCTION cache_context_topics(topics text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path FROM CURRENT AS $$
  SELECT coalesce(array_agg(t ORDER BY t COLLATE "C"), ARRAY[]::text[])
  FROM (
    SELECT DISTINCT normalize(lower(upper(lower(btrim(normalize(topic, NFD))))), NFC) AS t
    FROM unnest(topics) AS topic
  ) folded
$$;

CREATE FUNCTION cache_context_key(exercise_type text, difficulty integer, topics text[]) RETURNS varchar(64)
LANGUAGE sql IMMUTABLE SET search_path FROM CURRENT AS $$
  SELECT encode(sha256(convert_to(
    '["exercise-cache/v1",' || to_json(exercise_type)::text || ',' || difficulty::text || ',[' ||
    coalesce((SELECT string_agg(to_json(t)::text, ',' ORDER BY n) FROM unnest(cache_context_topics(topics)) WITH ORDINALITY AS u(t, n)), '') ||
    ']]', 'UTF8')), 'hex')
$$;

CREATE FUNCTION cache_user_context_hash(difficulty integer, topics text[]) RETURNS varchar(64)
LANGUAGE sql IMMUTABLE SET search_path FROM CURRENT AS $$
  SELECT encode(sha256(convert_to(
    '["exercise-cache/v1",' || difficulty::text || ',[' ||
    coalesce((SELECT string_agg(to_json(t)::text, ',' ORDER BY n) FROM unnest(cache_context_topics(topics)) WITH ORDINALITY AS u(t, n)), '') ||
    ']]', 'UTF8')), 'hex')
$$;

CREATE FUNCTION cache_fill_guide_insert() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  NEW.topics := coalesce(NEW.topics, ARRAY[]::text[]);
  NEW.context_key := cache_context_key(NEW.exercise_type, NEW.difficulty, NEW.topics);
  NEW.user_context_hash := cache_user_context_hash(NEW.difficulty, NEW.topics);
  NEW.variant := coalesce(
    (SELECT min(slot) FROM generate_series(1, 20) AS slot
     WHERE NOT EXISTS (SELECT 1 FROM exercise_cache c WHERE c.context_key = NEW.context_key AND c.variant = slot)),
    NEW.variant);
  RETURN NEW;
END;
$$;

CREATE TRIGGER exercise_cache_guide_insert
  BEFORE INSERT ON exercise_cache
  FOR EACH ROW WHEN (NEW.context_key IS NULL)
  EXECUTE FUNCTION cache_fill_guide_insert();
