import * as corev1 from "@pulumi/kubernetes/core/v1";
import * as appsv1 from "@pulumi/kubernetes/apps/v1";
import * as networkingv1 from "@pulumi/kubernetes/networking/v1";
import * as policyv1 from "@pulumi/kubernetes/policy/v1";
import * as autoscalingv2 from "@pulumi/kubernetes/autoscaling/v2";
import * as pulumi from "@pulumi/pulumi";
import { rolloutAwait, serviceAwaitSkipped } from "../awaits";
import { isCredentialName, isCredentialValue } from "./credentials";
import platform from "./platform.json";
import { type Callee, type EgressPeer, serviceNetworkPolicy } from "./networkPolicy";
import { podScheduling, type Scheduling } from "./scheduling";
import {
  defaultPartOf,
  httpProbes,
  type Resources,
  resourceRequirements,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  selectorLabels,
  spreadConstraints,
  standardLabels,
  terminationGracePeriod,
} from "./podSpec";

/** The variable a caller gets with a callee's address: `users-api` → `USERS_API_ADDR`. */
export const addressVariable = (callee: string) => `${callee.toUpperCase().replace(/-/g, "_")}_ADDR`;

/** The variables the platform sets on every service (see `serviceEnv`); a service's own env may not. */
export const platformEnvNames: readonly string[] = Object.values(platform.variables);

export interface GoServiceArgs {
  /** Namespace the service runs in; it should enforce the "restricted" Pod Security Standard. */
  readonly namespace: pulumi.Input<string>;
  /**
   * Image to run, by digest (`repository@sha256:…`), so that an unchanged image changes nothing in
   * the cluster and a changed one always rolls out. Plain strings and Outputs are both accepted.
   */
  readonly image: pulumi.Input<string>;
  /**
   * Name of the Deployment, Service and pods' `app.kubernetes.io/name`; also the DNS name callers use.
   * @default the component's name
   */
  readonly serviceName?: string;
  /**
   * Protocol of the public port; sets the Service port's name and `appProtocol`.
   * @default "http"
   */
  readonly protocol?: "http" | "grpc";
  /**
   * Public port: the API.
   * @default 8080
   */
  readonly port?: number;
  /**
   * Operations port: `/healthz`, `/readyz` and `/metrics`.
   * @default 8081
   */
  readonly opsPort?: number;
  /**
   * pprof port, bound to the pod's loopback so only `kubectl port-forward` reaches it.
   * @default 6060
   */
  readonly debugPort?: number;
  /**
   * Fixed number of replicas; ignored when `autoscaling` is set.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * CPU-based horizontal autoscaling. The Deployment then leaves its replica count to the autoscaler.
   * @default no autoscaling
   */
  readonly autoscaling?: { readonly min: number; readonly max: number; readonly targetCpuUtilization: number };
  /**
   * Requests and limits of the container, ephemeral storage included.
   * @default 50m/32Mi/16Mi requested, 500m/128Mi/64Mi limited
   */
  readonly resources?: Resources;
  /**
   * Plain environment variables, held in an immutable ConfigMap so that a change rolls the pods.
   * Credential-looking names and values are refused: they belong in `secretEnv`.
   * @default {}
   */
  readonly env?: Record<string, string>;
  /**
   * Environment variables held in an immutable Kubernetes Secret (encrypted in Pulumi's state when
   * the values are secrets), so that a change rolls the pods as `env` does.
   * @default {}
   */
  readonly secretEnv?: Record<string, pulumi.Input<string>>;
  /**
   * Environment variables read from keys of Secrets that exist apart from the stack's config,
   * such as the credentials a database operator generates: only the reference passes through
   * Pulumi, never the value.
   * @default []
   */
  readonly secretKeyEnv?: readonly SecretKeyEnv[];
  /**
   * The application the service is part of: its pods' `app.kubernetes.io/part-of` label. The
   * services it calls and is called by are taken to be part of the same application.
   * @default "flotilla"
   */
  readonly partOf?: string;
  /**
   * Which nodes the pods may run on.
   * @default any node
   */
  readonly scheduling?: Scheduling;
  /**
   * Services this one calls: each is allowed through the network policy and handed over as
   * `<NAME>_ADDR=<name>:<port>`.
   * @default []
   */
  readonly calls?: readonly Callee[];
  /**
   * Services allowed to call this one's public port, or `"anyone"` for an exposed service.
   * @default []
   */
  readonly callers?: readonly string[] | "anyone";
  /**
   * Namespaces whose pods (Prometheus') may reach the operations port.
   * @default none: the operations port is closed to other pods
   */
  readonly opsIngressFrom?: readonly string[];
  /**
   * Destinations outside the namespace the pods may reach besides DNS and `calls`, such as a
   * trace collector.
   * @default none
   */
  readonly egress?: readonly EgressPeer[];
  /**
   * Seconds a terminating pod keeps serving after SIGTERM, not ready, while it leaves the
   * Service's endpoints, so no new request reaches a stopped process; handed to the service as
   * `DRAIN_PERIOD`. The service does the wait, not a preStop sleep, so that it can tell each
   * HTTP client to leave its kept-alive connection meanwhile.
   * @default 5
   */
  readonly drainSeconds?: number;
  /**
   * Seconds in-flight requests get after the drain; handed to the service as `SHUTDOWN_TIMEOUT`.
   * @default 20
   */
  readonly shutdownTimeoutSeconds?: number;
  /**
   * Stack environment, handed to the service as `ENVIRONMENT` for its logs.
   * @default "dev"
   */
  readonly environment?: string;
}

