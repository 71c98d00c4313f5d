/**
 * Counts engine queries where they are made: a QueryEngine wrapper that appends one JSON line per
 * start() to a log file (synchronously, so a kill -9 right after loses nothing), decoding the
 * idempotency token back to (hour, step, run, epoch) from the activity context that issued it.
 * Several worker processes may append to the same file; each line carries its pid.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { queryToken } from '../../../activities/queryToken';
import { parseHour } from '../../../core/hours';
import type { QueryEngine } from '../../../lake/ports';

/** Activity type -> the step name the token was built with. */
const STEPS: Record<string, string> = { curateToStaging: 'curate', validateStaging: 'validate' };
const MAX_EPOCH = 50;

export interface QueryLogEntry {
  ev: 'start-request' | 'started';
  pid: number;
  at: number;
  token: string;
  hour: string | null;
  step: string | null;
  runId: string | null;
  /** null when the token did not decode: a token the pipeline's own rule did not build. */
  epoch: number | null;
  attempt: number | null;
  /** 'started' only: the engine's id, and whether this start created a query (false: an idempotent re-start). */
  queryId?: string;
  submitted?: boolean;
}

export function withQueryLog(engine: QueryEngine, opts: { file: string; table: string }): QueryEngine {
  const seenIds = new Set<string>();
  const write = (e: QueryLogEntry) => appendFileSync(opts.file, JSON.stringify(e) + '\n');
  return {
    queriesOutliveWorker: engine.queriesOutliveWorker,
    async start(request) {
      const origin = decodeToken(request.idempotencyToken, opts.table);
      const base = { pid: process.pid, token: request.idempotencyToken, ...origin };
      // Logged before the call too: a process killed inside start() may have submitted a query.
      write({ ev: 'start-request', at: Date.now(), ...base });
      const queryId = await engine.start(request);
      const submitted = !seenIds.has(queryId);
      seenIds.add(queryId);
      write({ ev: 'started', at: Date.now(), ...base, queryId, submitted });
      return queryId;
    },
    status: (id) => engine.status(id),
    results: (id) => engine.results(id),
    cancel: (id) => engine.cancel(id),
    // Forwarded, or a Trino query could not be taken over by the next worker.
    handoff: (id) => engine.handoff?.(id),
    resume: (id, handoff) => engine.resume?.(id, handoff),
  };
}

/** Reverses the token: hour from the workflow id, step from the activity type, run id, then the epoch that matches. */
function decodeToken(token: string, table: string): Pick<QueryLogEntry, 'hour' | 'step' | 'runId' | 'epoch' | 'attempt'> {
  let info;
  try {
    info = Context.current().info;
  } catch {
    return { hour: null, step: null, runId: null, epoch: null, attempt: null };
  }
  const hour = /:(\d{4}-\d{2}-\d{2}T\d{2})$/.exec(info.workflowExecution?.workflowId ?? '')?.[1] ?? null;
  const step = STEPS[info.activityType] ?? null;
  const runId = info.workflowExecution?.runId ?? null;
  let epoch: number | null = null;
  if (hour && step && runId) {
    for (let e = 0; e <= MAX_EPOCH && epoch === null; e++) if (queryToken(table, parseHour(hour), step, runId, e) === token) epoch = e;
  }
  return { hour, step, runId, epoch, attempt: info.attempt };
}

export function readQueryLog(file: string): QueryLogEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as QueryLogEntry);
}

export interface QueryLogSummary {
  /** Queries created, over all processes. */
  submissions: number;
  /** (hour, step, run, epoch) keys that were submitted more than once, with the pids and attempts. */
  repeatedTokens: Array<{ key: string; submissions: Array<{ pid: number; attempt: number | null }> }>;
  /** (hour, step, run) -> the epochs it used. */
  epochs: Map<string, number[]>;
  undecoded: QueryLogEntry[];
}

export function summarizeQueryLog(entries: QueryLogEntry[]): QueryLogSummary {
  const submitted = entries.filter((e) => e.ev === 'started' && e.submitted);
  const byToken = new Map<string, QueryLogEntry[]>();
  for (const e of submitted) byToken.set(e.token, [...(byToken.get(e.token) ?? []), e]);
  const epochs = new Map<string, number[]>();
  for (const e of submitted) {
    if (e.epoch === null) continue;
    const k = `${e.hour}|${e.step}|${e.runId}`;
    const list = epochs.get(k) ?? [];
    if (!list.includes(e.epoch)) list.push(e.epoch);
    epochs.set(k, list.sort((a, b) => a - b));
  }
  return {
    submissions: submitted.length,
    repeatedTokens: [...byToken.values()]
      .filter((list) => list.length > 1)
      .map((list) => ({
        key: `${list[0]!.hour}|${list[0]!.step}|${list[0]!.runId}|${list[0]!.epoch}`,
        submissions: list.map((e) => ({ pid: e.pid, attempt: e.attempt })),
      })),
    epochs,
    undecoded: entries.filter((e) => e.epoch === null),
  };
}
