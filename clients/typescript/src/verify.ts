/**
 * Verifying what a node signed, one line per thing checked: a ✓ with what was proved, or a ✗ with the reason.
 */

import type { InquireResponse__Output } from "./generated/share_gateway/v1/InquireResponse";
import type { GetReceiptProofResponse__Output } from "./generated/share_gateway/v1/GetReceiptProofResponse";
import { EVENT_TYPE, NamedKey, Refusal, nodeKeyName, openEnvelope, parseCanonical } from "./recipe";
import { verifyRecord } from "./statement";
import { HeldEntry, verifyCompleteness } from "./completeness";
import { Checkpoint, leafHash, verifyTlogProof } from "./tlog";

/** The lines to print and whether every check held. */
export class Report {
  readonly lines: string[] = [];
  failures = 0;

  ok(what: string): void {
    this.lines.push(`\u2713 ${what}`);
  }

  fail(what: string, error: unknown): void {
    this.failures += 1;
    this.lines.push(`\u2717 ${what}: ${reason(error)}`);
  }

  note(what: string): void {
    this.lines.push(`  ${what}`);
  }

  /** Run one check: its ✓ line from what it returns, or its ✗ line with the reason it threw. */
  check(what: string, run: () => string): boolean {
    try {
      this.ok(`${what}: ${run()}`);
      return true;
    } catch (error) {
      this.fail(what, error);
      return false;
    }
  }
}

export function reason(error: unknown): string {
  if (error instanceof Refusal) return error.message;
  if (error instanceof SyntaxError) return `malformed: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

interface ReceiptEvent {
  node: string;
  records: { id: string; origin: string; fields: string[] }[];
}

/**
 * Every disclosed record (envelope, statement format, field digests; the subject asked about, when given), then
 * the receipt: signed by a node key, its id the answer's inquiry_id, naming the node that signed it and listing
 * each disclosed record with exactly the fields disclosed. Returns the receipt's signer, or null if it failed.
 */
export function verifyAnswer(
  answer: InquireResponse__Output,
  keys: readonly NamedKey[],
  report: Report,
  subject?: string,
): NamedKey | null {
  const disclosed = new Map<string, { origin: string; fields: string[] }>();
  answer.records.forEach((disclosure, index) => {
    let label = `record #${index + 1}`;
    try {
      const record = verifyRecord(disclosure, keys);
      label = `record ${record.recordId}`;
      if (subject !== undefined && record.subject.id !== subject) {
        throw new Refusal(`it is about ${record.subject.id}, not the subject asked about`);
      }
      disclosed.set(record.recordId, { origin: record.origin, fields: Object.keys(record.fields).sort() });
      const values = Object.entries(record.fields).map(([name, value]) => `${name}=${value}`);
      report.ok(
        `${label} (${record.recordType} from ${record.origin}, statement format ${record.format}): signed by ` +
          `${nodeKeyName(record.origin)}, ${values.length} field(s) match their digests`,
      );
      for (const value of values) report.note(value);
    } catch (error) {
      report.fail(label, error);
    }
  });
  let signer: NamedKey | null = null;
  report.check(`receipt ${answer.inquiry_id}`, () => {
    if (answer.receipt === null) throw new Refusal("the answer carries no receipt");
    const by = openEnvelope(answer.receipt, EVENT_TYPE, keys);
    const event = parseCanonical(answer.receipt.payload) as unknown as ReceiptEvent & { id: string };
    if (event.id !== answer.inquiry_id) throw new Refusal(`it is the receipt of ${JSON.stringify(event.id)}`);
    if (event.node !== by.region) throw new Refusal(`node ${event.node} logged it, but ${by.name} signed it`);
    const listed = new Map((event.records ?? []).map((r) => [r.id, r]));
    for (const [id, record] of disclosed) {
      const entry = listed.get(id);
      if (entry === undefined) throw new Refusal(`it does not list the disclosed record ${id}`);
      if (entry.origin !== record.origin || [...entry.fields].sort().join(",") !== record.fields.join(",")) {
        throw new Refusal(`it lists record ${id} with other fields or origin than disclosed`);
      }
    }
    signer = by;
    return `signed by ${by.name}, lists the ${disclosed.size} record(s) as disclosed`;
  });
  return signer;
}

