/**
 * The fake GitHub's side of a GitHub App's credentials: it verifies the App
 * JWT against the App's public key as GitHub does (RS256, the App's `iss`,
 * valid now, for at most 10 minutes), issues installation tokens with an
 * expiry, says who an Authorization header speaks for, and which
 * repositories an installation reaches.
 *
 * ```ts
 * import { FakeAppAuth } from "./githubAppAuth";
 *
 * const auth = new FakeAppAuth({ appId: 1234, publicKeyPem, installations: { 42: ["acme/api"] } });
 * const { token } = auth.issue(42);
 * await auth.authOf(`Bearer ${token}`);   // { installationId: 42 }, until it expires
 * await auth.authOf(`Bearer ${jwt}`);     // "app" when the JWT holds, else "none"
 * auth.reaches(42, "acme/web");           // false
 * ```
 */
import type { FakeGithubOptions, GithubAuth } from "./githubTypes";

const JWT_MAX_LIFETIME_S = 600;
const TOKEN_LIFETIME_MS = 60 * 60_000;

type AppOptions = Pick<FakeGithubOptions, "appId" | "publicKeyPem" | "tokenLifetimeMs" | "installations">;

function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) {
    return null;
  }
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "="));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function derOfPem(pem: string): Uint8Array<ArrayBuffer> {
  const body = pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (char) => char.charCodeAt(0));
}

function randomToken(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return `ghs_${Array.from(crypto.getRandomValues(new Uint8Array(36)), (byte) => alphabet[byte % alphabet.length]).join("")}`;
}

export class FakeAppAuth {
  /** How many installation tokens were issued, by installation. */
  readonly tokensIssued = new Map<number, number>();
  /** The tokens issued, in order. */
  readonly issuedTokens: string[] = [];

  private readonly options: AppOptions;
  private readonly publicKey: Promise<CryptoKey>;
  private readonly tokens = new Map<string, { installationId: number; expiresAt: number }>();

  constructor(options: AppOptions) {
    this.options = options;
    this.publicKey = crypto.subtle.importKey("spki", derOfPem(options.publicKeyPem), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]);
  }

  /** Whether the installation exists: any does when no installations are listed. */
  knows(installationId: number): boolean {
    return this.options.installations === undefined || this.options.installations[installationId] !== undefined;
  }

  /** Whether an installation's token may act on the repository (`owner/repo`, in any case). */
  reaches(installationId: number, repository: string): boolean {
    const reached = this.options.installations?.[installationId];
    return reached === undefined ? this.options.installations === undefined : reached.some((name) => name.toLowerCase() === repository.toLowerCase());
  }

  /** A new installation token, valid from now for the token lifetime. */
  issue(installationId: number): { token: string; expiresAt: number } {
    const token = randomToken();
    const expiresAt = Date.now() + (this.options.tokenLifetimeMs ?? TOKEN_LIFETIME_MS);
    this.tokens.set(token, { installationId, expiresAt });
    this.issuedTokens.push(token);
    this.tokensIssued.set(installationId, (this.tokensIssued.get(installationId) ?? 0) + 1);
    return { token, expiresAt };
  }

  /** Who the Authorization header says is asking, when its JWT or token holds. */
  async authOf(authorization: string | null): Promise<GithubAuth> {
    const credential = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
    if (credential === undefined) {
      return "none";
    }
    const token = this.tokens.get(credential);
    if (token !== undefined) {
      return Date.now() < token.expiresAt ? { installationId: token.installationId } : "none";
    }
    return (await this.isAppJwt(credential)) ? "app" : "none";
  }

  /** An RS256 JWT signed by the App's key, from the App, valid now, for at most 10 minutes (as GitHub checks it). */
  private async isAppJwt(jwt: string): Promise<boolean> {
    const parts = jwt.split(".");
    const [header, payload, signature] = parts.length === 3 ? parts.map(base64UrlBytes) : [null, null, null];
    if (header === null || payload === null || signature === null) {
      return false;
    }
    const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
    if (!(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", await this.publicKey, signature, signed))) {
      return false;
    }
    try {
      const { alg } = JSON.parse(new TextDecoder().decode(header)) as { alg?: unknown };
      const { iss, iat, exp } = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
      const now = Date.now() / 1000;
      return (
        alg === "RS256" &&
        String(iss) === String(this.options.appId) &&
        typeof iat === "number" &&
        typeof exp === "number" &&
        iat <= now + 60 &&
        exp > now &&
        exp - iat <= JWT_MAX_LIFETIME_S &&
        exp <= now + JWT_MAX_LIFETIME_S
      );
    } catch {
      return false;
    }
  }
}
