/**
 * The plain `temporal` CLI command equivalent to what a clickstream command just did, printed so
 * operators learn (and can script) the underlying Temporal operation. Arguments are shell-quoted.
 */
import type { PipelineConfig } from '../config/config';

const DEFAULT_ADDRESS = 'localhost:7233';
const DEFAULT_NAMESPACE = 'default';

/** POSIX shell quoting: bare when safe, else single quotes ('\'' for an embedded quote). */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_\-./=:@%+,]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** `temporal <args...>`, plus --address/--namespace when they differ from the temporal CLI's defaults. */
export function temporalCommand(config: PipelineConfig, args: string[]): string {
  return ['temporal', ...temporalArgv(config, args)].map(shellQuote).join(' ');
}

/** The argv form of the same command (tests run it with the real binary). */
export function temporalArgv(config: PipelineConfig, args: string[]): string[] {
  const argv = [...args];
  if (config.temporal.address !== DEFAULT_ADDRESS) argv.push('--address', config.temporal.address);
  if (config.temporal.namespace !== DEFAULT_NAMESPACE) argv.push('--namespace', config.temporal.namespace);
  return argv;
}
