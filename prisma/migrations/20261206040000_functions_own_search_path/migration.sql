-- NB: no semicolons in comments: the schema engine splits scripts on them.
-- Every function of the cache names its tables unqualified. Pinning each function's search_path
-- to the one in force while migrations run (the cache's schema) makes them find the cache's
-- tables whatever the caller's search_path: an application's own pool, a pooler that refuses
-- startup parameters, psql without SET search_path. Views and the materialized view are bound
-- to their tables when created, so they need nothing.
ALTER FUNCTION cleanup_expired_exercises() SET search_path FROM CURRENT;
ALTER FUNCTION evict_lru_exercises(integer) SET search_path FROM CURRENT;
ALTER FUNCTION get_exercise_cache_stats() SET search_path FROM CURRENT;
ALTER FUNCTION get_overall_cache_stats() SET search_path FROM CURRENT;
ALTER FUNCTION get_popular_exercises(integer) SET search_path FROM CURRENT;
ALTER FUNCTION get_lru_exercises(integer) SET search_path FROM CURRENT;
ALTER FUNCTION refresh_exercise_cache_metrics() SET search_path FROM CURRENT;
