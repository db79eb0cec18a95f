import { ConvexHttpClient } from "convex/browser";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { connectHttp, generateServiceKey, mergeServiceJwks, serviceTokens, type ServiceTokens } from "../../client";
import { serviceAuthProviders, serviceTokenIdentifier } from "../../src/serviceIdentity";
import { modulesUnderTest, newBackend, type Backend } from "../helpers/backend";
import { convexHttpApi } from "../helpers/convexHttpApi";
import { FIRST_PAGE, newSession, statusHistory } from "../helpers/records";

/*
 * The service client (docs/contract.md#the-service-client): Jangar's server
 * calls the twelve functions through `connectHttp`, on `ConvexHttpClient`'s
 * real request path, with tokens it signs itself. The stand-in for Convex's
 * HTTP API verifies each token against the provider convex/auth.config.ts
 * builds from JANGAR_SERVICE_JWKS, and runs the call on the test backend.
 */

const URL = "https://happy-otter-123.convex.cloud";
let key: { privateKey: string; jwks: string };
let tokens: ServiceTokens;

beforeAll(async () => {
  key = await generateServiceKey();
  tokens = await serviceTokens(key.privateKey);
});
afterEach(() => {
  vi.useRealTimers();
});

/** A deployment trusting `jwks`, and the server connected to it. */
function deployment(t: Backend, jwks: string | null = key.jwks, as?: string, signWith = tokens) {
  const api = convexHttpApi(t, serviceAuthProviders(jwks ?? undefined));
  return { ...api, jangar: connectHttp(URL, signWith, { fetch: api.fetch, logger: false, as }) };
}

async function rejection(call: Promise<unknown>): Promise<Error & { data?: { code: string; message: string } }> {
  return await call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: Error) => error,
  );
}

describe("the twelve functions, called as the service", () => {
  test("a session, its messages, an order with args, target and link, its status, and every read, as Convex's HTTP API answers them", async () => {
    const t = newBackend();
    const { jangar, requests } = deployment(t);

    const sessionId = await jangar.chatSessions.create({ title: "Deploy the API", userId: "alice" });
    const messageId = await jangar.chatMessages.append({ sessionId, role: "assistant", content: "On it.", metadata: { model: "codex" } });
    const workOrderId = await jangar.workOrders.create({
      sessionId,
      workflowType: "codex-implement",
      prompt: "Deploy the API",
      title: "Deploy",
      args: [{ name: "env", value: "staging" }],
      target: { targetRepo: "https://github.com/Acme/Api", targetBranch: "main" },
    });
    expect(await jangar.workOrderArgs.upsert({ workOrderId, name: "env", value: "production" })).toEqual(expect.any(String));
    expect(await jangar.workOrderTargets.upsert({ workOrderId, targetRepo: "acme/api", targetBranch: "release" })).toEqual(expect.any(String));
    const linkId = await jangar.workOrderLinks.add({ workOrderId, kind: "pr", value: "https://github.com/acme/api/pull/7" });
    expect(await jangar.workOrderLinks.add({ workOrderId, kind: "pr", value: "https://github.com/Acme/Api/pull/7/" })).toBe(linkId);
    expect(await jangar.workOrders.updateStatus({ workOrderId, status: "accepted", reason: "workflow started" })).toEqual({ status: "accepted", changed: true });

    expect(await jangar.chatSessions.get({ sessionId })).toMatchObject({ _id: sessionId, userId: "alice", title: "Deploy the API" });
    expect((await jangar.chatSessions.list({ paginationOpts: FIRST_PAGE, userId: "alice" })).page.map((session) => session._id)).toEqual([sessionId]);
    expect((await jangar.chatMessages.listBySession({ sessionId, paginationOpts: FIRST_PAGE })).page).toEqual([
      expect.objectContaining({ _id: messageId, role: "assistant", content: "On it.", metadata: { model: "codex" } }),
    ]);
    expect((await jangar.workOrders.listBySession({ sessionId, paginationOpts: FIRST_PAGE })).page.map((order) => order._id)).toEqual([workOrderId]);
    expect(await jangar.workOrders.get({ workOrderId })).toMatchObject({
      status: "accepted",
      requestedBy: "alice",
      args: [{ name: "env", value: "production" }],
      target: { targetRepo: "acme/api", targetBranch: "release" },
      links: [{ kind: "pr", value: "https://github.com/acme/api/pull/7" }],
    });
    // The change is the service's, in the history.
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({ to: "accepted", actor: `service:${serviceTokenIdentifier()}` });

    expect(new Set(requests.map((request) => request.path))).toEqual(
      new Set([
        "chatSessions:create", "chatSessions:list", "chatSessions:get",
        "chatMessages:append", "chatMessages:listBySession",
        "workOrders:create", "workOrders:updateStatus", "workOrders:listBySession", "workOrders:get",
        "workOrderArgs:upsert", "workOrderTargets:upsert", "workOrderLinks:add",
      ]),
    );
  });

  test("a refusal reaches the server as the ConvexError the function threw, with its code and message", async () => {
    const t = newBackend();
    const { jangar } = deployment(t);
    const sessionId = await jangar.chatSessions.create({ title: "Deploy", userId: "alice" });
    const error = await rejection(jangar.chatMessages.append({ sessionId, role: "bot", content: "x" }));
    expect(error.data).toEqual({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/role/) });
  });
});

