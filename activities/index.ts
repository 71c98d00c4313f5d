/**
 * createActivities(deps): the pipeline's steps wired to their ports. Workflows import only
 * the type of this object, never the implementations.
 */
import type { ActivityDeps } from './deps';
import { makeCurateToStaging } from './curateToStaging';
import { withErrorBoundary } from './errorBoundary';
import { makePlanBackfillHours } from './planBackfillHours';
import { makePublishPartition } from './publishPartition';
import { makeRegisterRawPartition } from './registerRawPartition';
import { makeValidateStaging } from './validateStaging';
import { makeVerifyRawPartition } from './verifyRawPartition';

export function createActivities(deps: ActivityDeps) {
  return withErrorBoundary({
    verifyRawPartition: makeVerifyRawPartition(deps),
    registerRawPartition: makeRegisterRawPartition(deps),
    curateToStaging: makeCurateToStaging(deps),
    validateStaging: makeValidateStaging(deps),
    publishPartition: makePublishPartition(deps),
    planBackfillHours: makePlanBackfillHours(deps),
  });
}

export type PipelineActivities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps';
