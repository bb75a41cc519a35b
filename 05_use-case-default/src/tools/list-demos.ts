import { z } from 'zod';
import { defineTool } from '../../../layers/tools/define-tool.ts';
import { availableDemos } from '../demos.ts';

export const listDemos = defineTool({
  name: 'list_demos',
  description: 'Lists the demos the caller can choose from, with a short description of each.',
  parameters: z.object({}),
  async handler(_args, { table }) {
    const demos = await availableDemos(table);
    return { result: demos.length ? { demos } : { demos, note: 'No demos are available right now.' } };
  },
});
