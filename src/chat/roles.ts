import { literals } from "convex-helpers/validators";
import type { Infer } from "convex/values";

export const CHAT_ROLES = ["user", "assistant", "system"] as const;
export const vChatRole = literals(...CHAT_ROLES);
export type ChatRole = Infer<typeof vChatRole>;
