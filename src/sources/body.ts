import { accept, reject, type Check } from "../check";

// Room kept in front of a body for the text a sender signs before it (Slack's
// `v0:<timestamp>:`, Standard Webhooks' `<id>.<timestamp>.`, at most 270 bytes),
// so that the signed bytes are one view and the body is never copied to verify it.
const HEADROOM = 512;
// A body read without a Content-Length starts in a buffer this large and doubles.
const FIRST_CHUNK = 64 * 1024;

/**
 * A webhook body as received: its bytes, read once into a buffer of our own,
 * until admission lets go of them (`release`) to hold the decoded text instead.
 */
export class RequestBody {
  #buffer: Uint8Array<ArrayBuffer> | null;
  readonly byteLength: number;

  private constructor(buffer: Uint8Array<ArrayBuffer>, byteLength: number) {
    this.#buffer = buffer;
    this.byteLength = byteLength;
  }

  /**
   * Reads a request's body, at most `limit` bytes of it: a longer body is
   * refused as soon as it shows itself (by its Content-Length, or while
   * streaming), before it is held whole.
   */
  static async read(request: Request, limit: number): Promise<Check<RequestBody>> {
    const declared = Number(request.headers.get("content-length") ?? NaN);
    if (declared > limit) {
      return reject(`The body is ${declared} bytes; the limit is ${limit}`);
    }
    if (request.body === null) {
      return accept(new RequestBody(new Uint8Array(HEADROOM), 0));
    }
    let buffer = new Uint8Array(HEADROOM + (Number.isInteger(declared) && declared >= 0 ? declared : Math.min(limit, FIRST_CHUNK)));
    let end = HEADROOM;
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      if (end - HEADROOM + value.length > limit) {
        await reader.cancel();
        return reject(`The body is more than ${limit} bytes, the limit`);
      }
      if (end + value.length > buffer.length) {
        const grown = new Uint8Array(HEADROOM + Math.min(limit, Math.max(2 * (buffer.length - HEADROOM), end - HEADROOM + value.length)));
        grown.set(buffer.subarray(0, end));
        buffer = grown;
      }
      buffer.set(value, end);
      end += value.length;
    }
    return accept(new RequestBody(buffer, end - HEADROOM));
  }

  /** A body of these bytes (copied), as a sender's own code or a test has them. */
  static of(bytes: Uint8Array): RequestBody {
    const buffer = new Uint8Array(HEADROOM + bytes.length);
    buffer.set(bytes, HEADROOM);
    return new RequestBody(buffer, bytes.length);
  }

  /** The body's bytes (a view, not a copy). */
  get bytes(): Uint8Array<ArrayBuffer> {
    return this.#held().subarray(HEADROOM, HEADROOM + this.byteLength);
  }

  /** `prefix` followed by the body, as one view: the prefix is written into the room kept in front. */
  withPrefix(prefix: Uint8Array): Uint8Array<ArrayBuffer> {
    if (prefix.length > HEADROOM) {
      throw new TypeError(`A signed prefix of ${prefix.length} bytes does not fit the ${HEADROOM} bytes kept for it.`);
    }
    const buffer = this.#held();
    buffer.set(prefix, HEADROOM - prefix.length);
    return buffer.subarray(HEADROOM - prefix.length, HEADROOM + this.byteLength);
  }

  /** Lets go of the bytes, so that the text decoded from them is never held beside them. */
  release(): void {
    this.#buffer = null;
  }

  #held(): Uint8Array<ArrayBuffer> {
    if (this.#buffer === null) {
      throw new TypeError("The body's bytes were released once decoded.");
    }
    return this.#buffer;
  }
}

// ignoreBOM keeps a leading byte-order mark in the text, so that the text
// encodes back to exactly the bytes that were signed.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The bytes as text, every one of them, or why they are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): Check<string> {
  try {
    return accept(strictUtf8.decode(bytes));
  } catch {
    return reject("The body is not valid UTF-8.");
  }
}
