/** The contract between bench/run.ts and one benchmark module. */
import type { Mode, TargetCheck } from './results';

export interface BenchContext {
  mode: Mode;
  quick: boolean;
  /** Progress lines on stderr (stdout stays free for the summary). */
  log(message: string): void;
}

export interface BenchOutput {
  params: Record<string, unknown>;
  targets: TargetCheck[];
  metrics: Record<string, unknown>;
  markdown: string;
  /**
   * Asserted budgets that were exceeded (B6's API-call budgets). Unlike a missed target these fail
   * the run, after the numbers are written: the budgets are part of the contract, not an aspiration.
   */
  failures?: string[];
}

export interface Benchmark {
  id: string;
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<BenchOutput>;
}

/**
 * Thrown when a benchmark cannot run here for a reason outside the harness (a backend not built
 * yet): reported as "not run" with the reason, and not a harness failure.
 */
export class BenchNotRunnable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchNotRunnable';
  }
}
