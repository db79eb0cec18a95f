import appPkcs1 from "../../../fixtures/github-app/app.pkcs1.pem?raw";
import appPkcs8 from "../../../fixtures/github-app/app.pkcs8.pem?raw";
import appPublic from "../../../fixtures/github-app/app.public.pem?raw";
import otherPkcs8 from "../../../fixtures/github-app/other.pkcs8.pem?raw";
import { expect, vi } from "vitest";
import { FakeGitHub, FAKE_GITHUB_URL, type FakeGithubOptions } from "../../../fakes/github";
import { githubAppSettings, type GithubAppSettings } from "../../../src/github/settings";

/*
 * The test App's keys (fixtures/github-app/: test-only keys, made with
 * openssl for these tests and used nowhere else), the fake GitHub that
 * knows the App by its public key, and what of a key may never show.
 */

export const TEST_APP_ID = 424242;
export const TEST_APP_SLUG = "jangar";
export const APP_KEY = { pkcs1: appPkcs1, pkcs8: appPkcs8, public: appPublic };
/** A key of another App: what it signs, GitHub refuses. */
export const OTHER_APP_KEY = otherPkcs8;

/** A PEM's body alone: its base64, without the armour lines and line breaks. */
export function derOf(pem: string): string {
  return pem.replace(/-----[A-Z ]+-----|\s/g, "");
}

/** Every 8 characters of these secrets: none may show in what is kept. */
export function expectNoPieceOf(text: string, secrets: string[]) {
  for (const secret of secrets) {
    for (let start = 0; start + 8 <= secret.length; start += 1) {
      expect(text).not.toContain(secret.slice(start, start + 8));
    }
  }
}

/** The deployment's App settings with this key (GitHub's PKCS#1 by default). */
export function appSettings(overrides: Record<string, string | undefined> = {}): GithubAppSettings {
  const settings = githubAppSettings({
    GITHUB_APP_ID: String(TEST_APP_ID),
    GITHUB_APP_PRIVATE_KEY: APP_KEY.pkcs1,
    GITHUB_API_URL: FAKE_GITHUB_URL,
    ...overrides,
  });
  if (settings === null || !settings.ok) {
    throw new Error(`test settings do not hold: ${settings === null ? "unset" : settings.message}`);
  }
  return settings.value;
}

export function fakeGithub(options: Partial<FakeGithubOptions> = {}): FakeGitHub {
  return new FakeGitHub({ appId: TEST_APP_ID, publicKeyPem: APP_KEY.public, appSlug: TEST_APP_SLUG, ...options });
}

let deployments = 0;

/**
 * The deployment set up with the test App (GITHUB_APP_SLUG, its id and key,
 * GITHUB_API_URL) and a fake GitHub standing in for `fetch`. Each call gets
 * an API URL of its own, so that the App client of this isolate (which
 * keeps tokens per App and URL) starts without the tokens of another test.
 */
export function configureGithubApp(options: Partial<FakeGithubOptions> & { key?: "pkcs1" | "pkcs8" } = {}): FakeGitHub {
  deployments += 1;
  const github = fakeGithub({ baseUrl: `https://api-${deployments}.github.test`, ...options });
  vi.stubGlobal("fetch", github.fetch);
  vi.stubEnv("GITHUB_APP_SLUG", TEST_APP_SLUG);
  vi.stubEnv("GITHUB_APP_ID", String(TEST_APP_ID));
  vi.stubEnv("GITHUB_APP_PRIVATE_KEY", APP_KEY[options.key ?? "pkcs1"]);
  vi.stubEnv("GITHUB_API_URL", github.baseUrl);
  return github;
}
