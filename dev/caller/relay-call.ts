import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { z } from 'zod';
import { OutboundMessageSchema } from '../../layers/protocol/conversation-relay.ts';
import { parseTwiml, type ParsedTwiml, type RelayTwiml } from './twiml.ts';

/**
 * Plays Twilio's part of a ConversationRelay call against our app, over the real wire: a signed call webhook,
 * the signed WebSocket handshake to the URL the TwiML names, `setup`, then prompts / dtmf / interrupts, and the
 * `<Connect action>` request when the session ends. Used by `npm run call`, the runtime tests and the load bench.
 */
const require = createRequire(import.meta.url);
const { getExpectedTwilioSignature } = require('twilio/lib/webhooks/webhooks.js') as typeof import('twilio/lib/webhooks/webhooks.js');

export interface DialOptions {
  /** The call-setup webhook, e.g. http://127.0.0.1:8080/call-setup */
  webhookUrl: string;
  /** Signs the webhook and the handshake. Unset: send them unsigned (to see them refused). */
  authToken?: string;
  from: string;
  to: string;
  callSid?: string;
  accountSid?: string;
  /**
   * Ask the local runtime for this use case (the signed `UseCaseId` webhook parameter); deployed apps ignore it.
   */
  useCaseId?: string;
}

export interface ReplyToken {
  token: string;
  at: number;
}

/** One reply of the app: the `text` frames up to the one with `last: true`. */
export interface Reply {
  text: string;
  tokens: ReplyToken[];
  /** Frames received (several tokens may arrive in one coalesced frame). */
  frames: number;
  startedAt: number;
  completedAt: number;
}

/** One `text` frame as it arrived (the `text` event): a reply may span many, and tokens may be coalesced. */
export interface TextFrame {
  token: string;
  last: boolean;
  at: number;
}

export interface SessionEnd {
  handoffData?: string;
  /** What the `<Connect action>` callback answered. */
  next?: ParsedTwiml;
}

/** Any frame that is not valid ConversationRelay protocol: Twilio would drop it as error 64107. */
export interface ProtocolViolation {
  raw: string;
  reason: string;
}

const now = () => performance.timeOrigin + performance.now();
const sid = (prefix: string) => prefix + randomBytes(16).toString('hex');

export function signRequest(authToken: string, url: string, params: Record<string, string> = {}): string {
  return getExpectedTwilioSignature(authToken, url, params);
}

export class RelayCall extends EventEmitter {
  readonly relay: RelayTwiml;
  readonly callSid: string;
  readonly violations: ProtocolViolation[] = [];
  readonly replies: Reply[] = [];
  readonly events: { type: string; at: number; data: Record<string, unknown> }[] = [];
  ended?: SessionEnd;
  /** Frames sent and the socket's lifetime: what API Gateway bills a connection for. */
  framesSent = 0;
  openedAt = 0;
  closedAt: number | undefined;
  private socket!: WebSocket;
  private current: Reply | undefined;
  private closed = false;

  private constructor(relay: RelayTwiml, private readonly options: DialOptions & { callSid: string; accountSid: string }) {
    super();
    this.relay = relay;
    this.callSid = options.callSid;
  }

