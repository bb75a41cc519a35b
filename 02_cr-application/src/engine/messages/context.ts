import type { AppLogger } from '../../../../layers/observability/logger.ts';
import type { CallTimer } from '../continuity/call-timer.ts';
import type { SessionDirectory } from '../session-directory.ts';
import type { SpeculationEnd, TurnContext, TurnEnd } from '../turn.ts';

/** What every inbound-message module gets: the turn context plus the connection the frame came from. */
export interface FrameContext extends TurnContext {
  connectionId: string;
  directory: SessionDirectory;
  /** When the frame reached us (the turn record's `promptReceivedAt`). */
  receivedAt: number;
  log: AppLogger;
  /** The call's timer: silence reprompts and keypad entry timeouts (engine/continuity/call-timer.ts). */
  callTimer?: CallTimer | undefined;
}

/** What handling one frame led to, for the adapter's metrics. */
export type FrameResult =
  | { kind: 'ignored' | 'noted' | 'partial' | 'interrupt' }
  | { kind: 'turn'; end: TurnEnd }
  /** A partial prompt ran a speculative turn: adopted (a turn), or dropped. */
  | { kind: 'speculation'; end: SpeculationEnd }
  /** A final prompt handed its turn to the speculative turn answering the same words. */
  | { kind: 'preempted'; turn: number };
