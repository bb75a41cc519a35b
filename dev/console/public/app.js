import { Phone } from './phone.js';
import { clearLatency, showCalls, showLatency, Transcript } from './views.js';

/**
 * The console page: one WebSocket to the local app carries this page's call and the live events of every call
 * (turns, starts, ends). `?wpm=N` sets the speaking pace (default 190 words per minute).
 */
const $ = (id) => /** @type {any} */ (document.getElementById(id));
const params = new URLSearchParams(location.search);
const wpm = Number(params.get('wpm') ?? 190);

const transcript = new Transcript();
const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/console/socket`);
const send = (message) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(message));

/** The call whose transcript and waterfall are shown: the live one, or one opened from the list. */
let viewing;
let liveSession;
let calls = [];

const phone = new Phone({
  send,
  transcript,
  wpm: Number.isFinite(wpm) && wpm >= 0 ? wpm : 190,
  onState(state) {
    document.body.dataset.state = state;
    $('call').disabled = state !== 'idle';
    $('hangup').disabled = state === 'idle';
    $('say').disabled = $('send').disabled = state !== 'in-call';
    for (const key of document.querySelectorAll('#keypad button')) key.disabled = state !== 'in-call';
    $('status').textContent = state === 'in-call' ? `In a call (session ${liveSession ?? '…'})` : state === 'dialling' ? 'Dialling…' : 'Ready';
    if (state === 'in-call') $('say').focus();
  },
});

socket.addEventListener('open', () => phone.onState('idle'));
socket.addEventListener('close', () => {
  document.body.dataset.state = 'offline';
  $('status').textContent = 'Disconnected from the local app: is `npm start` still running? Reload to reconnect.';
});
socket.addEventListener('message', (event) => {
  const message = JSON.parse(event.data);
  switch (message.type) {
    case 'calls':
      calls = message.calls;
      return renderCalls();
    case 'call':
      return void refreshCalls();
    case 'update':
      calls = [message.call, ...calls.filter((c) => c.sessionId !== message.call.sessionId)].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      renderCalls();
      if (message.call.sessionId !== viewing) return;
      showLatency(message.latency);
      if (message.call.sessionId === liveSession) showToolActivity(message.transcript);
      else transcript.showStored(message.transcript);
      return;
    case 'error':
      transcript.add('system', message.message).dataset.error = 'true';
      if (phone.state === 'dialling') phone.setState('idle');
      return;
    case 'connected':
      liveSession = viewing = message.sessionId;
      shownTools.clear();
      clearLatency();
      renderCalls();
      break;
  }
  phone.receive(message);
});

/** Tool calls and results are stored by the app; they come with the turn's update and join the live transcript. */
const shownTools = new Set();
function showToolActivity(entries) {
  entries.forEach((e, i) => {
    if ((e.who !== 'tool-call' && e.who !== 'tool-result') || shownTools.has(i)) return;
    shownTools.add(i);
    transcript.add(e.who, e.who === 'tool-call' ? `${e.tool}(${e.text})` : `${e.tool} → ${e.text}`);
  });
}

function renderCalls() {
  showCalls(calls, viewing, openCall);
}

async function refreshCalls() {
  const res = await fetch('/console/api/calls');
  if (res.ok) {
    calls = (await res.json()).calls;
    renderCalls();
  }
}

async function openCall(sessionId) {
  if (phone.state !== 'idle') return;
  const res = await fetch(`/console/api/calls/${encodeURIComponent(sessionId)}`);
  if (!res.ok) return;
  const detail = await res.json();
  viewing = sessionId;
  transcript.showStored(detail.transcript);
  showLatency(detail.latency);
  renderCalls();
}

// Controls
$('dial-form').addEventListener('submit', (event) => {
  event.preventDefault();
  phone.dial($('from').value.trim());
});
$('hangup').addEventListener('click', () => phone.hangup());
$('say-form').addEventListener('submit', (event) => {
  event.preventDefault();
  phone.say($('say').value);
  $('say').value = '';
});
// Typing while the app talks is the caller starting to speak.
$('say').addEventListener('input', () => phone.cutIn());
for (const key of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#']) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = key;
  button.dataset.key = key;
  button.disabled = true;
  button.addEventListener('click', () => phone.press(key));
  $('keypad').append(button);
}
if (globalThis.speechSynthesis) {
  $('speak').addEventListener('change', () => (phone.speaker.voice = $('speak').checked));
} else {
  $('speak').disabled = true;
}

// Speech input where the browser offers it: speaking cuts in at once, the final transcript is the prompt.
const Recognition = globalThis.SpeechRecognition ?? globalThis.webkitSpeechRecognition;
if (Recognition) {
  const mic = $('mic');
  mic.hidden = false;
  mic.addEventListener('click', () => {
    const recognition = new Recognition();
    recognition.lang = 'en-US';
    recognition.interimResults = false;
    recognition.addEventListener('speechstart', () => phone.cutIn());
    recognition.addEventListener('result', (event) => phone.say(event.results[0][0].transcript));
    recognition.start();
  });
}