describe("the twelve functions, called for a user", () => {
  test("acting as alice: her own records only, and another user's named or reached is refused naming her tokenIdentifier", async () => {
    const t = newBackend();
    const alice = deployment(t, key.jwks, "alice").jangar;
    const bobsSession = await newSession(t, "bob");

    const sessionId = await alice.chatSessions.create({ title: "Mine" });
    expect((await alice.chatSessions.list({ paginationOpts: FIRST_PAGE })).page.map((session) => session._id)).toEqual([sessionId]);
    const workOrderId = await alice.workOrders.create({ sessionId, workflowType: "codex", prompt: "p", title: "t", status: "draft" });
    expect(await alice.workOrders.updateStatus({ workOrderId, status: "submitted" })).toEqual({ status: "submitted", changed: true });
    expect(await alice.chatSessions.get({ sessionId: bobsSession })).toBeNull();

    const aliceToken = JSON.stringify(serviceTokenIdentifier("alice"));
    const listing = await rejection(alice.chatSessions.list({ paginationOpts: FIRST_PAGE, userId: "bob" }));
    expect(listing.data).toEqual({ code: "INVALID_ARGUMENT", message: expect.stringContaining(`tokenIdentifier ${aliceToken} is not listed in JANGAR_SERVICE_IDENTITIES`) });
    const appending = await rejection(alice.chatMessages.append({ sessionId: bobsSession, role: "user", content: "hi" }));
    expect(appending.data).toEqual({ code: "NOT_FOUND", message: expect.stringContaining(aliceToken) });
    const running = await rejection(alice.workOrders.updateStatus({ workOrderId, status: "running" }));
    expect(running.data).toMatchObject({ code: "INVALID_TRANSITION", message: expect.stringContaining("JANGAR_SERVICE_IDENTITIES") });
  });
});

