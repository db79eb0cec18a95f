/**
 * workOrders:get is the lossless join of what was written about a work order
 * (workOrders:create, workOrderArgs:upsert, workOrderTargets:upsert,
 * workOrderLinks:add), in the stored canonical forms of
 * docs/contract.md#1-data-model and docs/contract.md#2-public-functions.
 *
 * The property test prints its seed; rerun a failure with
 * `FC_SEED=<seed> npx vitest run test/api/lossless.test.ts` (FC_NUM_RUNS for more runs).
 */
import fc from "fast-check";
import type { Value } from "convex/values";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { TOUCH_INTERVAL_MS } from "../../convex/model/workOrders/updatedAt";
import { LIMITS } from "../../src/limits";
import { newBackend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { withFakeClock } from "../helpers/clock";

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 40);
const SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 0x7fffffff));

// The server's clock is driven by the test, one second per call, so that
// createdAt and updatedAt can be predicted exactly.
const START = Date.UTC(2025, 0, 6, 9, 0, 0);
const TICK_MS = 1000;

withFakeClock({ toFake: ["Date"] });
beforeEach(() => {
  vi.setSystemTime(START);
});

// ---------------------------------------------------------------------------
// Generators: what a caller sends, paired with what the contract says is stored.

type Who = "owner" | "service";
type LinkKind = "pr" | "github_issue" | "commit";
type Target = { targetRepo: string; targetBranch: string };
type TargetCase = { sent: Target; stored: Target };
type LinkCase = { kind: LinkKind; sent: string; stored: string };

/** Non-blank text within `maxChars`, sometimes exactly at the limit, kept as given. */
function nonBlankText(maxChars: number) {
  return fc
    .oneof(
      { arbitrary: fc.string({ minLength: 1, maxLength: 40 }), weight: 4 },
      { arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }), weight: 4 },
      { arbitrary: fc.string({ minLength: maxChars, maxLength: maxChars }), weight: 1 },
    )
    .filter((text) => text.trim().length > 0 && text.length <= maxChars);
}

const prompt = fc.oneof(
  { arbitrary: nonBlankText(400), weight: 9 },
  // Exactly LIMITS.promptBytes of UTF-8: "é" is two bytes.
  { arbitrary: fc.constant("é".repeat(LIMITS.promptBytes / 2)), weight: 1 },
);

const padding = fc.constantFrom("", "", " ", "\t", " \n");

/** Upper-cases the letters of `text` where the mask says so, lower-cases the rest. */
function spellCase(text: string, mask: boolean[]): string {
  return [...text]
    .map((char, i) => (mask[i % mask.length] ? char.toUpperCase() : char.toLowerCase()))
    .join("");
}
const caseMask = fc.array(fc.boolean(), { minLength: 1, maxLength: 32 });

// Arg names from [a-z0-9_.-]: index order is then plain code-unit order.
const NAME_CHARS = [..."abcdefghijklmnopqrstuvwxyz0123456789_.-"];
const argName = fc.oneof(
  { arbitrary: fc.constantFrom("a", "b", "retries", "x.y", "_z", "a-1"), weight: 4 },
  { arbitrary: fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 12 }), weight: 4 },
  {
    arbitrary: fc.string({
      unit: fc.constantFrom(...NAME_CHARS),
      minLength: LIMITS.argNameChars,
      maxLength: LIMITS.argNameChars,
    }),
    weight: 1,
  },
);

/**
 * Whether every object field name survives the wire: printable ASCII, not
 * starting with `$` (Convex reserves it), and not `__proto__`, which
 * convex/values' jsonToConvex drops (it assigns fields with `out[k] = ...`)
 * before any code of this backend runs.
 */
function hasWireSafeFieldNames(value: unknown): boolean {
  if (Array.isArray(value)) {
    return value.every(hasWireSafeFieldNames);
  }
  if (value !== null && typeof value === "object") {
    return Object.entries(value).every(
      ([field, inner]) =>
        /^[\x20-\x7e]*$/.test(field) &&
        !field.startsWith("$") &&
        field !== "__proto__" &&
        hasWireSafeFieldNames(inner),
    );
  }
  return true;
}

