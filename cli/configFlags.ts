/** Global CLI flags that override configuration (same names as the env vars, minus the prefix). */
import type { Command } from 'commander';
import { loadConfig, type ConfigEnvName, type PipelineConfig } from '../config/config';

const FLAGS: Array<[flag: string, env: ConfigEnvName, help: string]> = [
  ['--backend <name>', 'CLICKSTREAM_BACKEND', 'local (default: DuckDB over a lake folder), aws (S3, Glue, Athena) or trino (S3, Glue, Trino)'],
  ['--lake-dir <path>', 'CLICKSTREAM_LAKE_DIR', 'lake folder for the local backend (default ./lake-data)'],
  ['--temporal-address <host:port>', 'TEMPORAL_ADDRESS', 'Temporal frontend (default localhost:7233)'],
  ['--namespace <name>', 'TEMPORAL_NAMESPACE', 'Temporal namespace (default "default")'],
  ['--task-queue <name>', 'CLICKSTREAM_TASK_QUEUE', 'task queue (default clickstream-lake)'],
];

export function addConfigFlags(cmd: Command): Command {
  for (const [flag, , help] of FLAGS) cmd.option(flag, help);
  return cmd;
}

/** Config from env plus whichever global flags were given. */
export function configFromFlags(opts: Record<string, unknown>): PipelineConfig {
  return loadConfig(process.env, configOverridesFromFlags(opts));
}

export function configOverridesFromFlags(opts: Record<string, unknown>): Partial<Record<ConfigEnvName, string>> {
  const overrides: Partial<Record<ConfigEnvName, string>> = {};
  for (const [flag, env] of FLAGS) {
    // commander stores --lake-dir as opts.lakeDir
    const key = flag.split(' ')[0]!.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (typeof opts[key] === 'string') overrides[env] = opts[key] as string;
  }
  return overrides;
}

/**
 * The command the argv names (`clickstream [global flags] <command> ...`), or undefined for bare
 * `clickstream`/`--help`. `help <command>` names that command. Only the global flags come before
 * the command, and each takes a value, so a word after a flag is that flag's value.
 */
export function invokedCommand(args: string[]): string | undefined {
  const takesValue = new Set(FLAGS.map(([flag]) => flag.split(' ')[0]!));
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return args[i + 1];
    if (takesValue.has(a)) i++;
    else if (!a.startsWith('-') && a !== 'help') return a;
  }
  return undefined;
}
