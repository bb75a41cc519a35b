import { z } from 'zod';
import { LOCAL_DATE, normaliseTime } from '../calendar.ts';
import { LAYOUT_IDS, PET_KINDS, TOUR_TYPES } from '../property.ts';

/** Argument schemas shared by the apartment tools, described for the LLM. A wrong enum value is reported with
 * the allowed values by layers/tools/describe-issues.ts, so no custom message is needed here. */
export const layoutArg = z.enum(LAYOUT_IDS).describe('The apartment layout');
export const tourTypeArg = z
  .enum(TOUR_TYPES)
  .describe('in-person (with a leasing agent) or self-guided');
export const dateArg = z.string().regex(LOCAL_DATE, 'expected a date as YYYY-MM-DD');
export const timeArg = z
  .string()
  .transform((value, ctx) => {
    const time = normaliseTime(value);
    if (!time) ctx.addIssue({ code: 'custom', message: 'expected a time like 14:30 or 2:30 PM' });
    return time ?? value;
  })
  .describe('Start time, 24-hour HH:MM (e.g. 14:30), exactly as check_availability returned it');
export const petsArg = z.array(z.enum(PET_KINDS)).describe('Kinds of pets the caller has');
