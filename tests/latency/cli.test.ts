import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLatency } from '../../scripts/latency/main.ts';
import { awsProfile, awsTableSource, tableStackName } from '../../scripts/latency/table-source.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { runEntry } from '../support/run-entry.ts';
import { seedCalls, type SeededCalls } from './fixtures.ts';

const NOW = Date.UTC(2025, 10, 25, 12, 0, 0);

interface Run {
  code: number;
  out: string;
  err: string;
}

describe('npm run latency', () => {
  let table: TestTable;
  let seeded: SeededCalls;
  let dir: string;

  /** Runs the command in a scratch folder (no .env there) with only the variables given. */
  async function latency(argv: string[], env: NodeJS.ProcessEnv = { DYNAMODB_ENDPOINT: table.endpoint, TABLE_NAME: table.name }): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runLatency(argv, { env: { ...env }, cwd: dir, now: NOW, out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  beforeAll(async () => {
    table = await createTestTable();
    seeded = await seedCalls(table, NOW);
    dir = await mkdtemp(join(tmpdir(), 'latency-'));
  });
  afterAll(async () => {
    await table.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a table per use case for the last calls', async () => {
    const run = await latency([]);
    expect(run.code).toBe(0);
    expect(run.out).toContain('Latency of the last 20 call(s) of the last 2 day(s)');
    expect(run.out).toContain(`from local table ${table.name} at ${table.endpoint} (from the environment)`);
    expect(run.out).toContain('Use case apartment-search: 1 call, 3 turns, 1 interrupted, 0 cold starts');
    expect(run.out).toMatch(/time to first word\s+3\s+410 ms\s+530 ms\s+530 ms/);
  });

  it('--call takes a CallSid or a session id and reports that call alone', async () => {
    const byCallSid = JSON.parse((await latency(['--call', seeded.a.callSid, '--json'])).out);
    expect(byCallSid.turns.map((t: { sessionId: string; turn: number }) => `${t.sessionId}#${t.turn}`)).toEqual([`${seeded.a.sessionId}#1`, `${seeded.a.sessionId}#2`]);
    expect(byCallSid.useCases).toHaveLength(1);
    expect(byCallSid.useCases[0].rows.find((r: { id: string }) => r.id === 'firstWord').spread).toEqual({ n: 2, p50: 305, p95: 410, max: 410 });

    const bySession = JSON.parse((await latency(['--call', seeded.b.sessionId, '--json'])).out);
    expect(new Set(bySession.turns.map((t: { sessionId: string }) => t.sessionId))).toEqual(new Set([seeded.b.sessionId]));

    const missing = await latency(['--call', 'CAmissing']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('No call "CAmissing"');
  });

  it('--calls, --days and --use-case narrow the selection', async () => {
    const sessions = async (argv: string[]) => [...new Set(JSON.parse((await latency([...argv, '--json'])).out).turns.map((t: { sessionId: string }) => t.sessionId))];
    expect(await sessions(['--calls', '1'])).toEqual([seeded.b.sessionId]);
    expect(await sessions(['--days', '1'])).toEqual([seeded.b.sessionId, seeded.a.sessionId]);
    expect(await sessions(['--use-case', 'default'])).toEqual([seeded.a.sessionId, seeded.c.sessionId]);
  });

  it('--html writes a well-formed page with one waterfall row per turn', async () => {
    const run = await latency(['--html', 'out.html']);
    expect(run.code).toBe(0);
    expect(run.err).toContain(join(dir, 'out.html'));
    const html = await readFile(join(dir, 'out.html'), 'utf8');
    expect(XMLValidator.validate(html)).toBe(true);
    expect(html.match(/<g class="turn-row"/g)).toHaveLength(6);
  });

  it('says clearly when there is no data', async () => {
    const empty = await createTestTable();
    try {
      const run = await latency([], { DYNAMODB_ENDPOINT: empty.endpoint, TABLE_NAME: empty.name });
      expect(run.code).toBe(0);
      expect(run.out).toContain('No turn records found');
    } finally {
      await empty.drop();
    }
  });

  it('finds the running local runtime through <DATA_DIR>/runtime.json, and says how to start it when absent', async () => {
    const dataDir = join(dir, 'data');
    const absent = await latency([], { DATA_DIR: dataDir });
    expect(absent.code).toBe(1);
    expect(absent.err).toContain(`no ${join(dataDir, 'runtime.json')}`);
    expect(absent.err).toContain('npm start');

    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'runtime.json'), JSON.stringify({ DYNAMODB_ENDPOINT: table.endpoint, TABLE_NAME: table.name, PORT: 8080 }));
    const found = await latency(['--calls', '1'], { DATA_DIR: dataDir });
    expect(found.code).toBe(0);
    expect(found.out).toContain(`(from ${join(dataDir, 'runtime.json')})`);
    expect(found.out).toContain('Use case apartment-search');

    // The runtime writes its pid: a file whose process is gone is a runtime that stopped without cleaning up.
    await writeFile(join(dataDir, 'runtime.json'), JSON.stringify({ DYNAMODB_ENDPOINT: table.endpoint, TABLE_NAME: table.name, pid: process.pid }));
    expect((await latency(['--calls', '1'], { DATA_DIR: dataDir })).code).toBe(0);
    const exited = await promisify(execFile)(process.execPath, ['-e', 'console.log(process.pid)']);
    await writeFile(join(dataDir, 'runtime.json'), JSON.stringify({ DYNAMODB_ENDPOINT: table.endpoint, TABLE_NAME: table.name, pid: Number(exited.stdout) }));
    const stale = await latency([], { DATA_DIR: dataDir });
    expect(stale.code).toBe(1);
    expect(stale.err).toContain('no longer running');

    await writeFile(join(dataDir, 'runtime.json'), JSON.stringify({ endpoint: table.endpoint }));
    const bad = await latency([], { DATA_DIR: dataDir });
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('expected DYNAMODB_ENDPOINT and TABLE_NAME');
  });

  it('tells a stale runtime.json (runtime stopped) from an error', async () => {
    // A port nothing listens on: the endpoint of a runtime that has stopped.
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const run = await latency([], { DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}`, TABLE_NAME: 'gone' });
    expect(run.code).toBe(1);
    expect(run.err).toContain('Is the local runtime running? Start it with `npm start`');
  });

  it('rejects bad options with the usage', async () => {
    for (const argv of [['--calls', '0'], ['--calls', 'many'], ['--bogus'], ['--table', 'x']]) {
      const run = await latency(argv);
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.err).toContain('Usage: npm run latency');
    }
    expect((await latency(['--help'])).out).toContain('--html FILE');
  });

  it('--aws names the table from --table or the table stack output, with the project profile', async () => {
    await mkdir(join(dir, '01_dynamodb'), { recursive: true });
    await writeFile(join(dir, '01_dynamodb', 'samconfig.toml'), '[default.global.parameters]\nstack_name = "my-table-stack"\n');
    await writeFile(join(dir, 'aws-profile.profile'), 'voice-dev\n');
    expect(await tableStackName(dir)).toBe('my-table-stack');
    expect(await awsProfile({}, dir)).toBe('voice-dev');
    expect(await awsProfile({ AWS_PROFILE: 'other' }, dir)).toBe('other');

    const asked: string[][] = [];
    const source = await awsTableSource({ env: { AWS_REGION: 'us-west-2' }, cwd: dir, cli: async (args) => (asked.push(args), 'cr-dynamodb-Table-ABC\n') });
    expect(source.table.name).toBe('cr-dynamodb-Table-ABC');
    expect(source.description).toBe('AWS table cr-dynamodb-Table-ABC (profile voice-dev, us-west-2)');
    expect(asked[0]).toEqual(expect.arrayContaining(['describe-stacks', '--stack-name', 'my-table-stack', '--profile', 'voice-dev', '--region', 'us-west-2']));
    source.table.doc.destroy();

    const named = await awsTableSource({ tableName: 'given', env: {}, cwd: dir, cli: async () => { throw new Error('not called'); } });
    expect(named.table.name).toBe('given');
    named.table.doc.destroy();

    const errors: string[] = [];
    const noStack = await runLatency(['--aws'], {
      env: {}, cwd: dir, now: NOW, out: () => undefined, err: (t) => errors.push(t),
      awsCli: async () => { throw Object.assign(new Error('failed'), { stderr: 'Stack with id my-table-stack does not exist' }); },
    });
    expect(noStack).toBe(1);
    expect(errors.join('\n')).toContain('Could not read the TableName output of stack my-table-stack with profile voice-dev: Stack with id my-table-stack does not exist');
    expect(errors.join('\n')).toContain('--table NAME');
  });

  it('runs as a command, on the real clock', async () => {
    const live = await createTestTable();
    try {
      const calls = await seedCalls(live, Date.now(), 'live');
      const run = await runEntry('scripts/latency.ts', ['--calls', '1', '--json'], {
        cwd: process.cwd(),
        env: { ...process.env, DYNAMODB_ENDPOINT: live.endpoint, TABLE_NAME: live.name },
      });
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(report.selection).toBe('the last 1 call(s) of the last 2 day(s)');
      expect(report.turns.map((t: { sessionId: string; turn: number }) => `${t.sessionId}#${t.turn}`)).toEqual([1, 2, 3].map((n) => `${calls.b.sessionId}#${n}`));
    } finally {
      await live.drop();
    }
  });
});