const fieldName = fc.string({ maxLength: 8 }).filter((field) => hasWireSafeFieldNames({ [field]: 0 }));
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });

/** Any Convex value: JSON values (with -0), int64 bigints, special floats, nested. */
const { argValue } = fc.letrec<{ argValue: Value }>((tie) => ({
  argValue: fc.oneof(
    { depthSize: "small", maxDepth: 3 },
    fc.jsonValue({ maxDepth: 2 }).filter(hasWireSafeFieldNames) as fc.Arbitrary<Value>,
    int64,
    // Values that differ only in kind or sign, so that overwrites between them are exercised.
    fc.constantFrom<Value>(0, -0, 0n, 1, 1n, "", "0", null, false),
    fc.double(),
    fc.array(tie("argValue"), { maxLength: 4 }),
    fc.dictionary(fieldName, tie("argValue"), { maxKeys: 4, noNullPrototype: true }),
  ),
}));

// GitHub owners: letters, digits, inner hyphens. Repository names: [A-Za-z0-9._-], not "." or "..".
const owner = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,12}[A-Za-z0-9])?$/);
const repo = fc
  .stringMatching(/^[A-Za-z0-9._-]{1,16}$/)
  .filter((name) => name !== "." && name !== ".." && !/\.git$/i.test(name));

/** A github.com repository in one of the spellings people paste; stored as lower-case owner/name. */
const githubRepo = fc
  .record({
    owner,
    repo,
    form: fc.constantFrom("owner/name", "https", "scp-ssh", "ssh-url", "git"),
    scheme: fc.constantFrom("https://", "http://", ""),
    www: fc.boolean(),
    dotGit: fc.boolean(),
    trailingSlash: fc.boolean(),
    hostCase: caseMask,
    before: padding,
    after: padding,
  })
  .map((spelling) => {
    const host = spellCase("github.com", spelling.hostCase);
    const path = `${spelling.owner}/${spelling.repo}${spelling.dotGit ? ".git" : ""}`;
    const written = {
      "owner/name": path,
      https: `${spelling.scheme}${spelling.www ? "www." : ""}${host}/${path}${spelling.trailingSlash ? "/" : ""}`,
      "scp-ssh": `git@${host}:${path}`,
      "ssh-url": `ssh://git@${host}/${path}`,
      git: `git://${host}/${path}`,
    }[spelling.form];
    return {
      sent: `${spelling.before}${written}${spelling.after}`,
      stored: `${spelling.owner}/${spelling.repo}`.toLowerCase(),
    };
  });

/** A repository that is not on github.com: stored as given, without surrounding whitespace. */
const otherRepo = fc
  .tuple(
    fc.oneof(
      repo.map((name) => `/srv/git/${name}`),
      repo.map((name) => `./checkouts/${name}`),
      fc.tuple(owner, repo).map(([o, name]) => `https://gitlab.com/${o}/${name}.git`),
      fc.tuple(owner, repo).map(([o, name]) => `git@bitbucket.org:${o}/${name}.git`),
      fc.constant(`/${"x".repeat(LIMITS.repoChars - 1)}`),
    ),
    padding,
    padding,
  )
  .map(([written, before, after]) => ({ sent: `${before}${written}${after}`, stored: written }));

/** A branch, sometimes as a full ref; stored without `refs/heads/` and surrounding whitespace. */
const branch = fc
  .tuple(
    fc
      .stringMatching(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,24}$/)
      .filter((name) => !name.startsWith("refs/heads/")),
    fc.boolean(),
    padding,
    padding,
  )
  .map(([name, asRef, before, after]) => ({
    sent: `${before}${asRef ? "refs/heads/" : ""}${name}${after}`,
    stored: name,
  }));

