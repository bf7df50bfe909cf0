/**
 * The log's proofs: C2SP signed-note checkpoints, C2SP tlog-proof files and RFC 9162 inclusion proofs.
 */

import { verify } from "node:crypto";

import { NamedKey, Refusal, sha256 } from "./recipe";

export interface Checkpoint {
  origin: string;
  size: bigint;
  root: Buffer;
}

const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/;

/**
 * Open a C2SP signed note of `key`'s log and return its text (through its last newline): one signature line
 * carries the key's name and key id, and is the Ed25519 signature of the text. Other signature lines (the
 * witnesses' cosignatures) are skipped, as the signed-note spec says. `what` names the note in the reasons.
 */
export function openSignedNote(note: string, key: NamedKey, what: string): string {
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new Refusal(`the ${what} is not a signed note`);
  const text = note.slice(0, split + 1);
  let signed = false;
  for (const line of note.slice(split + 2, -1).split("\n")) {
    const match = SIGNATURE_LINE.exec(line);
    if (match === null) throw new Refusal(`not a signature line: ${JSON.stringify(line)}`);
    const signature = Buffer.from(match[2] ?? "", "base64");
    if (match[1] !== key.name || !signature.subarray(0, 4).equals(key.id)) continue;
    if (!verify(null, Buffer.from(text, "utf8"), key.key, signature.subarray(4))) {
      throw new Refusal(`the ${what}'s signature by ${key.name} does not verify`);
    }
    signed = true;
  }
  if (!signed) throw new Refusal(`the ${what} carries no signature by ${key.name}`);
  return text;
}

/** A base64 SHA-256 hash, exactly 32 bytes in canonical base64. */
export function hashOf(text: string, what: string): Buffer {
  const hash = Buffer.from(text, "base64");
  if (hash.length !== 32 || hash.toString("base64") !== text) throw new Refusal(`${what} is not a base64 SHA-256 hash`);
  return hash;
}

/** Verify a checkpoint (a C2SP signed note) of `key`'s log: its text is origin, size and root hash; its origin is
 * the key's name, and the key signed it (`openSignedNote`). */
export function openCheckpoint(note: string, key: NamedKey): Checkpoint {
  const [origin, size, root] = openSignedNote(note, key, "checkpoint").split("\n");
  if (origin === undefined || size === undefined || root === undefined || !/^[0-9]+$/.test(size)) {
    throw new Refusal("a checkpoint is origin, size and root, one per line");
  }
  if (origin !== key.name) throw new Refusal(`a checkpoint of ${JSON.stringify(origin)}, expected ${key.name}`);
  return { origin, size: BigInt(size), root: hashOf(root, "the checkpoint's root") };
}

export interface TlogProof {
  index: bigint;
  hashes: Buffer[];
  checkpoint: string;
}

/** Parse c2sp.org/tlog-proof@v1: the header, an optional extra line, `index N`, the hashes, a blank line, the checkpoint. */
export function parseTlogProof(text: string): TlogProof {
  const split = text.indexOf("\n\n");
  if (split < 0) throw new Refusal("a tlog-proof holds a blank line before its checkpoint");
  const lines = text.slice(0, split).split("\n");
  if (lines.shift() !== "c2sp.org/tlog-proof@v1") throw new Refusal("not a c2sp.org/tlog-proof@v1");
  if (lines[0]?.startsWith("extra ")) lines.shift();
  const index = /^index ([0-9]+)$/.exec(lines.shift() ?? "");
  if (index === null) throw new Refusal("the tlog-proof has no index line");
  const hashes = lines.map((line) => {
    const hash = Buffer.from(line, "base64");
    if (hash.length !== 32 || hash.toString("base64") !== line) throw new Refusal(`not a proof hash: ${line}`);
    return hash;
  });
  return { index: BigInt(index[1] ?? "0"), hashes, checkpoint: text.slice(split + 2) };
}

/** RFC 9162 section 2.1.1: a leaf's hash is SHA-256(0x00 || entry). */
export function leafHash(entry: Buffer): Buffer {
  return sha256(Buffer.from([0x00]), entry);
}

/** RFC 9162 section 2.1.3.2: verify that `leaf` is at `index` of the tree of `size` leaves with root `root`. */
export function verifyInclusion(leaf: Buffer, index: bigint, size: bigint, proof: Buffer[], root: Buffer): void {
  if (index >= size) throw new Refusal(`leaf ${index} is beyond the tree of ${size}`);
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  const node = (left: Buffer, right: Buffer): Buffer => sha256(Buffer.from([0x01]), left, right);
  for (const p of proof) {
    if (sn === 0n) throw new Refusal("the inclusion proof is too long");
    if ((fn & 1n) === 1n || fn === sn) {
      r = node(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = node(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new Refusal("the inclusion proof is too short");
  if (!r.equals(root)) throw new Refusal(`leaf ${index} is not in the tree of ${size}: the root differs`);
}

/** Verify a whole tlog-proof for `entry` (event bytes, or a leaf hash given as such) under `key`'s log. */
export function verifyTlogProof(text: string, key: NamedKey, leaf: Buffer): { index: bigint; checkpoint: Checkpoint } {
  const proof = parseTlogProof(text);
  const checkpoint = openCheckpoint(proof.checkpoint, key);
  verifyInclusion(leaf, proof.index, checkpoint.size, proof.hashes, checkpoint.root);
  return { index: proof.index, checkpoint };
}
