import { describe, expect, it } from 'vitest';
import { settle } from './settle.ts';

describe('settle', () => {
  it('runs long promise chains and the immediates they schedule, in any mix, before it resolves', async () => {
    const log: string[] = [];
    const chain = async (name: string, depth: number) => {
      for (let i = 0; i < depth; i++) await Promise.resolve();
      log.push(name);
      setImmediate(() => {
        void Promise.resolve().then(() => {
          setImmediate(() => log.push(`${name}+immediate+immediate`));
        });
      });
    };
    void chain('a', 500);
    void chain('b', 3);
    await settle();
    expect(log.sort()).toEqual(['a', 'a+immediate+immediate', 'b', 'b+immediate+immediate']);
  });

  it('leaves timers alone: only work that needs no time passing runs', async () => {
    let fired = false;
    const timer = setTimeout(() => (fired = true), 60_000);
    await settle();
    expect(fired).toBe(false);
    clearTimeout(timer);
  });

  it('fails loudly on work that reschedules itself forever', async () => {
    let stop = false;
    const spin = () => {
      if (!stop) setImmediate(spin);
    };
    spin();
    await expect(settle({ maxRounds: 50 })).rejects.toThrow(/still busy after 50 rounds/);
    stop = true;
    await settle();
  });
});
