/** Runs the real `clickstream` CLI (bin/clickstream.js, or its sources through tsx) as a child process. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ROOT = path.resolve(__dirname, '..', '..');
/** What `npx clickstream` runs: the compiled CLI when its build is fresh. */
export const CLI_BIN = [path.join(ROOT, 'bin', 'clickstream.js')];
/** The CLI's TypeScript through tsx: the path bin/clickstream.js takes when a source is newer than the build. */
export const CLI_SOURCES = ['--require', 'tsx/cjs', path.join(ROOT, 'cli', 'clickstream.ts')];

export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000, cli: string[] = CLI_BIN): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // Only the variables a test sets: an operator's CLICKSTREAM_* settings, a Temporal address and
    // a parent's --import tsx (NODE_OPTIONS) must not leak in.
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLICKSTREAM_') && k !== 'TEMPORAL_ADDRESS' && k !== 'NODE_OPTIONS'));
    const child = spawn(process.execPath, [...cli, ...args], { env: { ...clean, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
