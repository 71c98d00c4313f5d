/** `npm run setup:temporal`: resolves or builds the pinned Temporal CLI and prints its path. */
import { resolveTemporalCli } from './temporalCli';

async function main() {
  const binary = await resolveTemporalCli({ install: true, log: (m) => console.error(m) });
  console.log(binary);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
