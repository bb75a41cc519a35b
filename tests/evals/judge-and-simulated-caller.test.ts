import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvalFile } from '../../dev/evals/eval-files.ts';
import { createCallerSimulator, createLlmJudge, END_CALL, JUDGE_INSTRUCTIONS } from '../../dev/evals/llm-roles.ts';
import { messageText, startLlmServer, type LlmServer, type Responder } from '../../dev/llm/index.ts';
import { runLocally, standsForThisFile } from './support.ts';

/**
 * The judge and the simulated caller, against a local OpenAI-compatible server that plays both deterministically
 * (the app itself answers with the offline model): the judge scores from what the transcript shows, the caller
 * follows a fixed line per turn and hangs up with the end marker.
 */
const CALLER_LINES = ["I'd like a tour of the two-bedroom", 'Yes, book it', `No thanks, that's all. Goodbye! ${END_CALL}`];

const playJudgeAndCaller: Responder = (request) => {
  const system = messageText(request.messages[0]!.content);
  if (system === JUDGE_INSTRUCTIONS) {
    const [subject = '', criteria = ''] = messageText(request.messages.at(-1)!.content).split('\n\nCriteria:');
    if (criteria.includes('NOT JSON')) return { text: 'I think it went well.' };
    const booked = /You're booked for a tour/.test(subject);
    return { text: JSON.stringify(booked ? { score: 0.9, reason: 'The agent confirmed the tour with its day and time.' } : { score: 0.1, reason: 'No tour was confirmed.' }) };
  }
  if (system.startsWith('You are a person calling')) {
    const said = request.messages.filter((m) => m.role === 'assistant').length;
    if (system.includes('never satisfied')) return { text: 'Tell me more about the studio.' };
    return { text: CALLER_LINES[said] ?? END_CALL };
  }
  return { error: { status: 400, message: 'this server only plays the judge and the caller' } };
};

// The tests run one after the other, so one stand serves them all (its table put back after each eval).
const stands = standsForThisFile();
let server: LlmServer;
beforeAll(async () => {
  server = await startLlmServer({ responder: playJudgeAndCaller, models: ['judge-model', 'caller-model'] });
});
afterAll(async () => {
  await server?.stop();
});

const roles = () => ({
  stands,
  judge: createLlmJudge({ baseUrl: server.baseUrl, model: 'judge-model' }),
  simulator: createCallerSimulator({ baseUrl: server.baseUrl, model: 'caller-model' }),
});

const SIMULATED = `name: A simulated caller books a tour
callers:
  - id: caller
    name: Jane Doe
simulated:
  persona: Jane, a nurse moving to Missoula in January; calm and brief.
  goal: Book an in-person tour of the two-bedroom apartment.
  maxTurns: 5
expect:
  called: [check_availability, schedule_tour]
  inOrder: true
  judge:
    criteria: The agent books the tour the caller asked for and confirms its day and time.
    threshold: 0.8
  table:
    - pk: apartments#parkview
      skBeginsWith: "slot#"
      where: { status: booked, booking: { phone: "{{caller}}" } }
      count: 1
`;

