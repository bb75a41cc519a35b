import { checkAvailability } from './tools/check-availability.ts';
import { checkExistingAppointments } from './tools/check-existing-appointments.ts';
import { getPropertyInfo } from './tools/property-info.ts';
import { listAvailableApartments } from './tools/list-available-apartments.ts';
import { liveAgentHandoff } from './tools/live-agent-handoff.ts';
import { scheduleTour } from './tools/schedule-tour.ts';
import { sendAppointmentConfirmation } from './tools/send-appointment-confirmation.ts';
import { switchLanguage } from './tools/switch-language.ts';

/**
 * The apartment tools, in the order the LLM sees them. The tool function imports this list alone, so the
 * inventory loader (and the writes it needs) stays out of its bundle and its IAM role.
 */
export const tools = [
  checkAvailability,
  scheduleTour,
  listAvailableApartments,
  checkExistingAppointments,
  getPropertyInfo,
  sendAppointmentConfirmation,
  liveAgentHandoff,
  switchLanguage,
];
