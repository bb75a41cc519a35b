import { fileURLToPath } from 'node:url';
import type { UseCaseModule } from '../../layers/tools/use-case.ts';
import { refreshInventory } from './inventory.ts';
import { checkAvailability } from './tools/check-availability.ts';
import { checkExistingAppointments } from './tools/check-existing-appointments.ts';
import { getPropertyInfo } from './tools/property-info.ts';
import { listAvailableApartments } from './tools/list-available-apartments.ts';
import { liveAgentHandoff } from './tools/live-agent-handoff.ts';
import { scheduleTour } from './tools/schedule-tour.ts';
import { sendAppointmentConfirmation } from './tools/send-appointment-confirmation.ts';

/** Parkview Apartments (Missoula, Montana): availability, tours, questions and a handoff to a leasing agent. */
export const useCase: UseCaseModule = {
  id: 'apartment-search',
  dir: fileURLToPath(new URL('..', import.meta.url)),
  tools: [
    checkAvailability,
    scheduleTour,
    listAvailableApartments,
    checkExistingAppointments,
    getPropertyInfo,
    sendAppointmentConfirmation,
    liveAgentHandoff,
  ],
  async loadData(table, now) {
    const s = await refreshInventory(table, now);
    return `${s.layouts} layouts, ${s.slotsCreated + s.slotsKept} tour slots (${s.slotsCreated} new, ${s.slotsKept} kept), ${s.pastSlotsRemoved} past open slots removed`;
  },
};
