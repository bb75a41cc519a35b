import { z } from 'zod';
import { defineTool } from '../../../layers/tools/define-tool.ts';
import { addDays, localDate, spokenDate, spokenTime } from '../calendar.ts';
import { openSlots, recordAvailabilityCheck } from '../inventory.ts';
import { layoutName, PROPERTY, TIME_ZONE } from '../property.ts';
import { dateArg, layoutArg, tourTypeArg } from './arguments.ts';

export const checkAvailability = defineTool({
  name: 'check_availability',
  description:
    'Finds open tour times for an apartment layout in the next seven days. Always call it before scheduling a tour, and offer the caller only times it returns.',
  parameters: z.object({
    layout: layoutArg,
    tourType: tourTypeArg.optional(),
    date: dateArg.optional().describe('Only this day (YYYY-MM-DD); leave out for the whole week'),
  }),
  async handler({ layout, tourType, date }, { table, caller, now }) {
    const at = now();
    const slots = await openSlots(table, at, { layoutId: layout, ...(tourType ? { tourType } : {}), ...(date ? { date } : {}) });
    await recordAvailabilityCheck(table, caller.sessionId, layout, at);
    const today = localDate(at, TIME_ZONE);
    const lastDay = addDays(today, PROPERTY.tourDays - 1);
    return {
      result: {
        layout: layoutName(layout),
        layoutId: layout,
        openTimes: slots.map((s) => ({
          date: s.date,
          time: s.time,
          tourType: s.tourType,
          spoken: `${spokenDate(s.date)} at ${spokenTime(s.time)}, ${s.tourType}`,
        })),
        ...(slots.length === 0
          ? { note: `No open ${tourType ?? ''} tour times for the ${layoutName(layout)}${date ? ` on ${spokenDate(date)}` : ''}. Tours can be booked from ${spokenDate(today)} to ${spokenDate(lastDay)}.` }
          : {}),
      },
    };
  },
});
