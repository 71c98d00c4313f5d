/**
 * `clickstream ddl`: the database and tables the worker creates through Glue, as Hive DDL for a
 * manual bootstrap in the Athena console, with the configured names and locations. Rendered from
 * lake/tableDefinitions.ts (lake/aws/hiveDdl.ts), so it never drifts from what the worker creates.
 */
import type { PipelineConfig } from '../../config/config';
import { hiveBootstrapDdl } from '../../lake/aws/hiveDdl';
import type { CliIo } from '../cliIo';

export function ddlCommand(cfg: PipelineConfig, io: CliIo): void {
  // One statement at a time, each ended by ';': the Athena console runs one per execution.
  io.out(hiveBootstrapDdl(cfg.lake, cfg.tables).map((s) => `${s};`).join('\n\n'));
}
