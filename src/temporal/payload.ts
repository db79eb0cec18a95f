/*
 * A start request's body, made with its input's base64 one slice at a time
 * (docs/contract.md#hardening-rules: a launch holds at most two copies of
 * its input). The input is JSON text of up to 1 MiB; Temporal's HTTP API
 * wants it as the base64 of its UTF-8, inside the request's JSON. Built
 * string by string, that would hold the text, its UTF-8, its base64 and the
 * request's text at once (and, a character at a time, tens of MB of
 * intermediate strings). Here a slice of the text is encoded at a time and its base64
 * appended to the request, which V8 keeps as a rope of those pieces until
 * it is sent: the launch holds the text and the request.
 */

const BASE64_DIGITS = new TextEncoder().encode("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
const PAD = 61; // "="
const utf8 = new TextEncoder();
const ascii = new TextDecoder();

// Characters encoded at a time: small enough that a slice and its UTF-8 are nothing beside the input.
export const SLICE_CHARS = 16 * 1024;

/** Writes the base64 of `count` bytes of `from` (a multiple of 3, unless it is the last) into `into`; its length. */
function writeBase64(from: Uint8Array, count: number, into: Uint8Array): number {
  let at = 0;
  let i = 0;
  for (; i + 3 <= count; i += 3) {
    const triple = (from[i] << 16) | (from[i + 1] << 8) | from[i + 2];
    into[at] = BASE64_DIGITS[triple >> 18];
    into[at + 1] = BASE64_DIGITS[(triple >> 12) & 63];
    into[at + 2] = BASE64_DIGITS[(triple >> 6) & 63];
    into[at + 3] = BASE64_DIGITS[triple & 63];
    at += 4;
  }
  const left = count - i;
  if (left > 0) {
    const pair = (from[i] << 16) | (left === 2 ? from[i + 1] << 8 : 0);
    into[at] = BASE64_DIGITS[pair >> 18];
    into[at + 1] = BASE64_DIGITS[(pair >> 12) & 63];
    into[at + 2] = left === 2 ? BASE64_DIGITS[(pair >> 6) & 63] : PAD;
    into[at + 3] = PAD;
    at += 4;
  }
  return at;
}

/** `head`, then the base64 of `text`'s UTF-8 (as TextEncoder encodes it), then `tail`. */
export function withBase64Between(head: string, text: string, tail: string): string {
  // A slice's UTF-8, after the (at most 2) bytes left over from the one before: base64 takes 3 at a time.
  const sliceChars = Math.min(SLICE_CHARS, text.length);
  const staging = new Uint8Array(2 + 3 * sliceChars);
  const digits = new Uint8Array(4 * (sliceChars + 1));
  let body = head;
  let carried = 0;
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + sliceChars, text.length);
    // A slice never ends between the two halves of a surrogate pair.
    if (end < text.length && (text.charCodeAt(end - 1) & 0xfc00) === 0xd800 && (text.charCodeAt(end) & 0xfc00) === 0xdc00) {
      end -= 1;
    }
    const { written } = utf8.encodeInto(text.slice(start, end), staging.subarray(carried));
    const held = carried + written;
    const whole = held - (held % 3);
    body += ascii.decode(digits.subarray(0, writeBase64(staging, whole, digits)));
    staging.copyWithin(0, whole, held);
    carried = held - whole;
    start = end;
  }
  return `${body}${ascii.decode(digits.subarray(0, writeBase64(staging, carried, digits)))}${tail}`;
}
