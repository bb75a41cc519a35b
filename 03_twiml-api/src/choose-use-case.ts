// The core error class: the use-case schemas are zod/mini, whose errors are not classic ZodErrors.
import { $ZodError } from 'zod/v4/core';
import { getUseCase, NotFoundError, type CallerProfile, type StoredUseCase, type Table } from '../../layers/data/index.ts';
import type { AppLogger } from '../../layers/observability/logger.ts';

/**
 * Which use case answers: the one the caller chose last time if it is still loaded (and valid), else the demo
 * chooser. An outage of the table is not "not loaded": it propagates so the caller hears the apology.
 */
export async function chooseUseCase(
  table: Table,
  profile: CallerProfile | undefined,
  defaultUseCaseId: string,
  logger: AppLogger,
): Promise<StoredUseCase> {
  const chosen = profile?.useCaseId;
  if (chosen && chosen !== defaultUseCaseId) {
    try {
      return await getUseCase(table, chosen);
    } catch (err) {
      if (!(err instanceof NotFoundError || err instanceof $ZodError)) throw err;
      logger.warn('The caller chose a use case that is not loaded; the default answers', {
        useCaseId: chosen,
        defaultUseCaseId,
        error: err.message,
      });
    }
  }
  return getUseCase(table, defaultUseCaseId);
}
