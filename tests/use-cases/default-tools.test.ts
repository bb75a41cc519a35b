import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getProfile } from '../../layers/data/profiles.ts';
import { putUseCase } from '../../layers/data/use-cases.ts';
import type { ToolInvoker } from '../../layers/tools/contract.ts';
import { createInProcessToolInvoker } from '../../layers/tools/in-process-invoker.ts';
import { useCase } from '../../05_use-case-default/src/index.ts';
import { loadUseCases } from '../../scripts/load-use-cases.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { CALLER, deps, invocation } from '../tools/support.ts';

let table: TestTable;
let tools: ToolInvoker;
const call = (tool: string, args: unknown, caller = {}) => tools.invoke(invocation(tool, args, { useCaseId: 'default', ...caller }), { timeoutMs: 5_000 });

beforeEach(async () => {
  table = await createTestTable();
  await loadUseCases(table, { log: () => undefined });
  tools = createInProcessToolInvoker(useCase.tools, deps(table));
});
afterEach(async () => {
  await table.drop();
});

describe('save_caller_name', () => {
  it("saves the name on the session caller's profile, and refuses a number in the arguments", async () => {
    expect(await call('save_caller_name', { firstName: 'Jane', lastName: 'Doe', phone: '+19995550000' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_arguments', message: expect.stringContaining('unknown argument "phone"') },
    });
    const outcome = await call('save_caller_name', { firstName: ' Jane ', lastName: 'Doe' });
    expect(outcome).toEqual({ ok: true, result: { saved: true, firstName: 'Jane', lastName: 'Doe' } });
    expect(await getProfile(table, CALLER.from)).toMatchObject({ firstName: 'Jane', lastName: 'Doe' });
    expect(await getProfile(table, '+19995550000')).toBeUndefined();
  });

  it('asks for what is missing', async () => {
    const outcome = await call('save_caller_name', { firstName: 'Jane' });
    expect(outcome).toMatchObject({ ok: false, error: { code: 'invalid_arguments', message: expect.stringContaining('lastName: missing') } });
    expect(await getProfile(table, CALLER.from)).toBeUndefined();
  });
});

describe('list_demos', () => {
  it('lists the loaded, listed demos, never the chooser itself', async () => {
    await putUseCase(table, { id: 'hidden', name: 'Hidden', description: 'Not offered.', listed: false, promptTemplate: 'x' });
    await putUseCase(table, { id: 'bakery', name: 'Bakery orders', description: 'Order bread.', promptTemplate: 'x' });
    const outcome = await call('list_demos', {});
    expect(outcome).toEqual({
      ok: true,
      result: {
        demos: [
          { id: 'apartment-search', name: 'Apartment search', description: expect.stringContaining('Parkview Apartments') },
          { id: 'bakery', name: 'Bakery orders', description: 'Order bread.' },
        ],
      },
    });
  });
});

describe('choose_demo', () => {
  it("saves the choice to the caller's profile so the next call reaches it", async () => {
    const outcome = await call('choose_demo', { demoId: 'apartment-search' });
    expect(outcome).toMatchObject({ ok: true, result: { saved: true, demo: { id: 'apartment-search', name: 'Apartment search' }, nextStep: expect.stringMatching(/call this number again/) } });
    expect((await getProfile(table, CALLER.from))?.useCaseId).toBe('apartment-search');
  });

  it('accepts the spoken name instead of the id', async () => {
    expect(await call('choose_demo', { demoId: 'apartment Search' })).toMatchObject({ ok: true, result: { demo: { id: 'apartment-search' } } });
  });

  it('refuses an unknown demo (or the chooser itself) with the list to offer instead', async () => {
    for (const demoId of ['pizza', 'default']) {
      const outcome = await call('choose_demo', { demoId });
      expect(outcome).toEqual({
        ok: false,
        error: { code: 'not_found', message: `There is no demo called "${demoId}". The demos are: Apartment search (apartment-search).` },
      });
    }
    expect(await getProfile(table, CALLER.from)).toBeUndefined();
  });

  it('refuses missing arguments', async () => {
    expect(await call('choose_demo', {})).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
  });
});
