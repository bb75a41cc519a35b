/**
 * What `npm start` prints. Quiet by default: a banner and one readable line per call and per turn, which is what a
 * person at the terminal reads. The structured JSON logs (Powertools) and the EMF metric lines that Lambda ships to
 * CloudWatch are for machines; they appear only when asked for with LOG_LEVEL (DEBUG also turns EMF on) or --json.
 * Must run before the logger and metrics modules are imported: they read these variables once.
 */
export interface TerminalMode {
  /** JSON log lines are printed (at `logLevel`). */
  json: boolean;
  logLevel: string;
  /** EMF metric lines are printed. */
  metrics: boolean;
}

export function configureTerminal(env: NodeJS.ProcessEnv, options: { json: boolean }): TerminalMode {
  const asked = env.LOG_LEVEL?.trim() ? env.LOG_LEVEL.trim().toUpperCase() : undefined;
  const json = options.json || (asked !== undefined && asked !== 'SILENT');
  const logLevel = json ? (asked && asked !== 'SILENT' ? asked : 'INFO') : 'SILENT';
  const metrics = options.json || asked === 'DEBUG';
  env.LOG_LEVEL = logLevel;
  if (!metrics) env.POWERTOOLS_METRICS_DISABLED = 'true';
  else delete env.POWERTOOLS_METRICS_DISABLED;
  // Lambda runs Node 22; this machine's Node 20 is for development only, so the SDK's upgrade notice is noise here.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return { json, logLevel, metrics };
}
