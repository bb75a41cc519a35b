import type { Responder, Timing } from '../reply.ts';
import { startLlmServer, type LlmServer } from '../server.ts';
import { findOfflineScriptFiles, liveOfflineScripts, loadOfflineScripts } from './script-files.ts';
import type { OfflineScript } from './script-schema.ts';
import { createScriptedResponder } from './scripted-responder.ts';
import { OFFLINE_MODEL_TIMING } from './timing.ts';

export { OFFLINE_MODEL_TIMING };

export interface OfflineModelOptions {
  /** Where the use-case folders are (the repository root); their `offline-model.json` files are the scripts. */
  rootDir: string;
  host?: string;
  port?: number;
  /** Overrides OFFLINE_MODEL_TIMING field by field. */
  timing?: Timing;
  /** Re-read the script files before each reply when they changed (`npm start`); told of each reload or bad edit. */
  reload?: (event: { reloaded: string[] } | { error: Error }) => void;
}

export interface OfflineModel extends LlmServer {
  /** The script files loaded, in the order they are tried. */
  scriptFiles: string[];
}

/** The offline model served over the OpenAI protocol: what the local runtime and `npm run offline-llm` start. */
export async function startOfflineModel(options: OfflineModelOptions): Promise<OfflineModel> {
  let scriptFiles: string[];
  let responder: Responder;
  if (options.reload) {
    const live = await liveOfflineScripts(options.rootDir, options.reload);
    scriptFiles = live.files;
    responder = reloadingResponder(live.current);
  } else {
    scriptFiles = await findOfflineScriptFiles(options.rootDir);
    responder = createScriptedResponder(await loadOfflineScripts(scriptFiles));
  }
  const server = await startLlmServer({
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    responder,
    timing: { ...OFFLINE_MODEL_TIMING, ...definedOnly(options.timing) },
  });
  return Object.assign(server, { scriptFiles });
}

function reloadingResponder(current: () => Promise<OfflineScript[]>): Responder {
  let loaded: OfflineScript[] | undefined;
  let responder: Responder | undefined;
  return async (request) => {
    const scripts = await current();
    if (scripts !== loaded) {
      loaded = scripts;
      responder = createScriptedResponder(scripts);
    }
    return responder!(request);
  };
}

function definedOnly(timing: Timing | undefined): Timing {
  return Object.fromEntries(Object.entries(timing ?? {}).filter(([, v]) => v !== undefined));
}
