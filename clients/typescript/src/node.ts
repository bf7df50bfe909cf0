/**
 * Calling a node: the wire contract loaded at run time from the repository's protos/ (one source of truth, no
 * generated code to fall stale; the TypeScript types come from the same files at build time), mTLS with the
 * federation CA and a client certificate, and the google.rpc error details a node sends.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";

import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import * as protobuf from "protobufjs";

import type { ProtoGrpcType } from "./generated/inquiry";
import type { InquireRequest } from "./generated/share_gateway/v1/InquireRequest";
import type { InquireResponse__Output } from "./generated/share_gateway/v1/InquireResponse";
import type { GetReceiptProofResponse__Output } from "./generated/share_gateway/v1/GetReceiptProofResponse";
import type { InquiryServiceClient } from "./generated/share_gateway/v1/InquiryService";

/** The repository's protos/, from dist/ (or src/) of clients/typescript. */
export const PROTOS = join(__dirname, "..", "..", "..", "protos");
const INQUIRY_PROTO = "share_gateway/v1/inquiry.proto";
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTOS],
};

let loaded: protoLoader.PackageDefinition | undefined;

function definition(): protoLoader.PackageDefinition {
  loaded ??= protoLoader.loadSync(INQUIRY_PROTO, LOADER_OPTIONS);
  return loaded;
}

export interface Tls {
  ca: string;
  cert: string;
  key: string;
}

export function inquiryClient(address: string, tls: Tls): InquiryServiceClient {
  const proto = grpc.loadPackageDefinition(definition()) as unknown as ProtoGrpcType;
  const credentials = grpc.credentials.createSsl(readFileSync(tls.ca), readFileSync(tls.key), readFileSync(tls.cert));
  return new proto.share_gateway.v1.InquiryService(address, credentials);
}

function deadline(seconds: number): Date {
  return new Date(Date.now() + seconds * 1000);
}

export function inquire(client: InquiryServiceClient, request: InquireRequest, seconds: number): Promise<InquireResponse__Output> {
  return new Promise((resolve, reject) => {
    client.Inquire(request, { deadline: deadline(seconds) }, (error, answer) => {
      if (error !== null || answer === undefined) reject(error ?? new Error("no answer"));
      else resolve(answer);
    });
  });
}

function receiptProof(client: InquiryServiceClient, eventId: string): Promise<GetReceiptProofResponse__Output> {
  return new Promise((resolve, reject) => {
    client.GetReceiptProof({ event_id: eventId }, { deadline: deadline(30) }, (error, proof) => {
      if (error !== null || proof === undefined) reject(error ?? new Error("no proof"));
      else resolve(proof);
    });
  });
}

/**
 * The receipt's inclusion proof, asking again while the node says FAILED_PRECONDITION with reason NOT_YET_IN_LOG
 * (the event waits for the next checkpoint, about a second), up to `patience` seconds.
 */
export async function awaitReceiptProof(
  client: InquiryServiceClient,
  eventId: string,
  patience: number,
): Promise<GetReceiptProofResponse__Output> {
  const until = Date.now() + patience * 1000;
  for (;;) {
    try {
      return await receiptProof(client, eventId);
    } catch (error) {
      const status = error as grpc.ServiceError;
      const waiting = status.code === grpc.status.FAILED_PRECONDITION && errorReason(status) === "NOT_YET_IN_LOG";
      if (!waiting || Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** google.rpc.Status and ErrorInfo, the two messages of the rich error model a node uses, by their field numbers. */
const RPC = protobuf.Root.fromJSON({
  nested: {
    Status: {
      fields: {
        code: { type: "int32", id: 1 },
        message: { type: "string", id: 2 },
        details: { rule: "repeated", type: "Detail", id: 3 },
      },
    },
    Detail: { fields: { type_url: { type: "string", id: 1 }, value: { type: "bytes", id: 2 } } },
    ErrorInfo: { fields: { reason: { type: "string", id: 1 }, domain: { type: "string", id: 2 } } },
  },
});

/** The ErrorInfo reason a node put in the status details (`grpc-status-details-bin`), or "" without one. */
export function errorReason(error: grpc.ServiceError): string {
  const [bin] = error.metadata?.get("grpc-status-details-bin") ?? [];
  if (!(bin instanceof Buffer)) return "";
  const status = RPC.lookupType("Status").decode(bin) as unknown as { details: { type_url: string; value: Uint8Array }[] };
  for (const detail of status.details) {
    if (detail.type_url.endsWith("/google.rpc.ErrorInfo")) {
      return (RPC.lookupType("ErrorInfo").decode(detail.value) as unknown as { reason: string }).reason;
    }
  }
  return "";
}

let jsonRoot: protobuf.Root | undefined;

function messageType(name: string): protobuf.Type {
  if (jsonRoot === undefined) {
    jsonRoot = new protobuf.Root();
    jsonRoot.resolvePath = (_origin, target) => (target.startsWith("google/") ? target : join(PROTOS, target));
    jsonRoot.loadSync(INQUIRY_PROTO);
  }
  return jsonRoot.lookupType(name);
}

/**
 * An InquireResponse in proto3 JSON (as `--save-answer` writes it, or protobuf's JSON printer in any language),
 * turned into the same object a live call yields: parsed into the message, encoded to the wire and decoded by
 * the call's own deserializer, so offline verification runs on exactly the bytes a node would have sent.
 */
export function answerFromJson(text: string): InquireResponse__Output {
  const type = messageType("share_gateway.v1.InquireResponse");
  const wire = Buffer.from(type.encode(type.fromObject(JSON.parse(text) as Record<string, unknown>)).finish());
  const method = definition()["share_gateway.v1.InquiryService"] as protoLoader.ServiceDefinition;
  return method["Inquire"]?.responseDeserialize(wire) as InquireResponse__Output;
}

/** An answer in proto3 JSON: camelCase names, bytes in base64, enums by name. */
export function answerToJson(answer: InquireResponse__Output): string {
  const type = messageType("share_gateway.v1.InquireResponse");
  const method = definition()["share_gateway.v1.InquiryService"] as protoLoader.ServiceDefinition;
  const wire = method["Inquire"]?.responseSerialize(answer) as Buffer;
  return JSON.stringify(type.toObject(type.decode(wire), protobuf.util.toJSONOptions), null, 2);
}

/** A Consent in proto3 JSON (the file `share-gateway consent sign` writes): base64 bytes fields. */
export function consentFromJson(text: string): { statement: Buffer; signature: Buffer; certificate: Buffer } {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const bytes = (key: string): Buffer => Buffer.from(typeof raw[key] === "string" ? (raw[key] as string) : "", "base64");
  return { statement: bytes("statement"), signature: bytes("signature"), certificate: bytes("certificate") };
}