describe("the service's tokens", () => {
  test("carry what Convex's Custom JWT provider checks: ES256 with the key's kid, iss, aud, sub, iat and a ten-minute exp", async () => {
    const t = newBackend();
    const { jangar, requests } = deployment(t);
    await jangar.chatSessions.create({ title: "Deploy", userId: "alice" });
    const token = requests[0].authorization!.replace(/^Bearer /, "");
    expect(requests[0].authorization).toMatch(/^Bearer /);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "ES256", kid: tokens.keyId, typ: "JWT" });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: "https://jangar.internal", aud: "jangar-persistence", sub: "jangar-server" });
    expect(claims.exp! - claims.iat!).toBe(600);
  });

  test("are reused while fresh and minted again two minutes before they end; a forced refresh mints one at once", async () => {
    let now = Date.parse("2026-03-02T09:00:00Z");
    const clocked = await serviceTokens(key.privateKey, { now: () => now });
    const first = await clocked.token();
    now += 7 * 60_000;
    expect(await clocked.token()).toBe(first);
    now += 1_000 + 60_000;
    const second = await clocked.token();
    expect(second).not.toBe(first);
    expect(decodeJwt(second).iat).toBe(now / 1000);
    expect(await clocked.fetcher()({ forceRefreshToken: false })).toBe(second);
    now += 1_000;
    expect(await clocked.fetcher()({ forceRefreshToken: true })).not.toBe(second);
    expect(decodeJwt(await clocked.token("alice")).sub).toBe("alice");
  });

  test("an expired token, one of a key the deployment does not list, and any while JANGAR_SERVICE_JWKS is unset are refused", async () => {
    const t = newBackend();
    const expired = await serviceTokens(key.privateKey, { now: () => Date.now() - 11 * 60_000 });
    const stranger = await serviceTokens((await generateServiceKey()).privateKey);
    for (const [jwks, signWith] of [[key.jwks, expired], [key.jwks, stranger], [null, tokens]] as const) {
      const { jangar } = deployment(t, jwks, undefined, signWith);
      const error = await rejection(jangar.chatSessions.create({ title: "Deploy", userId: "alice" }));
      expect(error.message).toMatch(/Unauthenticated/);
    }
    expect((await t.run((ctx) => ctx.db.query("chat_sessions").collect())).length).toBe(0);
  });

  test("during a key rotation the deployment lists both keys, and tokens of either are accepted", async () => {
    const t = newBackend();
    const next = await generateServiceKey();
    const both = mergeServiceJwks(key.jwks, next.jwks);
    expect(JSON.parse(both).keys).toHaveLength(2);
    for (const signWith of [tokens, await serviceTokens(next.privateKey)]) {
      const { jangar } = deployment(t, both, undefined, signWith);
      expect(await jangar.chatSessions.create({ title: "Deploy", userId: "alice" })).toEqual(expect.any(String));
    }
  });

  test("a JANGAR_SERVICE_KEY that is not a private key, and a JANGAR_SERVICE_JWKS that is not a public key set, are refused naming the setting", async () => {
    await expect(serviceTokens("not json")).rejects.toThrow(/^JANGAR_SERVICE_KEY is not JSON\. Set it to the "privateKey" that `npm run service-key` prints/);
    await expect(serviceTokens(JSON.stringify(JSON.parse(key.jwks).keys[0]))).rejects.toThrow(/^JANGAR_SERVICE_KEY is not an EC P-256 private key/);
    const { kid: _kid, ...withoutKid } = JSON.parse(key.privateKey) as Record<string, string>;
    await expect(serviceTokens(JSON.stringify(withoutKid))).rejects.toThrow(/^JANGAR_SERVICE_KEY has no "kid"/);

    expect(() => serviceAuthProviders("{")).toThrow(/^JANGAR_SERVICE_JWKS is not JSON/);
    expect(() => serviceAuthProviders('{"keys":[]}')).toThrow(/^JANGAR_SERVICE_JWKS has no "keys" list/);
    expect(() => serviceAuthProviders(JSON.stringify({ keys: [JSON.parse(key.privateKey)] }))).toThrow(
      /^JANGAR_SERVICE_JWKS key 1 is a private key \("d"\); give the deployment the public key only/,
    );
    expect(serviceAuthProviders(undefined)).toEqual([]);
    expect(serviceAuthProviders("  ")).toEqual([]);
  });
});

describe("convex/auth.config.ts, as Convex evaluates it on a push", () => {
  const configs = import.meta.glob<{ default: { providers: unknown[] } }>(["../../convex/auth.config.ts", "../../build/bundle/isolate/auth.config.js"]);
  const load = async () => {
    vi.resetModules();
    const path = modulesUnderTest === "bundle" ? "../../build/bundle/isolate/auth.config.js" : "../../convex/auth.config.ts";
    return (await configs[path]()).default;
  };
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.unstubAllGlobals();
  });

  test("trusts the keys of JANGAR_SERVICE_JWKS with one Custom JWT provider", async () => {
    vi.stubEnv("JANGAR_SERVICE_JWKS", key.jwks);
    const config = await load();
    expect(config.providers).toEqual([
      expect.objectContaining({ type: "customJwt", issuer: "https://jangar.internal", applicationID: "jangar-persistence", algorithm: "ES256" }),
    ]);
    expect(config.providers).toEqual(serviceAuthProviders(key.jwks));
  });

  test("trusts no one while the setting is unset, even where reading an unset setting throws (Convex does, on a push)", async () => {
    const env = new Proxy({} as Record<string, string>, {
      get: (_target, name) => {
        throw new Error(`Environment variable ${String(name)} is used in auth config file but its value was not set`);
      },
    });
    vi.stubGlobal("process", { ...process, env });
    expect((await load()).providers).toEqual([]);
  });
});

describe("the client compiles against the published convex types", () => {
  test("it authenticates with ConvexHttpClient's public setAuth, not the internal setAdminAuth", () => {
    // The published types have no setAdminAuth (internal), and the client does not need it.
    expect(typeof ConvexHttpClient.prototype.setAuth).toBe("function");
  });
});
