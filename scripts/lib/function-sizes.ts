import { loadStacks, serverlessFunctions } from './stacks.ts';

/** Memory and architecture of each function as its template deploys it, keyed by name without `cr-<env>-`. */
export interface FunctionSize {
  memoryMb: number;
  architecture: 'arm64' | 'x86_64';
}

/** SAM's defaults when a template sets neither. */
const SAM_DEFAULT: FunctionSize = { memoryMb: 128, architecture: 'x86_64' };

export function functionSizes(rootDir: string): Map<string, FunctionSize> {
  const sizes = new Map<string, FunctionSize>();
  for (const stack of loadStacks(rootDir).stacks) {
    for (const fn of serverlessFunctions(stack)) {
      const name = fn.properties.FunctionName;
      const sub = typeof name === 'string' ? name : (name as { 'Fn::Sub'?: unknown } | undefined)?.['Fn::Sub'];
      const short = typeof sub === 'string' ? /^cr-\$\{EnvironmentName\}-(.+)$/.exec(sub)?.[1] : undefined;
      if (!short) continue;
      const memory = fn.properties.MemorySize;
      const arch = (fn.properties.Architectures as unknown[] | undefined)?.[0];
      sizes.set(short, {
        memoryMb: typeof memory === 'number' ? memory : SAM_DEFAULT.memoryMb,
        architecture: arch === 'arm64' ? 'arm64' : SAM_DEFAULT.architecture,
      });
    }
  }
  return sizes;
}
