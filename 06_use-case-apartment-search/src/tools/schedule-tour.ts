import { z } from 'zod';
import { defineTool, ToolError } from '../../../layers/tools/define-tool.ts';
import { spokenDate, spokenTime } from '../calendar.ts';
import { availabilityChecked, bookSlot, getLayout, SlotUnavailableError } from '../inventory.ts';
import { layoutName, spokenAddress } from '../property.ts';
import { dateArg, layoutArg, timeArg, tourTypeArg } from './arguments.ts';

const REFUSAL: Record<SlotUnavailableError['reason'], string> = {
  'no-such-slot': 'There is no open tour at that time. Offer only the times check_availability returned.',
  'already-booked': 'Sorry, that time was just booked by someone else. Call check_availability again and offer another time.',
  'in-the-past': 'That time has already passed. Offer a later time from check_availability.',
};

export const scheduleTour = defineTool({
  name: 'schedule_tour',
  description:
    "Books a tour for the caller at one of the open times check_availability returned in this call. Confirm layout, tour type, day and time with the caller first. The booking is made for the caller's own phone number.",
  parameters: z.object({ layout: layoutArg, tourType: tourTypeArg, date: dateArg.describe('Tour day, YYYY-MM-DD'), time: timeArg }),
  async handler(args, { table, caller, now }) {
    if (!(await availabilityChecked(table, caller.sessionId, args.layout))) {
      throw new ToolError(
        'conflict',
        `Availability for the ${layoutName(args.layout)} has not been checked in this call. Call check_availability first and offer the caller one of its times.`,
      );
    }
    try {
      const slot = await bookSlot(table, { date: args.date, time: args.time, layoutId: args.layout, tourType: args.tourType }, { phone: caller.from, sessionId: caller.sessionId }, now());
      const layout = await getLayout(table, args.layout);
      return {
        result: {
          booked: true,
          bookingId: slot.booking?.bookingId,
          layout: layoutName(args.layout),
          tourType: args.tourType,
          date: args.date,
          time: args.time,
          spoken: `${spokenDate(args.date)} at ${spokenTime(args.time)}`,
          ...(layout ? { address: spokenAddress(layout.address) } : {}),
          nextStep: 'Offer to text a confirmation to the number the caller is calling from.',
        },
      };
    } catch (err) {
      if (err instanceof SlotUnavailableError) throw new ToolError(err.reason === 'no-such-slot' ? 'not_found' : 'conflict', REFUSAL[err.reason]);
      throw err;
    }
  },
});
