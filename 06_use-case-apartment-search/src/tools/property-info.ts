import { z } from 'zod';
import { defineTool, ToolError } from '../../../layers/tools/define-tool.ts';
import { spokenDate } from '../calendar.ts';
import { listLayouts, type Layout } from '../inventory.ts';
import { LAYOUT_IDS, PROPERTY, spokenAddress } from '../property.ts';
import { layoutArg } from './arguments.ts';

const TOPICS = ['pets', 'fees', 'parking', 'specials', 'location', 'utilities', 'income'] as const;
type Topic = (typeof TOPICS)[number];

const ANSWER: Record<Topic, (l: Layout) => string> = {
  pets: (l) => l.petPolicy,
  fees: (l) => `Application fee ${l.fees.applicationFee} dollars; security deposit ${l.fees.securityDeposit} dollars.`,
  parking: (l) => l.parking,
  specials: (l) => (l.special.deadline ? `${l.special.text} The deadline is ${spokenDate(l.special.deadline)}.` : l.special.text),
  location: (l) => spokenAddress(l.address),
  utilities: (l) => l.utilities,
  income: (l) => `${l.incomeRequirement} That is a gross monthly income of at least ${incomeNeeded(l)} dollars.`,
};

/** "Income must be 2.5 times the rent." -> 2.5 x rent, so callers hear the figure, not arithmetic to do. */
function incomeNeeded(l: Layout): number {
  const factor = Number(/([\d.]+)\s*times/.exec(l.incomeRequirement)?.[1] ?? Number.NaN);
  return Number.isFinite(factor) ? Math.round(factor * l.rent) : l.rent;
}

export const getPropertyInfo = defineTool({
  name: 'get_property_info',
  description:
    'Answers common questions about Parkview Apartments: pets, fees, parking, specials, location, utilities, or income requirements. Give a layout for its specific answer; leave it out to get every layout.',
  parameters: z.object({
    topic: z.enum(TOPICS).describe('What the caller asked about'),
    layout: layoutArg.optional(),
  }),
  async handler({ topic, layout }, { table }) {
    const layouts = (await listLayouts(table))
      .filter((l) => !layout || l.layoutId === layout)
      .sort((a, b) => LAYOUT_IDS.indexOf(a.layoutId) - LAYOUT_IDS.indexOf(b.layoutId));
    if (layouts.length === 0) throw new ToolError('not_found', 'The apartment information is not available right now.');
    return {
      result: {
        property: `${PROPERTY.property.name}, ${PROPERTY.property.city}, ${PROPERTY.property.state}`,
        topic,
        answers: layouts.map((l) => ({ layout: l.layout, answer: ANSWER[topic](l) })),
      },
    };
  },
});
