import type { TestConvex } from "convex-test";
import type { TableNames } from "../../../convex/_generated/dataModel";
import schema from "../../../convex/schema";
import { signedRequest, type Fixture } from "../send";
import { DEMO_SETTINGS } from "./settings";

/** The demo's steps, each with what it changed: run, record, print. */

export type DemoBackend = TestConvex<typeof schema>;

export type DemoStep = {
  actor: string;
  request: string;
  detail?: string;
  answer: string;
  /** Requests the deployment made to Temporal, Slack and Jangar's server during the step. */
  calls: string[];
  /** Documents inserted, changed and removed, per table. */
  records: string;
  status: string;
};

type Tables = Map<string, Map<string, string>>;

async function everyDocument(t: DemoBackend): Promise<Tables> {
  const tables = await t.run(async (ctx) => {
    const documents: Record<string, [string, string][]> = {};
    for (const table of Object.keys(schema.tables) as TableNames[]) {
      documents[table] = (await ctx.db.query(table).collect()).map((document) => [document._id, JSON.stringify(document)]);
    }
    return documents;
  });
  return new Map(Object.entries(tables).map(([table, documents]) => [table, new Map(documents)]));
}

/** `chat_sessions +1, work_orders ~1`: what changed between two snapshots. */
function writes(before: Tables, after: Tables): string {
  const parts: string[] = [];
  for (const [table, documents] of after) {
    const previous = before.get(table) ?? new Map<string, string>();
    const added = [...documents.keys()].filter((id) => !previous.has(id)).length;
    const changed = [...documents].filter(([id, json]) => previous.has(id) && previous.get(id) !== json).length;
    const removed = [...previous.keys()].filter((id) => !documents.has(id)).length;
    const counts = [added && `+${added}`, changed && `~${changed}`, removed && `-${removed}`].filter(Boolean).join(" ");
    if (counts) parts.push(`${table} ${counts}`);
  }
  return parts.length > 0 ? parts.join(", ") : "nothing";
}

/** A webhook delivery's answer, short. */
async function answered(response: Response): Promise<string> {
  return `${response.status} ${(await response.text()).slice(0, 120)}`;
}

export type Timeline = {
  steps: DemoStep[];
  /** One step: run it, let whatever it scheduled run (processing, the launch), then see what changed. */
  step: (actor: string, request: string, detail: string | undefined, act: () => Promise<string>, options?: { settle?: boolean }) => Promise<void>;
  /** Posts a fixture to its route, signed with the deployment's secret, as its sender would. */
  deliver: (delivery: Fixture, id?: string) => Promise<string>;
};

/**
 * The steps of a run on `t`: `calls` collects the requests the deployment
 * makes, `statusNow` says where the journey stands, `report` hears of each
 * step as it is taken.
 */
export function timeline(t: DemoBackend, calls: string[], statusNow: () => Promise<string>, report: (step: DemoStep) => void): Timeline {
  const steps: DemoStep[] = [];
  const step: Timeline["step"] = async (actor, request, detail, act, { settle = true } = {}) => {
    const before = await everyDocument(t);
    calls.length = 0;
    const answer = await act();
    if (settle) {
      await t.finishAllScheduledFunctions(() => {});
    }
    const taken: DemoStep = { actor, request, detail, answer, calls: [...calls], records: writes(before, await everyDocument(t)), status: await statusNow() };
    steps.push(taken);
    report(taken);
  };
  const deliver: Timeline["deliver"] = async (delivery, id = crypto.randomUUID()) => {
    const secrets = { github: DEMO_SETTINGS.GITHUB_WEBHOOK_SECRET, slack: DEMO_SETTINGS.SLACK_SIGNING_SECRET, events: DEMO_SETTINGS.EVENTS_WEBHOOK_SECRET };
    const { path, init } = await signedRequest({ fixture: delivery, id }, secrets[delivery.source], Date.now());
    return await answered(await t.fetch(path, init));
  };
  return { steps, step, deliver };
}

/**
 * Waits, in real time, until every Slack post queued is sent: the outbox
 * paces a channel's posts a second apart, so the card's last edit goes out
 * about a second after the one before. Bounded, so a demo never hangs.
 */
export async function untilOutboxIsSent(t: DemoBackend, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  const pending = async () =>
    await t.run(async (ctx) => {
      for (const status of ["queued", "sending"] as const) {
        if ((await ctx.db.query("outbox").withIndex("by_status_finishedAt", (q) => q.eq("status", status)).first()) !== null) {
          return true;
        }
      }
      return false;
    });
  while ((await pending()) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    await t.finishAllScheduledFunctions(() => {});
  }
}

/** The timeline as printed: one block per step. */
export function formatStep(step: DemoStep, index: number): string[] {
  const number = String(index + 1).padStart(2);
  return [
    `${number}  ${step.actor} → ${step.request}`,
    ...(step.detail ? [`    ${step.detail}`] : []),
    `    ← ${step.answer}`,
    ...step.calls.map((call) => `    ↪ ${call}`),
    `    wrote  ${step.records}`,
    `    now    ${step.status}`,
    "",
  ];
}
