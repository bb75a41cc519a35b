/** DOM rendering for the console: the transcript, the latency panel and the list of calls. Text only via textContent. */

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @param {string} tag @param {string} className @param {string} [text] */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class Transcript {
  constructor() {
    this.root = $('transcript');
  }

  clear() {
    this.root.replaceChildren();
  }

  /** @param {'caller'|'keypad'|'app'|'system'|'tool-call'|'tool-result'} who @param {string} text */
  add(who, text) {
    const entry = el('div', `entry ${who}`);
    entry.dataset.who = who;
    entry.append(el('span', 'who', LABELS[who]), el('span', 'text', text));
    this.root.append(entry);
    this.root.scrollTop = this.root.scrollHeight;
    return entry;
  }

  /** An app reply that is being spoken: words heard so far, then what has arrived but not been said yet. */
  startReply() {
    const entry = this.add('app', '');
    const text = /** @type {HTMLElement} */ (entry.querySelector('.text'));
    const spoken = el('span', 'spoken');
    const unspoken = el('span', 'unspoken');
    text.append(spoken, unspoken);
    entry.dataset.received = '';
    return {
      entry,
      received(token) {
        entry.dataset.received += token;
        unspoken.textContent = entry.dataset.received.slice(spoken.textContent.length);
      },
      word(word) {
        spoken.textContent += (spoken.textContent ? ' ' : '') + word;
        const rest = entry.dataset.received.trimStart();
        const at = indexAfterWords(rest, spoken.textContent.split(' ').length);
        unspoken.textContent = rest.slice(at);
        entry.dataset.heard = spoken.textContent;
      },
      complete() {
        entry.dataset.complete = 'true';
      },
      interrupted() {
        entry.dataset.interrupted = 'true';
        unspoken.textContent = '';
        text.append(el('span', 'cut', ' — cut in'));
      },
    };
  }

  /** A stored call: caller, keypad, app (with interruptions), tool calls and results. */
  showStored(entries) {
    this.clear();
    for (const e of entries) {
      if (e.who === 'tool-call') this.add('tool-call', `${e.tool}(${e.text})`);
      else if (e.who === 'tool-result') this.add('tool-result', `${e.tool} → ${e.text}`);
      else {
        const entry = this.add(e.who, e.text);
        if (e.interrupted) {
          entry.dataset.interrupted = 'true';
          entry.querySelector('.text')?.append(el('span', 'cut', ' — cut in'));
        }
      }
    }
  }
}

function indexAfterWords(text, words) {
  const re = /\S+\s*/g;
  let end = 0;
  for (let i = 0; i < words && re.exec(text); i++) end = re.lastIndex;
  return end;
}

const LABELS = { caller: 'caller', keypad: 'keypad', app: 'app', system: '', 'tool-call': 'tool call', 'tool-result': 'tool result' };

/** The waterfall (SVG rendered by the server with the same code as `npm run latency --html`) and the turn lines. */
export function showLatency(latency) {
  const box = $('waterfall');
  box.innerHTML = latency.svg;
  const lines = $('turn-lines');
  lines.replaceChildren(...latency.lines.map((line) => el('li', '', line)));
}

export function clearLatency() {
  $('waterfall').replaceChildren();
  $('turn-lines').replaceChildren();
}

/** @param {Array<{sessionId:string, callSid:string, useCaseId:string, from:string, createdAt:string, status:string, turns:number, outcome?:string}>} calls */
export function showCalls(calls, selected, onOpen) {
  const list = $('calls');
  list.replaceChildren(
    ...calls.map((c) => {
      const item = el('li', c.sessionId === selected ? 'selected' : '');
      const button = el('button', 'call-item');
      button.type = 'button';
      button.dataset.session = c.sessionId;
      button.append(
        el('span', 'when', new Date(c.createdAt).toLocaleTimeString()),
        el('span', 'use-case', c.useCaseId),
        el('span', 'detail', `${c.from} · ${c.turns} turn${c.turns === 1 ? '' : 's'} · ${c.status === 'ended' ? c.outcome ?? 'ended' : 'live'}`),
      );
      button.addEventListener('click', () => onOpen(c.sessionId));
      item.append(button);
      return item;
    }),
  );
}
