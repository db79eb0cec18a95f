/**
 * Which documents each transaction writes. convex-test runs transactions one
 * at a time, so it never shows a write conflict; this records every
 * transaction's write set instead, and a document written by many
 * transactions of a burst is one that concurrent transactions would fight
 * over in production.
 *
 * It wraps the database syscalls the Convex runtime makes (`Convex.asyncSyscall`):
 * inserts, patches, replaces and deletes. A transaction's first write is the
 * one after which its metrics count one document written.
 */

const WRITES = new Set(["1.0/insert", "1.0/shallowMerge", "1.0/replace", "1.0/remove"]);

type AsyncSyscall = (op: string, jsonArgs: string) => Promise<string>;
type ConvexGlobal = { syscall: unknown; asyncSyscall: AsyncSyscall; jsSyscall: unknown };

/** The documents (`table:id`) one transaction wrote. */
export type WriteSet = Set<string>;

/**
 * Runs `burst` and returns the write set of every transaction that wrote
 * something during it. Call after the test's backend exists: convex-test
 * installs the syscall global when the first backend is made.
 */
export async function recordWriteSets(burst: () => Promise<void>): Promise<WriteSet[]> {
  const scope = globalThis as unknown as { Convex: ConvexGlobal };
  const installed = scope.Convex;
  const writeSets: WriteSet[] = [];
  scope.Convex = {
    get syscall() {
      return installed.syscall;
    },
    get jsSyscall() {
      return installed.jsSyscall;
    },
    get asyncSyscall(): AsyncSyscall {
      const inner = installed.asyncSyscall;
      return async (op, jsonArgs) => {
        const result = await inner(op, jsonArgs);
        if (WRITES.has(op)) {
          const args = JSON.parse(jsonArgs) as { table: string; id?: string };
          const id = op === "1.0/insert" ? (JSON.parse(result) as { _id: string })._id : args.id!;
          const metrics = JSON.parse(await inner("1.0/getTransactionMetrics", "{}")) as {
            documentsWritten: { used: number };
          };
          if (metrics.documentsWritten.used === 1 || writeSets.length === 0) {
            writeSets.push(new Set());
          }
          writeSets.at(-1)!.add(`${args.table}:${id}`);
        }
        return result;
      };
    },
  };
  try {
    await burst();
  } finally {
    scope.Convex = installed;
  }
  return writeSets;
}

/** How many of the transactions wrote each document, most first. */
export function writesPerDocument(writeSets: WriteSet[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const writeSet of writeSets) {
    for (const document of writeSet) {
      counts.set(document, (counts.get(document) ?? 0) + 1);
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}
