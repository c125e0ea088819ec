-- NB: no semicolons in comments: the schema engine splits scripts on them.
-- Generator versions: the prompt or model version an entry was generated with (NULL: none named).
-- A lookup naming a version serves only entries of that version, a check on the row it already
-- reads, and the retire job removes entries of every other version.

-- AlterTable
ALTER TABLE "exercise_cache" ADD COLUMN "generator_version" VARCHAR(100);

-- CreateIndex
CREATE INDEX "idx_exercise_generator_version" ON "exercise_cache"("generator_version");

-- The same rule as the service's: 1..100 printable ASCII characters.
ALTER TABLE "exercise_cache" ADD CONSTRAINT "exercise_cache_generator_version_valid" CHECK ("generator_version" ~ '^[ -~]{1,100}$');