/** The receipt's inclusion proof: the node's checkpoint signature, then RFC 9162 inclusion of its leaf. */
export function verifyReceiptProof(
  answer: InquireResponse__Output,
  proof: GetReceiptProofResponse__Output,
  signer: NamedKey,
  report: Report,
): void {
  report.check(`receipt ${answer.inquiry_id} in the log of ${signer.region}`, () => {
    if (proof.redacted) throw new Refusal("the node holds the event redacted");
    if (!proof.event.equals(answer.receipt?.payload ?? Buffer.alloc(0))) {
      throw new Refusal("the logged event is not the receipt's payload");
    }
    const { index, checkpoint } = verifyTlogProof(proof.tlog_proof.toString("utf8"), signer, leafHash(proof.event));
    if (String(index) !== proof.leaf_index || String(checkpoint.size) !== proof.tree_size) {
      throw new Refusal("the proof's index or size is not the one the node named");
    }
    return `leaf ${index} under the checkpoint of size ${checkpoint.size} signed by ${signer.name} (RFC 9162 inclusion)`;
  });
}

interface BundleEntry {
  leaf_index?: number;
  event?: string;
  leaf_hash?: string;
  proof?: string;
}

const BUNDLE_V1 = "share-gateway/audit-bundle@v1";
const BUNDLE_V2 = "share-gateway/audit-bundle@v2";

/**
 * An offline audit bundle: each entry's tlog-proof under the origin's signed checkpoint; for a v2 bundle, also
 * that it holds every event about its key (`verifyCompleteness`), all its entries under one checkpoint.
 */
export function verifyBundle(text: string, keys: readonly NamedKey[], report: Report): void {
  const bundle = JSON.parse(text) as { format?: string; origin?: string; entries?: BundleEntry[]; completeness?: unknown };
  let key: NamedKey | undefined;
  const known = report.check("bundle", () => {
    if (bundle.format !== BUNDLE_V1 && bundle.format !== BUNDLE_V2) {
      throw new Refusal(`not an audit bundle (format ${JSON.stringify(bundle.format)})`);
    }
    key = keys.find((k) => k.name === bundle.origin);
    if (key === undefined) throw new Refusal(`no --node-key for its log ${JSON.stringify(bundle.origin)}`);
    return `${bundle.entries?.length ?? 0} entries of the log ${key.name}`;
  });
  if (!known || key === undefined) return;
  const origin = key;
  const held: HeldEntry[] = [];
  const checkpoints: Checkpoint[] = [];
  (bundle.entries ?? []).forEach((entry, position) => {
    report.check(`entry #${position + 1} (leaf ${entry.leaf_index})`, () => {
      const event = entry.event === undefined ? null : Buffer.from(entry.event, "base64");
      const leaf = event !== null ? leafHash(event) : Buffer.from(entry.leaf_hash ?? "", "base64");
      const { index, checkpoint } = verifyTlogProof(entry.proof ?? "", origin, leaf);
      if (BigInt(entry.leaf_index ?? -1) !== index) throw new Refusal(`its proof is for leaf ${index}`);
      held.push({ leaf: index, event: event === null ? null : parseCanonical(event) });
      checkpoints.push(checkpoint);
      const what = event !== null ? "event" : "redacted event's leaf hash";
      return `${what} included under the checkpoint of size ${checkpoint.size} signed by ${origin.name}`;
    });
  });
  if (bundle.format === BUNDLE_V1) {
    report.note(`completeness not proven (a ${BUNDLE_V1} bundle): events may have been left out`);
    return;
  }
  report.check("completeness", () => {
    const failed = (bundle.entries ?? []).length - held.length;
    if (failed > 0) throw new Refusal(`not proven: ${failed} entr${failed === 1 ? "y" : "ies"} did not verify`);
    const [first] = checkpoints;
    if (checkpoints.some((c) => c.size !== first?.size || !c.root.equals(first.root))) {
      throw new Refusal("the entries do not all rest on one checkpoint");
    }
    return verifyCompleteness(bundle.completeness, origin, first ?? null, held);
  });
}
