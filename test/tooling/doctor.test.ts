import { describe, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import { doctorReport, doctorTarget } from "../../scripts/lib/doctor";
import { DEVELOPMENT_ADMIN_KEY } from "../../scripts/lib/serve/settings";
import { SETTING_NAMES, settingState, settingStates, type SettingState } from "../../src/settings";
import { newBackend } from "../helpers/backend";

const PEM = "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAq7BFUpkGp3+LQmlQ\n-----END PRIVATE KEY-----";
const SECRETS = {
  EVENTS_WEBHOOK_SECRET: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=",
  JANGAR_EVENTS_SECRET: "notwhsec_abcdefghijklmnop",
  GITHUB_APP_PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\n###%%%***\n-----END RSA PRIVATE KEY-----",
  SLACK_BOT_TOKEN: "xoxp-user-token-1234567890",
};

describe("doctor:settings: each setting set, missing or malformed, never its value", () => {
  test("what the deployment answers names each setting's state and why, and no 8 characters of any value", async () => {
    const t = newBackend();
    vi.stubEnv("EVENTS_WEBHOOK_SECRET", SECRETS.EVENTS_WEBHOOK_SECRET);
    vi.stubEnv("JANGAR_EVENTS_SECRET", SECRETS.JANGAR_EVENTS_SECRET);
    vi.stubEnv("GITHUB_APP_PRIVATE_KEY", SECRETS.GITHUB_APP_PRIVATE_KEY);
    vi.stubEnv("SLACK_BOT_TOKEN", SECRETS.SLACK_BOT_TOKEN);
    vi.stubEnv("JANGAR_SERVICE_IDENTITIES", "https://jangar.example|server, just-a-subject");
    vi.stubEnv("TEMPORAL_HTTP_URL", "temporal:7233");
    vi.stubEnv("GITHUB_WEBHOOK_SECRET", "");
    try {
      const answer = await t.query(internal.doctor.settings, {});
      const byName = Object.fromEntries(answer.map((state) => [state.name, state]));
      expect(answer.map((state) => state.name)).toEqual(SETTING_NAMES);
      expect(byName.EVENTS_WEBHOOK_SECRET).toEqual({ name: "EVENTS_WEBHOOK_SECRET", state: "set" });
      expect(byName.GITHUB_WEBHOOK_SECRET).toEqual({ name: "GITHUB_WEBHOOK_SECRET", state: "missing" });
      expect(byName.JANGAR_EVENTS_SECRET).toEqual({ name: "JANGAR_EVENTS_SECRET", state: "malformed", why: "the secret does not start with whsec_" });
      expect(byName.GITHUB_APP_PRIVATE_KEY).toEqual({ name: "GITHUB_APP_PRIVATE_KEY", state: "malformed", why: "its body between the BEGIN and END lines is not base64" });
      expect(byName.SLACK_BOT_TOKEN).toEqual({ name: "SLACK_BOT_TOKEN", state: "malformed", why: "not a bot token (one starts with xoxb-)" });
      expect(byName.JANGAR_SERVICE_IDENTITIES).toMatchObject({ state: "malformed", why: expect.stringMatching(/^entry 2 is not issuer\|subject/) });
      expect(byName.TEMPORAL_HTTP_URL).toMatchObject({ state: "malformed", why: "a temporal: URL, not http(s)" });
      const text = JSON.stringify(answer);
      for (const value of Object.values(SECRETS)) {
        for (let at = 0; at + 8 <= value.length; at += 1) {
          expect(text).not.toContain(value.slice(at, at + 8));
        }
      }
    } finally {
      vi.unstubAllEnvs();
    }
  });

  test.each([
    ["GITHUB_APP_PRIVATE_KEY", PEM, "set"],
    ["GITHUB_APP_PRIVATE_KEY", PEM.replaceAll("\n", "\\n"), "set"],
    ["GITHUB_APP_PRIVATE_KEY", PEM.replace("END PRIVATE", "END RSA PRIVATE"), "malformed"],
    ["GITHUB_APP_ID", "123456", "set"],
    ["GITHUB_APP_ID", "12ab", "malformed"],
    ["GITHUB_APP_ID", "Iv23liAbCdEf", "set"],
    ["GITHUB_APP_SLUG", "@Jangar", "set"],
    ["GITHUB_APP_SLUG", "jan gar", "malformed"],
    ["GITHUB_API_URL", "https://ghe.example.com/api/v3", "set"],
    ["GITHUB_API_URL", "http://ghe.example.com/api/v3", "malformed"],
    ["EVENTS_WEBHOOK_SECRET", "whsec_c2hvcnQ=", "malformed"],
    ["EVENTS_WEBHOOK_SECRET", `${SECRETS.EVENTS_WEBHOOK_SECRET} whsec_bmV4dC1zZWNyZXQtaW4tcm90YXRpb24=`, "set"],
    ["JANGAR_WORKFLOW_TYPES", "codex-implement, codex-review", "set"],
    ["JANGAR_WORKFLOW_TYPES", "codex implement", "malformed"],
    ["SLACK_ALERTS_CHANNEL", "C0ALERTS", "set"],
    ["SLACK_ALERTS_CHANNEL", "#alerts", "malformed"],
    ["GITHUB_COMMENT_ASSOCIATIONS", "OWNER,MEMBER", "set"],
    ["GITHUB_COMMENT_ASSOCIATIONS", "OWNER,ADMIN", "malformed"],
    ["DELIVERY_RETENTION_DAYS", "0", "malformed"],
    ["JANGAR_EVENTS_URL", "  ", "missing"],
    ["JANGAR_SERVICE_JWKS", '{"keys":[{"kty":"EC","crv":"P-256","x":"abc","y":"def","kid":"k1"}]}', "set"],
    ["JANGAR_SERVICE_JWKS", '{"keys":[{"kty":"EC","crv":"P-256","x":"abc","y":"def","kid":"k1","d":"private"}]}', "malformed"],
  ] as const)("%s = %j is %s", (name, value, state) => {
    expect(settingState(name, value).state).toBe(state);
  });
});

describe("settings that must agree", () => {
  const RETENTION = { DELIVERY_RETENTION_DAYS: undefined as string | undefined, DELIVERY_BODY_RETENTION_DAYS: undefined as string | undefined };
  const bodyState = (values: Partial<typeof RETENTION>) =>
    settingStates((name) => ({ ...RETENTION, ...values })[name as keyof typeof RETENTION]).find((state) => state.name === "DELIVERY_BODY_RETENTION_DAYS");

  test.each([
    [{ DELIVERY_BODY_RETENTION_DAYS: "3" }, "set"],
    [{ DELIVERY_BODY_RETENTION_DAYS: "30" }, "set"],
    [{ DELIVERY_BODY_RETENTION_DAYS: "31" }, "malformed"],
    [{ DELIVERY_RETENTION_DAYS: "2", DELIVERY_BODY_RETENTION_DAYS: "2" }, "set"],
    [{ DELIVERY_RETENTION_DAYS: "2", DELIVERY_BODY_RETENTION_DAYS: "3" }, "malformed"],
    // A malformed DELIVERY_RETENTION_DAYS is its own problem, reported on its own line.
    [{ DELIVERY_RETENTION_DAYS: "0", DELIVERY_BODY_RETENTION_DAYS: "3" }, "set"],
  ] as const)("DELIVERY_BODY_RETENTION_DAYS with %j is %s (at most DELIVERY_RETENTION_DAYS, 30 when unset)", (values, state) => {
    expect(bodyState(values)?.state).toBe(state);
  });

  test("a DELIVERY_BODY_RETENTION_DAYS longer than DELIVERY_RETENTION_DAYS: doctor:settings answers it malformed naming both, and npm run doctor fails on it", async () => {
    const t = newBackend();
    vi.stubEnv("DELIVERY_RETENTION_DAYS", "2");
    vi.stubEnv("DELIVERY_BODY_RETENTION_DAYS", "3");
    try {
      const answer = await t.query(internal.doctor.settings, {});
      expect(answer.find((state) => state.name === "DELIVERY_BODY_RETENTION_DAYS")).toEqual({
        name: "DELIVERY_BODY_RETENTION_DAYS",
        state: "malformed",
        why: "longer than DELIVERY_RETENTION_DAYS, and a body cannot outlive its delivery; set DELIVERY_BODY_RETENTION_DAYS to at most DELIVERY_RETENTION_DAYS, or unset it",
      });
      const report = doctorReport(answer as SettingState[]);
      expect(report.failed).toBe(true);
      expect(report.lines).toContainEqual(expect.stringMatching(/^FAIL\s+Limits\s+/));
      expect(report.lines).toContainEqual(expect.stringMatching(/^\s+DELIVERY_BODY_RETENTION_DAYS is malformed: longer than DELIVERY_RETENTION_DAYS/));
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe("npm run doctor: per capability, what works and what is missing", () => {
  const states = (overrides: Partial<Record<string, SettingState["state"]>>): SettingState[] =>
    SETTING_NAMES.map((name) =>
      overrides[name] === "malformed" ? { name, state: "malformed", why: "not a URL" } : { name, state: (overrides[name] ?? "missing") as "set" | "missing" },
    );

  test("each capability is ok, off with what turns it on, or to fix; any to fix fails the run", () => {
    const report = doctorReport(
      states({ GITHUB_WEBHOOK_SECRET: "set", SLACK_SIGNING_SECRET: "set", SLACK_BOT_USER_ID: "set", TEMPORAL_HTTP_URL: "set", JANGAR_EVENTS_URL: "malformed", JANGAR_EVENTS_SECRET: "set" }),
    );
    expect(report.failed).toBe(true);
    expect(report.lines).toContainEqual(expect.stringMatching(/^ok\s+GitHub in\s+verifies and records GitHub's webhooks$/));
    expect(report.lines).toContainEqual(expect.stringMatching(/^ok\s+Slack in\s+/));
    expect(report.lines).toContainEqual(expect.stringMatching(/^\s+with SLACK_BOT_USER_ID$/));
    expect(report.lines).toContainEqual(expect.stringMatching(/^off\s+Slack out\s+/));
    expect(report.lines).toContainEqual(expect.stringMatching(/^\s+to turn it on: npx convex env set SLACK_BOT_TOKEN <value>/));
    expect(report.lines).toContainEqual(expect.stringMatching(/^FAIL\s+Events out\s+/));
    expect(report.lines).toContainEqual(expect.stringMatching(/^\s+JANGAR_EVENTS_URL is malformed: not a URL; fix it with npx convex env set JANGAR_EVENTS_URL <value>$/));
    expect(report.lines).toContainEqual(expect.stringMatching(/^FAIL\s+Temporal\s+/));
    expect(report.lines).toContainEqual(expect.stringMatching(/^\s+TEMPORAL_TASK_QUEUE missing: npx convex env set TEMPORAL_TASK_QUEUE <value>$/));
    expect(report.lines).toContainEqual(expect.stringMatching(/^off\s+Alerts\s+/));
    expect(report.lines.at(-1)).toBe("doctor: 3 working, 6 off (not configured), 2 to fix.");
    expect(doctorReport(states({ GITHUB_WEBHOOK_SECRET: "set" })).failed).toBe(false);
  });

  test("alerts: ok with the channel and the bot token; the channel without the token is to fix (nothing would be posted)", () => {
    const on = doctorReport(states({ SLACK_ALERTS_CHANNEL: "set", SLACK_BOT_TOKEN: "set" }));
    expect(on.lines).toContainEqual(expect.stringMatching(/^ok\s+Alerts\s+posts failures to a Slack channel, each condition at most hourly$/));
    const half = doctorReport(states({ SLACK_ALERTS_CHANNEL: "set" }));
    expect(half.failed).toBe(true);
    expect(half.lines).toContainEqual(expect.stringMatching(/^FAIL\s+Alerts\s+/));
    expect(half.lines).toContainEqual(expect.stringMatching(/^\s+SLACK_BOT_TOKEN missing: npx convex env set SLACK_BOT_TOKEN <value>$/));
  });

  test("the deployment asked: --url and --admin-key, else the self-hosted settings, else a deploy key's, else npm run serve's", () => {
    expect(doctorTarget({ url: "http://10.0.0.1:3210", adminKey: "k" }, {})).toEqual({ url: "http://10.0.0.1:3210", adminKey: "k", keyFrom: "--admin-key" });
    expect(doctorTarget({}, { CONVEX_SELF_HOSTED_URL: "https://api.example.com", CONVEX_SELF_HOSTED_ADMIN_KEY: "self|1" })).toMatchObject({ url: "https://api.example.com", keyFrom: "CONVEX_SELF_HOSTED_ADMIN_KEY" });
    expect(doctorTarget({}, { CONVEX_DEPLOY_KEY: "prod:happy-otter-123|abc" })).toMatchObject({ url: "https://happy-otter-123.convex.cloud", keyFrom: "CONVEX_DEPLOY_KEY" });
    expect(doctorTarget({}, {})).toEqual({ url: "http://127.0.0.1:3210", adminKey: DEVELOPMENT_ADMIN_KEY, keyFrom: "npm run serve's development key" });
  });
});