/** An environment variable taken from one key of an existing Secret. */
export interface SecretKeyEnv {
  readonly name: string;
  readonly secret: pulumi.Input<string>;
  readonly key: string;
}

/** The name of the operations port, on the container and the Service: what a ServiceMonitor scrapes. */
export const opsPortName = "ops";

/** Defaults of GoService, written once: the config contract and its JSON schema read them from here. */
export const goServiceDefaults = {
  protocol: "http",
  port: platform.defaults.port,
  opsPort: platform.defaults.opsPort,
  debugPort: platform.defaults.debugPort,
  replicas: 1,
  drainSeconds: 5,
  shutdownTimeoutSeconds: platform.defaults.shutdownTimeoutSeconds,
  environment: platform.defaults.environment,
  partOf: defaultPartOf,
  resources: {
    requests: { cpu: "50m", memory: "32Mi", ephemeralStorage: "16Mi" },
    limits: { cpu: "500m", memory: "128Mi", ephemeralStorage: "64Mi" },
  },
} as const satisfies { resources: Resources; protocol: NonNullable<GoServiceArgs["protocol"]>; [setting: string]: unknown };

/**
 * One Go service on Kubernetes: a Deployment under the "restricted" Pod Security Standard, its
 * Service, ServiceAccount, environment ConfigMap (and Secret), network policy, and where it runs
 * more than one replica an autoscaler and a disruption budget.
 */
export class GoService extends pulumi.ComponentResource {
  /** Name of the Service, and so the DNS name inside the namespace. */
  readonly serviceName: pulumi.Output<string>;
  /** The public port. */
  readonly port: pulumi.Output<number>;
  /** The image the pods run. */
  readonly image: pulumi.Output<string>;
  /** The Deployment, for `dependsOn` and for reading its status. */
  readonly deployment: appsv1.Deployment;
  /** The Service callers reach it through. */
  readonly service: corev1.Service;

