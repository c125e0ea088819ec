-- NB: no semicolons in comments: the schema engine splits scripts on them.
-- Stale grace: how long after expires_at an entry may still be served stale (stale-if-error), so
-- cleanup must keep it that long. Set on every write from the writer's setting. An expired row in
-- its grace is still expired for every view and lookup: only cleanup waits for it.

-- AlterTable
ALTER TABLE "exercise_cache" ADD COLUMN "stale_grace_seconds" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "exercise_cache" ADD CONSTRAINT "exercise_cache_stale_grace_valid" CHECK ("stale_grace_seconds" >= 0);

-- Same signature as before. expires_at <= now() lets idx_exercise_expires_at find the expired rows
-- and the second condition keeps those still in their grace.
CREATE OR REPLACE FUNCTION cleanup_expired_exercises() RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  deleted integer;
BEGIN
  DELETE FROM exercise_cache
  WHERE expires_at <= now() AND expires_at + make_interval(secs => stale_grace_seconds) <= now();
  GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted;
END;
$$;
