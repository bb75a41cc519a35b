import { createHash } from 'node:crypto';
import { BatchWriteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionFailedError, guard } from '../../layers/data/errors.ts';
import { newMessageId } from '../../layers/data/ids.ts';
import type { Table } from '../../layers/data/table.ts';
import { expireAt } from '../../layers/data/ttl.ts';
import { addDays, localDate, timesBetween, zonedInstant } from './calendar.ts';
import { LAYOUT_IDS, PROPERTY, TIME_ZONE, TOUR_TYPES, type LayoutFacts, type LayoutId, type PetKind, type TourType } from './property.ts';

/**
 * Parkview's apartments and tour slots in the single table, all in one partition (a few dozen items):
 *
 * | item                 | pk                               | sk                                        |
 * | layout               | apartments#parkview              | layout#<layoutId>                          |
 * | tour slot            | apartments#parkview              | slot#<YYYY-MM-DD>#<HH:MM>#<layout>#<type>  |
 * | availability checked | apartments#session#<sessionId>   | availability-checked                       |
 *
 * Every pk starts with `apartments#`, so the tool function's IAM policy can be limited to these items.
 */
export const INVENTORY_PK = 'apartments#parkview';
const layoutKey = (id: LayoutId) => ({ pk: INVENTORY_PK, sk: `layout#${id}` });
const slotSk = (date: string, time: string, layoutId: LayoutId, tourType: TourType) => `slot#${date}#${time}#${layoutId}#${tourType}`;
const checkKey = (sessionId: string) => ({ pk: `apartments#session#${sessionId}`, sk: 'availability-checked' });

/** Booked tours outlive their day by this long (the caller's "my appointments" and the office's records). */
const BOOKING_RETENTION_SECONDS = 90 * 24 * 3600;

export interface Layout extends Omit<LayoutFacts, 'moveInInDays' | 'special'> {
  layoutId: LayoutId;
  /** First move-in date, `YYYY-MM-DD`. */
  availableFrom: string;
  special: { text: string; deadline: string | null };
}

export interface Booking {
  bookingId: string;
  phone: string;
  sessionId: string;
  bookedAt: string;
}

export interface TourSlot {
  date: string;
  time: string;
  layoutId: LayoutId;
  tourType: TourType;
  /** The slot's start as an instant (ISO, UTC). */
  startsAt: string;
  status: 'open' | 'booked';
  booking?: Booking;
}

/** Layouts as of `today`: facts plus dates computed from the day offsets. */
export function layoutsAsOf(today: string): Layout[] {
  return LAYOUT_IDS.map((layoutId) => {
    const { moveInInDays, special, ...facts } = PROPERTY.layouts[layoutId];
    return {
      ...facts,
      layoutId,
      availableFrom: addDays(today, moveInInDays),
      special: { text: special.text, deadline: special.deadlineInDays === null ? null : addDays(today, special.deadlineInDays) },
    };
  });
}

/**
 * The open time of one day, layout and tour type. The facts file says "one random slot"; the choice is a hash of
 * the three, so re-running the loader or the daily refresh reproduces the same slot instead of opening another.
 */
export function slotTimeFor(date: string, layoutId: LayoutId, tourType: TourType): string {
  const times = timesBetween(PROPERTY.tourHours.first, PROPERTY.tourHours.last, PROPERTY.tourHours.stepMinutes);
  const hash = createHash('sha256').update(`${date}|${layoutId}|${tourType}`).digest();
  return times[hash.readUInt32BE(0) % times.length] as string;
}

export interface RefreshSummary {
  layouts: number;
  slotsCreated: number;
  slotsKept: number;
  pastSlotsRemoved: number;
}

/**
 * Writes the layouts and the tour slots for the next `tourDays` days from `now`, and removes open slots of days
 * gone by. Idempotent: existing slots, booked or not, are left as they are, so bookings survive every refresh.
 */
