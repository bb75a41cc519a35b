import type { Timing } from '../reply.ts';
import { startLlmServer, type LlmServer } from '../server.ts';
import { findOfflineScriptFiles, loadOfflineScripts } from './script-files.ts';
import { createScriptedResponder } from './scripted-responder.ts';

/** A realistic pace, so interruption and latency behave locally roughly as they do against a hosted model. */
export const OFFLINE_MODEL_TIMING = { firstTokenMs: 250, tokenGapMs: 30 } as const satisfies Required<Timing>;

export interface OfflineModelOptions {
  /** Where the use-case folders are (the repository root); their `offline-model.json` files are the scripts. */
  rootDir: string;
  host?: string;
  port?: number;
  /** Overrides OFFLINE_MODEL_TIMING field by field. */
  timing?: Timing;
}

export interface OfflineModel extends LlmServer {
  /** The script files loaded, in the order they are tried. */
  scriptFiles: string[];
}

/** The offline model served over the OpenAI protocol: what the local runtime and `npm run offline-llm` start. */
export async function startOfflineModel(options: OfflineModelOptions): Promise<OfflineModel> {
  const scriptFiles = await findOfflineScriptFiles(options.rootDir);
  const scripts = await loadOfflineScripts(scriptFiles);
  const server = await startLlmServer({
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    responder: createScriptedResponder(scripts),
    timing: { ...OFFLINE_MODEL_TIMING, ...definedOnly(options.timing) },
  });
  return Object.assign(server, { scriptFiles });
}

function definedOnly(timing: Timing | undefined): Timing {
  return Object.fromEntries(Object.entries(timing ?? {}).filter(([, v]) => v !== undefined));
}
