/**
 * Installs the Temporal SDK's Runtime for a worker process. With CLICKSTREAM_SDK_METRICS_PORT set,
 * the SDK's own Prometheus exporter (Rust core: workflow and activity task latencies, slots,
 * sticky cache, poll counts) serves GET /metrics on that port; it cannot share the pipeline's
 * endpoint, because the exporter binds its own socket inside the native runtime.
 * Must run before the first connection or worker is created: the Runtime is installed once per process.
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { PipelineConfig } from '../config/config';

export function installRuntime(config: PipelineConfig, opts: { logLevel?: LogLevel } = {}): void {
  const sdkPort = config.metrics.sdkPort;
  Runtime.install({
    ...(opts.logLevel ? { logger: new DefaultLogger(opts.logLevel) } : {}),
    ...(sdkPort === undefined
      ? {}
      : {
          telemetryOptions: {
            // Seconds and _total suffixes: the names then follow Prometheus conventions, like the pipeline's own.
            metrics: { prometheus: { bindAddress: `0.0.0.0:${sdkPort}`, countersTotalSuffix: true, useSecondsForDurations: true } },
          },
        }),
  });
}
