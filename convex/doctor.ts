import { v, type Infer } from "convex/values";
import { env, internalQuery } from "./_generated/server";
import { settingStates, type SettingState } from "../src/settings";

/*
 * `npm run doctor` (scripts/lib/doctor.ts): which of the deployment's
 * settings (docs/contract.md#6-environment) are set, missing, or malformed
 * and why. It never answers a value, nor any piece of one: an operator may
 * run it against production and paste what it prints.
 *
 *   npx convex run doctor:settings
 */

const vSettingState = v.union(
  v.object({ name: v.string(), state: v.union(v.literal("set"), v.literal("missing")) }),
  v.object({ name: v.string(), state: v.literal("malformed"), why: v.string() }),
);

export type SettingStateAnswer = Infer<typeof vSettingState>;

export const settings = internalQuery({
  args: {},
  returns: v.array(vSettingState),
  handler: async (): Promise<SettingState[]> => settingStates((name) => env[name]),
});
