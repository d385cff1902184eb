// What a schema accepts, in words, for messages that tell users what to write instead of the
// validators' generic "Expected union value" or "must match a schema in anyOf".

/** `one of a, b, c` for a union of literals (TypeBox's Type.Union of Type.Literal, or Type.Enum); otherwise undefined. */
export function allowedValues (schema: unknown): string | undefined {
  const branches = (schema as { anyOf?: unknown } | undefined)?.anyOf
  if (!Array.isArray(branches) || branches.length === 0) return undefined
  const values: unknown[] = []
  for (const branch of branches) {
    if (branch === null || typeof branch !== 'object' || !('const' in branch)) return undefined
    values.push(branch.const)
  }
  return `one of ${values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`
}
