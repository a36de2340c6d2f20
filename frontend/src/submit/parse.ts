// Parsing of a pasted job specification: JSON when it looks like JSON, YAML otherwise,
// with the line and column of any syntax error.
import { parseDocument } from 'yaml';

export type ParseResult =
  | { ok: true; value: unknown; format: 'json' | 'yaml' }
  | { ok: false; format: 'json' | 'yaml'; message: string; line: number | null; column: number | null };

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

function parseJson(text: string): ParseResult {
  try {
    return { ok: true, value: JSON.parse(text), format: 'json' };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const lc = /line (\d+) column (\d+)/.exec(message);
    if (lc) return { ok: false, format: 'json', message, line: Number(lc[1]), column: Number(lc[2]) };
    const pos = /position (\d+)/.exec(message);
    if (pos) {
      const { line, column } = lineColumn(text, Number(pos[1]));
      return { ok: false, format: 'json', message, line, column };
    }
    return { ok: false, format: 'json', message, line: null, column: null };
  }
}

function parseYaml(text: string): ParseResult {
  const doc = parseDocument(text, { prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const at = first.linePos?.[0];
    const message = first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    return { ok: false, format: 'yaml', message, line: at?.line ?? null, column: at?.col ?? null };
  }
  return { ok: true, value: doc.toJS(), format: 'yaml' };
}

export function parseSpec(text: string): ParseResult {
  const trimmed = text.trimStart();
  if (trimmed === '') return { ok: false, format: 'yaml', message: 'The specification is empty', line: null, column: null };
  return trimmed.startsWith('{') ? parseJson(text) : parseYaml(text);
}

/** "line 3, column 7: message" */
export function describeParseError(r: Extract<ParseResult, { ok: false }>): string {
  const where = r.line !== null ? `line ${r.line}, column ${r.column ?? 1}: ` : '';
  return `${r.format.toUpperCase()} ${where}${r.message}`;
}
