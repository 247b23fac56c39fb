/** Small DOM helpers shared by the chat and the dashboard. */

/** Returns the element with the given id, or throws: the pages are static. */
export function byId<T extends Element = HTMLElement>(id: string): T {
  const el: Element | null = document.getElementById(id);
  if (el === null) throw new Error(`page lacks #${id}`);
  return el as T;
}

/** Creates an element with a class and text (never parsed as HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text = '',
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className !== '') e.className = className;
  if (text !== '') e.textContent = text;
  return e;
}

/** Formats a count with thousands separators. */
export function fmtCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Formats a byte count with a binary unit. */
export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** Formats a rate, with one decimal below 10. */
export function fmtRate(n: number): string {
  return n < 10 ? n.toFixed(1) : fmtCount(n);
}

/** Returns the time a UUIDv7 was made (its first 48 bits, ms since epoch). */
export function uuid7Time(id: string): Date | null {
  const hex = id.replace(/-/g, '').slice(0, 12);
  if (!/^[0-9a-f]{12}$/i.test(hex)) return null;
  return new Date(parseInt(hex, 16));
}

/** Formats how long ago t was, coarsely ("12s", "3m", "2h"). */
export function ago(t: Date, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - t.getTime()) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}
