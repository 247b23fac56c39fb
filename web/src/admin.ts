/**
 * The admin dashboard (/admin on the control API port): polls
 * GET /api/admin/snapshot every second and drives the control API. With
 * --api-key set, the key typed into the page is kept in sessionStorage and
 * sent as Authorization: Bearer.
 */
import { drawChart } from './chart';
import { ago, byId, el, fmtBytes, fmtCount, fmtRate, uuid7Time } from './dom';

/** A rate sample of the snapshot's history. */
interface RateSample {
  t: number;
  in: number;
  out: number;
  publications: number;
  connections: number;
}

/** A connection of the snapshot. */
interface ConnectionInfo {
  id: string;
  user_id: string;
  remote_addr: string;
  topics: string[];
  encrypted: boolean;
  msgpack: boolean;
  queued_bytes: number;
}

/** A topic row of the snapshot. */
interface TopicRow {
  topic: string;
  subscribers: number;
  presence_users: number;
  presence_connections: number;
}

/** A presence member. */
interface Member {
  data: Record<string, unknown> | null;
  connections: number;
}

/** A cluster peer. */
interface Peer {
  instance_id: string;
  address: string;
  connected_at: string;
  inbound: boolean;
  rtt_ms: number;
  queued: number;
}

/** The body of GET /api/admin/snapshot. */
interface Snapshot {
  server: {
    websocket: string;
    dev: boolean;
    policy: string;
    auth: boolean;
    recovery_buffer_size: number;
    recovery_memory_budget: number;
    max_connections: number;
    cluster_addr: string;
  };
  metrics: Record<string, number | boolean>;
  history: RateSample[];
  connections: ConnectionInfo[];
  topic_count: number;
  topics: TopicRow[];
  presence: { topic: string; members: Record<string, Member>; more: number }[];
  peers: Peer[];
}

/** A dead letter of POST /api/cluster/dead_letters. */
interface DeadLetter {
  topic: string;
  payload: string;
  peer_addr: string;
  error: string;
}

const KEY_STORAGE = 'wse-admin-key';
const POLL_MS = 1000;
const CHART_SPAN_MS = 5 * 60 * 1000;

/** An API error with the server's code. */
class APIError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** Calls the control API; a JSON body is sent for POST. */
async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key !== null && key !== '') headers['Authorization'] = `Bearer ${key}`;
  const init: RequestInit = { method, headers, cache: 'no-store' };
  if (body !== undefined) init.body = JSON.stringify(body);
  const resp = await fetch(path, init);
  const data: unknown = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = (data as { error?: { code?: string; message?: string } }).error;
    throw new APIError(resp.status, err?.code ?? 'HTTP_' + resp.status, err?.message ?? resp.statusText);
  }
  return data as T;
}

function num(m: Snapshot['metrics'], k: string): number {
  const v = m[k];
  return typeof v === 'number' ? v : 0;
}

/** Sets the text of the element with the given id. */
function setText(id: string, text: string): void {
  byId(id).textContent = text;
}

/** Replaces a table body's rows; an empty list shows one "none" row. */
function fillRows(tbodyId: string, cols: number, rows: HTMLTableRowElement[], empty: string): void {
  const body = byId<HTMLTableSectionElement>(tbodyId);
  if (rows.length === 0) {
    const tr = el('tr');
    const td = el('td', 'empty', empty);
    td.colSpan = cols;
    tr.append(td);
    rows = [tr];
  }
  body.replaceChildren(...rows);
}

function row(...cells: (string | HTMLElement)[]): HTMLTableRowElement {
  const tr = el('tr');
  for (const c of cells) {
    const td = el('td');
    if (typeof c === 'string') td.textContent = c;
    else td.append(c);
    tr.append(td);
  }
  return tr;
}

/** Shows the outcome of an action under its form. */
function report(id: string, ok: boolean, text: string): void {
  const out = byId(id);
  out.textContent = text;
  out.className = ok ? 'result ok' : 'result err';
}

async function disconnect(id: string, code: number): Promise<void> {
  try {
    await api('POST', '/api/disconnect', { conn_id: id, code, reason: code === 4403 ? 'kicked from the dashboard' : 'disconnected from the dashboard' });
    report('conn-result', true, `closed ${id} with ${code}`);
  } catch (e) {
    report('conn-result', false, String(e));
  }
  void refresh();
}

