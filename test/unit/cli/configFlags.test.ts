import assert from 'node:assert/strict';
import { invokedCommand } from '../../../cli/configFlags';

describe('cli/configFlags invokedCommand: which command the CLI loads in full', () => {
  const cases: Array<[string[], string | undefined]> = [
    [[], undefined],
    [['--help'], undefined],
    [['-h'], undefined],
    [['backfill', 'start', '--from', 'x'], 'backfill'],
    // A global flag's value is not the command.
    [['--backend', 'trino', 'partitions', '--json'], 'partitions'],
    [['--lake-dir', 'schedule', 'reconcile'], 'reconcile'],
    [['--lake-dir=/tmp/x', 'schedule', 'describe'], 'schedule'],
    [['--temporal-address', 'localhost:7233', '--namespace', 'ns', '--task-queue', 'q', 'backfill'], 'backfill'],
    // `help <command>` shows that command's help, so that command is loaded.
    [['help', 'schedule'], 'schedule'],
    [['help'], undefined],
    [['--', 'backfill'], 'backfill'],
  ];
  for (const [args, expected] of cases) {
    it(`${JSON.stringify(args)} -> ${String(expected)}`, () => {
      assert.equal(invokedCommand(args), expected);
    });
  }
});