const target: fc.Arbitrary<TargetCase> = fc
  .tuple(fc.oneof({ arbitrary: githubRepo, weight: 3 }, { arbitrary: otherRepo, weight: 1 }), branch)
  .map(([targetRepo, targetBranch]) => ({
    sent: { targetRepo: targetRepo.sent, targetBranch: targetBranch.sent },
    stored: { targetRepo: targetRepo.stored, targetBranch: targetBranch.stored },
  }));

// Links come from a small pool as well as at random, so that the same issue,
// pull request or commit is added again in another spelling.
const linkOwner = fc.oneof(fc.constantFrom("acme", "octo-org"), owner.map((o) => o.toLowerCase()));
const linkRepo = fc.oneof(fc.constantFrom("api", "web.app"), repo.map((name) => name.toLowerCase()));

const webLink: fc.Arbitrary<LinkCase> = fc
  .record({
    kind: fc.constantFrom("pr" as const, "github_issue" as const),
    host: fc.constantFrom("github.com", "github.example.com"),
    owner: linkOwner,
    repo: linkRepo,
    number: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9_999_999_999 })),
    mask: caseMask,
    trailingSlash: fc.boolean(),
    before: padding,
    after: padding,
  })
  .map((link) => {
    const segment = link.kind === "pr" ? "pull" : "issues";
    const place = `${link.host}/${link.owner}/${link.repo}`;
    const written = `https://${spellCase(place, link.mask)}/${segment}/${link.number}${link.trailingSlash ? "/" : ""}`;
    return {
      kind: link.kind,
      sent: `${link.before}${written}${link.after}`,
      stored: `https://${place}/${segment}/${link.number}`,
    };
  });

const commitLink: fc.Arbitrary<LinkCase> = fc
  .record({
    sha: fc.oneof(
      fc.constantFrom("0123456789abcdef0123456789abcdef01234567", "fedcba9876543210fedcba9876543210fedcba98"),
      fc.stringMatching(/^[0-9a-f]{40}$/),
    ),
    mask: caseMask,
    before: padding,
    after: padding,
  })
  .map((commit) => ({
    kind: "commit" as const,
    sent: `${commit.before}${spellCase(commit.sha, commit.mask)}${commit.after}`,
    stored: commit.sha,
  }));

const link = fc.oneof({ arbitrary: webLink, weight: 2 }, { arbitrary: commitLink, weight: 1 });

const newOrder = fc.record({
  workflowType: nonBlankText(LIMITS.workflowTypeChars),
  prompt,
  title: nonBlankText(LIMITS.titleChars),
  status: fc.constantFrom(undefined, "draft" as const, "submitted" as const),
  creator: fc.oneof(
    fc.record({ who: fc.constant("owner" as const) }),
    fc.record({
      who: fc.constant("service" as const),
      requestedBy: fc.option(nonBlankText(LIMITS.identifierChars), { nil: undefined }),
    }),
  ),
  args: fc.uniqueArray(fc.record({ name: argName, value: argValue }), {
    selector: (arg) => arg.name,
    maxLength: 6,
  }),
  target: fc.option(target, { nil: undefined }),
});

const who = fc.constantFrom<Who>("owner", "service");
const operation = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant("upsertArg" as const),
      order: fc.nat(),
      by: who,
      // An existing name (picked by index) or `name`; then the name's value sent
      // again, its twin, or `value`.
      existingName: fc.boolean(),
      nameIndex: fc.nat(),
      name: argName,
      valueChoice: fc.constantFrom("again" as const, "twin" as const, "new" as const),
      value: argValue,
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant("upsertTarget" as const), order: fc.nat(), by: who, target }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("addLink" as const), order: fc.nat(), by: who, link }), weight: 3 },
);

const scenario = fc.record({
  owner: fc.constantFrom("alice", "slack:T024BE7LD:U0G9QF9C6", "auth0|5f7c8ec7c33c6c004bbafe82"),
  orders: fc.array(newOrder, { minLength: 1, maxLength: 3 }),
  operations: fc.array(operation, { maxLength: 25 }),
});