  constructor(name: string, args: GoServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:apps:GoService", name, {}, opts);
    const d = goServiceDefaults;
    const serviceName = args.serviceName ?? name;
    const protocol = args.protocol ?? d.protocol;
    const port = args.port ?? d.port;
    const opsPort = args.opsPort ?? d.opsPort;
    const debugPort = args.debugPort ?? d.debugPort;
    const drainSeconds = args.drainSeconds ?? d.drainSeconds;
    const shutdownTimeoutSeconds = args.shutdownTimeoutSeconds ?? d.shutdownTimeoutSeconds;
    const calls = args.calls ?? [];
    const problems = [
      ...envProblems({ env: args.env ?? {}, secretEnv: Object.keys(args.secretEnv ?? {}), calls: calls.map((c) => c.name) }).map(
        (p) => `${p.at}.${p.name}: ${p.message}`,
      ),
      ...serviceShapeProblems({ port, opsPort, debugPort, replicas: args.replicas, autoscaling: args.autoscaling }),
      ...(args.secretKeyEnv ?? [])
        .filter((e) => e.name in (args.env ?? {}) || e.name in (args.secretEnv ?? {}) || platformEnvNames.includes(e.name))
        .map((e) => `secretKeyEnv.${e.name}: is set by env, secretEnv or the platform too; set it once`),
    ];
    if (problems.length > 0) {
      throw new pulumi.ResourceError(`GoService ${name}: ${problems.join("; ")}`, this);
    }
    const partOf = args.partOf ?? d.partOf;
    const labels = standardLabels(serviceName, "service", partOf);
    const selector = selectorLabels(serviceName, partOf);
    const minReplicas = args.autoscaling ? args.autoscaling.min : (args.replicas ?? d.replicas);
    // Left to the autoscaler when there is one, so `pulumi up` never fights it.
    const fixedReplicas = args.autoscaling ? undefined : minReplicas;
    const metadata = (suffix?: string) => ({
      name: suffix ? `${serviceName}-${suffix}` : serviceName,
      namespace: args.namespace,
      labels,
    });
    const child = { parent: this };

    const account = new corev1.ServiceAccount(`${name}`, { metadata: metadata(), automountServiceAccountToken: false }, child);

    // Auto-named and immutable: a change of any value makes a new ConfigMap, which rolls the pods.
    const env = new corev1.ConfigMap(
      `${name}-env`,
      {
        metadata: { namespace: args.namespace, labels },
        immutable: true,
        data: serviceEnv({
          serviceName,
          port,
          opsPort,
          debugPort,
          drainSeconds,
          shutdownTimeoutSeconds,
          calls,
          environment: args.environment ?? d.environment,
          env: args.env ?? {},
        }),
      },
      child,
    );
    // The same for secrets, in a Secret: its values stay secret in the state and out of the ConfigMap.
    const secretEnv =
      Object.keys(args.secretEnv ?? {}).length > 0
        ? new corev1.Secret(
            `${name}-secret-env`,
            { metadata: { namespace: args.namespace, labels }, immutable: true, type: "Opaque", stringData: args.secretEnv },
            child,
          )
        : undefined;

    const deployment = new appsv1.Deployment(
      name,
      {
        // Awaited on its rollout's counts rather than by the provider's own logic (awaits.ts).
        metadata: { ...metadata(), annotations: rolloutAwait(fixedReplicas) },
        spec: {
          replicas: fixedReplicas,
          revisionHistoryLimit: 5,
          selector: { matchLabels: selector },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: account.metadata.name,
              automountServiceAccountToken: false,
              securityContext: restrictedPodSecurityContext(),
              terminationGracePeriodSeconds: terminationGracePeriod(drainSeconds, shutdownTimeoutSeconds),
              topologySpreadConstraints: spreadConstraints(selector),
              ...podScheduling(args.scheduling),
              containers: [
                {
                  name: serviceName,
                  image: args.image,
                  imagePullPolicy: "Always",
                  ports: [
                    { name: protocol, containerPort: port, protocol: "TCP" },
                    { name: opsPortName, containerPort: opsPort, protocol: "TCP" },
                  ],
                  envFrom: [{ configMapRef: { name: env.metadata.name } }, ...(secretEnv ? [{ secretRef: { name: secretEnv.metadata.name } }] : [])],
                  ...(args.secretKeyEnv?.length
                    ? { env: args.secretKeyEnv.map((e) => ({ name: e.name, valueFrom: { secretKeyRef: { name: e.secret, key: e.key } } })) }
                    : {}),
                  resources: resourceRequirements(args.resources ?? d.resources),
                  securityContext: restrictedContainerSecurityContext(),
                  ...httpProbes(opsPort),
                  volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                },
              ],
              volumes: [{ name: "tmp", emptyDir: { sizeLimit: "16Mi" } }],
            },
          },
        },
      },
      child,
    );

    // A gRPC service is headless: its DNS name answers with every ready pod's address, and callers
    // balance calls over them (round_robin, one HTTP/2 connection per pod). Behind a virtual IP a
    // caller's one long-lived connection would pin all its calls to one pod.
    const service = new corev1.Service(
      name,
      {
        // Readiness is the Deployment's await to prove; the Service's proves nothing more (components/awaits.ts).
        metadata: { ...metadata(), annotations: { ...serviceAwaitSkipped } },
        spec: {
          type: "ClusterIP",
          ...(protocol === "grpc" ? { clusterIP: "None" } : {}),
          selector,
          ports: [
            { name: protocol, port, targetPort: protocol, protocol: "TCP", appProtocol: protocol === "grpc" ? "kubernetes.io/h2c" : "http" },
            { name: opsPortName, port: opsPort, targetPort: opsPortName, protocol: "TCP", appProtocol: "http" },
          ],
        },
      },
      child,
    );

    new networkingv1.NetworkPolicy(
      name,
      {
        metadata: metadata(),
        spec: serviceNetworkPolicy({
          podSelector: selector,
          partOf,
          port,
          callers: args.callers ?? [],
          opsPort,
          opsIngressFrom: args.opsIngressFrom,
          callees: calls,
          egress: args.egress,
        }),
      },
      child,
    );

    if (args.autoscaling) {
      new autoscalingv2.HorizontalPodAutoscaler(
        name,
        {
          metadata: metadata(),
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
            minReplicas: args.autoscaling.min,
            maxReplicas: args.autoscaling.max,
            metrics: [
              { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: args.autoscaling.targetCpuUtilization } } },
            ],
            // Scale down slowly: a burst that ends should not shed capacity the next burst needs.
            behavior: { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Percent", value: 50, periodSeconds: 60 }] } },
          },
        },
        child,
      );
    }

    if (minReplicas > 1) {
      new policyv1.PodDisruptionBudget(name, { metadata: metadata(), spec: { maxUnavailable: 1, selector: { matchLabels: selector } } }, child);
    }

    this.deployment = deployment;
    this.service = service;
    this.serviceName = service.metadata.name;
    this.port = pulumi.output(port);
    this.image = pulumi.output(args.image);
    this.registerOutputs({ serviceName: this.serviceName, port: this.port, image: this.image });
  }
}

