import { Speaker } from './speaker.js';

/**
 * The caller's side of one call, played in the page as ConversationRelay plays it on a phone line: inputs become
 * `say`, `dtmf` and `interrupt` messages; the app's frames are spoken at a speaking pace. Speaking while the app
 * talks cuts in, and the interrupt carries exactly the words spoken so far.
 */
export class Phone {
  /**
   * @param {{ send: (message: object) => void, transcript: import('./views.js').Transcript, wpm: number,
   *           onState: (state: 'idle'|'dialling'|'in-call') => void }} options
   */
  constructor({ send, transcript, wpm, onState }) {
    this.send = send;
    this.transcript = transcript;
    this.onState = onState;
    this.state = 'idle';
    this.reply = undefined;
    this.speaker = new Speaker({
      wpm,
      onWord: (word) => this.reply?.word(word),
      onIdle: () => {
        this.reply?.complete();
        this.reply = undefined;
        document.body.dataset.speaking = 'false';
      },
    });
  }

  setState(state) {
    this.state = state;
    this.onState(state);
  }

  dial(from) {
    if (this.state !== 'idle') return;
    this.transcript.clear();
    this.transcript.add('system', `Calling from ${from}…`);
    this.setState('dialling');
    this.send({ type: 'dial', from });
  }

  say(text) {
    if (this.state !== 'in-call' || !text.trim()) return;
    this.cutIn();
    this.transcript.add('caller', text.trim());
    this.send({ type: 'say', text: text.trim() });
  }

  press(digit) {
    if (this.state !== 'in-call') return;
    this.cutIn();
    this.transcript.add('keypad', digit);
    this.send({ type: 'dtmf', digit });
  }

  hangup() {
    if (this.state === 'idle') return;
    this.speaker.reset();
    this.send({ type: 'hangup' });
  }

  /** The caller starts speaking while the app talks: stop, and tell the app what was heard. */
  cutIn() {
    if (!this.speaker.speaking) return;
    const { heard, durationMs } = this.speaker.cut();
    this.reply?.interrupted();
    this.reply = undefined;
    document.body.dataset.speaking = 'false';
    this.send({ type: 'interrupt', heard, durationMs });
  }

  /** A message from the server about this page's call. */
  receive(message) {
    switch (message.type) {
      case 'connected':
        this.setState('in-call');
        this.transcript.add('system', `Connected: ${message.callSid}`);
        if (message.greeting) this.transcript.add('app', message.greeting).dataset.complete = 'true';
        return;
      case 'text':
        if (!this.reply) {
          this.reply = this.transcript.startReply();
          document.body.dataset.speaking = 'true';
        }
        this.reply.received(message.token);
        this.speaker.push(message.token, false);
        return;
      case 'reply-end':
        this.reply?.entry.setAttribute('data-received-all', 'true');
        this.speaker.push('', true);
        return;
      case 'play':
        this.transcript.add('system', `plays ${message.source}`);
        return;
      case 'sendDigits':
        this.transcript.add('system', `sends digits ${message.digits}`);
        return;
      case 'end':
        this.transcript.add('system', `The app handed the call off${message.handoffData ? ` (${message.handoffData})` : ''}${message.next ? `: ${message.next}` : ''}`).dataset.handoff = 'true';
        return;
      case 'closed':
        this.speaker.reset();
        this.reply = undefined;
        document.body.dataset.speaking = 'false';
        if (this.state !== 'idle') this.transcript.add('system', 'Call ended.');
        this.setState('idle');
        return;
    }
  }
}
