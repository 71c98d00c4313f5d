/**
 * The Hive DDL `clickstream ddl` prints describes exactly the tables GlueCatalog creates: it is
 * rendered from the same TableInput, and parsed back here the way a Hive reader of the text would.
 */
import assert from 'node:assert/strict';
import { ddlCommand } from '../../../cli/commands/ddl';
import { loadConfig } from '../../../config/config';
import { rawLinesTableDef, tableInput } from '../../../lake/aws/glueTables';
import { hiveBootstrapDdl, hiveCreateTable } from '../../../lake/aws/hiveDdl';
import { curatedTableDef, rawTableDef } from '../../../lake/tableDefinitions';
import type { TableDef } from '../../../lake/ports';

const config = loadConfig({}, {});
const tables = { database: config.tables.database, raw: config.tables.raw, curated: config.tables.curated };

/** Columns, partition keys, SerDe and formats as written in a Hive CREATE EXTERNAL TABLE. */
function parseHiveDdl(text: string) {
  const cols = /\(\s*([\s\S]*?)\)\s*PARTITIONED BY/.exec(text)![1]!;
  const parts = /PARTITIONED BY \(([^)]*)\)/.exec(text)![1]!;
  const pairs = (s: string) => s.split(',').map((c) => c.trim().split(/\s+/)).map(([n, t]) => ({ name: n!, type: t! }));
  const props = (s: string | undefined) => Object.fromEntries([...(s ?? '').matchAll(/'([^']+)'\s*=\s*'([^']*)'/g)].map((m) => [m[1]!, m[2]!]));
  return {
    table: /^CREATE EXTERNAL TABLE IF NOT EXISTS (\w+)\.(\w+) \(/.exec(text)?.slice(1),
    columns: pairs(cols),
    partitionKeys: pairs(parts),
    serde: /ROW FORMAT SERDE '([^']+)'/.exec(text)![1],
    // To the end of its line: a value may hold a parenthesis (the RegexSerDe's '^(.*)$').
    serdeParameters: props(/^WITH SERDEPROPERTIES \((.*)\)$/m.exec(text)?.[1]),
    input: /INPUTFORMAT '([^']+)'/.exec(text)![1],
    output: /OUTPUTFORMAT '([^']+)'/.exec(text)![1],
    location: /LOCATION '([^']+)'/.exec(text)![1],
    tblproperties: props(/TBLPROPERTIES \(([\s\S]*?)\)\s*$/.exec(text.trim())?.[1]),
  };
}

describe('lake/aws/hiveDdl: the Glue tables as Hive DDL', () => {
  const raw = rawTableDef(config.lake, tables.database, tables.raw);
  const cases: [string, TableDef][] = [
    ['raw', raw],
    ['raw lines', rawLinesTableDef(raw)],
    ['curated', curatedTableDef(config.lake, tables.database, tables.curated)],
  ];

  for (const [what, def] of cases) {
    it(`the ${what} table's DDL describes the table GlueCatalog creates`, () => {
      const ddl = parseHiveDdl(hiveCreateTable(def));
      const glue = tableInput(def);
      const sd = glue.StorageDescriptor!;
      assert.deepEqual(ddl.table, [def.database, def.name]);
      assert.deepEqual(ddl.columns, sd.Columns!.map((c) => ({ name: c.Name, type: c.Type })));
      assert.deepEqual(ddl.partitionKeys, glue.PartitionKeys!.map((c) => ({ name: c.Name, type: c.Type })));
      assert.equal(ddl.serde, sd.SerdeInfo!.SerializationLibrary);
      assert.equal(ddl.input, sd.InputFormat);
      assert.equal(ddl.output, sd.OutputFormat);
      assert.deepEqual(ddl.serdeParameters, sd.SerdeInfo!.Parameters);
      assert.equal(ddl.location, sd.Location);
      // Every table property the Glue route sets, except its own bookkeeping, is in the DDL with the same value.
      const ours = Object.keys(glue.Parameters!).filter((k) => k !== 'EXTERNAL' && k !== 'clickstream.serde');
      assert.deepEqual(Object.keys(ddl.tblproperties).sort(), ours.sort());
      for (const [k, v] of Object.entries(ddl.tblproperties)) assert.equal(v, glue.Parameters![k], `table property ${k}`);
    });
  }

  it('the raw table reads JSON leniently; its lines companion projects partitions; the curated table is Parquet', () => {
    const [rawDdl, linesDdl, curatedDdl] = cases.map(([, def]) => hiveCreateTable(def));
    assert.ok(rawDdl!.includes(`WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')`));
    assert.ok(linesDdl!.includes(`'storage.location.template' = '${raw.location}year=\${year}/month=\${month}/day=\${day}/hour=\${hour}/'`));
    assert.match(curatedDdl!, /ROW FORMAT SERDE 'org\.apache\.hadoop\.hive\.ql\.io\.parquet\.serde\.ParquetHiveSerDe'/);
  });

  it('the bootstrap creates the database, then the tables in the order GlueCatalog does', () => {
    const statements = hiveBootstrapDdl(config.lake, tables);
    assert.equal(statements[0], `CREATE DATABASE IF NOT EXISTS ${tables.database}`);
    assert.deepEqual(
      statements.slice(1).map((s) => parseHiveDdl(s).table![1]),
      cases.map(([, def]) => def.name),
    );
  });

  it('clickstream ddl prints those statements with the configured names, each ended by a semicolon', () => {
    const cfg = loadConfig({}, { CLICKSTREAM_DATABASE: 'analytics', CLICKSTREAM_BUCKET: 'other-lake' });
    const printed: string[] = [];
    ddlCommand(cfg, { out: (l) => printed.push(l), err: () => assert.fail('nothing on stderr') });
    const statements = printed.join('\n').split(/;\n\n|;$/).filter(Boolean);
    assert.deepEqual(statements, hiveBootstrapDdl(cfg.lake, cfg.tables));
    assert.match(statements[1]!, /^CREATE EXTERNAL TABLE IF NOT EXISTS analytics\.clickstream_events \(/);
    assert.ok(statements[1]!.includes(`LOCATION 's3://other-lake/raw/clickstream/'`));
  });

  it('refuses an identifier outside the strict pattern and a literal that could end its quotes', () => {
    assert.throws(() => hiveBootstrapDdl(config.lake, { ...tables, database: 'x; DROP' }), /does not match/);
    assert.throws(() => hiveCreateTable({ ...raw, location: "s3://b/it's/" }), /holds a quote/);
  });
});
