import { z } from 'zod';
import { MessageSendError } from '../../../layers/messaging/message-sender.ts';
import { defineTool, ToolError } from '../../../layers/tools/define-tool.ts';
import { spokenDate, spokenTime } from '../calendar.ts';
import { getLayout, toursBookedBy } from '../inventory.ts';
import { layoutName, PROPERTY, spokenAddress } from '../property.ts';

export const sendAppointmentConfirmation = defineTool({
  name: 'send_appointment_confirmation',
  description:
    "Texts a tour confirmation to the number the caller is calling from. Without a bookingId it confirms the caller's most recently booked upcoming tour.",
  parameters: z.object({
    bookingId: z.string().min(1).optional().describe('The bookingId schedule_tour or check_existing_appointments returned'),
  }),
  timeoutMs: 15_000,
  async handler({ bookingId }, { table, caller, messages, now, logger }) {
    const at = now().getTime();
    const upcoming = (await toursBookedBy(table, caller.from)).filter((s) => Date.parse(s.startsAt) > at);
    const tour = bookingId
      ? upcoming.find((s) => s.booking?.bookingId === bookingId)
      : upcoming.sort((a, b) => (a.booking?.bookedAt ?? '').localeCompare(b.booking?.bookedAt ?? '')).at(-1);
    if (!tour) {
      throw new ToolError('not_found', bookingId ? 'No upcoming tour with that booking was found for this caller.' : 'The caller has no upcoming tour to confirm.');
    }
    const layout = await getLayout(table, tour.layoutId);
    const where = layout ? ` at ${spokenAddress(layout.address)}` : '';
    const body =
      `${PROPERTY.property.name}: your ${tour.tourType} tour of the ${layoutName(tour.layoutId)} apartment is confirmed for ` +
      `${spokenDate(tour.date)} at ${spokenTime(tour.time)}${where}. Call us if you need to change it.`;
    try {
      const sent = await messages.send({ to: caller.from, body, channel: 'sms' });
      return {
        result: sent.delivered
          ? { sent: true, to: 'the number the caller is calling from' }
          : { sent: false, note: 'Text messaging is not set up here, so the confirmation was kept in the outbox and not sent. Tell the caller their tour is booked all the same.' },
      };
    } catch (err) {
      if (err instanceof MessageSendError) {
        logger.warn('confirmation text refused', { twilioCode: err.twilioCode, reason: err.message });
        throw new ToolError('failed', `The confirmation text could not be sent (${err.message}). The tour is still booked.`);
      }
      throw err;
    }
  },
});
