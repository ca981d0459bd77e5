// Timestamps as Date#toISOString writes them, without it: in this Node (20.20, V8 11.3) the first
// toISOString of a process sets up V8's time zone cache (it reads /etc/localtime and ICU's zone
// data) although the text is UTC, and that cost a bridged `hook recv` 0.7-2 ms on every prompt
// (a fresh `node`: the first call 0.7-2 ms, the next 5 µs). The UTC getters need no zone.

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

/** `ms` (default: now) as toISOString gives it, e.g. 2026-12-05T23:40:06.959Z; RangeError for an invalid time, as toISOString. */
export function isoTime(ms: number = Date.now()): string {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  if (Number.isNaN(year)) throw new RangeError("Invalid time value");
  // Years outside 0-9999 take a sign and six digits (ECMA-262 "Date Time String Format").
  const y = year >= 0 && year <= 9999 ? pad(year, 4) : `${year < 0 ? "-" : "+"}${pad(Math.abs(year), 6)}`;
  return (
    `${y}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}T` +
    `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}.${pad(date.getUTCMilliseconds(), 3)}Z`
  );
}
