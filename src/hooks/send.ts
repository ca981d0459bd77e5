// `hook send` (Stop; Gemini AfterAgent; opt-in with BRIDGE_AUTOSEND=1): sends the turn's last assistant message to
// BRIDGE_SEND_TO (default '*', every other role), stamped with the role's current chain so the
// loop guard sees autosend ping-pong like any other.
import { pathsOf, resolveIdentity, sendMessage } from "../bus.ts";
import { stampForSend } from "../wake/chain.ts";
import { loadSettingsLenient } from "../settings/file.ts";
import type { HookInput, HookResult } from "./io.ts";
import { BROADCAST, resolveRoot } from "../bus/layout.ts";
import { parseRedisUrl, storeUrlOf } from "../store/url.ts";

/** Synchronous on the file store (as it always was); a promise when BRIDGE_URL names Redis. */
export function hookSend(env: NodeJS.ProcessEnv, input: HookInput): HookResult | Promise<HookResult> {
  // The re-run of a Stop hook after a hook kept Claude going: the same reply would go out twice.
  if (input.stop_hook_active === true) return { code: 0 };
  // Claude Code and Codex Stop: last_assistant_message; Gemini AfterAgent: prompt_response.
  const text = input.last_assistant_message ?? input.prompt_response;
  if (typeof text !== "string" || text.trim() === "") return { code: 0 };
  const identity = resolveIdentity(resolveRoot(env), env);
  const { settings, error } = loadSettingsLenient(identity.root);
  const to = env.BRIDGE_SEND_TO?.trim() || BROADCAST;
  const request = {
    identity,
    to,
    body: fitBody(text, settings.maxBodyBytes),
    stamp: stampForSend(pathsOf(identity), env, true),
    limits: settings,
  };
  const done: HookResult = error
    ? { code: 0, stderr: `session-bridge hook send: warning: ${error.message} (sent with the defaults)\n` }
    : { code: 0 };
  if (storeUrlOf(env) === undefined) {
    sendMessage(request);
    return done;
  }
  // The Redis store's own bundle (as hook recv): a failure is the dispatcher's one stderr line, exit 0.
  return (async () => {
    const store = (await import("../store/redis/index.ts")).openRedisStore(parseRedisUrl(storeUrlOf(env)!), env);
    try {
      await store.send(request);
    } finally {
      await store.close();
    }
    return done;
  })();
}

/** The text, cut on a character boundary with a closing note when it is over `maxBytes`. */
export function fitBody(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  const full = `\n\n[session-bridge autosend: cut to fit maxBodyBytes; the whole reply was ${bytes.length} bytes]`;
  // A tiny limit keeps the text rather than the note.
  const note = Buffer.byteLength(full) <= maxBytes / 2 ? full : "";
  let end = Math.max(0, maxBytes - Buffer.byteLength(note));
  // Back off to the first byte of a UTF-8 sequence so no character is split.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8") + note;
}