// ---------------------------------------------------------------------------
// The model: what workOrders:get must return, built without the code under test.

type ExpectedOrder = {
  _id: Id<"work_orders">;
  sessionId: Id<"chat_sessions">;
  workflowType: string;
  prompt: string;
  title: string;
  status: "draft" | "submitted";
  requestedBy: string;
  createdAt: number;
  updatedAt: number;
  args: Map<string, Value>;
  argIds: Map<string, Id<"work_order_args">>;
  target: Target | null;
  targetId: Id<"work_order_targets"> | null;
  links: { kind: LinkKind; value: string; linkId: Id<"work_order_links"> }[];
};

/** An arg, target or link change moves the order's updatedAt at most once a minute (docs/contract.md#trust-boundary). */
function touch(order: { updatedAt: number }, at: number) {
  if (at - order.updatedAt >= TOUCH_INTERVAL_MS) {
    order.updatedAt = at;
  }
}

/** Convex value equality: -0 is not 0, 1n is not 1, NaN is NaN, field order does not matter. */
function sameConvexValue(a: Value, b: Value): boolean {
  if (typeof a === "number" && typeof b === "number") {
    return Object.is(a, b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => sameConvexValue(item, b[i]))
    );
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const aFields = Object.keys(a);
    const bFields = Object.keys(b as object);
    return (
      aFields.length === bFields.length &&
      aFields.every(
        (field) =>
          Object.hasOwn(b, field) &&
          sameConvexValue(
            (a as Record<string, Value>)[field],
            (b as Record<string, Value>)[field],
          ),
      )
    );
  }
  return a === b;
}

/**
 * A different Convex value that JSON would print the same (0 and -0, 3 and
 * 3n, also inside arrays and objects), or undefined when there is none.
 */
