import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { type Callee, serviceNetworkPolicy } from "./networkPolicy";

/** The variable a caller gets with a callee's address: `users-api` → `USERS_API_ADDR`. */
export const addressVariable = (callee: string) => `${callee.toUpperCase().replace(/-/g, "_")}_ADDR`;
import {
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
   * @default {}
   */
  readonly env?: Record<string, string>;
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
   * Namespace whose pods (Prometheus) may scrape the operations port.
   * @default none: the operations port is closed to other pods
   */
  readonly scrapedFrom?: string;
  /**
   * Seconds a terminating pod keeps serving (a preStop sleep) while it leaves the Service's
   * endpoints, so no new request reaches a stopping process.
   * @default 5
   */
  readonly drainSeconds?: number;
  /**
   * Seconds in-flight requests get after SIGTERM; handed to the service as `SHUTDOWN_TIMEOUT`.
   * @default 20
   */
  readonly shutdownTimeoutSeconds?: number;
  /**
   * Stack environment, handed to the service as `ENVIRONMENT` for its logs.
   * @default "dev"
   */
  readonly environment?: string;
}

/** Defaults of GoService, written once; the config contract reads them too. */
export const goServiceDefaults = {
  resources: {
    requests: { cpu: "50m", memory: "32Mi", ephemeralStorage: "16Mi" },
    limits: { cpu: "500m", memory: "128Mi", ephemeralStorage: "64Mi" },
  },
} as const satisfies { resources: Resources };

/**
 * One Go service on Kubernetes: a Deployment under the "restricted" Pod Security Standard, its
 * Service, ServiceAccount, environment ConfigMap, network policy, and where it runs more than one
 * replica an autoscaler and a disruption budget.
 */
export class GoService extends pulumi.ComponentResource {
  /** Name of the Service, and so the DNS name inside the namespace. */
  readonly serviceName: pulumi.Output<string>;
  /** The public port. */
  readonly port: pulumi.Output<number>;
  /** The Deployment's name. */
  readonly deploymentName: pulumi.Output<string>;
  /** The image the pods run. */
  readonly image: pulumi.Output<string>;

  constructor(name: string, args: GoServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:apps:GoService", name, {}, opts);
    const serviceName = args.serviceName ?? name;
    const protocol = args.protocol ?? "http";
    const port = args.port ?? 8080;
    const opsPort = args.opsPort ?? 8081;
    const debugPort = args.debugPort ?? 6060;
    const drainSeconds = args.drainSeconds ?? 5;
    const shutdownTimeoutSeconds = args.shutdownTimeoutSeconds ?? 20;
    const calls = args.calls ?? [];
    const labels = standardLabels(serviceName, "service");
    const selector = selectorLabels(serviceName);
    const minReplicas = args.autoscaling ? args.autoscaling.min : (args.replicas ?? 1);
    const metadata = (suffix?: string) => ({
      name: suffix ? `${serviceName}-${suffix}` : serviceName,
      namespace: args.namespace,
      labels,
    });
    const child = { parent: this };

    const account = new k8s.core.v1.ServiceAccount(`${name}`, { metadata: metadata(), automountServiceAccountToken: false }, child);

    // Auto-named and immutable: a change of any value makes a new ConfigMap, which rolls the pods.
    const env = new k8s.core.v1.ConfigMap(
      `${name}-env`,
      {
        metadata: { namespace: args.namespace, labels },
        immutable: true,
        data: serviceEnv({ serviceName, port, opsPort, debugPort, shutdownTimeoutSeconds, calls, environment: args.environment ?? "dev", env: args.env ?? {} }),
      },
      child,
    );

    const deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: metadata(),
        spec: {
          // Left to the autoscaler when there is one, so `pulumi up` never fights it.
          replicas: args.autoscaling ? undefined : minReplicas,
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
              containers: [
                {
                  name: serviceName,
                  image: args.image,
                  imagePullPolicy: "Always",
                  ports: [
                    { name: protocol, containerPort: port, protocol: "TCP" },
                    { name: "ops", containerPort: opsPort, protocol: "TCP" },
                  ],
                  envFrom: [{ configMapRef: { name: env.metadata.name } }],
                  resources: resourceRequirements(args.resources ?? goServiceDefaults.resources),
                  securityContext: restrictedContainerSecurityContext(),
                  ...httpProbes(opsPort),
                  lifecycle: drainSeconds > 0 ? { preStop: { sleep: { seconds: drainSeconds } } } : undefined,
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

    const service = new k8s.core.v1.Service(
      name,
      {
        metadata: metadata(),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [
            { name: protocol, port, targetPort: protocol, protocol: "TCP", appProtocol: protocol === "grpc" ? "kubernetes.io/h2c" : "http" },
            { name: "ops", port: opsPort, targetPort: "ops", protocol: "TCP", appProtocol: "http" },
          ],
        },
      },
      child,
    );

    new k8s.networking.v1.NetworkPolicy(
      name,
      {
        metadata: metadata(),
        spec: serviceNetworkPolicy({ podSelector: selector, port, callers: args.callers ?? [], opsPort, scrapedFrom: args.scrapedFrom, callees: calls }),
      },
      child,
    );

    if (args.autoscaling) {
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(
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
      new k8s.policy.v1.PodDisruptionBudget(name, { metadata: metadata(), spec: { maxUnavailable: 1, selector: { matchLabels: selector } } }, child);
    }

    this.serviceName = service.metadata.name;
    this.port = pulumi.output(port);
    this.deploymentName = deployment.metadata.name;
    this.image = pulumi.output(args.image);
    this.registerOutputs({ serviceName: this.serviceName, port: this.port, deploymentName: this.deploymentName, image: this.image });
  }
}

/** The environment every Go service reads at start, as the services' `internal/platform` expects it. */
export function serviceEnv(opts: {
  serviceName: string;
  port: number;
  opsPort: number;
  debugPort: number;
  shutdownTimeoutSeconds: number;
  calls: readonly Callee[];
  environment: string;
  env: Readonly<Record<string, string>>;
}): Record<string, string> {
  const addresses = Object.fromEntries(opts.calls.map((c) => [addressVariable(c.name), `${c.name}:${c.port}`]));
  return {
    ...opts.env,
    ...addresses,
    SERVICE_NAME: opts.serviceName,
    ENVIRONMENT: opts.environment,
    LISTEN_ADDR: `:${opts.port}`,
    OPS_ADDR: `:${opts.opsPort}`,
    DEBUG_ADDR: `127.0.0.1:${opts.debugPort}`,
    SHUTDOWN_TIMEOUT: `${opts.shutdownTimeoutSeconds}s`,
  };
}
