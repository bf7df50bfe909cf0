#!/usr/bin/env node
/**
 * share-gateway-ts: call a node and verify what it signs, from the README's recipe, in another language than the
 * node's. Exit status 0 when every check held, 1 when one did not, 2 when the command could not run.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

import type { ServiceError } from "@grpc/grpc-js";

import { answerFromJson, answerToJson, awaitReceiptProof, consentFromJson, errorReason, inquire, inquiryClient } from "./node";
import { NamedKey, Refusal, loadNodeKey } from "./recipe";
import { Report, reason, verifyAnswer, verifyBundle, verifyReceiptProof } from "./verify";

const USAGE = `usage:
  share-gateway-ts inquire --node HOST:PORT --ca ca.crt --cert tls.crt --key tls.key --node-key REGION=signing.pub...
                           --subject ID [--kind legal_entity|individual] --purpose PURPOSE [--consent consent.json]
                           [--federation] [--record-type TYPE...] [--save-answer FILE] [--proof-wait SECONDS]
  share-gateway-ts verify-answer FILE --node-key REGION=signing.pub... [--subject ID]
  share-gateway-ts verify-bundle FILE --node-key REGION=signing.pub...`;

const OPTIONS = {
  node: { type: "string" },
  ca: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  "node-key": { type: "string", multiple: true },
  subject: { type: "string" },
  kind: { type: "string", default: "legal_entity" },
  purpose: { type: "string" },
  consent: { type: "string" },
  federation: { type: "boolean", default: false },
  "record-type": { type: "string", multiple: true },
  "save-answer": { type: "string" },
  "proof-wait": { type: "string", default: "60" },
  timeout: { type: "string", default: "30" },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

class Usage extends Error {}

function required(values: Values, name: "node" | "ca" | "cert" | "key" | "subject" | "purpose"): string {
  const value = values[name];
  if (value === undefined) throw new Usage(`--${name} is required`);
  return value;
}

function nodeKeys(values: Values): NamedKey[] {
  const specs = values["node-key"] ?? [];
  if (specs.length === 0) throw new Usage("give each region's key: --node-key REGION=signing.pub");
  return specs.map(loadNodeKey);
}

function finish(report: Report): number {
  for (const line of report.lines) console.log(line);
  const checked = report.lines.filter((line) => !line.startsWith("  ")).length;
  console.log(`${checked - report.failures} verified, ${report.failures} did not verify`);
  return report.failures === 0 ? 0 : 1;
}

async function runInquire(values: Values): Promise<number> {
  const keys = nodeKeys(values);
  const subject = required(values, "subject");
  const kind = values.kind === "individual" ? "SUBJECT_KIND_INDIVIDUAL" : "SUBJECT_KIND_LEGAL_ENTITY";
  if (values.kind !== "individual" && values.kind !== "legal_entity") throw new Usage("--kind is legal_entity or individual");
  const client = inquiryClient(required(values, "node"), {
    ca: required(values, "ca"),
    cert: required(values, "cert"),
    key: required(values, "key"),
  });
  try {
    const answer = await inquire(
      client,
      {
        subject: { kind, identifier: subject },
        purpose: required(values, "purpose"),
        record_types: values["record-type"] ?? [],
        scope: values.federation ? "INQUIRY_SCOPE_FEDERATION" : "INQUIRY_SCOPE_LOCAL",
        ...(values.consent === undefined ? {} : { consent: consentFromJson(readFileSync(values.consent, "utf8")) }),
      },
      Number(values.timeout),
    );
    if (values["save-answer"] !== undefined) writeFileSync(values["save-answer"], answerToJson(answer));
    console.log(`inquiry ${answer.inquiry_id}: ${answer.records.length} record(s)`);
    for (const region of answer.regions) {
      const detail = region.detail === "" ? "" : ` (${region.detail})`;
      console.log(`  region ${region.region}: ${region.status.replace("REGION_STATUS_", "").toLowerCase()}, ${region.records} record(s)${detail}`);
    }
    const report = new Report();
    const signer = verifyAnswer(answer, keys, report, subject);
    if (signer !== null) {
      try {
        const proof = await awaitReceiptProof(client, answer.inquiry_id, Number(values["proof-wait"]));
        verifyReceiptProof(answer, proof, signer, report);
      } catch (error) {
        report.fail(`receipt ${answer.inquiry_id} in the log`, rpcError(error));
      }
    }
    return finish(report);
  } finally {
    client.close();
  }
}

function rpcError(error: unknown): unknown {
  const status = error as Partial<ServiceError>;
  if (typeof status.code !== "number" || status.details === undefined) return error;
  const why = errorReason(status as ServiceError);
  return new Refusal(`the node answered ${status.details}${why === "" ? "" : ` (${why})`}`);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  const [command, file, ...rest] = positionals;
  if (values.help || command === undefined) {
    console.log(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (command === "inquire") {
    if (file !== undefined) throw new Usage(`inquire takes no ${file}`);
    return await runInquire(values);
  }
  if (command !== "verify-answer" && command !== "verify-bundle") throw new Usage(`no command ${command}`);
  if (file === undefined || rest.length > 0) throw new Usage(`${command} takes one FILE`);
  const keys = nodeKeys(values);
  const report = new Report();
  const text = readFileSync(file, "utf8");
  if (command === "verify-bundle") verifyBundle(text, keys, report);
  else verifyAnswer(answerFromJson(text), keys, report, values.subject);
  return finish(report);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Usage ? `${error.message}\n${USAGE}` : `share-gateway-ts: ${reason(rpcError(error))}`);
    process.exitCode = 2;
  },
);
