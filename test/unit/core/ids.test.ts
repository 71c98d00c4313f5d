import assert from 'node:assert/strict';
import { parseHour } from '../../../core/hours';
import { hourWorkflowId, hourlyScheduleId, queryTokenSource } from '../../../core/ids';

describe('core/ids', () => {
  it('hourWorkflowId is built from the business keys only, so two starters of one hour collide', () => {
    const a = hourWorkflowId('clickstream_events_curated', parseHour('2024-03-01T07'));
    const b = hourWorkflowId('clickstream_events_curated', parseHour('2024-03-01T07'));
    assert.equal(a, 'clickstream-hour:clickstream_events_curated:2024-03-01T07');
    assert.equal(a, b);
  });

  it('hourWorkflowId differs per hour and per table', () => {
    const ids = new Set<string>();
    for (const table of ['t_a', 't_b']) {
      for (const hour of ['2024-03-01T07', '2024-03-01T08', '2024-03-02T07', '2025-03-01T07']) ids.add(hourWorkflowId(table, parseHour(hour)));
    }
    assert.equal(ids.size, 8);
  });

  it('hourlyScheduleId is per table', () => {
    assert.equal(hourlyScheduleId('t_a'), 'clickstream-hourly:t_a');
    assert.notEqual(hourlyScheduleId('t_a'), hourlyScheduleId('t_b'));
  });

  it('queryTokenSource joins table, hour, step and epoch', () => {
    assert.equal(queryTokenSource('t', parseHour('2024-03-01T07'), 'curate', 'run-1.0'), 't|2024-03-01T07|curate|run-1.0');
  });
});
