import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { loadEnvFile } from '../cli/env-file.ts';
import { readSettings, SettingsError } from '../local/settings.ts';
import { USAGE, type CallerArgs } from './options.ts';
import { webhookTarget } from './target.ts';
import { RelayCall } from './relay-call.ts';
import { speakWithPartials } from './partials.ts';
import { formatEntry, parseScript, runScript, ScriptError } from './script.ts';
import { Speaker } from './speaker.ts';
import { requestedUseCase } from './use-case-option.ts';

/** `npm run call` once its arguments are read: dials, then runs the script or the interactive caller; the exit code. */
export async function runCall(values: CallerArgs, rootDir: string): Promise<number> {
  try {
    return await call(values, rootDir);
  } catch (err) {
    console.error(err instanceof SettingsError || err instanceof ScriptError ? err.message : err);
    return err instanceof ScriptError ? 2 : 1;
  }
}

async function call(values: CallerArgs, rootDir: string): Promise<number> {
  loadEnvFile(rootDir, values.env);
  const settings = readSettings(process.env, rootDir);
  const wpm = Number(values.wpm);
  if (!Number.isFinite(wpm) || wpm < 0) throw new SettingsError(`--wpm: expected a number of words per minute, got ${values.wpm}`);
  // The script is checked whole before anything is dialled: a typo fails here, with its line, not mid-call.
  const scriptFile = values.script ? resolve(process.env.INIT_CWD || process.cwd(), values.script) : undefined;
  const source = scriptFile
    ? await readFile(scriptFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new ScriptError(`--script ${values.script}: cannot read it (${err.code ?? err.message})`);
      })
    : undefined;
  const steps = source !== undefined ? parseScript(source, values.script) : undefined;
  const target = await webhookTarget(settings, values.url);
  const webhookUrl = target.url;
  // A scripted run is a first-time caller unless told otherwise, so a shipped script always starts the same way.
  const from = values.from ?? (values.script ? `+1406555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}` : '+14065550123');
  const useCase = requestedUseCase(values['use-case'], values.script);
  const dial = {
    webhookUrl,
    from,
    to: values.to!,
    ...(values.unsigned ? {} : { authToken: settings.TWILIO_AUTH_TOKEN }),
    ...(useCase ? { useCaseId: useCase.id } : {}),
  };
  if (useCase) console.log(`Calling use case ${useCase.id} (${useCase.because})`);

  let call: RelayCall;
  try {
    call = await RelayCall.dial(dial);
  } catch (err) {
    console.error(`The call did not connect to ${webhookUrl} (${target.source}): ${(err as Error).message}`);
    if ((err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') {
      console.error('Nothing is listening there. Is the app running? Start it with `npm start` (same folder, same .env), or pass --url.');
    }
    return 1;
  }

  if (steps) {
    let current = call;
    console.log(`Calling from ${from}`);
    const result = await runScript(call, steps, {
      onEntry: (e) => console.log(formatEntry(e)),
      // Calling again is the same caller without the request: it reaches their saved choice, like a real call.
      redial: async () => (current = await RelayCall.dial({ ...dial, useCaseId: undefined })),
    });
    if (current.isOpen) await current.hangup();
    const firsts = result.transcript.map((e) => e.firstTokenMs).filter((n): n is number => n !== undefined).sort((a, b) => a - b);
    if (firsts.length) console.log(`\n${firsts.length} replies; first word after a median ${firsts[Math.floor(firsts.length / 2)]} ms (max ${firsts.at(-1)} ms)`);
    for (const f of result.failures) console.error(`FAIL ${f}`);
    console.log(result.ok ? 'Call completed.' : 'Call FAILED.');
    return result.ok ? 0 : 1;
  }
  return interactive(call, wpm, values.partials ?? false);
}

async function interactive(call: RelayCall, wpm: number, partials: boolean): Promise<number> {
  const out = process.stdout;
  let lineOpen = false;
  const speaker = new Speaker(wpm, (word) => {
    out.write(lineOpen ? ` ${word}` : `app    > ${word}`);
    lineOpen = true;
  });
  const endLine = () => {
    if (lineOpen) out.write('\n');
    lineOpen = false;
  };
  const greeting = call.relay.attributes.welcomeGreeting;
  console.log(`Connected (${call.callSid}). Type to speak; /dtmf 1 presses a key (/dtmf 1204# several); /lang es-US speaks Spanish; /hangup ends the call.`);
  if (greeting) console.log(`app    > ${greeting}`);
  call.on('token', (token: string) => speaker.push(token, false));
  call.on('reply', () => {
    speaker.push('', true);
    void speaker.idle().then(endLine);
  });
  call.on('play', (source: string) => console.log(`\n[plays ${source}]`));
  call.on('sendDigits', (digits: string) => console.log(`\n[sends digits ${digits}]`));
  call.on('language', (frame: Record<string, unknown>) => console.log(`\n[switches language: ${JSON.stringify(frame)}]`));
  call.on('config', (frame: Record<string, unknown>) => console.log(`\n[changes call settings: ${JSON.stringify(frame)}]`));
  call.on('hints', (hints: string) => console.log(`\n[expects words: ${hints}]`));
  call.on('violation', (v: { raw: string; reason: string }) => console.error(`\n[invalid frame from the app: ${v.reason}] ${v.raw.slice(0, 200)}`));

  // The language Twilio would report with each prompt; `/lang es-US` speaks Spanish from then on.
  let language = 'en-US';
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  const done = new Promise<number>((resolve) => {
    call.on('end', (end: { handoffData?: string; next?: { kind: string; dial?: string; say?: string[] } }) => {
      endLine();
      console.log(`[the app ended the session${end.handoffData ? ` with handoff ${end.handoffData}` : ''}]`);
      if (end.next?.kind === 'other') console.log(end.next.dial ? `[Twilio dials ${end.next.dial}]` : `[Twilio says "${end.next.say?.join(' ')}" and hangs up]`);
      rl.close();
      resolve(0);
    });
    call.on('closed', () => {
      rl.close();
      resolve(call.violations.length ? 1 : 0);
    });
  });
  rl.on('line', (input) => {
    const line = input.trim();
    if (!line) return;
    if (speaker.speaking) {
      const { heard, durationMs } = speaker.cut();
      endLine();
      console.log(`[you cut in after: "${heard}"]`);
      call.interrupt(heard, durationMs);
    }
    if (line === '/hangup') return void call.hangup();
    if (line === '/help') return void console.log(USAGE);
    const dtmf = /^\/dtmf\s+([0-9*#]+)$/.exec(line);
    // One frame per key, as Twilio sends them: `/dtmf 1204#` types a whole entry.
    if (dtmf) return void [...dtmf[1]!].forEach((key) => call.press(key));
    const lang = /^\/lang\s+([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)$/.exec(line);
    if (lang) return void ((language = lang[1]!), console.log(`[now speaking ${language}]`));
    if (line.startsWith('/')) return void console.log(`Unknown command ${line}. Try /dtmf 1 or /hangup.`);
    if (partials) void speakWithPartials(call, line, undefined, language);
    else call.say(line, language);
  });
  rl.on('close', () => void call.hangup());
  return done;
}

