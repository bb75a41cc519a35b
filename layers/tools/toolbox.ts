import type { ToolInvocation, ToolManifestEntry, ToolOutcome } from './contract.ts';
import type { ToolDefinition, ToolDeps } from './define-tool.ts';

/** A use case's tools by name: the one dispatch both the Lambda handler and the in-process invoker use. */
export interface Toolbox {
  readonly tools: readonly ToolDefinition[];
  get(name: string): ToolDefinition | undefined;
  manifest(functionName?: string): ToolManifestEntry[];
  run(invocation: ToolInvocation, deps: ToolDeps & { signal?: AbortSignal }): Promise<ToolOutcome>;
}

export function createToolbox(tools: readonly ToolDefinition[]): Toolbox {
  const byName = new Map<string, ToolDefinition>();
  for (const tool of tools) {
    // Two tools with one name would make the LLM's choice ambiguous: a programming error, caught at load.
    if (byName.has(tool.name)) throw new Error(`duplicate tool name "${tool.name}"`);
    byName.set(tool.name, tool);
  }
  return {
    tools,
    get: (name) => byName.get(name),
    manifest: (functionName) => tools.map((t) => t.manifest(functionName)),
    async run(invocation, deps) {
      const tool = byName.get(invocation.tool);
      if (!tool) {
        deps.logger.warn('unknown tool called', { tool: invocation.tool, sessionId: invocation.caller.sessionId });
        return {
          ok: false,
          error: { code: 'unknown_tool', message: `There is no tool named "${invocation.tool}". Use only the tools you were given.` },
        };
      }
      return tool.run(invocation, deps);
    },
  };
}
