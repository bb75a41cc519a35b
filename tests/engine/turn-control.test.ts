import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendMessages,
  appendPartialPrompt,
  claimReplyTurn,
  ConditionFailedError,
  createSession,
  finishReply,
  lastAssistantReply,
  loadConversation,
  readTurnControl,
  recordInterrupt,
} from '../../layers/data/index.ts';
import { backends, createTestTable, type TestTable } from '../support/dynamo.ts';
import { sessionFixture } from './support.ts';

// The coordination writes on every backend CI runs (DynamoDB Local included), so no expression relies on a
// local quirk: server-side attribute copy, list_append, REMOVE, conditions on absent attributes.
describe.each(backends())('turn control on %s', (backend) => {
  let table: TestTable;
  beforeAll(async () => {
    table = await createTestTable(backend);
  });
  afterAll(async () => {
    await table.drop();
  });

  it('claims turns conditionally, keeps partial prompts until the claim, and records who owns the reply', async () => {
    await createSession(table, sessionFixture('tc-claim'));
    await appendPartialPrompt(table, 'tc-claim', 'I want');
    await appendPartialPrompt(table, 'tc-claim', 'a flat');
    const loaded = (await loadConversation(table, 'tc-claim')).session as unknown as { pendingPrompt?: string[] };
    expect(loaded.pendingPrompt).toEqual(['I want', 'a flat']);

    expect(await claimReplyTurn(table, 'tc-claim', 0, 1_000)).toBe(1);
    await expect(claimReplyTurn(table, 'tc-claim', 0, 1_001)).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await readTurnControl(table, 'tc-claim')).toMatchObject({ turnCount: 1, replyTurn: 1, replyState: 'streaming', replyPromptAt: 1_000 });
    expect(((await loadConversation(table, 'tc-claim')).session as unknown as { pendingPrompt?: string[] }).pendingPrompt).toBeUndefined();
  });

  it('an interrupt marks the turn owning the reply; finishing that reply then fails so the turn applies the heard text', async () => {
    await createSession(table, sessionFixture('tc-int'));
    expect(await recordInterrupt(table, 'tc-int', 'Welcome')).toBeUndefined();
    await claimReplyTurn(table, 'tc-int', 0, 1);
    expect(await recordInterrupt(table, 'tc-int', 'Hello th')).toEqual({ turn: 1, replyState: 'streaming' });
    expect(await readTurnControl(table, 'tc-int')).toMatchObject({ interruptedTurn: 1, interruptHeard: 'Hello th' });
    expect(await finishReply(table, 'tc-int', 1)).toBe(false);

    await claimReplyTurn(table, 'tc-int', 1, 2);
    await appendMessages(table, 'tc-int', [
      { role: 'user', content: 'q', turn: 2 },
      { role: 'assistant', content: 'Full answer here', turn: 2 },
    ]);
    expect(await finishReply(table, 'tc-int', 2)).toBe(true);
    expect(await recordInterrupt(table, 'tc-int', 'Full')).toEqual({ turn: 2, replyState: 'done' });
    expect((await lastAssistantReply(table, 'tc-int', 2))?.content).toBe('Full answer here');
    expect(await lastAssistantReply(table, 'tc-int', 3)).toBeUndefined();
  });
});
