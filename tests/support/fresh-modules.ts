import { vi } from 'vitest';

/**
 * Setup file of the wire-env project: each test file there gets our modules evaluated afresh, as a new Lambda
 * container would, because the handler entry points build their AWS deps once per module graph from process.env.
 * Packages from node_modules stay loaded in the worker (they read the environment when our code constructs a
 * client or logger, not when they load), so a file pays for its own graph of our code, not for a new process.
 */
vi.resetModules();