  /** The call webhook, as Twilio sends it: form-encoded and signed over URL + sorted params. */
  static async postWebhook(url: string, params: Record<string, string>, authToken?: string): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (authToken) headers['x-twilio-signature'] = signRequest(authToken, url, params);
    const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
    return { status: res.status, body: await res.text() };
  }

  static async dial(options: DialOptions): Promise<RelayCall> {
    const callSid = options.callSid ?? sid('CA');
    const accountSid = options.accountSid ?? sid('AC');
    const params: Record<string, string> = { CallSid: callSid, AccountSid: accountSid, From: options.from, To: options.to, CallStatus: 'ringing', Direction: 'inbound', ApiVersion: '2010-04-01' };
    if (options.useCaseId) params.UseCaseId = options.useCaseId;
    const res = await RelayCall.postWebhook(options.webhookUrl, params, options.authToken);
    if (res.status !== 200) throw new Error(`call webhook answered ${res.status}: ${res.body.slice(0, 300)}`);
    const twiml = parseTwiml(res.body);
    if (twiml.kind !== 'relay') throw new Error(`call webhook did not connect ConversationRelay: ${twiml.say.join(' ')}`);
    const call = new RelayCall(twiml.relay, { ...options, callSid, accountSid });
    await call.open();
    return call;
  }

  private async open(): Promise<void> {
    const headers: Record<string, string> = {};
    if (this.options.authToken) headers['x-twilio-signature'] = signRequest(this.options.authToken, this.relay.url);
    this.socket = new WebSocket(this.relay.url, { headers });
    this.socket.on('message', (data) => this.onFrame(data.toString()));
    this.socket.on('close', () => {
      this.closed = true;
      this.closedAt = now();
      this.emit('closed');
    });
    await new Promise<void>((resolve, reject) => {
      this.socket.once('open', () => {
        this.openedAt = now();
        resolve();
      });
      this.socket.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket handshake refused: HTTP ${res.statusCode}`)));
      this.socket.once('error', reject);
    });
    this.send({
      type: 'setup',
      sessionId: sid('VX'),
      accountSid: this.options.accountSid,
      parentCallSid: '',
      callSid: this.callSid,
      from: this.options.from,
      to: this.options.to,
      forwardedFrom: this.options.to,
      callerName: '',
      direction: 'inbound',
      callType: 'PSTN',
      callStatus: 'IN-PROGRESS',
      customParameters: this.relay.parameters,
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  send(message: Record<string, unknown>): void {
    if (this.closed) return;
    this.framesSent++;
    this.socket.send(JSON.stringify(message));
  }

  say(utterance: string, lang = 'en-US'): void {
    this.send({ type: 'prompt', voicePrompt: utterance, lang, last: true });
  }

  press(digit: string): void {
    this.send({ type: 'dtmf', digit });
  }

  interrupt(heard: string, durationUntilInterruptMs: number): void {
    // What was being said is over for the caller; a later token starts a new reply.
    this.current = undefined;
    this.send({ type: 'interrupt', utteranceUntilInterrupt: heard, durationUntilInterruptMs });
  }

  /** The caller hangs up: Twilio closes the socket. */
  async hangup(): Promise<void> {
    if (this.closed) return;
    const closed = new Promise<void>((resolve) => this.once('closed', () => resolve()));
    this.socket.close(1000, 'caller hung up');
    await closed;
  }

  /** Resolves with the next complete reply (the one whose frames end with `last: true`). */
  nextReply(timeoutMs = 15_000): Promise<Reply> {
    return this.waitFor<Reply>('reply', timeoutMs);
  }

  /** Resolves when the app ends the session (the `end` frame), after the `<Connect action>` callback. */
  waitForEnd(timeoutMs = 15_000): Promise<SessionEnd> {
    if (this.ended) return Promise.resolve(this.ended);
    return this.waitFor<SessionEnd>('end', timeoutMs);
  }

  /**
   * Resolves once every frame the app sent before this call has arrived: the pong to a ping travels behind them
   * on the same socket. Resolves at once on a closed socket (nothing more can arrive).
   */
  caughtUp(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('pong', done);
        this.off('closed', done);
        resolve();
      };
      this.socket.once('pong', done);
      this.once('closed', done);
      this.socket.ping();
    });
  }

  /** Whether the app's `end` frame has arrived (its `<Connect action>` callback may still be under way). */
  get endReceived(): boolean {
    return this.events.some((e) => e.type === 'end');
  }

  private waitFor<T>(event: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onValue = (value: T) => {
        cleanup();
        resolve(value);
      };
      const onClosed = () => {
        cleanup();
        reject(new Error(`socket closed while waiting for ${event}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.off(event, onValue);
        this.off('closed', onClosed);
      };
      this.on(event, onValue);
      if (event !== 'end') this.on('closed', onClosed);
    });
  }

  private onFrame(raw: string): void {
    const at = now();
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return this.violation(raw, 'not JSON');
    }
    const type = frame.type;
    this.events.push({ type: String(type), at, data: frame });
    const problem = protocolProblem(frame);
    if (problem) return this.violation(raw, problem);
    switch (type) {
      case 'text': {
        if (typeof frame.token !== 'string') return this.violation(raw, 'text without a string token');
        if (frame.token === '' && frame.last === true && !this.current) {
          // The app closing a reply this caller already cut into: nothing more to hear, and no new reply.
          this.emit('text', { token: '', last: true, at } satisfies TextFrame);
          return;
        }
        const reply = (this.current ??= { text: '', tokens: [], frames: 0, startedAt: at, completedAt: at });
        reply.text += frame.token;
        reply.tokens.push({ token: frame.token, at });
        reply.frames += 1;
        this.emit('token', frame.token, at);
        this.emit('text', { token: frame.token, last: frame.last === true, at } satisfies TextFrame);
        if (frame.last === true) {
          reply.completedAt = at;
          this.current = undefined;
          this.replies.push(reply);
          this.emit('reply', reply);
        }
        return;
      }
      case 'play':
        if (typeof frame.source !== 'string') return this.violation(raw, 'play without a source');
        this.emit('play', frame.source);
        return;
      case 'sendDigits':
        if (typeof frame.digits !== 'string') return this.violation(raw, 'sendDigits without digits');
        this.emit('sendDigits', frame.digits);
        return;
      case 'language':
        this.emit('language', frame);
        return;
      case 'config':
        this.emit('config', frame);
        // ConversationRelay confirms a settings change once it took effect.
        this.send({ ...frame, type: 'configUpdated' });
        return;
      case 'hints':
        this.emit('hints', frame.hints);
        return;
      case 'end':
        void this.onEnd(typeof frame.handoffData === 'string' ? frame.handoffData : undefined, raw, frame);
        return;
      default:
        // API Gateway's "Internal server error" / "Endpoint request timed out" bodies land here.
        return this.violation(raw, `unknown message type ${JSON.stringify(type)}`);
    }
  }

  private async onEnd(handoffData: string | undefined, raw: string, frame: Record<string, unknown>): Promise<void> {
    if (frame.handoffData !== undefined && typeof frame.handoffData !== 'string') this.violation(raw, 'end.handoffData must be a JSON string');
    const end: SessionEnd = handoffData === undefined ? {} : { handoffData };
    if (this.relay.action) {
      const params: Record<string, string> = {
        CallSid: this.callSid,
        AccountSid: this.options.accountSid,
        CallStatus: 'in-progress',
        From: this.options.from,
        To: this.options.to,
        SessionStatus: 'completed',
      };
      if (handoffData !== undefined) params.HandoffData = handoffData;
      try {
        const res = await RelayCall.postWebhook(this.relay.action, params, this.options.authToken);
        end.next = parseTwiml(res.body);
      } catch (err) {
        this.violation(String(err), 'the <Connect action> callback failed');
      }
    }
    this.ended = end;
    this.socket.close(1000, 'session ended');
    this.emit('end', end);
  }

  private violation(raw: string, reason: string): void {
    this.violations.push({ raw, reason });
    this.emit('violation', { raw, reason });
  }
}

/**
 * What Twilio would refuse (error 64107) in a frame of a known type: a missing or mistyped field, or one it does
 * not know. Checked with the app's own outbound schemas, which are as strict as Twilio. Unknown types are left to
 * the caller's switch, which names them.
 */
function protocolProblem(frame: Record<string, unknown>): string | undefined {
  if (typeof frame.type !== 'string' || !KNOWN_OUTBOUND.has(frame.type)) return undefined;
  const parsed = OutboundMessageSchema.safeParse(frame);
  return parsed.success ? undefined : `${frame.type}: ${z.prettifyError(parsed.error)}`;
}

// `end` keeps its own check (onEnd): a malformed one still ends the session, as Twilio does.
const KNOWN_OUTBOUND = new Set(['text', 'play', 'sendDigits', 'language', 'config', 'hints']);
