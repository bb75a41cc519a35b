import { z } from 'zod';
import { defineTool } from '../../../layers/tools/define-tool.ts';
import { spokenDate, spokenTime } from '../calendar.ts';
import { toursBookedBy } from '../inventory.ts';
import { layoutName } from '../property.ts';

export const checkExistingAppointments = defineTool({
  name: 'check_existing_appointments',
  description: "Looks up the upcoming tours booked from the caller's phone number. Takes no arguments: the number comes from the call.",
  parameters: z.object({}),
  async handler(_args, { table, caller, now }) {
    const at = now().getTime();
    const upcoming = (await toursBookedBy(table, caller.from)).filter((s) => Date.parse(s.startsAt) > at);
    return {
      result: {
        appointments: upcoming.map((s) => ({
          bookingId: s.booking?.bookingId,
          layout: layoutName(s.layoutId),
          tourType: s.tourType,
          date: s.date,
          time: s.time,
          spoken: `${s.tourType} tour of the ${layoutName(s.layoutId)} on ${spokenDate(s.date)} at ${spokenTime(s.time)}`,
        })),
        ...(upcoming.length === 0 ? { note: 'The caller has no upcoming tours booked from this number.' } : {}),
      },
    };
  },
});
