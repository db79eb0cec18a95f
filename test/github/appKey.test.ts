import githubAppJwt from "universal-github-app-jwt";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { appPrivateKeyPem, pemOf } from "../../src/github/privateKey";
import { githubAppSettings } from "../../src/github/settings";
import { withFakeClock } from "../helpers/clock";
import { APP_KEY, appSettings, derOf, expectNoPieceOf, TEST_APP_ID } from "../helpers/github/app";

withFakeClock();
const START = Date.parse("2026-01-05T10:00:00Z");
beforeEach(() => {
  vi.setSystemTime(START);
});

describe("the App's private key", () => {
  test("GitHub's PKCS#1 key is wrapped into exactly the PKCS#8 that openssl makes of it", () => {
    const converted = appPrivateKeyPem(APP_KEY.pkcs1);
    expect(converted).toEqual({ ok: true, value: expect.stringMatching(/^-----BEGIN PRIVATE KEY-----\n/) });
    expect(converted.ok && derOf(converted.value)).toBe(derOf(APP_KEY.pkcs8));
  });

  test("the JWT library alone refuses GitHub's PKCS#1 key in Convex's runtime (its Web Crypto build): hence the wrapping", async () => {
    await expect(githubAppJwt({ id: TEST_APP_ID, privateKey: APP_KEY.pkcs1 })).rejects.toThrow(/only PKCS#8 is supported/);
  });

  test("a PKCS#8 key is taken as it is; escaped line breaks and CRLF, as env files hold them, are read", () => {
    for (const setting of [APP_KEY.pkcs8, APP_KEY.pkcs1.replaceAll("\n", "\\n"), APP_KEY.pkcs1.replaceAll("\n", "\r\n")]) {
      const converted = appPrivateKeyPem(setting);
      expect(converted.ok && derOf(converted.value)).toBe(derOf(APP_KEY.pkcs8));
    }
  });

  test.each([
    ["no key at all", "ghp_notakey", /GITHUB_APP_PRIVATE_KEY is not a PEM private key: paste the whole \.pem file/],
    ["a public key", APP_KEY.public, /GITHUB_APP_PRIVATE_KEY is not a PEM private key/],
    ["a cut key", APP_KEY.pkcs1.slice(0, 400) + "\n-----END RSA PRIVATE KEY-----", /GITHUB_APP_PRIVATE_KEY has a damaged key/],
    ["an OpenSSH key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----", /encrypted or OpenSSH key/],
    ["an encrypted key", APP_KEY.pkcs1.replace("\n", "\nProc-Type: 4,ENCRYPTED\n"), /encrypted or OpenSSH key/],
  ])("%s is refused, naming the setting, without quoting it", (_what, setting, message) => {
    const converted = appPrivateKeyPem(setting);
    expect(converted).toEqual({ ok: false, message: expect.stringMatching(message) });
    expectNoPieceOf(converted.ok ? "" : converted.message, [derOf(APP_KEY.pkcs1)]);
  });

  test("PEM lines are 64 characters", () => {
    expect(pemOf("PRIVATE KEY", new Uint8Array(100)).split("\n").map((line) => line.length)).toEqual([27, 64, 64, 8, 25, 0]);
  });
});

describe("the App's settings", () => {
  test("unset App id and key: nothing to post with", () => {
    expect(githubAppSettings({ GITHUB_APP_SLUG: "jangar" })).toBeNull();
  });

  test.each([
    [{ GITHUB_APP_ID: "1" }, /^GITHUB_APP_PRIVATE_KEY is unset while GITHUB_APP_ID is set: set both/],
    [{ GITHUB_APP_PRIVATE_KEY: APP_KEY.pkcs1 }, /^GITHUB_APP_ID is unset while GITHUB_APP_PRIVATE_KEY is set/],
    [{ GITHUB_APP_ID: "jangar", GITHUB_APP_PRIVATE_KEY: APP_KEY.pkcs1 }, /^GITHUB_APP_ID is neither the App ID \(digits\) nor the Client ID/],
    [{ GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: APP_KEY.pkcs1, GITHUB_API_URL: "http://ghe.example/api/v3" }, /^GITHUB_API_URL is not an https URL without credentials, query or fragment \(http is taken on loopback only/],
    [{ GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: APP_KEY.pkcs1, GITHUB_API_URL: "api.github.com" }, /^GITHUB_API_URL is not a URL: use https:\/\/api\.github\.com/],
  ])("%o is refused with what to fix", (settings, message) => {
    expect(githubAppSettings(settings)).toEqual({ ok: false, message: expect.stringMatching(message) });
  });

  test("GITHUB_API_URL defaults to api.github.com; a GitHub Enterprise Server root loses its trailing slash", () => {
    expect(githubAppSettings({ GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: APP_KEY.pkcs1 })).toMatchObject({ value: { apiUrl: "https://api.github.com", appId: 1 } });
    expect(appSettings({ GITHUB_API_URL: "https://ghe.example.com/api/v3/", GITHUB_APP_ID: "Iv23liAbCdEf" })).toMatchObject({
      apiUrl: "https://ghe.example.com/api/v3",
      appId: "Iv23liAbCdEf",
    });
  });
});
