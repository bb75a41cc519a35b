import { RelayCall } from '../caller/relay-call.ts';
import type { BrowserMessage, ServerMessage } from './messages.ts';

/**
 * One call placed from a console page: dialled through the signed webhook and signed WebSocket exactly as Twilio
 * (and `npm run call`) would, with the page's inputs forwarded as ConversationRelay messages and the app's frames
 * passed back to the page.
 */
export class ConsoleCall {
  private call: RelayCall | undefined;
  private closed = false;
  private readonly closedListeners: (() => void)[] = [];

  constructor(
    private readonly dialOptions: { webhookUrl: string; authToken: string; from: string; to: string },
    private readonly send: (message: ServerMessage) => void,
  ) {}

  get isOpen(): boolean {
    return !this.closed;
  }

  onClosed(listener: () => void): void {
    if (this.closed) listener();
    else this.closedListeners.push(listener);
  }

  async dial(): Promise<void> {
    try {
      const call = await RelayCall.dial(this.dialOptions);
      this.call = call;
      call.on('token', (token: string) => this.send({ type: 'text', token }));
      call.on('reply', () => this.send({ type: 'reply-end' }));
      call.on('play', (source: string) => this.send({ type: 'play', source }));
      call.on('sendDigits', (digits: string) => this.send({ type: 'sendDigits', digits }));
      call.on('violation', (v: { reason: string }) => this.send({ type: 'error', message: `invalid frame from the app: ${v.reason}` }));
      call.on('end', (end: { handoffData?: string; next?: { kind: string; dial?: string; say?: string[] } }) => {
        const next = end.next?.kind === 'other' ? (end.next.dial ? `Twilio dials ${end.next.dial}` : `Twilio says "${end.next.say?.join(' ') ?? ''}" and hangs up`) : undefined;
        this.send({ type: 'end', handoffData: end.handoffData, next });
      });
      call.on('closed', () => this.finish());
      const sessionId = new URL(call.relay.url).searchParams.get('session') ?? '';
      this.send({ type: 'connected', callSid: call.callSid, sessionId, greeting: call.relay.attributes.welcomeGreeting, from: this.dialOptions.from });
    } catch (err) {
      this.send({ type: 'error', message: `The call did not connect (${this.dialOptions.webhookUrl}): ${(err as Error).message}` });
      this.finish();
    }
  }

  handle(message: Exclude<BrowserMessage, { type: 'dial' }>): void {
    const call = this.call;
    if (!call) return;
    switch (message.type) {
      case 'say':
        return call.say(message.text);
      case 'dtmf':
        return call.press(message.digit);
      case 'interrupt':
        return call.interrupt(message.heard, message.durationMs);
      case 'hangup':
        void call.hangup();
    }
  }

  async hangup(): Promise<void> {
    if (this.call?.isOpen) await this.call.hangup();
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.send({ type: 'closed' });
    for (const listener of this.closedListeners.splice(0)) listener();
  }
}
