/** kubectl against the cluster a script started (KUBECONFIG in the environment), parsed as JSON. */
import { execFileSync } from "node:child_process";
import { requiredEnv } from "./env";

requiredEnv("KUBECONFIG");

/** `kubectl get … -o json`; `undefined` when the object does not exist. */
export function get<T = any>(...args: string[]): T | undefined {
  try {
    return JSON.parse(
      execFileSync("kubectl", ["get", ...args, "-o", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 * 2 ** 20 }),
    ) as T;
  } catch (error) {
    if (String((error as { stderr?: string }).stderr).includes("NotFound")) {
      return undefined;
    }
    throw error;
  }
}

/** The items of a `kubectl get` of a list. */
export const items = (...args: string[]): any[] => get<{ items: any[] }>(...args)?.items ?? [];

/** Whether a pod's Ready condition is True. */
export const ready = (pod: any): boolean => pod.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") ?? false;
