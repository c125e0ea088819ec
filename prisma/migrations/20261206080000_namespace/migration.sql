-- NB: no semicolons in comments: the schema engine splits scripts on them.
-- Namespaces: an optional partition of the cache (a tenant, locale or course). NULL is the
-- namespace-less cache every entry stored before this migration belongs to. The namespace is part
-- of the cache key as well, so a lookup by key never crosses it. The column serves the queries
-- that are not by key: near misses, removing a namespace and statistics per namespace.

-- AlterTable
ALTER TABLE "exercise_cache" ADD COLUMN "namespace" VARCHAR(64);

-- CreateIndex
CREATE INDEX "idx_exercise_namespace" ON "exercise_cache"("namespace");

-- The same rule as the service's, so no other writer can store a namespace a lookup could not name.
ALTER TABLE "exercise_cache" ADD CONSTRAINT "exercise_cache_namespace_valid" CHECK ("namespace" ~ '^[a-z0-9_.:-]{1,64}$');
