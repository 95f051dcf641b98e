/**
 * Durations as the component that reads them parses them. Prometheus' grammar (its own, and the
 * operator's CRD pattern): units from years down to milliseconds, each at most once, largest
 * first, such as `1h30m` or `15d`, and a bare `0`.
 */

const prometheusUnits = [
  ["y", 365 * 24 * 3600_000],
  ["w", 7 * 24 * 3600_000],
  ["d", 24 * 3600_000],
  ["h", 3600_000],
  ["m", 60_000],
  ["s", 1000],
  ["ms", 1],
] as const;
const prometheusPattern = new RegExp(`^${prometheusUnits.map(([unit]) => `(?:([0-9]+)${unit})?`).join("")}$`);

/** A Prometheus duration in milliseconds, or undefined when Prometheus would refuse it. */
export function prometheusMilliseconds(text: string): number | undefined {
  if (text === "0") {
    return 0;
  }
  const match = text === "" ? null : prometheusPattern.exec(text);
  if (match === null) {
    return undefined;
  }
  return prometheusUnits.reduce((total, [, ms], i) => total + Number(match[i + 1] ?? 0) * ms, 0);
}

/** Why Prometheus would refuse `text` as a duration, or undefined. */
export function prometheusDurationProblem(text: string): string | undefined {
  return prometheusMilliseconds(text) === undefined
    ? "a Prometheus duration: units y, w, d, h, m, s, ms, each at most once and largest first, such as 30s, 1h30m or 15d"
    : undefined;
}

/** A duration in Prometheus' spelling: `150000` → `2m30s`. */
export function prometheusDuration(ms: number): string {
  if (ms === 0) {
    return "0";
  }
  let left = ms;
  return prometheusUnits
    .filter(([unit]) => unit !== "y" && unit !== "w")
    .map(([unit, size]) => {
      const count = Math.floor(left / size);
      left -= count * size;
      return count > 0 ? `${count}${unit}` : "";
    })
    .join("");
}
