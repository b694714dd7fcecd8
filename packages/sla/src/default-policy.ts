import defaultPolicyJson from '../policies/default.json' with { type: 'json' };
import { parsePolicy, type Policy } from './policy.ts';

/**
 * The built-in policy: the published service commitments (see `policies/default.json`, which is
 * also the template for a custom `GD_SLA_POLICY` file). The office calendar carries the 2026
 * public holidays and make-up working days of the State Council notice of 4 November 2025.
 */
export const DEFAULT_POLICY: Policy = parsePolicy(defaultPolicyJson, 'policies/default.json');
