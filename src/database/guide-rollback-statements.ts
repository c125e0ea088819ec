/**
 * The guide's Rollback section, statement for statement, unqualified: they run with search_path
 * set to the cache's schema. Also how adopting the guide's migration 007 removes its objects.
 */
export const GUIDE_ROLLBACK_STATEMENTS = [
  'DROP MATERIALIZED VIEW IF EXISTS exercise_cache_daily_metrics',
  'DROP VIEW IF EXISTS exercise_cache_stats',
  'DROP VIEW IF EXISTS exercise_cache_overview',
  'DROP VIEW IF EXISTS expired_exercises',
  'DROP FUNCTION IF EXISTS cleanup_expired_exercises()',
  'DROP FUNCTION IF EXISTS evict_lru_exercises(INTEGER)',
  'DROP FUNCTION IF EXISTS get_exercise_cache_stats()',
  'DROP FUNCTION IF EXISTS get_overall_cache_stats()',
  'DROP FUNCTION IF EXISTS get_popular_exercises(INTEGER)',
  'DROP FUNCTION IF EXISTS get_lru_exercises(INTEGER)',
  'DROP FUNCTION IF EXISTS refresh_exercise_cache_metrics()',
  'DROP TABLE IF EXISTS exercise_cache',
];
