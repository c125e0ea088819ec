-- NB: no semicolons in comments: the schema engine splits scripts on them.
-- evict_lru_exercises as first shipped ordered every active row newest first and skipped
-- max_entries of them (OFFSET without LIMIT). PostgreSQL plans that as a sequential scan plus a
-- sort of the whole table, never as a walk of idx_exercise_last_used. This version counts the
-- active rows once, then walks idx_exercise_last_used from the least recently used end for just
-- the rows over max_entries (ties: lower usage_count first, then cache_key) and deletes those
-- by primary key. Same signature, same result, expired rows still left to cleanup.
CREATE OR REPLACE FUNCTION evict_lru_exercises(max_entries integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  active_entries bigint;
  deleted integer;
BEGIN
  IF max_entries IS NULL OR max_entries < 0 THEN
    RAISE EXCEPTION 'max_entries must be a non-negative integer, got %', max_entries
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT count(*) INTO active_entries FROM exercise_cache WHERE expires_at > now();
  IF active_entries <= max_entries THEN
    RETURN 0;
  END IF;
  DELETE FROM exercise_cache
  WHERE id = ANY (ARRAY(
    SELECT id FROM exercise_cache
    WHERE expires_at > now()
    ORDER BY last_used_at, usage_count, cache_key
    LIMIT active_entries - max_entries
  ));
  GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted;
END;
$$;
