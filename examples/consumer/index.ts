import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { deployGreeter } from "./greeter";

const config = new pulumi.Config();
// The cluster the ambient kubeconfig ($KUBECONFIG) points at, unless `kubeconfig` is set.
const provider = new k8s.Provider("cluster", { kubeconfig: config.get("kubeconfig"), enableServerSideApply: true });

export const { namespace, service, deployment, port, frontend } = deployGreeter(
  {
    image: config.require("image"),
    namespace: config.get("namespace") ?? "greetings",
    replicas: config.getNumber("replicas") ?? 2,
    greeting: config.get("greeting") ?? "hello",
    apiToken: config.getSecret("apiToken"),
    frontendImage: config.get("frontendImage"),
  },
  provider,
);
