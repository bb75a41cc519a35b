import type { TurnRecord } from '../../layers/data/turns.ts';
import { DataDirError } from './data-dir.ts';
import { checkLlm } from './llm-check.ts';
import { startLocalRuntime, type CallEvent } from './runtime.ts';
import { chooseLlm, readSettings, SettingsError } from './settings.ts';
import type { TerminalMode } from './terminal-mode.ts';
import { turnLine } from './turn-line.ts';
import { isLoopbackHost } from '../gateway/local-request.ts';

/** `npm start` after its settings are read: starts the runtime, prints the banner and a line per call and turn. */
export async function serve(options: { rootDir: string; mode: TerminalMode }): Promise<number> {
  const out = (line: string) => console.log(line);
  let settings;
  try {
    settings = readSettings(process.env, options.rootDir);
  } catch (err) {
    if (err instanceof SettingsError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
  const started = Date.now();
  out('Starting the local ConversationRelay app...');
  const llmProblem = checkLlm(chooseLlm(settings));
  let runtime;
  try {
    runtime = await startLocalRuntime({
      settings,
      rootDir: options.rootDir,
      console: true,
      reloadOfflineScripts: true,
      log: (line) => out(`  ${line}`),
      onTurn: (record: TurnRecord) => out(`  ${turnLine(record)}`),
      onCall: (event: CallEvent) => out(`  ${callLine(event)}`),
      onProblem: (line) => console.error(`  error: ${line}`),
    });
  } catch (err) {
    console.error(startFailure(err, settings.PORT));
    return 1;
  }
  const problem = await llmProblem;
  const exposed = !isLoopbackHost(settings.HOST);
  out(`
Ready in ${Date.now() - started} ms.
  Web console (place a call in the browser): ${runtime.consoleUrl}
  Call webhook (Twilio "A call comes in"):   POST ${runtime.webhookUrl}
  ConversationRelay WebSocket:              ${runtime.webSocketUrl}
${exposed ? `  Listening on ${settings.HOST} (HOST), not only this machine: the webhook and WebSocket are reachable from the network;\n  the console and @connections still answer this machine only.\n` : ''}${problem ? `  Warning: ${problem}.\n` : ''}Place a call from another terminal:       npm run call              (--use-case <id> reaches any use case)
Run a scripted demo call:                 npm run call -- --script 06_use-case-apartment-search/demo-call.txt
${options.mode.json ? `JSON logs at ${options.mode.logLevel}${options.mode.metrics ? ' with EMF metrics' : ''}.` : 'One line per call and per turn below (LOG_LEVEL=DEBUG or --json for the JSON logs and EMF metrics).'}
Press Ctrl-C to stop.
`);

  return new Promise<number>((done) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      out(`\n${signal}: hanging up open calls and saving data...`);
      await runtime.stop();
      out('Stopped.');
      done(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  });
}

function callLine(event: CallEvent): string {
  if (event.kind === 'end') return `call ended   session ${event.sessionId}`;
  return `call started ${event.callSid ?? ''} [${event.useCaseId ?? '?'}] from ${event.from ?? '?'}, session ${event.sessionId}`;
}

/** Why the app did not start, in words; never a stack trace for the problems a person can fix. */
export function startFailure(err: unknown, port: number): string {
  if (err instanceof SettingsError || err instanceof DataDirError) return err.message;
  if ((err as { code?: string }).code === 'EADDRINUSE') return `PORT ${port} is in use: stop the other process or set PORT in .env (PORT=0 picks a free one).`;
  return `The app failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}

