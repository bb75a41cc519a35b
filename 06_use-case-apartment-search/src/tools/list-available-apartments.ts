import { z } from 'zod';
import { defineTool } from '../../../layers/tools/define-tool.ts';
import { spokenDate } from '../calendar.ts';
import { allowsPets, listLayouts } from '../inventory.ts';
import { LAYOUT_IDS } from '../property.ts';
import { dateArg, layoutArg, petsArg } from './arguments.ts';

export const listAvailableApartments = defineTool({
  name: 'list_available_apartments',
  description:
    'Lists the apartments available to rent, with rent, size, first move-in date and current special. All filters are optional: layout, maximum monthly rent, move-in by a date, and pets the caller has.',
  parameters: z.object({
    layout: layoutArg.optional(),
    maxRent: z.number().positive('maxRent must be a positive number of dollars').optional().describe('Highest monthly rent in US dollars'),
    moveInBy: dateArg.optional().describe('Latest move-in date the caller can accept, YYYY-MM-DD'),
    pets: petsArg.optional(),
  }),
  async handler({ layout, maxRent, moveInBy, pets }, { table }) {
    const layouts = (await listLayouts(table)).sort((a, b) => LAYOUT_IDS.indexOf(a.layoutId) - LAYOUT_IDS.indexOf(b.layoutId));
    const matching = layouts.filter(
      (l) =>
        (!layout || l.layoutId === layout) &&
        (maxRent === undefined || l.rent <= maxRent) &&
        (!moveInBy || l.availableFrom <= moveInBy) &&
        (!pets?.length || allowsPets(l, pets)),
    );
    return {
      result: {
        apartments: matching.map((l) => ({
          layout: l.layout,
          layoutId: l.layoutId,
          monthlyRent: l.rent,
          squareFeet: l.squareFeet,
          features: l.features,
          availableFrom: spokenDate(l.availableFrom),
          petPolicy: l.petPolicy,
          special: l.special.deadline ? `${l.special.text} Deadline: ${spokenDate(l.special.deadline)}.` : l.special.text,
        })),
        ...(matching.length === 0 ? { note: 'No apartment matches all of those wishes. Say which one rules them out and offer the closest options.' } : {}),
      },
    };
  },
});
