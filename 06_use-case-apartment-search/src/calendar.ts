/**
 * Dates and times in the use case's own time zone (America/Denver): "today", slot instants, and the way a person
 * says them on the phone. Local dates are `YYYY-MM-DD`, local times `HH:MM` (24-hour).
 */

export const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;
export const LOCAL_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/**
 * Building an Intl.DateTimeFormat costs far more than formatting with one (it resolves the locale and loads the
 * zone's rules), and every slot instant needs two: one per zone and purpose, kept for the life of the process
 * (a warm Lambda container answers many tool calls with the same few).
 */
function cachedFormat(cache: Map<string, Intl.DateTimeFormat>, timeZone: string, build: (timeZone: string) => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let format = cache.get(timeZone);
  if (!format) {
    format = build(timeZone);
    cache.set(timeZone, format);
  }
  return format;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();
const wallClockFormats = new Map<string, Intl.DateTimeFormat>();
// The zone is fixed to UTC: the date is already local, only its names are wanted.
const spokenDateFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', weekday: 'long', month: 'long', day: 'numeric' });

export function localDate(instant: Date, timeZone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return cachedFormat(dateFormats, timeZone, (zone) => new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })).format(instant);
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Minutes the zone is ahead of UTC at that instant (negative west of Greenwich). */
function offsetMinutes(instant: number, timeZone: string): number {
  const format = cachedFormat(wallClockFormats, timeZone, (zone) =>
    new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }),
  );
  const parts = format.formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(instant / 1000) * 1000) / 60_000);
}

/** The instant a local wall-clock time happens in the zone (DST-aware). */
export function zonedInstant(date: string, time: string, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let guess = wall - offsetMinutes(wall, timeZone) * 60_000;
  // A second pass settles instants near a DST change, where the first guess used the other offset.
  guess = wall - offsetMinutes(guess, timeZone) * 60_000;
  return new Date(guess);
}

/** "Friday, November 28" */
export function spokenDate(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return spokenDateFormat.format(new Date(Date.UTC(y, m - 1, d)));
}

/** "9:30 AM" */
export function spokenTime(time: string): string {
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  const hour = hh % 12 === 0 ? 12 : hh % 12;
  return `${hour}:${String(mm).padStart(2, '0')} ${hh < 12 ? 'AM' : 'PM'}`;
}

/** Accepts "14:30", "2:30 PM", "2:30pm", "2 PM"; returns "14:30" or undefined. */
export function normaliseTime(input: string): string | undefined {
  const m = /^\s*(\d{1,2})(?::(\d{2}))?\s*([ap]\.?m\.?)?\s*$/i.exec(input);
  if (!m) return undefined;
  let hour = Number(m[1]);
  const minute = Number(m[2] ?? '0');
  const meridiem = m[3]?.toLowerCase().replace(/\./g, '');
  if (meridiem) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (meridiem === 'pm' ? 12 : 0);
  }
  const time = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
  return LOCAL_TIME.test(time) ? time : undefined;
}

/** Every `HH:MM` from `first` to `last` inclusive, `stepMinutes` apart. */
export function timesBetween(first: string, last: string, stepMinutes: number): string[] {
  const toMinutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
  const times: string[] = [];
  for (let t = toMinutes(first); t <= toMinutes(last); t += stepMinutes) {
    times.push(`${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`);
  }
  return times;
}