function twinOf(value: Value): Value | undefined {
  if (typeof value === "number") {
    if (Object.is(value, 0)) return -0;
    if (Object.is(value, -0)) return 0;
    return Number.isSafeInteger(value) ? BigInt(value) : undefined;
  }
  if (typeof value === "bigint") {
    return BigInt(Number(value)) === value ? Number(value) : undefined;
  }
  if (Array.isArray(value)) {
    const i = value.findIndex((item) => twinOf(item) !== undefined);
    return i < 0 ? undefined : value.map((item, j) => (j === i ? (twinOf(item) as Value) : item));
  }
  if (value !== null && typeof value === "object" && !(value instanceof ArrayBuffer)) {
    const fields = value as Record<string, Value>;
    const field = Object.keys(fields).find((key) => twinOf(fields[key]) !== undefined);
    return field === undefined ? undefined : { ...fields, [field]: twinOf(fields[field]) as Value };
  }
  return undefined;
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function expectedGet(order: ExpectedOrder) {
  return {
    _id: order._id,
    _creationTime: expect.any(Number),
    sessionId: order.sessionId,
    workflowType: order.workflowType,
    prompt: order.prompt,
    title: order.title,
    status: order.status,
    requestedBy: order.requestedBy,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
    args: [...order.args.keys()].sort(byCodeUnits).map((name) => ({ name, value: order.args.get(name) })),
    target: order.target,
    links: order.links.map(({ kind, value }) => ({ kind, value })),
  };
}

type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

async function writeAndReadBack(input: Scenario) {
  const t = newBackend();
  let now = START;
  const tick = () => {
    now += TICK_MS;
    vi.setSystemTime(now);
    return now;
  };
  vi.setSystemTime(now);
  const caller = (by: Who) => (by === "owner" ? asUser(t, input.owner) : asService(t));

  const sessionId = await caller("owner").mutation(api.chatSessions.create, { title: "Lossless" });
  const orders: ExpectedOrder[] = [];
  for (const spec of input.orders) {
    const createdAt = tick();
    const requestedBy = spec.creator.who === "service" ? spec.creator.requestedBy : undefined;
    const workOrderId = await caller(spec.creator.who).mutation(api.workOrders.create, {
      sessionId,
      workflowType: spec.workflowType,
      prompt: spec.prompt,
      title: spec.title,
      status: spec.status,
      requestedBy,
      args: spec.args,
      target: spec.target?.sent,
    });
    orders.push({
      _id: workOrderId,
      sessionId,
      workflowType: spec.workflowType,
      prompt: spec.prompt,
      title: spec.title,
      status: spec.status ?? "submitted",
      requestedBy: requestedBy ?? input.owner,
      createdAt,
      updatedAt: createdAt,
      args: new Map(spec.args.map(({ name, value }) => [name, value])),
      argIds: new Map(),
      target: spec.target?.stored ?? null,
      targetId: null,
      links: [],
    });
  }

  for (const step of input.operations) {
    const at = tick();
    const order = orders[step.order % orders.length];
    const workOrderId = order._id;
    if (step.op === "upsertArg") {
      const existing = [...order.args.keys()].sort(byCodeUnits);
      const name =
        step.existingName && existing.length > 0
          ? existing[step.nameIndex % existing.length]
          : step.name;
      const previous = order.args.get(name);
      const value =
        (previous !== undefined && step.valueChoice === "again" ? previous : undefined) ??
        (previous !== undefined && step.valueChoice === "twin" ? twinOf(previous) : undefined) ??
        step.value;
      const argId = await caller(step.by).mutation(api.workOrderArgs.upsert, { workOrderId, name, value });
      expect(argId, `arg ${name} keeps its row`).toBe(order.argIds.get(name) ?? argId);
      order.argIds.set(name, argId);
      if (previous === undefined || !sameConvexValue(previous, value)) {
        order.args.set(name, value);
        touch(order, at);
      }
    } else if (step.op === "upsertTarget") {
      const targetId = await caller(step.by).mutation(api.workOrderTargets.upsert, {
        workOrderId,
        ...step.target.sent,
      });
      expect(targetId, "the target keeps its row").toBe(order.targetId ?? targetId);
      order.targetId = targetId;
      const stored = step.target.stored;
      if (
        order.target?.targetRepo !== stored.targetRepo ||
        order.target.targetBranch !== stored.targetBranch
      ) {
        order.target = stored;
        touch(order, at);
      }
    } else {
      const { kind, sent, stored } = step.link;
      const linkId = await caller(step.by).mutation(api.workOrderLinks.add, { workOrderId, kind, value: sent });
      const known = order.links.find((row) => row.kind === kind && row.value === stored);
      if (known === undefined) {
        expect(
          orders.flatMap((other) => other.links.map((row) => row.linkId)),
          `${kind} ${sent} is a new link`,
        ).not.toContain(linkId);
        order.links.push({ kind, value: stored, linkId });
        touch(order, at);
      } else {
        expect(linkId, `${kind} ${sent} was linked before`).toBe(known.linkId);
      }
    }
  }

  for (const order of orders) {
    const expected = expectedGet(order);
    expect(await caller("service").query(api.workOrders.get, { workOrderId: order._id })).toEqual(expected);
    expect(await caller("owner").query(api.workOrders.get, { workOrderId: order._id })).toEqual(expected);
  }
}

describe("workOrders:get returns exactly what was written", () => {
  test("a work order written piecewise reads back canonical: args by name, last target, each link once in order", async () => {
    const t = newBackend();
    const alice = asUser(t, "alice");
    const sessionId = await alice.mutation(api.chatSessions.create, { title: "Ship SSO" });

    vi.setSystemTime(START + 1000);
    const workOrderId = await asService(t).mutation(api.workOrders.create, {
      sessionId,
      workflowType: "codex-implement",
      prompt: "  Make the login page accept SSO.  ",
      title: "SSO login",
      status: "draft",
      args: [
        { name: "retries", value: 3n },
        { name: "flags", value: { dryRun: true, depth: -0 } },
      ],
      target: { targetRepo: "https://github.com/Acme/Api.git", targetBranch: "refs/heads/main" },
    });

    vi.setSystemTime(START + 2000);
    const retriesId = await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "retries", value: 5n });
    await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "alpha", value: [1.5, null, "x"] });
    vi.setSystemTime(START + 3000);
    await alice.mutation(api.workOrderTargets.upsert, {
      workOrderId,
      targetRepo: " git@github.com:Acme/Web.git ",
      targetBranch: "feature/sso",
    });
    vi.setSystemTime(START + 4000);
    const prId = await alice.mutation(api.workOrderLinks.add, {
      workOrderId,
      kind: "pr",
      value: "https://GitHub.com/Acme/Web/pull/12/",
    });
    await alice.mutation(api.workOrderLinks.add, {
      workOrderId,
      kind: "commit",
      value: "0123456789ABCDEF0123456789ABCDEF01234567",
    });
    await alice.mutation(api.workOrderLinks.add, {
      workOrderId,
      kind: "github_issue",
      value: "https://github.com/acme/web/issues/7",
    });
    // Written again, in other spellings or with the same value, a minute later: no change at all.
    vi.setSystemTime(START + 60_000);
    expect(
      await alice.mutation(api.workOrderLinks.add, {
        workOrderId,
        kind: "pr",
        value: "https://github.com/acme/web/pull/12",
      }),
    ).toBe(prId);
    expect(
      await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "retries", value: 5n }),
    ).toBe(retriesId);
    await alice.mutation(api.workOrderTargets.upsert, {
      workOrderId,
      targetRepo: "acme/web",
      targetBranch: "feature/sso",
    });

    expect(await alice.query(api.workOrders.get, { workOrderId })).toEqual({
      _id: workOrderId,
      _creationTime: expect.any(Number),
      sessionId,
      workflowType: "codex-implement",
      prompt: "  Make the login page accept SSO.  ",
      title: "SSO login",
      status: "draft",
      requestedBy: "alice",
      createdAt: START + 1000,
      // The arg, target and link changes came within a minute of its creation.
      updatedAt: START + 1000,
      args: [
        { name: "alpha", value: [1.5, null, "x"] },
        { name: "flags", value: { dryRun: true, depth: -0 } },
        { name: "retries", value: 5n },
      ],
      target: { targetRepo: "acme/web", targetBranch: "feature/sso" },
      links: [
        { kind: "pr", value: "https://github.com/acme/web/pull/12" },
        { kind: "commit", value: "0123456789abcdef0123456789abcdef01234567" },
        { kind: "github_issue", value: "https://github.com/acme/web/issues/7" },
      ],
    });
  });

  test("values JSON prints alike are different values: 3n overwrites 3, -0 overwrites 0, and read back as written", async () => {
    const t = newBackend();
    const alice = asUser(t, "alice");
    const sessionId = await alice.mutation(api.chatSessions.create, { title: "Int64 and floats" });
    const workOrderId = await alice.mutation(api.workOrders.create, {
      sessionId,
      workflowType: "codex-implement",
      prompt: "Count to three.",
      title: "Counting",
      args: [
        { name: "count", value: 3 },
        { name: "offset", value: 0 },
        { name: "nested", value: { at: [1n, 0] } },
      ],
    });
    vi.setSystemTime(START + 1000);
    await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "count", value: 3n });
    await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "offset", value: -0 });
    await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "nested", value: { at: [1, -0] } });

    const order = await alice.query(api.workOrders.get, { workOrderId });
    expect(order?.args).toEqual([
      { name: "count", value: 3n },
      { name: "nested", value: { at: [1, -0] } },
      { name: "offset", value: -0 },
    ]);
    expect(order?.updatedAt).toBe(START);
  });

  test("for any sequence of creates, upserts and link adds, get returns the model's args, target, links and fields (property)", async () => {
    console.log(`lossless property: seed=${SEED} numRuns=${NUM_RUNS} (rerun with FC_SEED=${SEED})`);
    await fc.assert(fc.asyncProperty(scenario, writeAndReadBack), { numRuns: NUM_RUNS, seed: SEED });
  });
});
