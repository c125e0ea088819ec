-- CreateTable
CREATE TABLE "exercise_cache" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "cache_key" VARCHAR(64) NOT NULL,
    "context_key" VARCHAR(64) NOT NULL,
    "variant" INTEGER NOT NULL DEFAULT 1,
    "exercise_type" VARCHAR(50) NOT NULL,
    "exercise_data" JSONB NOT NULL,
    "user_context_hash" VARCHAR(64) NOT NULL,
    "difficulty" INTEGER NOT NULL,
    "topics" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "usage_count" INTEGER NOT NULL DEFAULT 0,
    "last_used_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "generation_cost" DECIMAL(10,6) NOT NULL DEFAULT 0.003,
    "generation_time_ms" INTEGER,

    CONSTRAINT "exercise_cache_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "exercise_cache_lookup_stats" (
    "day" DATE NOT NULL,
    "exercise_type" VARCHAR(50) NOT NULL,
    "difficulty" INTEGER NOT NULL,
    "hits" BIGINT NOT NULL DEFAULT 0,
    "near_hits" BIGINT NOT NULL DEFAULT 0,
    "misses" BIGINT NOT NULL DEFAULT 0,
    "cost_saved" DECIMAL(16,6) NOT NULL DEFAULT 0,

    CONSTRAINT "exercise_cache_lookup_stats_pkey" PRIMARY KEY ("day","exercise_type","difficulty")
);

-- CreateTable
CREATE TABLE "exercise_cache_maintenance_runs" (
    "id" BIGSERIAL NOT NULL,
    "job" VARCHAR(20) NOT NULL,
    "status" VARCHAR(10) NOT NULL,
    "affected" INTEGER,
    "duration_ms" INTEGER,
    "error" TEXT,
    "instance" VARCHAR(100) NOT NULL,
    "trigger" VARCHAR(10) NOT NULL,
    "started_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(6),

    CONSTRAINT "exercise_cache_maintenance_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "idx_exercise_cache_key" ON "exercise_cache"("cache_key");

-- CreateIndex
CREATE INDEX "idx_exercise_type_difficulty" ON "exercise_cache"("exercise_type", "difficulty");

-- CreateIndex
CREATE INDEX "idx_exercise_expires_at" ON "exercise_cache"("expires_at");

-- CreateIndex
CREATE INDEX "idx_exercise_last_used" ON "exercise_cache"("last_used_at", "usage_count");

-- CreateIndex
CREATE INDEX "idx_exercise_usage_count" ON "exercise_cache"("usage_count" DESC);

-- CreateIndex
CREATE INDEX "idx_exercise_lookup" ON "exercise_cache"("context_key", "variant");

-- CreateIndex
CREATE INDEX "idx_exercise_active" ON "exercise_cache"("exercise_type", "expires_at");

-- CreateIndex
CREATE INDEX "idx_exercise_context_hash" ON "exercise_cache"("user_context_hash");

-- CreateIndex
CREATE INDEX "idx_maintenance_runs_job_started" ON "exercise_cache_maintenance_runs"("job", "started_at" DESC);
