import { accept, reject, type Check } from "../check";

/*
 * The App's private key, as GitHub hands it out (PKCS#1, `BEGIN RSA PRIVATE
 * KEY`) or as PKCS#8 (`BEGIN PRIVATE KEY`), turned into the PKCS#8 PEM that
 * Web Crypto imports: Convex's runtime has no `node:crypto` to convert it.
 * No message here quotes the key.
 */

const SETTING = "GITHUB_APP_PRIVATE_KEY";
const ADVICE = `paste the whole .pem file the GitHub App's settings page downloaded, from its -----BEGIN line to its -----END line.`;

// DER of the AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL } and of the version INTEGER 0.
const RSA_ENCRYPTION = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
const VERSION_0 = [0x02, 0x01, 0x00];
const SEQUENCE = 0x30;
const OCTET_STRING = 0x04;
// An RSA key of 16,384 bits is under 10 KB of DER; nothing larger is a key.
const MAX_KEY_BYTES = 16 * 1024;

/** A DER length: short form below 128, else the count of length bytes and the bytes, big-endian. */
function derLength(length: number): number[] {
  if (length < 0x80) {
    return [length];
  }
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) {
    bytes.unshift(rest % 256);
  }
  return [0x80 | bytes.length, ...bytes];
}

function derElement(tag: number, content: Uint8Array | number[]): Uint8Array {
  const header = [tag, ...derLength(content.length)];
  const element = new Uint8Array(header.length + content.length);
  element.set(header);
  element.set(content, header.length);
  return element;
}

/**
 * PKCS#8's PrivateKeyInfo around a PKCS#1 RSAPrivateKey (RFC 5208):
 * SEQUENCE { INTEGER 0, AlgorithmIdentifier rsaEncryption, OCTET STRING { the PKCS#1 key } }.
 */
export function pkcs8OfPkcs1(pkcs1: Uint8Array): Uint8Array {
  const key = derElement(OCTET_STRING, pkcs1);
  const content = new Uint8Array(VERSION_0.length + RSA_ENCRYPTION.length + key.length);
  content.set(VERSION_0);
  content.set(RSA_ENCRYPTION, VERSION_0.length);
  content.set(key, VERSION_0.length + RSA_ENCRYPTION.length);
  return derElement(SEQUENCE, content);
}

function base64Of(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary);
}

function bytesOfBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
    return null;
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) {
    bytes[index] = binary.charCodeAt(index);
  }
  return bytes;
}

/** DER bytes as PEM, in lines of 64 characters (RFC 7468). */
export function pemOf(label: string, der: Uint8Array): string {
  const lines = base64Of(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The armored block with this label: the base64 between its lines, or null when there is none. */
function armored(text: string, label: string): string | null {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const start = text.indexOf(begin);
  const stop = start < 0 ? -1 : text.indexOf(end, start + begin.length);
  return stop < 0 ? null : text.slice(start + begin.length, stop);
}

/**
 * The App's private key as a PKCS#8 PEM, from a PKCS#1 or PKCS#8 PEM. An
 * environment variable may hold the key's line breaks as `\n`, or CRLF.
 * Refused, without quoting it: an encrypted key, an OpenSSH key, anything
 * that is not one armored key.
 */
export function appPrivateKeyPem(setting: string): Check<string> {
  const text = setting.replaceAll("\\n", "\n").replaceAll("\r", "");
  if (text.includes("-----BEGIN OPENSSH PRIVATE KEY-----") || text.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----") || text.includes("Proc-Type:")) {
    return reject(`${SETTING} holds an encrypted or OpenSSH key; GitHub's key is neither: ${ADVICE}`);
  }
  const pkcs1 = armored(text, "RSA PRIVATE KEY");
  const pkcs8 = pkcs1 === null ? armored(text, "PRIVATE KEY") : null;
  const body = pkcs1 ?? pkcs8;
  if (body === null) {
    return reject(`${SETTING} is not a PEM private key: ${ADVICE}`);
  }
  const der = body.length > MAX_KEY_BYTES * 2 ? null : bytesOfBase64(body.replace(/\s+/g, ""));
  if (der === null || der.length === 0 || der.length > MAX_KEY_BYTES || der[0] !== SEQUENCE) {
    return reject(`${SETTING} has a damaged key between its BEGIN and END lines: ${ADVICE}`);
  }
  return accept(pemOf("PRIVATE KEY", pkcs1 === null ? der : pkcs8OfPkcs1(der)));
}
