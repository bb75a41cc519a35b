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
    demoId: z.string().trim().min(1, 'missing').describe('The id of the chosen demo, as list_demos returned it'),
  }),
  async handler({ demoId }, { table, caller, now }) {
    const demos = await availableDemos(table);
    // The LLM sometimes passes the spoken name instead of the id; either identifies the demo.
    const demo = demos.find((d) => d.id === demoId) ?? demos.find((d) => spoken(d.name) === spoken(demoId) || spoken(d.id) === spoken(demoId));
    if (!demo) {
      const names = demos.map((d) => `${d.name} (${d.id})`).join(', ') || 'none right now';
      throw new ToolError('not_found', `There is no demo called "${demoId}". The demos are: ${names}.`);
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
