import { BridgeError } from "./errors.ts";
import { closest } from "./text.ts";

export type FlagSpec = Record<string, "boolean" | "string">;
export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean | undefined>;
}

/**
 * Strict argv parsing: unknown flags are errors (a typo must not become a message body).
 * `--` ends flags so a body may start with a dash; `--name=value` and `--name value` both work.
 * `dashHint` names the argument that may start with a dash (send's BODY), for the unknown-option
 * error; a command without one is not told about bodies.
 */
export function parseArgs(argv: readonly string[], spec: FlagSpec, usage: string, dashHint?: string): ParsedArgs {
  const positionals: string[] = [];
  const flags: ParsedArgs["flags"] = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      flags.help = true;
      continue;
    }
    if (!arg.startsWith("--") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const kind = name === "help" ? "boolean" : spec[name];
    if (!kind) {
      const options = ["--help", ...Object.keys(spec).map((k) => `--${k}`)];
      const near = closest(`--${name}`, options);
      const hint = near ? ` — did you mean ${near}?` : "";
      const dash = dashHint ? `; put -- before ${dashHint} that starts with a dash` : "";
      throw new BridgeError("E_USAGE", `unknown option "--${name}"${hint} (known: ${options.join(", ")})${dash}\n${usage}`);
    }
    if (kind === "boolean") {
      if (eq !== -1) throw new BridgeError("E_USAGE", `option "--${name}" takes no value (got "${arg}")\n${usage}`);
      flags[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new BridgeError("E_USAGE", `option "--${name}" needs a value\n${usage}`);
    flags[name] = value;
  }
  return { positionals, flags };
}

/**
 * The positional arguments, named as the usage names them: "TO" is required, "[N]" optional,
 * "KEY=VALUE..." one or more. A missing one is named ("missing BODY"), not counted, and extra
 * ones are quoted back: E_USAGE with the usage either way.
 */
export function positionals(args: ParsedArgs, names: readonly string[], usage: string): string[] {
  const given = args.positionals;
  const optional = (name: string): boolean => name.startsWith("[");
  const rest = names.length > 0 && names[names.length - 1]!.endsWith("...");
  const required = names.filter((n) => !optional(n));
  if (given.length < required.length) {
    const missing = required.slice(given.length).map((name) => name.replace(/\.\.\.$/, ""));
    const got = required
      .slice(0, given.length)
      .map((name, i) => `${name} ${JSON.stringify(given[i])}`)
      .join(", ");
    throw new BridgeError("E_USAGE", `missing ${missing.join(" and ")}${got ? ` (after ${got})` : ""}\n${usage}`);
  }
  if (!rest && given.length > names.length) {
    const extra = given
      .slice(names.length)
      .map((a) => JSON.stringify(a))
      .join(" ");
    const message =
      names.length === 0
        ? `${commandOf(usage)} takes no arguments (got ${extra})`
        : `too many arguments: ${commandOf(usage)} takes ${names.join(" ")}, and ${extra} is extra; quote an argument with spaces`;
    throw new BridgeError("E_USAGE", `${message}\n${usage}`);
  }
  return given;
}

/** "send" from "usage: session-bridge send TO BODY …", "spawner set" from its usage. */
function commandOf(usage: string): string {
  const words = usage
    .split("\n")[0]!
    .replace(/^usage: session-bridge /, "")
    .split(" ");
  const end = words.findIndex((w) => !/^[a-z][a-z-]*$/.test(w));
  return words.slice(0, end === -1 ? undefined : end).join(" ") || "the command";
}
