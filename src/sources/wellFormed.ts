import { describeSelector, type Command, type Interpretation, type WorkOrderSelector } from "../commands";
import { isWellFormed, toWellFormed } from "../text";
import type { Delivery } from "./source";

/*
 * Strings Convex can hold (docs/contract.md#trust-boundary). A sender's
 * JSON may carry half of a surrogate pair (`"\ud800"`): valid JSON, valid
 * UTF-8 on the wire, and a string Convex refuses in a function's arguments
 * and in a document. What every source reads passes here before it leaves
 * src/, so such a string never fails a delivery: a selector holding one
 * finds nothing, any other command holding one is skipped, each with the
 * reason; text kept only to be read (a reason, an event's name) has the
 * half replaced by U+FFFD.
 *
 *   const interpretation = wellFormedInterpretation(source.interpret(stored, settings));
 */

const WHY = "is not well-formed Unicode (it has half of a surrogate pair)";

/** Where in a value the shallowest string Convex cannot hold is (`title`, `message.metadata.names[2]`), or null. Walked without recursion. */
function illFormedAt(value: unknown, root: string): string | null {
  const pending: [unknown, string][] = [[value, root]];
  for (let next = 0; next < pending.length; next += 1) {
    const [node, path] = pending[next];
    if (typeof node === "string") {
      if (!isWellFormed(node)) return path;
    } else if (Array.isArray(node)) {
      node.forEach((child, index) => pending.push([child, `${path}[${index}]`]));
    } else if (node !== null && typeof node === "object") {
      for (const [key, child] of Object.entries(node)) {
        if (!isWellFormed(key)) return `${path} (a field name)`;
        pending.push([child, path === "" ? key : `${path}.${key}`]);
      }
    }
  }
  return null;
}

/** The command without the selectors that cannot find anything, each noted once; null (noted) when what is left cannot be stored. */
function wellFormedCommand(command: Command, notes: Set<string>): Command | null {
  let checked = command;
  if ("workOrders" in command) {
    const findable = (selector: WorkOrderSelector) => illFormedAt(selector, "") === null;
    for (const selector of command.workOrders.filter((selector) => !findable(selector))) {
      notes.add(`Nothing found for ${toWellFormed(describeSelector(selector))}: it ${WHY}.`);
    }
    checked = { ...command, workOrders: command.workOrders.filter(findable) };
  }
  const at = illFormedAt(checked, "");
  if (at !== null) {
    notes.add(`The ${command.type} command is skipped: its ${at} ${WHY}.`);
    return null;
  }
  return checked;
}

/** A source's reading, every string of it one Convex can hold (see above). */
export function wellFormedInterpretation(interpretation: Interpretation): Interpretation {
  if (interpretation.kind === "ignored") {
    return { kind: "ignored", reason: toWellFormed(interpretation.reason) };
  }
  const notes = new Set((interpretation.skipped ?? []).map(toWellFormed));
  const commands: Command[] = [];
  for (const command of interpretation.commands) {
    const checked = wellFormedCommand(command, notes);
    if (checked !== null) commands.push(checked);
  }
  return notes.size > 0 ? { kind: "commands", commands, skipped: [...notes] } : { kind: "commands", commands };
}

/** What a source read of a request, as it is recorded: its names and reasons well-formed, its effects checked. */
export function wellFormedDelivery(delivery: Delivery): Delivery {
  const { event, action, ignored, atReceipt } = delivery;
  return {
    ...delivery,
    event: toWellFormed(event),
    ...(action === undefined ? {} : { action: toWellFormed(action) }),
    ...(ignored === undefined ? {} : { ignored: toWellFormed(ignored) }),
    ...(atReceipt === undefined ? {} : { atReceipt: { ...atReceipt, interpretation: wellFormedInterpretation(atReceipt.interpretation) } }),
  };
}