function render(s: Snapshot): void {
  const m = s.metrics;
  const last = s.history[s.history.length - 1];
  setText('policy', s.server.policy);
  byId('dev-badge').hidden = !s.server.dev;
  setText('ws-url', s.server.websocket);
  const demo = byId<HTMLAnchorElement>('demo-link');
  demo.href = s.server.websocket.replace(/^ws(s?):\/\/([^/]+).*$/, 'http$1://$2/');
  setText('m-connections', fmtCount(num(m, 'connections')));
  setText('m-connections-sub', `of ${fmtCount(s.server.max_connections)} max`);
  setText('m-in', fmtRate(last?.in ?? 0));
  setText('m-out', fmtRate(last?.out ?? 0));
  setText('m-in-sub', `${fmtCount(num(m, 'messages_received_total'))} total`);
  setText('m-out-sub', `${fmtCount(num(m, 'messages_sent_total'))} total`);
  setText('m-topics', fmtCount(s.topic_count));
  setText('m-topics-sub', `${fmtCount(num(m, 'publications_total'))} publications`);
  setText('m-presence', fmtCount(num(m, 'presence_total_users')));
  setText('m-presence-sub', m['presence_enabled'] ? `in ${fmtCount(num(m, 'presence_topics'))} topics` : 'presence off');
  const recBytes = num(m, 'recovery_total_bytes');
  const budget = s.server.recovery_memory_budget;
  setText('m-recovery', m['recovery_enabled'] ? fmtBytes(recBytes) : 'off');
  setText('m-recovery-sub', m['recovery_enabled'] ? `${fmtCount(num(m, 'recovery_topic_count'))} buffers, ${((recBytes / budget) * 100).toFixed(2)}% of ${fmtBytes(budget)}` : 'start with --recovery');
  byId<HTMLProgressElement>('m-recovery-bar').value = budget > 0 ? recBytes / budget : 0;
  setText('m-cluster', s.server.cluster_addr === '' ? 'off' : `${s.peers.length} peers`);
  setText('m-cluster-sub', s.server.cluster_addr === '' ? 'start with --cluster-port' : s.server.cluster_addr);
  const dlq = byId<HTMLButtonElement>('dlq-take');
  dlq.disabled = s.server.cluster_addr === '';
  dlq.title = dlq.disabled ? 'not clustered' : 'POST /api/cluster/dead_letters';
  setText('m-dlq', fmtCount(num(m, 'cluster_dlq_size')));
  setText('m-dlq-sub', `${fmtCount(num(m, 'cluster_messages_dropped'))} dropped`);

  const times = s.history.map((h) => h.t);
  drawChart(byId<SVGSVGElement>('chart-rates'), times, [
    { color: 'var(--in)', values: s.history.map((h) => h.in) },
    { color: 'var(--out)', values: s.history.map((h) => h.out) },
  ], CHART_SPAN_MS);
  drawChart(byId<SVGSVGElement>('chart-conns'), times, [
    { color: 'var(--conn)', values: s.history.map((h) => h.connections) },
  ], CHART_SPAN_MS);

  const now = Date.now();
  fillRows('conn-rows', 7, s.connections.map((c) => {
    const t = uuid7Time(c.id);
    const actions = el('span', 'actions');
    const re = el('button', 'small', 'Disconnect');
    re.title = 'close with 4300: the client reconnects';
    re.addEventListener('click', () => void disconnect(c.id, 4300));
    const kick = el('button', 'small danger', 'Kick');
    kick.title = 'close with 4403: the client stays away';
    kick.addEventListener('click', () => void disconnect(c.id, 4403));
    actions.append(re, kick);
    const id = el('code', '', c.id);
    id.title = c.id;
    const flags = [c.encrypted ? 'e2e' : '', c.msgpack ? 'msgpack' : ''].filter((f) => f !== '').join(' ');
    return row(id, c.user_id === '' ? '(anonymous)' : c.user_id, c.topics.join(', ') || '—', c.remote_addr, `${fmtBytes(c.queued_bytes)} ${flags}`.trim(), t === null ? '' : ago(t, now), actions);
  }), 'no connections');
  const more = num(m, 'connections') - s.connections.length;
  setText('conn-more', more > 0 ? `and ${fmtCount(more)} more` : '');

  fillRows('topic-rows', 3, s.topics.map((t) => row(t.topic, fmtCount(t.subscribers), m['presence_enabled'] ? `${fmtCount(t.presence_users)} users / ${fmtCount(t.presence_connections)} conns` : '—')), 'no topics with subscribers');

  const pres = byId('presence-list');
  pres.replaceChildren();
  for (const p of s.presence) {
    const box = el('div', 'presence-topic');
    box.append(el('h3', '', p.topic));
    const ul = el('ul');
    for (const [user, mem] of Object.entries(p.members)) {
      const name = typeof mem.data?.['name'] === 'string' ? (mem.data['name'] as string) : '';
      const li = el('li');
      li.append(el('span', 'dot'), el('span', '', name !== '' ? name : user));
      li.append(el('span', 'muted', ` ${name !== '' ? user.slice(0, 13) + '… · ' : ''}${mem.connections} conn`));
      ul.append(li);
    }
    if (p.more > 0) ul.append(el('li', 'muted', `and ${p.more} more`));
    box.append(ul);
    pres.append(box);
  }
  if (s.presence.length === 0) pres.append(el('p', 'empty', m['presence_enabled'] ? 'nobody present' : 'presence is off (start with --presence)'));

  fillRows('peer-rows', 5, s.peers.map((p) => row(p.instance_id, p.address, p.inbound ? 'in' : 'out', `${p.rtt_ms.toFixed(2)} ms / ${p.queued} queued`, ago(new Date(p.connected_at), now))), s.server.cluster_addr === '' ? 'not clustered' : 'no peers connected');
  setText('cluster-counters', `sent ${fmtCount(num(m, 'cluster_messages_sent'))} · delivered ${fmtCount(num(m, 'cluster_messages_delivered'))} · dropped ${fmtCount(num(m, 'cluster_messages_dropped'))} · reconnects ${fmtCount(num(m, 'cluster_reconnect_count'))}`);
}

