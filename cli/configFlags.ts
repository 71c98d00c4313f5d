/** Global CLI flags that override configuration (same names as the env vars, minus the prefix). */
import type { Command } from 'commander';
import { loadConfig, type ConfigEnvName, type PipelineConfig } from '../config/config';

const FLAGS: Array<[flag: string, env: ConfigEnvName, help: string]> = [
  ['--backend <name>', 'CLICKSTREAM_BACKEND', 'local (default) or aws'],
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
