/**
 * Kubernetes resource quantities, parsed just far enough to compare a request with its limit.
 * The grammar is the API server's (k8s.io/apimachinery resource.Quantity), limited to the
 * suffixes people write in practice; anything else is refused by the schema before it gets here.
 */

const binarySuffixes: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const decimalSuffixes: Record<string, number> = { m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A CPU quantity: whole or fractional cores (`0.5`, `2`) or millicores (`250m`). */
export const cpuPattern = /^(?:[0-9]+m|[0-9]+(?:\.[0-9]{1,3})?)$/;

/** A byte quantity: plain bytes or with a binary (`Ki`…`Ti`) or decimal (`k`…`T`) suffix. */
export const bytesPattern = /^[0-9]+(?:Ki|Mi|Gi|Ti|k|M|G|T)?$/;

/** Converts a quantity that matched one of the patterns above into a plain number. */
export function quantityValue(quantity: string): number {
  const match = /^([0-9.]+)([A-Za-z]*)$/.exec(quantity);
  if (!match) {
    throw new Error(`not a quantity: ${quantity}`);
  }
  const [, digits, suffix] = match as unknown as [string, string, string];
  const factor = binarySuffixes[suffix] ?? decimalSuffixes[suffix];
  if (factor === undefined) {
    throw new Error(`unknown quantity suffix in ${quantity}`);
  }
  return Number(digits) * factor;
}
