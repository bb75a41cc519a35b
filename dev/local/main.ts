import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { config as loadDotenv } from 'dotenv';
import type { TurnRecord } from '../../layers/data/turns.ts';
import { startLocalRuntime } from './runtime.ts';
import { readSettings, SettingsError } from './settings.ts';

/** `npm start`: the whole app on this machine. Ctrl-C stops it cleanly; the database stays in DATA_DIR. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function ms(from: number | undefined, to: number | undefined): string {
  return from !== undefined && to !== undefined ? `${Math.round(to - from)}` : '-';
}

/** One line per turn, the same phases `npm run latency` reports. */
function turnLine(r: TurnRecord): string {
  const tools = r.tools?.length ? ` tools ${r.tools.map((t) => `${t.name} ${t.durationMs}ms${t.ok ? '' : ' (failed)'}`).join(', ')}` : '';
  return (
    `turn ${r.turn} [${r.useCaseId}] ${r.kind} ${r.outcome}: first word ${ms(r.promptReceivedAt, r.firstTokenPostedAt)} ms ` +
    `(before LLM ${ms(r.promptReceivedAt, r.llmRequestSentAt)}, LLM first token ${ms(r.llmRequestSentAt, r.llmFirstTokenAt)}, ` +
    `posting ${ms(r.llmFirstTextAt, r.firstTokenPostedAt)}), tail ${ms(r.llmLastTokenAt, r.lastTokenPostedAt)} ms, ${r.posts ?? 0} posts${tools}${preemption(r)}`
  );
}

/** A preempted turn asked the LLM before its final prompt: its "before LLM" is negative, by that much. */
function preemption(r: TurnRecord): string {
  if (r.preempted) return `, preempted (LLM asked ${ms(r.llmRequestSentAt, r.promptReceivedAt)} ms before the final prompt, ${r.speculations ?? 1} speculative request(s))`;
  return r.speculations ? `, ${r.speculations} speculative request(s) wasted` : '';
}

async function main(): Promise<void> {
  loadDotenv({ path: resolve(ROOT, '.env'), quiet: true });
  process.env.LOG_LEVEL ??= 'WARN';
  // Lambda runs Node 22; this machine's Node 20 is for development only, so the SDK's upgrade notice is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const settings = readSettings(process.env, ROOT);
  const started = Date.now();
  console.log('Starting the local ConversationRelay app...');
  const runtime = await startLocalRuntime({
    settings,
    rootDir: ROOT,
    log: (line) => console.log(`  ${line}`),
    onTurn: (record) => console.log(`  ${turnLine(record)}`),
    reloadOfflineScripts: true,
  });
  console.log(`
Ready in ${Date.now() - started} ms.
  Call webhook (Twilio "A call comes in"): POST ${runtime.webhookUrl}
  ConversationRelay WebSocket:            ${runtime.webSocketUrl}
Place a call from another terminal:       npm run call              (--use-case <id> reaches any use case)
Run a scripted demo call:                 npm run call -- --script 06_use-case-apartment-search/demo-call.txt
Press Ctrl-C to stop.
`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: hanging up open calls and saving data...`);
    await runtime.stop();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof SettingsError) console.error(err.message);
  else if ((err as { code?: string }).code === 'EADDRINUSE') console.error(`PORT ${process.env.PORT ?? 8080} is in use: stop the other process or set PORT in .env`);
  else console.error('The app failed to start:', err);
  process.exit(1);
});
