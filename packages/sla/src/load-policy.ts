import { readFile } from 'node:fs/promises';
import { DEFAULT_POLICY } from './default-policy.ts';
import { parsePolicy, type Policy } from './policy.ts';

/**
 * The policy file named by GD_SLA_POLICY, validated (PolicyError names file, rule and field); unset →
 * the built-in DEFAULT_POLICY. grid-routing and sla-timer read the same file, so they read it one way.
 */
export async function loadPolicy(path: string | undefined): Promise<Policy> {
  if (!path) return DEFAULT_POLICY;
  return parsePolicy(await readFile(path, 'utf8'), path);
}
