// @vitest-environment node
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { STANDARD_EVENTS } from "../../src/sources/events/standardEvents";
import { GITHUB_EVENTS } from "../../src/sources/github/events";

/*
 * The documentation a newcomer reads first: a short README, the contract in
 * the repository, and links that lead somewhere.
 */

const PAGES = ["README.md", ...readdirSync("docs").filter((file) => file.endsWith(".md")).map((file) => `docs/${file}`)];
const read = (file: string) => readFileSync(file, "utf8");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

function anchorsOf(file: string): Set<string> {
  const headings = [...read(file).matchAll(/^#{1,6} (.+)$/gm)].map((match) => slug(match[1]));
  return new Set(headings);
}

/** Every file of the repository's own text (not dependencies, not build output). */
function repositoryFiles(dir = "."): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if ([".git", "node_modules", "build"].includes(entry)) return [];
    if (statSync(path).isDirectory()) return repositoryFiles(path);
    return /\.(ts|mjs|js|json|md|example|yaml|yml)$|^run$/.test(entry) ? [path] : [];
  });
}

describe("first contact: the README and the docs", () => {
  test("the README stays a front door: at most 150 lines", () => {
    expect(read("README.md").split("\n").length).toBeLessThanOrEqual(150);
  });

  test("every page of docs/ is linked from the README", () => {
    const readme = read("README.md");
    for (const page of PAGES.filter((page) => page !== "README.md")) {
      expect(readme, page).toContain(`](${page})`);
    }
  });

  test.each(PAGES)("every relative link in %s leads to a file of the repository, and to a heading there", (page) => {
    const broken: string[] = [];
    for (const [, target] of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split("#");
      const file = path === "" ? page : resolve(dirname(page), path);
      if (relative(process.cwd(), file).startsWith("..") || !existsSync(file)) {
        broken.push(`${target}: no such file in the repository`);
      } else if (anchor !== undefined && file.endsWith(".md") && !anchorsOf(file).has(anchor)) {
        broken.push(`${target}: no heading #${anchor}`);
      }
    }
    expect(broken).toEqual([]);
  });

  test("nothing in the repository points outside it for the contract", () => {
    const outside = ["../" + "shared", "CONTRACT" + ".md"];
    const offending = repositoryFiles().filter((file) => outside.some((text) => read(file).includes(text)));
    expect(offending).toEqual([]);
  });

  test("every contract anchor the code cites (`docs/contract.md#…`) is a heading the contract has", () => {
    const anchors = anchorsOf("docs/contract.md");
    const cited = repositoryFiles()
      .filter((file) => /\.(ts|mjs)$/.test(file))
      .flatMap((file) => [...read(file).matchAll(/docs\/contract\.md#([\w-]+)/g)].map((match) => ({ file, anchor: match[1] })));
    expect(cited.length).toBeGreaterThan(30);
    const missing = cited.filter(({ anchor }) => !anchors.has(anchor)).map(({ file, anchor }) => `${file}: #${anchor}`);
    expect(missing).toEqual([]);
  });

  test("a `docs/contract.md section N` in the code names a section the contract has", () => {
    const sections = new Set([...read("docs/contract.md").matchAll(/^## (\d)\. /gm)].map((match) => Number(match[1])));
    expect([...sections]).toEqual([1, 2, 3, 4, 5, 6]);
    const cited = repositoryFiles()
      .filter((file) => /\.(ts|mjs)$/.test(file))
      .flatMap((file) => [...read(file).matchAll(/docs\/contract\.md sections? ([\d\s,and-]+)/g)].map((match) => ({ file, numbers: match[1] })));
    for (const { file, numbers } of cited) {
      for (const number of numbers.match(/\d+/g) ?? []) {
        expect(sections.has(Number(number)), `${file} cites section ${number}`).toBe(true);
      }
    }
  });

  test.each([
    ["X-GitHub-Event", Object.keys(GITHUB_EVENTS)],
    ["type", Object.keys(STANDARD_EVENTS)],
  ])("docs/webhooks.md's table of `%s` names exactly the events the sender's table reads", (column, events) => {
    const page = read("docs/webhooks.md");
    const table = page.slice(page.indexOf(`| \`${column}\` |`)).split("\n\n")[0];
    const rows = [...table.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]).slice(1);
    expect(rows).toEqual(events);
  });

  test.each(["docs/server.md", "docs/functions.md"])("every TypeScript snippet in %s is a file of docs/examples/, which the typecheck compiles", (page) => {
    const blocks = [...read(page).matchAll(/(?:<!-- included from (\S+) -->\n)?```ts\n([\s\S]*?)```/g)];
    expect(blocks.length).toBeGreaterThan(0);
    for (const [, file, snippet] of blocks) {
      expect(file, `a \`\`\`ts block of ${page} says which file it comes from`).toMatch(/^docs\/examples\/\w+\.ts$/);
      expect(snippet, `${page}'s snippet of ${file}`).toBe(read(file));
    }
    const tsconfig = read("tsconfig.json");
    expect(tsconfig).toContain('"docs/examples"');
  });

  test("every setting of the contract is in .env.example and docs/environment.md", () => {
    const contract = read("docs/contract.md");
    const section6 = contract.slice(contract.indexOf("## 6. Environment"));
    const names = new Set(section6.match(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g));
    expect(names.size).toBeGreaterThan(15);
    const example = read(".env.example");
    const environment = read("docs/environment.md");
    for (const name of names) {
      expect(example, name).toMatch(new RegExp(`^# ${name}=`, "m"));
      expect(environment, name).toContain(`\`${name}\``);
    }
  });
});
