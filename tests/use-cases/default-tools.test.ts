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

/** The demos on offer here are fixtures, so these tests hold whatever use-case folders the repository has. */
beforeEach(async () => {
  table = await createTestTable();
  await loadUseCases(table, { only: 'default', log: () => undefined });
  await putUseCase(table, { id: 'apartment-search', name: 'Apartment search', description: 'Parkview Apartments in Missoula.', promptTemplate: 'x' });
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
          { number: 1, id: 'apartment-search', name: 'Apartment search', description: 'Parkview Apartments in Missoula.', keypad: 'press 1 for the Apartment search demo' },
          { number: 2, id: 'bakery', name: 'Bakery orders', description: 'Order bread.', keypad: 'press 2 for the Bakery orders demo' },
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
        error: { code: 'not_found', message: `There is no demo called "${demoId}". The demos are: 1 Apartment search (apartment-search).` },
      });
    }
    expect(await getProfile(table, CALLER.from)).toBeUndefined();
  });

  it('chooses by keypad number, in the order the demos are listed', async () => {
    await putUseCase(table, { id: 'bakery', name: 'Bakery orders', description: 'Order bread.', promptTemplate: 'x' });
    expect(await call('choose_demo', { number: 2 })).toMatchObject({ ok: true, result: { demo: { id: 'bakery' } } });
    expect((await getProfile(table, CALLER.from))?.useCaseId).toBe('bakery');
    expect(await call('choose_demo', { number: 3 })).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: 'There is no demo number 3. The demos are: 1 Apartment search (apartment-search), 2 Bakery orders (bakery).' },
    });
    expect(await call('choose_demo', {})).toMatchObject({ ok: false, error: { code: 'invalid_arguments', message: expect.stringMatching(/^Say which demo/) } });
  });

  it('refuses missing arguments', async () => {
    expect(await call('choose_demo', {})).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
  });
});
