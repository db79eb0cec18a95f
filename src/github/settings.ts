import { accept, reject, type Check } from "../check";
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

/** GITHUB_API_URL as a root to append paths to: https (http only on loopback, for a local fake), nothing after the path. */
export function apiUrlOf(value: string | undefined): Check<string> {
  if (value === undefined) {
    return accept(GITHUB_API_URL);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return reject(`GITHUB_API_URL is ${JSON.stringify(value.slice(0, 100))}, not a URL: use https://api.github.com or https://<host>/api/v3.`);
  }
  const secure = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  if (!secure || url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    return reject(
      `GITHUB_API_URL must be an https URL without credentials, query or fragment (http only on loopback): use https://api.github.com or https://<host>/api/v3.`,
    );
  }
  return accept(`${url.origin}${url.pathname.replace(/\/+$/, "")}`);
}

function appIdOf(value: string): Check<number | string> {
  if (/^\d{1,12}$/.test(value)) {
    return accept(Number(value));
  }
  return /^Iv[0-9A-Za-z.]{1,62}$/.test(value)
    ? accept(value)
    : reject(`GITHUB_APP_ID is ${JSON.stringify(value.slice(0, 40))}: use the App ID (digits) or the Client ID (Iv…) from the App's settings page.`);
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
  const appId = appIdOf(id);
  if (!appId.ok) {
    return appId;
  }
  const privateKeyPem = appPrivateKeyPem(key);
  if (!privateKeyPem.ok) {
    return privateKeyPem;
  }
  const apiUrl = apiUrlOf(settings.GITHUB_API_URL);
  return apiUrl.ok ? accept({ appId: appId.value, privateKeyPem: privateKeyPem.value, apiUrl: apiUrl.value }) : apiUrl;
}
