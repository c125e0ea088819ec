-- NB: no semicolons in comments: the schema engine splits scripts on them.
-- Stale-while-revalidate (RFC 5861): past expires_at and within this many seconds, a lookup
-- serves the entry as stale while one caller regenerates it. Kept apart from
-- stale_grace_seconds, which becomes the larger of this window and the stale-if-error window: a
-- lookup must know the revalidation window itself (a day of stale-if-error must not turn into a
-- day of stale answers), while cleanup only needs the longest. cleanup_expired_exercises() is
-- unchanged. An expired row stays expired for every view and statistic.

-- AlterTable
ALTER TABLE "exercise_cache" ADD COLUMN "stale_while_revalidate_seconds" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "exercise_cache" ADD CONSTRAINT "exercise_cache_stale_while_revalidate_valid"
  CHECK ("stale_while_revalidate_seconds" >= 0 AND "stale_while_revalidate_seconds" <= "stale_grace_seconds");
