/**
 * Plays a reply the way ConversationRelay's text-to-speech would: one word at a time at a speaking pace, however
 * fast the tokens arrive. What has been spoken is exactly what an interrupt reports as heard. With "speak replies
 * aloud" the browser's speech synthesis also says each sentence once it has arrived.
 */
export class Speaker {
  /** @param {{ wpm: number, onWord: (word: string) => void, onIdle: () => void }} options */
  constructor({ wpm, onWord, onIdle }) {
    this.gapMs = wpm > 0 ? 60000 / wpm : 0;
    this.onWord = onWord;
    this.onIdle = onIdle;
    this.voice = false;
    this.reset();
  }

  reset() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = '';
    this.sentence = '';
    this.spoken = [];
    this.finished = false;
    this.startedAt = 0;
    if (this.voice && globalThis.speechSynthesis) speechSynthesis.cancel();
  }

  get speaking() {
    return this.startedAt > 0;
  }

  /** @param {string} token @param {boolean} last */
  push(token, last) {
    if (!this.startedAt) this.startedAt = performance.now();
    this.pending += token;
    this.sentence += token;
    if (last) this.finished = true;
    this.sayAloud(last);
    this.pump();
  }

  /** The caller cut in: stop, and report what they heard and for how long the app had been talking. */
  cut() {
    const result = { heard: this.spoken.join(' '), durationMs: Math.round(this.startedAt ? performance.now() - this.startedAt : 0) };
    this.reset();
    return result;
  }

  sayAloud(last) {
    if (!this.voice || !globalThis.speechSynthesis) return;
    const match = last ? [this.sentence, this.sentence] : /^([\s\S]*[.!?])\s/.exec(this.sentence);
    if (!match || !match[1].trim()) return;
    this.sentence = this.sentence.slice(match[0].length);
    speechSynthesis.speak(new SpeechSynthesisUtterance(match[1].trim()));
  }

  pump() {
    if (this.timer !== undefined) return;
    const match = /^\s*(\S+)(\s+)/.exec(this.pending) ?? (this.finished ? /^\s*(\S+)()/.exec(this.pending) : null);
    if (!match) {
      if (this.finished && this.pending.trim() === '') {
        this.startedAt = 0;
        this.finished = false;
        this.spoken = [];
        this.pending = '';
        this.onIdle();
      }
      return;
    }
    this.pending = this.pending.slice(match[0].length);
    this.spoken.push(match[1]);
    this.onWord(match[1]);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, this.gapMs);
  }
}