/** A problem of a service's own environment: where (`env`, `secretEnv`, or `calls` for a callee), which name, and why. */
export interface EnvProblem {
  readonly at: "env" | "secretEnv" | "calls";
  readonly name: string;
  readonly message: string;
  /** Set for a credential in plain env: the value belongs in secretEnv. */
  readonly credential?: true;
}

/**
 * Collisions and leaks in a service's own environment, whichever side they come from: a name the
 * platform sets, a callee's address variable, a name in both env and secretEnv, and a credential
 * (by name or by shape) in plain env, where it would sit in a ConfigMap and in the state.
 */
export function envProblems(opts: { env: Readonly<Record<string, string>>; secretEnv: readonly string[]; calls: readonly string[] }): EnvProblem[] {
  const callees = new Map(opts.calls.map((callee) => [addressVariable(callee), callee]));
  const collision = (name: string): string | undefined =>
    platformEnvNames.includes(name)
      ? `is set by the platform; reserved: ${platformEnvNames.join(", ")}`
      : callees.has(name)
        ? `is set from calls (the address of ${callees.get(name)}); remove it here`
        : undefined;
  const problems: EnvProblem[] = [];
  for (const [name, value] of Object.entries(opts.env)) {
    const message = collision(name) ?? (opts.secretEnv.includes(name) ? "is in secretEnv too; set it once" : undefined);
    if (message !== undefined) {
      problems.push({ at: "env", name, message });
    } else if (isCredentialName(name) || isCredentialValue(value)) {
      problems.push({
        at: "env",
        name,
        message: "looks like a credential: plain env lands in a ConfigMap and in the state; move it to secretEnv",
        credential: true,
      });
    }
  }
  for (const name of opts.secretEnv) {
    const message = collision(name);
    if (message !== undefined) {
      problems.push({ at: "secretEnv", name, message });
    }
  }
  for (const callee of opts.calls) {
    if (platformEnvNames.includes(addressVariable(callee))) {
      problems.push({
        at: "calls",
        name: callee,
        message: `its address would be ${addressVariable(callee)}, a platform variable: rename the service ${callee}`,
      });
    }
  }
  return problems;
}

