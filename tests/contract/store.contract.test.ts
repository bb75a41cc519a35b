import { createSession, listTurnRecords } from '../../layers/data/index.ts';
import { createDynamoStore } from '../../02_cr-application/src/edges/dynamo-store.ts';
import { createMemoryStore } from '../engine/tier/memory-store.ts';
import { backends, createTestTable } from '../support/dynamo.ts';
import { describeStoreContract } from './store-contract.ts';

describeStoreContract('in memory (the engine test tier)', async () => {
  const store = createMemoryStore();
  return {
    store,
    seed: async (session, now) => void (await store.seedSession(session, now)),
    turnRecords: async (sessionId) => store.turnRecords(sessionId),
    dispose: async () => undefined,
  };
});

for (const backend of backends()) {
  describeStoreContract(`table on ${backend}`, async () => {
    const table = await createTestTable(backend);
    return {
      store: createDynamoStore(table),
      seed: async (session, now) => void (await createSession(table, session, now)),
      turnRecords: (sessionId) => listTurnRecords(table, sessionId),
      dispose: () => table.drop(),
    };
  });
}
