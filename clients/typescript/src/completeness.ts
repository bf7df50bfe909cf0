/**
 * An audit bundle v2's completeness section, from the README ("An audit bundle v2"): the node's signed index
 * checkpoint, bound to the log checkpoint the entries rest on, and a sparse-Merkle lookup proving which leaves the
 * index holds for the bundle's key, or that it holds none; the bundle must hold exactly those (in its time range).
 */

import { NamedKey, Refusal, sha256 } from "./recipe";
import { Checkpoint, hashOf, openSignedNote } from "./tlog";

const INDEX_CHECKPOINT_HEADER = "share-gateway/index-checkpoint@v1";
const EMPTY: Buffer = Buffer.alloc(32);
/** Event times as the node writes them (`at`): fixed width, so their text sorts as the instants do. */
const INSTANT = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$/;

export interface IndexCheckpoint {
  origin: string;
  size: bigint;
  logRoot: Buffer;
  indexRoot: Buffer;
}

/** A verified bundle entry as completeness sees it: its leaf, and its event (null once redacted). */
export interface HeldEntry {
  leaf: bigint;
  event: Record<string, unknown> | null;
}

interface Listed {
  leaf: bigint;
  at: string;
}

/** The index checkpoint: a signed note by the log key, its text the header, origin, size, log root, index root. */
export function openIndexCheckpoint(note: string, key: NamedKey): IndexCheckpoint {
  const lines = openSignedNote(note, key, "index checkpoint").split("\n");
  const [header, origin, size, logRoot, indexRoot] = lines;
  if (
    lines.length !== 6 ||
    header !== INDEX_CHECKPOINT_HEADER ||
    origin === undefined ||
    size === undefined ||
    logRoot === undefined ||
    indexRoot === undefined ||
    !/^[0-9]+$/.test(size)
  ) {
    throw new Refusal(`an index checkpoint is ${INDEX_CHECKPOINT_HEADER}, origin, size, log root and index root`);
  }
  if (origin !== key.name) throw new Refusal(`an index checkpoint of ${JSON.stringify(origin)}, expected ${key.name}`);
  return {
    origin,
    size: BigInt(size),
    logRoot: hashOf(logRoot, "the index checkpoint's log root"),
    indexRoot: hashOf(indexRoot, "the index checkpoint's index root"),
  };
}

/** A key's value: its leaves chained in leaf order, `c = SHA-256(0x02 || c || uint64_be(leaf) || utf8(at))`. */
export function chainOf(leaves: readonly Listed[]): Buffer {
  let chain: Buffer = EMPTY;
  for (const { leaf, at } of leaves) {
    const index = Buffer.alloc(8);
    index.writeBigUInt64BE(leaf);
    chain = sha256(Buffer.from([0x02]), chain, index, Buffer.from(at, "utf8"));
  }
  return chain;
}

function bit(hash: Buffer, depth: number): number {
  return ((hash[depth >> 3] ?? 0) >> (7 - (depth & 7))) & 1;
}

function sharedBits(a: Buffer, b: Buffer, depth: number): boolean {
  for (let d = 0; d < depth; d++) if (bit(a, d) !== bit(b, d)) return false;
  return true;
}

/**
 * Walk a lookup proof up to `root`: the value hash the index holds for `keyHash`, or null when it holds none (no
 * leaf where the path ends, or another key's leaf sharing the path).
 */
