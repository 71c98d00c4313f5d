import assert from 'node:assert/strict';
import { isPublished, lineageParameters, rawChanged, type Lineage } from '../../../core/lineage';

const lineage: Lineage = {
  manifestFingerprint: 'fp-1',
  rawObjects: 2,
  rawBytes: 1234,
  counts: { rawLines: 10, curatedRows: 7, rejected: 2, duplicates: 1 },
  unknownFields: ['campaign', 'ab_test'],
  curateQueryId: 'q-curate',
  validateQueryId: 'q-validate',
  workflowId: 'clickstream-hour:t:2024-03-01T07',
  runId: 'run-1',
  publishedAt: '2024-03-01T08:05:00.000Z',
};

describe('core/lineage: what a published partition records, written and read in one place', () => {
  it('writes Glue-style string parameters, validated included', () => {
    assert.deepEqual(lineageParameters(lineage), {
      validated: 'true',
      manifest_fingerprint: 'fp-1',
      raw_objects: '2',
      raw_bytes: '1234',
      raw_lines: '10',
      curated_rows: '7',
      rejected: '2',
      duplicates: '1',
      unknown_fields: 'campaign,ab_test',
      curate_query_id: 'q-curate',
      validate_query_id: 'q-validate',
      workflow_id: 'clickstream-hour:t:2024-03-01T07',
      run_id: 'run-1',
      published_at: '2024-03-01T08:05:00.000Z',
    });
  });

  it('isPublished: only what publish wrote; never a missing, unvalidated or foreign partition', () => {
    assert.equal(isPublished(lineageParameters(lineage)), true);
    assert.equal(isPublished(undefined), false);
    assert.equal(isPublished({}), false);
    assert.equal(isPublished({ validated: 'false' }), false);
    assert.equal(isPublished({ validated: 'TRUE' }), false);
  });

  it('rawChanged: a published hour whose manifest fingerprint differs; never an unpublished one', () => {
    const params = lineageParameters(lineage);
    assert.equal(rawChanged(params, 'fp-1'), false);
    assert.equal(rawChanged(params, 'fp-2'), true);
    assert.equal(rawChanged(undefined, 'fp-2'), false);
    assert.equal(rawChanged({ manifest_fingerprint: 'fp-1' }, 'fp-2'), false);
  });
});
