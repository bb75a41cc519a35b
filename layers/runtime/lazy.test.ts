import { describe, expect, it } from 'vitest';
import { lazy } from './lazy.ts';

describe('lazy', () => {
  it('builds once, on first use', () => {
    let builds = 0;
    const get = lazy(() => ({ n: ++builds }));
    expect(builds).toBe(0);
    expect(get()).toBe(get());
    expect(builds).toBe(1);
  });

  it('does not keep a failed build: the next call tries again', () => {
    let attempts = 0;
    const get = lazy(() => {
      if (++attempts === 1) throw new Error('TABLE_NAME is not set');
      return 'table';
    });
    expect(get).toThrow('TABLE_NAME');
    expect(get()).toBe('table');
  });
});
