/**
 * Size limits on caller-supplied values. They sit well below Convex's own
 * limits (below) so that an oversized value is refused with INVALID_ARGUMENT
 * and a message naming the field, instead of failing deep inside the database.
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

const MiB = 1024 * 1024;

/**
 * What Convex's backend refuses (docs.convex.dev/production/state/limits, and
 * the constants of get-convex/convex-backend named beside each). Sizes are
 * Convex's own measure of a value (`getConvexSize` in convex/values); nesting
 * counts objects and arrays: a scalar is 0, `[]` is 1, `[[1]]` is 2.
 */
export const CONVEX_LIMITS = {
  /** MAX_USER_SIZE: a document, `_id` and `_creationTime` included. */
  documentBytes: MiB,
  /** MAX_DOCUMENT_NESTING: the document itself is one level. */
  documentNesting: 16,
  /** MAX_NESTING: any value, e.g. a function's arguments or result. */
  valueNesting: 64,
  /** MAX_OBJECT_FIELDS, for the document and every object in it. */
  objectFields: 1024,
  /** MAX_ARRAY_LEN. */
  arrayElements: 8192,
  /** MAX_FIELD_NAME_LENGTH of a nested object's key. */
  fieldNameChars: 1024,
  /** FUNCTION_MAX_ARGS_SIZE, measured on the positional array `[args]`. */
  functionArgsBytes: 16 * MiB,
  /** FUNCTION_MAX_RESULT_SIZE. */
  functionResultBytes: 16 * MiB,
  /** HTTP_ACTION_BODY_LIMIT (20 << 20), for an HTTP action's request body and its response. */
  httpBodyBytes: 20 * MiB,
} as const;
