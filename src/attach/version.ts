/**
 * Vector reports its version as `"0.54.0 (x86_64-unknown-linux-gnu 2b8b875 2026-03-01)"`
 * (GraphQL `versionString`, gRPC `version`); bundles and comparisons want the
 * semver alone.
 */
const SEMVER = /\bv?(\d+\.\d+\.\d+(?:-[0-9A-Za-z][0-9A-Za-z.-]*)?)/

/** The first semver in the string, or null when there is none. */
export function parseVersion(versionString: string | null | undefined): string | null {
  if (!versionString) return null
  return SEMVER.exec(versionString)?.[1] ?? null
}
