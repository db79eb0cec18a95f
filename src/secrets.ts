import { truncate } from "./text";

/**
 * What another service answers, made safe to keep: no secret this service
 * sent it (a bot token, an API key, a private key, an installation token, a
 * signing secret), nor any 8-character piece of one, survives into a stored
 * row or a log line, whatever the answer echoes
 * (docs/contract.md#hardening-rules). Every outbound client passes each
 * answer it keeps through `excerpt`, with the secrets it holds, by name:
 *
 *     const reason = `Temporal answered ${status}: ${excerpt(text, 200, { TEMPORAL_API_KEY: config.apiKey })}`;
 *
 * Pieces are masked before the text is cut, and any run of characters that
 * is a piece of a secret is masked, so a cut can never leave part of one.
 */

/** The length of the shortest piece of a secret that must never be kept. */
export const SECRET_PIECE_CHARS = 8;

/** The secrets a client holds, by the name a masked run reads as (`[SLACK_BOT_TOKEN]`); an unset one masks nothing. */
export type Secrets = Readonly<Record<string, string | undefined>>;

/** Every 8-character piece of each secret (a shorter secret is a piece as a whole), with the secret's name. */
function piecesOf(secrets: Secrets): Map<string, string> {
  const pieces = new Map<string, string>();
  for (const [name, secret] of Object.entries(secrets)) {
    if (secret === undefined || secret.length === 0) continue;
    if (secret.length <= SECRET_PIECE_CHARS) {
      if (!pieces.has(secret)) pieces.set(secret, name);
      continue;
    }
    for (let start = 0; start + SECRET_PIECE_CHARS <= secret.length; start += 1) {
      const piece = secret.slice(start, start + SECRET_PIECE_CHARS);
      if (!pieces.has(piece)) pieces.set(piece, name);
    }
  }
  return pieces;
}

const isHigh = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLow = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/**
 * The text with every run of characters covered by pieces replaced by the
 * name of the secret it starts in, in brackets (which no token, key or
 * base64 secret holds). A run is widened to whole characters, so that
 * masking never leaves half of a surrogate pair (which Convex cannot store).
 */
function mask(text: string, pieces: Map<string, string>): string {
  if (pieces.size === 0) return text;
  const lengths = new Set([...pieces.keys()].map((piece) => piece.length));
  // The name of the secret whose piece covers each position, if any.
  const hidden: (string | undefined)[] = new Array(text.length);
  let any = false;
  for (const length of lengths) {
    for (let start = 0; start + length <= text.length; start += 1) {
      const name = pieces.get(text.slice(start, start + length));
      if (name === undefined) continue;
      for (let at = start; at < start + length; at += 1) hidden[at] ??= name;
      any = true;
    }
  }
  if (!any) return text;
  let shown = "";
  let position = 0;
  while (position < text.length) {
    let end = position;
    const name = hidden[position];
    if (name === undefined) {
      while (end < text.length && hidden[end] === undefined) end += 1;
      shown += text.slice(position, end);
      position = end;
      continue;
    }
    while (end < text.length && hidden[end] !== undefined) end += 1;
    // Whole characters: a run starting on a pair's second half takes its first, and one ending on a first half takes its second.
    if (position > 0 && isLow(text.charCodeAt(position)) && isHigh(text.charCodeAt(position - 1))) {
      shown = shown.slice(0, -1);
    }
    if (end < text.length && isHigh(text.charCodeAt(end - 1)) && isLow(text.charCodeAt(end))) {
      end += 1;
    }
    shown += `[${name}]`;
    position = end;
  }
  return shown;
}

/** Whether the text holds a piece of a secret. */
function holdsPiece(text: string, pieces: Map<string, string>): boolean {
  for (const piece of pieces.keys()) {
    if (text.includes(piece)) return true;
  }
  return false;
}

/**
 * At most `maxChars` characters of an answer (`…` marks a cut), with every
 * piece of the secrets masked first. Should masking itself form a piece
 * (only a secret holding a bracket and its own name could), nothing of the
 * text is kept.
 */
export function excerpt(text: string, maxChars: number, secrets: Secrets): string {
  const pieces = piecesOf(secrets);
  const cut = text.length > maxChars;
  const head = cut ? text.slice(0, Math.max(0, maxChars - 1)) : text;
  const whole = cut && isHigh(head.charCodeAt(head.length - 1)) ? head.slice(0, -1) : head;
  // A secret shorter than its name can make the masked text longer: it is cut again.
  const shown = truncate(`${mask(whole, pieces)}${cut ? "…" : ""}`, maxChars);
  return holdsPiece(shown, pieces) ? "" : shown;
}
