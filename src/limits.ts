/**
 * Size limits on caller-supplied values. They sit well below Convex's own
 * limits (1 MiB per document, 8 MiB per function argument) so that an
 * oversized value is refused with INVALID_ARGUMENT and a message naming the
 * field, instead of failing deep inside the database.
 */
export const LIMITS = {
  titleChars: 200,
  identifierChars: 256,
  workflowTypeChars: 200,
  promptBytes: 256 * 1024,
  contentBytes: 256 * 1024,
  argNameChars: 128,
  argsPerWorkOrder: 100,
  valueBytes: 64 * 1024,
  reasonChars: 2000,
  linkValueChars: 2048,
  repoChars: 512,
  branchChars: 255,
} as const;
