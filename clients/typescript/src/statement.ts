/**
 * Step 2 and 3 of the recipe: a record statement's formats (1, 2 and 3) and the disclosed fields' digests.
 */

import { NamedKey, Refusal, RECORD_STATEMENT_TYPE, fieldDigest, openEnvelope, parseCanonical } from "./recipe";
import type { RecordDisclosure__Output } from "./generated/share_gateway/v1/RecordDisclosure";

const COMMON = [
  "v", "record_id", "record_type", "subject", "origin", "catalog_version", "severity", "legal_document",
  "recorded_at", "version", "digests",
];
/** Formats 1 and 2: one end (`disclose_until`) and a decision date always; format 2 pads `digests` with decoys. */
const ONE_END = [...COMMON, "decided_on", "disclose_until"];
/** Format 3: the two ends, the day the clock started and the period's days; `decided_on` null without a decision. */
const TWO_ENDS = [...COMMON, "decided_on", "period_start", "period_days", "publish_until", "share_until"];
const KEYS: Record<number, string[]> = { 1: ONE_END, 2: ONE_END, 3: TWO_ENDS };

/** What a verified disclosure says: the statement's facts and the disclosed values. */
export interface VerifiedRecord {
  recordId: string;
  recordType: string;
  origin: string;
  format: number;
  subject: { kind: string; id: string };
  fields: Record<string, string>;
}

/** Verify one disclosed record: envelope and signer (the origin's key), statement format, every field's digest. */
export function verifyRecord(disclosure: RecordDisclosure__Output, keys: readonly NamedKey[]): VerifiedRecord {
  if (disclosure.statement === null) throw new Refusal("the disclosure has no statement");
  const signer = openEnvelope(disclosure.statement, RECORD_STATEMENT_TYPE, keys);
  const statement = parseCanonical(disclosure.statement.payload);
  const format = statement["v"];
  const expected = typeof format === "number" ? KEYS[format] : undefined;
  if (typeof format !== "number" || expected === undefined) {
    throw new Refusal(`record statement format ${JSON.stringify(format)} is unknown`);
  }
  const present = Object.keys(statement).sort();
  if (present.join(",") !== [...expected].sort().join(",")) {
    throw new Refusal(`a format ${format} statement has the keys ${present.join(", ")}`);
  }
  const origin = text(statement, "origin");
  if (origin !== signer.region) throw new Refusal(`a record of ${origin} signed by the key of ${signer.region}`);
  const subject = statement["subject"];
  if (subject === null || typeof subject !== "object" || Array.isArray(subject)) throw new Refusal("no subject");
  const digests = statement["digests"];
  if (!Array.isArray(digests) || !digests.every((d) => typeof d === "string" && /^[0-9a-f]{64}$/.test(d))) {
    throw new Refusal("digests is not a list of hex SHA-256 digests");
  }
  const listed = new Set(digests as string[]);
  const fields: Record<string, string> = {};
  for (const field of disclosure.fields) {
    if (field.name in fields) throw new Refusal(`field ${field.name} is disclosed twice`);
    if (field.salt.length !== 16) throw new Refusal(`field ${field.name}: a salt of ${field.salt.length} bytes, not 16`);
    if (!listed.has(fieldDigest(field.salt, field.name, field.value).toString("hex"))) {
      throw new Refusal(`field ${field.name}: its digest is not in the signed statement`);
    }
    fields[field.name] = field.value;
  }
  return {
    recordId: text(statement, "record_id"),
    recordType: text(statement, "record_type"),
    origin,
    format,
    subject: { kind: String(subject["kind"]), id: String(subject["id"]) },
    fields,
  };
}

function text(statement: Record<string, unknown>, key: string): string {
  const value = statement[key];
  if (typeof value !== "string") throw new Refusal(`${key} is not a string`);
  return value;
}
