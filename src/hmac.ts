const utf8 = new TextEncoder();

async function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", utf8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

export function hexOf(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function bytesOfHex(hex: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(hex.match(/../g)!.map((pair) => parseInt(pair, 16)));
}

/** HMAC-SHA256 of `message` under `secret`, in lower-case hex. */
export async function hmacSha256Hex(secret: string, message: Uint8Array): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret, "sign"), new Uint8Array(message));
  return hexOf(mac);
}

/** Whether `hex` (64 hex digits) is the HMAC-SHA256 of `message`; Web Crypto compares in constant time. */
export async function verifyHmacSha256Hex(secret: string, message: Uint8Array, hex: string): Promise<boolean> {
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    return false;
  }
  return await crypto.subtle.verify("HMAC", await hmacKey(secret, "verify"), bytesOfHex(hex), new Uint8Array(message));
}
