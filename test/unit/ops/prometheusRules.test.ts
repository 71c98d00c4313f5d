import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { prometheusTool, RULES_FILE, RULES_TEST_FILE } from '../../support/prometheus';

/** The shipped alert rules parse, and fire (or stay quiet) on the series in ops/prometheus/rules.test.yml. */
describe('ops/prometheus/rules.yml through promtool (Debian prometheus 2.42)', () => {
  const promtool = (...args: string[]) => {
    const r = spawnSync(prometheusTool('promtool'), args, { cwd: path.dirname(RULES_FILE), encoding: 'utf8' });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };

  it('promtool check rules: every rule parses and the file is lint-clean', () => {
    const r = promtool('check', 'rules', RULES_FILE);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /SUCCESS: 4 rules found/);
  });

  it('promtool test rules: each alert fires on its case and not on the healthy ones', () => {
    const r = promtool('test', 'rules', RULES_TEST_FILE);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });
});
