import { en } from 'zod/locales';
import { config } from 'zod/mini';

/**
 * Imported for its effect by every module that validates with zod/mini (the same core as classic zod at a
 * fraction of the bundle a cold start pays for). zod/mini loads no messages of its own: without the English
 * locale every issue would read "Invalid input", and the logs would no longer say which field was wrong.
 */
config(en());
