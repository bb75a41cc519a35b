import { z } from 'zod';
import facts from '../data/parkview-apartments.json' with { type: 'json' };
import { LOCAL_TIME } from './calendar.ts';

/**
 * The property's facts (data/parkview-apartments.json), validated once at load. Day offsets are turned into
 * dates by the inventory loader, relative to the day it runs.
 */
export const LAYOUT_IDS = ['studio', 'one-bedroom', 'two-bedroom', 'three-bedroom'] as const;
export type LayoutId = (typeof LAYOUT_IDS)[number];
export const TOUR_TYPES = ['in-person', 'self-guided'] as const;
export type TourType = (typeof TOUR_TYPES)[number];
export const PET_KINDS = ['cat', 'dog', 'small-pet'] as const;
export type PetKind = (typeof PET_KINDS)[number];

/** 0 = not allowed, null = allowed with no stated limit. */
const limit = z.number().int().min(0).nullable();

const LayoutFactsSchema = z.object({
  layout: z.string().min(1),
  squareFeet: z.number().int().positive(),
  rent: z.number().positive(),
  moveInInDays: z.number().int().min(0),
  features: z.array(z.string().min(1)),
  petPolicy: z.string().min(1),
  pets: z.object({ cats: limit, dogs: limit, smallPets: limit, total: limit }),
  fees: z.object({ applicationFee: z.number().min(0), securityDeposit: z.number().min(0) }),
  parking: z.string().min(1),
  special: z.object({ text: z.string().min(1), deadlineInDays: z.number().int().min(0).nullable() }),
  incomeRequirement: z.string().min(1),
  utilities: z.string().min(1),
  address: z.object({ street: z.string(), city: z.string(), state: z.string(), zipCode: z.string().regex(/^\d{5}$/) }),
});
export type LayoutFacts = z.infer<typeof LayoutFactsSchema>;

const PropertyFactsSchema = z.object({
  property: z.object({ name: z.string(), city: z.string(), state: z.string() }),
  tourTypes: z.tuple([z.literal('in-person'), z.literal('self-guided')]),
  tourHours: z.object({ first: z.string().regex(LOCAL_TIME), last: z.string().regex(LOCAL_TIME), stepMinutes: z.number().int().positive() }),
  tourDays: z.number().int().min(1).max(31),
  layouts: z.record(z.enum(LAYOUT_IDS), LayoutFactsSchema),
});
export type PropertyFacts = z.infer<typeof PropertyFactsSchema>;

export const PROPERTY: PropertyFacts = PropertyFactsSchema.parse(facts);
export const TIME_ZONE = 'America/Denver';

export function spokenAddress(a: LayoutFacts['address']): string {
  return `${a.street}, ${a.city}, ${a.state} ${a.zipCode}`;
}

export function layoutName(id: LayoutId): string {
  return PROPERTY.layouts[id].layout;
}
