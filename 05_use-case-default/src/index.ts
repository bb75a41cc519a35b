import { fileURLToPath } from 'node:url';
import type { UseCaseModule } from '../../layers/tools/use-case.ts';
import { chooseDemo } from './tools/choose-demo.ts';
import { listDemos } from './tools/list-demos.ts';
import { saveCallerName } from './tools/save-caller-name.ts';
import { DEMO_CHOOSER_ID } from './demos.ts';

/** The demo chooser: learns the caller's name and sends their next call to the demo they pick. */
export const useCase: UseCaseModule = {
  id: DEMO_CHOOSER_ID,
  dir: fileURLToPath(new URL('..', import.meta.url)),
  tools: [saveCallerName, listDemos, chooseDemo],
};
