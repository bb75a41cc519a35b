import { existsSync, readFileSync } from 'node:fs';

/**
 * Reads the flat subset of TOML that samconfig.toml uses (tables of `key = "string" | true | number | [..]`),
 * enough to know a stack's name and its parameter overrides. SAM CLI itself remains the reader that deploys.
 */
export type SamConfig = Record<string, Record<string, string | number | boolean | string[]>>;

export function parseSamConfig(source: string, file = 'samconfig.toml'): SamConfig {
  const config: SamConfig = {};
  let table: Record<string, string | number | boolean | string[]> | undefined;
  source.split(/\r?\n/).forEach((raw, index) => {
    const line = stripComment(raw).trim();
    if (!line) return;
    const header = /^\[([A-Za-z0-9_.-]+)\]$/.exec(line);
    if (header) {
      table = config[header[1]!] ??= {};
      return;
    }
    const pair = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!pair) throw new Error(`${file}:${index + 1}: cannot read "${raw}"`);
    const [, key, value] = pair;
    if (!table) {
      if (key !== 'version') throw new Error(`${file}:${index + 1}: "${key}" outside a table`);
      return;
    }
    table[key!] = parseValue(value!, `${file}:${index + 1}`);
  });
  return config;
}

function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"' && line[i - 1] !== '\\') quoted = !quoted;
    if (line[i] === '#' && !quoted) return line.slice(0, i);
  }
  return line;
}

function parseValue(text: string, where: string): string | number | boolean | string[] {
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text.startsWith('[')) return JSON.parse(text) as string[];
  throw new Error(`${where}: unsupported value ${text}`);
}

export function loadSamConfig(file: string): SamConfig | undefined {
  return existsSync(file) ? parseSamConfig(readFileSync(file, 'utf8'), file) : undefined;
}

/** A value as `sam deploy` would see it: the command's own table first, then the global one. */
export function samSetting(config: SamConfig | undefined, command: 'build' | 'deploy' | 'delete', key: string, env = 'default') {
  return config?.[`${env}.${command}.parameters`]?.[key] ?? config?.[`${env}.global.parameters`]?.[key];
}

/** `parameter_overrides = "A=1 B=\"x y\""` (or a list of `K=V`) as a map. */
export function parameterOverrides(config: SamConfig | undefined, env = 'default'): Record<string, string> {
  const raw = samSetting(config, 'deploy', 'parameter_overrides', env);
  const pairs = Array.isArray(raw) ? raw : typeof raw === 'string' ? (raw.match(/[^\s=]+=("[^"]*"|\S*)/g) ?? []) : [];
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    out[pair.slice(0, at)] = pair.slice(at + 1).replace(/^"(.*)"$/, '$1');
  }
  return out;
}
