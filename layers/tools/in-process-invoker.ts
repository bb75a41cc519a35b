import { DEFAULT_TOOL_TIMEOUT_MS, type ToolInvoker, type ToolOutcome } from './contract.ts';
import type { ToolDefinition, ToolDeps } from './define-tool.ts';
import { createToolbox } from './toolbox.ts';

/**
 * The local runtime's ToolInvoker: runs tools in this process with the same validation and outcomes as the
 * Lambda path. A tool that outlives its timeout, or whose call is aborted, is reported as failed to the LLM and
 * its signal is aborted so it can stop its own work.
 */
export function createInProcessToolInvoker(tools: readonly ToolDefinition[], deps: ToolDeps): ToolInvoker {
  const toolbox = createToolbox(tools);
  return {
    async invoke(call, options) {
      const timeoutMs = options.timeoutMs || toolbox.get(call.tool)?.timeoutMs || DEFAULT_TOOL_TIMEOUT_MS;
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const stopped = new Promise<ToolOutcome>((resolve) => {
        const timedOut = (): void => {
          controller.abort(new Error('timeout'));
          resolve({ ok: false, error: { code: 'timeout', message: `The ${call.tool} tool did not answer in time.` } });
        };
        onAbort = () => {
          controller.abort(options.signal?.reason);
          resolve({ ok: false, error: { code: 'failed', message: `The ${call.tool} call was cancelled.` } });
        };
        if (options.signal?.aborted) return onAbort();
        options.signal?.addEventListener('abort', onAbort, { once: true });
        timer = setTimeout(timedOut, timeoutMs);
      });
      try {
        return await Promise.race([toolbox.run(call, { ...deps, signal: controller.signal }), stopped]);
      } finally {
        clearTimeout(timer);
        if (onAbort) options.signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}
