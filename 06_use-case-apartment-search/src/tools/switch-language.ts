import { z } from 'zod';
import { defineTool } from '../../../layers/tools/define-tool.ts';

/** The languages this use case has voices for (its settings.json `languages`). */
export const SPOKEN_LANGUAGES = { english: 'en-US', spanish: 'es-US' } as const;

export const switchLanguage = defineTool({
  name: 'switch_language',
  description: 'Switches the call to another language, for the voice and for understanding the caller. Call it when the caller asks to speak Spanish or English.',
  parameters: z.object({
    language: z.enum(['english', 'spanish']).describe('The language the caller wants to speak'),
  }),
  async handler({ language }) {
    const code = SPOKEN_LANGUAGES[language];
    return {
      result: { language: code, [language]: true, note: `From now on, speak ${language} with the caller.` },
      actions: [{ type: 'language', ttsLanguage: code, transcriptionLanguage: code }],
    };
  },
});