export function verifyLookup(root: Buffer, keyHash: Buffer, lookup: unknown): Buffer | null {
  const proof = object(lookup, "the lookup");
  if (!Array.isArray(proof["siblings"]) || proof["siblings"].length > 256) {
    throw new Refusal("the lookup's siblings are a list of at most 256 hashes");
  }
  const siblings = proof["siblings"].map((s) => hashOf(String(s), "a lookup sibling"));
  let node: Buffer = EMPTY;
  let found: Buffer | null = null;
  if (proof["leaf"] !== undefined) {
    const leaf = object(proof["leaf"], "the lookup's leaf");
    const other = hashOf(String(leaf["key_hash"]), "the lookup leaf's key_hash");
    const value = hashOf(String(leaf["value_hash"]), "the lookup leaf's value_hash");
    if (!sharedBits(keyHash, other, siblings.length)) {
      throw new Refusal("the lookup's leaf does not sit on the key's path");
    }
    node = sha256(Buffer.from([0x00]), other, value);
    if (other.equals(keyHash)) found = value;
  }
  for (let depth = siblings.length - 1; depth >= 0; depth--) {
    const sibling = siblings[depth] as Buffer;
    const [left, right] = bit(keyHash, depth) === 0 ? [node, sibling] : [sibling, node];
    node = sha256(Buffer.from([0x01]), left, right);
  }
  if (!node.equals(root)) throw new Refusal("the lookup does not lead to the index root");
  return found;
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Refusal(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function instant(value: unknown, what: string): string {
  if (typeof value !== "string" || !INSTANT.test(value)) throw new Refusal(`${what} is not an event time`);
  return value;
}

/** The keys an event is indexed under: its requester (the actor) always, its subject when it has one. */
function eventKeys(event: Record<string, unknown>): string[] {
  const keys = [`requester:${String(event["actor"])}`];
  const subject = event["subject"];
  if (subject !== null && typeof subject === "object" && !Array.isArray(subject)) {
    const { kind, id } = subject as Record<string, unknown>;
    keys.push(`subject:${String(kind)}:${String(id)}`);
  }
  return keys;
}

/**
 * Check a completeness section against the bundle's verified entries, all under `checkpoint` (null when there are
 * none): the index checkpoint's signature and binding, the leaves' chain under the lookup, and the entries being
 * exactly the listed leaves in range, each (unless redacted) about the key at the listed time. Returns what it
 * proved; throws a Refusal naming what does not hold (a missing leaf by its index).
 */
export function verifyCompleteness(
  raw: unknown,
  key: NamedKey,
  checkpoint: Checkpoint | null,
  entries: readonly HeldEntry[],
): string {
  const section = object(raw, "the completeness section");
  const indexKey = section["key"];
  if (typeof indexKey !== "string" || !/^(subject:(legal_entity|individual):|requester:)./.test(indexKey)) {
    throw new Refusal(`the key ${JSON.stringify(indexKey)} is neither subject:<kind>:<id> nor requester:<actor>`);
  }
  const index = openIndexCheckpoint(String(section["index_checkpoint"]), key);
  if (checkpoint !== null && (checkpoint.size !== index.size || !checkpoint.root.equals(index.logRoot))) {
    throw new Refusal(
      `the index checkpoint is of the log of size ${index.size}, the entries rest on size ${checkpoint.size}`,
    );
  }
  if (!Array.isArray(section["leaves"])) throw new Refusal("the leaves are not a list");
  const leaves: Listed[] = section["leaves"].map((raw: unknown) => {
    const entry = object(raw, "a listed leaf");
    const leaf = entry["leaf_index"];
    if (typeof leaf !== "number" || !Number.isSafeInteger(leaf) || leaf < 0) {
      throw new Refusal("a listed leaf_index is not an index");
    }
    return { leaf: BigInt(leaf), at: instant(entry["at"], `the time of leaf ${leaf}`) };
  });
  leaves.forEach(({ leaf }, i) => {
    if (leaf >= index.size || (i > 0 && leaf <= (leaves[i - 1] as Listed).leaf)) {
      throw new Refusal("the key's leaves are not distinct, in order and under the index checkpoint");
    }
  });
  const value = verifyLookup(index.indexRoot, sha256(Buffer.from(indexKey, "utf8")), section["lookup"]);
  if (value === null && leaves.length > 0) {
    throw new Refusal(`the index holds no leaves for ${indexKey}, the bundle lists ${leaves.length}`);
  }
  if (value !== null && !value.equals(chainOf(leaves))) {
    throw new Refusal(`the leaves listed for ${indexKey} are not those the index holds`);
  }
  const since = section["since"] === undefined ? null : instant(section["since"], "since");
  const until = section["until"] === undefined ? null : instant(section["until"], "until");
  const inRange = leaves.filter(({ at }) => (since === null || at >= since) && (until === null || at < until));
  const expected = new Map(inRange.map((l) => [l.leaf, l.at]));
  const held = new Map(entries.map((e) => [e.leaf, e.event]));
  if (held.size !== entries.length) throw new Refusal("a leaf appears twice among the entries");
  const missing = [...expected.keys()].filter((leaf) => !held.has(leaf));
  if (missing.length > 0) throw new Refusal(`leaf ${missing[0]} is missing: the index lists it under ${indexKey}`);
  for (const [leaf, event] of [...held].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const at = expected.get(leaf);
    if (at === undefined) {
      throw new Refusal(`leaf ${leaf} is not one of the leaves the index lists under ${indexKey} in range`);
    }
    if (event === null) continue; // redacted: its leaf hash is in the log, its subject no longer is
    if (!eventKeys(event).includes(indexKey)) throw new Refusal(`leaf ${leaf} is not an event about ${indexKey}`);
    if (event["at"] !== at) throw new Refusal(`leaf ${leaf}: the event's time is not the one the index lists`);
  }
  const range = since === null && until === null ? "" : ` in [${since ?? "the start"}, ${until ?? "the end"})`;
  const what =
    held.size === 0
      ? `the index holds no event about ${indexKey}${range}: complete and empty`
      : `all ${held.size} event(s) about ${indexKey}${range} are in the bundle`;
  return `${what} (index checkpoint of the log at size ${index.size} signed by ${key.name}, sparse-Merkle lookup)`;
}
