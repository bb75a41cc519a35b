import { tableFromEnv } from '../../layers/data/table.ts';
import { logger } from '../../layers/observability/logger.ts';
import { refreshInventory, type RefreshSummary } from './inventory.ts';

/**
 * Daily schedule (EventBridge Scheduler, shortly after midnight in America/Denver): rolls the tour window forward
 * and re-dates the layouts. Bookings are never touched. A failure is rethrown so the scheduler retries it.
 */
const table = tableFromEnv();

export const handler = async (): Promise<RefreshSummary> => {
  try {
    const summary = await refreshInventory(table, new Date());
    logger.info('apartment inventory refreshed', { ...summary });
    return summary;
  } catch (err) {
    logger.error('apartment inventory refresh failed', { error: err as Error });
    throw err;
  }
};
