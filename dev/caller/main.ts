import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { config as loadDotenv } from 'dotenv';
import { readSettings, SettingsError } from '../local/settings.ts';
import { RelayCall } from './relay-call.ts';
import { speakWithPartials } from './partials.ts';
import { formatEntry, parseScript, runScript } from './script.ts';
import { Speaker } from './speaker.ts';
import { requestedUseCase } from './use-case-option.ts';

/**
 * `npm run call`: a terminal caller that plays ConversationRelay's part against the local runtime (or any
 * deployment whose auth token you have). Type to speak; typing while the app talks cuts in, like a caller would.
 */
const usage = `Usage: npm run call -- [options]
  --url URL        call-setup webhook (default http://HOST:PORT/call-setup from .env)
  --from NUMBER    caller number, E.164 (default +14065550123; a new random caller for each --script run)
  --to NUMBER      number dialled (default +14065550199)
  --use-case ID    reach this use case (local runtime only; default: a script's own folder, else the app's choice)
  --script FILE    run a scripted call, print the transcript with latencies, exit non-zero on failure
  --wpm N          speaking pace of the app's replies in words per minute (default 190; 0 = instant)
  --unsigned       send the webhook and handshake unsigned (to see them refused)
  --partials       send what you type as partial prompts word by word before the final one (preemption)
Interactive commands: /dtmf N, /hangup, /help`;

async function main(): Promise<number> {
  loadDotenv({ quiet: true });
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string', default: '+14065550199' },
      script: { type: 'string' },
      'use-case': { type: 'string' },
      wpm: { type: 'string', default: '190' },
      unsigned: { type: 'boolean', default: false },
      partials: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const settings = readSettings();
  const host = settings.HOST === '0.0.0.0' ? '127.0.0.1' : settings.HOST;
  const webhookUrl = values.url ?? `http://${host}:${settings.PORT}/call-setup`;
  const wpm = Number(values.wpm);
  if (!Number.isFinite(wpm) || wpm < 0) throw new SettingsError(`--wpm: expected a number of words per minute, got ${values.wpm}`);
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
    console.error(`The call did not connect: ${(err as Error).message}`);
    if ((err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') console.error(`Is the app running? Start it with: npm start`);
    return 1;
  }

  if (values.script) {
    const steps = parseScript(await readFile(values.script, 'utf8'), values.script);
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
  console.log(`Connected (${call.callSid}). Type to speak; /dtmf N presses a key; /hangup ends the call.`);
  if (greeting) console.log(`app    > ${greeting}`);
  call.on('token', (token: string) => speaker.push(token, false));
  call.on('reply', () => {
    speaker.push('', true);
    void speaker.idle().then(endLine);
  });
  call.on('play', (source: string) => console.log(`\n[plays ${source}]`));
  call.on('sendDigits', (digits: string) => console.log(`\n[sends digits ${digits}]`));
  call.on('language', (frame: Record<string, unknown>) => console.log(`\n[switches language: ${JSON.stringify(frame)}]`));
  call.on('violation', (v: { raw: string; reason: string }) => console.error(`\n[invalid frame from the app: ${v.reason}] ${v.raw.slice(0, 200)}`));

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
    if (line === '/help') return void console.log(usage);
    const dtmf = /^\/dtmf\s+([0-9*#])$/.exec(line);
    if (dtmf) return call.press(dtmf[1]!);
    if (line.startsWith('/')) return void console.log(`Unknown command ${line}. Try /dtmf 1 or /hangup.`);
    if (partials) void speakWithPartials(call, line);
    else call.say(line);
  });
  rl.on('close', () => void call.hangup());
  return done;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof SettingsError ? err.message : err);
    process.exit(1);
  },
);