describe('LLM judge and simulated caller', () => {
  it('a simulated caller pursues its goal through the real runtime, and the judge passes the call with its reason', { timeout: 60_000 }, async () => {
    const evalCase = parseEvalFile(SIMULATED, 'simulated.yaml', 'apartment-search');
    const [run] = await runLocally({ cases: [evalCase], ...roles() });
    expect(run!.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(run!.status).toBe('pass');
    const lines = run!.log!.transcript.map((l) => `${l.who}: ${l.text}`);
    expect(lines.filter((l) => l.startsWith('caller:'))).toEqual(["caller: I'd like a tour of the two-bedroom", 'caller: Yes, book it', "caller: No thanks, that's all. Goodbye!"]);
    expect(lines.at(-1)).toBe('system: caller hangs up');
    expect(run!.checks.find((c) => c.what.startsWith('judge:'))).toMatchObject({
      scope: 'call',
      status: 'pass',
      detail: 'score 0.90: The agent confirmed the tour with its day and time.',
    });

    // What the two roles were sent: the caller sees the agent as "user" and itself as "assistant"; the judge gets
    // the whole transcript, at temperature 0, asked for JSON.
    const callerRequests = server.requests.filter((r) => r.body.model === 'caller-model');
    expect(callerRequests).toHaveLength(3);
    expect(messageText(callerRequests[0]!.body.messages[0]!.content)).toContain('Book an in-person tour of the two-bedroom apartment.');
    expect(callerRequests[1]!.body.messages.slice(1).map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    const judgeRequest = server.requests.find((r) => r.body.model === 'judge-model')!.body as Record<string, unknown> & typeof server.requests[number]['body'];
    expect(judgeRequest.temperature).toBe(0);
    expect(judgeRequest.response_format).toEqual({ type: 'json_object' });
    expect(messageText(judgeRequest.messages[1]!.content)).toMatch(/^Transcript of the call:\nAgent: Thanks for calling Parkview Apartments[\s\S]*Caller: Yes, book it\nAgent: You're booked for a tour[\s\S]*\n\nCriteria: The agent books the tour/);
  });

  it('a reply the judge scores under the threshold fails with its score and reason; an answer that is not JSON fails clearly', { timeout: 60_000 }, async () => {
    const evalCase = parseEvalFile(
      `name: Judged replies
callers: [{ id: caller, name: Jane Doe }]
script:
  - say: What apartments do you have?
    expect:
      judge: { criteria: The agent confirms a tour booking. }
  - say: Do you allow pets?
    expect:
      judge: { criteria: "NOT JSON please" }
`,
      'judged.yaml',
      'apartment-search',
    );
    const [run] = await runLocally({ cases: [evalCase], ...roles() });
    expect(run!.status).toBe('fail');
    expect(run!.checks.map((c) => [c.scope, c.status, c.detail])).toEqual([
      ['step 1 (line 4)', 'fail', 'score 0.10: No tour was confirmed.'],
      ['step 2 (line 7)', 'fail', 'the judge failed: the judge did not answer JSON: "I think it went well."'],
    ]);
  });

  it('a simulated caller that never reaches its goal stops after maxTurns', { timeout: 60_000 }, async () => {
    const evalCase = parseEvalFile(
      `name: A caller who is never satisfied
callers: [{ id: caller, name: Jane Doe }]
simulated: { persona: Someone who is never satisfied., goal: Hear everything., maxTurns: 2 }
expect: { notCalled: [schedule_tour] }
`,
      'endless.yaml',
      'apartment-search',
    );
    const [run] = await runLocally({ cases: [evalCase], ...roles() });
    expect(run!.status).toBe('pass');
    expect(run!.log!.turns.map((t) => t.input)).toEqual(['Tell me more about the studio.', 'Tell me more about the studio.']);
  });

  it('offline (no model for them), judge checks and simulated callers are skipped with the reason', { timeout: 60_000 }, async () => {
    const simulated = parseEvalFile(SIMULATED, 'simulated.yaml', 'apartment-search');
    const scripted = parseEvalFile(
      `name: Judged offline
callers: [{ id: caller, name: Jane Doe }]
script:
  - say: What apartments do you have?
    expect: { called: [list_available_apartments], judge: { criteria: Names the rent. } }
`,
      'judged.yaml',
      'apartment-search',
    );
    const runs = await runLocally({ cases: [simulated, scripted], stands, offlineNote: 'set OPENAI_API_KEY or OPENAI_BASE_URL' });
    expect(runs[0]).toMatchObject({ status: 'skip', note: 'simulated caller skipped: set OPENAI_API_KEY or OPENAI_BASE_URL' });
    expect(runs[1]!.status).toBe('pass');
    expect(runs[1]!.checks.map((c) => [c.what, c.status, c.detail])).toEqual([
      ['called list_available_apartments', 'pass', expect.stringContaining('tools called: list_available_apartments')],
      ['judge: Names the rent. (pass at 0.7)', 'skip', 'set OPENAI_API_KEY or OPENAI_BASE_URL'],
    ]);
  });
});
