// One line of `doctor`'s report, shared by its modules (doctor.ts, doctor-claude.ts,
// doctor-plugin.ts, doctor-vendors.ts): here, so none of them imports another's types in a cycle
// (test/architecture.test.ts).
export type Level = "ok" | "info" | "warn" | "fail";

export interface Check {
  name: string;
  level: Level;
  detail: string;
  fix?: string;
}
