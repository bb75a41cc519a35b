import { z } from 'zod';
import { defineTool } from '../../../layers/tools/define-tool.ts';

export const liveAgentHandoff = defineTool({
  name: 'live_agent_handoff',
  description:
    'Transfers the caller to a leasing agent. Use it when the caller asks for a person, or needs something the other tools cannot do. The call leaves this assistant right after your next sentence.',
  parameters: z.object({
    summary: z
      .string()
      .trim()
      .min(1, 'missing')
      .max(500)
      .describe('Read to the agent before the caller is put through: who the caller is, what they want, and what was already done (a tour booked, a confirmation sent)'),
  }),
  async handler({ summary }) {
    return {
      result: { transferring: true, say: 'Tell the caller in one short sentence that you are connecting them to a leasing agent now.' },
      actions: [{ type: 'end', handoffData: { reason: 'live-agent-handoff', summary } }],
    };
  },
});
