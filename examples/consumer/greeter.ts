/**
 * The consumer's whole deployment, as a function of its settings so that its test runs it under
 * Pulumi's mocks: a namespace, one Go service and, when an image is given for it, a frontend that
 * is the service's only caller, from @flotilla/stack alone.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { AppNamespace, GoService } from "@flotilla/stack";

export interface GreeterSettings {
  /** The image to run, by digest. */
  readonly image: string;
  /** Namespace the service runs in. */
  readonly namespace: string;
  /** Replicas; more than one gets a disruption budget from GoService. */
  readonly replicas: number;
  /** A plain setting for the service. */
  readonly greeting: string;
  /** A credential, as a Pulumi secret. */
  readonly apiToken?: pulumi.Output<string>;
  /**
   * An image of an HTTP frontend that calls the greeter: then the greeter admits that caller
   * alone, both part of "greetings". The e2e runs Flotilla's gateway here, whose upstream is
   * `USERS_ADDR`.
   */
  readonly frontendImage?: string;
}

export function deployGreeter(settings: GreeterSettings, provider?: k8s.Provider) {
  const opts = provider ? { provider } : {};
  const namespace = new AppNamespace(settings.namespace, { namespaceName: settings.namespace }, opts);
  const greeter = new GoService(
    "greeter",
    {
      namespace: namespace.name,
      image: settings.image,
      protocol: "grpc",
      port: 9090,
      replicas: settings.replicas,
      partOf: "greetings",
      env: { GREETING: settings.greeting },
      secretEnv: settings.apiToken ? { GREETER_API_TOKEN: settings.apiToken } : {},
      callers: settings.frontendImage ? ["frontend"] : "anyone",
    },
    opts,
  );
  const frontend = settings.frontendImage
    ? new GoService(
        "frontend",
        {
          namespace: namespace.name,
          image: settings.frontendImage,
          partOf: "greetings",
          calls: [{ name: "greeter", port: 9090 }],
          env: { USERS_ADDR: "greeter:9090" },
          callers: "anyone",
        },
        opts,
      )
    : undefined;
  return {
    namespace: namespace.name,
    service: greeter.serviceName,
    deployment: greeter.deployment.metadata.name,
    port: greeter.port,
    ...(frontend ? { frontend: frontend.serviceName } : {}),
  };
}
