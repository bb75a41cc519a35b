import { listUseCases } from '../../layers/data/use-cases.ts';
import type { Table } from '../../layers/data/table.ts';

export const DEMO_CHOOSER_ID = 'default';

export interface Demo {
  id: string;
  name: string;
  description: string;
}

/** The demos a caller may pick: loaded, listed, and not the chooser itself. */
export async function availableDemos(table: Table): Promise<Demo[]> {
  const all = await listUseCases(table);
  return all
    .filter((u) => u.listed && u.id !== DEMO_CHOOSER_ID)
    .map(({ id, name, description }) => ({ id, name, description }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
