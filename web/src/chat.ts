/**
 * The demo chat (/ on the WebSocket port), built on the wse-client core:
 * one room with presence, and recovery of what a tab missed while offline.
 * It needs a server in dev mode (wse-server with no settings, or --dev),
 * which grants demo:* topics and relays demo_chat messages to their room.
 */
import { ConnectionState, WSEClient } from 'wse-client';
import type { PresenceMember, WSEMessage } from 'wse-client';
import { byId, el } from './dom';

/** The room every tab joins; ?room=name picks demo:name instead. */
const ROOM = 'demo:' + ((new URLSearchParams(location.search).get('room') ?? '').replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 40) || 'lobby');
const NAME_KEY = 'wse-demo-name';
/** Messages kept on the page. */
const MAX_MESSAGES = 500;
/** How long a sent message may take to come back before the page says why. */
const ECHO_TIMEOUT_MS = 5000;

/** The payload of a demo_chat message as the server relays it. */
interface ChatPayload {
  room: string;
  name: string;
  text: string;
  from: string;
  ts: string;
}

const wsPath = document.body.dataset['wsPath'] ?? '/wse';
const endpoint = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${wsPath}`;
const client = new WSEClient({ endpoints: [endpoint], token: 'cookie' });
const presence = client.presence(ROOM);

const nameInput = byId<HTMLInputElement>('name');
const textInput = byId<HTMLInputElement>('text');
const messages = byId<HTMLOListElement>('messages');
const toggle = byId<HTMLButtonElement>('toggle');

/** When the tab last came back online (ms), to mark what was replayed. */
let reconnectedAt = 0;
/** Connections made so far: every ready after the first is a reconnect. */
let connections = 0;
/** This tab's presence identity: the JWT subject, else the connection id. */
let me = '';
/** Pending check that the server relayed the last message sent. */
let echoTimer: ReturnType<typeof setTimeout> | undefined;
/** Whether the user asked to be offline. */
let offline = false;

function myName(): string {
  return nameInput.value.trim() || 'guest';
}

function initName(): void {
  let name = new URLSearchParams(location.search).get('name') ?? sessionStorage.getItem(NAME_KEY);
  if (name === null) {
    name = 'guest-' + Math.random().toString(36).slice(2, 6);
  }
  sessionStorage.setItem(NAME_KEY, name);
  nameInput.value = name;
}

/** Appends a line to the message list, keeping the newest MAX_MESSAGES. */
function append(li: HTMLLIElement): void {
  const atBottom = messages.scrollTop + messages.clientHeight >= messages.scrollHeight - 8;
  messages.append(li);
  while (messages.childElementCount > MAX_MESSAGES) messages.firstElementChild?.remove();
  if (atBottom) messages.scrollTop = messages.scrollHeight;
}

function system(text: string, className = 'system'): void {
  append(el('li', className, text));
}

function onChat(m: WSEMessage): void {
  const p = m.p as ChatPayload | undefined;
  if (p === undefined || p.room !== ROOM) return;
  const sent = Date.parse(p.ts);
  const recovered = reconnectedAt > 0 && sent < reconnectedAt;
  if (p.from === client.connectionId) {
    clearTimeout(echoTimer);
    echoTimer = undefined;
  }
  const li = el('li', [p.from === client.connectionId ? 'mine' : '', recovered ? 'recovered' : ''].join(' ').trim());
  li.dataset['offset'] = String(m.o ?? '');
  li.append(el('span', 'who', p.name), el('span', 'text', p.text));
  li.append(el('span', 'when', Number.isNaN(sent) ? '' : new Date(sent).toLocaleTimeString()));
  append(li);
}

function memberName(m: PresenceMember): string {
  const n = m.data['name'];
  return typeof n === 'string' && n !== '' ? n : m.userId.slice(0, 8);
}

function renderOnline(): void {
  const list = byId<HTMLUListElement>('online');
  const members = [...presence.snapshot()].sort((a, b) => memberName(a).localeCompare(memberName(b)));
  list.replaceChildren(
    ...members.map((m) => {
      const li = el('li');
      li.dataset['user'] = m.userId;
      li.append(el('span', 'dot'), el('span', 'name', memberName(m)));
      if (m.userId === me) li.append(el('span', 'you muted', '(you)'));
      return li;
    }),
  );
  byId('online-count').textContent = String(members.length);
}

function renderState(state: ConnectionState): void {
  const pill = byId('status');
  pill.textContent = state;
  pill.className = 'pill ' + (state === ConnectionState.CONNECTED ? 'ok' : state === ConnectionState.DISCONNECTED || state === ConnectionState.ERROR ? 'err' : 'warn');
  toggle.textContent = offline ? 'Reconnect' : 'Go offline';
}

async function join(): Promise<void> {
  const res = await client.subscribe([ROOM], { presence: { name: myName() } });
  if (res.refused.length > 0) {
    system(`The server refused ${ROOM} (${res.refused.map((r) => r.code).join(', ')}): start it with no settings or with --dev for the demo.`, 'system error');
  }
}

client.messageProcessor.registerHandler('server_ready', (m) => {
  const d = (m.p as { details?: { user_id?: string; connection_id?: string } } | undefined)?.details;
  me = d?.user_id || d?.connection_id || '';
});
client.messageProcessor.registerHandler('demo_chat', onChat);
client.messageProcessor.registerHandler('demo_error', (m) => {
  system(String((m.p as { message?: string } | undefined)?.message ?? 'refused'), 'system error');
});
presence.subscribe(renderOnline);
client.on('presence', (c) => {
  if (c.topic !== ROOM || c.member.userId === me || c.action === 'update') return;
  system(`${memberName(c.member)} ${c.action === 'join' ? 'joined' : 'left'}`);
});
client.on('missedData', (m) => {
  if (m.topic === ROOM) system(`Some messages could not be recovered (offsets ${m.from.offset + 1}–${m.to.offset}).`, 'system error');
});
client.on('state', (s) => renderState(s));
client.on('ready', () => {
  if (connections++ > 0) {
    reconnectedAt = Date.now();
    system('Back online.');
  }
  // After the client's own resubscription (sent right after this event), so
  // that the server's answer includes this tab and precedes later changes.
  queueMicrotask(() => client.send('demo_who', { room: ROOM }, { noQueue: true }));
  renderOnline();
});

byId<HTMLFormElement>('send-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = textInput.value.trim();
  if (text === '') return;
  if (!client.send('demo_chat', { room: ROOM, name: myName(), text }, { noQueue: true })) {
    system('Offline: the message was not sent.', 'system error');
    return;
  }
  textInput.value = '';
  if (echoTimer === undefined) {
    echoTimer = setTimeout(() => {
      system('The server did not relay the message: the demo chat needs wse-server in dev mode (started with no settings, or with --dev).', 'system error');
    }, ECHO_TIMEOUT_MS);
  }
});
nameInput.addEventListener('change', () => {
  sessionStorage.setItem(NAME_KEY, myName());
  // demo_name updates the presence now; subscribing again with the new data
  // makes the client rejoin with it after a reconnect.
  client.send('demo_name', { name: myName() }, { noQueue: true });
  void join();
});
toggle.addEventListener('click', () => {
  offline = !offline;
  if (offline) {
    client.disconnect();
    system('You are offline. Messages sent meanwhile are kept by the server and replayed when you reconnect.');
  } else {
    client.connect();
  }
  renderState(client.state);
});

byId('room').textContent = ROOM;
initName();
renderState(client.state);
client.connect();
void join();
