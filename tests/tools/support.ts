import type { Table } from '../../layers/data/table.ts';
import type { MessageSender, OutgoingMessage, SendResult } from '../../layers/messaging/message-sender.ts';
import type { AppLogger } from '../../layers/observability/logger.ts';
import type { ToolCaller, ToolInvocation } from '../../layers/tools/contract.ts';
import type { ToolDeps } from '../../layers/tools/define-tool.ts';

/** A logger that keeps what it was told, so tests can check that failures are logged with context. */
export interface RecordingLogger extends AppLogger {
  lines: { level: string; message: string; extra: unknown[] }[];
}

export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const at = (level: string) => (message: unknown, ...extra: unknown[]) => {
    lines.push({ level, message: String(message), extra });
  };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    appendKeys: () => undefined,
    removeKeys: () => undefined,
  } as unknown as RecordingLogger;
}

/** A MessageSender that records requests; for tests where sending is not the subject. */
export function recordingSender(): MessageSender & { sent: OutgoingMessage[] } {
  const sent: OutgoingMessage[] = [];
  return {
    sent,
    async send(message): Promise<SendResult> {
      sent.push(message);
      return { status: 'queued', sid: `SM${String(sent.length).padStart(32, '0')}`, delivered: true };
    },
  };
}

export const CALLER: ToolCaller = {
  sessionId: 'session-1',
  callSid: 'CA00000000000000000000000000000001',
  from: '+14065550123',
  to: '+14065550100',
  useCaseId: 'test',
};

let callCounter = 0;
export function invocation(tool: string, args: unknown, caller: Partial<ToolCaller> = {}): ToolInvocation {
  callCounter += 1;
  return { tool, callId: `call_${callCounter}`, args, caller: { ...CALLER, ...caller } };
}

export function deps(table: Table, overrides: Partial<ToolDeps> = {}): ToolDeps {
  return { table, logger: recordingLogger(), messages: recordingSender(), ...overrides };
}