export async function refreshInventory(table: Table, now: Date): Promise<RefreshSummary> {
  const today = localDate(now, TIME_ZONE);
  const layouts = layoutsAsOf(today);
  await Promise.all(
    layouts.map((layout) => {
      const key = layoutKey(layout.layoutId);
      return guard('PutItem layout', key, () =>
        table.doc.send(new PutCommand({ TableName: table.name, Item: { ...key, ...layout, refreshedOn: today } })),
      );
    }),
  );

  const wanted: TourSlot[] = [];
  for (let day = 0; day < PROPERTY.tourDays; day++) {
    const date = addDays(today, day);
    for (const layoutId of LAYOUT_IDS) {
      for (const tourType of TOUR_TYPES) {
        const time = slotTimeFor(date, layoutId, tourType);
        wanted.push({ date, time, layoutId, tourType, startsAt: zonedInstant(date, time, TIME_ZONE).toISOString(), status: 'open' });
      }
    }
  }
  const created = await Promise.all(
    wanted.map(async (slot) => {
      const key = { pk: INVENTORY_PK, sk: slotSk(slot.date, slot.time, slot.layoutId, slot.tourType) };
      try {
        await guard('PutItem tour slot', key, () =>
          table.doc.send(
            new PutCommand({ TableName: table.name, Item: { ...key, ...slot }, ConditionExpression: 'attribute_not_exists(pk)' }),
          ),
        );
        return true;
      } catch (err) {
        if (err instanceof ConditionFailedError) return false;
        throw err;
      }
    }),
  );

  const past = (await querySlots(table, { before: today })).filter((s) => s.status === 'open');
  for (let i = 0; i < past.length; i += 25) {
    const batch = past.slice(i, i + 25);
    await guard('BatchWriteItem past slots', { pk: INVENTORY_PK }, () =>
      table.doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [table.name]: batch.map((s) => ({ DeleteRequest: { Key: { pk: INVENTORY_PK, sk: slotSk(s.date, s.time, s.layoutId, s.tourType) } } })),
          },
        }),
      ),
    );
  }
  const slotsCreated = created.filter(Boolean).length;
  return { layouts: layouts.length, slotsCreated, slotsKept: wanted.length - slotsCreated, pastSlotsRemoved: past.length };
}

export async function listLayouts(table: Table): Promise<Layout[]> {
  const items = await queryPrefix(table, 'layout#');
  return items.map(({ pk: _pk, sk: _sk, refreshedOn: _r, ...layout }) => layout as unknown as Layout);
}

export async function getLayout(table: Table, layoutId: LayoutId): Promise<Layout | undefined> {
  const key = layoutKey(layoutId);
  const out = await guard('GetItem layout', key, () => table.doc.send(new GetCommand({ TableName: table.name, Key: key })));
  if (!out.Item) return undefined;
  const { pk: _pk, sk: _sk, refreshedOn: _r, ...layout } = out.Item;
  return layout as unknown as Layout;
}

/** Tour slots in date order; `before` / `from` bound the local date (exclusive / inclusive). */
export async function querySlots(table: Table, range: { from?: string; before?: string } = {}): Promise<TourSlot[]> {
  const lower = range.from ? `slot#${range.from}` : 'slot#';
  const upper = range.before ? `slot#${range.before}` : 'slot#~';
  const items = await queryBetween(table, lower, upper);
  return items.map(({ pk: _pk, sk: _sk, expireAt: _e, ...slot }) => slot as unknown as TourSlot);
}

/** Open slots starting after `now`, optionally for one layout, tour type or date. */
export async function openSlots(
  table: Table,
  now: Date,
  filter: { layoutId?: LayoutId; tourType?: TourType; date?: string },
): Promise<TourSlot[]> {
  const slots = await querySlots(table, { from: filter.date ?? localDate(now, TIME_ZONE) });
  return slots.filter(
    (s) =>
      s.status === 'open' &&
      Date.parse(s.startsAt) > now.getTime() &&
      (!filter.layoutId || s.layoutId === filter.layoutId) &&
      (!filter.tourType || s.tourType === filter.tourType) &&
      (!filter.date || s.date === filter.date),
  );
}

/** The caller's booked tours (past ones too), in date order. Strongly consistent: a tour booked a moment ago shows. */
export async function toursBookedBy(table: Table, phone: string): Promise<TourSlot[]> {
  return (await querySlots(table)).filter((s) => s.status === 'booked' && s.booking?.phone === phone);
}

