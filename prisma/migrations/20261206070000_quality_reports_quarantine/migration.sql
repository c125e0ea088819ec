-- NB: no semicolons in comments: the schema engine splits scripts on them.
-- Learner reports and quarantine. A quarantined entry keeps its row (cleanup and eviction still
-- apply to it) but every serving query filters on quarantined_at IS NULL, a check on the row the
-- lookup already reads, so a cache hit costs no extra query.

-- AlterTable
ALTER TABLE "exercise_cache" ADD COLUMN "quarantined_at" TIMESTAMPTZ(6);

-- CreateTable
CREATE TABLE "exercise_cache_reports" (
    "id" BIGSERIAL NOT NULL,
    "cache_key" VARCHAR(64) NOT NULL,
    "entry_created_at" TIMESTAMPTZ(6) NOT NULL,
    "exercise_type" VARCHAR(50) NOT NULL,
    "reporter" VARCHAR(200),
    "reason" VARCHAR(500) NOT NULL,
    "reported_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dismissed_at" TIMESTAMPTZ(6),

    CONSTRAINT "exercise_cache_reports_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "idx_exercise_reports_one_per_reporter" ON "exercise_cache_reports"("cache_key", "entry_created_at", "reporter");

-- CreateIndex
CREATE INDEX "idx_exercise_reports_type" ON "exercise_cache_reports"("exercise_type");

-- Only quarantined rows are listed, so the index holds only them.
CREATE INDEX "idx_exercise_quarantined" ON "exercise_cache" ("quarantined_at") WHERE quarantined_at IS NOT NULL;
