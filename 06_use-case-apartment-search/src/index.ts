import { fileURLToPath } from 'node:url';
import type { UseCaseModule } from '../../layers/tools/use-case.ts';
import { refreshInventory } from './inventory.ts';
import { tools } from './tools.ts';

/** Parkview Apartments (Missoula, Montana): availability, tours, questions and a handoff to a leasing agent. */
export const useCase: UseCaseModule = {
  id: 'apartment-search',
  dir: fileURLToPath(new URL('..', import.meta.url)),
  tools,
  async loadData(table, now) {
    const s = await refreshInventory(table, now);
    return `${s.layouts} layouts, ${s.slotsCreated + s.slotsKept} tour slots (${s.slotsCreated} new, ${s.slotsKept} kept), ${s.pastSlotsRemoved} past open slots removed`;
  },
};
