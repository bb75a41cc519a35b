import { listUseCases } from '../../layers/data/use-cases.ts';
import type { Table } from '../../layers/data/table.ts';

export const DEMO_CHOOSER_ID = 'default';

export interface Demo {
  /** What the caller presses to choose it (keypad 1-9, use-case/dtmf.json), in the order the prompt lists them. */
  number: number;
  id: string;
  name: string;
  description: string;
  /** "press 1 for the Apartment search demo": how to say the number. */
  keypad: string;
}

/**
 * The demos a caller may pick: loaded, listed, and not the chooser itself, by name, the order the prompt's
 * {{demos}} lists them in (03_twiml-api sorts the same way), numbered from 1.
 */
export async function availableDemos(table: Table): Promise<Demo[]> {
  const all = await listUseCases(table);
  return all
    .filter((u) => u.listed && u.id !== DEMO_CHOOSER_ID)
    .map(({ id, name, description }) => ({ id, name, description }))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((demo, i) => ({ number: i + 1, ...demo, keypad: `press ${i + 1} for the ${demo.name} demo` }));
}
