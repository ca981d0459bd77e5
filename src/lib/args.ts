import { BridgeError } from "./errors.ts";

export type FlagSpec = Record<string, "boolean" | "string">;
export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean | undefined>;
}

/**
 * Strict argv parsing: unknown flags are errors (a typo must not become a message body).
 * `--` ends flags so a body may start with a dash; `--name=value` and `--name value` both work.
 */
export function parseArgs(argv: readonly string[], spec: FlagSpec, usage: string): ParsedArgs {
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
      const known = ["--help", ...Object.keys(spec).map((k) => `--${k}`)].join(", ");
      throw new BridgeError(
        "E_USAGE",
        `unknown option "--${name}" (known: ${known}); put -- before a body that starts with a dash\n${usage}`,
      );
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

/** The positional arguments, when there are from `min` to `max` of them; E_USAGE with the usage otherwise. */
export function positionals(args: ParsedArgs, min: number, max: number, usage: string): string[] {
  const n = args.positionals.length;
  if (n >= min && n <= max) return args.positionals;
  const want = min === max ? `${min}` : `${min} to ${max}`;
  const extra =
    n > max
      ? ` (${args.positionals
          .slice(max)
          .map((a) => JSON.stringify(a))
          .join(" ")} extra; quote an argument with spaces)`
      : "";
  throw new BridgeError("E_USAGE", `expected ${want} argument(s), got ${n}${extra}\n${usage}`);
}
