/**
 * No secret, nor any 8-character piece of one, is kept from an answer
 * (docs/contract.md#hardening-rules): every 8 characters of a text that
 * also occur in a secret are replaced, before the text is cut.
 *
 *     const mask = new SecretMask();
 *     mask.add(token);
 *     const kept = truncate(mask.apply(answerText), 200);
 */
export class SecretMask {
  static readonly PIECE = 8;
  static readonly MASK = "[secret]";
  readonly #pieces = new Set<string>();

  /** Adds a secret: its every piece of 8 characters is masked from now on. */
  add(secret: string): void {
    for (let start = 0; start + SecretMask.PIECE <= secret.length; start += 1) {
      this.#pieces.add(secret.slice(start, start + SecretMask.PIECE));
    }
  }

  /** The text with every character that lies in a piece of a secret replaced (each run by one `[secret]`). */
  apply(text: string): string {
    const masked = new Uint8Array(text.length);
    for (let start = 0; start + SecretMask.PIECE <= text.length; start += 1) {
      if (this.#pieces.has(text.slice(start, start + SecretMask.PIECE))) {
        masked.fill(1, start, start + SecretMask.PIECE);
      }
    }
    let kept = "";
    for (let index = 0; index < text.length; index += 1) {
      if (masked[index] === 0) {
        kept += text[index];
      } else if (index === 0 || masked[index - 1] === 0) {
        kept += SecretMask.MASK;
      }
    }
    return kept;
  }
}
