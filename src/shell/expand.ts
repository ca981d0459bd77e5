// Two word-level expansions the shell parser needs to see program names as bash will:
// brace expansion (`{git,push}` is the two words `git push`) and ANSI-C quoting ($'\x67it').

const MAX_VARIANTS = 256;

/**
 * Brace expansion of one raw (still quoted) source word: the variants, still raw, in bash order.
 * Quoted braces and `${…}`/`$(…)` are left alone. An empty result means "too many to list".
 */
export function expandBraces(raw: string): string[] {
  const out: string[] = [];
  expandInto(raw, out);
  return out.length > MAX_VARIANTS ? [] : out;
}

function expandInto(text: string, out: string[]): void {
  if (out.length > MAX_VARIANTS) return;
  const found = findBrace(text);
  if (!found) {
    out.push(text);
    return;
  }
  const [start, end, parts] = found;
  const prefix = text.slice(0, start);
  const suffix = text.slice(end + 1);
  for (const part of parts) expandInto(prefix + part + suffix, out);
}

function findBrace(t: string): [number, number, string[]] | null {
  for (let i = 0; i < t.length; ) {
    const c = t[i];
    if (c === "{") {
      const found = tryBrace(t, i);
      if (found) return found;
      i++;
    } else i = skipQuoted(t, i);
  }
  return null;
}

/** The index after the quoted or substituted region at i, or i + 1 for a plain character. */
function skipQuoted(t: string, i: number): number {
  const c = t[i];
  if (c === "\\") return i + 2;
  if (c === "'" || c === "`") {
    const end = t.indexOf(c, i + 1);
    return end < 0 ? t.length : end + 1;
  }
  if (c === '"') {
    let k = i + 1;
    while (k < t.length && t[k] !== '"') k += t[k] === "\\" ? 2 : 1;
    return k + 1;
  }
  if (c === "$" && (t[i + 1] === "(" || t[i + 1] === "{")) {
    const open = t[i + 1]!;
    const close = open === "(" ? ")" : "}";
    let depth = 0;
    for (let k = i + 1; k < t.length; ) {
      const d = t[k];
      if (d === open) depth++;
      else if (d === close && --depth === 0) return k + 1;
      k = d === open || d === close ? k + 1 : skipQuoted(t, k);
    }
    return t.length;
  }
  return i + 1;
}

function tryBrace(t: string, start: number): [number, number, string[]] | null {
  let depth = 1;
  const commas: number[] = [];
  let k = start + 1;
  while (k < t.length) {
    const c = t[k];
    if (c === "{") depth++;
    else if (c === "}") {
      if (--depth === 0) break;
    } else if (c === "," && depth === 1) commas.push(k);
    k = c === "{" || c === "}" || c === "," ? k + 1 : skipQuoted(t, k);
  }
  if (k >= t.length) return null;
  if (commas.length > 0) {
    const parts: string[] = [];
    let from = start + 1;
    for (const comma of [...commas, k]) {
      parts.push(t.slice(from, comma));
      from = comma + 1;
    }
    return [start, k, parts];
  }
  const seq = sequence(t.slice(start + 1, k));
  return seq ? [start, k, seq] : null;
}

const NUM_SEQ = /^(-?\d{1,9})\.\.(-?\d{1,9})(?:\.\.(-?\d{1,9}))?$/;
const CHAR_SEQ = /^([A-Za-z])\.\.([A-Za-z])(?:\.\.(-?\d{1,9}))?$/;

function sequence(inner: string): string[] | null {
  const num = NUM_SEQ.exec(inner);
  const chr = num ? null : CHAR_SEQ.exec(inner);
  const m = num ?? chr;
  if (!m) return null;
  const from = num ? Number(m[1]) : m[1]!.charCodeAt(0);
  const to = num ? Number(m[2]) : m[2]!.charCodeAt(0);
  const step = Math.abs(Number(m[3] ?? 1)) || 1;
  const out: string[] = [];
  for (let v = from; from <= to ? v <= to : v >= to; v += from <= to ? step : -step) {
    out.push(num ? String(v) : charWord(String.fromCharCode(v)));
    if (out.length > MAX_VARIANTS) break;
  }
  return out;
}

/** A character of a sequence as word text: `{Z..a}` makes [ \\ ] ^ _ ` too, which are data, not syntax (bash leaves an empty word for \\). */
function charWord(c: string): string {
  if (/[A-Za-z0-9]/.test(c)) return c;
  return c === "\\" ? "''" : "\\" + c;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  e: "\x1b",
  E: "\x1b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  "'": "'",
  '"': '"',
  "?": "?",
};

/** The text of $'…' (between the quotes) with its backslash escapes decoded, as bash does. */
export function decodeAnsiC(body: string): string {
  let out = "";
  for (let i = 0; i < body.length; ) {
    const c = body[i]!;
    if (c !== "\\" || i + 1 >= body.length) {
      out += c;
      i++;
      continue;
    }
    const e = body[i + 1]!;
    i += 2;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    let m: RegExpExecArray | null;
    const rest = body.slice(i - 1, i + 9);
    if ((m = /^[0-7]{1,3}/.exec(rest))) out += String.fromCharCode(parseInt(m[0], 8) & 0xff);
    else if ((m = /^x([0-9A-Fa-f]{1,2})/.exec(rest))) out += String.fromCharCode(parseInt(m[1]!, 16));
    else if ((m = /^u([0-9A-Fa-f]{1,4})/.exec(rest))) out += String.fromCodePoint(parseInt(m[1]!, 16));
    else if ((m = /^U([0-9A-Fa-f]{1,8})/.exec(rest))) out += safeCodePoint(parseInt(m[1]!, 16));
    else if ((m = /^c(.)/.exec(rest))) out += String.fromCharCode(m[1]!.toUpperCase().charCodeAt(0) & 0x1f);
    else {
      out += "\\" + e;
      continue;
    }
    i += m[0].length - 1;
  }
  return out;
}

function safeCodePoint(cp: number): string {
  return cp <= 0x10ffff ? String.fromCodePoint(cp) : "\ufffd";
}
