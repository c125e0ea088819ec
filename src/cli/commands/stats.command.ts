import type { Command } from 'commander';
import { CacheStatisticsService } from '../../cache/cache-statistics.service';
import { AppConfig } from '../../config/app-config';
import { QuarantineService } from '../../quality/quarantine/quarantine.service';
import { integer, money, percent, printJson, printLines, table } from '../output';
import type { Run } from './run';

export function registerStatsCommand(program: Command, run: Run): void {
  program
    .command('stats')
    .description('overall statistics, statistics per exercise type, and cache size against MAX_ENTRIES')
    .action((_options, command: Command) =>
      run(command, async (app, { json }) => {
        const statistics = app.get(CacheStatisticsService);
        const maxEntries = app.get(AppConfig).MAX_ENTRIES;
        const quarantine = app.get(QuarantineService);
        const overview = await quarantine.withOverallCounts(await statistics.stats());
        const byType = await quarantine.withCountsByType(await statistics.statsByType());
        if (json) return printJson({ overview, byType, maxEntries });
        const o = overview;
        const used = maxEntries > 0 ? (100 * o.activeEntries) / maxEntries : 0;
        printLines([
          `entries      ${integer(o.activeEntries)} live of ${integer(maxEntries)} (MAX_ENTRIES, ${used.toFixed(1)} % used), ${integer(o.expiredEntries)} expired`,
          `lookups      ${integer(o.totalLookups)}: ${integer(o.totalHits)} hits, ${integer(o.nearHits)} near hits, ${integer(o.totalMisses)} misses`,
          `hit rate     ${percent(o.cacheHitRate)} (near hits ${percent(o.nearHitRate)})`,
          `cost saved   ${money(o.totalCostSaved)} (stored entries cost ${money(o.totalGenerationCost)} to generate)`,
          `quality      ${integer(o.reports)} reports, ${integer(o.quarantinedEntries)} entries in quarantine`,
          '',
          ...(byType.length === 0
            ? ['no entries or lookups yet']
            : table(
                ['TYPE', 'LIVE', 'EXPIRED', 'LOOKUPS', 'HIT RATE', 'SAVED'],
                byType.map((t) => [
                  t.exerciseType,
                  integer(t.activeEntries),
                  integer(t.expiredEntries),
                  integer(t.totalLookups),
                  t.totalLookups > 0 ? percent(t.cacheHitRate) : '-',
                  money(t.estimatedCostSaved),
                ]),
                [false, true, true, true, true, true],
              )),
        ]);
      }),
    );
}