export class SlotUnavailableError extends Error {
  readonly reason: 'no-such-slot' | 'already-booked' | 'in-the-past';
  constructor(reason: SlotUnavailableError['reason']) {
    super(`tour slot unavailable: ${reason}`);
    this.name = 'SlotUnavailableError';
    this.reason = reason;
  }
}

/**
 * Books one slot for the caller. A conditional write: the slot must exist, be open and lie in the future, so two
 * callers racing for one slot cannot both win; the loser gets SlotUnavailableError('already-booked').
 */
export async function bookSlot(
  table: Table,
  slot: { date: string; time: string; layoutId: LayoutId; tourType: TourType },
  who: { phone: string; sessionId: string },
  now: Date,
): Promise<TourSlot> {
  const key = { pk: INVENTORY_PK, sk: slotSk(slot.date, slot.time, slot.layoutId, slot.tourType) };
  const booking: Booking = { bookingId: newMessageId(), phone: who.phone, sessionId: who.sessionId, bookedAt: now.toISOString() };
  const startsAt = zonedInstant(slot.date, slot.time, TIME_ZONE);
  try {
    const out = await guard('UpdateItem book tour slot', key, () =>
      table.doc.send(
        new UpdateCommand({
          TableName: table.name,
          Key: key,
          UpdateExpression: 'SET #status = :booked, booking = :booking, expireAt = :expireAt',
          ConditionExpression: 'attribute_exists(pk) AND #status = :open AND startsAt > :now',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':booked': 'booked',
            ':open': 'open',
            ':booking': booking,
            ':now': now.toISOString(),
            ':expireAt': expireAt(startsAt.getTime(), BOOKING_RETENTION_SECONDS),
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    const { pk: _pk, sk: _sk, expireAt: _e, ...booked } = out.Attributes ?? {};
    return booked as unknown as TourSlot;
  } catch (err) {
    if (!(err instanceof ConditionFailedError)) throw err;
    const current = await guard('GetItem tour slot', key, () =>
      table.doc.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true })),
    );
    if (!current.Item) throw new SlotUnavailableError('no-such-slot');
    if (current.Item.status === 'booked') throw new SlotUnavailableError('already-booked');
    throw new SlotUnavailableError('in-the-past');
  }
}

/** Remembers, for this call, which layouts the caller has heard availability for. */
export async function recordAvailabilityCheck(table: Table, sessionId: string, layoutId: LayoutId, now: Date): Promise<void> {
  const key = checkKey(sessionId);
  await guard('UpdateItem availability check', key, () =>
    table.doc.send(
      new UpdateCommand({
        TableName: table.name,
        Key: key,
        UpdateExpression: 'ADD layouts :layout SET expireAt = :expireAt',
        ExpressionAttributeValues: { ':layout': new Set([layoutId]), ':expireAt': expireAt(now.getTime()) },
      }),
    ),
  );
}

export async function availabilityChecked(table: Table, sessionId: string, layoutId: LayoutId): Promise<boolean> {
  const key = checkKey(sessionId);
  const out = await guard('GetItem availability check', key, () =>
    table.doc.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true })),
  );
  const layouts = out.Item?.layouts as Set<string> | undefined;
  return layouts?.has(layoutId) ?? false;
}

/** Whether a layout's pet rules allow every kind of pet asked about. */
export function allowsPets(layout: Pick<Layout, 'pets'>, kinds: readonly PetKind[]): boolean {
  const limitFor = { cat: layout.pets.cats, dog: layout.pets.dogs, 'small-pet': layout.pets.smallPets } as const;
  return kinds.every((kind) => limitFor[kind] !== 0);
}

async function queryPrefix(table: Table, prefix: string): Promise<Record<string, unknown>[]> {
  return queryBetween(table, prefix, `${prefix}~`);
}

async function queryBetween(table: Table, lower: string, upper: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await guard('Query apartments', { pk: INVENTORY_PK }, () =>
      table.doc.send(
        new QueryCommand({
          TableName: table.name,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lower AND :upper',
          ExpressionAttributeValues: { ':pk': INVENTORY_PK, ':lower': lower, ':upper': upper },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      ),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}
