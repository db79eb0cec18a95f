/**
 * Admits one signed delivery in a fresh process, for the memory benchmark:
 * `node --max-old-space-size=<MB> --import tsx test/helpers/bench/admissionMemory.ts <source> <file>`
 * where <file> holds the request's path and headers as JSON on its first line,
 * then the body's bytes. It reads the body, verifies, hashes, decodes, parses
 * and classifies it, and makes the Blob the action stores, then prints
 * `{ status, storedBytes }`; in a heap too small for that, V8 ends the process.
 */
import { readFileSync } from "node:fs";
import { webhookSources } from "../../../src/sources";
import { admitRequest } from "../../../src/sources/admission";
import type { SourceName } from "../../../src/sources/source";
import { BENCH_SECRETS, streamedRequest, type SignedParts } from "./requests";

const [source, file] = [process.argv[2] as SourceName, process.argv[3]];
// The received bytes, as the runtime holds them before the action reads the body.
const raw = readFileSync(file);
const newline = raw.indexOf(10);
const { path, headers } = JSON.parse(raw.subarray(0, newline).toString("utf8")) as Omit<SignedParts, "body">;
const body = new Uint8Array(raw.buffer, raw.byteOffset + newline + 1, raw.length - newline - 1);

const admission = await admitRequest(webhookSources[source], streamedRequest({ path, headers, body }), {
  secret: BENCH_SECRETS[source],
  settings: { SLACK_BOT_USER_ID: "U0JANGAR" },
  maxBodyBytes: 32 * 1024 * 1024,
  receivedAt: Date.now(),
});
const stored = admission.kind === "deliver" ? new Blob([admission.bodyText], { type: admission.contentType }) : null;
console.log(JSON.stringify({ status: admission.kind === "reject" ? `${admission.status} ${admission.error}` : admission.kind, storedBytes: stored?.size ?? 0 }));
