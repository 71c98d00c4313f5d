import { createHash } from 'node:crypto';
import type { Hour } from '../core/hours';
import { queryTokenSource } from '../core/ids';

/** A 64-hex-char engine idempotency token (Athena accepts 32-128) for one step, run and epoch. */
export function queryToken(table: string, hour: Hour, step: string, runId: string, epoch: number): string {
  return createHash('sha256').update(queryTokenSource(table, hour, step, `${runId}.${epoch}`)).digest('hex');
}
