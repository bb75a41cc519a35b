import type { Table } from '../data/table.ts';
import type { ToolDefinition } from './define-tool.ts';

/**
 * What a use-case folder's `src/index.ts` exports as `useCase`. The loader reads the rest of the folder
 * (`use-case/prompt.md`, `settings.json`, `dtmf.json`) next to `dir`; the tools give the manifest.
 */
export interface UseCaseModule {
  id: string;
  /** The use-case folder (absolute path), e.g. /repo/06_use-case-apartment-search. */
  dir: string;
  tools: readonly ToolDefinition[];
  /**
   * Writes the use case's own data (inventory, slots...) relative to `now`; idempotent. Returns a short summary
   * for the loader's output.
   */
  loadData?: (table: Table, now: Date) => Promise<string>;
}