let polling = false;

/** Fetches and renders one snapshot; on 401 it asks for the key. */
async function refresh(): Promise<void> {
  if (polling) return;
  polling = true;
  try {
    const snap = await api<Snapshot>('GET', '/api/admin/snapshot');
    byId('key-form').hidden = true;
    setStatus('live', true);
    render(snap);
  } catch (e) {
    if (e instanceof APIError && e.status === 401) {
      byId('key-form').hidden = false;
      setStatus(e.message, false);
    } else {
      setStatus(`unreachable: ${String(e)}`, false);
    }
  } finally {
    polling = false;
  }
}

function setStatus(text: string, ok: boolean): void {
  const s = byId('status');
  s.textContent = text;
  s.className = ok ? 'pill ok' : 'pill err';
}

/** Parses the JSON of a textarea, or returns it as a string when it is not JSON. */
function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function wireForms(): void {
  byId<HTMLFormElement>('key-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, byId<HTMLInputElement>('api-key').value.trim());
    void refresh();
  });
  byId<HTMLFormElement>('publish-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const topic = byId<HTMLInputElement>('pub-topic').value.trim();
    const data = jsonOrText(byId<HTMLTextAreaElement>('pub-data').value);
    try {
      const r = await api<{ delivered: number }>('POST', '/api/publish', { topic, data, local: byId<HTMLInputElement>('pub-local').checked });
      report('pub-result', true, `published to ${topic}: delivered to ${r.delivered} local subscriber${r.delivered === 1 ? '' : 's'}`);
    } catch (e) {
      report('pub-result', false, String(e));
    }
    void refresh();
  });
  byId<HTMLFormElement>('token-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body: Record<string, unknown> = { sub: byId<HTMLInputElement>('tok-sub').value.trim(), ttl_s: Number(byId<HTMLInputElement>('tok-ttl').value) };
    const claims = byId<HTMLTextAreaElement>('tok-claims').value.trim();
    try {
      if (claims !== '') body['claims'] = JSON.parse(claims);
      const r = await api<{ token: string }>('POST', '/api/token', body);
      report('tok-result', true, r.token);
    } catch (e) {
      report('tok-result', false, String(e));
    }
  });
  byId<HTMLButtonElement>('dlq-take').addEventListener('click', async () => {
    try {
      const r = await api<{ entries: DeadLetter[] }>('POST', '/api/cluster/dead_letters');
      fillRows('dlq-rows', 4, r.entries.map((d) => row(d.topic, d.peer_addr, d.error, d.payload.length > 120 ? d.payload.slice(0, 120) + '…' : d.payload)), 'the dead-letter queue was empty');
    } catch (e) {
      fillRows('dlq-rows', 4, [], String(e));
    }
    void refresh();
  });
}

wireForms();
void refresh();
setInterval(() => void refresh(), POLL_MS);
