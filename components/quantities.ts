/**
 * Kubernetes resource quantities, parsed by the API server's own grammar
 * (k8s.io/apimachinery/pkg/api/resource): a number, optionally signed and with decimals, then a
 * binary suffix (Ki…Ei), a decimal one (m, k, M, G, T, P, E) or a decimal exponent (e3, E-2).
 * One parser serves both validation and comparison.
 */

const binarySuffixes: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimalSuffixes: Record<string, number> = { m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

// The exponent form comes before the bare "E" (exa) so that "1E3" reads as 1000.
const grammar = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|m|k|M|G|T|P|E)?$/;

export interface Quantity {
  readonly value: number;
  readonly suffix: string;
}

/** The quantity `text` stands for, or undefined where the grammar does not allow it. */
export function parseQuantity(text: string): Quantity | undefined {
  const match = grammar.exec(text);
  if (!match) {
    return undefined;
  }
  const [, sign = "", digits = "", suffix = ""] = match;
  const factor = binarySuffixes[suffix] ?? decimalSuffixes[suffix] ?? 10 ** Number(suffix.slice(1));
  return { value: (sign === "-" ? -1 : 1) * Number(digits) * factor, suffix };
}

/** The value of a quantity the schema has accepted. */
export function quantityValue(text: string): number {
  const quantity = parseQuantity(text);
  if (quantity === undefined) {
    throw new Error(`not a Kubernetes quantity: ${text}`);
  }
  return quantity.value;
}

/** Why `text` is not a usable CPU amount, or undefined when it is. */
export function cpuProblem(text: string): string | undefined {
  const quantity = parseQuantity(text);
  if (quantity === undefined || quantity.value < 0) {
    return "a CPU quantity such as 100m, 0.5 or 2";
  }
  return undefined;
}

/** Why `text` is not a usable byte amount, or undefined when it is. */
export function bytesProblem(text: string): string | undefined {
  const quantity = parseQuantity(text);
  if (quantity === undefined || quantity.value < 0) {
    return "a byte quantity such as 128Mi, 1.5Gi or 1G";
  }
  if (quantity.suffix === "m") {
    // Valid to the API server, and almost always a typo: 128m is an eighth of a byte.
    return `m means thousandths: ${text} is ${quantity.value} bytes; write Mi (${text.slice(0, -1)}Mi) or M`;
  }
  return undefined;
}
