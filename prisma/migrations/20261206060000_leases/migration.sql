-- Leases (memcache leases, "Scaling Memcache at Facebook", NSDI 2013): on a miss, one caller per
-- variant slot of a context gets a token and generates, the others wait for its exercise. The
-- row is the lease, so it is shared by every replica and survives a restart.

-- CreateTable
CREATE TABLE "exercise_cache_leases" (
    "lease_key" VARCHAR(64) NOT NULL,
    "context_key" VARCHAR(64) NOT NULL,
    "variant" INTEGER NOT NULL,
    "token" VARCHAR(32) NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "exercise_cache_leases_pkey" PRIMARY KEY ("lease_key")
);

-- CreateIndex
CREATE UNIQUE INDEX "idx_exercise_cache_leases_token" ON "exercise_cache_leases"("token");

-- CreateIndex
CREATE INDEX "idx_exercise_cache_leases_expires_at" ON "exercise_cache_leases"("expires_at");
