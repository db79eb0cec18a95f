import { accept, allOf, reject, type Check } from "../check";
import type { Settings } from "../sources/source";
import { appPrivateKeyPem } from "./privateKey";

/*
 * The GitHub App's settings (docs/environment.md): what requests to GitHub
 * need. Comments are read with GITHUB_APP_SLUG alone; posting needs the
 * App's id and key too.
 */

export const GITHUB_API_URL = "https://api.github.com";

export const APP_SETTING_NAMES = ["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_API_URL"] as const;

export type GithubAppSettings = {
  /** `iss` of the App JWT: the App's numeric id, or its client id (`Iv1.…`, `Iv23…`). */
  appId: number | string;
  /** The private key as a PKCS#8 PEM (converted from GitHub's PKCS#1 where needed). */
  privateKeyPem: string;
  /** The REST API's root without a trailing slash: `https://api.github.com`, or `https://<host>/api/v3` on GitHub Enterprise Server. */
  apiUrl: string;
};

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Why GITHUB_API_URL cannot be the API's root (never quoting it: it may hold credentials), or null. */
export function apiUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "not a URL";
  }
  const secure = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  return secure && url.username === "" && url.password === "" && url.search === "" && url.hash === ""
    ? null
    : "not an https URL without credentials, query or fragment (http is taken on loopback only, for a local fake)";
}

/** GITHUB_API_URL as a root to append paths to, without a trailing slash. */
export function apiUrlOf(value: string | undefined): Check<string> {
  if (value === undefined) {
    return accept(GITHUB_API_URL);
  }
  const problem = apiUrlProblem(value);
  if (problem !== null) {
    return reject(`GITHUB_API_URL is ${problem}: use https://api.github.com, or https://<host>/api/v3 on GitHub Enterprise Server.`);
  }
  const url = new URL(value);
  return accept(`${url.origin}${url.pathname.replace(/\/+$/, "")}`);
}

/** Why GITHUB_APP_ID is neither the App's ID nor its Client ID, or null. */
export function appIdProblem(value: string): string | null {
  return /^\d{1,12}$/.test(value) || /^Iv[0-9A-Za-z.]{1,62}$/.test(value) ? null : "neither the App ID (digits) nor the Client ID (Iv…) from the App's settings page";
}

function appIdOf(value: string): Check<number | string> {
  const problem = appIdProblem(value);
  if (problem !== null) {
    return reject(`GITHUB_APP_ID is ${problem}.`);
  }
  return accept(/^\d+$/.test(value) ? Number(value) : value);
}

/**
 * The App's settings, when the deployment may post to GitHub: null while
 * GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY are both unset; refused, naming
 * the setting and the fix, when one is missing or malformed.
 */
export function githubAppSettings(settings: Settings): Check<GithubAppSettings> | null {
  const id = settings.GITHUB_APP_ID;
  const key = settings.GITHUB_APP_PRIVATE_KEY;
  if (id === undefined && key === undefined) {
    return null;
  }
  if (id === undefined || key === undefined) {
    const missing = id === undefined ? "GITHUB_APP_ID" : "GITHUB_APP_PRIVATE_KEY";
    return reject(`${missing} is unset while ${id === undefined ? "GITHUB_APP_PRIVATE_KEY" : "GITHUB_APP_ID"} is set: set both to post to GitHub, or neither.`);
  }
  return allOf({ appId: appIdOf(id), privateKeyPem: appPrivateKeyPem(key), apiUrl: apiUrlOf(settings.GITHUB_API_URL) });
}
