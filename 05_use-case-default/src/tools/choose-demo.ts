import { z } from 'zod';
import { updateProfile } from '../../../layers/data/profiles.ts';
import { defineTool, ToolError } from '../../../layers/tools/define-tool.ts';
import { availableDemos } from '../demos.ts';

const spoken = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

export const chooseDemo = defineTool({
  name: 'choose_demo',
  description:
    "Saves the demo the caller chose to their profile, so their next call to this number goes straight to it. Call it after the caller confirms their choice.",
  parameters: z.object({
    demoId: z.string().trim().min(1).optional().describe('The id of the chosen demo, as list_demos returned it'),
    number: z.number().int().min(1).max(9).optional().describe("The demo's number, when the caller pressed or said it"),
  }),
  async handler({ demoId, number }, { table, caller, now }) {
    const demos = await availableDemos(table);
    const names = demos.map((d) => `${d.number} ${d.name} (${d.id})`).join(', ') || 'none right now';
    if (demoId === undefined && number === undefined) {
      throw new ToolError('invalid_arguments', `Say which demo: give its id or its number. The demos are: ${names}.`);
    }
    // The LLM sometimes passes the spoken name instead of the id; either identifies the demo.
    const demo =
      demoId !== undefined
        ? (demos.find((d) => d.id === demoId) ?? demos.find((d) => spoken(d.name) === spoken(demoId) || spoken(d.id) === spoken(demoId)))
        : demos.find((d) => d.number === number);
    if (!demo) {
      const asked = demoId !== undefined ? `called "${demoId}"` : `number ${number}`;
      throw new ToolError('not_found', `There is no demo ${asked}. The demos are: ${names}.`);
    }
    await updateProfile(table, caller.from, { useCaseId: demo.id }, now());
    return {
      result: {
        saved: true,
        demo: { id: demo.id, name: demo.name },
        nextStep: `Tell the caller to hang up and call this number again: the next call goes straight to the ${demo.name} demo.`,
      },
    };
  },
});
