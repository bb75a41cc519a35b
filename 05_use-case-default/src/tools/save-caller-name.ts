import { z } from 'zod';
import { updateProfile } from '../../../layers/data/profiles.ts';
import { defineTool } from '../../../layers/tools/define-tool.ts';

const name = z.string().trim().min(1, 'missing').max(60);

export const saveCallerName = defineTool({
  name: 'save_caller_name',
  description: "Saves the caller's first and last name to their profile so we greet them by name next time.",
  parameters: z.object({
    firstName: name.describe("The caller's first name, as they said it"),
    lastName: name.describe("The caller's last name, as they said it"),
  }),
  async handler({ firstName, lastName }, { table, caller, now }) {
    const profile = await updateProfile(table, caller.from, { firstName, lastName }, now());
    return { result: { saved: true, firstName: profile.firstName, lastName: profile.lastName } };
  },
});
