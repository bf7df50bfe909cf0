/**
 * The README's recipe ("Calling a node from another language"), step by step, with Node's own crypto only:
 * signed-note key ids, DSSE envelopes signed with Ed25519, canonical JSON, salted field digests.
 */

import { createHash, createPublicKey, KeyObject, verify } from "node:crypto";
import { readFileSync } from "node:fs";

/** Why something did not verify: the message is what the user reads. */
export class Refusal extends Error {}

export const RECORD_STATEMENT_TYPE = "application/vnd.share-gateway.record-statement+json";
export const EVENT_TYPE = "application/vnd.share-gateway.event+json";

/** An Ed25519 public key with the name its signatures carry (a node's is `share-gateway/node/<region>`). */
export interface NamedKey {
  readonly name: string;
  readonly region: string;
  readonly key: KeyObject;
  readonly raw: Buffer;
  /** The C2SP signed-note key id: SHA-256(name || 0x0A || 0x01 || raw key)[:4]. */
  readonly id: Buffer;
}

export function nodeKeyName(region: string): string {
  return `share-gateway/node/${region}`;
}

export function sha256(...parts: Buffer[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** A node's key from `REGION=signing.pub` (PEM, SubjectPublicKeyInfo). */
export function loadNodeKey(spec: string): NamedKey {
  const at = spec.indexOf("=");
  if (at <= 0) throw new Refusal(`--node-key takes REGION=FILE, not ${JSON.stringify(spec)}`);
  const region = spec.slice(0, at);
  const key = createPublicKey(readFileSync(spec.slice(at + 1)));
  if (key.asymmetricKeyType !== "ed25519") throw new Refusal(`${spec}: not an Ed25519 public key`);
  const jwk = key.export({ format: "jwk" });
  const raw = Buffer.from(jwk.x ?? "", "base64url");
  const name = nodeKeyName(region);
  const id = sha256(Buffer.from(name, "utf8"), Buffer.from([0x0a, 0x01]), raw).subarray(0, 4);
  return { name, region, key, raw, id };
}

/** DSSE's pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(payload) SP payload. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

export interface Envelope {
  payload: Buffer;
  payload_type: string;
  key_id: string;
  signature: Buffer;
}

/** Step 1: the envelope's key id names one of `keys`, and that key signed the exact payload bytes received. */
export function openEnvelope(envelope: Envelope, expectedType: string, keys: readonly NamedKey[]): NamedKey {
  if (envelope.payload_type !== expectedType) {
    throw new Refusal(`payload type ${JSON.stringify(envelope.payload_type)}, expected ${expectedType}`);
  }
  const signer = keys.find((k) => k.id.toString("hex") === envelope.key_id);
  if (signer === undefined) throw new Refusal(`key id ${JSON.stringify(envelope.key_id)} is none of the node keys given`);
  if (!verify(null, pae(envelope.payload_type, envelope.payload), signer.key, envelope.signature)) {
    throw new Refusal(`the Ed25519 signature by ${signer.name} does not verify`);
  }
  return signer;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Canonical JSON as the node writes it: keys sorted, no white space, UTF-8, integers only (no floats). */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Refusal(`${value} is not an integer canonical JSON holds`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort(byCodePoint);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as Json)}`).join(",")}}`;
}

function byCodePoint(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const y = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return x.length - y.length;
}

/** Parse a signed payload, and refuse it unless its bytes are exactly the canonical encoding. */
export function parseCanonical(payload: Buffer): Record<string, Json> {
  const text = new TextDecoder("utf-8", { fatal: true }).decode(payload);
  const value = JSON.parse(text) as Json;
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Refusal("the payload is not a JSON object");
  if (canonicalJson(value) !== text) throw new Refusal("the payload is not canonical JSON");
  return value;
}

/** Step 3: SHA-256(salt || u32be(len(name)) || name || u32be(len(value)) || value), lengths in UTF-8 bytes. */
export function fieldDigest(salt: Buffer, name: string, value: string): Buffer {
  const n = Buffer.from(name, "utf8");
  const v = Buffer.from(value, "utf8");
  const length = (b: Buffer): Buffer => {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(b.length);
    return out;
  };
  return sha256(salt, length(n), n, length(v), v);
}
