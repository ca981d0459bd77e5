// Where JSON text goes wrong, said the way a person fixes a file: line and column, what was
// found, and a hint for the two mistakes a hand-edited settings file most often has: a comment,
// or a comma before a closing bracket. JSON allows neither, and Claude Code 2.1.328 refuses a
// settings.json with either too (docs/claude-code.md "Configuration files"). JSON.parse's own
// message depends on the Node version (a character offset, or a quoted piece of the file that may
// span lines), so the first error is found here, by a scanner of strict JSON.
import { jsonLine } from "./text.ts";

export interface JsonProblem {
  line: number;
  column: number;
  /** One line: what is wrong there, with a hint for a comment or a trailing comma. */
  what: string;
}

class Stop {
  constructor(
    readonly at: number,
    readonly what: string,
  ) {}
}

/** The first syntax error of `text`, or undefined when it is valid JSON. */
export function findJsonProblem(text: string): JsonProblem | undefined {
  let i = 0;
  const fail = (what: string, at = i): never => {
    throw new Stop(at, what);
  };
  const found = (): string => (i >= text.length ? "the end of the file" : jsonLine(text[i]));
  const unexpected = (wanted: string): never => {
    if (text.startsWith("//", i) || text.startsWith("/*", i))
      fail("a comment; JSON has no comments (Claude Code refuses them too): remove it");
    if (text[i] === "'") fail(`${wanted}, found a single quote; JSON strings take double quotes`);
    if (text[i] === "\ufeff") fail("a byte order mark (U+FEFF); save the file as UTF-8 without one");
    return fail(`${wanted}, found ${found()}`);
  };
  const ws = (): void => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") return container("}", true);
    if (c === "[") return container("]", false);
    if (c === '"') return string();
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    number.lastIndex = i;
    if (number.test(text)) {
      i = number.lastIndex;
      return;
    }
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    unexpected("expected a value");
  };
  const container = (close: string, object: boolean): void => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      if (object) {
        ws();
        if (text[i] !== '"') unexpected("expected a property name in double quotes");
        string();
        ws();
        if (text[i] !== ":") unexpected('expected ":" after the property name');
        i++;
      }
      value();
      ws();
      if (text[i] === ",") {
        const comma = i;
        i++;
        ws();
        if (text[i] === close)
          fail(`a comma before "${close}"; JSON allows no trailing comma (Claude Code refuses it too): remove it`, comma);
        continue;
      }
      if (text[i] === close) {
        i++;
        return;
      }
      unexpected(`expected "," or "${close}"`);
    }
  };
  const string = (): void => {
    i++;
    while (i < text.length && text[i] !== '"') {
      const code = text.charCodeAt(i);
      if (code < 0x20)
        fail(
          code === 0x0a
            ? "a line break inside a string; write it as \\n"
            : `a control character (U+${code.toString(16).padStart(4, "0")}) inside a string`,
        );
      if (text[i] === "\\") {
        const escaped = text[i + 1];
        if (escaped === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail("a \\u escape without four hex digits");
          i += 6;
          continue;
        }
        if (escaped === undefined || !'"\\/bfnrt'.includes(escaped)) fail(`an unknown escape \\${escaped ?? ""}`);
        i += 2;
        continue;
      }
      i++;
    }
    if (i >= text.length) fail("a string that never ends (a missing closing quote)");
    i++;
  };
  try {
    value();
    ws();
    if (i < text.length) unexpected("expected the end of the file after the JSON value");
    return undefined;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    const before = text.slice(0, err.at);
    const line = before.split("\n").length;
    const column = err.at - (before.lastIndexOf("\n") + 1) + 1;
    return { line, column, what: err.what };
  }
}

/** "line 3, column 5: …" for text JSON.parse refused (never undefined: a fallback if the scanner agrees it is valid). */
export function describeJsonProblem(text: string): string {
  const problem = findJsonProblem(text);
  return problem ? `line ${problem.line}, column ${problem.column}: ${problem.what}` : "not valid JSON";
}