/** The service's three ports that repeat an earlier one, each with the one it repeats. */
export function portCollisions(ports: {
  port: number;
  opsPort: number;
  debugPort: number;
}): { key: "opsPort" | "debugPort"; sameAs: "port" | "opsPort"; value: number }[] {
  const order = ["port", "opsPort", "debugPort"] as const;
  return order.flatMap((key, i) => {
    const sameAs = order.slice(0, i).find((earlier) => ports[earlier] === ports[key]);
    return sameAs === undefined || key === "port" ? [] : [{ key, sameAs: sameAs as "port" | "opsPort", value: ports[key] }];
  });
}

/** Ports that collide and replica counts no Deployment can have. */
export function serviceShapeProblems(opts: {
  port: number;
  opsPort: number;
  debugPort: number;
  replicas?: number;
  autoscaling?: { readonly min: number; readonly max: number };
}): string[] {
  const problems: string[] = [];
  if (portCollisions(opts).length > 0) {
    problems.push(`port ${opts.port}, opsPort ${opts.opsPort} and debugPort ${opts.debugPort} must differ`);
  }
  if (opts.replicas !== undefined && (!Number.isInteger(opts.replicas) || opts.replicas < 1)) {
    problems.push(`replicas must be a whole number of at least 1, not ${opts.replicas}`);
  }
  if (opts.autoscaling !== undefined && (opts.autoscaling.min < 1 || opts.autoscaling.min > opts.autoscaling.max)) {
    problems.push(`autoscaling needs 1 <= min <= max, not min ${opts.autoscaling.min} and max ${opts.autoscaling.max}`);
  }
  return problems;
}

/** The environment every Go service reads at start, as the services' `internal/platform` expects it. */
export function serviceEnv(opts: {
  serviceName: string;
  port: number;
  opsPort: number;
  debugPort: number;
  drainSeconds: number;
  shutdownTimeoutSeconds: number;
  calls: readonly Callee[];
  environment: string;
  env: Readonly<Record<string, string>>;
}): Record<string, string> {
  const addresses = Object.fromEntries(opts.calls.map((c) => [addressVariable(c.name), `${c.name}:${c.port}`]));
  const names = platform.variables;
  return {
    ...opts.env,
    ...addresses,
    [names.serviceName]: opts.serviceName,
    [names.environment]: opts.environment,
    [names.listenAddr]: `:${opts.port}`,
    [names.opsAddr]: `:${opts.opsPort}`,
    [names.debugAddr]: `127.0.0.1:${opts.debugPort}`,
    [names.drainPeriod]: `${opts.drainSeconds}s`,
    [names.shutdownTimeout]: `${opts.shutdownTimeoutSeconds}s`,
  };
}
