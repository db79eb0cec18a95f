/**
 * fast-check arbitraries of what a caller writes about a work order
 * (workOrders:create, workOrderArgs:upsert, workOrderTargets:upsert,
 * workOrderLinks:add), each paired with what the contract says is stored
 * (docs/contract.md#1-data-model).
 */
import fc from "fast-check";
import type { Value } from "convex/values";
import { LIMITS } from "../../../src/limits";
import type { Target } from "./crowds";

// Generators: what a caller sends, paired with what the contract says is stored.

export type Who = "owner" | "service";
export type LinkKind = "pr" | "github_issue" | "commit";
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

export const scenario = fc.record({
  owner: fc.constantFrom("alice", "slack:T024BE7LD:U0G9QF9C6", "auth0|5f7c8ec7c33c6c004bbafe82"),
  orders: fc.array(newOrder, { minLength: 1, maxLength: 3 }),
  operations: fc.array(operation, { maxLength: 25 }),
});

export type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;
