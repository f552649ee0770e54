/**
 * EventBridge pattern matching for the subset serverless.yml uses: each key of the pattern must match; an array
 * lists the accepted values; a nested object matches the nested field.
 */
export function matchesEventPattern(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) return expected.some((v) => v === actual);
    if (expected && typeof expected === 'object') {
      return (
        actual !== null &&
        typeof actual === 'object' &&
        matchesEventPattern(expected as Record<string, unknown>, actual as Record<string, unknown>)
      );
    }
    return expected === actual;
  });
}
